// Properties of RequestHeaderModifier / ResponseHeaderModifier (spec digest 7.2), checked
// through gw.route() with fast-check: idempotence of set/remove, purity of every modifier,
// and case-insensitive header names.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HeaderMap, HeaderOps } from '../../src/index.js';
import { asForward, gw, ref, type Obj } from './helpers.js';

/**
 * Every property here is bounded in time, shrinking included: a property that fails runs
 * createGateway once per shrink step over a large shrink tree (six mixed-case names, values,
 * four arguments), which once kept a worker at 100% CPU for minutes (the shrinking of a real
 * aliasing bug, seed 20 with the suite's seed base). The loop is synchronous, so vitest's test
 * timeout cannot stop it: fast-check's own limit does, and an interrupted run fails.
 */
const BOUNDED = { interruptAfterTimeLimit: 20_000, markInterruptAsFailure: true } as const;

const POOL = ['x-a', 'x-b', 'x-c', 'x-d', 'x-e', 'accept'] as const;
type Action = 'set' | 'add' | 'remove' | 'none';

interface Modifier {
  set: { name: string; value: string }[];
  add: { name: string; value: string }[];
  remove: string[];
}

const value = fc.string({ minLength: 1, maxLength: 6 }).filter((s) => !/[\r\n\0]/.test(s));

/** A valid modifier: each pool name in at most one action (digest 7.2), names in random case. */
function modifierArb(actions: readonly Action[]): fc.Arbitrary<Modifier> {
  return fc.tuple(...POOL.map((n) => fc.record({ action: fc.constantFrom(...actions), name: fc.mixedCase(fc.constant(n)), value }))).map((entries) => {
    const m: Modifier = { set: [], add: [], remove: [] };
    for (const e of entries) {
      if (e.action === 'set') m.set.push({ name: e.name, value: e.value });
      else if (e.action === 'add') m.add.push({ name: e.name, value: e.value });
      else if (e.action === 'remove') m.remove.push(e.name);
    }
    return m;
  });
}

/** Request headers: names from the pool plus others, in random case (so `X-A` and `x-a` may both occur), values single or repeated. */
const headersArb: fc.Arbitrary<HeaderMap> = fc
  .array(fc.tuple(fc.mixedCase(fc.constantFrom(...POOL, 'x-keep', 'user-agent')), fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 3 }))), { maxLength: 8 })
  .map((entries) => Object.fromEntries(entries));

const asArray = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
/** Header map with every value as an array, so `"a"` and `["a"]` compare equal. */
const normalise = (h: Record<string, string | string[] | undefined>): Record<string, string[]> => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, asArray(v)]));

/** The spec's semantics, written independently: names case-insensitive; set replaces, add appends, remove deletes every occurrence. */
function reference(headers: HeaderMap, m: Modifier): Record<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out.set(k.toLowerCase(), [...(out.get(k.toLowerCase()) ?? []), ...asArray(v)]);
  }
  for (const s of m.set) out.set(s.name.toLowerCase(), [s.value]);
  for (const a of m.add) out.set(a.name.toLowerCase(), [...(out.get(a.name.toLowerCase()) ?? []), a.value]);
  for (const r of m.remove) out.delete(r.toLowerCase());
  return Object.fromEntries(out);
}

const request = (headers: HeaderMap) => ({ method: 'GET', path: '/', host: 'example.org', headers });
const modifierFilter = (type: 'RequestHeaderModifier' | 'ResponseHeaderModifier', m: Modifier): Obj =>
  type === 'RequestHeaderModifier' ? { type, requestHeaderModifier: m } : { type, responseHeaderModifier: m };

describe('header modifiers are idempotent (digest 7.2: set replaces all values, remove deletes every occurrence)', () => {
  it('set/remove-only RequestHeaderModifier: routing the forwarded headers again changes nothing (f(f(h)) = f(h)) and matches the spec model (digest 7.2)', () => {
    fc.assert(
      fc.property(modifierArb(['set', 'remove', 'none']), headersArb, (m, headers) => {
        const g = gw([{ filters: [modifierFilter('RequestHeaderModifier', m)], backendRefs: [ref('web')] }]);
        const once = asForward(g.route(request(headers))).request.headers;
        const twice = asForward(g.route(request(once))).request.headers;
        expect(normalise(twice)).toEqual(normalise(once));
        expect(normalise(once)).toEqual(reference(headers, m));
      }),
      { ...BOUNDED, numRuns: 150 },
    );
  });

  it('set/remove-only modifier at rule level and again at backendRef level equals applying it once (digest 7.2, 6 per-backend filters)', () => {
    fc.assert(
      fc.property(modifierArb(['set', 'remove', 'none']), headersArb, (m, headers) => {
        const f = modifierFilter('RequestHeaderModifier', m);
        const once = gw([{ filters: [f], backendRefs: [ref('web')] }]).route(request(headers));
        const twice = gw([{ filters: [f], backendRefs: [ref('web', { filters: [f] })] }]).route(request(headers));
        expect(normalise(asForward(twice).request.headers)).toEqual(normalise(asForward(once).request.headers));
      }),
      { ...BOUNDED, numRuns: 100 },
    );
  });
});

