/**
 * The intermediate representation: plain, serialisable data describing what one Gateway
 * serves. No functions, classes or references back to the manifests, so it can be printed,
 * snapshotted and diffed. Read these types as `IR.Listener`, `IR.Match`, ...
 */
import type { HTTPRouteFilter } from '../resources/schemas-route.js';

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

/** An HTTPRoute filter as written, with its RequestMirror backendRef resolved. */
export type Filter = HTTPRouteFilter & { mirror?: Backend };

export interface Rule {
  /** Index into `Gateway.routes`. */
  route: number;
  /** Index of the rule within its route. */
  index: number;
  name?: string;
  backends: Backend[];
  filters: Filter[];
  /** Raw rule fields carried for later stages (timeouts, retry, sessionPersistence). */
  timeouts?: { request?: string; backendRequest?: string };
  retry?: { codes?: number[]; attempts?: number; backoff?: string };
  sessionPersistence?: Record<string, unknown>;
}
