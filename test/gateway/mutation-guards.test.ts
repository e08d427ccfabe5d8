// Issue 9 item 8: rules that a mutation run broke without any test failing. Each test below
// was checked to fail with its rule broken (the mutation is named in the test).
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import type { PrecedenceKey, RouteRequest } from '../../src/index.js';

const G = 'gateway.networking.k8s.io/v1';
type Obj = Record<string, unknown>;
const svc = (name: string, spec: Obj = { ports: [{ port: 80 }] }): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });
const gateway = (listeners: Obj[] = [{ name: 'http', port: 80, protocol: 'HTTP' }]): Obj => ({ apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners } });
const route = (name: string, spec: Obj, meta: Obj = {}): Obj => ({ apiVersion: G, kind: 'HTTPRoute', metadata: { name, ...meta }, spec: { parentRefs: [{ name: 'gw' }], ...spec } });
const to = (name: string, weight?: number): Obj => ({ name, port: 80, ...(weight !== undefined ? { weight } : {}) });
const get = (path: string, extra: Partial<RouteRequest> = {}): RouteRequest => ({ method: 'GET', path, ...extra });

describe('a rule whose backends all have weight 0 answers 500 at route() level (digest 6, 13.7)', () => {
  // Mutations: `b.weight > 0` -> `>= 0` in the single-backend shortcut; dropping the all-zero branch.
  it.each([
    ['its only backendRef', [to('a', 0)]],
    ['every backendRef', [to('a', 0), to('b', 0)]],
  ])('%s with weight 0: 500 all-weights-zero, never a forward', (_what, backendRefs) => {
    const gw = createGateway({ manifests: [gateway(), svc('a'), svc('b'), route('r', { rules: [{ backendRefs }] })], random: () => 0.5 });
    for (let i = 0; i < 20; i++) expect(gw.route(get('/'))).toMatchObject({ type: 'respond', status: 500, reason: 'all-weights-zero' });
    expect(gw.explain(get('/')).decision).toMatchObject({ type: 'respond', status: 500 });
  });

  it('a weight-0 backend next to a live one never receives traffic', () => {
    const gw = createGateway({ manifests: [gateway(), svc('a'), svc('b'), route('r', { rules: [{ backendRefs: [to('a', 0), to('b', 1)] }] })], random: () => 0 });
    for (let i = 0; i < 20; i++) expect(gw.route(get('/'))).toMatchObject({ type: 'forward', backend: { name: 'b' } });
  });
});

describe('*.example.com never serves the bare example.com at request time (digest 2.3)', () => {
  // Mutations: the suffix probe starting at the host itself ('.' + host); `>` -> `>=` in hostMatches.
  it.each([false, true])('a route hostname *.example.com (hostFallthrough %s): example.com goes to the route for any host', (hostFallthrough) => {
    const gw = createGateway({ manifests: [gateway(), svc('a'), svc('b'), route('wild', { hostnames: ['*.example.com'], rules: [{ backendRefs: [to('a')] }] }), route('any', { rules: [{ backendRefs: [to('b')] }] })], hostFallthrough });
    expect(gw.route(get('/', { host: 'example.com' }))).toMatchObject({ type: 'forward', route: { name: 'any' } });
    expect(gw.route(get('/', { host: 'Example.COM:80' }))).toMatchObject({ type: 'forward', route: { name: 'any' } });
    expect(gw.route(get('/', { host: 'a.example.com' }))).toMatchObject({ type: 'forward', route: { name: 'wild' } });
    expect(gw.route(get('/', { host: 'a.b.example.com' }))).toMatchObject({ type: 'forward', route: { name: 'wild' } });
    expect(gw.explain(get('/', { host: 'example.com' })).virtualHosts).toEqual([null]);
  });

  it('a listener hostname *.example.com: example.com finds no listener', () => {
    const gw = createGateway({ manifests: [gateway([{ name: 'wild', port: 80, protocol: 'HTTP', hostname: '*.example.com' }]), svc('a'), route('r', { rules: [{ backendRefs: [to('a')] }] })] });
    expect(gw.route(get('/', { host: 'example.com' }))).toMatchObject({ type: 'respond', status: 404, reason: 'no-listener' });
    expect(gw.route(get('/', { host: 'www.example.com' }))).toMatchObject({ type: 'forward' });
  });
});

