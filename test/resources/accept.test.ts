// Issue 13 item 5: valid objects are validated by acceptors built from the zod schemas
// (src/resources/validate/accept.ts); zod parses only what they refuse. An acceptor must never accept
// what zod refuses, and what it accepts must be zod's output exactly: same values, defaults,
// transforms, and key order.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateTable, type Shape } from '../../bench/tables.js';
import { z } from 'zod';
import { acceptorOf, INVALID, mirrorsZod } from '../../src/resources/validate/accept.js';
import { resolveLimits, type ParseBudget } from '../../src/resources/parse.js';
import * as gateway from '../../src/resources/schemas-gateway.js';
import * as route from '../../src/resources/schemas-route.js';
import { parseYamlExact } from '../../src/resources/yaml/exact.js';

type Schema = { safeParse: (v: unknown) => { success: boolean; data?: unknown } };
const SCHEMAS = (Object.entries({ ...gateway, ...route }) as [string, unknown][]).filter((e): e is [string, Schema] => e[0].endsWith('Schema') && typeof (e[1] as Schema)?.safeParse === 'function');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : []));
}

function documentsOf(text: string): unknown[] {
  const budget: ParseBudget = { limits: resolveLimits(undefined), documents: 0, exhausted: false };
  const out: unknown[] = [];
  parseYamlExact(text, {}, budget, [], (d) => out.push(d.value));
  return out;
}

const fixtures = ['examples', 'docs', 'test/resources/bad', 'test/conformance', 'test/cli/fixtures'].flatMap(yamlFiles).flatMap((f) => documentsOf(readFileSync(f, 'utf8')));
const tables = (['services', 'one-vhost', 'deep-prefix', 'canary', 'weighted'] satisfies Shape[]).flatMap((s) => generateTable(60, s).manifests as unknown[]);
const documents = [...fixtures, ...tables];

/** The acceptor agrees with zod on `value`; returns whether zod took it and whether the acceptor did. */
function agree(schema: Schema, value: unknown): { zod: boolean; accepted: boolean } {
  const accepted = acceptorOf(schema)(value);
  const parsed = schema.safeParse(value);
  if (accepted !== INVALID) {
    expect(parsed.success).toBe(true);
    expect(accepted).toStrictEqual(parsed.data);
    expect(JSON.stringify(accepted)).toBe(JSON.stringify(parsed.data)); // the same key order
  }
  return { zod: parsed.success, accepted: accepted !== INVALID };
}

/** The schema for a document's kind (and the TLSRoute v1alpha2 one), else every schema. */
function schemasFor(doc: unknown): [string, Schema][] {
  const kind = typeof doc === 'object' && doc !== null ? (doc as { kind?: unknown }).kind : undefined;
  const own = SCHEMAS.filter(([name]) => name.startsWith(`${String(kind)}Schema`) || name.startsWith(`${String(kind)}V1`));
  return own.length > 0 ? own : SCHEMAS;
}

