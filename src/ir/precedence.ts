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
  const ra = gw.routes[a.route]!;
  const rb = gw.routes[b.route]!;
  const keys: [PrecedenceKey, number][] = a.grpc && b.grpc
    ? [
        // GRPCRouteRule.Matches: largest number of characters in a matching service, then method.
        ['grpc-service-length', b.grpc.service - a.grpc.service],
        ['grpc-method-length', b.grpc.method - a.grpc.method],
        ['header-count', b.headers.length - a.headers.length],
      ]
    : [
        // Step 2: "Exact" path match beats "Prefix"; then the longest prefix (characters,
        // counted literally so /foo/ beats /foo, like Envoy Gateway).
        ['path-type', PATH_RANK[a.path.type] - PATH_RANK[b.path.type]],
        ['path-length', b.path.value.length - a.path.value.length],
        // Step 3: a method match beats none.
        ['method', (b.method ? 1 : 0) - (a.method ? 1 : 0)],
        // Step 4: the largest number of header matches.
        ['header-count', b.headers.length - a.headers.length],
        // Step 5: the largest number of query param matches.
        ['query-count', b.query.length - a.query.length],
      ];
  keys.push(
    // Step 6: across routes, the oldest creationTimestamp, then "{namespace}/{name}" alphabetically.
    ['creation-timestamp', ra.createdAt - rb.createdAt],
    ['namespace-name', cmpString(`${ra.namespace}/${ra.name}`, `${rb.namespace}/${rb.name}`)],
    // Step 7: within one route, the first rule in list order; then the first match in the rule.
    ['rule-order', gw.rules[a.rule]!.index - gw.rules[b.rule]!.index],
    ['match-order', a.index - b.index],
  );
  for (const [key, d] of keys) if (d !== 0) return { order: d, key };
  return { order: 0, key: 'match-order' };
}

/** Plain code-unit comparison, as Go compares strings (no locale). */
function cmpString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts matches in place by precedence, winner first. */
export function sortMatches(gw: Gateway, matches: Match[]): Match[] {
  return matches.sort((a, b) => compareMatches(gw, a, b).order);
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
