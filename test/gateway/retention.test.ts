// What a reload or a gateway nobody holds leaves behind: nothing of the old tables. A process
// that serves for weeks reloads its manifests many times ("Hostile input is routine. Bound every
// resource."); every old runtime (IR, compiled listeners, status, serving plan) must be
// collectable once replaced, whatever requests the old tables served. The lookup's memos (the
// previous listener choice, the recent hosts per length, a listener's misses) live in the tables
// they serve (match/compile.ts); when they were module state, the vhost slots alone kept the
// listeners of up to 16 old runtimes, each with its whole compiled table (measured: 10,000 routes,
// 20 reloads with hosts of new lengths: 281 MB of heap instead of 71 MB), and a dropped gateway
// stayed in the heap until another gateway routed a request.
import { describe, expect, it } from 'vitest';
import { createGateway, type GatewayRouter } from '../../src/index.js';
import { alive, collect } from '../support/gc.js';

type Obj = Record<string, unknown>;
const G = 'gateway.networking.k8s.io/v1';

/** Two manifest sets told apart by `v`: routes, hostnames, backends and a listener's hostname differ. */
function manifests(v: number): Obj[] {
  const routes: Obj[] = [];
  for (let i = 0; i < 8; i++) {
    routes.push({
      apiVersion: G,
      kind: 'HTTPRoute',
      metadata: { name: `r${v}-${i}`, namespace: 'default' },
      spec: {
        parentRefs: [{ name: 'gw' }],
        hostnames: [`h${i}.v${v}.example.com`, `*.w${i}.example.com`],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/p${i}` } }, { headers: [{ name: 'x-v', value: String(v) }] }], backendRefs: [{ name: `b${i % 3}`, port: 8080, weight: 1 }, { name: `c${v}`, port: 8080, weight: 2 }] }],
      },
    });
  }
  return [
    { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'other', port: 81, protocol: 'HTTP', hostname: `*.w${v}.example.com` }] } },
    ...['b0', 'b1', 'b2', 'c0', 'c1'].map((name) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 8080 }] } })),
    ...routes,
  ];
}

/**
 * Requests that fill the lookup's memos: hits and misses on both ports, explain(). Every host of
 * one call has the same length, `k` more than the shortest, so that calls with different `k` use
 * different vhost slots (the slot of a host is its length modulo 16).
 */
function traffic(gw: GatewayRouter, v: number, k: number): void {
  const pad = 'a'.repeat(k % 16);
  for (let j = 0; j < 8; j++) {
    gw.route({ method: 'GET', path: `/p${j}/x`, host: `${pad}h${j}.w${j}.example.com`, headers: { 'x-v': String(v) } });
    gw.route({ method: 'GET', path: `/p${j}/y`, host: `${pad}h${j}.v${v}.example.com` });
  }
  gw.route({ method: 'GET', path: '/none', host: `${'z'.repeat(k % 16)}.w${v}.example.com`, port: 81 });
  gw.route({ method: 'GET', path: '/none', host: 'nowhere.test', port: 80 });
  gw.explain({ method: 'GET', path: '/p1', host: `h1.v${v}.example.com` });
}

/** The parts of the running snapshot a reload replaces, each as a WeakRef. */
function snapshotRefs(gw: GatewayRouter): WeakRef<object>[] {
  const ir = gw.ir;
  return [new WeakRef(ir), ...ir.listeners.map((l) => new WeakRef(l)), new WeakRef(gw.status), new WeakRef(gw.serving)];
}

describe('reloads release the tables they replace', () => {
  it('after 200 reloads that served requests, the old runtimes are collected', async () => {
    const gw = createGateway({ manifests: manifests(0) });
    const old: WeakRef<object>[][] = [];
    for (let k = 1; k <= 200; k++) {
      const v = k % 2;
      traffic(gw, 1 - v, k);
      old.push(snapshotRefs(gw));
      const r = gw.reload(manifests(v));
      expect(r.ok).toBe(true);
    }
    traffic(gw, 0, 0);
    await collect();
    // Each snapshot's IR, listeners, status and serving plan. A margin of two snapshots, in case
    // V8 keeps something one collection longer; the module-level memos kept up to 16.
    const left = old.filter((refs) => alive(refs) > 0).length;
    expect(left).toBeLessThanOrEqual(2);
    // The running snapshot is still served.
    expect(gw.route({ method: 'GET', path: '/p1', host: 'h1.v0.example.com' })).toMatchObject({ type: 'forward', route: { name: 'r0-1' } });
  });

  it('a gateway nobody holds any more is collected with its tables, though it routed requests', async () => {
    const refs: WeakRef<object>[] = [];
    (() => {
      const gw = createGateway({ manifests: manifests(0) });
      traffic(gw, 0, 3);
      traffic(gw, 0, 11);
      refs.push(new WeakRef(gw), ...snapshotRefs(gw));
    })();
    await collect();
    expect(alive(refs)).toBe(0);
  });

  it('route(), explain() and inject() keep nothing of the requests they decided (the reused request view lets go of each)', async () => {
    const gw = createGateway({ manifests: manifests(0) });
    const refs: WeakRef<object>[] = [];
    for (let k = 0; k < 300; k++) {
      // Distinct requests: Hosts, header names, paths and queries never seen before.
      const headers: Record<string, string> = { [`x-h${k}`]: 'v'.repeat(64), 'x-v': '0', 'X-Upper': String(k) };
      const request = { method: 'GET', path: `/p${k % 8}/${k}?q${k}=${k}`, host: `n${k}.w${k % 8}.example.com`, headers };
      refs.push(new WeakRef(request), new WeakRef(headers));
      const op = k % 3;
      if (op === 0) gw.route(request);
      else if (op === 1) gw.explain(request);
      else gw.inject(request);
    }
    await collect();
    expect(alive(refs)).toBeLessThanOrEqual(2);
  });
});

