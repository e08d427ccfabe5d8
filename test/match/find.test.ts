// The one lookup (src/match/find.ts): route() and explain() walk the same compiled candidate
// lists in the same order, and the trace's named checks are the ones route() runs.
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { candidatesFor, compileMatcher } from '../../src/match/compile.js';
import { find, isMiss, newTrace } from '../../src/match/find.js';
import { RequestView } from '../../src/match/request.js';
import { compileFullMatch } from '../../src/resources/schemas-shared.js';
import type { RouteRequest } from '../../src/types.js';

const G = 'gateway.networking.k8s.io/v1';
const rule = (path: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ matches: [{ path, ...extra }], backendRefs: [{ name: 'svc', port: 80 }] });
const manifests = [
  { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { ports: [{ port: 80 }] } },
  {
    apiVersion: G,
    kind: 'HTTPRoute',
    metadata: { name: 'r', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      parentRefs: [{ name: 'gw' }],
      rules: [
        rule({ type: 'PathPrefix', value: '/api' }),
        rule({ type: 'PathPrefix', value: '/api' }, { headers: [{ name: 'x-canary', value: 'yes' }] }),
        rule({ type: 'PathPrefix', value: '/api/v1' }, { method: 'POST' }),
        rule({ type: 'Exact', value: '/api/v1/status' }, { queryParams: [{ name: 'full', value: '1' }] }),
        rule({ type: 'RegularExpression', value: '/api/v[0-9]+/.*' }, { headers: [{ name: 'x-team', type: 'RegularExpression', value: 'a|b' }] }),
      ],
    },
  },
];

const requests: RouteRequest[] = [
  { method: 'GET', path: '/api/v1/status?full=1', headers: { 'x-canary': 'yes' } },
  { method: 'GET', path: '/api/v1/status' },
  { method: 'POST', path: '/api/v1/x', headers: { 'x-team': 'c' } },
  { method: 'GET', path: '/api/v2/x', headers: { 'x-team': 'b' } },
  { method: 'GET', path: '/nothing' },
];

describe('find(): one lookup for route() and explain()', () => {
  const gw = createGateway({ manifests, now: () => new Date(0) });
  const matcher = compileMatcher(gw.ir, (p) => {
    const r = compileFullMatch(p);
    return r.ok ? r.test : null;
  });

  it.each(requests)('the trace tests the compiled candidates in their compiled order: %j', (request) => {
    const req = new RequestView(request);
    const trace = newTrace();
    const traced = find(matcher, req, false, trace);
    const vh = trace.vhosts[0]!;
    const compiled = candidatesFor(vh.vhost, req.segments, false).full.all;
    expect(vh.tested.map((t) => t.candidate)).toEqual(compiled);
    expect(vh.tested.map((t) => t.candidate)).not.toHaveLength(0);
    // Without a trace, the lookup returns the same winner.
    expect(find(matcher, new RequestView(request), false, null)).toBe(traced);
  });

  it.each(requests)("explain() names route()'s winner and the failing checks' own words: %j", (request) => {
    const d = gw.route(request);
    const e = gw.explain(request);
    expect(e.decision).toEqual(d);
    const selected = e.candidates.filter((c) => c.outcome === 'selected');
    if (d.type === 'forward') expect(selected.map((c) => [c.rule, c.match])).toEqual([[d.rule.index, d.match]]);
    else expect(selected).toEqual([]);
    const req = new RequestView(request);
    const trace = newTrace();
    const found = find(matcher, req, false, trace);
    expect(isMiss(found)).toBe(d.type !== 'forward');
    const failed = trace.vhosts[0]!.tested.filter((t) => t.failed !== null).map((t) => t.failed!.why(req));
    for (const why of failed) expect(e.candidates.map((c) => c.failed)).toContain(why);
  });
});

// The lookup scans, per request method, only the candidates that method can pass, with the first
// ones inline in the trie node (compile.ts, CandidateList); its winner must always be the first
// candidate of the compiled list whose checks all pass (precedence, spec digest section 5).
describe('per-method scans: the winner is the first passing candidate of the compiled list', () => {
  const shared = (name: string, rules: Record<string, unknown>[]) => ({
    apiVersion: G,
    kind: 'HTTPRoute',
    metadata: { name, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { parentRefs: [{ name: 'gw' }], rules: rules.map((r) => ({ ...r, backendRefs: [{ name: 'svc', port: 80 }] })) },
  });
  const p = (value: string) => ({ type: 'PathPrefix', value });
  const canary = createGateway({
    now: () => new Date(0),
    manifests: [
      manifests[0]!,
      manifests[1]!,
      shared('a-base', [{ matches: [{ path: p('/app') }] }]),
      shared('b-canary', [{ matches: [{ path: p('/app'), headers: [{ name: 'x-canary', value: 'always' }] }] }]),
      shared('c-group', [{ matches: [{ path: p('/app'), headers: [{ name: 'x-user-group', type: 'RegularExpression', value: 'beta|internal' }] }] }]),
      shared('d-write', [{ matches: [{ path: p('/app'), method: 'POST' }, { path: p('/app'), method: 'PUT' }] }]),
      shared('e-get', [{ matches: [{ path: p('/app/get'), method: 'GET', headers: [{ name: 'x-a', value: '1' }, { name: 'x-b', value: '2' }] }] }]),
      shared('f-post', [{ matches: [{ path: p('/app/get'), method: 'POST', queryParams: [{ name: 'q', value: '1' }] }] }]),
      shared('g-head', [{ matches: [{ path: { type: 'Exact', value: '/app/get/x' }, method: 'HEAD' }] }]),
    ],
  });
  const matcher = compileMatcher(canary.ir, (pattern) => {
    const r = compileFullMatch(pattern);
    return r.ok ? r.test : null;
  });
  const methods = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE'];
  const paths = ['/app', '/app/x', '/app/get', '/app/get?q=1', '/app/get/x', '/other'];
  const headerSets: Record<string, string>[] = [{}, { 'x-canary': 'always' }, { 'x-user-group': 'internal' }, { 'x-user-group': 'beta,x' }, { 'x-a': '1', 'x-b': '2' }, { 'x-a': '1' }];
  const cases = methods.flatMap((method) => paths.flatMap((path) => headerSets.map((headers) => ({ method, path, headers }))));

  it(`agrees with a scan of the compiled list on ${cases.length} requests`, () => {
    const winners = new Set<string>();
    for (const request of cases) {
      const req = new RequestView(request);
      const all = candidatesFor(matcher.listeners[0]!.anyHost!, req.segments, false).full.all;
      const expected = all.find((c) => c.checks.every((k) => k.test(req))) ?? null;
      const found = find(matcher, req, false, null);
      expect(isMiss(found) ? null : found).toBe(expected);
      if (expected !== null) winners.add(`${expected.match.rule}/${expected.index}`);
    }
    // Every rule wins somewhere: the cases reach each kind of scan entry.
    expect(winners.size).toBe(8);
  });
});
