/**
 * Route expectations and route-test files (docs/testing.md): what a request must reach, checked
 * against a gateway. One home for the checks: the test matchers, the `test` command and
 * `runRouteTestFile` all call {@link checkRoute}.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { createGateway, type GatewayRouter } from '../gateway/create.js';
import { manifestFilesOf } from '../adapters/node.js';
import type { RouteRequest } from '../types.js';
import { backendOf, formatExplanation } from './format.js';

/** What a request must reach. Every field given is checked; omit the ones that do not matter. */
export interface RouteExpectation {
  /** The backend: `name`, `name:port` or `namespace/name:port`. Implies a forward. */
  backend?: string;
  /** The status: 200 for a forward, the redirect's 3xx, or the gateway's own answer (404, 500...). */
  status?: number;
  /** The redirect's Location, exactly. Implies a redirect. */
  redirect?: string;
  /** Headers the backend must see (names case-insensitive, repeated values joined with ", "); null: must be absent. */
  headers?: Record<string, string | null>;
  /** The path (with query) the backend must see. */
  path?: string;
  /** A weighted split: share per backend (`name[:port]`); shares are normalised by their sum. */
  split?: Record<string, number>;
  /** For `split`: the largest accepted difference of each share, as a fraction. Default 0.01. */
  tolerance?: number;
  /** For `split`: how many requests are routed. Default 1000. */
  samples?: number;
}

/** A request as route-test files and matchers accept it: a RouteRequest, or `'METHOD URL'` / `'URL'`. */
export type RequestSpec = string | (Partial<RouteRequest> & { url?: string });

/**
 * Turns a request spec into a RouteRequest. A URL (`http://host/path?q`) gives scheme, host and
 * path, unparsed (no normalisation, so what is tested is what was written). Method default GET.
 */
export function toRouteRequest(spec: RequestSpec): RouteRequest {
  if (typeof spec === 'string') {
    const m = /^\s*(?:([A-Za-z]+)\s+)?(\S+)\s*$/.exec(spec);
    if (!m) throw new TypeError(`A request string is 'METHOD URL' or 'URL', got ${JSON.stringify(spec)}.`);
    return toRouteRequest({ ...(m[1] !== undefined ? { method: m[1].toUpperCase() } : {}), url: m[2]! });
  }
  const { url, ...rest } = spec;
  const out: RouteRequest = { ...rest, method: (spec.method ?? 'GET').toUpperCase(), path: spec.path ?? '/' };
  if (url !== undefined) {
    const u = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(url);
    if (u) {
      out.scheme ??= u[1]!.toLowerCase() as 'http' | 'https';
      if (u[2] !== '' && out.host === undefined) out.host = u[2]!;
      out.path = u[3] === '' ? '/' : u[3]!.startsWith('/') ? u[3]! : `/${u[3]!}`;
    } else {
      out.path = url;
    }
  }
  return out;
}

/** Reads `name`, `name:port` or `namespace/name:port`. */
function parseBackend(s: string): { namespace?: string; name: string; port?: number } {
  const m = /^(?:([^/]+)\/)?([^:]+)(?::(\d+))?$/.exec(s.trim());
  if (!m) return { name: s };
  return { ...(m[1] !== undefined ? { namespace: m[1] } : {}), name: m[2]!, ...(m[3] !== undefined ? { port: Number(m[3]) } : {}) };
}

/** True when `got` is the backend `want` names; port and namespace are compared only when `want` gives them. */
function sameBackend(want: string, got: string | { namespace?: string; name: string; port?: number | undefined }): boolean {
  const w = parseBackend(want);
  const g = typeof got === 'string' ? parseBackend(got) : got;
  return w.name === g.name && (w.port === undefined || w.port === g.port) && (w.namespace === undefined || g.namespace === undefined || w.namespace === g.namespace);
}

/**
 * Routes `n` requests and returns the share each outcome got: `name:port` for forwards, the
 * status code for the rest, e.g. `{ 'echo-1:8080': 0.5, 'echo-2:8090': 0.5 }`. The gateway's
 * picker decides: with `picker: 'smooth'` the shares are exact over every sum(weights) requests.
 */
