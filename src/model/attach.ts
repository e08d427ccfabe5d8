/**
 * resolveAttachments: which Gateways and listeners are ours and valid, which routes attach to
 * which listeners and on which hostnames, and which backendRefs resolve. Spec digest sections
 * 1.2, 1.3, 1.8, 2 and 6; pure function of the loaded resources.
 */
import type { BackendTLSPolicy, ConfigMap, Gateway, GatewayClass, ListenerSet, NamespaceObject, ReferenceGrant, Secret, Service } from '../resources/schemas-gateway.js';
import type { GRPCRoute, HTTPRoute, TLSRoute } from '../resources/schemas-route.js';
import type { Resource } from '../resources/load.js';
import { GatewayGroup } from '../resources/schemas-shared.js';
import { ALL_RESOLVED, check, type Check } from './conditions.js';
import { resolveGateways, type GatewayClassModel, type GatewayModel, type ListenerSetModel } from './gateways.js';
import type { ListenerModel, RouteKind } from './listeners.js';
import { effectiveHostnames } from './hostnames.js';
import { References, rejectPolicyConflicts, type BackendTLSPolicyModel, selectorMatches, type BackendModel } from './references.js';
import { rejectKindConflicts } from './routes/kind-conflicts.js';
import { ruleModels } from './routes/rules.js';

export type AnyRoute = HTTPRoute | GRPCRoute | TLSRoute;

/** The loaded resources grouped by kind. */
export interface Snapshot {
  gatewayClasses: GatewayClass[];
  gateways: Gateway[];
  listenerSets: ListenerSet[];
  routes: AnyRoute[];
  referenceGrants: ReferenceGrant[];
  services: Service[];
  namespaces: NamespaceObject[];
  secrets: Secret[];
  configMaps: ConfigMap[];
  backendTLSPolicies: BackendTLSPolicy[];
}

export function groupResources(resources: readonly Resource[]): Snapshot {
  const s: Snapshot = { gatewayClasses: [], gateways: [], listenerSets: [], routes: [], referenceGrants: [], services: [], namespaces: [], secrets: [], configMaps: [], backendTLSPolicies: [] };
  for (let i = 0; i < resources.length; i++) {
    const r = resources[i]!;
    switch (r.kind) {
      case 'GatewayClass': s.gatewayClasses.push(r); break;
      case 'Gateway': s.gateways.push(r); break;
      case 'ListenerSet': s.listenerSets.push(r); break;
      case 'HTTPRoute': case 'GRPCRoute': case 'TLSRoute': s.routes.push(r); break;
      case 'ReferenceGrant': s.referenceGrants.push(r); break;
      case 'Service': s.services.push(r); break;
      case 'Namespace': s.namespaces.push(r); break;
      case 'Secret': s.secrets.push(r); break;
      case 'ConfigMap': s.configMaps.push(r); break;
      case 'BackendTLSPolicy': s.backendTLSPolicies.push(r); break;
    }
  }
  return s;
}

/** Options of {@link resolveAttachments}. */
export interface AttachOptions {
  /** The GatewayClass controllerName this process answers to. */
  controllerName: string;
  /**
   * Backends registered in-process (keys `name`, `name:port`, `namespace/name:port`). When
   * given, a backendRef must be registered to receive traffic; when absent, a Service in the
   * manifests is enough.
   */
  registeredBackends?: ReadonlySet<string> | undefined;
  /** Creation time (ms since epoch) of a resource; substitutes missing creationTimestamps. */
  createdAt: (r: Resource) => number;
}

export interface RuleModel {
  index: number;
  name: string | undefined;
  /** False when the rule is dropped (GEP-1364 PartiallyInvalid). */
  valid: boolean;
  invalidReason?: 'UnsupportedValue' | 'IncompatibleFilters';
  invalidMessage?: string;
  backends: BackendModel[];
  /** RequestMirror backends found in rule and backend filters, resolved. */
  mirrors: BackendModel[];
}

