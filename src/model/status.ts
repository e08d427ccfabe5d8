/**
 * buildStatus: the status a Gateway API controller would write, shaped exactly like the
 * Kubernetes objects so that dumping it reads like `kubectl get -o yaml` (spec digest section 10).
 */
import type { Check } from './conditions.js';
import type { Model, RouteParentModel } from './attach.js';
import type { ListenerModel } from './listeners.js';
import { GatewayGroup } from '../resources/schemas-shared.js';

/** A `metav1.Condition`. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

export interface ListenerStatus {
  name: string;
  supportedKinds: { group: string; kind: string }[];
  attachedRoutes: number;
  conditions: Condition[];
}

export interface GatewayStatus {
  addresses: { type: string; value: string }[];
  conditions: Condition[];
  listeners: ListenerStatus[];
  /** ListenerSets attached and Accepted; present when the Gateway allows ListenerSets or one names it. */
  attachedListenerSets?: number;
}

/** A ListenerSet's status: its own listeners only, never its Gateway's (GEP-1713). */
export interface ListenerSetStatus {
  conditions: Condition[];
  listeners: ListenerStatus[];
}

export interface RouteParentStatus {
  parentRef: { group: string; kind: string; namespace?: string; name: string; sectionName?: string; port?: number };
  controllerName: string;
  conditions: Condition[];
}

export interface GatewayClassStatus {
  conditions: Condition[];
  supportedFeatures?: { name: string }[];
}

interface Meta {
  name: string;
  namespace?: string;
  generation: number;
}

/** One object of the status list, as `kubectl get -o yaml` prints it. */
export type StatusObject =
  | { apiVersion: string; kind: 'GatewayClass'; metadata: Meta; status: GatewayClassStatus }
  | { apiVersion: string; kind: 'Gateway'; metadata: Meta; status: GatewayStatus }
  | { apiVersion: string; kind: 'ListenerSet'; metadata: Meta; status: ListenerSetStatus }
  | RouteStatusObject<'HTTPRoute'>
  | RouteStatusObject<'GRPCRoute'>
  | RouteStatusObject<'TLSRoute'>
  | { apiVersion: string; kind: 'BackendTLSPolicy'; metadata: Meta; status: { ancestors: PolicyAncestorStatus[] } };

/** One ancestor of a policy (`PolicyAncestorStatus`): the Gateway it takes effect through. */
export interface PolicyAncestorStatus {
  ancestorRef: { group: string; kind: string; namespace: string; name: string };
  controllerName: string;
  conditions: Condition[];
}

/** A route's status object. */
export interface RouteStatusObject<K extends 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute'> {
  apiVersion: string;
  kind: K;
  metadata: Meta;
  status: { parents: RouteParentStatus[] };
}

/** A `kind: List` of status objects: GatewayClasses, then Gateways, then ListenerSets, then routes. */
export interface StatusList {
  apiVersion: 'v1';
  kind: 'List';
  items: StatusObject[];
}

export interface StatusOptions {
  /** Addresses written to a Gateway's status, by `namespace/name`. */
  addresses: (gatewayKey: string) => { type: string; value: string }[];
  /** The time written to conditions that changed. */
  now: Date;
  /** The status written last time; unchanged conditions keep their lastTransitionTime. */
  previous?: StatusList | undefined;
  /** Features written to the GatewayClass status, sorted by name. */
  supportedFeatures: string[];
}

/**
 * Builds the status list for the model. Deterministic for a given model and options.
 *
 * Every Condition is frozen, and so is a route's `status` with everything in it: parts with the
 * same content are one object, shared by every route (and with the previous status on reload).
 * Thousands of routes accepted by one Gateway with all references resolved hold one parent entry
 * between them, not thousands (docs/status.md).
 */
