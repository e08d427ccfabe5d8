// Route-to-listener attachment, attachedRoutes counting and the choice of the served Gateway,
// each test citing the spec digest rule it checks (the spec digest, sections
// 1.2, 1.3, 2.1, 2.2 and 2.4). Everything goes through the public API.
import { describe, expect, it } from 'vitest';
import { createGateway, DEFAULT_CONTROLLER_NAME, GatewayError, isGatewayError } from '../../src/index.js';
import type { GatewayOptions, GatewayRouter } from '../../src/index.js';
import { accepted, cond, listenerStatus, onlyParent, routeParents } from './status-helpers.js';

// ---------------------------------------------------------------------------------------------
// Manifest helpers

type Obj = Record<string, unknown>;
const G = 'gateway.networking.k8s.io';
const NOW = () => new Date('2026-01-01T00:00:00Z');

const gatewayClass = (name = 'router', controllerName = DEFAULT_CONTROLLER_NAME): Obj => ({ apiVersion: `${G}/v1`, kind: 'GatewayClass', metadata: { name }, spec: { controllerName } });

const httpListener = (name = 'http', port = 80, extra: Obj = {}): Obj => ({ name, port, protocol: 'HTTP', ...extra });
const fromAll = { namespaces: { from: 'All' } };

function gateway(listeners: Obj[], o: { name?: string; namespace?: string; className?: string } = {}): Obj {
  return { apiVersion: `${G}/v1`, kind: 'Gateway', metadata: { name: o.name ?? 'gw', namespace: o.namespace ?? 'default' }, spec: { gatewayClassName: o.className ?? 'router', listeners } };
}

/** An HTTPRoute attached to default/gw with one rule sending to Service web:8080 of its namespace, unless overridden. */
function httpRoute(name: string, spec: Obj = {}, namespace = 'default'): Obj {
  return {
    apiVersion: `${G}/v1`,
    kind: 'HTTPRoute',
    metadata: { name, namespace },
    spec: { parentRefs: [{ name: 'gw', namespace: 'default' }], rules: [{ backendRefs: [{ name: 'web', port: 8080 }] }], ...spec },
  };
}

const service = (namespace = 'default'): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace }, spec: { ports: [{ port: 8080 }] } });

const namespaceObj = (name: string, labels?: Record<string, string>): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels ? { labels } : {}) } });

function make(manifests: Obj[] | string, options: Omit<GatewayOptions, 'manifests'> = {}): GatewayRouter {
  return createGateway({ now: NOW, ...options, manifests });
}

// ---------------------------------------------------------------------------------------------
// Status accessors







/** Gateway default/gw with one HTTP listener using `allowedRoutes`, and a route `app` in namespace `apps`. */
function selectorScenario(allowedRoutes: Obj, extra: Obj[] = []): GatewayRouter {
  return make([gatewayClass(), service('apps'), gateway([httpListener('http', 80, { allowedRoutes })]), httpRoute('app', {}, 'apps'), ...extra]);
}

// ---------------------------------------------------------------------------------------------