export interface RouteParentModel {
  /** The parentRef as written (CRD defaults applied; namespace only if the route set it). */
  parentRef: { group: string; kind: string; namespace?: string | undefined; name: string; sectionName?: string | undefined; port?: number | undefined };
  /** The Gateway that serves the parent: the parent itself, or a ListenerSet's Gateway. */
  gatewayKey: string;
  accepted: boolean;
  /** Listeners the route is attached to, with the hostnames it answers on each (undefined = any). */
  listeners: { listener: ListenerModel; hostnames: (string | undefined)[] }[];
  checks: Check[];
}

export interface RouteModel {
  resource: AnyRoute;
  kind: RouteKind;
  namespace: string;
  name: string;
  createdAt: number;
  rules: RuleModel[];
  parents: RouteParentModel[];
}

export interface Model {
  controllerName: string;
  gatewayClasses: GatewayClassModel[];
  /** Gateways this controller owns, in load order. */
  gateways: GatewayModel[];
  /** Gateways in the manifests that belong to another controller, with the reason. */
  foreignGateways: { key: string; reason: string }[];
  /** ListenerSets whose parent is one of `gateways`, in load order. */
  listenerSets: ListenerSetModel[];
  routes: RouteModel[];
  /** BackendTLSPolicies, in load order. */
  backendTLSPolicies: BackendTLSPolicyModel[];
}

/**
 * Computes attachment and resolution for every Gateway this controller owns and every route.
 * Never throws on valid resources: spec problems become checks (future status conditions).
 */
export function resolveAttachments(snapshot: Snapshot, options: AttachOptions): Model {
  const { controllerName } = options;
  const ctx = new References(snapshot, options.registeredBackends);
  const { gatewayClasses, gateways, foreignGateways, listenerSets } = resolveGateways(snapshot, controllerName, ctx, options.createdAt);
  const routes = snapshot.routes.map((r) => routeModel(r, gateways, listenerSets, ctx, options));
  rejectKindConflicts(routes);
  // attachedRoutes: one route counts once per listener, however many parentRefs reach it (digest 2.4).
  // One parent lists each listener once, so the usual single-parent route needs no Set.
  // (Indexed loops: the first build runs this in the interpreter, where for-of allocates per element.)
  for (let r = 0; r < routes.length; r++) {
    const route = routes[r]!;
    if (route.parents.length === 1) {
      const parent = route.parents[0]!;
      if (parent.accepted) for (let i = 0; i < parent.listeners.length; i++) parent.listeners[i]!.listener.attachedRoutes++;
      continue;
    }
    const counted = new Set<ListenerModel>();
    for (const parent of route.parents) {
      if (!parent.accepted) continue;
      for (const l of parent.listeners) counted.add(l.listener);
    }
    for (const l of counted) l.attachedRoutes++;
  }
  const backendTLSPolicies = snapshot.backendTLSPolicies.map((p) => ctx.backendTLSPolicy(p));
  rejectPolicyConflicts(backendTLSPolicies, options.createdAt);
  return { controllerName, gatewayClasses, gateways, foreignGateways, listenerSets, routes, backendTLSPolicies };
}

// ---------------------------------------------------------------------------------------------
// Routes

/**
 * A parent a route attaches to: a Gateway, whose own listeners are relevant, or a ListenerSet,
 * whose listeners only are (GEP-1713 "Route Attachment": the direct parent's listeners).
 */
interface Parent {
  kind: 'Gateway' | 'ListenerSet';
  key: string;
  gatewayKey: string;
  listeners: ListenerModel[];
  /** Set when the parent serves nothing at all: why (a ListenerSet its Gateway does not allow). */
  refused?: string;
}

/** The parent of each Gateway and ListenerSet model, made once per resolution. */
const parentModels = new WeakMap<GatewayModel | ListenerSetModel, Parent>();

