/**
 * Runs the ported conformance cases in ./cases. Each case is our own data file carrying the
 * facts of one upstream test (kubernetes-sigs/gateway-api conformance/tests/<name>.go/.yaml):
 * the manifests it applies, the status it expects, and the requests it sends with the answer
 * each must get. See ./README.md for the format.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { parse } from 'yaml';
import { createGateway, type Decision, type GatewayRouter, type HeaderOps, type RouteRequest } from '../../src/index.js';
import { grpcStatusOf } from '../../src/adapters/protocols/grpc.js';
import { backendTLSFor, routeTLS, type ServingPlan } from '../../src/gateway/serving.js';
import { seeded } from '../support/random.js';

export interface StatusExpectation {
  kind: 'Gateway' | 'ListenerSet' | 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'BackendTLSPolicy';
  name: string;
  namespace?: string;
  /** For routes: the parentRef name (and optionally kind, namespace, sectionName) the conditions are under. */
  parent?: { name: string; kind?: 'Gateway' | 'ListenerSet'; namespace?: string; sectionName?: string };
  /** For BackendTLSPolicy: the Gateway (`status.ancestors[].ancestorRef` name) the conditions are under. */
  ancestor?: string;
  /** For BackendTLSPolicy: every condition's observedGeneration equals the object's metadata.generation (upstream's BackendTLSPolicyMustHaveLatestConditions). */
  latestConditions?: boolean;
  /** For routes: how many status.parents entries there must be in all (upstream's HTTPRouteMustHaveParents). */
  parentCount?: number;
  /** For Gateways: status.attachedListenerSets, absent counting as 0 (upstream's GatewayMustHaveAttachedListeners). */
  attachedListenerSets?: number;
  /** For Gateways and ListenerSets: `listeners` are all the status lists, no more (upstream's ListenerSetStatusMustHaveListeners). */
  allListeners?: boolean;
  /** Conditions that must be present; `reason` omitted = any reason; `message` = the prefix the message must start with. */
  conditions?: { type: string; status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string }[];
  /** Condition types that must be absent (e.g. PartiallyInvalid on a fully valid route). */
  absentConditions?: string[];
  /** For routes: true when the route must have no status entry for `parent` (or none at all). */
  noParent?: boolean;
  /** For Gateways and ListenerSets: listeners that must be present with these fields. */
  listeners?: { name: string; attachedRoutes?: number; supportedKinds?: string[]; conditions?: { type: string; status: string; reason?: string }[] }[];
}

/** The request a backend must receive (upstream's ExpectedRequest). */
export interface BackendRequestExpectation {
  /** Path with query; default: the path the client sent. */
  path?: string;
  /** Host header; not compared when omitted. */
  host?: string;
  /** Default: the client's method. */
  method?: string;
  /** Headers that must be present: names case-insensitive, repeated values joined with ",". */
  headers?: Record<string, string>;
  /** Headers that must be absent (case-insensitive). */
  absentHeaders?: string[];
}

/** Response headers the client must get (upstream's Response.Headers/ValidHeaderValues/AbsentHeaders). */
export interface ResponseExpectation {
  /** Exact values, repeated values joined with ",". */
  headers?: Record<string, string>;
  /** Each value must equal one of the candidates, compared as comma-separated lists in any order, whitespace ignored. */
  anyOf?: Record<string, string[]>;
  /** Headers that must be absent (case-insensitive). */
  absentHeaders?: string[];
  /** Ignore spaces when comparing `headers`. */
  ignoreWhitespace?: boolean;
}

/** A redirect's Location, compared as upstream's harness does. */
export interface RedirectExpectation {
  /** Default: the request's scheme. */
  scheme?: 'http' | 'https';
  /** Not compared when omitted (upstream cannot know the gateway's address). */
  host?: string;
  /** Omitted: the Location must have no port or the scheme's default one. */
  port?: number;
  /** The Location's path without query; default: the request path without query. */
  path?: string;
}

/** A backend that must receive a copy of the request. */
export interface MirrorExpectation {
  backend: string;
  namespace?: string;
  /** Share of requests mirrored (0-100); checked by `mirrorDistribution` instead of on each request. */
  percent?: number;
}

