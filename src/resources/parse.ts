/**
 * What the two ways from YAML text to raw documents share (yaml/exact.ts and yaml/fast.ts): the
 * limits, the raw document and what locates paths in it, the budget of one load, and the
 * measure of one object. Manifests can come from anyone who can write a file or a ConfigMap, so
 * every resource the parser could spend is bounded before it is spent: bytes per input, nesting
 * depth (parsers recurse, and a deep enough input would exhaust the stack), documents, alias
 * expansion and the size of each object. Nothing here throws on content: every problem becomes
 * an issue with its location.
 */
import type { Document } from 'yaml';
import { GatewayError } from '../errors.js';
import type { Issue } from '../types.js';

/** Bounds on what loadManifests accepts. Each has a documented default; see docs/routing.md, "Security". */
export interface ManifestLimits {
  /** Largest YAML text per input, in bytes (UTF-8). A larger input is not parsed. Default 64 MiB (67,108,864). */
  maxInputBytes?: number;
  /**
   * Largest object, in bytes of its JSON form. The API server refuses objects over about 1.5 MiB
   * (etcd's request limit), so a larger one could never be applied. Default 1,572,864 (1.5 MiB).
   */
  maxObjectBytes?: number;
  /** Deepest nesting of mappings and sequences in one document or object. Default 64. */
  maxDepth?: number;
  /** Most documents (and `kind: List` items) over all inputs; the rest are not loaded. Default 200,000. */
  maxDocuments?: number;
  /** Most routes (HTTPRoute, GRPCRoute, TLSRoute) over all inputs; the rest are not loaded. Default 100,000. */
  maxRoutes?: number;
  /**
   * Budget for YAML alias expansion per document (the `yaml` parser's `maxAliasCount`: aliases
   * resolved times the nodes they copy). Stops "billion laughs" expansion. Default 100.
   */
  maxAliases?: number;
}

/** The defaults of {@link ManifestLimits}. */
export const DEFAULT_LIMITS: Readonly<Required<ManifestLimits>> = Object.freeze({
  maxInputBytes: 64 * 1024 * 1024,
  maxObjectBytes: 1.5 * 1024 * 1024,
  maxDepth: 64,
  maxDocuments: 200_000,
  maxRoutes: 100_000,
  maxAliases: 100,
});

