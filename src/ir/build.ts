/**
 * buildIR: from the attachment model to the IR of the one Gateway this process serves.
 * Runs once per load; optimised for clarity, not speed.
 */
import type { GRPCRoute, HTTPRoute, HTTPRouteFilter } from '../resources/schemas-route.js';
import type { Model, RouteModel, RuleModel } from '../model/attach.js';
import { compareHostnames, sortMatches } from './precedence.js';
import type * as IR from './types.js';

/** Builds the IR for the Gateway `gatewayKey` (`namespace/name`) of the model. */
export function buildIR(model: Model, gatewayKey: string): IR.Gateway {
  const gwModel = model.gateways.find((g) => g.key === gatewayKey);
  if (!gwModel) throw new Error(`gateway-api-router internal error: no Gateway ${gatewayKey} in the model`);
  const gw: IR.Gateway = { key: gatewayKey, listeners: [], routes: [], rules: [] };
  const vhostsByListener = new Map<string, Map<string | null, IR.VirtualHost>>();
  /** Routes already added to each vhost (a route listed twice on one listener adds its matches once). */
  const added = new Map<IR.VirtualHost, Set<number>>();
  for (const l of gwModel.listeners) vhostsByListener.set(l.name, new Map());

  for (const route of model.routes) {
    if (route.kind === 'TLSRoute') continue; // TLS streams are not HTTP requests; see docs/routing.md
    const attachments = route.parents.filter((p) => p.accepted && p.gatewayKey === gatewayKey).flatMap((p) => p.listeners);
    if (attachments.length === 0) continue;
    const routeIndex = gw.routes.push({ kind: route.kind, namespace: route.namespace, name: route.name, createdAt: route.createdAt }) - 1;
    const matches = routeMatches(route, routeIndex, gw);
    for (const a of attachments) {
      const vhosts = vhostsByListener.get(a.name)!;
      for (const h of a.hostnames) {
        const key = h ?? null;
        let vh = vhosts.get(key);
        if (!vh) vhosts.set(key, (vh = { hostname: key, matches: [], grpcMatches: [] }));
        // A route listed twice on one listener (two parentRefs) adds its matches once.
        const seen = added.get(vh) ?? added.set(vh, new Set()).get(vh)!;
        if (seen.has(routeIndex)) continue;
        seen.add(routeIndex);
        const list = route.kind === 'GRPCRoute' ? vh.grpcMatches : vh.matches;
        for (const m of matches) list.push(m);
      }
    }
  }

  for (const l of gwModel.listeners) {
    const vhosts = [...vhostsByListener.get(l.name)!.values()].sort((a, b) => compareHostnames(a.hostname, b.hostname));
    for (const vh of vhosts) {
      sortMatches(gw, vh.matches);
      sortMatches(gw, vh.grpcMatches);
    }
    gw.listeners.push({ name: l.name, port: l.port, protocol: l.protocol, hostname: l.hostname ?? null, programmed: l.programmed, vhosts });
  }
  return gw;
}

function routeMatches(route: RouteModel, routeIndex: number, gw: IR.Gateway): IR.Match[] {
  const out: IR.Match[] = [];
  const specRules = (route.resource.spec.rules ?? []) as (HTTPRoute['spec']['rules'][number] | NonNullable<GRPCRoute['spec']['rules']>[number])[];
  for (const rm of route.rules) {
    if (!rm.valid) continue; // dropped rule (GEP-1364 PartiallyInvalid)
    const spec = specRules[rm.index]!;
    const ruleIndex = gw.rules.push(ruleIR(routeIndex, rm, spec)) - 1;
    if (route.kind === 'GRPCRoute') {
      const matches = (spec as NonNullable<GRPCRoute['spec']['rules']>[number]).matches ?? [];
      if (matches.length === 0) out.push(grpcMatch(routeIndex, ruleIndex, 0, undefined, []));
      matches.forEach((m, i) => out.push(grpcMatch(routeIndex, ruleIndex, i, m.method, m.headers ?? [])));
    } else {
      (spec as HTTPRoute['spec']['rules'][number]).matches.forEach((m, i) => {
        out.push({
          route: routeIndex,
          rule: ruleIndex,
          index: i,
          path: { type: m.path.type, value: m.path.value },
          method: m.method ?? null,
          headers: headerConditions(m.headers ?? []),
          query: firstByName((m.queryParams ?? []).map((q) => ({ name: q.name, type: q.type, value: q.value })), (n) => n),
        });
      });
    }
  }
  return out;
}

function ruleIR(routeIndex: number, rm: RuleModel, spec: { filters?: unknown; timeouts?: unknown; retry?: unknown; sessionPersistence?: unknown }): IR.Rule {
  // The model resolved RequestMirror backendRefs in filter order: rule filters, then each
  // backendRef's filters. Attach each to its filter.
  const mirrors = [...rm.mirrors];
  const withMirrors = (filters: HTTPRouteFilter[]): IR.Filter[] =>
    filters.map((f) => (f.type === 'RequestMirror' ? { ...f, mirror: backendIR(mirrors.shift()!, []) } : f));
  const rule: IR.Rule = {
    route: routeIndex,
    index: rm.index,
    filters: withMirrors((spec.filters ?? []) as HTTPRouteFilter[]),
    backends: [],
  };
  rule.backends = rm.backends.map((b) => backendIR(b, withMirrors(b.filters)));
  if (rm.name !== undefined) rule.name = rm.name;
  if (spec.timeouts) rule.timeouts = spec.timeouts as NonNullable<IR.Rule['timeouts']>;
  if (spec.retry) rule.retry = spec.retry as NonNullable<IR.Rule['retry']>;
  if (spec.sessionPersistence) rule.sessionPersistence = spec.sessionPersistence as Record<string, unknown>;
  return rule;
}

function backendIR(b: RuleModel['backends'][number], filters: IR.Filter[]): IR.Backend {
  return {
    group: b.group,
    kind: b.kind,
    namespace: b.namespace,
    name: b.name,
    port: b.port,
    weight: b.weight,
    state: b.state,
    filters,
    ...(b.message !== undefined ? { message: b.message } : {}),
    ...(b.registered !== undefined ? { registered: b.registered } : {}),
  };
}

function headerConditions(headers: { name: string; type: IR.ValueType; value: string }[]): IR.Condition[] {
  return firstByName(
    headers.map((h) => ({ name: h.name.toLowerCase(), type: h.type, value: h.value })),
    (n) => n,
  );
}

/** Keeps the first condition for each name: later entries with an equivalent name are ignored. */
function firstByName(conds: IR.Condition[], norm: (n: string) => string): IR.Condition[] {
  const seen = new Set<string>();
  return conds.filter((c) => {
    const k = norm(c.name);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
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
  headers: { name: string; type: IR.ValueType; value: string }[],
): IR.Match {
  const base = { route, rule, index, method: null, headers: headerConditions(headers), query: [] };
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