export interface RequestExpectation {
  /** Which Gateway serves this request (`namespace/name`); default: the case's `gateway`. */
  gateway?: string;
  request: Partial<RouteRequest> & { path: string };
  /**
   * A TLS connection (TLSRoute) instead of an HTTP request: routed by `request.sni` on the
   * listeners of `request.port` (default 443); `expect.route` names the TLSRoute that gets it,
   * `expect.closed` says no listener or route does (upstream: the connection is rejected).
   */
  tls?: boolean;
  /** Headers the backend answers with (upstream tells its echo backend to set them); `responseHeaders` of the decision apply to these. */
  backendResponseHeaders?: Record<string, string>;
  /** The answer: an HTTP status, and for 200 the backend that must receive it. */
  expect: {
    /** One status, or the statuses any of which is accepted. A forward counts as 200. Optional with `grpcStatus`. */
    status?: number | number[];
    /** For gRPC cases: the gRPC status the call gets (0 OK for a forward, 12 UNIMPLEMENTED...). */
    grpcStatus?: number;
    /** The Service port's appProtocol the forward carries (how the adapters speak to the backend). */
    appProtocol?: string;
    /** The retry policy the forward carries (GEP-1731); the retries themselves are the adapters' (test/adapters/protocols.test.ts). */
    retry?: { codes: number[]; attempts?: number; backoffMs?: number };
    backend?: string;
    namespace?: string;
    /** For `tls` requests: the TLSRoute (`namespace/name`, or name) the connection is given to. */
    route?: string;
    /** For `tls` requests: true when the connection is refused (no listener, no route, or a backendRef that does not resolve). */
    closed?: boolean;
    /**
     * For forwards (and `tls` connections to a Terminate listener): the BackendTLSPolicy in effect
     * for the backend, by the hostname it sends as SNI (upstream's request SNI to its TLS echo
     * backend); null: none applies.
     */
    backendTLS?: { hostname: string } | { refused: true } | null;
    /** false: the gateway answers itself and no backend receives the request (CORS preflight). */
    forwarded?: boolean;
    /**
     * For forwards: what the backend receives. Omitted: upstream's default, the request as sent
     * (same path; same host and headers when the request gives them).
     */
    backendRequest?: BackendRequestExpectation;
    /** Response headers: the decision's `responseHeaders` applied to `backendResponseHeaders`, or a gateway answer's headers. */
    response?: ResponseExpectation;
    redirect?: RedirectExpectation;
    /** Backends that receive a copy, with the client's path. */
    mirrors?: MirrorExpectation[];
    /** For mirrors with `percent`: send `count` requests; each mirror's count must lie within `stdDevs` binomial standard deviations. */
    mirrorDistribution?: { count: number; stdDevs: number };
    /** The rule timeouts (ms) the decision carries; null = none. The 504 itself is the adapters' job. */
    timeouts?: { request?: number; backendRequest?: number } | null;
    /**
     * Repeat the request `count` times. `shares`: each backend's share within `tolerance`;
     * `backendHeader`: each forwarded request carries this header once, equal to the backend's name.
     */
    distribution?: { count: number; tolerance?: number; shares?: Record<string, number>; backendHeader?: string };
  };
  /** One line on what the upstream test checks with this request. */
  why?: string;
}

/** Another upstream ShortName of the same test file that runs the same checks on other manifests. */
export interface CaseVariant {
  shortName: string;
  features: string[];
  manifests: string;
}

export interface ConformanceCase {
  /** Upstream file stem, e.g. `httproute-matching`. */
  name: string;
  /** Upstream ShortName(s). */
  shortName: string;
  features: string[];
  /** The Gateway served by default, `namespace/name`. */
  gateway: string;
  /** Manifests applied on top of base.yaml (YAML text). */
  manifests: string;
  /** Further ShortNames whose status and request checks are this case's, on their own manifests. */
  variants?: CaseVariant[];
  status?: StatusExpectation[];
  requests?: RequestExpectation[];
  /** When set, the case is listed as not passing, with this reason, and its checks are skipped. */
  skip?: string;
  /**
   * True for gRPC tests: every request is a gRPC call (`POST`, `content-type: application/grpc`)
   * to the `/{service}/{method}` in its path, and also runs end to end with a gRPC echo
   * (test/conformance/grpc-e2e.test.ts).
   */
  grpc?: boolean;
}

const here = new URL('.', import.meta.url);

/** The cases of `cases/` (ported upstream tests) or `local-cases/` (ours, same format). */
export function loadCases(folder: 'cases' | 'local-cases' = 'cases'): ConformanceCase[] {
  const dir = new URL(`./${folder}/`, here);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => asGrpc(parse(readFileSync(new URL(f, dir), 'utf8')) as ConformanceCase));
}

