/**
 * buildIR: from the attachment model to the IR of the one Gateway this process serves.
 * Runs once per load, over every match of every route: loops and object literals, no
 * per-match closures, spreads or intermediate arrays.
 */
import type { GRPCRoute, HTTPRoute, HTTPRouteFilter, HTTPRouteRule } from '../resources/schemas-route.js';
import type { Model, RouteModel, RuleModel } from '../model/attach.js';
import { compareHostnames, sortMatches } from './precedence.js';
import { lowerFilter, lowerRetry, lowerSession, lowerTimeouts } from './lower.js';
import type * as IR from './types.js';

/**
 * The one empty list of the IR (conditions, filters): frozen and shared by every match, rule and
 * backend that has none, so a table of thousands of plain routes holds one empty array, not
 * thousands. The IR is read-only (docs/routing.md).
 */
const NONE: never[] = Object.freeze([]) as never[];

/**
 * Builds the IR for the Gateway `gatewayKey` (`namespace/name`) of the model.
 *
 * With `release`, the build is the model's routes' last use: each entry of `model.routes` is
 * cleared once the route is in the IR (the array is left empty of routes). A route model holds
 * its loaded object; released, both become garbage while the rest of the IR is built, so that a
 * full collection during the build (a large table triggers one about here) reclaims them instead
 * of keeping them to the end of the build. createGateway passes it (issue 13, heap).
 */
export function buildIR(model: Model, gatewayKey: string, { release = false }: { release?: boolean } = {}): IR.Gateway {
  const gwModel = model.gateways.find((g) => g.key === gatewayKey);
  if (!gwModel) throw new Error(`gateway-api-router internal error: no Gateway ${gatewayKey} in the model`);
  const gw: IR.Gateway = { key: gatewayKey, listeners: [], routes: [], rules: [] };
  const backends: Backends = { scratch: [] };
  const vhostsByListener = new Map<string, Map<string | null, Building>>();
  for (const l of gwModel.merged) vhostsByListener.set(l.key, new Map());

  // The first build of a process runs this in the interpreter, where for-of allocates an
  // iterator result per element: indexed loops over every route, parent and listener.
  const routes = model.routes;
  /**
   * The current route's matches, `matches[0, count.n)`: one list reused for every route (they are
   * copied into the vhosts), written by index and never emptied (`length = 0` frees its storage).
   */
  const matches: IR.Match[] = [];
  const count = { n: 0 };
  for (let r = 0; r < routes.length; r++) {
    const route = routes[r]!;
    if (release) (routes as (RouteModel | undefined)[])[r] = undefined;
    if (route.kind === 'TLSRoute') continue; // TLS streams are not HTTP requests; see docs/routing.md
    let routeIndex = -1;
    const parents = route.parents;
    for (let pi = 0; pi < parents.length; pi++) {
      const p = parents[pi]!;
      if (!p.accepted || p.gatewayKey !== gatewayKey) continue;
      const attached = p.listeners;
      for (let ai = 0; ai < attached.length; ai++) {
        const a = attached[ai]!;
        // The route and its matches enter the IR with its first attachment to this Gateway.
        if (routeIndex < 0) {
          routeIndex = gw.routes.push({ kind: route.kind, namespace: route.namespace, name: route.name, createdAt: route.createdAt }) - 1;
          count.n = 0;
          routeMatches(route, routeIndex, gw, backends, matches, count);
        }
        const vhosts = vhostsByListener.get(a.listener.key)!;
        const hostnames = a.hostnames;
        for (let hi = 0; hi < hostnames.length; hi++) {
          const key = hostnames[hi] ?? null;
          let b = vhosts.get(key);
          if (!b) vhosts.set(key, (b = { vh: { hostname: key, matches: [], grpcMatches: [] }, lastAdded: -1 }));
          if (b.lastAdded === routeIndex) continue;
          b.lastAdded = routeIndex;
          const list = route.kind === 'GRPCRoute' ? b.vh.grpcMatches : b.vh.matches;
          for (let k = 0; k < count.n; k++) list.push(matches[k]!);
        }
      }
    }
  }

  // The Gateway's own listeners, then its ListenerSets' (spec digest 1.8: the merged list).
  // "{namespace}/{name}" by route index, for precedence step 6: made once here and dropped after.
  const keys = gw.routes.map((r) => `${r.namespace}/${r.name}`);
  for (const l of gwModel.merged) {
    const vhosts = Array.from(vhostsByListener.get(l.key)!.values(), (b) => b.vh).sort((a, b) => compareHostnames(a.hostname, b.hostname));
    for (const vh of vhosts) {
      sortMatches(gw, vh.matches, keys);
      sortMatches(gw, vh.grpcMatches, keys);
    }
    const listener: IR.Listener = { name: l.name, port: l.port, protocol: l.protocol, hostname: l.hostname ?? null, programmed: l.programmed, vhosts };
    if (l.owner.kind === 'ListenerSet') listener.listenerSet = l.owner.key;
    gw.listeners.push(listener);
  }
  return gw;
}