export function sampleSplit(gw: Pick<GatewayRouter, 'route'>, request: RequestSpec, n = 1000): Record<string, number> {
  const req = toRouteRequest(request);
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const k = backendOf(gw.route(req));
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([k, c]) => [k, c / n]));
}

/** The result of checking one expectation: empty `failures` means it holds. */
export interface RouteCheck {
  failures: string[];
  /** The explain() table of the request, for failure messages. */
  explanation: string;
}

/**
 * Checks that `request` reaches what `expected` says on `gw`. `expected` as a string is a backend.
 * Never throws on a mismatch: the failures are returned, each one sentence.
 */
export function checkRoute(gw: GatewayRouter, request: RequestSpec, expected: string | RouteExpectation): RouteCheck {
  const want: RouteExpectation = typeof expected === 'string' ? { backend: expected } : expected;
  const req = toRouteRequest(request);
  const failures: string[] = [];
  if (want.split !== undefined) {
    const got = sampleSplit(gw, req, want.samples ?? 1000);
    const total = Object.values(want.split).reduce((a, b) => a + b, 0);
    const tolerance = want.tolerance ?? 0.01;
    const keys = new Set(Object.keys(want.split));
    for (const [k, weight] of Object.entries(want.split)) {
      const share = total > 0 ? weight / total : 0;
      const actual = Object.entries(got).filter(([g]) => sameBackend(k, g)).reduce((a, [, v]) => a + v, 0);
      if (Math.abs(actual - share) > tolerance) failures.push(`${k} got ${percent(actual)} of requests, expected ${percent(share)} ± ${percent(tolerance)}`);
    }
    for (const [g, v] of Object.entries(got)) {
      if (![...keys].some((k) => sameBackend(k, g))) failures.push(`${g} got ${percent(v)} of requests, expected none`);
    }
  }
  const hasSingle = want.backend !== undefined || want.status !== undefined || want.redirect !== undefined || want.headers !== undefined || want.path !== undefined;
  if (hasSingle) {
    const d = gw.route(req);
    const status = d.type === 'forward' ? 200 : d.status;
    if (want.status !== undefined && status !== want.status) failures.push(`status is ${status}, expected ${want.status}`);
    if (want.backend !== undefined && (d.type !== 'forward' || !sameBackend(want.backend, d.backend))) failures.push(`reaches ${backendOf(d)}, expected ${want.backend}`);
    if (want.redirect !== undefined) {
      if (d.type !== 'redirect') failures.push(`is not redirected (${backendOf(d)}), expected a redirect to ${want.redirect}`);
      else if (d.location !== want.redirect) failures.push(`redirects to ${d.location}, expected ${want.redirect}`);
    }
    if (want.headers !== undefined || want.path !== undefined) {
      const seen = gw.inject(req);
      if (seen === null) {
        failures.push(`is not forwarded (${backendOf(d)}), so no backend sees its headers or path`);
      } else {
        if (want.path !== undefined && seen.path !== want.path) failures.push(`the backend sees path ${seen.path}, expected ${want.path}`);
        for (const [name, value] of Object.entries(want.headers ?? {})) {
          const raw = seen.headers[name.toLowerCase()];
          const got = Array.isArray(raw) ? raw.join(', ') : raw;
          if (value === null && got !== undefined) failures.push(`the backend sees header ${name}: ${got}, expected it absent`);
          if (value !== null && got !== value) failures.push(`the backend sees header ${name}: ${got === undefined ? '(absent)' : JSON.stringify(got)}, expected ${JSON.stringify(value)}`);
        }
      }
    }
  }
  // Explained only on failure: explain() routes too, and would advance a weighted picker.
  return { failures, explanation: failures.length > 0 ? formatExplanation(gw.explain(req)) : '' };
}

function percent(x: number): string {
  return `${Math.round(x * 10000) / 100}%`;
}

// ---------------------------------------------------------------------------------------------
// Route-test files

