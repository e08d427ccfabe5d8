/**
 * The checks of a schema (lengths, patterns, bounds, refinements), as the acceptors run them:
 * zod's own check objects, run as zod's runChecks does, with quick tests in front for the
 * common kinds so that a valid value pays for no payload. See accept.ts.
 */
import type { z as zod } from 'zod';
import { INVALID, type Accept, type Built, type Payload, type ZodCheck, type ZodNode } from './zod-parts.js';
import { refinementOf } from './refinement.js';

/** Wraps the type-level acceptor with the schema's checks, run on its output as zod's runChecks does. */
export function withChecks(schema: ZodNode, b: Built): Built {
  const own = schema._zod.def.checks ?? [];
  const checks: ZodCheck[] = schema._zod.traits.has('$ZodCheck') ? [schema as unknown as ZodCheck, ...own] : own;
  if (checks.length === 0) return b;
  const leaf = fusedLeaf(schema, checks);
  if (leaf !== undefined) return { exact: b.exact, accept: leaf };
  const inner = b.accept;
  const only = checks.length === 1 && checks[0]!._zod.def.when === undefined ? refinementOf(checks[0]!) : undefined;
  if (only !== undefined) {
    // One refinement (objects with a CEL rule: path matches, backendRefs, rules, route specs):
    // called here, without a quick pass around it.
    return {
      exact: b.exact,
      accept: (v) => {
        const out = inner(v);
        if (out === INVALID) return INVALID;
        issued = false;
        only(out as never, noting);
        return issued ? runChecks(out, checks) : out;
      },
    };
  }
  const quick = quickPass(checks);
  return {
    exact: b.exact,
    accept: (v) => {
      const out = inner(v);
      if (out === INVALID) return INVALID;
      return quick !== undefined && quick(out) ? out : runChecks(out, checks);
    },
  };
}

type Pass = (v: unknown) => boolean;

/**
 * A string or number schema whose checks are all bounds and patterns (most leaves: names,
 * ports, weights) as one function: the type test, then the quick pass's tests written out,
 * then zod's checks only when one fails (as withChecks does, in one call instead of one per
 * check, which counts in a first load run by the interpreter). Undefined for other schemas.
 */
function fusedLeaf(schema: ZodNode, checks: readonly ZodCheck[]): Accept | undefined {
  const type = schema._zod.def.type;
  if ((type !== 'string' && type !== 'number') || schema._zod.def.coerce) return undefined;
  let min = 0; // strings: in UTF-16 units, twice zod's code point bound
  let max = Infinity;
  let low: { value: number; inclusive: boolean } | undefined; // numbers: at most one bound each way
  let high: { value: number; inclusive: boolean } | undefined;
  let safeint = false;
  const patterns: RegExp[] = [];
  for (const ch of checks) {
    const def = ch._zod.def as { check?: string; format?: string; maximum?: number; minimum?: number; pattern?: RegExp; value?: unknown; inclusive?: boolean };
    const traits = (ch as unknown as ZodNode)._zod.traits;
    if (type === 'string' && def.check === 'max_length' && traits.has('$ZodCheckMaxLength')) max = Math.min(max, def.maximum!);
    else if (type === 'string' && def.check === 'min_length' && traits.has('$ZodCheckMinLength')) min = Math.max(min, 2 * def.minimum!);
    else if (type === 'string' && def.check === 'string_format' && def.format === 'regex' && traits.has('$ZodCheckRegex')) patterns.push(def.pattern!);
    else if (type === 'number' && def.check === 'number_format' && def.format === 'safeint' && traits.has('$ZodCheckNumberFormat')) safeint = true;
    else if (type === 'number' && def.check === 'greater_than' && typeof def.value === 'number' && traits.has('$ZodCheckGreaterThan') && low === undefined) low = { value: def.value, inclusive: def.inclusive === true };
    else if (type === 'number' && def.check === 'less_than' && typeof def.value === 'number' && traits.has('$ZodCheckLessThan') && high === undefined) high = { value: def.value, inclusive: def.inclusive === true };
    else return undefined;
  }
  if (type === 'number') {
    const lo = low?.value ?? -Infinity;
    const loIn = low?.inclusive ?? true;
    const hi = high?.value ?? Infinity;
    const hiIn = high?.inclusive ?? true;
    return (v) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return INVALID;
      if ((safeint && !Number.isSafeInteger(v)) || (loIn ? v < lo : v <= lo) || (hiIn ? v > hi : v >= hi)) return runChecks(v, checks);
      return v;
    };
  }
  const pattern = patterns.length === 1 ? patterns[0]! : undefined;
  if (patterns.length <= 1) {
    return (v) => {
      if (typeof v !== 'string') return INVALID;
      if (v.length < min || v.length > max) return runChecks(v, checks);
      if (pattern !== undefined) {
        pattern.lastIndex = 0;
        if (!pattern.test(v)) return runChecks(v, checks);
      }
      return v;
    };
  }
  return (v) => {
    if (typeof v !== 'string') return INVALID;
    if (v.length < min || v.length > max) return runChecks(v, checks);
    for (let i = 0; i < patterns.length; i++) {
      patterns[i]!.lastIndex = 0;
      if (!patterns[i]!.test(v)) return runChecks(v, checks);
    }
    return v;
  };
}