export function buildStatus(model: Model, options: StatusOptions): StatusList {
  const now = options.now.toISOString();
  const previous = indexPrevious(options.previous);
  const shared = new SharedParts(model.controllerName);
  // A first build has no previous status: no object key is built to look one up.
  const conds = (objKey: string, checks: Check[], generation: number): Condition[] => shared.conditions(checks, generation, now, previous.size > 0 ? previous.get(objKey) : undefined);
  const items: StatusObject[] = [];

  for (const c of model.gatewayClasses) {
    if (c.checks.length === 0) continue; // another controller's class: not ours to write
    const gen = c.resource.metadata.generation ?? 1;
    const features = [...options.supportedFeatures].sort().map((name) => ({ name }));
    items.push({
      apiVersion: c.resource.apiVersion,
      kind: 'GatewayClass',
      metadata: { name: c.resource.metadata.name, generation: gen },
      status: { conditions: conds(`GatewayClass/${c.resource.metadata.name}`, c.checks, gen), ...(c.checks[0]?.status === 'True' ? { supportedFeatures: features } : {}) },
    });
  }

  for (const g of model.gateways) {
    const gen = g.resource.metadata.generation ?? 1;
    const key = `Gateway/${g.key}`;
    items.push({
      apiVersion: g.resource.apiVersion,
      kind: 'Gateway',
      metadata: { name: g.resource.metadata.name, namespace: g.resource.metadata.namespace!, generation: gen },
      status: {
        addresses: options.addresses(g.key),
        conditions: conds(key, g.checks, gen),
        listeners: listenerStatuses(g.listeners, key, gen, conds),
        ...(g.attachedListenerSets !== undefined ? { attachedListenerSets: g.attachedListenerSets } : {}),
      },
    });
  }

  for (const ls of model.listenerSets) {
    const gen = ls.resource.metadata.generation ?? 1;
    const key = `ListenerSet/${ls.key}`;
    items.push({
      apiVersion: ls.resource.apiVersion,
      kind: 'ListenerSet',
      metadata: { name: ls.resource.metadata.name, namespace: ls.resource.metadata.namespace!, generation: gen },
      status: { conditions: conds(key, ls.checks, gen), listeners: listenerStatuses(ls.listeners, key, gen, conds) },
    });
  }

  // Without a previous status, a route's status is a function of its one parent's parentRef
  // (content and key order), checks and generation: a route that repeats the route before it
  // (most routes of a large table: the same Gateway, the model's shared checks) gets the same
  // object, compared field by field, without a lookup in the shared parts.
  let last: { parentRef: { ref: RouteParentStatus['parentRef']; order: string[] }; checks: Check[]; gen: number; status: { parents: RouteParentStatus[] } } | undefined;
  for (let i = 0; i < model.routes.length; i++) {
    const r = model.routes[i]!;
    const gen = r.resource.metadata.generation ?? 1;
    // Parents that are not ours are not listed; a route with none still appears with an empty list.
    let status: { parents: RouteParentStatus[] };
    if (r.parents.length === 1) {
      const p = r.parents[0]!;
      if (previous.size === 0 && last !== undefined && last.checks === p.checks && last.gen === gen && sameFields(p.parentRef, last.parentRef)) status = last.status;
      else {
        const parent = shared.parent(p.parentRef, shared.conditions(p.checks, gen, now, previous.size > 0 ? previous.get(`${r.kind}/${r.namespace}/${r.name}/${parentKey(p.parentRef)}`) : undefined));
        status = shared.routeStatus(shared.onlyParent(parent));
        last = { parentRef: { ref: parent.parentRef, order: Object.keys(parent.parentRef) }, checks: p.checks, gen, status };
      }
    } else {
      status = shared.routeStatus(Object.freeze(r.parents.map((p) => shared.parent(p.parentRef, shared.conditions(p.checks, gen, now, previous.size > 0 ? previous.get(`${r.kind}/${r.namespace}/${r.name}/${parentKey(p.parentRef)}`) : undefined)))) as RouteParentStatus[]);
    }
    items.push({ apiVersion: r.resource.apiVersion, kind: r.kind as 'HTTPRoute', metadata: { name: r.name, namespace: r.namespace, generation: gen }, status });
  }
  // BackendTLSPolicy: one ancestor per Gateway this controller serves (the data plane that
  // applies it), with the policy's own conditions.
  for (const p of model.backendTLSPolicies) {
    const gen = p.resource.metadata.generation ?? 1;
    items.push({
      apiVersion: p.resource.apiVersion,
      kind: 'BackendTLSPolicy',
      metadata: { name: p.resource.metadata.name, namespace: p.resource.metadata.namespace!, generation: gen },
      status: {
        ancestors: model.gateways.map((g) => ({
          ancestorRef: { group: GatewayGroup, kind: 'Gateway', namespace: g.resource.metadata.namespace!, name: g.resource.metadata.name },
          controllerName: model.controllerName,
          conditions: conds(`BackendTLSPolicy/${p.key}/${g.key}`, p.checks, gen),
        })),
      },
    });
  }
  return { apiVersion: 'v1', kind: 'List', items };
}