function parentOf(m: GatewayModel | ListenerSetModel): Parent {
  let p = parentModels.get(m);
  if (p === undefined) {
    p = 'gatewayKey' in m
      ? { kind: 'ListenerSet', key: m.key, gatewayKey: m.gatewayKey, listeners: m.listeners, ...(m.allowed ? {} : { refused: m.checks[0]!.message }) }
      : { kind: 'Gateway', key: m.key, gatewayKey: m.key, listeners: m.listeners };
    parentModels.set(m, p);
  }
  return p;
}

/** The `Accepted: True` check of each parent's routes: one message, so one object for every route. */
const acceptedChecks = new WeakMap<Parent, Check>();

function acceptedBy(p: Parent): Check {
  let c = acceptedChecks.get(p);
  if (c === undefined) acceptedChecks.set(p, (c = check('Accepted', 'True', 'Accepted', `Route is accepted by ${p.kind} ${p.key}`)));
  return c;
}

/**
 * The listeners of a parent, each with the one hostname a route without hostnames answers on
 * there (the listener's): one list per parent, shared by every such route, never written to.
 */
const anyHostLists = new WeakMap<Parent, RouteParentModel['listeners']>();

function anyHostListeners(p: Parent): RouteParentModel['listeners'] {
  let list = anyHostLists.get(p);
  if (list === undefined) anyHostLists.set(p, (list = p.listeners.map((l) => ({ listener: l, hostnames: effectiveHostnames(l.hostname, undefined) }))));
  return list;
}

/** The checks of an accepted route whose rules are all valid and references all resolved: one list per parent, never written to. */
const acceptedLists = new WeakMap<Parent, Map<Check, Check[]>>();

function acceptedChecksOf(p: Parent, resolved: Check): Check[] {
  if (resolved !== ALL_RESOLVED) return [acceptedBy(p), resolved]; // a route's own failure: its own list
  let byResolved = acceptedLists.get(p);
  if (byResolved === undefined) acceptedLists.set(p, (byResolved = new Map()));
  let list = byResolved.get(resolved);
  if (list === undefined) byResolved.set(resolved, (list = [acceptedBy(p), resolved]));
  return list;
}

function routeModel(route: AnyRoute, gateways: GatewayModel[], listenerSets: ListenerSetModel[], ctx: References, options: AttachOptions): RouteModel {
  const namespace = route.metadata.namespace!;
  const kind = route.kind;
  const rules = ruleModels(route, ctx);
  const hostnames = route.spec.hostnames;
  let parents: RouteParentModel[] = [];
  let resolved: Check | undefined; // the same for every parent: computed for the first
  const refs = route.spec.parentRefs ?? NO_REFS;
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    // Only Gateways and ListenerSets this controller owns get a status entry; other parents are not ours to write.
    if (ref.group !== GatewayGroup) continue;
    const m = ref.kind === 'Gateway' ? modelOf(gateways, ref.namespace ?? namespace, ref.name) : ref.kind === 'ListenerSet' ? modelOf(listenerSets, ref.namespace ?? namespace, ref.name) : undefined;
    if (!m) continue;
    const parent = attachToParent(kind, namespace, ref, parentOf(m), hostnames, rules, (resolved ??= resolvedRefsCheck(rules)), ctx);
    // Usually the only parent: a literal is sized exactly (push would reserve 17 slots).
    parents = parents.length === 0 ? [parent] : [...parents, parent];
  }
  return { resource: route, kind, namespace, name: route.metadata.name, createdAt: options.createdAt(route), rules, parents };
}

/** The Gateway or ListenerSet `namespace/name` among ours. There are a handful of them: a scan beats building a key. */
function modelOf<M extends GatewayModel | ListenerSetModel>(models: M[], namespace: string, name: string): M | undefined {
  for (let i = 0; i < models.length; i++) {
    const m = models[i]!;
    if (m.resource.metadata.name === name && m.resource.metadata.namespace === namespace) return m;
  }
  return undefined;
}

/**
 * Attachment to one parent (spec digest 2.2). Runs for every route: the common path (no
 * sectionName or port, every listener admitting the route) copies no listener list and shares
 * its checks; the messages of rejections are built only when they happen. No closure here
 * captures a parameter (V8 would then allocate a context on every call): the rare paths are
 * functions of their own.
 */
