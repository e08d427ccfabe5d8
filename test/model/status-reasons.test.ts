// One test per status condition reason, each citing the spec digest rule it checks
// (the spec digest, sections 1.2, 1.3, 1.7, 2, 6 and 10). Everything goes through
// the public API: createGateway, then gw.status / gw.statusOf.
import { describe, expect, it } from 'vitest';
import { createGateway, DEFAULT_CONTROLLER_NAME, SUPPORTED_FEATURES } from '../../src/index.js';
import type { Condition, GatewayOptions, GatewayRouter, StatusObject } from '../../src/index.js';
import { cond, gatewayStatus, listenerStatus, onlyParent } from './status-helpers.js';
import { fixedTLSData } from '../support/fixed-cert.js';

// ---------------------------------------------------------------------------------------------
// Manifest helpers

type Obj = Record<string, unknown>;
const G = 'gateway.networking.k8s.io';
const NOW = () => new Date('2026-01-01T00:00:00Z');
const T0 = '2026-01-01T00:00:00.000Z';

const gatewayClass = (name = 'router', spec: Obj = {}, metadata: Obj = {}): Obj => ({
  apiVersion: `${G}/v1`,
  kind: 'GatewayClass',
  metadata: { name, ...metadata },
  spec: { controllerName: DEFAULT_CONTROLLER_NAME, ...spec },
});

const httpListener = (name = 'http', port = 80, extra: Obj = {}): Obj => ({ name, port, protocol: 'HTTP', ...extra });
const httpsListener = (name: string, port: number, certificateRef: Obj, extra: Obj = {}): Obj => ({
  name,
  port,
  protocol: 'HTTPS',
  tls: { mode: 'Terminate', certificateRefs: [certificateRef] },
  ...extra,
});

function gateway(listeners: Obj[], o: { name?: string; namespace?: string; className?: string; metadata?: Obj } = {}): Obj {
  return {
    apiVersion: `${G}/v1`,
    kind: 'Gateway',
    metadata: { name: o.name ?? 'gw', namespace: o.namespace ?? 'default', ...o.metadata },
    spec: { gatewayClassName: o.className ?? 'router', listeners },
  };
}

/** An HTTPRoute in `default` attached to default/gw with one rule sending to Service web:8080, unless overridden. */
function httpRoute(name: string, spec: Obj = {}, o: { namespace?: string; metadata?: Obj } = {}): Obj {
  return {
    apiVersion: `${G}/v1`,
    kind: 'HTTPRoute',
    metadata: { name, namespace: o.namespace ?? 'default', ...o.metadata },
    spec: { parentRefs: [{ name: 'gw', namespace: 'default' }], rules: [{ backendRefs: [{ name: 'web', port: 8080 }] }], ...spec },
  };
}

function service(name: string, ports: Obj[], namespace = 'default'): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports } };
}

function secret(name: string, namespace = 'default', type = 'kubernetes.io/tls'): Obj {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type, data: fixedTLSData() };
}

function referenceGrant(name: string, namespace: string, from: Obj[], to: Obj[]): Obj {
  return { apiVersion: `${G}/v1beta1`, kind: 'ReferenceGrant', metadata: { name, namespace }, spec: { from, to } };
}

/** Our GatewayClass and Service default/web:8080. */
const base = (): Obj[] => [gatewayClass(), service('web', [{ port: 8080 }])];

function make(manifests: Obj[] | string, options: Omit<GatewayOptions, 'manifests'> = {}): GatewayRouter {
  return createGateway({ now: NOW, ...options, manifests });
}

// ---------------------------------------------------------------------------------------------
// Status accessors






function classConditions(gw: GatewayRouter, name = 'router'): Condition[] {
  const s = gw.statusOf('GatewayClass', name);
  if (s?.kind !== 'GatewayClass') throw new Error(`no GatewayClass status for ${name}`);
  return s.status.conditions;
}

function allConditions(item: StatusObject): Condition[] {
  switch (item.kind) {
    case 'GatewayClass':
      return item.status.conditions;
    case 'Gateway':
    case 'ListenerSet':
      return [...item.status.conditions, ...item.status.listeners.flatMap((l) => l.conditions)];
    case 'BackendTLSPolicy':
      return item.status.ancestors.flatMap((a) => a.conditions);
    default:
      return item.status.parents.flatMap((p) => p.conditions);
  }
}

// ---------------------------------------------------------------------------------------------