/**
 * A virtual host being built, with the last route added to it: routes are added one after the
 * other, so a route listed twice on one listener (two parentRefs) finds itself here and adds its
 * matches once.
 */
interface Building {
  vh: IR.VirtualHost;
  lastAdded: number;
}

/** Adds the route's rules to the IR and its matches to `out[count.n, ...)`, advancing `count.n`. */
function routeMatches(route: RouteModel, routeIndex: number, gw: IR.Gateway, backends: Backends, out: IR.Match[], count: { n: number }): void {
  const specRules = (route.resource.spec.rules ?? []) as (HTTPRoute['spec']['rules'][number] | NonNullable<GRPCRoute['spec']['rules']>[number])[];
  const rules = route.rules;
  for (let r = 0; r < rules.length; r++) {
    const rm = rules[r]!;
    if (!rm.valid) continue; // dropped rule (GEP-1364 PartiallyInvalid)
    const spec = specRules[rm.index]!;
    const ruleIndex = gw.rules.push(ruleIR(routeIndex, route, rm, spec as Partial<HTTPRouteRule>, backends)) - 1;
    if (route.kind === 'GRPCRoute') {
      const matches = (spec as NonNullable<GRPCRoute['spec']['rules']>[number]).matches ?? [];
      if (matches.length === 0) addMatch(out, count, grpcMatch(routeIndex, ruleIndex, 0, undefined, undefined));
      matches.forEach((m, i) => addMatch(out, count, grpcMatch(routeIndex, ruleIndex, i, m.method, m.headers)));
    } else {
      const matches = (spec as HTTPRoute['spec']['rules'][number]).matches;
      for (let i = 0; i < matches.length; i++) {
        const m = matches[i]!;
        addMatch(out, count, {
          route: routeIndex,
          rule: ruleIndex,
          index: i,
          // A copy: the loaded object (built by the acceptor, with spare fields) is larger, and the IR outlives the resources.
          path: { type: m.path.type, value: m.path.value },
          method: m.method ?? null,
          headers: headerConditions(m.headers),
          query: queryConditions(m.queryParams),
        });
      }
    }
  }
}

function addMatch(out: IR.Match[], count: { n: number }, m: IR.Match): void {
  if (count.n < out.length) out[count.n] = m;
  else out.push(m);
  count.n++;
}