/** A gRPC case's requests as the gRPC client sends them: POST with `content-type: application/grpc`. */
function asGrpc(c: ConformanceCase): ConformanceCase {
  if (!c.grpc) return c;
  for (const r of c.requests ?? []) {
    r.request.method ??= 'POST';
    r.request.headers = { ...(r.request.headers ?? {}), 'content-type': 'application/grpc' };
  }
  return c;
}

export const BASE = readFileSync(new URL('./base.yaml', here), 'utf8');


export function gatewayFor(manifests: string, key: string): GatewayRouter {
  const [namespace, name] = key.split('/') as [string, string];
  return createGateway({
    manifests: [BASE, manifests],
    gateway: { namespace, name },
    now: () => new Date('2026-01-01T00:00:00Z'),
    random: seeded(42),
  });
}

/** The HTTP status a decision answers with (200 for forward). */
export function statusOf(d: Decision): number {
  return d.type === 'forward' ? 200 : d.status;
}

export function statuses(e: RequestExpectation['expect']): number[] {
  return e.status === undefined ? [] : Array.isArray(e.status) ? e.status : [e.status];
}

export function toRequest(r: RequestExpectation['request']): RouteRequest {
  return { method: 'GET', ...r } as RouteRequest;
}

// ---------------------------------------------------------------------------------------------
// Comparisons, as upstream's harness (conformance/utils/http) makes them. Each returns the list
// of mismatches, empty when the decision satisfies the expectation.

type Headers = Record<string, string[]>;

function lower(h: Record<string, string | string[] | undefined> | undefined): Headers {
  const out: Headers = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    if (v === undefined) continue;
    const key = k.toLowerCase();
    out[key] = [...(out[key] ?? []), ...(Array.isArray(v) ? v : [v])];
  }
  return out;
}

/** Applies header operations in order: set replaces, add appends, remove deletes. */
export function applyResponseOps(backend: Record<string, string> | undefined, ops: readonly HeaderOps[]): Headers {
  const out = lower(backend);
  for (const op of ops) {
    for (const [n, v] of op.set) out[n.toLowerCase()] = [v];
    for (const [n, v] of op.add) out[n.toLowerCase()] = [...(out[n.toLowerCase()] ?? []), v];
    for (const n of op.remove) delete out[n.toLowerCase()];
  }
  return out;
}

/** The backend request check: explicit, or upstream's default (the request as sent). */
export function checkBackendRequest(r: RequestExpectation, d: Decision): string[] {
  if (d.type !== 'forward') return [];
  const want: BackendRequestExpectation = r.expect.backendRequest ?? {
    ...(r.request.host !== undefined ? { host: r.request.host } : {}),
    headers: Object.fromEntries(Object.entries(lower(r.request.headers)).map(([k, v]) => [k, v.join(',')])),
  };
  const errs: string[] = [];
  const got = d.request;
  const path = want.path ?? r.request.path;
  if (got.path !== path) errs.push(`backend path ${got.path}, want ${path}`);
  if (want.host !== undefined && got.host !== want.host) errs.push(`backend host ${got.host}, want ${want.host}`);
  const method = want.method ?? r.request.method ?? 'GET';
  if (got.method !== method) errs.push(`backend method ${got.method}, want ${method}`);
  const headers = lower(got.headers);
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    const v = headers[name.toLowerCase()];
    if (v === undefined) errs.push(`backend header ${name} missing`);
    else if (v.join(',') !== value) errs.push(`backend header ${name}: ${v.join(',')}, want ${value}`);
  }
  for (const name of want.absentHeaders ?? []) {
    const v = headers[name.toLowerCase()];
    if (v !== undefined) errs.push(`backend header ${name} present: ${v.join(',')}`);
  }
  return errs;
}

/** The headers the client receives with this decision. */
export function responseHeaders(r: RequestExpectation, d: Decision): Headers {
  if (d.type === 'respond') return lower(d.headers);
  if (d.type === 'redirect') return applyResponseOps({ location: d.location }, d.responseHeaders);
  return applyResponseOps(r.backendResponseHeaders, d.responseHeaders);
}

function listItems(v: string): string[] {
  return v.split(',').map((s) => s.replace(/\s+/g, '')).filter((s) => s !== '').sort();
}