describe('route parent status: Accepted (digest 2.2, 10.5)', () => {
  it('route Accepted=True Accepted and ResolvedRefs=True when a listener admits it and its backend resolves (digest 2.2 step 5, 10.5)', () => {
    const gw = make([...base(), gateway([httpListener()]), httpRoute('web')]);
    const p = onlyParent(gw, 'web');
    expect(p.parentRef).toMatchObject({ group: G, kind: 'Gateway', namespace: 'default', name: 'gw' });
    expect(p.controllerName).toBe(DEFAULT_CONTROLLER_NAME);
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(cond(p.conditions, 'ResolvedRefs')).toMatchObject({ status: 'True', reason: 'ResolvedRefs' });
  });

  it('a fully valid route carries no PartiallyInvalid condition (digest 10.5 "never set it for fully valid")', () => {
    const gw = make([...base(), gateway([httpListener()]), httpRoute('web')]);
    expect(onlyParent(gw, 'web').conditions.map((c) => c.type)).not.toContain('PartiallyInvalid');
  });

  it('route Accepted=False NotAllowedByListeners when from: Same and the route is in another namespace (digest 2.2 step 3)', () => {
    const gw = make([...base(), service('web', [{ port: 8080 }], 'other'), gateway([httpListener('http', 80, { allowedRoutes: { namespaces: { from: 'Same' } } })]), httpRoute('web', {}, { namespace: 'other' })]);
    const p = onlyParent(gw, 'web', 'other');
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'NotAllowedByListeners', message: expect.stringContaining('http') });
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(0);
  });

  it('route Accepted=False NoMatchingListenerHostname when no route hostname intersects a listener hostname (digest 2.2 step 4)', () => {
    const gw = make([...base(), gateway([httpListener('http', 80, { hostname: 'foo.example.com' })]), httpRoute('web', { hostnames: ['bar.example.com', '*.example.org'] })]);
    const p = onlyParent(gw, 'web');
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'NoMatchingListenerHostname', message: expect.stringContaining('bar.example.com') });
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(0);
  });

  it('route Accepted=False NoMatchingParent when sectionName names no listener (digest 2.2 step 2)', () => {
    const gw = make([...base(), gateway([httpListener()]), httpRoute('web', { parentRefs: [{ name: 'gw', sectionName: 'nope' }] })]);
    const p = onlyParent(gw, 'web');
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'NoMatchingParent', message: expect.stringContaining('nope') });
  });

  it('route Accepted=False NoMatchingParent when port matches no listener (digest 2.1 port, 2.2 step 2)', () => {
    const gw = make([...base(), gateway([httpListener()]), httpRoute('web', { parentRefs: [{ name: 'gw', port: 81 }] })]);
    const p = onlyParent(gw, 'web');
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'NoMatchingParent', message: expect.stringContaining('81') });
  });

  it('route Accepted=False NoMatchingParent when sectionName exists but listens on another port than parentRef.port (digest 2.1 "both set: must match both")', () => {
    const gw = make([...base(), gateway([httpListener('http', 80), httpListener('alt', 8080)]), httpRoute('web', { parentRefs: [{ name: 'gw', sectionName: 'http', port: 8080 }] })]);
    const p = onlyParent(gw, 'web');
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'NoMatchingParent' });
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(0);
    expect(listenerStatus(gw, 'alt').attachedRoutes).toBe(0);
  });

  it('route Accepted=False UnsupportedValue when every rule is invalid (only an ExternalAuth filter) and it is not counted (digest 10.5 "all rules invalid", 7.7)', () => {
    const extAuth = { type: 'ExternalAuth', externalAuth: { protocol: 'HTTP', backendRef: { name: 'auth', port: 9000 }, http: {} } };
    const gw = make([...base(), gateway([httpListener()]), httpRoute('web', { rules: [{ filters: [extAuth], backendRefs: [{ name: 'web', port: 8080 }] }] })]);
    const p = onlyParent(gw, 'web');
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'UnsupportedValue', message: expect.stringContaining('ExternalAuth') });
    expect(p.conditions.map((c) => c.type)).not.toContain('PartiallyInvalid');
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(0);
  });

  it('route Accepted=True with PartiallyInvalid=True UnsupportedValue "Dropped Rule…" when only some rules are invalid (digest 10.5 drop rules)', () => {
    const extAuth = { type: 'ExternalAuth', externalAuth: { protocol: 'HTTP', backendRef: { name: 'auth', port: 9000 }, http: {} } };
    const gw = make([
      ...base(),
      gateway([httpListener()]),
      httpRoute('web', {
        rules: [
          { backendRefs: [{ name: 'web', port: 8080 }] },
          { name: 'needs-auth', matches: [{ path: { type: 'PathPrefix', value: '/admin' } }], filters: [extAuth], backendRefs: [{ name: 'web', port: 8080 }] },
        ],
      }),
    ]);
    const p = onlyParent(gw, 'web');
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    const pi = cond(p.conditions, 'PartiallyInvalid');
    expect(pi).toMatchObject({ status: 'True', reason: 'UnsupportedValue' });
    expect(pi.message.startsWith('Dropped Rule')).toBe(true);
    expect(pi.message).toContain('needs-auth');
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(1);
  });

  it('route Accepted=False IncompatibleFilters when one header name is in both set and remove of a header modifier (digest 7.2, 10.5)', () => {
    const filter = { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Env', value: 'prod' }], remove: ['X-Env'] } };
    const gw = make([...base(), gateway([httpListener()]), httpRoute('web', { rules: [{ filters: [filter], backendRefs: [{ name: 'web', port: 8080 }] }] })]);
    const p = onlyParent(gw, 'web');
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'IncompatibleFilters', message: expect.stringContaining('X-Env') });
  });

  it('route Accepted=False IncompatibleFilters when the header names differ only in case (digest 7.2 "names are case-insensitive everywhere")', () => {
    const filter = { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'X-Env', value: 'a' }], remove: ['x-env'] } };
    const gw = make([...base(), gateway([httpListener()]), httpRoute('web', { rules: [{ filters: [filter], backendRefs: [{ name: 'web', port: 8080 }] }] })]);
    expect(cond(onlyParent(gw, 'web').conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'IncompatibleFilters' });
  });
});

