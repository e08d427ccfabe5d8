// Loads with many of each of the rare shapes that used to cost a scan per item (issue: "still
// quadratic rare shapes"): many HTTPRoutes and many GRPCRoutes sharing one listener (digest 2.2
// step 7, HostnameConflict), many BackendTLSPolicies whose targets are registered backends
// (status Accepted / TargetNotFound), many ListenerSets across many Gateways (digest 1.8). The
// indexed lookups must give exactly what the scans gave: each result is checked against a plain
// transcription of the rule, on seeded generated shapes. Correctness only; nothing is timed.
import { describe, expect, it } from 'vitest';
import { createGateway, type Condition, type GatewayRouter } from '../../src/index.js';
import type { RouteModel } from '../../src/model/attach.js';
import { HostnameIndex } from '../../src/model/routes/kind-conflicts.js';
import { intersectHostnames } from '../../src/model/hostnames.js';
import { seeded } from '../support/random.js';
import { cond } from './status-helpers.js';

type Obj = Record<string, unknown>;
const G = 'gateway.networking.k8s.io/v1';

/** Hostnames from a tiny alphabet, so that exact names, wildcards and "any" collide often. */
function hostnameGen(random: () => number): () => string {
  const labels = ['a', 'b', 'c'];
  const pick = () => labels[Math.floor(random() * labels.length)]!;
  return () => {
    const depth = Math.floor(random() * 3);
    const name = [...Array.from({ length: depth }, pick), 'ex'].join('.');
    return random() < 0.4 ? `*.${name}` : depth === 0 ? `${pick()}.ex` : name;
  };
}

/** The rule as a scan: the first entry any of whose hostnames intersects one of `hostnames` (the code this index replaced). */
function firstByScan<T>(entries: { item: T; hostnames: (string | undefined)[] }[], hostnames: (string | undefined)[]): T | undefined {
  return entries.find((e) => hostnames.some((h) => e.hostnames.some((o) => intersectHostnames(h, o) !== null)))?.item;
}

describe('HostnameIndex: the first route sharing a host, as a scan finds it', () => {
  it('agrees with the scan on thousands of generated lookups', () => {
    for (const seed of [1, 2, 3, 4]) {
      const random = seeded(seed);
      const host = hostnameGen(random);
      const hostnames = (): (string | undefined)[] => (random() < 0.05 ? [] : random() < 0.06 ? [undefined] : Array.from({ length: 1 + Math.floor(random() * 3) }, host));
      const index = new HostnameIndex();
      const entries: { item: RouteModel; hostnames: (string | undefined)[] }[] = [];
      let compared = 0;
      for (let i = 0; i < 300; i++) {
        const probe = hostnames();
        const got = index.firstIntersecting(probe);
        const want = firstByScan(entries, probe);
        expect(got, `seed ${seed}, lookup ${i}: ${JSON.stringify(probe)}`).toBe(want);
        if (want !== undefined) compared++;
        const route = { name: `r${i}` } as RouteModel;
        const own = hostnames();
        index.add(route, own);
        entries.push({ item: route, hostnames: own });
      }
      // The shape is dense enough that most lookups find something, and not all of them do.
      expect(compared).toBeGreaterThan(100);
      expect(compared).toBeLessThan(300);
    }
  });
});

describe('many HTTPRoutes and GRPCRoutes on one listener: HostnameConflict as the scan decided it', () => {
  it('rejects exactly the routes the rule rejects, naming the same older route', () => {
    const random = seeded(42);
    const host = hostnameGen(random);
    type R = { kind: 'HTTPRoute' | 'GRPCRoute'; name: string; created: number; hostnames: string[] };
    const routes: R[] = [];
    for (let i = 0; i < 400; i++) {
      const hostnames = random() < 0.03 ? [] : [...new Set(Array.from({ length: 1 + Math.floor(random() * 2) }, host))];
      // Few distinct ages, so ties fall back to namespace/name.
      routes.push({ kind: i % 2 === 0 ? 'HTTPRoute' : 'GRPCRoute', name: `r-${String(i).padStart(3, '0')}-${i % 2 === 0 ? 'web' : 'rpc'}`, created: Math.floor(random() * 60), hostnames });
    }
    const manifests: Obj[] = [
      { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'any', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 8080 }] } },
      ...routes.map((r) => ({
        apiVersion: G,
        kind: r.kind,
        metadata: { name: r.name, namespace: 'default', creationTimestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, r.created)).toISOString() },
        spec: { parentRefs: [{ name: 'gw' }], ...(r.hostnames.length > 0 ? { hostnames: r.hostnames } : {}), rules: [{ backendRefs: [{ name: 'web', port: 8080 }] }] },
      })),
    ];
    const gw = createGateway({ manifests });
    // The rule, transcribed: oldest first (then namespace/name); a route is rejected by the first
    // kept route of the other kind it shares a host with.
    const order = [...routes].sort((a, b) => a.created - b.created || (a.name < b.name ? -1 : 1));
    const kept = { HTTPRoute: [] as { item: R; hostnames: (string | undefined)[] }[], GRPCRoute: [] as { item: R; hostnames: (string | undefined)[] }[] };
    const want = new Map<string, string>();
    for (const r of order) {
      const own = r.hostnames.length > 0 ? r.hostnames : [undefined];
      const winner = firstByScan(kept[r.kind === 'HTTPRoute' ? 'GRPCRoute' : 'HTTPRoute'], own);
      if (winner) want.set(r.name, `${winner.kind} default/${winner.name}`);
      else kept[r.kind].push({ item: r, hostnames: own });
    }
    expect(want.size).toBeGreaterThan(50);
    expect(want.size).toBeLessThan(routes.length - 50);
    for (const r of routes) {
      const c = accepted(gw, r.kind, r.name);
      const w = want.get(r.name);
      if (w === undefined) expect(c.status, r.name).toBe('True');
      else {
        expect(c, r.name).toMatchObject({ status: 'False', reason: 'HostnameConflict' });
        expect(c.message.startsWith(`${w} is attached`), `${r.name}: ${c.message} should name ${w}`).toBe(true);
      }
    }
  });
});