describe('acceptors agree with zod', () => {
  it('finds the fixtures and the schemas', () => {
    expect(fixtures.length).toBeGreaterThan(200);
    expect(SCHEMAS.map(([n]) => n)).toEqual(expect.arrayContaining(['HTTPRouteSchema', 'GRPCRouteSchema', 'GatewaySchema', 'ServiceSchema', 'TLSRouteV1Alpha2Schema']));
  });

  it('on every fixture document against every schema: never more than zod, and nearly every valid one', () => {
    let valid = 0;
    let accepted = 0;
    for (const doc of documents) {
      for (const [, schema] of SCHEMAS) {
        const r = agree(schema, doc);
        if (r.zod) valid++;
        if (r.accepted) accepted++;
      }
    }
    expect(valid).toBeGreaterThan(300);
    expect(accepted / valid).toBeGreaterThan(0.95);
  });

  // One change somewhere in a valid document: most make it invalid, some keep it valid.
  const REPLACEMENTS: unknown[] = [undefined, null, '', 'x', '\u{1F600}', '\u{1F600}'.repeat(140), 'é'.repeat(300), 'UPPER', '/a', '/a/../b', 'a b', 'x'.repeat(300), 0, -1, 1, 1.5, 65536, 1e9, NaN, true, [], {}, [{}], { bogus: 1 }, new Date(0)];
  type Mutation = { pick: number[]; what: number; how: number };
  const mutation = fc.record({ pick: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), what: fc.nat(REPLACEMENTS.length + 2), how: fc.nat() });

  function mutate(doc: unknown, m: Mutation): unknown {
    const copy = structuredClone(doc);
    let node: unknown = copy;
    for (const [step, n] of m.pick.entries()) {
      const keys = node !== null && typeof node === 'object' ? Object.keys(node) : [];
      if (keys.length === 0) break;
      const key = keys[n % keys.length]!;
      const child = (node as Record<string, unknown>)[key];
      const last = step === m.pick.length - 1 || child === null || typeof child !== 'object';
      if (!last) {
        node = child;
        continue;
      }
      const target = node as Record<string, unknown>;
      if (m.what === REPLACEMENTS.length) delete target[key];
      else if (m.what === REPLACEMENTS.length + 1) target[`bogus${m.how % 3}`] = 'x';
      else if (m.what === REPLACEMENTS.length + 2 && Array.isArray(child)) child.push(structuredClone(child[0]));
      else target[key] = structuredClone(REPLACEMENTS[m.what % REPLACEMENTS.length]);
      break;
    }
    return copy;
  }

  it('on 4,000 mutated documents (valid and invalid): never more than zod, always zod output', () => {
    let valid = 0;
    let invalid = 0;
    fc.assert(
      fc.property(fc.nat(documents.length - 1), mutation, (i, m) => {
        const doc = mutate(documents[i], m);
        for (const [, schema] of schemasFor(doc)) {
          const r = agree(schema, doc);
          if (r.zod) valid++;
          else invalid++;
        }
      }),
      { numRuns: 4000, seed: 13 },
    );
    // Both sides of the line are exercised.
    expect(valid).toBeGreaterThan(200);
    expect(invalid).toBeGreaterThan(1000);
  });

  it('refuses what it does not mirror, leaving it to zod: dates, other prototypes, symbol keys', () => {
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', creationTimestamp: new Date(0) }, spec: { ports: [{ port: 80 }] } };
    expect(acceptorOf(gateway.ServiceSchema)(svc)).toBe(INVALID);
    expect(gateway.ServiceSchema.safeParse(svc).success).toBe(true);
    const plain = { ...svc, metadata: { name: 's' } };
    expect(acceptorOf(gateway.ServiceSchema)(plain)).toStrictEqual(gateway.ServiceSchema.parse(plain));
    expect(acceptorOf(gateway.ServiceSchema)(Object.assign(Object.create({ inherited: 1 }), plain))).toBe(INVALID);
    expect(acceptorOf(gateway.ServiceSchema)({ ...plain, metadata: { name: 's', labels: { a: 'b', [Symbol('s')]: 'x' } } })).toBe(INVALID);
  });

  // Outputs are made by one constructor per object schema (so that V8 sizes them to their
  // fields); they must still be plain objects, as zod's are and as users of the resources expect.
  it('returns plain objects: prototype Object.prototype, constructor Object, own enumerable keys only', () => {
    const seen = { objects: 0 };
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(walk);
      if (typeof v !== 'object' || v === null) return;
      seen.objects++;
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
      expect((v as object).constructor).toBe(Object);
      expect(Object.getOwnPropertyNames(v)).toEqual(Object.keys(v));
      Object.values(v).forEach(walk);
    };
    for (const doc of tables) {
      for (const [, schema] of schemasFor(doc)) {
        const out = acceptorOf(schema)(doc);
        if (out !== INVALID) walk(out);
      }
    }
    expect(seen.objects).toBeGreaterThan(1000);
  });
});

describe('leaves with bounds and patterns (one function each)', () => {
  it('agree with zod at and around every bound, inclusive and exclusive', () => {
    const schemas = [
      z.number().int().min(1).max(5),
      z.number().gt(0).lt(10),
      z.number().gte(-2).lte(2).int(),
      z.number().positive(),
      z.string().min(2).max(4),
      z.string().min(1).max(3).regex(/^a/),
      z.string().regex(/^[a-z]+$/).regex(/b/),
      z.string().max(2),
    ];
    const values: unknown[] = [-3, -2, -1.5, 0, 0.5, 1, 2, 4.5, 5, 6, 9.99, 10, 11, NaN, Infinity, -Infinity, 2 ** 53, '', 'a', 'ab', 'abc', 'abcd', 'abcde', 'b', 'ba', '\u{1F600}', '\u{1F600}\u{1F600}', '\u{1F600}'.repeat(3), 'aé', undefined, null, true, {}];
    let accepted = 0;
    for (const schema of schemas) for (const v of values) if (agree(schema, v).accepted) accepted++;
    expect(accepted).toBeGreaterThan(30);
  });
});

describe('the zod release line the acceptors mirror', () => {
  it('is the installed one, so the fast path is what these tests compare with zod', () => {
    expect(mirrorsZod(z.core.version)).toBe(true);
  });

  it('refuses other majors and minors (zod then parses every object itself)', () => {
    const { major, minor } = z.core.version;
    expect(mirrorsZod({ major, minor: minor + 1 })).toBe(false);
    expect(mirrorsZod({ major: major + 1, minor })).toBe(false);
    expect(mirrorsZod(undefined)).toBe(false);
  });
});