function attachToParent(
  kind: RouteKind,
  namespace: string,
  parentRef: RouteParentModel['parentRef'],
  parent: Parent,
  hostnames: readonly string[] | undefined,
  rules: RuleModel[],
  resolved: Check,
  ctx: References,
): RouteParentModel {
  const result: RouteParentModel = { parentRef, gatewayKey: parent.gatewayKey, accepted: false, listeners: NO_LISTENERS, checks: NO_CHECKS };
  if (parent.refused !== undefined) return rejected(result, 'NotAllowedByListeners', `${parent.refused}; no route attaches to its listeners`, resolved);
  // Step 2: listeners named by sectionName and/or port (both must match when both are set).
  let relevant = parent.listeners;
  if (parentRef.sectionName !== undefined || parentRef.port !== undefined) relevant = namedListeners(parent.listeners, parentRef);
  if (relevant.length === 0) return rejected(result, 'NoMatchingParent', noMatchingParent(parent, parentRef), resolved);
  // Step 3: listeners that admit this kind and this namespace (usually all: then no copy).
  let allowed = relevant;
  for (let i = 0; i < relevant.length; i++) {
    if (!admits(relevant[i]!, kind, namespace, ctx)) {
      allowed = admitting(relevant, kind, namespace, ctx);
      break;
    }
  }
  if (allowed.length === 0) return rejected(result, 'NotAllowedByListeners', notAllowed(parent, relevant, kind), resolved);
  // Step 4: hostname intersection. Invalid or conflicted listeners still count the route as
  // attached (spec digest 2.2 step 6); they just serve no traffic. A route without hostnames
  // on every listener of its parent (the usual case) shares the parent's one list.
  result.listeners = (hostnames === undefined || hostnames.length === 0) && allowed === parent.listeners ? anyHostListeners(parent) : intersected(allowed, hostnames);
  if (result.listeners.length === 0) return rejected(result, 'NoMatchingListenerHostname', noMatchingHostname(allowed, hostnames), resolved);
  // Step 5: the route needs at least one valid rule (GEP-1364).
  let valid = 0;
  for (let i = 0; i < rules.length; i++) if (rules[i]!.valid) valid++;
  if (valid === 0 && rules.length > 0) {
    result.listeners = NO_LISTENERS;
    return rejected(result, rules[0]!.invalidReason ?? 'UnsupportedValue', allInvalid(rules), resolved);
  }
  result.accepted = true;
  result.checks = valid < rules.length ? [acceptedBy(parent), resolved, partiallyInvalid(rules)] : acceptedChecksOf(parent, resolved);
  return result;
}

/** A parent's listeners and checks before attachment decides them: shared, never written to. */
const NO_LISTENERS: RouteParentModel['listeners'] = [];
const NO_CHECKS: Check[] = [];

function rejected(result: RouteParentModel, reason: 'NoMatchingParent' | 'NotAllowedByListeners' | 'NoMatchingListenerHostname' | 'UnsupportedValue' | 'IncompatibleFilters', message: string, resolved: Check): RouteParentModel {
  result.checks = [check('Accepted', 'False', reason, message), resolved];
  return result;
}

function namedListeners(listeners: ListenerModel[], ref: RouteParentModel['parentRef']): ListenerModel[] {
  return listeners.filter((l) => (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port));
}

function noMatchingParent(parent: Parent, ref: RouteParentModel['parentRef']): string {
  const want = [ref.sectionName !== undefined ? `sectionName ${ref.sectionName}` : '', ref.port !== undefined ? `port ${ref.port}` : ''].filter(Boolean).join(' and ');
  const have = parent.listeners.map((l) => `${l.name}:${l.port}`).join(', ');
  return `${parent.kind} ${parent.key} has no listener with ${want} (listeners: ${have}); fix the parentRef`;
}

function admitting(listeners: ListenerModel[], kind: RouteKind, namespace: string, ctx: References): ListenerModel[] {
  return listeners.filter((x) => admits(x, kind, namespace, ctx));
}

