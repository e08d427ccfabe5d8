// Runs the shared case list against the compiled matcher and the reference matcher.
import { describe, expect, it } from 'vitest';
import { createGateway, loadManifests } from '../../src/index.js';
import { referenceRoute } from '../reference/matcher.js';
import { cases, type MatchCase } from './cases.js';

export function manifestsOf(c: Pick<MatchCase, 'listeners' | 'routes'>): Record<string, unknown>[] {
  const listeners = (c.listeners ?? [{ name: 'web', port: 80 }]).map((l) => ({ ...l, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }));
  return [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'any', listeners } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { ports: [{ port: 80 }] } },
    ...c.routes.map((r) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: r.name, namespace: r.namespace ?? 'default', ...(r.creationTimestamp ? { creationTimestamp: r.creationTimestamp } : {}) },
      spec: {
        parentRefs: [{ name: 'gw', namespace: 'default', ...(r.listener ? { sectionName: r.listener } : {}) }],
        ...(r.hostnames ? { hostnames: r.hostnames } : {}),
        rules: r.rules.map((rule) => ({ ...(rule.matches ? { matches: rule.matches } : {}), backendRefs: [{ name: 'svc', port: 80 }] })),
      },
    })),
  ];
}

describe.each(cases.map((c) => [c.rule, c] as const))('%s', (_rule, c) => {
  const gw = createGateway({ manifests: manifestsOf(c), now: () => new Date('2026-03-01T00:00:00Z') });
  const resources = loadManifests(manifestsOf(c)).resources;
  it.each(c.requests.map((r) => [`${r.req.method ?? 'GET'} ${r.req.host ?? ''}${r.req.path} -> ${r.expect}`, r] as const))('%s', (_label, r) => {
    const req = { method: 'GET', ...r.req };
    const d = gw.route(req);
    const got = d.type === 'forward' ? `${d.route.name}/${d.rule.index}` : d.status;
    expect(got, JSON.stringify(gw.explain(req).candidates)).toEqual(r.expect);
    if (c.referenceSkip === undefined) {
      const ref = referenceRoute(resources, 'gw', req);
      expect(ref.type === 'match' ? `${ref.route.split('/')[1]}/${ref.rule}` : 404).toEqual(r.expect);
    }
  });
});