function listenerStatuses(listeners: ListenerModel[], key: string, gen: number, conds: (objKey: string, checks: Check[], generation: number) => Condition[]): ListenerStatus[] {
  return listeners.map((l) => ({
    name: l.name,
    supportedKinds: l.supportedKinds.map((k) => ({ group: k.group || GatewayGroup, kind: k.kind })),
    attachedRoutes: l.attachedRoutes,
    conditions: conds(`${key}/listener/${l.name}`, l.checks, gen),
  }));
}

/**
 * The frozen, shared parts of one status list. Runs for every route: a route whose status
 * repeats another's content (the usual case: same parent, same checks, same generation) gets the
 * same objects, so a build allocates and keeps almost nothing per route beyond its item and
 * metadata. Keys are object identities (checks are shared by the model) or, for a parentRef,
 * its fields in order: nothing here changes what the status says.
 */
class SharedParts {
  /** Conditions by check, one per generation and lastTransitionTime (usually one). */
  private readonly byCheck = new Map<Check, Condition[]>();
  /** Condition lists, as a trie over the conditions' identities. */
  private readonly lists: ListNode = { next: undefined, list: undefined };
  private readonly parentRefs = new Map<string, { ref: RouteParentStatus['parentRef']; order: string[] }[]>();
  private readonly parents = new Map<RouteParentStatus['parentRef'], Map<Condition[], RouteParentStatus>>();
  private readonly onlyParents = new Map<RouteParentStatus, RouteParentStatus[]>();
  private readonly routeStatuses = new Map<RouteParentStatus[], { parents: RouteParentStatus[] }>();

  constructor(private readonly controllerName: string) {}

  /**
   * The conditions of one object, an unchanged condition keeping its previous lastTransitionTime
   * (and, when nothing about it changed, being the previous condition object itself).
   */
  conditions(checks: Check[], generation: number, now: string, previous: Map<string, Condition> | undefined): Condition[] {
    // Walks the trie first: a list seen before (the usual case) allocates nothing.
    let node = this.lists;
    for (let i = 0; i < checks.length; i++) {
      const cond = this.conditionOf(checks[i]!, generation, now, previous);
      node.next ??= new Map();
      let child = node.next.get(cond);
      if (child === undefined) node.next.set(cond, (child = { next: undefined, list: undefined }));
      node = child;
    }
    return (node.list ??= Object.freeze(checks.map((c) => this.conditionOf(c, generation, now, previous))) as Condition[]);
  }

  /** One check as a condition; the same check, generation and outcome give the same object. */
  private conditionOf(c: Check, generation: number, now: string, previous: Map<string, Condition> | undefined): Condition {
    const prev = previous?.get(c.type);
    const same = prev !== undefined && prev.status === c.status && prev.reason === c.reason;
    return same && prev.message === c.message && prev.observedGeneration === generation && Object.isFrozen(prev) ? prev : this.condition(c, generation, same ? prev.lastTransitionTime : now);
  }

  private condition(c: Check, generation: number, lastTransitionTime: string): Condition {
    let known = this.byCheck.get(c);
    if (known === undefined) this.byCheck.set(c, (known = []));
    for (const k of known) if (k.observedGeneration === generation && k.lastTransitionTime === lastTransitionTime) return k;
    const cond: Condition = Object.freeze({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime, observedGeneration: generation });
    known.push(cond);
    return cond;
  }

