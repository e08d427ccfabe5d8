// ReferenceGrants (spec digest 1.7): a reference crosses namespaces only when a grant in the target
// namespace names the source group, kind and namespace and the target group, kind (and name, when
// given). Matching is exact on every field; grants are additive. The grants are indexed once per
// load (src/model/refs/grants.ts, GrantIndex), so these cases pin the index to the rule.
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { GrantIndex } from '../../src/model/refs/grants.js';
import type { ReferenceGrant } from '../../src/resources/schemas-gateway.js';
import { cond, onlyParent } from './status-helpers.js';

const G = 'gateway.networking.k8s.io';
type From = { group: string; kind: string; namespace: string };
type To = { group: string; kind: string; name?: string };
const grant = (namespace: string, from: From[], to: To[]): ReferenceGrant => ({ apiVersion: `${G}/v1beta1`, kind: 'ReferenceGrant', metadata: { name: 'g', namespace }, spec: { from, to } });
const fromRoutes: From = { group: G, kind: 'HTTPRoute', namespace: 'app' };
const service = (name: string, namespace = 'backend') => ({ group: '', kind: 'Service', namespace, name });

describe('GrantIndex (spec digest 1.7)', () => {
  it('within one namespace a reference needs no grant', () => {
    expect(new GrantIndex([]).allows(fromRoutes, service('a', 'app'))).toBe(true);
    expect(new GrantIndex([]).allows(fromRoutes, service('a'))).toBe(false);
  });

  it('a grant without a name allows every object of the kind; with a name, only that one', () => {
    const all = new GrantIndex([grant('backend', [fromRoutes], [{ group: '', kind: 'Service' }])]);
    expect(all.allows(fromRoutes, service('a'))).toBe(true);
    expect(all.allows(fromRoutes, service('b'))).toBe(true);
    const one = new GrantIndex([grant('backend', [fromRoutes], [{ group: '', kind: 'Service', name: 'a' }])]);
    expect(one.allows(fromRoutes, service('a'))).toBe(true);
    expect(one.allows(fromRoutes, service('b'))).toBe(false);
  });

  it('every field must match exactly; a grant in the source namespace is useless', () => {
    const index = new GrantIndex([grant('backend', [fromRoutes], [{ group: '', kind: 'Service', name: 'a' }])]);
    expect(index.allows({ ...fromRoutes, group: 'example.com' }, service('a'))).toBe(false);
    expect(index.allows({ ...fromRoutes, kind: 'GRPCRoute' }, service('a'))).toBe(false);
    expect(index.allows({ ...fromRoutes, namespace: 'other' }, service('a'))).toBe(false);
    expect(index.allows(fromRoutes, { ...service('a'), group: 'example.com' })).toBe(false);
    expect(index.allows(fromRoutes, { ...service('a'), kind: 'Secret' })).toBe(false);
    expect(index.allows(fromRoutes, service('a', 'elsewhere'))).toBe(false);
    const inSource = new GrantIndex([grant('app', [fromRoutes], [{ group: '', kind: 'Service' }])]);
    expect(inSource.allows(fromRoutes, service('a'))).toBe(false);
  });

  it('from and to entries are OR-ed within a grant, and grants add up (a named grant does not narrow an unnamed one)', () => {
    const grpc: From = { group: G, kind: 'GRPCRoute', namespace: 'rpc' };
    const index = new GrantIndex([
      grant('backend', [fromRoutes, grpc], [{ group: '', kind: 'Service', name: 'a' }, { group: '', kind: 'Service', name: 'b' }]),
      grant('backend', [fromRoutes], [{ group: '', kind: 'Service' }]),
      grant('backend', [fromRoutes], [{ group: '', kind: 'Service', name: 'c' }]),
      grant('backend', [grpc], [{ group: '', kind: 'Service', name: 'd' }]),
    ]);
    for (const name of ['a', 'b', 'c', 'd', 'z']) expect(index.allows(fromRoutes, service(name))).toBe(true);
    expect(['a', 'b', 'c', 'd', 'z'].map((name) => index.allows(grpc, service(name)))).toEqual([true, true, false, true, false]);
  });
});

describe('cross-namespace backendRefs with many grants', () => {
  it('each backendRef is RefNotPermitted unless one of the grants in its namespace allows it', () => {
    const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'backend' }, spec: { ports: [{ port: 80 }] } });
    const route = (name: string, backend: string) => ({ apiVersion: `${G}/v1`, kind: 'HTTPRoute', metadata: { name, namespace: 'app' }, spec: { parentRefs: [{ name: 'gw', namespace: 'default' }], rules: [{ backendRefs: [{ name: backend, namespace: 'backend', port: 80 }] }] } });
    // 200 grants, each for one Service; s200 has none.
    const grants = Array.from({ length: 200 }, (_, i) => ({ ...grant('backend', [fromRoutes], [{ group: '', kind: 'Service', name: `s${i}` }]), metadata: { name: `g${i}`, namespace: 'backend' } }));
    const gateway = { apiVersion: `${G}/v1`, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] } };
    const gw = createGateway({ manifests: [gateway, ...grants, svc('s0'), svc('s199'), svc('s200'), route('first', 's0'), route('last', 's199'), route('none', 's200')] });
    expect(cond(onlyParent(gw, 'first', 'app').conditions, 'ResolvedRefs').status).toBe('True');
    expect(cond(onlyParent(gw, 'last', 'app').conditions, 'ResolvedRefs').status).toBe('True');
    expect(cond(onlyParent(gw, 'none', 'app').conditions, 'ResolvedRefs').reason).toBe('RefNotPermitted');
  });
});