function notAllowed(parent: Parent, relevant: ListenerModel[], kind: RouteKind): string {
  const why = relevant.map((l) => (l.supportedKinds.some((k) => k.kind === kind) ? `${l.name} admits routes from ${describeFrom(l)} only` : `${l.name} does not accept ${kind}`)).join('; ');
  return `${parent.kind} ${parent.key} does not allow this route: ${why}`;
}

/** The listeners with the route's hostnames on each; those with none left out (map and filter size the list exactly: it lives until the build ends). */
function intersected(allowed: ListenerModel[], hostnames: readonly string[] | undefined): RouteParentModel['listeners'] {
  const listeners = allowed.map((l) => ({ listener: l, hostnames: effectiveHostnames(l.hostname, hostnames) }));
  return listeners.every((l) => l.hostnames.length > 0) ? listeners : listeners.filter((l) => l.hostnames.length > 0);
}

function noMatchingHostname(allowed: ListenerModel[], hostnames: readonly string[] | undefined): string {
  const listenerHosts = allowed.map((l) => `${l.name} (${l.hostname ?? 'any host'})`).join(', ');
  return `None of the route's hostnames (${(hostnames ?? []).join(', ')}) matches a listener hostname: ${listenerHosts}`;
}

function allInvalid(rules: RuleModel[]): string {
  return `All rules are invalid: ${rules.map((r) => `rule ${r.index}: ${r.invalidMessage}`).join('; ')}`;
}

function partiallyInvalid(rules: RuleModel[]): Check {
  const dropped = rules.filter((r) => !r.valid);
  return check('PartiallyInvalid', 'True', 'UnsupportedValue', `Dropped Rule(s): ${dropped.map((r) => `rule ${r.index}${r.name ? ` (${r.name})` : ''}: ${r.invalidMessage}`).join('; ')}`);
}

/** Whether listener `l` admits routes of this kind from this namespace (spec digest 2.2 step 3). */
function admits(l: ListenerModel, kind: RouteKind, namespace: string, ctx: References): boolean {
  let kindOk = false;
  for (let i = 0; i < l.supportedKinds.length; i++) {
    const k = l.supportedKinds[i]!;
    if (k.group === GatewayGroup && k.kind === kind) {
      kindOk = true;
      break;
    }
  }
  return kindOk && namespaceAllowed(l, namespace, ctx);
}

function describeFrom(l: ListenerModel): string {
  const from = l.allowedRoutes.namespaces.from;
  return from === 'Same' ? `the ${l.owner.kind} namespace` : from === 'Selector' ? 'namespaces matching its selector' : 'all namespaces';
}

/** allowedRoutes.namespaces; `Same` is the namespace of the Gateway or ListenerSet that declares the listener (conformance listenerset-allowed-routes-namespaces). */
function namespaceAllowed(l: ListenerModel, namespace: string, ctx: References): boolean {
  const ns = l.allowedRoutes.namespaces;
  switch (ns.from) {
    case 'All':
      return true;
    case 'Same':
      return namespace === l.owner.namespace;
    case 'Selector':
      return ns.selector !== undefined && selectorMatches(ns.selector, ctx.labelsOf(namespace));
  }
}

/** The route's ResolvedRefs condition: the first failing backend names the reason; all are listed. */
function resolvedRefsCheck(rules: RuleModel[]): Check {
  let bad: BackendModel[] | undefined;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    for (let k = 0; k < r.backends.length; k++) if (r.backends[k]!.state !== 'ok') (bad ??= []).push(r.backends[k]!);
    for (let k = 0; k < r.mirrors.length; k++) if (r.mirrors[k]!.state !== 'ok') (bad ??= []).push(r.mirrors[k]!);
  }
  if (bad === undefined) return ALL_RESOLVED;
  return check('ResolvedRefs', 'False', bad[0]!.reason!, bad.map((b) => b.message).join('; '));
}

const NO_REFS: never[] = [];