  /** A route's entry for one parent. */
  parent(ref: RouteParentModel['parentRef'], conditions: Condition[]): RouteParentStatus {
    const parentRef = this.parentRef(ref);
    let byConditions = this.parents.get(parentRef);
    if (byConditions === undefined) this.parents.set(parentRef, (byConditions = new Map()));
    let p = byConditions.get(conditions);
    if (p === undefined) byConditions.set(conditions, (p = Object.freeze({ parentRef, controllerName: this.controllerName, conditions })));
    return p;
  }

  /**
   * The parentRef without its unset fields, in its own key order: one frozen object per distinct
   * content and key order, found by name and compared field by field (no key is built).
   */
  private parentRef(o: RouteParentModel['parentRef']): RouteParentStatus['parentRef'] {
    let known = this.parentRefs.get(o.name);
    if (known === undefined) this.parentRefs.set(o.name, (known = []));
    for (let i = 0; i < known.length; i++) if (sameFields(o, known[i]!)) return known[i]!.ref;
    const ref = Object.freeze(stripUndefined(o));
    known.push({ ref, order: Object.keys(ref) });
    return ref;
  }

  onlyParent(p: RouteParentStatus): RouteParentStatus[] {
    let list = this.onlyParents.get(p);
    if (list === undefined) this.onlyParents.set(p, (list = Object.freeze([p]) as RouteParentStatus[]));
    return list;
  }

  routeStatus(parents: RouteParentStatus[]): { parents: RouteParentStatus[] } {
    if (parents.length === 0) parents = NO_PARENTS;
    let s = this.routeStatuses.get(parents);
    if (s === undefined) this.routeStatuses.set(parents, (s = Object.freeze({ parents })));
    return s;
  }
}

/** Whether `o` without its unset fields equals `known.ref`, keys in the same order. */
function sameFields(o: RouteParentModel['parentRef'], known: { ref: RouteParentStatus['parentRef']; order: string[] }): boolean {
  let i = 0;
  for (const k in o) {
    const v = o[k as keyof typeof o];
    if (v === undefined) continue;
    if (known.order[i] !== k || known.ref[k as keyof typeof known.ref] !== v) return false;
    i++;
  }
  return i === known.order.length;
}

interface ListNode {
  next: Map<Condition, ListNode> | undefined;
  list: Condition[] | undefined;
}

/** The parents of a route no parent of ours lists. */
const NO_PARENTS = Object.freeze([]) as unknown as RouteParentStatus[];

function parentKey(p: { kind: string; namespace?: string | undefined; name: string; sectionName?: string | undefined; port?: number | undefined }): string {
  return `${p.kind}/${p.namespace ?? ''}/${p.name}/${p.sectionName ?? ''}/${p.port ?? ''}`;
}

/** The previous conditions by object key, then by condition type (the last one of a type wins). */
function indexPrevious(list: StatusList | undefined): Map<string, Map<string, Condition>> {
  const out = new Map<string, Map<string, Condition>>();
  const add = (objKey: string, conditions: Condition[]) => {
    let byType = out.get(objKey);
    if (!byType) out.set(objKey, (byType = new Map()));
    for (const c of conditions) byType.set(c.type, c);
  };
  for (const item of list?.items ?? []) {
    const base = item.metadata.namespace ? `${item.kind}/${item.metadata.namespace}/${item.metadata.name}` : `${item.kind}/${item.metadata.name}`;
    if (item.kind === 'GatewayClass') add(base, item.status.conditions);
    else if (item.kind === 'BackendTLSPolicy') {
      for (const a of item.status.ancestors) add(`${base}/${a.ancestorRef.namespace}/${a.ancestorRef.name}`, a.conditions);
    } else if (item.kind === 'Gateway' || item.kind === 'ListenerSet') {
      add(base, item.status.conditions);
      for (const l of item.status.listeners) add(`${base}/listener/${l.name}`, l.conditions);
    } else {
      for (const p of item.status.parents) add(`${base}/${parentKey(p.parentRef)}`, p.conditions);
    }
  }
  return out;
}

/** The parentRef without its unset fields, in its own key order. */
function stripUndefined(o: { group: string; kind: string; namespace?: string | undefined; name: string; sectionName?: string | undefined; port?: number | undefined }): RouteParentStatus['parentRef'] {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k as keyof typeof o];
    if (v !== undefined) out[k] = v;
  }
  return out as RouteParentStatus['parentRef'];
}
