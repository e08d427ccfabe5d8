/**
 * The intermediate representation: plain, serialisable data describing what one Gateway
 * serves. No functions, classes or references back to the manifests, so it can be printed,
 * snapshotted and diffed. Read these types as `IR.Listener`, `IR.Match`, ...
 *
 * It is lowered: everything a request needs is in runtime form (durations in ms, header
 * operations normalised, mirror shares as numbers, extension keys resolved, the session typed),
 * so nothing that runs per request reads the manifests' types.
 */
import type { HeaderOps } from '../types.js';

export interface Gateway {
  /** `namespace/name`. */
  key: string;
  listeners: Listener[];
  /** Every route attached to at least one listener; `Match.route` indexes this. */
  routes: Route[];
  /** Every valid rule of those routes; `Match.rule` indexes this. */
  rules: Rule[];
}

export interface Listener {
  name: string;
  port: number;
  protocol: string;
  /** Listener hostname; null means any host. */
  hostname: string | null;
  /** Only programmed listeners receive traffic. */
  programmed: boolean;
  /** `namespace/name` of the ListenerSet that declares this listener; absent for the Gateway's own. */
  listenerSet?: string;
  /** Virtual hosts, most specific hostname first (exact, longer wildcard, any). */
  vhosts: VirtualHost[];
}

export interface VirtualHost {
  /** Exact (`a.example.com`), wildcard (`*.example.com`) or null for any host. */
  hostname: string | null;
  /** HTTPRoute matches in precedence order: the first that matches a request wins. */
  matches: Match[];
  /** GRPCRoute matches in precedence order. */
  grpcMatches: Match[];
}

export type PathType = 'Exact' | 'PathPrefix' | 'RegularExpression';
export type ValueType = 'Exact' | 'RegularExpression';

export interface Condition {
  /** Header names lower-case; query names as written (they are case-sensitive). */
  name: string;
  type: ValueType;
  value: string;
}

export interface Match {
  /** Index into `Gateway.routes`. */
  route: number;
  /** Index into `Gateway.rules`. */
  rule: number;
  /** Index of this match within its rule. */
  index: number;
  path: { type: PathType; value: string };
  method: string | null;
  /** De-duplicated by name: only the first entry for a name counts (HTTPHeaderMatch docs). */
  headers: Condition[];
  /** De-duplicated by name, first wins (HTTPQueryParamMatch docs). */
  query: Condition[];
  /** For GRPCRoute matches: characters of the matched service and method (precedence, digest 5.3). */
  grpc?: { service: number; method: number };
}

export interface Route {
  kind: 'HTTPRoute' | 'GRPCRoute';
  namespace: string;
  name: string;
  /** creationTimestamp in ms (or its stand-in); precedence step 6. */
  createdAt: number;
}

export interface Backend {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  port: number | undefined;
  weight: number;
  state: 'ok' | 'invalid' | 'unavailable';
  message?: string;
  registered?: string;
  filters: Filter[];
}

/** An HTTPPathModifier: the new full path, or the replacement of the matched prefix. */
export interface PathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  value: string;
}

/** An HTTPRouteFilter in runtime form. */
export type Filter =
  /** Header operations with names lower-cased, first entry per name (HTTPHeaderFilter). */
  | { type: 'RequestHeaderModifier'; ops: HeaderOps }
  | { type: 'ResponseHeaderModifier'; ops: HeaderOps }
  | { type: 'URLRewrite'; hostname?: string; path?: PathModifier }
  | { type: 'RequestRedirect'; scheme?: 'http' | 'https'; hostname?: string; port?: number; path?: PathModifier; statusCode: 301 | 302 | 303 | 307 | 308 }
  /** `share` in [0, 1]: percent / 100, or numerator / denominator, 1 when neither is given. */
  | { type: 'RequestMirror'; share: number; backend: Backend }
  | { type: 'CORS'; allowOrigins: string[]; allowMethods: string[]; allowHeaders: string[]; exposeHeaders: string[]; allowCredentials: boolean; maxAge: number }
  /** `key` is `group/Kind/name`, the key of the `extensions` option. */
  | { type: 'ExtensionRef'; key: string; group: string; kind: string; name: string };

/** A rule's session persistence (GEP-1619) with its defaults applied. */
export type Session =
  | { type: 'Cookie'; name: string; path: string; /** Max-Age in seconds for a Permanent cookie with an absoluteTimeout. */ maxAge?: number }
  | { type: 'Header'; /** Lower-case. */ name: string };

export interface Rule {
  /** Index into `Gateway.routes`. */
  route: number;
  /** Index of the rule within its route. */
  index: number;
  name?: string;
  backends: Backend[];
  filters: Filter[];
  /** HTTPRouteTimeouts in ms (`0s` is 0: disabled). */
  timeouts?: { request?: number; backendRequest?: number };
  /** HTTPRouteRetry, backoff in ms. */
  retry?: { codes: number[]; attempts?: number; backoffMs?: number };
  session?: Session;
  /**
   * True when the rule has backendRefs and every weight is 0: such a rule answers 500
   * (spec digest 13.7), except for a request whose session names one of its backends.
   */
  zeroWeights: boolean;
}
