/**
 * buildStatus: the status a Gateway API controller would write, shaped exactly like the
 * Kubernetes objects so that dumping it reads like `kubectl get -o yaml` (spec digest section 10).
 */
import type { Check } from './conditions.js';
import type { Model } from './attach.js';
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
  | RouteStatusObject<'HTTPRoute'>
  | RouteStatusObject<'GRPCRoute'>
  | RouteStatusObject<'TLSRoute'>;

/** A route's status object. */
export interface RouteStatusObject<K extends 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute'> {
  apiVersion: string;
  kind: K;
  metadata: Meta;
  status: { parents: RouteParentStatus[] };
}

/** A `kind: List` of status objects: GatewayClasses, then Gateways, then routes. */
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

/** Builds the status list for the model. Deterministic for a given model and options. */
export function buildStatus(model: Model, options: StatusOptions): StatusList {
  const now = options.now.toISOString();
  const previous = indexPrevious(options.previous);
  const conds = (objKey: string, checks: Check[], generation: number): Condition[] =>
    checks.map((c) => {
      const prev = previous.get(`${objKey}#${c.type}`);
      const same = prev && prev.status === c.status && prev.reason === c.reason;
      return { type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: same ? prev.lastTransitionTime : now, observedGeneration: generation };
    });
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
        listeners: g.listeners.map((l) => ({
          name: l.name,
          supportedKinds: l.supportedKinds.map((k) => ({ group: k.group || GatewayGroup, kind: k.kind })),
          attachedRoutes: l.attachedRoutes,
          conditions: conds(`${key}/listener/${l.name}`, l.checks, gen),
        })),
      },
    });
  }

  for (const r of model.routes) {
    const gen = r.resource.metadata.generation ?? 1;
    // Parents that are not ours are not listed; a route with none still appears with an empty list.
    items.push({
      apiVersion: r.resource.apiVersion,
      kind: r.kind as 'HTTPRoute',
      metadata: { name: r.name, namespace: r.namespace, generation: gen },
      status: {
        parents: r.parents.map((p) => ({
          parentRef: stripUndefined(p.parentRef),
          controllerName: model.controllerName,
          conditions: conds(`${r.key}/${parentKey(p.parentRef)}`, p.checks, gen),
        })),
      },
    });
  }
  return { apiVersion: 'v1', kind: 'List', items };
}

function parentKey(p: { namespace?: string | undefined; name: string; sectionName?: string | undefined; port?: number | undefined }): string {
  return `${p.namespace ?? ''}/${p.name}/${p.sectionName ?? ''}/${p.port ?? ''}`;
}

function indexPrevious(list: StatusList | undefined): Map<string, Condition> {
  const out = new Map<string, Condition>();
  for (const item of list?.items ?? []) {
    const base = item.metadata.namespace ? `${item.kind}/${item.metadata.namespace}/${item.metadata.name}` : `${item.kind}/${item.metadata.name}`;
    if (item.kind === 'GatewayClass') for (const c of item.status.conditions) out.set(`${base}#${c.type}`, c);
    else if (item.kind === 'Gateway') {
      for (const c of item.status.conditions) out.set(`${base}#${c.type}`, c);
      for (const l of item.status.listeners) for (const c of l.conditions) out.set(`${base}/listener/${l.name}#${c.type}`, c);
    } else {
      for (const p of item.status.parents) for (const c of p.conditions) out.set(`${base}/${parentKey(p.parentRef)}#${c.type}`, c);
    }
  }
  return out;
}

function stripUndefined(o: { group: string; kind: string; namespace?: string | undefined; name: string; sectionName?: string | undefined; port?: number | undefined }): RouteParentStatus['parentRef'] {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as RouteParentStatus['parentRef'];
}
