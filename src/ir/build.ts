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

/** Builds the IR for the Gateway `gatewayKey` (`namespace/name`) of the model. */
export function buildIR(model: Model, gatewayKey: string): IR.Gateway {
  const gwModel = model.gateways.find((g) => g.key === gatewayKey);
  if (!gwModel) throw new Error(`gateway-api-router internal error: no Gateway ${gatewayKey} in the model`);
  const gw: IR.Gateway = { key: gatewayKey, listeners: [], routes: [], rules: [] };
  const backends: Backends = new Map();
  const vhostsByListener = new Map<string, Map<string | null, IR.VirtualHost>>();
  /**
   * The last route added to each vhost. Routes are added one after the other, so a route listed
   * twice on one listener (two parentRefs) finds itself here and adds its matches once.
   */
  const lastAdded = new Map<IR.VirtualHost, number>();
  for (const l of gwModel.merged) vhostsByListener.set(l.key, new Map());

  for (const route of model.routes) {
    if (route.kind === 'TLSRoute') continue; // TLS streams are not HTTP requests; see docs/routing.md
    let routeIndex = -1;
    let matches: IR.Match[] = [];
    for (const p of route.parents) {
      if (!p.accepted || p.gatewayKey !== gatewayKey) continue;
      for (const a of p.listeners) {
        // The route and its matches enter the IR with its first attachment to this Gateway.
        if (routeIndex < 0) {
          routeIndex = gw.routes.push({ kind: route.kind, namespace: route.namespace, name: route.name, createdAt: route.createdAt }) - 1;
          matches = routeMatches(route, routeIndex, gw, backends);
        }
        const vhosts = vhostsByListener.get(a.listener.key)!;
        for (const h of a.hostnames) {
          const key = h ?? null;
          let vh = vhosts.get(key);
          if (!vh) vhosts.set(key, (vh = { hostname: key, matches: [], grpcMatches: [] }));
          if (lastAdded.get(vh) === routeIndex) continue;
          lastAdded.set(vh, routeIndex);
          const list = route.kind === 'GRPCRoute' ? vh.grpcMatches : vh.matches;
          for (const m of matches) list.push(m);
        }
      }
    }
  }

  // The Gateway's own listeners, then its ListenerSets' (spec digest 1.8: the merged list).
  for (const l of gwModel.merged) {
    const vhosts = [...vhostsByListener.get(l.key)!.values()].sort((a, b) => compareHostnames(a.hostname, b.hostname));
    for (const vh of vhosts) {
      sortMatches(gw, vh.matches);
      sortMatches(gw, vh.grpcMatches);
    }
    const listener: IR.Listener = { name: l.name, port: l.port, protocol: l.protocol, hostname: l.hostname ?? null, programmed: l.programmed, vhosts };
    if (l.owner.kind === 'ListenerSet') listener.listenerSet = l.owner.key;
    gw.listeners.push(listener);
  }
  return gw;
}

function routeMatches(route: RouteModel, routeIndex: number, gw: IR.Gateway, backends: Backends): IR.Match[] {
  const out: IR.Match[] = [];
  const specRules = (route.resource.spec.rules ?? []) as (HTTPRoute['spec']['rules'][number] | NonNullable<GRPCRoute['spec']['rules']>[number])[];
  for (const rm of route.rules) {
    if (!rm.valid) continue; // dropped rule (GEP-1364 PartiallyInvalid)
    const spec = specRules[rm.index]!;
    const ruleIndex = gw.rules.push(ruleIR(routeIndex, route, rm, spec as Partial<HTTPRouteRule>, backends)) - 1;
    if (route.kind === 'GRPCRoute') {
      const matches = (spec as NonNullable<GRPCRoute['spec']['rules']>[number]).matches ?? [];
      if (matches.length === 0) out.push(grpcMatch(routeIndex, ruleIndex, 0, undefined, undefined));
      matches.forEach((m, i) => out.push(grpcMatch(routeIndex, ruleIndex, i, m.method, m.headers)));
    } else {
      const matches = (spec as HTTPRoute['spec']['rules'][number]).matches;
      for (let i = 0; i < matches.length; i++) {
        const m = matches[i]!;
        out.push({
          route: routeIndex,
          rule: ruleIndex,
          index: i,
          path: { type: m.path.type, value: m.path.value },
          method: m.method ?? null,
          headers: headerConditions(m.headers),
          query: queryConditions(m.queryParams),
        });
      }
    }
  }
  return out;
}

function ruleIR(routeIndex: number, route: RouteModel, rm: RuleModel, spec: Partial<HTTPRouteRule>, shared: Backends): IR.Rule {
  // The model resolved RequestMirror backendRefs in filter order: rule filters, then each
  // backendRef's filters. Attach each to its filter.
  const mirrors = { list: rm.mirrors, next: 0 };
  // Rule filters take their mirrors before the backends' filters do.
  const filters = spec.filters === undefined || spec.filters.length === 0 ? NONE : lowerFilters(spec.filters as HTTPRouteFilter[], mirrors);
  const backends = rm.backends.map((b) => backendIR(b, lowerFilters(b.filters, mirrors), shared));
  let zeroWeights = backends.length > 0;
  for (const b of backends) if (b.weight !== 0) zeroWeights = false;
  const rule: IR.Rule = { route: routeIndex, index: rm.index, filters, backends, zeroWeights };
  if (rm.name !== undefined) rule.name = rm.name;
  const timeouts = lowerTimeouts(spec.timeouts);
  if (timeouts) rule.timeouts = timeouts;
  const retry = lowerRetry(spec.retry);
  if (retry) rule.retry = retry;
  const session = lowerSession(spec.sessionPersistence, route, rm.index);
  if (session) rule.session = session;
  return rule;
}

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

/** The IR's backends without filters, by content (see backendIR). */
type Backends = Map<string, IR.Backend>;

/**
 * A backendRef in IR form. One without filters is one frozen object per distinct content, shared
 * by every rule that lists it (the rules of a route usually list the same backendRefs, and many
 * routes name the same Service): the IR is read-only (docs/routing.md).
 */
function backendIR(b: RuleModel['backends'][number], filters: IR.Filter[], shared?: Backends): IR.Backend {
  if (shared === undefined || filters.length > 0) return newBackend(b, filters);
  const key = `${b.group}\u0000${b.kind}\u0000${b.namespace}\u0000${b.name}\u0000${b.port ?? ''}\u0000${b.weight}\u0000${b.state}\u0000${b.message ?? '\u0001'}\u0000${b.registered ?? '\u0001'}\u0000${b.appProtocol ?? '\u0001'}`;
  let out = shared.get(key);
  if (out === undefined) shared.set(key, (out = Object.freeze(newBackend(b, filters))));
  return out;
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
