/**
 * Route tables of several shapes, generated the way teams write them, and request sets spread
 * over the whole table. Deterministic for a given shape, size and seed.
 *
 * Shapes (every one host-less unless said otherwise):
 * - `services`: many services, a prefix per route, exact `/status` paths with a method,
 *   header-discriminated canaries, query and method matches; a fifth of the routes on exact
 *   hostnames and a tenth on wildcard hostnames (the original bench table).
 * - `one-vhost`: almost every route in one host-less virtual host; a fifth carry header
 *   conditions, some method and query conditions; half the rules split between two weighted
 *   backends.
 * - `deep-prefix`: deep shared prefixes, `/api/v1/<team>/<svc>`, with exact health paths and
 *   header-guarded admin prefixes below them.
 * - `canary`: shared paths, each served by a base rule, a header-discriminated canary and a
 *   method-discriminated write rule.
 * - `weighted`: two- and three-backend weighted rules on every route.
 *
 * Each request set holds at least 20,000 distinct requests, 30% of them misses, drawn uniformly
 * over the routes (not a small cycle that stays in cache).
 */
import type { RouteRequest } from '../src/index.js';
import { seededRandom } from '../src/testing/random.js';

export type Shape = 'services' | 'one-vhost' | 'deep-prefix' | 'canary' | 'weighted';
export const SHAPES: readonly Shape[] = ['services', 'one-vhost', 'deep-prefix', 'canary', 'weighted'];

export interface Table {
  shape: Shape;
  routes: number;
  manifests: Record<string, unknown>[];
  /** Every path value registered, for the bare find-my-way comparison: [type, value]. */
  paths: [string, string][];
  /** Hit templates, one or more per route. */
  hits: Template[];
  /** Miss templates. */
  misses: Template[];
}

/** A request family: `path` is a PathPrefix value (requests go to it and below it) or an exact path. */
export interface Template {
  method: string;
  path: string;
  under: boolean;
  host: string;
  headers?: Record<string, string>;
}

/** The tables' seeded generator: the library's own (mulberry32), so a table is the same on every run. */
export const rng = seededRandom;

const G = 'gateway.networking.k8s.io/v1';
const VERBS = ['users', 'orders', 'items', 'search', 'health', 'profile', 'cart', 'billing'];
const ANY_HOST = 'example.org';

interface Builder {
  r: () => number;
  pick: <T>(xs: readonly T[]) => T;
  t: Table;
  services: number;
  route(name: string, rules: Record<string, unknown>[], hostnames?: string[]): void;
  backends(i: number, count: number): Record<string, unknown>[];
  prefix(value: string): Record<string, unknown>;
  exact(value: string): Record<string, unknown>;
}