export function checkResponse(r: RequestExpectation, d: Decision): string[] {
  const want = r.expect.response;
  if (!want) return [];
  const got = responseHeaders(r, d);
  const errs: string[] = [];
  const strip = (s: string) => (want.ignoreWhitespace ? s.replace(/ /g, '') : s);
  for (const [name, value] of Object.entries(want.headers ?? {})) {
    const v = got[name.toLowerCase()];
    if (v === undefined) errs.push(`response header ${name} missing`);
    else if (strip(v.join(',')) !== strip(value)) errs.push(`response header ${name}: ${v.join(',')}, want ${value}`);
  }
  for (const [name, candidates] of Object.entries(want.anyOf ?? {})) {
    const v = got[name.toLowerCase()];
    if (v === undefined) errs.push(`response header ${name} missing`);
    else {
      const items = JSON.stringify(listItems(v.join(',')));
      if (!candidates.some((c) => JSON.stringify(listItems(c)) === items)) errs.push(`response header ${name}: ${v.join(',')}, want one of ${JSON.stringify(candidates)} (any order)`);
    }
  }
  for (const name of want.absentHeaders ?? []) {
    const v = got[name.toLowerCase()];
    if (v !== undefined) errs.push(`response header ${name} present: ${v.join(',')}`);
  }
  return errs;
}

const DEFAULT_PORT: Record<string, string> = { http: '80', https: '443' };

/** Splits a Location into scheme, host, port (as written, '' when none) and decoded path. */
export function parseLocation(location: string): { scheme: string; host: string; port: string; path: string } | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#]*)(?::(\d*))?([^?#]*)/i.exec(location);
  if (!m) return null;
  return { scheme: m[1]!.toLowerCase(), host: m[2]!, port: m[3] ?? '', path: decodeURI(m[4] ?? '') };
}

export function checkRedirect(r: RequestExpectation, d: Decision): string[] {
  const want = r.expect.redirect;
  if (!want) return [];
  if (d.type !== 'redirect') return [`expected a redirect, got ${d.type}`];
  const loc = parseLocation(d.location);
  if (!loc) return [`Location ${d.location} is not an absolute URL`];
  const errs: string[] = [];
  const scheme = want.scheme ?? r.request.scheme ?? (r.request.sni !== undefined ? 'https' : 'http');
  if (loc.scheme !== scheme) errs.push(`Location scheme ${loc.scheme}, want ${scheme}`);
  if (want.host !== undefined && loc.host !== want.host) errs.push(`Location host ${loc.host}, want ${want.host}`);
  if (want.port !== undefined) {
    if (loc.port !== String(want.port)) errs.push(`Location port ${loc.port || '(none)'}, want ${want.port}`);
  } else if (loc.port !== '' && loc.port !== DEFAULT_PORT[loc.scheme]) {
    errs.push(`Location port ${loc.port}, want none or ${DEFAULT_PORT[loc.scheme] ?? 'the default'}`);
  }
  const path = want.path ?? r.request.path.split('?')[0]!;
  if (loc.path !== path) errs.push(`Location path ${loc.path}, want ${path}`);
  return errs;
}

/** Mirrors without `percent` must each receive a copy with the client's path. */
export function checkMirrors(r: RequestExpectation, d: Decision): string[] {
  const want = (r.expect.mirrors ?? []).filter((m) => m.percent === undefined);
  if (want.length === 0) return [];
  if (d.type !== 'forward') return [`expected a forward with mirrors, got ${d.type}`];
  const errs: string[] = [];
  for (const m of want) {
    const got = d.mirrors.find((x) => x.backend.name === m.backend && (m.namespace === undefined || x.backend.namespace === m.namespace));
    if (!got) errs.push(`no mirror to ${m.namespace ?? ''}/${m.backend}`);
    else if (got.request.path !== r.request.path) errs.push(`mirror to ${m.backend} has path ${got.request.path}, want ${r.request.path}`);
  }
  return errs;
}

export function checkRetry(r: RequestExpectation, d: Decision): string[] {
  if (r.expect.retry === undefined) return [];
  if (d.type !== 'forward') return [`expected a forward carrying a retry policy, got ${d.type}`];
  return JSON.stringify(d.retry ?? null) === JSON.stringify(r.expect.retry) ? [] : [`retry ${JSON.stringify(d.retry)}, want ${JSON.stringify(r.expect.retry)}`];
}

