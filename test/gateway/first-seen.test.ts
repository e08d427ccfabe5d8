// Without creationTimestamps, an object's age is when this process first saw it (the `now`
// option documents it), kept across reloads by kind/namespace/name: precedence step 6 (spec
// digest 5.1, oldest route first) then holds across reloads as in a cluster.
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';

type Obj = Record<string, unknown>;
const G = 'gateway.networking.k8s.io/v1';
const gateway: Obj = { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } };
const svc = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });
const route = (name: string, backend: string): Obj => ({ apiVersion: G, kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: backend, port: 80 }] }] } });

describe('first-seen times stand in for creationTimestamp across reloads (digest 5.1 step 6)', () => {
  it('a route seen at an earlier load stays older than one added later, whatever the names and order', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const base = [gateway, svc('a'), svc('b')];
    // "z-old" would lose to "a-new" by name; it wins by age once it was seen first.
    const gw = createGateway({ manifests: [...base, route('z-old', 'a')], now: () => now });
    expect(gw.route({ method: 'GET', path: '/' })).toMatchObject({ type: 'forward', route: { name: 'z-old' } });
    now = new Date('2026-01-01T00:01:00Z');
    expect(gw.reload([...base, route('a-new', 'b'), route('z-old', 'a')]).ok).toBe(true);
    expect(gw.route({ method: 'GET', path: '/' })).toMatchObject({ type: 'forward', route: { name: 'z-old' } });
    // The same two routes loaded together in a fresh process share one instant: the name decides.
    const fresh = createGateway({ manifests: [...base, route('a-new', 'b'), route('z-old', 'a')], now: () => now });
    expect(fresh.route({ method: 'GET', path: '/' })).toMatchObject({ type: 'forward', route: { name: 'a-new' } });
  });

  it('a failed reload commits no first-seen time (reload is atomic)', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const base = [gateway, svc('a'), svc('b')];
    const gw = createGateway({ manifests: [...base, route('z-old', 'a')], now: () => now });
    now = new Date('2026-01-01T00:01:00Z');
    // Loads, then fails: no Gateway to serve. Nothing of this load may be remembered.
    expect(gw.reload([svc('a'), svc('b'), route('a-new', 'b')]).ok).toBe(false);
    now = new Date('2026-01-01T00:02:00Z');
    expect(gw.reload([...base, route('m-mid', 'a'), route('z-old', 'a')]).ok).toBe(true);
    now = new Date('2026-01-01T00:03:00Z');
    // a-new is first seen now (00:03), after m-mid (00:02): m-mid wins. Had the failed reload
    // remembered a-new at 00:01, a-new would be the older one and win.
    expect(gw.reload([...base, route('a-new', 'b'), route('m-mid', 'a')]).ok).toBe(true);
    expect(gw.route({ method: 'GET', path: '/' })).toMatchObject({ type: 'forward', route: { name: 'm-mid' } });
  });

  // Only the objects of the running manifests are remembered: a long-running process whose
  // manifests bring ever new names (a route per release, say) keeps a record the size of its
  // manifests, not of every name it ever loaded. An object that a reload removes is forgotten;
  // added again, it is first seen again, as a deleted and re-created Kubernetes object gets a new
  // creationTimestamp.
  it('an object removed by a reload is forgotten: added back, it is first seen again', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const base = [gateway, svc('a'), svc('b')];
    const gw = createGateway({ manifests: [...base, route('z-old', 'a')], now: () => now });
    now = new Date('2026-01-01T00:01:00Z');
    expect(gw.reload([...base, route('a-new', 'b'), route('z-old', 'a')]).ok).toBe(true);
    expect(gw.route({ method: 'GET', path: '/' })).toMatchObject({ type: 'forward', route: { name: 'z-old' } });
    now = new Date('2026-01-01T00:02:00Z');
    expect(gw.reload([...base, route('a-new', 'b')]).ok).toBe(true);
    now = new Date('2026-01-01T00:03:00Z');
    // z-old is back, first seen at 00:03, after a-new (00:01): a-new is the older one now.
    expect(gw.reload([...base, route('a-new', 'b'), route('z-old', 'a')]).ok).toBe(true);
    expect(gw.route({ method: 'GET', path: '/' })).toMatchObject({ type: 'forward', route: { name: 'a-new' } });
  });

  it('an object of the first load keeps its own time through reloads that keep it (the first load is recorded without a map of its own)', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const base = [gateway, svc('a'), svc('b')];
    // Stamped a day before z-old was first seen: older than z-old, whatever the process saw.
    const stamped = { ...route('y-stamped', 'b'), metadata: { name: 'y-stamped', creationTimestamp: '2025-12-31T00:00:00Z' } };
    const gw = createGateway({ manifests: [...base, route('z-old', 'a')], now: () => now });
    for (let minute = 1; minute <= 3; minute++) {
      now = new Date(Date.UTC(2026, 0, 1, 0, minute));
      // Added now, a-N is younger than z-old (first seen at 00:00), though its name sorts first.
      expect(gw.reload([...base, route(`a-${minute}`, 'b'), route('z-old', 'a')]).ok).toBe(true);
      expect(gw.route({ method: 'GET', path: '/' })).toMatchObject({ type: 'forward', route: { name: 'z-old' } });
    }
    // z-old's time is 00:00 of 2026, not earlier: the stamped route is the older one.
    expect(gw.reload([...base, stamped, route('z-old', 'a')]).ok).toBe(true);
    expect(gw.route({ method: 'GET', path: '/' })).toMatchObject({ type: 'forward', route: { name: 'y-stamped' } });
  });
});