function builder(shape: Shape, n: number, seed: number): Builder {
  const r = rng(seed);
  const services = Math.max(2, Math.ceil(n / 4));
  const t: Table = {
    shape,
    routes: n,
    manifests: [
      {
        apiVersion: G,
        kind: 'Gateway',
        metadata: { name: 'gw' },
        spec: { gatewayClassName: 'bench', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] },
      },
    ],
    paths: [],
    hits: [],
    misses: [],
  };
  for (let s = 0; s < services; s++) t.manifests.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${s}` }, spec: { ports: [{ port: 8080 }] } });
  return {
    r,
    pick: (xs) => xs[Math.floor(r() * xs.length)]!,
    t,
    services,
    route(name, rules, hostnames) {
      t.manifests.push({ apiVersion: G, kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs: [{ name: 'gw' }], ...(hostnames ? { hostnames } : {}), rules } });
    },
    backends(i, count) {
      if (count === 1) return [{ name: `svc-${i % services}`, port: 8080 }];
      return Array.from({ length: count }, (_, k) => ({ name: `svc-${(i + k) % services}`, port: 8080, weight: k === 0 ? 90 - 10 * count : 5 + 5 * k }));
    },
    prefix(value) {
      t.paths.push(['PathPrefix', value]);
      return { type: 'PathPrefix', value };
    },
    exact(value) {
      t.paths.push(['Exact', value]);
      return { type: 'Exact', value };
    },
  };
}

export function generateTable(n: number, shape: Shape = 'services', seed = 1): Table {
  const b = builder(shape, n, seed);
  const { r, pick, t } = b;
  const hit = (tpl: Template) => t.hits.push(tpl);
  const miss = (tpl: Template) => t.misses.push(tpl);
  switch (shape) {
    case 'services':
    case 'one-vhost':
    case 'weighted': {
      for (let i = 0; i < n; i++) {
        const base = `/svc-${i % b.services}/${pick(VERBS)}-${i}`;
        const hostRoll = r();
        const hostnames =
          shape === 'services' ? (hostRoll < 0.2 ? [`app-${i % 50}.example.com`] : hostRoll < 0.3 ? [`*.team-${i % 10}.example.com`] : undefined) : shape === 'one-vhost' && hostRoll < 0.05 ? [`app-${i % 5}.example.com`] : undefined;
        const host = hostnames ? hostnames[0]!.replace('*', 'x') : ANY_HOST;
        const count = shape === 'weighted' ? 2 + (i % 2) : shape === 'one-vhost' && r() < 0.5 ? 2 : 1;
        const backendRefs = b.backends(i, count);
        const rules: Record<string, unknown>[] = [{ matches: [{ path: b.prefix(base) }], backendRefs }];
        hit({ method: 'GET', path: base, under: true, host });
        if (r() < 0.5) {
          const method = pick(['GET', 'HEAD'] as const);
          rules.push({ matches: [{ path: b.exact(`${base}/status`), method }], backendRefs });
          hit({ method, path: `${base}/status`, under: false, host });
        }
        const roll = r();
        const headerShare = shape === 'one-vhost' ? 0.2 : 0.35;
        if (roll < headerShare) {
          const headers = { 'x-canary': 'true', ...(r() < 0.5 ? { 'x-team': `t${i % 7}` } : {}) };
          rules.push({ matches: [{ path: { type: 'PathPrefix', value: base }, headers: Object.entries(headers).map(([name, value]) => ({ name, value })) }], backendRefs });
          hit({ method: 'GET', path: base, under: true, host, headers });
        } else if (roll < headerShare + 0.15) {
          rules.push({ matches: [{ path: { type: 'PathPrefix', value: base }, queryParams: [{ name: 'version', value: 'v2' }] }], backendRefs });
          hit({ method: 'GET', path: `${base}/q?version=v2`, under: false, host });
        } else if (roll < headerShare + 0.25) {
          rules.push({ matches: [{ path: b.prefix(`${base}/write`), method: 'POST' }], backendRefs });
          hit({ method: 'POST', path: `${base}/write`, under: true, host });
        }
        b.route(`route-${i}`, rules, hostnames);
        // Misses: an unknown service path, and a near miss that shares the first segment.
        miss({ method: 'GET', path: `/nope-${i}/${pick(VERBS)}`, under: true, host });
        miss({ method: 'GET', path: `/svc-${i % b.services}/gone-${i}`, under: true, host });
      }
      break;
    }
    case 'deep-prefix': {
      const teams = Math.max(2, Math.round(Math.sqrt(n) / 2));
      for (let i = 0; i < n; i++) {
        const team = `team-${i % teams}`;
        const base = `/api/v1/${team}/svc-${i}`;
        const backendRefs = b.backends(i, i % 3 === 0 ? 2 : 1);
        const rules: Record<string, unknown>[] = [
          { matches: [{ path: b.prefix(base) }], backendRefs },
          { matches: [{ path: b.exact(`${base}/health`), method: 'GET' }], backendRefs },
        ];
        hit({ method: 'GET', path: base, under: true, host: ANY_HOST });
        hit({ method: 'GET', path: `${base}/health`, under: false, host: ANY_HOST });
        if (i % 4 === 0) {
          rules.push({ matches: [{ path: b.prefix(`${base}/admin`), headers: [{ name: 'x-role', value: 'admin' }] }], backendRefs });
          hit({ method: 'GET', path: `${base}/admin`, under: true, host: ANY_HOST, headers: { 'x-role': 'admin' } });
        }
        b.route(`route-${i}`, rules);
        miss({ method: 'GET', path: `/api/v1/${team}/svc-${n + i}/x`, under: true, host: ANY_HOST });
        miss({ method: 'GET', path: `/api/v2/${team}/svc-${i}`, under: true, host: ANY_HOST });
      }
      break;
    }
    case 'canary': {
      // Three routes per shared path: base, header canary, method-discriminated writes.
      const paths = Math.max(1, Math.ceil(n / 3));
      for (let i = 0; i < n; i++) {
        const p = i % paths;
        const base = `/app-${p % 64}/${VERBS[p % VERBS.length]}-${p}`;
        const backendRefs = b.backends(i, 1);
        const kind = Math.floor(i / paths);
        if (kind === 0) {
          b.route(`route-${i}`, [{ matches: [{ path: b.prefix(base) }], backendRefs }]);
          hit({ method: 'GET', path: base, under: true, host: ANY_HOST });
        } else if (kind === 1) {
          const headers = p % 2 === 0 ? [{ name: 'x-canary', value: 'always' }] : [{ name: 'x-user-group', type: 'RegularExpression', value: 'beta|internal' }];
          b.route(`route-${i}`, [{ matches: [{ path: { type: 'PathPrefix', value: base }, headers }], backendRefs }]);
          hit({ method: 'GET', path: base, under: true, host: ANY_HOST, headers: { [headers[0]!.name]: p % 2 === 0 ? 'always' : 'beta' } });
        } else {
          b.route(`route-${i}`, [{ matches: [{ path: { type: 'PathPrefix', value: base }, method: 'POST' }, { path: { type: 'PathPrefix', value: base }, method: 'PUT' }], backendRefs }]);
          hit({ method: 'POST', path: base, under: true, host: ANY_HOST });
        }
        miss({ method: 'GET', path: `/app-${p % 64}/unknown-${i}`, under: true, host: ANY_HOST });
        miss({ method: 'GET', path: `/static/${i}.js`, under: false, host: ANY_HOST });
      }
      break;
    }
  }
  return t;
}

/** Headers as node's req.headers carries them (lower-case names), plus the template's own. */
function headersOf(tpl: Template): Record<string, string> {
  const headers: Record<string, string> = { host: flat(tpl.host), 'user-agent': 'bench/1.0', accept: '*/*' };
  for (const [name, value] of Object.entries(tpl.headers ?? {})) headers[flat(name)] = flat(value);
  return headers;
}

/**
 * A string as Node's HTTP parser hands it over: one flat sequence of characters. Template
 * literals and `+` build ropes (V8 cons strings) that are flattened on first read and then cost
 * an extra indirection on every read, which requests from a socket never do; the find-my-way
 * baseline reads the same strings.
 */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/** One concrete request of a template; `k` makes it distinct (a segment below a prefix, or a query). */
export function requestOf(tpl: Template, k: number): RouteRequest {
  const path = tpl.under ? (k % 4 === 0 ? tpl.path : `${tpl.path}/${k}`) : `${tpl.path}${tpl.path.includes('?') ? '&' : '?'}n=${k}`;
  return { method: tpl.method, path: flat(path), host: flat(tpl.host), port: 80, headers: headersOf(tpl) };
}

/**
 * `count` distinct requests, a `missShare` of them misses, the rest hits drawn uniformly over
 * the table's hit templates. Shuffled deterministically.
 */
export function requestSet(t: Table, opts: { count?: number; missShare?: number; seed?: number } = {}): RouteRequest[] {
  const count = opts.count ?? 20_000;
  const missShare = opts.missShare ?? 0.3;
  const r = rng(opts.seed ?? 2);
  const out: RouteRequest[] = [];
  for (let k = 0; k < count; k++) {
    const list = r() < missShare ? t.misses : t.hits;
    out.push(requestOf(list[Math.floor(r() * list.length)]!, k));
  }
  return out;
}
