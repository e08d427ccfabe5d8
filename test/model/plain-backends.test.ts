// A backendRef without filters resolves the same for every route of its namespace (spec digest
// section 6: a Service is looked up in the ref's namespace, the route's by default): the model
// resolves each distinct ref once and shares it, and buildIR makes one frozen IR backend of it,
// shared by every rule that lists it (issue 13, build memory). Refs that differ in namespace,
// port or weight are different backends and must stay apart.
import { describe, expect, it } from 'vitest';
import { buildIR } from '../../src/ir/build.js';
import { groupResources, resolveAttachments } from '../../src/model/attach.js';
import { loadManifests } from '../../src/index.js';

type Obj = Record<string, unknown>;
const G = 'gateway.networking.k8s.io/v1';
const gateway: Obj = {
  apiVersion: G, kind: 'Gateway', metadata: { name: 'gw', namespace: 'infra' },
  spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] },
};
const svc = (namespace: string): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace }, spec: { ports: [{ port: 80 }, { port: 81 }] } });
const route = (name: string, namespace: string, refs: Obj[][]): Obj => ({
  apiVersion: G, kind: 'HTTPRoute', metadata: { name, namespace },
  spec: { parentRefs: [{ name: 'gw', namespace: 'infra' }], rules: refs.map((backendRefs, i) => ({ matches: [{ path: { type: 'PathPrefix', value: `/${name}/${i}` } }], backendRefs })) },
});
const web = (port: number, weight?: number): Obj => ({ name: 'web', port, ...(weight === undefined ? {} : { weight }) });
/** A name listed once in each of two namespaces, in one form: the first model of its name is not the other namespace's. */
const api: Obj = { name: 'api', port: 80 };

function build() {
  const { resources, issues } = loadManifests([
    gateway,
    svc('a'),
    // Route a1 resolves web:80 first (one model for the name), then other forms of it in its namespace.
    route('a1', 'a', [[web(80)], [web(80, 5)], [web(81)], [web(80), web(81)], [api]]),
    // Route b1 names web in namespace b, where there is no Service: a backend of its own, not found.
    route('b1', 'b', [[web(80)], [api]]),
    route('a2', 'a', [[web(80)], [web(80), web(81)], [web(80, 5)]]),
  ]);
  expect(issues).toEqual([]);
  const model = resolveAttachments(groupResources(resources), { controllerName: 'gateway-api-router.dev/controller', createdAt: () => 0 });
  const rules = (name: string) => model.routes.find((r) => r.name === name)!.rules;
  return { a1: rules('a1'), b1: rules('b1'), a2: rules('a2'), ir: buildIR(model, 'infra/gw') };
}

describe('plain backendRefs: one model and one IR backend per distinct ref (digest 6)', () => {
  it('the same ref in the same namespace is one model; another namespace, weight or port is another', () => {
    const { a1, b1, a2 } = build();
    const first = a1[0]!.backends[0]!;
    expect(a2[0]!.backends[0]).toBe(first);
    expect(a1[3]!.backends[0]).toBe(first);
    expect(a2[2]!.backends[0]).toBe(a1[1]!.backends[0]);
    expect(a2[1]!.backends[1]).toBe(a1[2]!.backends[0]);
    expect(a1[1]!.backends[0]).not.toBe(first);
    expect(a1[2]!.backends[0]).not.toBe(first);
    expect(b1[0]!.backends[0]).not.toBe(first);
    expect([a1[0], a1[1], a1[2]].map((r) => { const b = r!.backends[0]!; return `${b.namespace}/${b.name}:${b.port} w${b.weight} ${b.state}`; })).toEqual(['a/web:80 w1 ok', 'a/web:80 w5 ok', 'a/web:81 w1 ok']);
    expect(b1[0]!.backends[0]).toMatchObject({ namespace: 'b', name: 'web', port: 80, state: 'invalid', reason: 'BackendNotFound' });
    expect(a1[4]!.backends[0]).not.toBe(b1[1]!.backends[0]);
    expect([a1[4]!.backends[0]!.namespace, b1[1]!.backends[0]!.namespace]).toEqual(['a', 'b']);
  });

  it('buildIR: one frozen IR backend per model and one list per sequence of them, across routes', () => {
    const { ir } = build();
    const byPath = (p: string) => {
      const m = ir.listeners[0]!.vhosts[0]!.matches.find((x) => x.path.value === p)!;
      return ir.rules[m.rule]!.backends;
    };
    expect(byPath('/a2/0')).toBe(byPath('/a1/0'));
    expect(byPath('/a2/1')).toBe(byPath('/a1/3'));
    expect(byPath('/a2/1')[0]).toBe(byPath('/a1/0')[0]);
    expect(byPath('/a2/2')).not.toBe(byPath('/a1/0'));
    expect(byPath('/b1/0')[0]).not.toBe(byPath('/a1/0')[0]);
    expect(Object.isFrozen(byPath('/a1/3'))).toBe(true);
    expect(Object.isFrozen(byPath('/a1/3')[1])).toBe(true);
    expect(byPath('/a1/3').map((b) => `${b.namespace}/${b.name}:${b.port}`)).toEqual(['a/web:80', 'a/web:81']);
    expect(byPath('/b1/0').map((b) => `${b.namespace}/${b.state}`)).toEqual(['b/invalid']);
  });
});