function accepted(gw: GatewayRouter, kind: 'HTTPRoute' | 'GRPCRoute', name: string): Condition {
  const s = gw.statusOf(kind, name);
  if (s?.kind !== kind) throw new Error(`no status for ${kind} ${name}`);
  return cond(s.status.parents[0]!.conditions, 'Accepted');
}

describe('many BackendTLSPolicies on registered backends: a target counts as found exactly as before', () => {
  it('finds a target registered on some port (name:port or namespace/name:port) or without one, and nothing else', () => {
    // Each policy targets its own Service, found (or not) in one of six ways.
    const ways = ['service', 'name:port', 'namespace/name:port', 'name', 'absent', 'other-namespace'] as const;
    const backends: Record<string, string> = {};
    const manifests: Obj[] = [{ apiVersion: G, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'any', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } }];
    const n = 300;
    for (let i = 0; i < n; i++) {
      const svc = `svc-${i}`;
      const way = ways[i % ways.length]!;
      if (way === 'service') manifests.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: svc, namespace: 'default' }, spec: { ports: [{ port: 443 }] } });
      if (way === 'name:port') backends[`${svc}:443`] = 'https://127.0.0.1:1';
      if (way === 'namespace/name:port') backends[`default/${svc}:443`] = 'https://127.0.0.1:1';
      if (way === 'name') backends[svc] = 'https://127.0.0.1:1';
      if (way === 'other-namespace') backends[`elsewhere/${svc}:443`] = 'https://127.0.0.1:1';
      manifests.push({ apiVersion: G, kind: 'BackendTLSPolicy', metadata: { name: `p-${i}`, namespace: 'default' }, spec: { targetRefs: [{ group: '', kind: 'Service', name: svc }], validation: { wellKnownCACertificates: 'System', hostname: 'backend.internal' } } });
    }
    const gw = createGateway({ manifests, backends });
    const reasons = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const s = gw.statusOf('BackendTLSPolicy', `p-${i}`);
      if (s?.kind !== 'BackendTLSPolicy') throw new Error(`no status for p-${i}`);
      const c = cond(s.status.ancestors[0]!.conditions, 'Accepted');
      const way = ways[i % ways.length]!;
      expect(c.reason, `p-${i} (${way})`).toBe(way === 'absent' || way === 'other-namespace' ? 'TargetNotFound' : 'Accepted');
      reasons.set(c.reason, (reasons.get(c.reason) ?? 0) + 1);
    }
    expect(Object.fromEntries(reasons)).toEqual({ Accepted: 200, TargetNotFound: 100 });
  });
});

describe('many ListenerSets across many Gateways: each joins its own Gateway', () => {
  it('attaches each ListenerSet to the Gateway it names, and none to a Gateway that is missing', () => {
    const gateways = 30;
    const sets = 150;
    const manifests: Obj[] = [];
    for (let g = 0; g < gateways; g++) {
      manifests.push({ apiVersion: G, kind: 'Gateway', metadata: { name: `gw-${g}`, namespace: 'default' }, spec: { gatewayClassName: 'any', allowedListeners: { namespaces: { from: 'Same' } }, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } });
    }
    // Every 31st set names gw-30, which is not in the manifests.
    const parentOf = (j: number) => j % (gateways + 1);
    for (let j = 0; j < sets; j++) {
      manifests.push({ apiVersion: G, kind: 'ListenerSet', metadata: { name: `ls-${j}`, namespace: 'default' }, spec: { parentRef: { name: `gw-${parentOf(j)}` }, listeners: [{ name: `l-${j}`, port: 8000 + j, protocol: 'HTTP' }] } });
    }
    const gw = createGateway({ manifests, gateway: { name: 'gw-7' } });
    for (let j = 0; j < sets; j++) {
      const s = gw.statusOf('ListenerSet', `ls-${j}`);
      if (parentOf(j) === gateways) {
        expect(s, `ls-${j} names a missing Gateway: not ours to write status for`).toBeUndefined();
        continue;
      }
      if (s?.kind !== 'ListenerSet') throw new Error(`no status for ls-${j}`);
      expect(cond(s.status.conditions, 'Accepted').status, `ls-${j}`).toBe('True');
    }
    for (let g = 0; g < gateways; g++) {
      const s = gw.statusOf('Gateway', `gw-${g}`);
      if (s?.kind !== 'Gateway') throw new Error(`no status for gw-${g}`);
      const expected = Array.from({ length: sets }, (_, j) => j).filter((j) => parentOf(j) === g).length;
      expect(s.status.attachedListenerSets ?? 0, `gw-${g}`).toBe(expected);
    }
    // The served Gateway's plan opens its ListenerSets' ports too.
    const ports = gw.serving.listeners.map((l) => l.port).sort((a, b) => a - b);
    expect(ports).toEqual([80, ...Array.from({ length: sets }, (_, j) => j).filter((j) => parentOf(j) === 7).map((j) => 8000 + j)]);
  });
});