export function checkTimeouts(r: RequestExpectation, d: Decision): string[] {
  if (r.expect.timeouts === undefined) return [];
  if (d.type !== 'forward') return [`expected a forward carrying timeouts, got ${d.type}`];
  const want = r.expect.timeouts;
  const got = d.timeouts ?? null;
  return JSON.stringify(got) === JSON.stringify(want) ? [] : [`timeouts ${JSON.stringify(got)}, want ${JSON.stringify(want)}`];
}

/** The checks on one decision (not the repeated ones). */
export function checkDecision(r: RequestExpectation, d: Decision, plan?: ServingPlan): string[] {
  const e = r.expect;
  const errs: string[] = [];
  const status = statusOf(d);
  if (e.status !== undefined && !statuses(e).includes(status)) errs.push(`status ${status}, want ${statuses(e).join(' or ')}`);
  if (e.grpcStatus !== undefined && grpcStatusOf(d) !== e.grpcStatus) errs.push(`grpc-status ${grpcStatusOf(d)}, want ${e.grpcStatus}`);
  if (e.forwarded === false && d.type === 'forward') errs.push(`forwarded to ${d.backend.name}, want an answer from the gateway`);
  if (e.forwarded === true && d.type !== 'forward') errs.push(`answered ${d.type}, want a forward`);
  if (e.backend !== undefined && (d.type !== 'forward' || d.backend.name !== e.backend)) errs.push(`backend ${d.type === 'forward' ? d.backend.name : '(none)'}, want ${e.backend}`);
  if (e.namespace !== undefined && d.type === 'forward' && d.backend.namespace !== e.namespace) errs.push(`backend namespace ${d.backend.namespace}, want ${e.namespace}`);
  if (e.appProtocol !== undefined && (d.type !== 'forward' || d.backend.appProtocol !== e.appProtocol)) errs.push(`backend appProtocol ${d.type === 'forward' ? d.backend.appProtocol : '(none)'}, want ${e.appProtocol}`);
  if (e.backendTLS !== undefined && plan !== undefined && d.type === 'forward') {
    const tls = backendTLSFor(plan, d.backend);
    const got = tls === undefined ? '(no policy)' : tls.refused !== undefined ? '(refused: the adapters answer 502)' : tls.hostname;
    const want = e.backendTLS === null ? '(no policy)' : 'refused' in e.backendTLS ? '(refused: the adapters answer 502)' : e.backendTLS.hostname;
    if (got !== want) errs.push(`BackendTLSPolicy ${got}, want ${want}`);
  }
  if (errs.length > 0) return errs;
  return [...checkBackendRequest(r, d), ...checkResponse(r, d), ...checkRedirect(r, d), ...checkMirrors(r, d), ...checkTimeouts(r, d), ...checkRetry(r, d)];
}

export { seeded };

/** The checks on one TLS connection (`tls: true`): routed by SNI as listen()'s TLS ports route it. */
export function checkTLSConnection(r: RequestExpectation, plan: ServingPlan): string[] {
  const port = r.request.port ?? 443;
  const chosen = routeTLS(plan.listeners.filter((l) => l.port === port && l.protocol === 'TLS'), r.request.sni ?? null, () => 0);
  // The cases register no backends: a backendRef counts as served when it resolved (listen() then needs it in `streams`).
  const refused = chosen === null || !chosen.route.backends.some((b) => b.resolved && b.weight > 0);
  const errs: string[] = [];
  if (r.expect.closed === true && !refused) errs.push(`connection given to TLSRoute ${chosen!.route.namespace}/${chosen!.route.name}, want it refused`);
  if (r.expect.backendTLS !== undefined && chosen !== null) {
    // A Terminate listener re-encrypts to a backend under a BackendTLSPolicy, with its hostname as SNI.
    const tls = chosen.picked ? backendTLSFor(plan, chosen.picked.service) : undefined;
    const got = tls === undefined ? '(no policy)' : tls.refused !== undefined ? '(refused)' : tls.hostname;
    const want = r.expect.backendTLS === null ? '(no policy)' : 'refused' in r.expect.backendTLS ? '(refused)' : r.expect.backendTLS.hostname;
    if (got !== want) errs.push(`BackendTLSPolicy ${got}, want ${want}`);
  }
  if (r.expect.route !== undefined) {
    if (chosen === null) errs.push(`connection refused, want TLSRoute ${r.expect.route}`);
    else if (r.expect.route !== chosen.route.name && r.expect.route !== `${chosen.route.namespace}/${chosen.route.name}`) errs.push(`TLSRoute ${chosen.route.namespace}/${chosen.route.name}, want ${r.expect.route}`);
  }
  return errs;
}