function ruleIR(routeIndex: number, route: RouteModel, rm: RuleModel, spec: Partial<HTTPRouteRule>, shared: Backends): IR.Rule {
  // The model resolved RequestMirror backendRefs in filter order: rule filters, then each
  // backendRef's filters. Attach each to its filter.
  // (A rule without RequestMirror filters, most rules, takes none: it shares one empty cursor.)
  const mirrors = rm.mirrors.length === 0 ? NO_MIRROR_CURSOR : { list: rm.mirrors, next: 0 };
  // Rule filters take their mirrors before the backends' filters do.
  const filters = spec.filters === undefined || spec.filters.length === 0 ? NONE : lowerFilters(spec.filters as HTTPRouteFilter[], mirrors);
  const backends = backendsIR(rm, mirrors, shared);
  let zeroWeights = backends.length > 0;
  for (let i = 0; i < backends.length; i++) if (backends[i]!.weight !== 0) zeroWeights = false;
  const rule: IR.Rule = { route: routeIndex, index: rm.index, filters, backends, zeroWeights };
  if (rm.name !== undefined) rule.name = rm.name;
  // (Most rules set none of these: no call for them.)
  if (spec.timeouts !== undefined) {
    const timeouts = lowerTimeouts(spec.timeouts);
    if (timeouts) rule.timeouts = timeouts;
  }
  if (spec.retry !== undefined) {
    const retry = lowerRetry(spec.retry);
    if (retry) rule.retry = retry;
  }
  if (spec.sessionPersistence !== undefined) {
    const session = lowerSession(spec.sessionPersistence, route, rm.index);
    if (session) rule.session = session;
  }
  return rule;
}

/** The mirror cursor of rules without RequestMirror filters: nothing is ever taken from it. */
const NO_MIRROR_CURSOR: { list: RuleModel['mirrors']; next: number } = { list: [], next: 0 };

/** The filters in runtime form, each RequestMirror given the next resolved mirror backend. */
function lowerFilters(filters: HTTPRouteFilter[], mirrors: { list: RuleModel['mirrors']; next: number }): IR.Filter[] {
  if (filters.length === 0) return NONE;
  const out: IR.Filter[] = [];
  for (const f of filters) {
    const lowered = lowerFilter(f, () => backendIR(mirrors.list[mirrors.next++]!, []));
    if (lowered !== null) out.push(lowered);
  }
  return out;
}

/**
 * What the rules of one IR share. Backends without filters are shared through their models' memos
 * (Built), and so are lists of them: a trie over their identities, whose first level is the first
 * backend's Built.
 */
interface Backends {
  /** The backends of the rule being built (reused from rule to rule). */
  scratch: IR.Backend[];
}

interface ListNode {
  next: Map<IR.Backend, ListNode> | undefined;
  list: IR.Backend[] | undefined;
}

/**
 * What a backend model without filters is built into (its `built` memo, set by backendIR): its
 * one IR form, shared by every rule that lists it, and the node of the lists that start with it
 * (in place of two Maps over every backend of the table, grown entry by entry).
 */
interface Built extends ListNode {
  backend: IR.Backend;
}

/**
 * A rule's backends, in IR form. The list is one frozen list shared by every rule with the same
 * shared backends in the same order (the rules of a route usually repeat its backendRefs); a
 * list holding a backend with filters is the rule's own. Backend filters take their mirrors in
 * order, after the rule's.
 */
function backendsIR(rm: RuleModel, mirrors: { list: RuleModel['mirrors']; next: number }, shared: Backends): IR.Backend[] {
  const refs = rm.backends;
  if (refs.length === 0) return NONE;
  // Written by index, never emptied: `length = 0` would give the scratch list's storage back.
  const list = shared.scratch;
  let node: ListNode | null = null;
  for (let i = 0; i < refs.length; i++) {
    const b = backendIR(refs[i]!, lowerFilters(refs[i]!.filters, mirrors), shared);
    if (i < list.length) list[i] = b;
    else list.push(b);
    if (b.filters.length > 0) node = null;
    else if (i === 0) node = refs[0]!.built as Built; // set by backendIR
    else if (node !== null) {
      node.next ??= new Map();
      let child: ListNode | undefined = node.next.get(b);
      if (child === undefined) node.next.set(b, (child = { next: undefined, list: undefined }));
      node = child;
    }
  }
  if (node === null) return list.slice(0, refs.length);
  return (node.list ??= Object.freeze(list.slice(0, refs.length)) as IR.Backend[]);
}