describe('route parent status: ResolvedRefs (digest 6, 1.7, 10.5)', () => {
  const crossNsRoute = (extra: Obj[] = []): Obj[] => [
    ...base(),
    service('web', [{ port: 8080 }], 'backends'),
    gateway([httpListener()]),
    httpRoute('web', { rules: [{ backendRefs: [{ name: 'web', namespace: 'backends', port: 8080 }] }] }),
    ...extra,
  ];
  const routeFrom = { group: G, kind: 'HTTPRoute', namespace: 'default' };
  const serviceTo = { group: '', kind: 'Service', name: 'web' };

  it('route ResolvedRefs=False RefNotPermitted for a cross-namespace Service without ReferenceGrant (digest 1.7, 6)', () => {
    const p = onlyParent(make(crossNsRoute()), 'web');
    expect(cond(p.conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'RefNotPermitted', message: expect.stringContaining('backends') });
  });

  it('RefNotPermitted is reported before existence and the message does not reveal whether the Service exists (digest 1.7, 6 "checked before existence")', () => {
    const withService = cond(onlyParent(make(crossNsRoute()), 'web').conditions, 'ResolvedRefs');
    const without = make([...base(), gateway([httpListener()]), httpRoute('web', { rules: [{ backendRefs: [{ name: 'web', namespace: 'backends', port: 8080 }] }] })]);
    const withoutService = cond(onlyParent(without, 'web').conditions, 'ResolvedRefs');
    expect(withoutService).toMatchObject({ status: 'False', reason: 'RefNotPermitted' });
    expect(withoutService.message).toBe(withService.message);
  });

  it.each<[string, Obj]>([
    ['from-group is wrong', referenceGrant('g', 'backends', [{ ...routeFrom, group: 'example.com' }], [serviceTo])],
    ['from-kind is wrong (Gateway)', referenceGrant('g', 'backends', [{ ...routeFrom, kind: 'Gateway' }], [serviceTo])],
    ['from-namespace is wrong', referenceGrant('g', 'backends', [{ ...routeFrom, namespace: 'elsewhere' }], [serviceTo])],
    ['to-group is wrong', referenceGrant('g', 'backends', [routeFrom], [{ ...serviceTo, group: 'example.com' }])],
    ['to-kind is wrong (Secret)', referenceGrant('g', 'backends', [routeFrom], [{ ...serviceTo, kind: 'Secret' }])],
    ['to-name is wrong', referenceGrant('g', 'backends', [routeFrom], [{ ...serviceTo, name: 'not-web' }])],
    ['the grant is in the route namespace instead of the target namespace', referenceGrant('g', 'default', [routeFrom], [serviceTo])],
  ])('route ResolvedRefs=False RefNotPermitted when the ReferenceGrant %s (digest 1.7 "matching is exact on all fields")', (_what, grant) => {
    const p = onlyParent(make(crossNsRoute([grant])), 'web');
    expect(cond(p.conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'RefNotPermitted' });
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'True' });
  });

  it('route ResolvedRefs=True with a ReferenceGrant in the target namespace naming the Service (digest 1.7)', () => {
    const p = onlyParent(make(crossNsRoute([referenceGrant('g', 'backends', [routeFrom], [serviceTo])])), 'web');
    expect(cond(p.conditions, 'ResolvedRefs')).toMatchObject({ status: 'True', reason: 'ResolvedRefs' });
  });

  it('route ResolvedRefs=True with a ReferenceGrant without to.name (every Service of the namespace) (digest 1.7 "absent name")', () => {
    const p = onlyParent(make(crossNsRoute([referenceGrant('g', 'backends', [routeFrom], [{ group: '', kind: 'Service' }])])), 'web');
    expect(cond(p.conditions, 'ResolvedRefs')).toMatchObject({ status: 'True', reason: 'ResolvedRefs' });
  });

  it('removing the ReferenceGrant revokes access: ResolvedRefs goes back to RefNotPermitted on reload (digest 1.7 "removing a grant MUST revoke")', () => {
    const gw = make(crossNsRoute([referenceGrant('g', 'backends', [routeFrom], [serviceTo])]));
    expect(cond(onlyParent(gw, 'web').conditions, 'ResolvedRefs').status).toBe('True');
    expect(gw.reload(crossNsRoute()).ok).toBe(true);
    expect(cond(onlyParent(gw, 'web').conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'RefNotPermitted' });
  });

  it('route ResolvedRefs=False RefNotPermitted for a cross-namespace RequestMirror backendRef without grant (digest 1.7 "incl. RequestMirror backendRefs")', () => {
    const mirror = { type: 'RequestMirror', requestMirror: { backendRef: { name: 'web', namespace: 'backends', port: 8080 } } };
    const gw = make([...base(), service('web', [{ port: 8080 }], 'backends'), gateway([httpListener()]), httpRoute('web', { rules: [{ filters: [mirror], backendRefs: [{ name: 'web', port: 8080 }] }] })]);
    expect(cond(onlyParent(gw, 'web').conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'RefNotPermitted' });
  });

  it.each<[string, Obj]>([
    ['kind ConfigMap', { group: '', kind: 'ConfigMap', name: 'web' }],
    ['group example.com', { group: 'example.com', kind: 'Service', name: 'web', port: 8080 }],
  ])('route ResolvedRefs=False InvalidKind for a backendRef of %s (digest 6 "unknown group/kind")', (what, ref) => {
    const gw = make([...base(), gateway([httpListener()]), httpRoute('web', { rules: [{ backendRefs: [ref] }] })]);
    const p = onlyParent(gw, 'web');
    expect(cond(p.conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'InvalidKind', message: expect.stringContaining(what.split(' ')[1]!) });
  });

  it('route ResolvedRefs=False BackendNotFound when the Service is missing (digest 6 "referent missing")', () => {
    const gw = make([gatewayClass(), gateway([httpListener()]), httpRoute('web', { rules: [{ backendRefs: [{ name: 'missing', port: 8080 }] }] })]);
    expect(cond(onlyParent(gw, 'web').conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'BackendNotFound', message: expect.stringContaining('missing') });
  });

  it('route ResolvedRefs=False BackendNotFound when the Service has no such port (digest 6 "port is the Service port")', () => {
    const gw = make([...base(), gateway([httpListener()]), httpRoute('web', { rules: [{ backendRefs: [{ name: 'web', port: 9090 }] }] })]);
    expect(cond(onlyParent(gw, 'web').conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'BackendNotFound', message: expect.stringContaining('9090') });
  });

  it.each(['kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss'])('a Service port with appProtocol %s resolves, and the decision names the protocol (digest 6, GEP-1911)', (appProtocol) => {
    const gw = make([gatewayClass(), service('web', [{ port: 8080, appProtocol }]), gateway([httpListener()]), httpRoute('web')]);
    expect(cond(onlyParent(gw, 'web').conditions, 'ResolvedRefs')).toMatchObject({ status: 'True', reason: 'ResolvedRefs' });
    const d = gw.route({ method: 'GET', path: '/' });
    expect(d.type === 'forward' ? d.backend.appProtocol : d).toBe(appProtocol);
  });

  it('invalid backends do not make the route un-Accepted, and it still counts as attached (digest 6, 10.5)', () => {
    const gw = make([gatewayClass(), gateway([httpListener()]), httpRoute('web', { rules: [{ backendRefs: [{ name: 'missing', port: 8080 }, { name: 'x', kind: 'ConfigMap', group: '' }] }] })]);
    const p = onlyParent(gw, 'web');
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(cond(p.conditions, 'ResolvedRefs').status).toBe('False');
    expect(p.conditions.map((c) => c.type)).not.toContain('PartiallyInvalid');
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(1);
  });
});

