// GRPCRoute matching (GEP-1016, spec digest 9.1: a method match is a path match on
// /{service}/{method}), GRPCRoute precedence (digest 5.3), and the hostFallthrough option
// (digest 5.2: no fall-through by default).
import { describe, expect, it } from 'vitest';
import { createGateway, type RouteRequest } from '../../src/index.js';

const G = 'gateway.networking.k8s.io/v1';
const base = [
  { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
  ...['a', 'b', 'c', 'd', 'web'].map((name) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } })),
];
const grpcRoute = (name: string, rules: Record<string, unknown>[]) => ({ apiVersion: G, kind: 'GRPCRoute', metadata: { name }, spec: { parentRefs: [{ name: 'gw' }], rules } });
const to = (name: string) => [{ name, port: 80 }];
const call = (path: string, headers: Record<string, string> = {}): RouteRequest => ({ method: 'POST', path, headers: { 'content-type': 'application/grpc', ...headers } });
const backendOf = (d: ReturnType<ReturnType<typeof createGateway>['route']>) => (d.type === 'forward' ? d.backend.name : d.status);

describe('GRPCRoute matching (digest 9.1)', () => {
  const gw = createGateway({
    manifests: [
      ...base,
      grpcRoute('grpc', [
        { matches: [{ method: { service: 'pkg.Echo', method: 'Say' } }], backendRefs: to('a') },
        { matches: [{ method: { service: 'pkg.Echo' } }], backendRefs: to('b') },
        { matches: [{ method: { method: 'Health' } }], backendRefs: to('c') },
        { matches: [{ method: { type: 'RegularExpression', service: 'pkg\\.V[0-9]+' } }], backendRefs: to('d') },
      ]),
    ],
  });

  it.each([
    ['/pkg.Echo/Say', 'a', 'Exact service and method: exact path /{service}/{method}'],
    ['/pkg.Echo/Shout', 'b', 'Exact service only: any method of the service'],
    ['/other.Svc/Health', 'c', 'Exact method only: that method on any service'],
    ['/pkg.V2/Anything', 'd', 'RegularExpression service: /{serviceRe}/.+'],
    ['/pkg.echo/Say', 404, 'matching is case-sensitive'],
    ['/nope.Svc/Do', 404, 'no match: 404 (gRPC UNIMPLEMENTED)'],
  ] as [string, string | number, string][])('%s -> %s (%s)', (path, want) => {
    expect(backendOf(gw.route(call(path)))).toBe(want);
  });

  it('a GRPCRoute rule without matches matches every gRPC call', () => {
    const all = createGateway({ manifests: [...base, grpcRoute('all', [{ backendRefs: to('a') }])] });
    expect(backendOf(all.route(call('/any.Svc/Any')))).toBe('a');
  });
});

describe('GRPCRoute precedence (digest 5.3)', () => {
  it('more service characters, then more method characters, then more headers win; then rule order', () => {
    const gw = createGateway({
      manifests: [
        ...base,
        grpcRoute('grpc', [
          { matches: [{ headers: [{ name: 'x', value: '1' }, { name: 'y', value: '2' }] }], backendRefs: to('d') },
          { matches: [{ method: { method: 'Say' } }], backendRefs: to('c') },
          { matches: [{ method: { service: 'pkg.Echo' } }], backendRefs: to('b') },
          { matches: [{ method: { service: 'pkg.Echo', method: 'Say' } }], backendRefs: to('a') },
        ]),
      ],
    });
    expect(backendOf(gw.route(call('/pkg.Echo/Say', { x: '1', y: '2' })))).toBe('a'); // service + method
    expect(backendOf(gw.route(call('/pkg.Echo/Other', { x: '1', y: '2' })))).toBe('b'); // service beats method-only and headers
    expect(backendOf(gw.route(call('/z.Svc/Say', { x: '1', y: '2' })))).toBe('c'); // method beats headers only
    expect(backendOf(gw.route(call('/z.Svc/Other', { x: '1', y: '2' })))).toBe('d');
  });

  it('GRPCRoutes are matched only for gRPC calls; HTTPRoutes serve the other hosts of the listener', () => {
    // An HTTPRoute and a GRPCRoute may not share a hostname on one listener (digest 2.2 step 7,
    // test/model/status-reasons.test.ts), so the two kinds get disjoint hostnames here.
    const gw = createGateway({
      manifests: [
        ...base,
        { ...grpcRoute('grpc', [{ backendRefs: to('a') }]), spec: { parentRefs: [{ name: 'gw' }], hostnames: ['grpc.example.com'], rules: [{ backendRefs: to('a') }] } },
        { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'web' }, spec: { parentRefs: [{ name: 'gw' }], hostnames: ['www.example.com'], rules: [{ backendRefs: to('web') }] } },
      ],
    });
    expect(backendOf(gw.route({ ...call('/pkg.Echo/Say'), host: 'grpc.example.com' }))).toBe('a');
    expect(backendOf(gw.route({ method: 'GET', path: '/pkg.Echo/Say', host: 'grpc.example.com' }))).toBe(404);
    expect(backendOf(gw.route({ method: 'GET', path: '/pkg.Echo/Say', host: 'www.example.com' }))).toBe('web');
    expect(backendOf(gw.route({ method: 'POST', path: '/x', host: 'www.example.com', headers: { 'content-type': 'application/json' } }))).toBe('web');
  });
});

describe('hostFallthrough (digest 5.2)', () => {
  const manifests = [
    ...base,
    { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'exact' }, spec: { parentRefs: [{ name: 'gw' }], hostnames: ['a.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/only' } }], backendRefs: to('a') }] } },
    { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'wild' }, spec: { parentRefs: [{ name: 'gw' }], hostnames: ['*.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/wild' } }], backendRefs: to('b') }] } },
    { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'any' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: to('c') }] } },
  ];

  it('by default a request stays in its most specific hostname: 404 rather than falling through', () => {
    const gw = createGateway({ manifests });
    expect(backendOf(gw.route({ method: 'GET', path: '/only', host: 'a.example.com' }))).toBe('a');
    expect(backendOf(gw.route({ method: 'GET', path: '/wild', host: 'a.example.com' }))).toBe(404);
    const e = gw.explain({ method: 'GET', path: '/wild', host: 'a.example.com' });
    expect(e.candidates.filter((c) => c.outcome === 'skipped').map((c) => c.route.name).sort()).toEqual(['any', 'wild']);
  });

  it('with hostFallthrough: true, less specific hostnames are tried in turn (wildcard, then any host)', () => {
    const gw = createGateway({ manifests, hostFallthrough: true });
    expect(backendOf(gw.route({ method: 'GET', path: '/only', host: 'a.example.com' }))).toBe('a');
    expect(backendOf(gw.route({ method: 'GET', path: '/wild', host: 'a.example.com' }))).toBe('b');
    expect(backendOf(gw.route({ method: 'GET', path: '/else', host: 'a.example.com' }))).toBe('c');
    expect(gw.explain({ method: 'GET', path: '/wild', host: 'a.example.com' }).decision).toMatchObject({ route: { name: 'wild' } });
  });
});
