/**
 * Route precedence: the one place that decides which of several matching matches wins.
 * HTTPRoute: spec digest section 5.1 (`HTTPRouteRule.Matches` docs in apis/v1/httproute_types.go);
 * GRPCRoute: section 5.3. Step 1 (hostname) is applied by virtual-host order in build.ts;
 * this file orders matches within one virtual host.
 */
import type { Gateway, Match } from './types.js';

/** The precedence keys, in order, as `explain()` names them. */
export type PrecedenceKey =
  | 'path-type'
  | 'path-length'
  | 'method'
  | 'header-count'
  | 'query-count'
  | 'grpc-service-length'
  | 'grpc-method-length'
  | 'creation-timestamp'
  | 'namespace-name'
  | 'rule-order'
  | 'match-order';

/**
 * Path rank: Exact beats everything; RegularExpression is placed between Exact and PathPrefix.
 * Regex placement is implementation-specific (gateway-api issue #2974); this follows Envoy
 * Gateway, Contour and NGINX.
 */
const PATH_RANK = { Exact: 0, RegularExpression: 1, PathPrefix: 2 } as const;

/**
 * Compares two matches of one virtual host: negative when `a` wins. Returns the deciding key
 * too, for explain(). Every step cites the spec.
 */
export function compareMatches(gw: Gateway, a: Match, b: Match): { order: number; key: PrecedenceKey } {
  const order = compareOrder(gw, routeKeysOf(gw), a, b);
  return { order: order === 0 ? 0 : order > 0 ? 1 : -1, key: deciding };
}

/** The key that decided the last compareOrder call (read right after it, for explain()). */
let deciding: PrecedenceKey = 'match-order';

/**
 * The precedence comparison itself, negative when `a` wins. Written as a chain of early returns
 * so that sorting tens of thousands of matches allocates nothing. `keys` are the routes'
 * "{namespace}/{name}" by index (routeKeysOf), read by index rather than looked up per call.
 */
function compareOrder(gw: Gateway, keys: readonly string[], a: Match, b: Match): number {
  let d: number;
  if (a.grpc && b.grpc) {
    // GRPCRouteRule.Matches: largest number of characters in a matching service, then method.
    if ((d = b.grpc.service - a.grpc.service) !== 0) return (deciding = 'grpc-service-length'), d;
    if ((d = b.grpc.method - a.grpc.method) !== 0) return (deciding = 'grpc-method-length'), d;
    if ((d = b.headers.length - a.headers.length) !== 0) return (deciding = 'header-count'), d;
  } else {
    // Step 2: "Exact" path match beats "Prefix"; then the longest prefix (characters, counted
    // literally so /foo/ beats /foo, like Envoy Gateway).
    if ((d = PATH_RANK[a.path.type] - PATH_RANK[b.path.type]) !== 0) return (deciding = 'path-type'), d;
    if ((d = b.path.value.length - a.path.value.length) !== 0) return (deciding = 'path-length'), d;
    // Step 3: a method match beats none.
    if ((d = (b.method ? 1 : 0) - (a.method ? 1 : 0)) !== 0) return (deciding = 'method'), d;
    // Step 4: the largest number of header matches.
    if ((d = b.headers.length - a.headers.length) !== 0) return (deciding = 'header-count'), d;
    // Step 5: the largest number of query param matches.
    if ((d = b.query.length - a.query.length) !== 0) return (deciding = 'query-count'), d;
  }
  return compareAcross(gw, keys, a, b);
}

/** Steps 6 and 7 of compareOrder: what decides between matches equal on steps 2 to 5. */
function compareAcross(gw: Gateway, keys: readonly string[], a: Match, b: Match): number {
  let d: number;
  const ra = gw.routes[a.route]!;
  const rb = gw.routes[b.route]!;
  // Step 6: across routes, the oldest creationTimestamp, then "{namespace}/{name}" alphabetically.
  if ((d = ra.createdAt - rb.createdAt) !== 0) return (deciding = 'creation-timestamp'), d;
  if (ra !== rb && (d = cmpString(keys[a.route]!, keys[b.route]!)) !== 0) return (deciding = 'namespace-name'), d;
  // Step 7: within one route, the first rule in list order; then the first match in the rule.
  if ((d = gw.rules[a.rule]!.index - gw.rules[b.rule]!.index) !== 0) return (deciding = 'rule-order'), d;
  deciding = 'match-order';
  return a.index - b.index;
}

