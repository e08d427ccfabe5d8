// Request-time code never throws, and RegularExpression values are refused at load when they
// cannot run in linear time (backreferences, lookaround), with an issue naming pattern and reason.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGateway, loadManifests } from '../../src/index.js';

const G = 'gateway.networking.k8s.io/v1';
const route = (match: Record<string, unknown>) => ({
  apiVersion: G,
  kind: 'HTTPRoute',
  metadata: { name: 'r' },
  spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [match], backendRefs: [{ name: 'svc', port: 80 }] }] },
});
const base = [
  { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { ports: [{ port: 80 }] } },
];

describe('regular expressions (RE2 dialect, linear time)', () => {
  it.each([
    ['backreference', { path: { type: 'RegularExpression', value: '/(a+)/\\1' } }, 'backreferences are not supported'],
    ['lookahead', { path: { type: 'RegularExpression', value: '/(?=admin).*' } }, 'lookahead and lookbehind are not supported'],
    ['lookbehind in a header', { headers: [{ name: 'x', type: 'RegularExpression', value: '(?<!a)b' }] }, 'lookahead and lookbehind are not supported'],
    ['named backreference in a query param', { queryParams: [{ name: 'q', type: 'RegularExpression', value: '(?P<x>a)\\k<x>' }] }, 'backreferences are not supported'],
    ['repeat count over 1000', { path: { type: 'RegularExpression', value: '/a{1001}' } }, 'not valid RE2 syntax'],
  ])('refuses a %s at load with a GW_MANIFEST_REGEX warning naming the pattern and the reason, and drops its rule (digest 10.5)', (_what, match, reason) => {
    const { issues } = loadManifests([...base, route(match)]);
    const regex = issues.filter((i) => i.code === 'GW_MANIFEST_REGEX');
    expect(regex).toHaveLength(1);
    expect(regex[0]!.severity).toBe('warning');
    expect(regex[0]!.message).toContain(reason);
    expect(regex[0]!.message).toContain(JSON.stringify(Object.values(match)[0] instanceof Array ? (Object.values(match)[0] as { value: string }[])[0]!.value : (match as { path: { value: string } }).path.value));
    // The CRD admits any string, so this is no API-server error: the only rule is dropped and the route is not Accepted.
    const gw = createGateway({ manifests: [...base, route(match)] });
    const accepted = gw.statusOf('HTTPRoute', 'r')!.status.parents[0]!.conditions.find((c) => c.type === 'Accepted');
    expect(accepted).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
    expect(accepted!.message).toContain(reason);
    expect(gw.issues).toContainEqual(regex[0]);
  });

  it('accepts nested quantifiers and runs them in linear time (a pathological input for backtracking engines)', () => {
    const gw = createGateway({ manifests: [...base, route({ path: { type: 'RegularExpression', value: '/(a+)+b' } })] });
    const start = performance.now();
    const d = gw.route({ method: 'GET', path: `/${'a'.repeat(50_000)}` });
    expect(performance.now() - start).toBeLessThan(20_000); // a backtracking engine would not finish in hours; the bound is wide for loaded machines
    expect(d).toMatchObject({ type: 'respond', status: 404 });
    expect(gw.route({ method: 'GET', path: '/aaab' })).toMatchObject({ type: 'forward' });
  });

  it('matches RE2 syntax JavaScript lacks: (?i) flags and POSIX classes', () => {
    const gw = createGateway({ manifests: [...base, route({ path: { type: 'RegularExpression', value: '(?i)/API/[[:digit:]]+' } })] });
    expect(gw.route({ method: 'GET', path: '/api/42' })).toMatchObject({ type: 'forward' });
    expect(gw.route({ method: 'GET', path: '/api/x' })).toMatchObject({ type: 'respond', status: 404 });
  });
});

describe('route() never throws', () => {
  const gw = createGateway({ manifests: [...base, route({ headers: [{ name: 'x', value: '1' }], queryParams: [{ name: 'q', value: '1' }] })] });

  it('answers 400 to a path that does not start with "/"', () => {
    expect(gw.route({ method: 'OPTIONS', path: '*' })).toMatchObject({ type: 'respond', status: 400, reason: 'bad-request' });
  });

  it('returns a Decision for arbitrary, even ill-typed, requests', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), (method, path, host, headers) => {
        const d = gw.route({ method, path, host, headers } as never);
        expect(['forward', 'redirect', 'respond']).toContain(d.type);
      }),
      { numRuns: 2000 },
    );
  });

  it('handles odd but valid requests: repeated headers, percent-encoding, IPv6 hosts, huge paths', () => {
    expect(gw.route({ method: 'GET', path: '/?q=1', headers: { x: ['1', '2'] } })).toMatchObject({ type: 'respond', status: 404 });
    expect(gw.route({ method: 'GET', path: '/?q=%31', headers: { X: '1' } })).toMatchObject({ type: 'forward' });
    expect(gw.route({ method: 'GET', path: '/?q=1', host: '[::1]:80', headers: { x: '1' } })).toMatchObject({ type: 'forward' });
    expect(gw.route({ method: 'GET', path: `/${'x/'.repeat(100_000)}?q=1`, headers: { x: '1' } })).toMatchObject({ type: 'forward' });
  });
});
