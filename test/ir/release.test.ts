// buildIR's `release` (issue 13, heap): createGateway lets the IR build drop each route of the
// model once the route is in the IR, so that the loaded objects can be collected during the build.
// The IR must be exactly the one built without it, and every route must be released.
import { describe, expect, it } from 'vitest';
import { generateTable, type Shape } from '../../bench/tables.js';
import { buildIR } from '../../src/ir/build.js';
import { groupResources, resolveAttachments, type Model } from '../../src/model/attach.js';
import { loadManifests, type Manifests } from '../../src/resources/load.js';

/** gRPC, TLS and HTTP routes on one Gateway: the IR skips the TLSRoute, which must be released all the same. */
const MIXED = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw }
spec:
  gatewayClassName: any
  listeners:
    - { name: http, port: 80, protocol: HTTP }
    - { name: tls, port: 443, protocol: TLS, tls: { mode: Passthrough } }
---
apiVersion: v1
kind: Service
metadata: { name: svc }
spec: { ports: [{ port: 8080 }, { port: 8443 }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: grpc }
spec:
  parentRefs: [{ name: gw, sectionName: http }]
  hostnames: [grpc.example.com]
  rules:
    - matches: [{ method: { service: pkg.Svc, method: Get } }, { headers: [{ name: x-a, value: b }] }]
      backendRefs: [{ name: svc, port: 8080 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: { name: tls }
spec:
  parentRefs: [{ name: gw, sectionName: tls }]
  hostnames: [tls.example.com]
  rules:
    - backendRefs: [{ name: svc, port: 8443 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web }
spec:
  parentRefs: [{ name: gw, sectionName: http }]
  hostnames: [web.example.com, '*.example.org']
  rules:
    - matches: [{ path: { type: Exact, value: /a } }, { path: { type: PathPrefix, value: /b }, method: POST }]
      backendRefs: [{ name: svc, port: 8080, weight: 3 }, { name: svc, port: 8080, weight: 1 }]
    - backendRefs: [{ name: svc, port: 8080 }]
`;

function model(manifests: Manifests): Model {
  const loaded = loadManifests(manifests);
  expect(loaded.issues.filter((i) => i.severity === 'error')).toEqual([]);
  return resolveAttachments(groupResources(loaded.resources), { controllerName: 'gateway-api-router.dev/controller', registeredBackends: undefined, createdAt: () => 0 });
}

const CASES: [string, () => Manifests, number][] = [
  ...(['services', 'one-vhost', 'canary', 'weighted'] satisfies Shape[]).map((shape): [string, () => Manifests, number] => [shape, () => generateTable(300, shape).manifests as Manifests, 300]),
  ['gRPC, TLS and HTTP routes', () => MIXED, 3],
];

describe('buildIR with release', () => {
  for (const [name, manifests, minRules] of CASES) {
    it(`builds the same IR and releases every route of the model (${name})`, () => {
      const kept = model(manifests());
      const released = model(manifests());
      const routes = released.routes.length;
      const expected = buildIR(kept, 'default/gw');
      expect(kept.routes.every((r) => r !== undefined)).toBe(true); // without release, the model is left as it was
      expect(expected.rules.length).toBeGreaterThanOrEqual(minRules);
      expect(buildIR(released, 'default/gw', { release: true })).toEqual(expected);
      expect(released.routes.length).toBe(routes);
      expect(released.routes.every((r) => r === undefined)).toBe(true);
    });
  }

  it('covers what the IR skips and what it takes: the TLSRoute is not in the IR, the gRPC and HTTP rules are', () => {
    const ir = buildIR(model(MIXED), 'default/gw', { release: true });
    expect(ir.routes.map((r) => r.kind).sort()).toEqual(['GRPCRoute', 'HTTPRoute']);
    expect(ir.rules.length).toBe(3);
  });
});
