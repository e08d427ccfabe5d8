// Property: on randomly generated route tables (small alphabets, so routes collide) and random
// requests, the compiled matcher (gw.route) and the reference matcher agree on every decision;
// explain() names the same winner as route() (they share one lookup); and shuffling the
// manifests or recompiling changes nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGateway, loadManifests } from '../../src/index.js';
import { referenceRoute } from '../reference/matcher.js';

const NOW = new Date('2026-03-01T00:00:00Z');
const G = 'gateway.networking.k8s.io/v1';

const pathValue = fc.constantFrom('/', '/a', '/a/', '/a/b', '/ab', '/b');
const regexValue = fc.constantFrom('/a.*', '/[ab]+', '/a/[a-z]', '/(a|b)/b');
const pathMatch = fc.oneof(
  fc.record({ type: fc.constantFrom('Exact', 'PathPrefix'), value: pathValue }),
  fc.record({ type: fc.constant('RegularExpression'), value: regexValue }),
);
// Header conditions cover every form the lookup's scan tests inline or by a call (see ScanKind in
// src/match/checks.ts): exact values, literal regexes ("1", "1|2": a Set probe) and a real regex.
const header = fc.record(
  { name: fc.constantFrom('x', 'y', 'X'), type: fc.constantFrom('Exact', 'RegularExpression'), value: fc.constantFrom('1', '2', '1|2', '[12]') },
  { requiredKeys: ['name', 'value'] },
);
const query = fc.record({ name: fc.constantFrom('q', 'Q'), value: fc.constantFrom('1', '2') });
const match = fc.record(
  {
    path: pathMatch,
    headers: fc.uniqueArray(header, { maxLength: 2, selector: (h) => h.name }),
    queryParams: fc.uniqueArray(query, { maxLength: 1, selector: (q) => q.name }),
    method: fc.constantFrom('GET', 'POST', 'PUT'),
  },
  { requiredKeys: [] },
);
const rule = fc.record({ matches: fc.array(match, { maxLength: 2 }) }, { requiredKeys: [] });
const route = fc.record({
  hostnames: fc.uniqueArray(fc.constantFrom('a.example.com', '*.example.com', 'b.example.com', 'x.org'), { maxLength: 2 }),
  created: fc.constantFrom(undefined, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
  namespace: fc.constantFrom('default', 'other'),
  rules: fc.array(rule, { minLength: 1, maxLength: 3 }),
});
const listenerHost = fc.constantFrom(undefined, '*.example.com', 'a.example.com');
const table = fc.record({
  listeners: fc.uniqueArray(listenerHost, { minLength: 1, maxLength: 2 }),
  routes: fc.array(route, { minLength: 1, maxLength: 5 }),
});
const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT'),
  path: fc.tuple(fc.constantFrom('/', '/a', '/a/', '/a/b', '/ab', '/b', '/a/b/c', '/c', '/a/c', '/a/b/'), fc.constantFrom('', '?q=1', '?q=2', '?Q=1', '?q=1&q=2', '?q=2&q=1')).map(([p, q]) => p + q),
  headers: fc.dictionary(fc.constantFrom('x', 'y', 'X-Other'), fc.constantFrom('1', '2'), { maxKeys: 2 }),
  host: fc.constantFrom(undefined, 'a.example.com', 'b.example.com', 'c.example.com', 'x.org', 'A.example.com:8080'),
});

type Table = typeof table extends fc.Arbitrary<infer T> ? T : never;

function manifests(t: Table): Record<string, unknown>[] {
  return [
    {
      apiVersion: G,
      kind: 'Gateway',
      metadata: { name: 'gw' },
      spec: {
        gatewayClassName: 'any',
        listeners: t.listeners.map((h, i) => ({ name: `l${i}`, port: 80, protocol: 'HTTP', ...(h ? { hostname: h } : {}), allowedRoutes: { namespaces: { from: 'All' } } })),
      },
    },
    ...['default', 'other'].map((ns) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: ns }, spec: { ports: [{ port: 80 }] } })),
    ...t.routes.map((r, i) => ({
      apiVersion: G,
      kind: 'HTTPRoute',
      metadata: { name: `r${i}`, namespace: r.namespace, ...(r.created ? { creationTimestamp: r.created } : {}) },
      spec: {
        parentRefs: [{ name: 'gw', namespace: 'default' }],
        ...(r.hostnames.length ? { hostnames: r.hostnames } : {}),
        rules: r.rules.map((rule) => ({ ...rule, backendRefs: [{ name: 'svc', port: 80 }] })),
      },
    })),
  ];
}

type Req = typeof request extends fc.Arbitrary<infer T> ? T : never;
const clean = (r: Req) => ({ method: r.method, path: r.path, headers: r.headers, ...(r.host ? { host: r.host } : {}) });

describe('compiled matcher vs reference matcher', () => {
  // 20,000 cases: 2,500 generated tables, 8 requests each (a table costs far more to build than a request to route).
  it('agree on every decision over 20,000 cases, and explain() agrees with route()', () => {
    fc.assert(
      fc.property(table, fc.array(request, { minLength: 8, maxLength: 8 }), (t, reqs) => {
        const m = manifests(t);
        const gw = createGateway({ manifests: m, now: () => NOW });
        const resources = loadManifests(m).resources;
        for (const r of reqs) {
          const req = clean(r);
          const d = gw.route(req);
          const ref = referenceRoute(resources, 'gw', req, NOW.getTime());
          const got = d.type === 'forward' ? `${d.listener.name} ${d.route.namespace}/${d.route.name} ${d.rule.index} ${d.match}` : `${d.status}`;
          const want = ref.type === 'match' ? `${ref.listener} ${ref.route} ${ref.rule} ${ref.match}` : '404';
          expect(got).toBe(want);
          // explain() decides through the same lookup: same Decision, and its selected candidate is route()'s match.
          const e = gw.explain(req);
          const selected = e.candidates.filter((c) => c.outcome === 'selected');
          const explained = selected.length === 1 ? `${d.type === 'forward' ? d.listener.name : ''} ${selected[0]!.route.namespace}/${selected[0]!.route.name} ${selected[0]!.rule} ${selected[0]!.match}` : `${e.decision.type === 'respond' ? e.decision.status : 'forward without a selected candidate'}`;
          expect(explained).toBe(got);
          expect(e.decision).toEqual(d);
        }
      }),
      { numRuns: 2_500, seed: 20261125 },
    );
  }, 240_000);

  it('shuffling the manifests or recompiling changes no decision', () => {
    fc.assert(
      fc.property(table, fc.array(request, { minLength: 5, maxLength: 5 }), fc.integer(), (t, reqs, seed) => {
        const m = manifests(t);
        const shuffled = [...m].sort((a, b) => ((JSON.stringify(a).length * 31 + seed) % 7) - ((JSON.stringify(b).length * 31 + seed) % 7));
        const a = createGateway({ manifests: m, now: () => NOW });
        const b = createGateway({ manifests: shuffled, now: () => NOW });
        const c = createGateway({ manifests: m, now: () => NOW });
        c.reload(m);
        for (const r of reqs) {
          const req = clean(r);
          expect(b.route(req)).toEqual(a.route(req));
          expect(c.route(req)).toEqual(a.route(req));
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
