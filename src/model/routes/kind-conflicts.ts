/**
 * HTTPRoute and GRPCRoute sharing a listener (spec digest 2.2 step 7): which one of two routes
 * with intersecting hostnames a listener accepts, found through a hostname index per listener.
 * Part of resolveAttachments (model/attach.ts).
 */
import { check } from '../conditions.js';
import type { ListenerModel } from '../listeners.js';
import type { RouteModel } from '../attach.js';

/**
 * HTTPRoute and GRPCRoute on one listener with intersecting hostnames: "the implementation MUST
 * accept exactly one of these two routes", the oldest, then the first by `{namespace}/{name}`;
 * "the rejected Route MUST raise an 'Accepted' condition with a status of 'False'" (digest 2.2
 * step 7, `grpcroute_types.go` Hostnames). The spec names no reason; ours is HostnameConflict.
 * Routes are taken oldest first, so a route rejected here never rejects a younger one.
 */
export function rejectKindConflicts(routes: RouteModel[]): void {
  let grpc = false;
  for (let i = 0; i < routes.length && !grpc; i++) {
    const r = routes[i]!;
    if (r.kind === 'GRPCRoute') for (let k = 0; k < r.parents.length; k++) if (r.parents[k]!.accepted) grpc = true;
  }
  if (!grpc) return; // no GRPCRoute attached: nothing can conflict
  const order = routes.filter((r) => r.kind === 'HTTPRoute' || r.kind === 'GRPCRoute');
  const keys = new Map(order.map((r) => [r, `${r.namespace}/${r.name}`]));
  order.sort((a, b) => a.createdAt - b.createdAt || (keys.get(a)! < keys.get(b)! ? -1 : 1));
  /**
   * Per listener: the accepted routes with their hostnames there, by kind, indexed by hostname.
   * A route is looked up only in the other kind's index (same-kind routes never conflict), a few
   * map reads per hostname: thousands of HTTPRoutes beside thousands of GRPCRoutes cost no
   * pairwise comparisons.
   */
  const kept = new Map<ListenerModel, { HTTPRoute: HostnameIndex; GRPCRoute: HostnameIndex }>();
  for (const route of order) {
    const otherKind = route.kind === 'HTTPRoute' ? 'GRPCRoute' : 'HTTPRoute';
    for (const parent of route.parents) {
      if (!parent.accepted) continue;
      let winner: RouteModel | undefined;
      // The first conflicting route, by listener, then oldest first.
      for (const l of parent.listeners) {
        const others = kept.get(l.listener)?.[otherKind];
        if (others !== undefined) winner = others.firstIntersecting(l.hostnames);
        if (winner !== undefined) break;
      }
      if (winner !== undefined) {
        parent.accepted = false;
        parent.listeners = [];
        const resolved = parent.checks.find((c) => c.type === 'ResolvedRefs');
        parent.checks = [
          check('Accepted', 'False', 'HostnameConflict', `${winner.kind} ${winner.namespace}/${winner.name} is attached to the same listener with intersecting hostnames and is older (or first by namespace/name); a listener accepts only one of an HTTPRoute and a GRPCRoute that share a hostname`),
          ...(resolved ? [resolved] : []),
        ];
        continue;
      }
      for (const l of parent.listeners) {
        let lists = kept.get(l.listener);
        if (lists === undefined) kept.set(l.listener, (lists = { HTTPRoute: new HostnameIndex(), GRPCRoute: new HostnameIndex() }));
        lists[route.kind as 'HTTPRoute' | 'GRPCRoute'].add(route, l.hostnames);
      }
    }
  }
}

/**
 * Routes in the order added, each with the hostnames it answers on one listener, indexed so that
 * the first route sharing a host with given hostnames (`intersectHostnames(h, o) !== null` for
 * some pair, model/hostnames.ts) is found with a few map reads per hostname instead of a
 * comparison with every route. The intersection rule, case by case (`.s` is a wildcard's suffix):
 * no hostname (any host) meets everything; two exact names meet when equal; an exact name meets
 * `*.s` when it ends with `.s` and is longer; `*.s` and `*.t` meet when one suffix ends with the
 * other. So exact names are kept under each of their proper dotted suffixes, and wildcard
 * suffixes both as they are and under each of their dotted suffixes.
 */
export class HostnameIndex {
  private readonly routes: RouteModel[] = [];
  /** The first route with no hostname (any host), and the first with any hostname at all; -1: none. */
  private any = -1;
  private first = -1;
  private readonly exact = new Map<string, number>();
  /** Wildcards by suffix (`.example.com`). */
  private readonly wild = new Map<string, number>();
  /** Exact names under each proper dotted suffix (`a.example.com` under `.example.com` and `.com`). */
  private readonly exactUnder = new Map<string, number>();
  /** Wildcard suffixes under each of their dotted suffixes, themselves included. */
  private readonly wildUnder = new Map<string, number>();

  add(route: RouteModel, hostnames: readonly (string | undefined)[]): void {
    const i = this.routes.push(route) - 1;
    if (hostnames.length > 0 && this.first < 0) this.first = i;
    for (const h of hostnames) {
      if (h === undefined) {
        if (this.any < 0) this.any = i;
      } else if (h.startsWith('*.')) {
        const suffix = h.slice(1);
        keepFirst(this.wild, suffix, i);
        for (let d = 0; d >= 0; d = suffix.indexOf('.', d + 1)) keepFirst(this.wildUnder, suffix.slice(d), i);
      } else {
        keepFirst(this.exact, h, i);
        for (let d = h.indexOf('.', 1); d > 0; d = h.indexOf('.', d + 1)) keepFirst(this.exactUnder, h.slice(d), i);
      }
    }
  }

  /** The first route added whose hostnames share a host with one of `hostnames`. */
  firstIntersecting(hostnames: readonly (string | undefined)[]): RouteModel | undefined {
    if (hostnames.length === 0) return undefined;
    let best = this.any < 0 ? Infinity : this.any;
    const at = (i: number | undefined) => {
      if (i !== undefined && i < best) best = i;
    };
    for (const h of hostnames) {
      if (h === undefined) {
        at(this.first < 0 ? undefined : this.first);
      } else if (h.startsWith('*.')) {
        const suffix = h.slice(1);
        at(this.exactUnder.get(suffix));
        at(this.wildUnder.get(suffix));
        for (let d = 0; d >= 0; d = suffix.indexOf('.', d + 1)) at(this.wild.get(suffix.slice(d)));
      } else {
        at(this.exact.get(h));
        for (let d = h.indexOf('.', 1); d > 0; d = h.indexOf('.', d + 1)) at(this.wild.get(h.slice(d)));
      }
    }
    return best === Infinity ? undefined : this.routes[best];
  }
}

function keepFirst(map: Map<string, number>, key: string, i: number): void {
  if (!map.has(key)) map.set(key, i);
}
