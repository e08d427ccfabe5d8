/**
 * Validation for the common case, where the object is valid. Each zod schema is turned once,
 * from its definition, into a tree of small closures that accepts what the schema accepts and
 * returns what zod's parse returns (defaults applied, transforms run, keys in the schema's
 * order), or gives up with {@link INVALID}. Loading then parses that object again with the
 * schema itself, so every issue, path and message stays zod's. Checks (lengths, patterns,
 * refinements) are zod's own check objects, run as zod runs them; only the type-level walk
 * is done here, without zod's payload objects and per-field results, which made validation
 * and its garbage the largest cost of a load.
 *
 * Giving up is always safe, so anything not mirrored exactly is refused: schema kinds other
 * than those below (dates, `exactOptional`, loose or catch-all objects, enum-keyed records,
 * coercion, async), objects whose prototype is not Object's, records with symbol keys, and a
 * union whose earlier option could not be decided exactly. test/resources/accept.test.ts
 * compares it with zod on valid and invalid documents.
 */

import { z as zod } from 'zod';
import { INVALID, type Accept, type Built, type Payload, type ZodNode } from './zod-parts.js';
import { withChecks } from './checks.js';

export { INVALID, type Accept } from './zod-parts.js';

const built = new WeakMap<object, Built>();

/** The acceptor of a zod schema, built on first use. */
export function acceptorOf(schema: unknown): Accept {
  return MIRRORED ? build(schema as ZodNode).accept : refuse.accept;
}

/**
 * The zod release line the acceptors mirror: its internals (`_zod.def`, traits, check objects)
 * are what test/resources/accept.test.ts compares against. Under any other major.minor (the
 * package's range allows later 4.x minors), every object is refused here and zod parses it
 * itself: slower, never different.
 */
export const MIRRORED_ZOD = { major: 4, minor: 6 } as const;

/** Whether the acceptors may run with this zod version (the same major and minor as {@link MIRRORED_ZOD}). */
export function mirrorsZod(version: { major: number; minor: number } | undefined): boolean {
  return version !== undefined && version.major === MIRRORED_ZOD.major && version.minor === MIRRORED_ZOD.minor;
}

const MIRRORED = mirrorsZod((zod as { core?: { version?: { major: number; minor: number } } }).core?.version);

function build(schema: ZodNode): Built {
  let b = built.get(schema);
  if (b === undefined) {
    b = withChecks(schema, buildType(schema));
    built.set(schema, b);
  }
  return b;
}

const refuse: Built = { accept: () => INVALID, exact: false };


function buildType(schema: ZodNode): Built {
  const z = schema._zod;
  const def = z.def;
  if (def.coerce) return refuse;
  switch (def.type) {
    case 'string':
      return { exact: true, accept: (v) => (typeof v === 'string' ? v : INVALID) };
    case 'number':
      return { exact: true, accept: (v) => (typeof v === 'number' && Number.isFinite(v) ? v : INVALID) };
    case 'boolean':
      return { exact: true, accept: (v) => (typeof v === 'boolean' ? v : INVALID) };
    case 'literal':
    case 'enum': {
      const values = z.values!;
      return { exact: true, accept: (v) => (values.has(v) ? v : INVALID) };
    }
    case 'unknown':
      return { exact: true, accept: (v) => v };
    case 'never':
      return { exact: true, accept: () => INVALID };
    case 'optional':
      return z.traits.has('$ZodExactOptional') ? refuse : optional(def.innerType as ZodNode);
    case 'default': {
      const inner = build(def.innerType as ZodNode).accept;
      // `def.defaultValue` is a getter that returns a fresh copy each time, as zod reads it. The
      // copy of a primitive is itself, so a primitive default is read once, here, not once per
      // absent field (about 100,000 reads at 10,000 routes). The library's schemas default to
      // literals; a default function returning a different primitive per call would be read once.
      const fixed: unknown = def.defaultValue;
      const primitive = fixed === null || (typeof fixed !== 'object' && typeof fixed !== 'function');
      return {
        exact: false,
        accept: (v) => {
          if (v === undefined) return primitive ? fixed : def.defaultValue;
          const r = inner(v);
          return r !== undefined ? r : primitive ? fixed : def.defaultValue;
        },
      };
    }
    case 'prefault': {
      const inner = build(def.innerType as ZodNode).accept;
      return { exact: false, accept: (v) => inner(v === undefined ? def.defaultValue : v) };
    }
    case 'pipe': {
      const first = build(def.in as ZodNode).accept;
      const second = build(def.out as ZodNode).accept;
      return {
        exact: false,
        accept: (v) => {
          const l = first(v);
          return l === INVALID ? INVALID : second(l);
        },
      };
    }
    case 'transform': {
      const transform = def.transform as (v: unknown, p: Payload) => unknown;
      return {
        exact: false,
        accept: (v) => {
          const payload: Payload = { value: v, issues: [] };
          const out = transform(v, payload);
          return payload.issues.length > 0 || out instanceof Promise ? INVALID : out;
        },
      };
    }
    case 'array':
      return array(def.element as ZodNode);
    case 'record':
      return def.partial || def.mode === 'loose' || (def.keyType as ZodNode)._zod.values ? refuse : record(def.keyType as ZodNode, def.valueType as ZodNode);
    case 'union':
      return union(def.options as ZodNode[]);
    case 'object':
      return object(def.shape as Record<string, ZodNode>, def.catchall as ZodNode | undefined);
    default:
      return refuse; // dates, tuples, maps, lazy, catch, …: zod decides
  }
}

