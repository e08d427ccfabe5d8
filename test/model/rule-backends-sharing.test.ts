// The model is read-only once built: the rules of a route that list the same backendRefs share
// one list of resolved backends (issue 13, first build: one list fewer per rule). What each rule
// resolves to is unchanged (spec digest section 6).
import { describe, expect, it } from 'vitest';
import { loadManifests } from '../../src/index.js';
import { groupResources, resolveAttachments } from '../../src/model/attach.js';

type Obj = Record<string, unknown>;
const G = 'gateway.networking.k8s.io/v1';
const gateway: Obj = { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } };
const svc = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });
const refs = (...names: string[]) => names.map((name) => ({ name, port: 80 }));

function modelOf(rules: Obj[]) {
  const route: Obj = { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { parentRefs: [{ name: 'gw' }], rules } };
  const { resources, issues } = loadManifests([gateway, svc('a'), svc('b'), route]);
  expect(issues).toEqual([]);
  return resolveAttachments(groupResources(resources), { controllerName: 'gateway-api-router.dev/controller', createdAt: () => 0 }).routes[0]!.rules;
}

describe('rules listing the same backends share their list in the model', () => {
  it('the same backendRefs in consecutive rules: one list; other backends or another order: a list of their own', () => {
    const rules = modelOf([
      { matches: [{ path: { type: 'PathPrefix', value: '/x' } }], backendRefs: refs('a', 'b') },
      { matches: [{ path: { type: 'Exact', value: '/x/y' } }], backendRefs: refs('a', 'b') },
      { matches: [{ path: { type: 'Exact', value: '/x/z' } }], backendRefs: refs('b', 'a') },
      { matches: [{ path: { type: 'Exact', value: '/x/w' } }], backendRefs: refs('b') },
    ]);
    expect(rules[1]!.backends).toBe(rules[0]!.backends);
    expect(rules[2]!.backends).not.toBe(rules[1]!.backends);
    expect(rules[3]!.backends).not.toBe(rules[2]!.backends);
    expect(rules.map((r) => r.backends.map((b) => `${b.name}:${b.state}`))).toEqual([['a:ok', 'b:ok'], ['a:ok', 'b:ok'], ['b:ok', 'a:ok'], ['b:ok']]);
  });
});
