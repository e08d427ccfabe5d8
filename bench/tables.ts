/**
 * Route tables generated the way teams write them: many services, each with a prefix and some
 * exact paths, some header-discriminated canaries, some query and method matches, a share of
 * routes on hostnames (some wildcard). Deterministic for a given size.
 */
import type { RouteRequest } from '../src/index.js';

export interface Table {
  manifests: Record<string, unknown>[];
  /** Every path value registered, for the bare find-my-way comparison: [type, value]. */
  paths: [string, string][];
  requests: { hits: RouteRequest[]; misses: RouteRequest[]; headerHits: RouteRequest[] };
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const G = 'gateway.networking.k8s.io/v1';
const VERBS = ['users', 'orders', 'items', 'search', 'health', 'profile', 'cart', 'billing'];

export function generateTable(n: number, seed = 1): Table {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const manifests: Record<string, unknown>[] = [
    {
      apiVersion: G,
      kind: 'Gateway',
      metadata: { name: 'gw' },
      spec: { gatewayClassName: 'bench', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] },
    },
  ];
  const paths: [string, string][] = [];
  const hits: RouteRequest[] = [];
  const headerHits: RouteRequest[] = [];
  const services = Math.max(1, Math.ceil(n / 4));
  for (let s = 0; s < services; s++) {
    manifests.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${s}` }, spec: { ports: [{ port: 8080 }] } });
  }
  for (let i = 0; i < n; i++) {
    const svc = i % services;
    const base = `/svc-${svc}/${pick(VERBS)}-${i}`;
    const hostRoll = r();
    const hostnames = hostRoll < 0.2 ? [`app-${i % 50}.example.com`] : hostRoll < 0.3 ? [`*.team-${i % 10}.example.com`] : undefined;
    const host = hostnames ? hostnames[0]!.replace('*', 'x') : 'example.org';
    const rules: Record<string, unknown>[] = [];
    const backend = [{ name: `svc-${svc}`, port: 8080 }];
    // A prefix rule for the service path.
    rules.push({ matches: [{ path: { type: 'PathPrefix', value: base } }], backendRefs: backend });
    paths.push(['PathPrefix', base]);
    hits.push({ method: 'GET', path: `${base}/${i}`, host, port: 80 });
    if (r() < 0.5) {
      const exact = `${base}/status`;
      rules.push({ matches: [{ path: { type: 'Exact', value: exact }, method: pick(['GET', 'HEAD'] as const) }], backendRefs: backend });
      paths.push(['Exact', exact]);
    }
    const roll = r();
    if (roll < 0.35) {
      // A header-discriminated canary on the same prefix, with 1 or 2 headers.
      const headers = [{ name: 'x-canary', value: 'true' }, ...(r() < 0.5 ? [{ name: 'x-team', value: `t${i % 7}` }] : [])];
      rules.push({ matches: [{ path: { type: 'PathPrefix', value: base }, headers }], backendRefs: backend });
      headerHits.push({ method: 'GET', path: `${base}/x`, host, port: 80, headers: Object.fromEntries(headers.map((h) => [h.name, h.value])) });
    } else if (roll < 0.5) {
      rules.push({ matches: [{ path: { type: 'PathPrefix', value: base }, queryParams: [{ name: 'version', value: 'v2' }] }], backendRefs: backend });
    } else if (roll < 0.6) {
      rules.push({ matches: [{ path: { type: 'PathPrefix', value: `${base}/write` }, method: 'POST' }], backendRefs: backend });
      paths.push(['PathPrefix', `${base}/write`]);
    }
    manifests.push({
      apiVersion: G,
      kind: 'HTTPRoute',
      metadata: { name: `route-${i}` },
      spec: { parentRefs: [{ name: 'gw' }], ...(hostnames ? { hostnames } : {}), rules },
    });
  }
  const misses: RouteRequest[] = Array.from({ length: 64 }, (_, k) => ({ method: 'GET', path: `/nope-${k}/${pick(VERBS)}`, host: 'example.org', port: 80 }));
  return { manifests, paths, requests: { hits, misses, headerHits: headerHits.length ? headerHits : hits } };
}

/** A fixed mix: 60% hits, 20% misses, 20% header-discriminated hits, shuffled deterministically. */
export function requestMix(t: Table, count = 1024, seed = 2): RouteRequest[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: count }, () => {
    const roll = r();
    return roll < 0.6 ? pick(t.requests.hits) : roll < 0.8 ? pick(t.requests.misses) : pick(t.requests.headerHits);
  });
}