describe('ExternalName Services are refused as backends (CVE-2021-25740, digest 6)', () => {
  // Mutation: deleting the ExternalName check in model/references.ts.
  it('ResolvedRefs=False/BackendNotFound naming the CVE, and the rule answers 500 instead of resolving the name', () => {
    const gw = createGateway({ manifests: [gateway(), svc('ext', { type: 'ExternalName', externalName: 'internal.corp.example', ports: [{ port: 80 }] }), route('r', { rules: [{ backendRefs: [to('ext')] }] })] });
    const resolved = gw.statusOf('HTTPRoute', 'r')!.status.parents[0]!.conditions.find((c) => c.type === 'ResolvedRefs');
    expect(resolved).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
    expect(resolved!.message).toContain('CVE-2021-25740');
    expect(gw.route(get('/'))).toMatchObject({ type: 'respond', status: 500 });
  });
});

describe('allowedRoutes.namespaces.from: Selector without a selector admits nothing (digest 1.3)', () => {
  // Mutation: `ns.selector !== undefined &&` dropped (an absent selector then matches everything).
  it('a route in the Gateway namespace and one in another are both NotAllowedByListeners', () => {
    const listeners = [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Selector' } } }];
    const other = { ...route('other', { parentRefs: [{ name: 'gw', namespace: 'default' }], rules: [{ backendRefs: [to('a')] }] }, { namespace: 'apps' }) };
    const gw = createGateway({ manifests: [gateway(listeners), svc('a'), route('same', { rules: [{ backendRefs: [to('a')] }] }), other, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps', labels: { team: 'x' } } }] });
    for (const [name, ns] of [['same', 'default'], ['other', 'apps']] as const) {
      expect(gw.statusOf('HTTPRoute', name, ns)!.status.parents[0]!.conditions.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'False', reason: 'NotAllowedByListeners' });
    }
    expect(gw.statusOf('Gateway', 'gw')!.status.listeners[0]!.attachedRoutes).toBe(0);
    expect(gw.route(get('/'))).toMatchObject({ type: 'respond', status: 404 });
  });
});

describe('a CORS allowOrigins of https://*.example.com does not allow https://.example.com (digest 7.6)', () => {
  // Mutation: `o.host.length > host.length - 1` -> `>=` in filters/cors.ts.
  const gw = createGateway({
    manifests: [gateway(), svc('a'), route('r', { rules: [{ filters: [{ type: 'CORS', cors: { allowOrigins: ['https://*.example.com'], allowMethods: ['GET'] } }], backendRefs: [to('a')] }] })],
  });
  const preflight = (origin: string) => gw.route({ method: 'OPTIONS', path: '/', headers: { origin, 'access-control-request-method': 'GET' } });
  it.each([
    ['https://.example.com', false],
    ['https://example.com', false],
    ['https://a.example.com', true],
  ])('%s -> allowed %s', (origin, allowed) => {
    const d = preflight(origin);
    expect(d.type).toBe('respond');
    const headers = d.type === 'respond' ? (d.headers ?? {}) : {};
    expect(headers['access-control-allow-origin']).toBe(allowed ? origin : undefined);
  });
});

describe("explain() names the deciding precedence key, for every key (digest 5.1, 5.3)", () => {
  // Mutation: any `deciding = '...'` label in ir/precedence.ts swapped or dropped.
  const ts = (day: number) => `2026-01-${String(day).padStart(2, '0')}T00:00:00Z`;
  const http = (name: string, matches: Obj[], opts: { day?: number; ns?: string; rules?: Obj[] } = {}) =>
    route(name, { parentRefs: [{ name: 'gw', namespace: 'default' }], rules: opts.rules ?? [{ matches, backendRefs: [{ name: 'a', port: 80, namespace: 'default' }] }] }, { creationTimestamp: ts(opts.day ?? 1), ...(opts.ns ? { namespace: opts.ns } : {}) });
  const listeners = [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }];
  const grant = { apiVersion: G, kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'default' }, spec: { from: [{ group: G.split('/')[0], kind: 'HTTPRoute', namespace: 'aaa' }, { group: G.split('/')[0], kind: 'GRPCRoute', namespace: 'default' }], to: [{ group: '', kind: 'Service' }] } };
  const lostOn = (manifests: Obj[], req: RouteRequest): (PrecedenceKey | undefined)[] => {
    const gw = createGateway({ manifests: [gateway(listeners), svc('a'), grant, ...manifests] });
    const e = gw.explain(req);
    expect(e.decision.type).toBe('forward');
    return e.candidates.filter((c) => c.outcome === 'lost').map((c) => c.lostOn);
  };
  const prefix = (value: string, extra: Obj = {}) => ({ path: { type: 'PathPrefix', value }, ...extra });

  it.each<[PrecedenceKey, Obj[], RouteRequest]>([
    ['path-type', [http('a', [{ path: { type: 'Exact', value: '/x' } }]), http('b', [prefix('/x')])], get('/x')],
    ['path-length', [http('a', [prefix('/x/y')]), http('b', [prefix('/x')])], get('/x/y')],
    ['method', [http('a', [prefix('/', { method: 'GET' })]), http('b', [prefix('/')])], get('/')],
    ['header-count', [http('a', [prefix('/', { headers: [{ name: 'h', value: '1' }] })]), http('b', [prefix('/')])], get('/', { headers: { h: '1' } })],
    ['query-count', [http('a', [prefix('/', { queryParams: [{ name: 'q', value: '1' }] })]), http('b', [prefix('/')])], get('/?q=1')],
    ['creation-timestamp', [http('b', [prefix('/')], { day: 1 }), http('a', [prefix('/')], { day: 2 })], get('/')],
    ['namespace-name', [http('a', [prefix('/')], { ns: 'aaa' }), http('a', [prefix('/')])], get('/')],
    ['rule-order', [http('a', [], { rules: [{ matches: [prefix('/')], backendRefs: [to('a')] }, { matches: [prefix('/')], backendRefs: [to('a')] }] })], get('/')],
    ['match-order', [http('a', [prefix('/'), prefix('/')])], get('/')],
  ])('%s', (key, manifests, req) => {
    expect(lostOn(manifests, req)).toEqual([key]);
  });

  const grpc = (name: string, method: Obj, headers: Obj[] = []): Obj => ({
    apiVersion: G,
    kind: 'GRPCRoute',
    metadata: { name, creationTimestamp: ts(1) },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ method, ...(headers.length ? { headers } : {}) }], backendRefs: [to('a')] }] },
  });
  const call = (headers: Record<string, string> = {}): RouteRequest => ({ method: 'POST', path: '/pkg.Svc/Get', headers: { 'content-type': 'application/grpc', ...headers } });

  it.each<[PrecedenceKey, Obj[], RouteRequest]>([
    ['grpc-service-length', [grpc('a', { service: 'pkg.Svc', method: 'Get' }), grpc('b', { method: 'Get' })], call()],
    ['grpc-method-length', [grpc('a', { service: 'pkg.Svc', method: 'Get' }), grpc('b', { service: 'pkg.Svc' })], call()],
    ['header-count', [grpc('a', { service: 'pkg.Svc', method: 'Get' }, [{ name: 'h', value: '1' }]), grpc('b', { service: 'pkg.Svc', method: 'Get' })], call({ h: '1' })],
  ])('GRPCRoute %s', (key, manifests, req) => {
    expect(lostOn(manifests, req)).toEqual([key]);
  });
});