/**
 * A backendRef in IR form. One without filters is one frozen object per backend model, and the
 * model resolves a backendRef without filters once for every rule that lists it (many routes
 * name the same Service): shared by those rules. The IR is read-only (docs/routing.md).
 */
function backendIR(b: RuleModel['backends'][number], filters: IR.Filter[], shared?: Backends): IR.Backend {
  if (shared === undefined || filters.length > 0) return newBackend(b, filters);
  let built = b.built as Built | undefined;
  if (built === undefined) b.built = built = { backend: Object.freeze(newBackend(b, filters)), next: undefined, list: undefined };
  return built.backend;
}

function newBackend(b: RuleModel['backends'][number], filters: IR.Filter[]): IR.Backend {
  const out: IR.Backend = { group: b.group, kind: b.kind, namespace: b.namespace, name: b.name, port: b.port, weight: b.weight, state: b.state, filters };
  if (b.message !== undefined) out.message = b.message;
  if (b.registered !== undefined) out.registered = b.registered;
  if (b.appProtocol !== undefined) out.appProtocol = b.appProtocol;
  return out;
}

/** Header conditions, names lower-cased; the first entry for a name wins (HTTPHeaderMatch docs). */
function headerConditions(headers: { name: string; type: IR.ValueType; value: string }[] | undefined): IR.Condition[] {
  if (headers === undefined || headers.length === 0) return NONE;
  return firstByName(headers.map((h) => ({ name: h.name.toLowerCase(), type: h.type, value: h.value })));
}

/** Query conditions, names as written (case-sensitive); the first entry for a name wins. */
function queryConditions(params: { name: string; type: IR.ValueType; value: string }[] | undefined): IR.Condition[] {
  if (params === undefined || params.length === 0) return NONE;
  return firstByName(params.map((q) => ({ name: q.name, type: q.type, value: q.value })));
}

/**
 * Keeps the first condition for each name. Lists hold at most 16 conditions and rarely repeat a
 * name: a scan finds that out without a Set, and the list (sized exactly by map) is kept as is.
 */
function firstByName(conds: IR.Condition[]): IR.Condition[] {
  for (let i = 1; i < conds.length; i++) {
    for (let j = 0; j < i; j++) {
      if (conds[j]!.name === conds[i]!.name) return conds.filter((c, k) => conds.findIndex((o) => o.name === c.name) === k);
    }
  }
  return conds;
}

/**
 * A GRPCRoute method match as a path match (GEP-1016; spec digest section 9.1): gRPC calls are
 * `POST /{service}/{method}`.
 */
function grpcMatch(
  route: number,
  rule: number,
  index: number,
  method: { type: 'Exact' | 'RegularExpression'; service?: string | undefined; method?: string | undefined } | undefined,
  headers: { name: string; type: IR.ValueType; value: string }[] | undefined,
): IR.Match {
  const base = { route, rule, index, method: null, headers: headerConditions(headers), query: NONE };
  const s = method?.service;
  const m = method?.method;
  const grpc = { service: s?.length ?? 0, method: m?.length ?? 0 };
  if (!method || (s === undefined && m === undefined)) return { ...base, path: { type: 'PathPrefix', value: '/' }, grpc };
  if (method.type === 'Exact') {
    if (s !== undefined && m !== undefined) return { ...base, path: { type: 'Exact', value: `/${s}/${m}` }, grpc };
    if (s !== undefined) return { ...base, path: { type: 'PathPrefix', value: `/${s}` }, grpc };
    return { ...base, path: { type: 'RegularExpression', value: `/[^/]+/${escapeRE2(m!)}` }, grpc };
  }
  const sr = s !== undefined ? `(?:${s})` : '[^/]+';
  const mr = m !== undefined ? `(?:${m})` : '[^/]+';
  return { ...base, path: { type: 'RegularExpression', value: `/${sr}/${mr}` }, grpc };
}

function escapeRE2(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}