describe('header modifiers are pure (digest 7.2; RouteRequest is the caller\'s)', () => {
  it('any Request/ResponseHeaderModifier (incl. add), rule and backend level: the same request twice gives identical decisions and the caller\'s headers are never mutated', () => {
    fc.assert(
      fc.property(modifierArb(['set', 'add', 'remove', 'none']), modifierArb(['set', 'add', 'remove', 'none']), modifierArb(['set', 'add', 'remove', 'none']), headersArb, (rule, backend, response, headers) => {
        const g = gw([
          {
            filters: [modifierFilter('RequestHeaderModifier', rule), modifierFilter('ResponseHeaderModifier', response)],
            backendRefs: [ref('web', { filters: [modifierFilter('RequestHeaderModifier', backend), modifierFilter('ResponseHeaderModifier', response)] })],
          },
        ]);
        const snapshot = structuredClone(headers);
        const req = request(headers);
        const a = asForward(g.route(req));
        expect(headers).toEqual(snapshot);
        expect(req.headers).toBe(headers);
        const b = asForward(g.route(req));
        expect(b).toEqual(a);
        expect(headers).toEqual(snapshot);
        // The decision must not alias the caller's arrays: changing it leaves the caller's request intact.
        for (const v of Object.values(a.request.headers)) if (Array.isArray(v)) v.push('tampered');
        for (const ops of a.responseHeaders) ops.set.push(['tampered', 'x']);
        expect(headers).toEqual(snapshot);
        expect(asForward(g.route(req))).toEqual(b);
      }),
      { ...BOUNDED, numRuns: 100 },
    );
  });
});

describe('the decision never aliases the caller\'s header arrays (digest 7.2; found by the purity property above)', () => {
  it('a repeated header the modifier leaves alone reaches the decision as a copy: appending to it leaves the caller\'s request intact', () => {
    const headers: HeaderMap = { 'x-b': ['one'], 'x-a': 'a' };
    const g = gw([{ filters: [modifierFilter('RequestHeaderModifier', { set: [{ name: 'x-c', value: 'c' }], add: [], remove: [] })], backendRefs: [ref('web')] }]);
    const out = asForward(g.route(request(headers))).request.headers;
    expect(out['x-b']).toEqual(['one']);
    expect(out['x-b']).not.toBe(headers['x-b']);
    (out['x-b'] as string[]).push('tampered');
    expect(headers['x-b']).toEqual(['one']);
  });
});

describe('header names are case-insensitive (digest 7.2: x-header-set is overwritten by X-Header-Set)', () => {
  it('set `X-Foo` (any case) replaces every `x-foo` (any case) value; the result has one lower-case entry (digest 7.2)', () => {
    fc.assert(
      fc.property(fc.mixedCase(fc.constant('x-foo')), fc.array(fc.mixedCase(fc.constant('x-foo')), { minLength: 1, maxLength: 3 }), value, (setName, requestNames, v) => {
        const headers: HeaderMap = Object.fromEntries(requestNames.map((n, i) => [n, `old-${i}`]));
        const g = gw([{ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: setName, value: v }] } }], backendRefs: [ref('web')] }]);
        const out = asForward(g.route(request(headers))).request.headers;
        expect(Object.keys(out).filter((k) => k.toLowerCase() === 'x-foo')).toEqual(['x-foo']);
        expect(asArray(out['x-foo'])).toEqual([v]);
      }),
      BOUNDED,
    );
  });

  it('remove `X-Foo` (any case) removes `x-FOO` and every other casing (digest 7.2)', () => {
    fc.assert(
      fc.property(fc.mixedCase(fc.constant('x-foo')), fc.array(fc.mixedCase(fc.constant('x-foo')), { minLength: 1, maxLength: 3 }), (removeName, requestNames) => {
        const headers: HeaderMap = { ...Object.fromEntries(requestNames.map((n, i) => [n, `old-${i}`])), 'x-keep': 'k' };
        const g = gw([{ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { remove: [removeName] } }], backendRefs: [ref('web')] }]);
        const out = asForward(g.route(request(headers))).request.headers;
        expect(Object.keys(out).filter((k) => k.toLowerCase() === 'x-foo')).toEqual([]);
        expect(out['x-keep']).toBe('k');
      }),
      BOUNDED,
    );
  });

  it('add `X-Foo` appends to `x-FOO` (digest 7.2: backend sees orig,new)', () => {
    const g = gw([{ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'X-Foo', value: 'new' }] } }], backendRefs: [ref('web')] }]);
    const out = asForward(g.route(request({ 'x-FOO': 'orig' }))).request.headers;
    expect(asArray(out['x-foo']).join(',')).toBe('orig,new');
    expect(Object.keys(out)).toEqual(['x-foo']);
  });

  it('ResponseHeaderModifier names are case-insensitive: ops carry lower-case names (digest 7.2 response variant)', () => {
    fc.assert(
      fc.property(fc.mixedCase(fc.constant('x-foo')), fc.mixedCase(fc.constant('x-bar')), fc.mixedCase(fc.constant('x-baz')), (s, a, r) => {
        const g = gw([{ filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: s, value: '1' }], add: [{ name: a, value: '2' }], remove: [r] } }], backendRefs: [ref('web')] }]);
        const ops: HeaderOps[] = asForward(g.route(request({}))).responseHeaders;
        expect(ops).toEqual([{ set: [['x-foo', '1']], add: [['x-bar', '2']], remove: ['x-baz'] }]);
      }),
      { ...BOUNDED, numRuns: 50 },
    );
  });

  it('within one list, duplicate names differing only in case: the first entry wins (digest 7.2)', () => {
    const g = gw([{ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Foo', value: 'first' }, { name: 'x-foo', value: 'second' }] } }], backendRefs: [ref('web')] }]);
    expect(asForward(g.route(request({ 'x-foo': 'orig' }))).request.headers['x-foo']).toBe('first');
  });
});