describe('HTTPRoute and GRPCRoute sharing a listener (digest 2.2 step 7, grpcroute_types.go Hostnames)', () => {
  const grpcRoute = (name: string, spec: Obj = {}, created?: string): Obj => ({
    apiVersion: `${G}/v1`,
    kind: 'GRPCRoute',
    metadata: { name, namespace: 'default', ...(created ? { creationTimestamp: created } : {}) },
    spec: { parentRefs: [{ name: 'gw', namespace: 'default' }], rules: [{ backendRefs: [{ name: 'web', port: 8080 }] }], ...spec },
  });
  const grpcParent = (gw: GatewayRouter, name: string) => {
    const s = gw.statusOf('GRPCRoute', name, 'default');
    if (s?.kind !== 'GRPCRoute') throw new Error(`no GRPCRoute status for ${name}`);
    expect(s.status.parents).toHaveLength(1);
    return s.status.parents[0]!;
  };

  it('intersecting hostnames: the older route is accepted, the younger gets Accepted=False HostnameConflict and serves nothing', () => {
    const gw = make([
      ...base(),
      gateway([httpListener()]),
      httpRoute('web', { hostnames: ['*.example.com'] }, { metadata: { creationTimestamp: '2025-01-01T00:00:00Z' } }),
      grpcRoute('rpc', { hostnames: ['api.example.com'] }, '2025-06-01T00:00:00Z'),
    ]);
    expect(cond(onlyParent(gw, 'web').conditions, 'Accepted')).toMatchObject({ status: 'True' });
    expect(cond(grpcParent(gw, 'rpc').conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'HostnameConflict', message: expect.stringContaining('HTTPRoute default/web') });
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(1);
    const call = gw.route({ method: 'POST', path: '/pkg.Svc/Get', host: 'api.example.com', headers: { 'content-type': 'application/grpc' } });
    expect(call.type === 'forward' ? call.route.kind : call.type).toBe('HTTPRoute');
  });

  it('the older GRPCRoute wins over a younger HTTPRoute; equal ages fall back to namespace/name', () => {
    const older = make([...base(), gateway([httpListener()]), grpcRoute('rpc', {}, '2025-01-01T00:00:00Z'), httpRoute('web', {}, { metadata: { creationTimestamp: '2025-06-01T00:00:00Z' } })]);
    expect(cond(grpcParent(older, 'rpc').conditions, 'Accepted').status).toBe('True');
    expect(cond(onlyParent(older, 'web').conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'HostnameConflict' });
    const tie = make([...base(), gateway([httpListener()]), grpcRoute('b-rpc', {}, T0), httpRoute('a-web', {}, { metadata: { creationTimestamp: T0 } })]);
    expect(cond(onlyParent(tie, 'a-web').conditions, 'Accepted').status).toBe('True');
    expect(cond(grpcParent(tie, 'b-rpc').conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'HostnameConflict' });
  });

  it('disjoint hostnames, or different listeners: both are accepted', () => {
    const gw = make([...base(), gateway([httpListener()]), httpRoute('web', { hostnames: ['www.example.com'] }), grpcRoute('rpc', { hostnames: ['api.example.com'] })]);
    expect(cond(onlyParent(gw, 'web').conditions, 'Accepted').status).toBe('True');
    expect(cond(grpcParent(gw, 'rpc').conditions, 'Accepted').status).toBe('True');
    const two = make([
      ...base(),
      gateway([httpListener('web', 80, { hostname: 'www.example.com' }), httpListener('rpc', 80, { hostname: 'api.example.com' })]),
      httpRoute('web', { parentRefs: [{ name: 'gw', sectionName: 'web' }] }),
      grpcRoute('rpc', { parentRefs: [{ name: 'gw', sectionName: 'rpc' }] }),
    ]);
    expect(cond(onlyParent(two, 'web').conditions, 'Accepted').status).toBe('True');
    expect(cond(grpcParent(two, 'rpc').conditions, 'Accepted').status).toBe('True');
  });
});

