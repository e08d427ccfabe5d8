// Status parts with the same content are one frozen object (docs/status.md): what the status says
// is unchanged (spec digest 10.1: every route still lists its parents and their conditions), but
// routes with the same status share it, writing to it throws, and a YAML dump prints it in full.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createGateway } from '../../src/index.js';
import { statusYaml } from '../../src/cli/views.js';
import { onlyParent, routeParents } from './status-helpers.js';

type Obj = Record<string, unknown>;
const G = 'gateway.networking.k8s.io/v1';
const gateway: Obj = { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'alt', port: 8080, protocol: 'HTTP' }] } };
const svc = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });
const route = (name: string, backend: string, parentRefs: Obj[] = [{ name: 'gw' }]): Obj => ({ apiVersion: G, kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs, rules: [{ backendRefs: [{ name: backend, port: 80 }] }] } });
const manifests = (): Obj[] => [gateway, svc('a'), route('r1', 'a'), route('r2', 'a'), route('broken', 'missing'), route('twice', 'a', [{ name: 'gw', sectionName: 'alt' }, { name: 'gw', sectionName: 'http' }])];

describe('shared, frozen status parts (docs/status.md)', () => {
  it('routes with the same status share one frozen parent list; a route with another status has its own', () => {
    const gw = createGateway({ manifests: manifests(), now: () => new Date(0) });
    const r1 = gw.statusOf('HTTPRoute', 'r1')!;
    const r2 = gw.statusOf('HTTPRoute', 'r2')!;
    expect(r2.status).toBe(r1.status);
    expect(Object.isFrozen(r1.status.parents)).toBe(true);
    expect(Object.isFrozen(onlyParent(gw, 'r1').conditions[0])).toBe(true);
    expect(() => {
      (onlyParent(gw, 'r1').conditions[0] as { message: string }).message = 'changed';
    }).toThrow(TypeError);
    const broken = onlyParent(gw, 'broken');
    expect(broken).not.toBe(onlyParent(gw, 'r1'));
    expect(broken.conditions.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
    // Each item still says everything about its route: two parent entries for two parentRefs.
    expect(routeParents(gw, 'twice').map((p) => p.parentRef)).toEqual([
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw', sectionName: 'alt' },
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw', sectionName: 'http' },
    ]);
    expect(JSON.parse(JSON.stringify(r2))).toEqual({
      apiVersion: G,
      kind: 'HTTPRoute',
      metadata: { name: 'r2', namespace: 'default', generation: 1 },
      status: {
        parents: [
          {
            parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' },
            controllerName: 'gateway-api-router.dev/controller',
            conditions: [
              { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Route is accepted by Gateway default/gw.', lastTransitionTime: '1970-01-01T00:00:00.000Z', observedGeneration: 1 },
              { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'All references are resolved.', lastTransitionTime: '1970-01-01T00:00:00.000Z', observedGeneration: 1 },
            ],
          },
        ],
      },
    });
  });

  it('the YAML dump prints shared parts in full, never as aliases', () => {
    const gw = createGateway({ manifests: manifests(), now: () => new Date(0) });
    const text = statusYaml(gw);
    expect(text).not.toMatch(/[&*]a\d/);
    expect(parse(text)).toEqual(JSON.parse(JSON.stringify(gw.status)));
  });

  // A first build reuses the status of the route before when its one parent has the same parentRef
  // (content and key order), checks and generation (model/status.ts): each boundary of that
  // shortcut gets a route of its own, and a reload, which reads the previous status and never takes
  // the shortcut, writes the same content.
  it('consecutive routes share a status only when parentRef, checks and generation are the same', () => {
    const withGeneration = (r: Obj, generation: number): Obj => ({ ...r, metadata: { ...(r.metadata as Obj), generation } });
    const http = { name: 'gw', sectionName: 'http' };
    const list = [
      gateway,
      svc('a'),
      route('a1', 'a'),
      route('a2', 'a', [http]),
      route('a3', 'a', [{ sectionName: 'http', name: 'gw' }]),
      withGeneration(route('a4', 'a', [http]), 2),
      route('a5', 'missing', [http]),
      route('a6', 'a'),
      route('a7', 'a', [{ name: 'gw', namespace: 'default' }]),
    ];
    const gw = createGateway({ manifests: list, now: () => new Date(0) });
    const status = (name: string) => gw.statusOf('HTTPRoute', name)!.status;
    expect(status('a2')).not.toBe(status('a1'));
    expect(onlyParent(gw, 'a2').parentRef).toEqual({ group: G.split('/')[0], kind: 'Gateway', name: 'gw', sectionName: 'http' });
    expect(status('a3')).toBe(status('a2'));
    expect(status('a4')).not.toBe(status('a3'));
    expect(onlyParent(gw, 'a4').conditions.map((c) => c.observedGeneration)).toEqual([2, 2]);
    expect(status('a5')).not.toBe(status('a4'));
    expect(onlyParent(gw, 'a5').conditions.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
    expect(status('a6')).toBe(status('a1'));
    expect(status('a7')).not.toBe(status('a6'));
    expect(onlyParent(gw, 'a7').parentRef).toEqual({ group: G.split('/')[0], kind: 'Gateway', namespace: 'default', name: 'gw' });
    const first = JSON.stringify(gw.status);
    expect(gw.reload(list).ok).toBe(true);
    expect(JSON.stringify(gw.status)).toBe(first);
  });

  it('a reload keeps unchanged conditions as the same objects, and content as a fresh build writes it (digest 10.1)', () => {
    let now = new Date(0);
    const gw = createGateway({ manifests: manifests(), now: () => now });
    const before = onlyParent(gw, 'r1').conditions;
    now = new Date(86_400_000);
    expect(gw.reload(manifests()).ok).toBe(true);
    expect(onlyParent(gw, 'r1').conditions[0]).toBe(before[0]);
    const fresh = createGateway({ manifests: manifests(), now: () => new Date(0) });
    expect(JSON.stringify(gw.status)).toBe(JSON.stringify(fresh.status));
  });
});