describe('allowedRoutes.namespaces (digest 1.3, 2.2 step 3)', () => {
  it('from: Same (the default) admits a route in the Gateway namespace (digest 1.3 allowedRoutes default)', () => {
    const gw = make([gatewayClass(), service(), gateway([httpListener()]), httpRoute('app')]);
    expect(accepted(onlyParent(gw, 'app'))).toMatchObject({ status: 'True', reason: 'Accepted' });
  });

  it('from: Same (the default) rejects a route in another namespace with NotAllowedByListeners (digest 1.3 default, 2.2 step 3)', () => {
    const gw = make([gatewayClass(), service('apps'), gateway([httpListener()]), httpRoute('app', {}, 'apps')]);
    expect(accepted(onlyParent(gw, 'app', 'apps'))).toMatchObject({ status: 'False', reason: 'NotAllowedByListeners' });
  });

  it('from: All admits a route in any namespace; a cross-namespace parentRef needs no ReferenceGrant (digest 2.2 step 3, 1.7)', () => {
    const gw = selectorScenario(fromAll);
    expect(accepted(onlyParent(gw, 'app', 'apps'))).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(1);
  });

  it('from: Selector with matchLabels admits a route whose Namespace carries the labels (digest 1.3 "LabelSelector over Namespace labels")', () => {
    const gw = selectorScenario({ namespaces: { from: 'Selector', selector: { matchLabels: { team: 'shop' } } } }, [namespaceObj('apps', { team: 'shop', env: 'prod' })]);
    expect(accepted(onlyParent(gw, 'app', 'apps'))).toMatchObject({ status: 'True' });
  });

  it('from: Selector with matchLabels rejects a route whose Namespace lacks a label value with NotAllowedByListeners (digest 1.3, 2.2 step 3)', () => {
    const gw = selectorScenario({ namespaces: { from: 'Selector', selector: { matchLabels: { team: 'shop' } } } }, [namespaceObj('apps', { team: 'blog' })]);
    expect(accepted(onlyParent(gw, 'app', 'apps'))).toMatchObject({ status: 'False', reason: 'NotAllowedByListeners' });
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(0);
  });

  it('from: Selector matches labels of the route Namespace, not of the route (digest 1.3 "over Namespace labels")', () => {
    const route = httpRoute('app', {}, 'apps');
    (route['metadata'] as Obj)['labels'] = { team: 'shop' };
    const gw = make([gatewayClass(), service('apps'), namespaceObj('apps'), gateway([httpListener('http', 80, { allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { team: 'shop' } } } } })]), route]);
    expect(accepted(onlyParent(gw, 'app', 'apps'))).toMatchObject({ status: 'False', reason: 'NotAllowedByListeners' });
  });

  it('from: Selector matches the implied kubernetes.io/metadata.name label even when the Namespace is not in the manifests (digest 1.3; conformance gateway-with-attached-routes)', () => {
    const allowed = { namespaces: { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': 'apps' } } } };
    expect(accepted(onlyParent(selectorScenario(allowed), 'app', 'apps'))).toMatchObject({ status: 'True' });
    expect(accepted(onlyParent(selectorScenario(allowed, [namespaceObj('apps', { team: 'shop' })]), 'app', 'apps'))).toMatchObject({ status: 'True' });
  });

  it('from: Selector on kubernetes.io/metadata.name rejects other namespaces (digest 1.3, 2.2 step 3)', () => {
    const gw = selectorScenario({ namespaces: { from: 'Selector', selector: { matchLabels: { 'kubernetes.io/metadata.name': 'default' } } } });
    expect(accepted(onlyParent(gw, 'app', 'apps'))).toMatchObject({ status: 'False', reason: 'NotAllowedByListeners' });
  });

  const labelled = [namespaceObj('apps', { team: 'shop', tier: 'web' })];
  it.each<[string, 'True' | 'False', Obj]>([
    ['In, value listed', 'True', { key: 'team', operator: 'In', values: ['shop', 'blog'] }],
    ['In, value not listed', 'False', { key: 'team', operator: 'In', values: ['blog'] }],
    ['In, label absent', 'False', { key: 'owner', operator: 'In', values: ['shop'] }],
    ['NotIn, value not listed', 'True', { key: 'team', operator: 'NotIn', values: ['blog'] }],
    ['NotIn, value listed', 'False', { key: 'team', operator: 'NotIn', values: ['shop'] }],
    ['NotIn, label absent', 'True', { key: 'owner', operator: 'NotIn', values: ['shop'] }],
    ['Exists, label present', 'True', { key: 'tier', operator: 'Exists' }],
    ['Exists, label absent', 'False', { key: 'owner', operator: 'Exists' }],
    ['DoesNotExist, label absent', 'True', { key: 'owner', operator: 'DoesNotExist' }],
    ['DoesNotExist, label present', 'False', { key: 'tier', operator: 'DoesNotExist' }],
    ['In on the implied kubernetes.io/metadata.name', 'True', { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['apps'] }],
    ['NotIn on the implied kubernetes.io/metadata.name', 'False', { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['apps'] }],
    ['DoesNotExist on the implied kubernetes.io/metadata.name', 'False', { key: 'kubernetes.io/metadata.name', operator: 'DoesNotExist' }],
  ])('from: Selector with matchExpressions %s gives route Accepted=%s (digest 1.3 LabelSelector, 2.2 step 3)', (_what, status, expression) => {
    const gw = selectorScenario({ namespaces: { from: 'Selector', selector: { matchExpressions: [expression] } } }, labelled);
    const a = accepted(onlyParent(gw, 'app', 'apps'));
    expect(a.status).toBe(status);
    expect(a.reason).toBe(status === 'True' ? 'Accepted' : 'NotAllowedByListeners');
  });

  it('from: Selector requires matchLabels and every matchExpression to match (AND) (digest 1.3 LabelSelector)', () => {
    const selector = { matchLabels: { team: 'shop' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] };
    const gw = selectorScenario({ namespaces: { from: 'Selector', selector } }, labelled);
    expect(accepted(onlyParent(gw, 'app', 'apps'))).toMatchObject({ status: 'False', reason: 'NotAllowedByListeners' });
  });
});