const routeKeys = new WeakMap<Gateway, string[]>();

/** "{namespace}/{name}" of every route of `gw`, by route index, computed once per IR. */
function routeKeysOf(gw: Gateway): string[] {
  let keys = routeKeys.get(gw);
  if (keys === undefined || keys.length !== gw.routes.length) routeKeys.set(gw, (keys = gw.routes.map((r) => `${r.namespace}/${r.name}`)));
  return keys;
}

/** Plain code-unit comparison, as Go compares strings (no locale). */
function cmpString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Sorts matches in place by precedence, winner first: the order compareOrder defines. Runs over
 * every match at every load, so steps 2 to 5 (or the gRPC steps) are packed into one number per
 * match first (smaller wins), and compareAcross decides only between equal numbers. `keys`: the
 * routes' "{namespace}/{name}" by index (buildIR passes its own, so that the IR does not keep
 * them; explain() computes them when it first compares).
 */
export function sortMatches(gw: Gateway, matches: Match[], keys: readonly string[] = routeKeysOf(gw)): Match[] {
  const n = matches.length;
  if (n < 2) return matches;
  // Small integers in plain arrays: the first load runs the comparator below in the interpreter,
  // where each double read from a typed array (or each difference of two) is a new heap number.
  const rank: number[] = [];
  const grpc = matches[0]!.grpc !== undefined;
  for (let i = 0; i < n; i++) {
    const r = (matches[i]!.grpc !== undefined) === grpc ? rankOf(matches[i]!) : -1;
    if (r < 0) return matches.sort((a, b) => compareOrder(gw, keys, a, b)); // a value beyond the packing's bounds
    rank.push(r);
  }
  const order: number[] = [];
  for (let i = 0; i < n; i++) order.push(i);
  order.sort((i, j) => rank[i]! - rank[j]! || compareAcross(gw, keys, matches[i]!, matches[j]!));
  const copy = matches.slice();
  for (let i = 0; i < n; i++) matches[i] = copy[order[i]!]!;
  return matches;
}

/** Lengths below this are packed by rankOf. Paths, gRPC services and methods are at most 1,024 characters (CRD). */
const L = 2 ** 11;

/**
 * Steps 2 to 5 of compareOrder as one number, smaller wins (for gRPC matches: service length,
 * method length, header count); -1 when a length or count is too large to pack (then, or for a
 * list mixing gRPC and HTTP matches, sortMatches falls back to compareOrder itself). At most
 * 2^26 (gRPC: 2^28): a small integer (V8 keeps those below 2^30 unboxed).
 */
function rankOf(m: Match): number {
  const h = m.headers.length;
  if (h >= 64) return -1;
  if (m.grpc) {
    const { service, method } = m.grpc;
    if (service >= L || method >= L) return -1;
    return ((L - 1 - service) * L + (L - 1 - method)) * 64 + (63 - h);
  }
  const len = m.path.value.length;
  const q = m.query.length;
  if (len >= L || q >= 64) return -1;
  return (((PATH_RANK[m.path.type] * L + (L - 1 - len)) * 2 + (m.method ? 0 : 1)) * 64 + (63 - h)) * 64 + (63 - q);
}

/**
 * Virtual-host order (precedence step 1, spec digest 5.1 and 5.2): an exact hostname first,
 * then wildcards with more characters, then "any host". Negative when `a` is more specific.
 */
export function compareHostnames(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const aw = a.startsWith('*.');
  const bw = b.startsWith('*.');
  if (aw !== bw) return aw ? 1 : -1;
  if (a.length !== b.length) return b.length - a.length;
  return cmpString(a, b);
}