function optional(innerType: ZodNode): Built {
  const inner = build(innerType);
  if (innerType._zod.optin !== 'defaulted') return { exact: inner.exact, accept: (v) => (v === undefined ? undefined : inner.accept(v)) };
  // An optional around a default: absence runs the default, whose failure reads as undefined.
  return {
    exact: false,
    accept: (v) => {
      if (v !== undefined) return inner.accept(v);
      const r = inner.accept(undefined);
      return r === INVALID ? undefined : r;
    },
  };
}

function array(element: ZodNode): Built {
  const item = build(element).accept;
  return {
    exact: false,
    accept: (v) => {
      if (!Array.isArray(v)) return INVALID;
      const out = new Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const r = item(v[i]);
        if (r === INVALID) return INVALID;
        out[i] = r;
      }
      return out;
    },
  };
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function record(keyType: ZodNode, valueType: ZodNode): Built {
  const key = build(keyType).accept;
  const value = build(valueType).accept;
  return {
    exact: false,
    accept: (v) => {
      if (!isPlainRecord(v) || Object.getOwnPropertySymbols(v).length > 0) return INVALID;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        const outKey = key(k);
        if (outKey === INVALID || k === '__proto__' || outKey === '__proto__' || typeof outKey !== 'string') return INVALID;
        const r = value(v[k]);
        if (r === INVALID) return INVALID;
        out[outKey] = r;
      }
      return out;
    },
  };
}

function union(options: ZodNode[]): Built {
  const built = options.map(build);
  if (built.length === 1) return { exact: false, accept: built[0]!.accept };
  return {
    exact: false,
    accept: (v) => {
      for (const option of built) {
        const r = option.accept(v);
        if (r !== INVALID) return r;
        if (!option.exact) return INVALID; // zod might take this option: leave it to zod
      }
      return INVALID;
    },
  };
}

/** Marks a shape key the input does not have, in an object acceptor's scratch array. */
const ABSENT: unique symbol = Symbol('absent');

function object(shape: Record<string, ZodNode>, catchall: ZodNode | undefined): Built {
  if (Object.getOwnPropertySymbols(shape).length > 0) return refuse;
  const strict = catchall !== undefined && catchall._zod.def.type === 'never';
  if (catchall !== undefined && !strict) return refuse;
  const all = Object.keys(shape);
  const keys = all.filter((k) => k !== '__proto__'); // zod never copies a declared __proto__
  const index = new Map(keys.map((k, i) => [k, i]));
  const fields = keys.map((k) => build(shape[k]!).accept);
  const optin = keys.map((k) => shape[k]!._zod.optin);
  const optout = keys.map((k) => shape[k]!._zod.optout);
  // The input's values by shape position. Shared by every call: an object schema never runs
  // inside itself (recursive schemas are refused), and each value is read before the next call.
  const values: unknown[] = new Array(keys.length);
  const Out = plainObjectMaker();
  // zod's object parse and handlePropertyResult, for results without issues. Hot: one pass over
  // the input's keys (most shape keys are absent), then one over the shape, for zod's key order.
  return {
    exact: false,
    accept: (v) => {
      if (!isPlainRecord(v)) return INVALID;
      values.fill(ABSENT);
      for (const k in v) {
        const i = index.get(k);
        if (i !== undefined) values[i] = v[k];
        else if (strict && (k !== '__proto__' || !all.includes(k))) return INVALID; // an unknown field
      }
      const out: Record<string, unknown> = new Out();
      for (let i = 0; i < keys.length; i++) {
        const x = values[i];
        const present = x !== ABSENT;
        const oin = optin[i];
        const oout = optout[i];
        if (!present) {
          if (oin === undefined) return INVALID; // required
          if (oout === 'optional' && oin === 'optional') continue;
        }
        const r = fields[i]!(present ? x : undefined);
        if (r === INVALID) {
          if (!present && oout === 'optional') continue; // errors of an absent optional key are ignored
          return INVALID;
        }
        if (r !== undefined) out[keys[i]!] = r;
        else if (present || (oin === 'defaulted' && oout !== 'optional')) out[keys[i]!] = undefined;
      }
      return out;
    },
  };
}

/**
 * A maker of plain objects for one object schema: `new Out()` is an empty object whose prototype
 * is Object.prototype, exactly as `{}` (its `constructor` is Object; JSON, structuredClone and
 * equality see no difference). Unlike `{}`, which reserves four fields and moves a fifth and
 * later ones to a separate array, V8 sizes the objects of one constructor to the fields its
 * first instances used (in-object slack tracking), so each schema's outputs carry no spare
 * fields. The loaded resources live through the whole build: at 50,000 routes this is about
 * 11 MB less of them (measured with heap snapshots: 14.5 -> 12.2 MB at 10,000 routes).
 */
function plainObjectMaker(): new () => Record<string, unknown> {
  const Out = function () {} as unknown as new () => Record<string, unknown>;
  (Out as unknown as { prototype: object }).prototype = Object.prototype;
  return Out;
}