describe('listener and Gateway status (digest 1.3, 10.3, 10.4)', () => {
  it.each(['TCP', 'UDP'])('listener Accepted=False UnsupportedProtocol for protocol %s, Gateway Accepted=True ListenersNotValid when another listener is valid (digest 1.3, 10.3)', (protocol) => {
    const gw = make([...base(), gateway([httpListener(), { name: 'raw', port: 9000, protocol }])]);
    expect(cond(listenerStatus(gw, 'raw').conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'UnsupportedProtocol', message: expect.stringContaining(protocol) });
    expect(cond(listenerStatus(gw, 'http').conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(cond(gatewayStatus(gw).conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'ListenersNotValid', message: expect.stringContaining('raw') });
  });

  it('Gateway Accepted=False ListenersNotValid when no listener is valid (digest 1.3 "zero valid listeners", 10.3)', () => {
    const gw = make([...base(), gateway([{ name: 'tcp', port: 9000, protocol: 'TCP' }, { name: 'udp', port: 9001, protocol: 'UDP' }])]);
    expect(cond(gatewayStatus(gw).conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'ListenersNotValid' });
    expect(cond(gatewayStatus(gw).conditions, 'Programmed')).toMatchObject({ status: 'False' });
  });

  it('listener ResolvedRefs=False InvalidRouteKinds and supportedKinds [] for kinds [InvalidRoute] (digest 1.3 allowedRoutes.kinds, 10.4)', () => {
    const gw = make([...base(), gateway([httpListener('http', 80, { allowedRoutes: { namespaces: { from: 'All' }, kinds: [{ kind: 'InvalidRoute' }] } })])]);
    const l = listenerStatus(gw, 'http');
    expect(l.supportedKinds).toEqual([]);
    expect(cond(l.conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'InvalidRouteKinds', message: expect.stringContaining('InvalidRoute') });
  });

  it('listener ResolvedRefs=False InvalidRouteKinds and supportedKinds [HTTPRoute] for kinds [InvalidRoute, HTTPRoute] (digest 1.3, 10.4)', () => {
    const gw = make([...base(), gateway([httpListener('http', 80, { allowedRoutes: { namespaces: { from: 'All' }, kinds: [{ kind: 'InvalidRoute' }, { kind: 'HTTPRoute' }] } })])]);
    const l = listenerStatus(gw, 'http');
    expect(l.supportedKinds).toEqual([{ group: G, kind: 'HTTPRoute' }]);
    expect(cond(l.conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'InvalidRouteKinds' });
  });

  it('HTTPS listener with a missing Secret: ResolvedRefs=False InvalidCertificateRef, Programmed=False, attachedRoutes still counts (digest 2.2 step 6, 10.4)', () => {
    const gw = make([...base(), gateway([httpsListener('https', 443, { name: 'does-not-exist' })]), httpRoute('web', { parentRefs: [{ name: 'gw', sectionName: 'https' }] })]);
    const l = listenerStatus(gw, 'https');
    expect(cond(l.conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'InvalidCertificateRef', message: expect.stringContaining('does-not-exist') });
    expect(cond(l.conditions, 'Programmed')).toMatchObject({ status: 'False' });
    expect(l.attachedRoutes).toBe(1);
    expect(cond(onlyParent(gw, 'web').conditions, 'Accepted').status).toBe('True');
  });

  it('HTTPS listener with a valid Secret in its namespace: ResolvedRefs=True, Programmed=True (digest 1.3 certificateRefs, 10.4)', () => {
    const gw = make([...base(), secret('cert'), gateway([httpsListener('https', 443, { name: 'cert' })])]);
    const l = listenerStatus(gw, 'https');
    expect(cond(l.conditions, 'ResolvedRefs')).toMatchObject({ status: 'True', reason: 'ResolvedRefs' });
    expect(cond(l.conditions, 'Programmed')).toMatchObject({ status: 'True', reason: 'Programmed' });
  });

  it('listener ResolvedRefs=False RefNotPermitted for a cross-namespace certificateRef without ReferenceGrant (digest 1.7, 10.4)', () => {
    const gw = make([...base(), secret('cert', 'certs'), gateway([httpsListener('https', 443, { name: 'cert', namespace: 'certs' })])]);
    const l = listenerStatus(gw, 'https');
    expect(cond(l.conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'RefNotPermitted', message: expect.stringContaining('certs') });
    expect(cond(l.conditions, 'Programmed').status).toBe('False');
  });

  it('listener ResolvedRefs=True for a cross-namespace certificateRef with a ReferenceGrant from Gateway to Secret (digest 1.7 Core uses)', () => {
    const grant = referenceGrant('certs-for-gateways', 'certs', [{ group: G, kind: 'Gateway', namespace: 'default' }], [{ group: '', kind: 'Secret', name: 'cert' }]);
    const gw = make([...base(), secret('cert', 'certs'), grant, gateway([httpsListener('https', 443, { name: 'cert', namespace: 'certs' })])]);
    const l = listenerStatus(gw, 'https');
    expect(cond(l.conditions, 'ResolvedRefs')).toMatchObject({ status: 'True', reason: 'ResolvedRefs' });
    expect(cond(l.conditions, 'Programmed').status).toBe('True');
  });

  it('listener ResolvedRefs=False InvalidCertificateRef for a Secret that is not of type kubernetes.io/tls (digest 1.3, 10.4 "malformed data")', () => {
    const gw = make([...base(), secret('cert', 'default', 'Opaque'), gateway([httpsListener('https', 443, { name: 'cert' })])]);
    expect(cond(listenerStatus(gw, 'https').conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'InvalidCertificateRef', message: expect.stringContaining('kubernetes.io/tls') });
  });

  it('HTTP and HTTPS listeners on one port: Conflicted=True ProtocolConflict on both, no winner (digest 1.3 distinctness, 10.4)', () => {
    const gw = make([...base(), secret('cert'), gateway([httpListener('http', 8443), httpsListener('https', 8443, { name: 'cert' })])]);
    for (const name of ['http', 'https']) {
      expect(cond(listenerStatus(gw, name).conditions, 'Conflicted')).toMatchObject({ status: 'True', reason: 'ProtocolConflict' });
      expect(cond(listenerStatus(gw, name).conditions, 'Programmed').status).toBe('False');
    }
    expect(cond(gatewayStatus(gw).conditions, 'Accepted')).toMatchObject({ status: 'False', reason: 'ListenersNotValid' });
  });

  it('listeners without conflicts carry Conflicted=False NoConflicts (digest 10.4)', () => {
    const gw = make([...base(), gateway([httpListener('http', 80), httpListener('alt', 8080)])]);
    expect(cond(listenerStatus(gw, 'http').conditions, 'Conflicted')).toMatchObject({ status: 'False', reason: 'NoConflicts' });
  });

  it('two HTTPS listeners on one port with foo.example.com and *.example.com: OverlappingTLSConfig=True OverlappingHostnames on both (digest 1.3)', () => {
    const gw = make([
      ...base(),
      secret('cert'),
      gateway([
        httpsListener('foo', 443, { name: 'cert' }, { hostname: 'foo.example.com' }),
        httpsListener('wild', 443, { name: 'cert' }, { hostname: '*.example.com' }),
        httpsListener('other', 443, { name: 'cert' }, { hostname: 'other.example.org' }),
      ]),
    ]);
    for (const name of ['foo', 'wild']) {
      expect(cond(listenerStatus(gw, name).conditions, 'OverlappingTLSConfig')).toMatchObject({ status: 'True', reason: 'OverlappingHostnames' });
    }
    // Negative polarity: never set to False, so a listener without overlap has no such condition.
    expect(listenerStatus(gw, 'other').conditions.map((c) => c.type)).not.toContain('OverlappingTLSConfig');
  });

  it('a valid Gateway is Accepted=True Accepted and Programmed=True Programmed (digest 10.3)', () => {
    const gw = make([...base(), gateway([httpListener()])]);
    expect(cond(gatewayStatus(gw).conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(cond(gatewayStatus(gw).conditions, 'Programmed')).toMatchObject({ status: 'True', reason: 'Programmed' });
    expect(cond(listenerStatus(gw, 'http').conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
  });
});

describe('GatewayClass status (digest 1.2, 10.2)', () => {
  it('GatewayClass with our controllerName: Accepted=True Accepted and supportedFeatures sorted by name (digest 1.2)', () => {
    const gw = make([...base(), gateway([httpListener()])]);
    const s = gw.statusOf('GatewayClass', 'router');
    if (s?.kind !== 'GatewayClass') throw new Error('no GatewayClass status');
    expect(cond(s.status.conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    const names = (s.status.supportedFeatures ?? []).map((f) => f.name);
    expect(names).toEqual([...SUPPORTED_FEATURES].sort());
    expect(names).toEqual([...names].sort());
    expect(names).toContain('HTTPRoute');
  });

  it('GatewayClass with a parametersRef: Accepted=False InvalidParameters, and its Gateways are not served (digest 1.2, 10.2)', () => {
    const gw = make([
      ...base(),
      gatewayClass('with-params', { parametersRef: { group: 'example.com', kind: 'Config', name: 'cfg' } }),
      gateway([httpListener()]),
      gateway([httpListener()], { name: 'gw-params', className: 'with-params' }),
    ]);
    expect(cond(classConditions(gw, 'with-params'), 'Accepted')).toMatchObject({ status: 'False', reason: 'InvalidParameters', message: expect.stringContaining('parametersRef') });
    expect(gw.statusOf('Gateway', 'gw-params')).toBeUndefined();
  });

  it('GatewayClass of another controller gets no status (digest 1.2 "other classes are ignored entirely")', () => {
    const gw = make([...base(), gatewayClass('theirs', { controllerName: 'example.com/other-controller' }), gateway([httpListener()])]);
    expect(gw.statusOf('GatewayClass', 'theirs')).toBeUndefined();
    expect(gw.status.items.filter((i) => i.kind === 'GatewayClass').map((i) => i.metadata.name)).toEqual(['router']);
  });

  it('with no GatewayClass in the manifests any gatewayClassName is served, e.g. cilium (library rule, digest 1.2 in-process mapping)', () => {
    const gw = make(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: my-gateway
spec:
  gatewayClassName: cilium
  listeners:
  - protocol: HTTP
    port: 80
    name: web-gw
`);
    expect(gw.gatewayKey).toBe('default/my-gateway');
    expect(cond(gatewayStatus(gw, 'my-gateway').conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(gw.status.items.filter((i) => i.kind === 'GatewayClass')).toEqual([]);
  });
});

describe('status shape (digest 10.1)', () => {
  const manifests = (): Obj[] => [
    gatewayClass('router', {}, { generation: 2 }),
    service('web', [{ port: 8080 }]),
    gateway([httpListener()], { metadata: { generation: 7 } }),
    httpRoute('web', {}, { metadata: { generation: 3 } }),
    httpRoute('plain', { rules: [{ backendRefs: [{ name: 'missing', port: 8080 }] }] }),
  ];

  it('every condition has type, status, reason, a capitalised message ending with a period, an ISO lastTransitionTime and observedGeneration (digest 10.1)', () => {
    const gw = make(manifests());
    const conditions = gw.status.items.flatMap(allConditions);
    expect(conditions.length).toBeGreaterThan(8);
    for (const c of conditions) {
      expect(Object.keys(c).sort()).toEqual(['lastTransitionTime', 'message', 'observedGeneration', 'reason', 'status', 'type']);
      expect(['True', 'False', 'Unknown']).toContain(c.status);
      expect(c.type).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(c.reason).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(c.message).toMatch(/^[A-Z]/);
      expect(c.message).toMatch(/\.$/);
      expect(c.lastTransitionTime).toBe(T0);
      expect(new Date(c.lastTransitionTime).toISOString()).toBe(c.lastTransitionTime);
    }
  });

  it('conditions are not duplicated by type within one list (digest 10.1 "merge by type, never duplicate")', () => {
    const gw = make(manifests());
    for (const item of gw.status.items) {
      const lists: Condition[][] =
        item.kind === 'GatewayClass' ? [item.status.conditions] : item.kind === 'Gateway' || item.kind === 'ListenerSet' ? [item.status.conditions, ...item.status.listeners.map((l) => l.conditions)] : 'parents' in item.status ? item.status.parents.map((p) => p.conditions) : item.status.ancestors.map((a) => a.conditions);
      for (const list of lists) expect(new Set(list.map((c) => c.type)).size).toBe(list.length);
    }
  });

  it('observedGeneration equals metadata.generation of each object, default 1 (digest 10.1)', () => {
    const gw = make(manifests());
    for (const c of classConditions(gw)) expect(c.observedGeneration).toBe(2);
    for (const c of gatewayStatus(gw).conditions) expect(c.observedGeneration).toBe(7);
    for (const c of listenerStatus(gw, 'http').conditions) expect(c.observedGeneration).toBe(7);
    for (const c of onlyParent(gw, 'web').conditions) expect(c.observedGeneration).toBe(3);
    for (const c of onlyParent(gw, 'plain').conditions) expect(c.observedGeneration).toBe(1);
    for (const item of gw.status.items) {
      const expected = item.metadata.name === 'router' ? 2 : item.metadata.name === 'gw' ? 7 : item.metadata.name === 'web' ? 3 : 1;
      expect(item.metadata.generation).toBe(expected);
    }
  });

  it('reload with identical manifests and a later clock keeps every lastTransitionTime (digest 10.1, metav1.Condition)', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const gw = make(manifests(), { now: () => now });
    const before = JSON.stringify(gw.status);
    now = new Date('2026-01-02T00:00:00Z');
    expect(gw.reload(manifests()).ok).toBe(true);
    expect(JSON.stringify(gw.status)).toBe(before);
  });

  it('reload where a condition changes status gives that condition the new lastTransitionTime and keeps the others (digest 10.1, metav1.Condition)', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const gw = make(manifests(), { now: () => now });
    now = new Date('2026-01-02T00:00:00Z');
    const changed = manifests().filter((m) => m['kind'] !== 'Service');
    expect(gw.reload(changed).ok).toBe(true);
    const p = onlyParent(gw, 'web');
    expect(cond(p.conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'BackendNotFound', lastTransitionTime: '2026-01-02T00:00:00.000Z' });
    expect(cond(p.conditions, 'Accepted')).toMatchObject({ status: 'True', lastTransitionTime: T0 });
    expect(cond(gatewayStatus(gw).conditions, 'Accepted').lastTransitionTime).toBe(T0);
    // The other route's ResolvedRefs was already False/BackendNotFound: unchanged.
    expect(cond(onlyParent(gw, 'plain').conditions, 'ResolvedRefs').lastTransitionTime).toBe(T0);
  });

  it('reload with a bumped generation updates observedGeneration but not lastTransitionTime of unchanged conditions (digest 10.1)', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const gw = make(manifests(), { now: () => now });
    now = new Date('2026-01-02T00:00:00Z');
    const bumped = manifests().map((m) => (m['kind'] === 'HTTPRoute' && (m['metadata'] as Obj)['name'] === 'web' ? httpRoute('web', {}, { metadata: { generation: 4 } }) : m));
    expect(gw.reload(bumped).ok).toBe(true);
    const accepted = cond(onlyParent(gw, 'web').conditions, 'Accepted');
    expect(accepted).toMatchObject({ observedGeneration: 4, lastTransitionTime: T0 });
  });

  it('a failed reload (bad YAML) returns { ok: false } and leaves status unchanged (library rule: reload is atomic)', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const gw = make(manifests(), { now: () => now });
    const before = gw.status;
    const json = JSON.stringify(before);
    now = new Date('2026-01-02T00:00:00Z');
    const result = gw.reload('kind: HTTPRoute\nmetadata: [unclosed\n  name: x: y\n');
    expect(result.ok).toBe(false);
    if (result.ok) throw new Error('unreachable');
    expect(result.error.code).toBe('GW_ERR_CONFIG_INVALID');
    expect(gw.status).toBe(before);
    expect(JSON.stringify(gw.status)).toBe(json);
  });
});