const RequestSpecSchema = z.union([
  z.string(),
  z.strictObject({
    method: z.string().optional(),
    url: z.string().optional(),
    path: z.string().optional(),
    host: z.string().optional(),
    headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
    scheme: z.enum(['http', 'https']).optional(),
    port: z.number().int().optional(),
    sni: z.string().optional(),
  }),
]);

const ExpectationSchema = z.strictObject({
  backend: z.string().optional(),
  status: z.number().int().optional(),
  redirect: z.string().optional(),
  headers: z.record(z.string(), z.string().nullable()).optional(),
  path: z.string().optional(),
  split: z.record(z.string(), z.number().nonnegative()).optional(),
  tolerance: z.number().nonnegative().optional(),
  samples: z.number().int().positive().max(1_000_000).optional(),
});

/** The schema of a route-test file (docs/testing.md). */
const RouteTestFileSchema = z.strictObject({
  /** Manifest files or directories, relative to the test file. */
  manifests: z.array(z.string()).min(1),
  /** The Gateway to serve, `name` or `namespace/name`; default the only one. */
  gateway: z.string().optional(),
  /** Backend keys registered as in-process backends (they resolve without a Service). */
  backends: z.array(z.string()).optional(),
  /** The controllerName (when the manifests hold a GatewayClass). */
  controllerName: z.string().optional(),
  tests: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        request: RequestSpecSchema,
        expect: ExpectationSchema,
      }),
    )
    .min(1),
});

/** A parsed route-test file. */
export type RouteTestFile = z.infer<typeof RouteTestFileSchema>;

/** The outcome of one test of a route-test file. */
export interface RouteTestResult {
  name: string;
  ok: boolean;
  failures: string[];
  /** The explain() table, for failed tests. */
  explanation?: string;
}

/** The outcome of a route-test file: its tests, or why the file could not run. */
export interface RouteTestFileResult {
  file: string;
  /** Set when the file is malformed or its manifests do not load; no test ran. */
  error?: string;
  results: RouteTestResult[];
}

/**
 * Runs a route-test file: loads its manifests (paths relative to the file) into a gateway with
 * the smooth picker, then checks every test. Never throws for a bad file: `error` says why.
 */
export function runRouteTestFile(file: string): RouteTestFileResult {
  let spec: RouteTestFile;
  try {
    const parsed = RouteTestFileSchema.safeParse(parse(readFileSync(file, 'utf8'), { logLevel: 'error' }));
    if (!parsed.success) {
      return { file, error: parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; '), results: [] };
    }
    spec = parsed.data;
  } catch (e) {
    return { file, error: (e as Error).message, results: [] };
  }
  let gw: GatewayRouter;
  try {
    const texts = spec.manifests.flatMap((m) => manifestFilesOf(resolve(dirname(file), m))).map((f) => readFileSync(f, 'utf8'));
    const gateway = spec.gateway === undefined ? undefined : spec.gateway.includes('/') ? { namespace: spec.gateway.split('/')[0]!, name: spec.gateway.split('/')[1]! } : { name: spec.gateway };
    gw = createGateway({
      manifests: texts,
      picker: 'smooth',
      ...(gateway ? { gateway } : {}),
      ...(spec.controllerName !== undefined ? { controllerName: spec.controllerName } : {}),
      ...(spec.backends ? { backends: Object.fromEntries(spec.backends.map((k) => [k, true])) } : {}),
    });
  } catch (e) {
    return { file, error: (e as Error).message, results: [] };
  }
  const results = spec.tests.map((t, i): RouteTestResult => {
    const name = t.name ?? `${i + 1}: ${typeof t.request === 'string' ? t.request : `${t.request.method ?? 'GET'} ${t.request.url ?? t.request.path ?? '/'}`}`;
    const check = checkRoute(gw, t.request as RequestSpec, t.expect as RouteExpectation);
    return check.failures.length === 0 ? { name, ok: true, failures: [] } : { name, ok: false, failures: check.failures, explanation: check.explanation };
  });
  return { file, results };
}