/**
 * For checks that are all of the common kinds, one test that holds only when each of them
 * passes (or would be skipped): lengths in UTF-16 units against zod's code point counts (a
 * string has at least half as many code points as units), patterns, safe integers, bounds, and
 * the schemas' own refinements (refinement.ts), called directly. When
 * it fails, zod's checks decide. Undefined when some check is of another kind.
 */
function quickPass(checks: readonly ZodCheck[]): Pass | undefined {
  const passes: Pass[] = [];
  for (const ch of checks) {
    const def = ch._zod.def as { check?: string; format?: string; maximum?: number; minimum?: number; pattern?: RegExp; value?: unknown; inclusive?: boolean };
    const traits = (ch as unknown as ZodNode)._zod.traits;
    if (def.check === 'max_length' && traits.has('$ZodCheckMaxLength')) {
      const max = def.maximum!;
      passes.push((v) => (typeof v === 'string' || Array.isArray(v)) && v.length <= max);
    } else if (def.check === 'min_length' && traits.has('$ZodCheckMinLength')) {
      const min = def.minimum!;
      passes.push((v) => (typeof v === 'string' ? v.length >= 2 * min : Array.isArray(v) && v.length >= min));
    } else if (def.check === 'string_format' && def.format === 'regex' && traits.has('$ZodCheckRegex')) {
      const pattern = def.pattern!;
      passes.push((v) => {
        pattern.lastIndex = 0;
        return typeof v === 'string' && pattern.test(v);
      });
    } else if (def.check === 'number_format' && def.format === 'safeint' && traits.has('$ZodCheckNumberFormat')) {
      passes.push((v) => Number.isSafeInteger(v));
    } else if ((def.check === 'greater_than' || def.check === 'less_than') && typeof def.value === 'number' && (traits.has('$ZodCheckGreaterThan') || traits.has('$ZodCheckLessThan'))) {
      const bound = def.value;
      const inclusive = def.inclusive === true;
      passes.push(def.check === 'greater_than' ? (v) => typeof v === 'number' && (inclusive ? v >= bound : v > bound) : (v) => typeof v === 'number' && (inclusive ? v <= bound : v < bound));
    } else if (ch._zod.def.when === undefined && refinementOf(ch) !== undefined) {
      const refine = refinementOf(ch)!;
      passes.push((v) => {
        issued = false;
        refine(v as never, noting);
        return !issued;
      });
    } else {
      return undefined;
    }
  }
  if (passes.length === 1) return passes[0];
  return (v) => {
    for (const pass of passes) if (!pass(v)) return false;
    return true;
  };
}

/** Whether a refinement run by a quick pass added an issue (see {@link noting}). */
let issued = false;

/** The context quick passes give refinements: it notes that an issue was added, and nothing else. */
const noting = { addIssue: () => void (issued = true) } as unknown as zod.RefinementCtx;

/**
 * One payload for every check: checks run one at a time, read and write only the payload they
 * are given, and never run an acceptor, so nothing is allocated per checked value. A failing
 * check leaves its issues behind; the array is replaced, not emptied, in case one kept it.
 */
const payload: Payload = { value: undefined, issues: [] };

function runChecks(value: unknown, checks: readonly ZodCheck[]): unknown {
  payload.value = value;
  if (payload.issues.length > 0) payload.issues = [];
  for (const ch of checks) {
    const when = ch._zod.def.when;
    if (when !== undefined && !when(payload)) continue;
    const r = ch._zod.check(payload);
    if (payload.issues.length > 0 || r instanceof Promise) {
      payload.value = undefined;
      return INVALID;
    }
  }
  const out = payload.value;
  payload.value = undefined;
  return out;
}