/** The limits to apply: the defaults, overridden by `given`. Throws GW_ERR_OPTIONS_INVALID for a bad value. */
export function resolveLimits(given: ManifestLimits | undefined): Required<ManifestLimits> {
  if (given === undefined) return DEFAULT_LIMITS;
  if (typeof given !== 'object' || given === null) throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option limits must be an object such as { maxDepth: 64 }, got ${String(given)}.`);
  const out: Required<ManifestLimits> = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(given)) {
    if (!Object.hasOwn(DEFAULT_LIMITS, k)) {
      throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option limits has no key '${k}'; use one of: ${Object.keys(DEFAULT_LIMITS).join(', ')}.`);
    }
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (k === 'maxAliases' ? -1 : 1)) {
      throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option limits.${k} must be a positive integer, got ${JSON.stringify(v)}.`);
    }
    out[k as keyof ManifestLimits] = v;
  }
  return out;
}

/** A YAML document with node ranges, and the line and column of an offset in it. */
export interface YamlTree {
  doc: Document;
  pos(offset: number): { line: number; column: number };
}

/** What locates paths inside a raw document that came from YAML text. */
export interface YamlSource {
  /**
   * The node tree of document number `document` (the raw document's own number). Documents
   * parsed by `yaml` have it at hand, one source each; the documents the fast path (yaml/fast.ts)
   * takes from one input share one source, which parses a document's tree on first use, so only
   * documents with issues pay for it.
   */
  tree: (document: number) => YamlTree | undefined;
  /** The path of this object inside the document (for `kind: List` items). */
  prefix: readonly (string | number)[];
}

/** The prefix of a top-level document: the empty path, one for all. */
export const NO_PREFIX: readonly (string | number)[] = Object.freeze([]);

/** A raw document: its value, where it came from, and what is needed to locate paths inside it. */
export interface RawDoc {
  value: unknown;
  /** File and input index shared by every issue about this document. */
  base: Partial<Issue>;
  /** 1-based document (or array element) number within its input. */
  document: number;
  yaml?: YamlSource;
}

/** Where a slice of a YAML text starts: documents and lines before it. */
export interface TextOffset {
  document: number;
  line: number;
}

/** State shared by every input of one load: the limits and the documents counted so far. */
export interface ParseBudget {
  limits: Required<ManifestLimits>;
  documents: number;
  /** Set once `maxDocuments` is reached: later documents and inputs are not loaded. */
  exhausted: boolean;
}

/** The issue for the first document over `maxDocuments`; marks the budget exhausted. */
export function tooManyDocuments(budget: ParseBudget, at: Partial<Issue>): Issue {
  budget.exhausted = true;
  return { ...at, code: 'GW_MANIFEST_TOO_MANY', severity: 'error', message: `More than ${budget.limits.maxDocuments} documents (limits.maxDocuments); this one and the rest are not loaded.` };
}

/** Whether `text` is within `limits.maxInputBytes`; if not, says so in an issue. */
export function isWithinInputLimit(text: string, base: Partial<Issue>, limits: Required<ManifestLimits>, issues: Issue[]): boolean {
  const bytes = text.length * 3 <= limits.maxInputBytes ? text.length : Buffer.byteLength(text, 'utf8'); // UTF-8 is at most 3 bytes per UTF-16 unit
  if (bytes <= limits.maxInputBytes) return true;
  issues.push({ ...base, code: 'GW_MANIFEST_TOO_LARGE', severity: 'error', message: `The input is ${bytes} bytes, over limits.maxInputBytes (${limits.maxInputBytes}); it is not parsed. Split it into several files or raise the limit.` });
  return false;
}

export interface Measured {
  /** Some mapping inside has a field set to null. */
  hasNullField: boolean;
  /** Set when a limit is exceeded; the walk stopped there. */
  exceeded?: 'depth' | 'bytes';
  /** The size of the object's JSON form, in bytes (an estimate: strings are counted in UTF-16 units). */
  bytes: number;
}

/**
 * Walks an object once, without recursion: its JSON size, its depth and whether any field is
 * null. Stops at the first limit exceeded, so the walk is bounded by `maxObjectBytes` even for
 * an object that refers to itself (a cycle exceeds the depth).
 */
export function measureValue(root: unknown, limits: Required<ManifestLimits>): Measured {
  // Hot at load time: every object passes here once, so plain loops and parallel stacks, shared
  // by every call (the walk never calls out, so it never runs inside itself) instead of two new
  // arrays per document; `clearStacks` drops what they refer to before returning.
  const values = valueStack;
  const depths = depthStack;
  values[0] = root;
  depths[0] = 1;
  let top = 1;
  let high = 1;
  let bytes = 0;
  let hasNullField = false;
  let exceeded: Measured['exceeded'];
  while (top > 0) {
    const v = values[--top];
    const depth = depths[top]!;
    if (typeof v === 'string') bytes += v.length + 2;
    else if (typeof v === 'object' && v !== null) {
      if (depth > limits.maxDepth) {
        exceeded = 'depth';
        break;
      }
      bytes += 2;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          values[top] = v[i];
          depths[top++] = depth + 1;
        }
        bytes += v.length;
      } else if (!(v instanceof Date)) {
        for (const k in v) {
          const x = (v as Record<string, unknown>)[k];
          if (x === null) hasNullField = true;
          bytes += k.length + 4;
          values[top] = x;
          depths[top++] = depth + 1;
        }
      } else bytes += 24;
      if (top > high) high = top;
    } else if (typeof v === 'number') bytes += numberLength(v);
    else bytes += v === undefined ? 0 : typeof v === 'boolean' ? (v ? 4 : 5) : String(v).length;
    if (bytes > limits.maxObjectBytes) {
      exceeded = 'bytes';
      break;
    }
  }
  clearStacks(high);
  return exceeded === undefined ? { hasNullField, bytes } : { hasNullField, exceeded, bytes };
}

/** measureValue's stacks (see there). */
let valueStack: unknown[] = [];
let depthStack: number[] = [];

/** Drops the references the stacks hold, up to `high`; stacks grown large by a huge object are let go. */
function clearStacks(high: number): void {
  if (high > 4096) {
    valueStack = [];
    depthStack = [];
  } else valueStack.fill(undefined, 0, high);
}

/** `String(v).length` of a number, without making the string for integers (ports, weights, codes). */
function numberLength(v: number): number {
  if (!Number.isSafeInteger(v)) return String(v).length;
  let n = v < 0 ? 2 : 1;
  for (let a = Math.abs(v); a >= 10; a = Math.floor(a / 10)) n++;
  return n;
}

export function firstLine(s: string): string {
  return s.split('\n')[0]!.trim();
}