describe('allowedRoutes.kinds and protocol (digest 1.3, 2.2 step 3)', () => {
  it('an HTTPRoute is rejected with NotAllowedByListeners when allowedRoutes.kinds excludes HTTPRoute (digest 2.2 step 3)', () => {
    const gw = make([gatewayClass(), service(), gateway([httpListener('http', 80, { allowedRoutes: { kinds: [{ kind: 'GRPCRoute' }] } })]), httpRoute('app')]);
    expect(listenerStatus(gw, 'http').supportedKinds).toEqual([{ group: G, kind: 'GRPCRoute' }]);
    expect(accepted(onlyParent(gw, 'app'))).toMatchObject({ status: 'False', reason: 'NotAllowedByListeners', message: expect.stringContaining('HTTPRoute') });
  });

  it('an HTTPRoute is rejected with NotAllowedByListeners by a TLS-only Gateway (digest 2.2 step 3; conformance httproute-disallowed-kind)', () => {
    const gw = make([gatewayClass(), service(), gateway([{ name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' } }]), httpRoute('app')]);
    expect(listenerStatus(gw, 'tls').supportedKinds).toEqual([{ group: G, kind: 'TLSRoute' }]);
    expect(accepted(onlyParent(gw, 'app'))).toMatchObject({ status: 'False', reason: 'NotAllowedByListeners' });
    expect(listenerStatus(gw, 'tls').attachedRoutes).toBe(0);
  });

  it('an HTTP listener derives supportedKinds HTTPRoute (and GRPCRoute) from its protocol when kinds is empty (digest 1.3 "supported kinds by protocol")', () => {
    const gw = make([gatewayClass(), gateway([httpListener()])]);
    expect(listenerStatus(gw, 'http').supportedKinds).toContainEqual({ group: G, kind: 'HTTPRoute' });
    expect(listenerStatus(gw, 'http').supportedKinds).not.toContainEqual({ group: G, kind: 'TLSRoute' });
  });

  it('a route without sectionName attaches only to the listeners that admit it (digest 2.1 "at least one listener", 2.2 step 3)', () => {
    const gw = make([
      gatewayClass(),
      service(),
      gateway([httpListener('http', 80), httpListener('grpc-only', 8080, { allowedRoutes: { kinds: [{ kind: 'GRPCRoute' }] } })]),
      httpRoute('app'),
    ]);
    expect(accepted(onlyParent(gw, 'app'))).toMatchObject({ status: 'True' });
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(1);
    expect(listenerStatus(gw, 'grpc-only').attachedRoutes).toBe(0);
  });
});

describe('parentRefs (digest 2.1, 2.2 step 1, 10.5)', () => {
  it('a parentRef to a Gateway not in the manifests gets no status entry (digest 2.2 step 1, 10.5)', () => {
    const gw = make([gatewayClass(), service(), gateway([httpListener()]), httpRoute('app', { parentRefs: [{ name: 'nowhere' }] })]);
    expect(routeParents(gw, 'app')).toEqual([]);
  });

  it('only the parentRef to our Gateway gets an entry when another names a missing Gateway (digest 2.2 step 1, 10.5)', () => {
    const gw = make([gatewayClass(), service(), gateway([httpListener()]), httpRoute('app', { parentRefs: [{ name: 'nowhere' }, { name: 'gw' }] })]);
    const p = onlyParent(gw, 'app');
    // The parentRef is echoed as written (CRD defaults only): no namespace was written.
    expect(p.parentRef).toEqual({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' });
    expect(accepted(p).status).toBe('True');
  });

  it("a parentRef to a Gateway of another controller's GatewayClass gets no status entry (digest 1.2, 2.2 step 1)", () => {
    const gw = make([
      gatewayClass(),
      gatewayClass('theirs', 'example.com/other-controller'),
      service(),
      gateway([httpListener()]),
      gateway([httpListener()], { name: 'their-gw', className: 'theirs' }),
      httpRoute('app', { parentRefs: [{ name: 'their-gw' }, { name: 'gw' }] }),
      httpRoute('theirs-only', { parentRefs: [{ name: 'their-gw' }] }),
    ]);
    expect(routeParents(gw, 'app').map((p) => p.parentRef.name)).toEqual(['gw']);
    expect(routeParents(gw, 'theirs-only')).toEqual([]);
    expect(gw.statusOf('Gateway', 'their-gw')).toBeUndefined();
  });

  it('a parentRef whose kind is not Gateway gets no status entry (digest 2.2 step 1)', () => {
    const gw = make([gatewayClass(), service(), gateway([httpListener()]), httpRoute('app', { parentRefs: [{ group: '', kind: 'Service', name: 'gw' }] })]);
    expect(routeParents(gw, 'app')).toEqual([]);
  });

  it('each parentRef gets its own status entry (digest 2.1 "each parentRef gets its own status.parents[] entry")', () => {
    const gw = make([gatewayClass(), service(), gateway([httpListener('http', 80), httpListener('alt', 8080)]), httpRoute('app', { parentRefs: [{ name: 'gw', sectionName: 'http' }, { name: 'gw', sectionName: 'nope' }] })]);
    const parents = routeParents(gw, 'app');
    expect(parents.map((p) => p.parentRef.sectionName)).toEqual(['http', 'nope']);
    expect(parents.map((p) => accepted(p).reason)).toEqual(['Accepted', 'NoMatchingParent']);
  });

  it('parentRef.port attaches the route to every listener on that port and no other (digest 2.1 port)', () => {
    const gw = make([
      gatewayClass(),
      service(),
      gateway([httpListener('a', 8080, { hostname: 'a.example.com' }), httpListener('b', 8080, { hostname: 'b.example.com' }), httpListener('c', 80)]),
      httpRoute('app', { parentRefs: [{ name: 'gw', port: 8080 }] }),
    ]);
    expect(accepted(onlyParent(gw, 'app')).status).toBe('True');
    expect(['a', 'b', 'c'].map((l) => listenerStatus(gw, l).attachedRoutes)).toEqual([1, 1, 0]);
  });

  it('a route is Accepted when at least one listener intersects its hostnames and attaches only there (digest 2.1, 2.2 step 4)', () => {
    const gw = make([
      gatewayClass(),
      service(),
      gateway([httpListener('foo', 80, { hostname: 'foo.example.com' }), httpListener('bar', 80, { hostname: 'bar.example.com' })]),
      httpRoute('app', { hostnames: ['*.example.com'] }),
      httpRoute('foo-only', { hostnames: ['foo.example.com'] }),
    ]);
    expect(accepted(onlyParent(gw, 'app')).status).toBe('True');
    expect(accepted(onlyParent(gw, 'foo-only')).status).toBe('True');
    expect(listenerStatus(gw, 'foo').attachedRoutes).toBe(2);
    expect(listenerStatus(gw, 'bar').attachedRoutes).toBe(1);
  });

  it('NoMatchingParent is reported before NotAllowedByListeners, which is reported before NoMatchingListenerHostname (digest 2.2 step 5 order)', () => {
    const listener = httpListener('http', 80, { hostname: 'foo.example.com' });
    const both = make([gatewayClass(), service('apps'), gateway([listener]), httpRoute('app', { parentRefs: [{ name: 'gw', namespace: 'default', sectionName: 'nope' }], hostnames: ['bar.example.com'] }, 'apps')]);
    expect(accepted(onlyParent(both, 'app', 'apps')).reason).toBe('NoMatchingParent');
    const ns = make([gatewayClass(), service('apps'), gateway([listener]), httpRoute('app', { hostnames: ['bar.example.com'] }, 'apps')]);
    expect(accepted(onlyParent(ns, 'app', 'apps')).reason).toBe('NotAllowedByListeners');
  });
});

describe('attachedRoutes (digest 2.4)', () => {
  it('attachedRoutes counts only Accepted routes (digest 2.4; conformance gateway-with-attached-routes)', () => {
    const gw = make([
      gatewayClass(),
      service(),
      gateway([httpListener('http', 80, { hostname: 'foo.example.com' })]),
      httpRoute('route-2'),
      httpRoute('route-3'),
      httpRoute('not-accepted', { hostnames: ['not-accepted.test.com'] }),
    ]);
    expect(accepted(onlyParent(gw, 'not-accepted'))).toMatchObject({ status: 'False', reason: 'NoMatchingListenerHostname' });
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(2);
  });

  it('attachedRoutes is 0 on a listener with no routes, which is still Accepted (digest 2.4, 10.4)', () => {
    const gw = make([gatewayClass(), gateway([httpListener()])]);
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(0);
    expect(cond(listenerStatus(gw, 'http').conditions, 'Accepted').status).toBe('True');
  });

  it('a route with several hostnames intersecting one listener counts once on it (digest 2.4 "one route counts once per listener")', () => {
    const gw = make([gatewayClass(), service(), gateway([httpListener('http', 80, { hostname: '*.example.com' })]), httpRoute('app', { hostnames: ['a.example.com', 'b.example.com', '*.example.com'] })]);
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(1);
  });

  it('a route whose two parentRefs reach the same listener counts once on it (digest 2.4 "one route counts once per listener")', () => {
    // Namespace omitted vs explicit: distinct parentRefs for the CRD's CEL, same Gateway once defaulted.
    const gw = make([gatewayClass(), service(), gateway([httpListener()]), httpRoute('app', { parentRefs: [{ name: 'gw' }, { name: 'gw', namespace: 'default' }] })]);
    expect(routeParents(gw, 'app').every((p) => accepted(p).status === 'True')).toBe(true);
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(1);
  });

  it('a route counts on each listener it attaches to (digest 2.4)', () => {
    const gw = make([gatewayClass(), service(), gateway([httpListener('http', 80), httpListener('alt', 8080)]), httpRoute('app')]);
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(1);
    expect(listenerStatus(gw, 'alt').attachedRoutes).toBe(1);
  });

  it('attachedRoutes counts a route on a listener with unresolved refs (digest 2.2 step 6, 2.4; conformance unresolved-gateway-with-one-attached-unresolved-route)', () => {
    const gw = make([
      gatewayClass(),
      gateway([{ name: 'tls', port: 443, protocol: 'HTTPS', tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'does-not-exist' }] } }]),
      httpRoute('app', { parentRefs: [{ name: 'gw', sectionName: 'tls' }], rules: [{ backendRefs: [{ name: 'does-not-exist', port: 8080 }] }] }),
    ]);
    const l = listenerStatus(gw, 'tls');
    expect(cond(l.conditions, 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'InvalidCertificateRef' });
    expect(l.attachedRoutes).toBe(1);
  });

  it('attachedRoutes is sectionName-specific: a route attached by sectionName counts only on that listener (digest 2.4; conformance GatewayWithAttachedRoutesWithPort8080)', () => {
    const gw = make([gatewayClass(), service(), gateway([httpListener('http', 80), httpListener('http-8080', 8080)]), httpRoute('app', { parentRefs: [{ name: 'gw', sectionName: 'http-8080' }] })]);
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(0);
    expect(listenerStatus(gw, 'http-8080').attachedRoutes).toBe(1);
  });

  it('attachedRoutes counts routes from other namespaces admitted by from: All (digest 2.4 "by allowedRoutes")', () => {
    const gw = make([gatewayClass(), service(), service('apps'), gateway([httpListener('http', 80, { allowedRoutes: fromAll })]), httpRoute('a'), httpRoute('b', {}, 'apps')]);
    expect(listenerStatus(gw, 'http').attachedRoutes).toBe(2);
  });
});

describe('choosing the Gateway to serve (createGateway)', () => {
  const two = (): Obj[] => [gatewayClass(), gateway([httpListener()], { name: 'one' }), gateway([httpListener()], { name: 'two', namespace: 'edge' })];

  function thrown(fn: () => unknown): GatewayError {
    try {
      fn();
    } catch (e) {
      if (e instanceof GatewayError) return e;
      throw e;
    }
    throw new Error('expected createGateway to throw');
  }

  it('throws GW_ERR_GATEWAY_AMBIGUOUS naming both Gateways when several are ours and the option gateway is absent', () => {
    const e = thrown(() => make(two()));
    expect(e.code).toBe('GW_ERR_GATEWAY_AMBIGUOUS');
    expect(isGatewayError(e)).toBe(true);
    expect(e.message).toContain('default/one');
    expect(e.message).toContain('edge/two');
  });

  it('throws GW_ERR_GATEWAY_NOT_FOUND when the option gateway names no Gateway in the manifests', () => {
    const e = thrown(() => make(two(), { gateway: { name: 'three' } }));
    expect(e.code).toBe('GW_ERR_GATEWAY_NOT_FOUND');
    expect(e.message).toContain('default/three');
  });

  it("throws GW_ERR_GATEWAY_NOT_OURS when the option gateway names a Gateway of another controller's GatewayClass (digest 1.2)", () => {
    const manifests = [...two(), gatewayClass('theirs', 'example.com/other-controller'), gateway([httpListener()], { name: 'their-gw', className: 'theirs' })];
    const e = thrown(() => make(manifests, { gateway: { name: 'their-gw' } }));
    expect(e.code).toBe('GW_ERR_GATEWAY_NOT_OURS');
    expect(e.message).toContain('example.com/other-controller');
  });

  it('the option gateway picks one of several Gateways', () => {
    const gw = make(two(), { gateway: { namespace: 'edge', name: 'two' } });
    expect(gw.gatewayKey).toBe('edge/two');
    expect(make(two(), { gateway: { name: 'one' } }).gatewayKey).toBe('default/one');
  });

  it('a single Gateway of ours is chosen without the option, even next to a Gateway of another controller (digest 1.2)', () => {
    const gw = make([gatewayClass(), gatewayClass('theirs', 'example.com/other-controller'), gateway([httpListener()]), gateway([httpListener()], { name: 'their-gw', className: 'theirs' })]);
    expect(gw.gatewayKey).toBe('default/gw');
  });
});
