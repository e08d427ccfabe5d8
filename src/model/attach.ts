/**
 * resolveAttachments: which Gateways and listeners are ours and valid, which routes attach to
 * which listeners and on which hostnames, and which backendRefs resolve. Spec digest sections
 * 1.2, 1.3, 2 and 6; pure function of the loaded resources.
 */
import type { Gateway, GatewayClass, NamespaceObject, ReferenceGrant, Secret, Service } from '../resources/schemas-gateway.js';
import type { GRPCRoute, HTTPRoute, HTTPRouteFilter, TLSRoute } from '../resources/schemas-route.js';
import type { Resource } from '../resources/load.js';
import { GatewayGroup } from '../resources/schemas-shared.js';
import { check, type Check } from './conditions.js';
import { effectiveHostnames } from './hostnames.js';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute';
export type AnyRoute = HTTPRoute | GRPCRoute | TLSRoute;

/** The loaded resources grouped by kind. */
export interface Snapshot {
  gatewayClasses: GatewayClass[];
  gateways: Gateway[];
  routes: AnyRoute[];
  referenceGrants: ReferenceGrant[];
  services: Service[];
  namespaces: NamespaceObject[];
  secrets: Secret[];
}

export function groupResources(resources: readonly Resource[]): Snapshot {
  const s: Snapshot = { gatewayClasses: [], gateways: [], routes: [], referenceGrants: [], services: [], namespaces: [], secrets: [] };
  for (const r of resources) {
    switch (r.kind) {
      case 'GatewayClass': s.gatewayClasses.push(r); break;
      case 'Gateway': s.gateways.push(r); break;
      case 'HTTPRoute': case 'GRPCRoute': case 'TLSRoute': s.routes.push(r); break;
      case 'ReferenceGrant': s.referenceGrants.push(r); break;
      case 'Service': s.services.push(r); break;
      case 'Namespace': s.namespaces.push(r); break;
      case 'Secret': s.secrets.push(r); break;
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

export interface GatewayClassModel {
  resource: GatewayClass;
  checks: Check[];
}

export interface ListenerModel {
  index: number;
  name: string;
  port: number;
  protocol: string;
  hostname: string | undefined;
  /** Route kinds this listener accepts (after allowedRoutes.kinds filtering). */
  supportedKinds: { group: string; kind: string }[];
  checks: Check[];
  /** Accepted and not conflicted: routes may attach and traffic is served if also programmed. */
  valid: boolean;
  /** Ready to serve traffic: valid and every reference resolved. */
  programmed: boolean;
  attachedRoutes: number;
  allowedRoutes: Gateway['spec']['listeners'][number]['allowedRoutes'];
}

export interface GatewayModel {
  resource: Gateway;
  key: string;
  listeners: ListenerModel[];
  checks: Check[];
}

/** A backendRef after resolution. */
export interface BackendModel {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  port: number | undefined;
  weight: number;
  /** `ok`: traffic goes there; `invalid`: its share answers 500; `unavailable`: its share answers 503. */
  state: 'ok' | 'invalid' | 'unavailable';
  /** The condition reason when not ok. */
  reason?: 'RefNotPermitted' | 'InvalidKind' | 'BackendNotFound' | 'UnsupportedProtocol';
  message?: string;
  /** Key of the registered backend that serves it, when one does. */
  registered?: string;
  /** Per-backend filters, as written (HTTPRoute and GRPCRoute). */
  filters: HTTPRouteFilter[];
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
  gatewayKey: string;
  accepted: boolean;
  /** Listeners the route is attached to, with the hostnames it answers on each (undefined = any). */
  listeners: { name: string; hostnames: (string | undefined)[] }[];
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
  routes: RouteModel[];
}

const ROUTE_KINDS_BY_PROTOCOL: Record<string, RouteKind[]> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
};

/** Protocols an in-process HTTP router can serve. TCP, UDP and custom protocols are not. */
const SUPPORTED_PROTOCOLS = new Set(Object.keys(ROUTE_KINDS_BY_PROTOCOL));

/** Service appProtocols the node adapter cannot speak to (it proxies HTTP/1.1 without upgrades). */
const UNSUPPORTED_APP_PROTOCOLS = new Set(['kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss']);

/** Checks are plain data nobody writes to: every listener and route whose references all resolve shares this one. */
const ALL_RESOLVED = check('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved');

/**
 * Computes attachment and resolution for every Gateway this controller owns and every route.
 * Never throws on valid resources: spec problems become checks (future status conditions).
 */
export function resolveAttachments(snapshot: Snapshot, options: AttachOptions): Model {
  const { controllerName } = options;
  const classes = snapshot.gatewayClasses.map((c) => classModel(c, controllerName));
  const ourClasses = new Map(classes.filter((c) => c.resource.spec.controllerName === controllerName).map((c) => [c.resource.metadata.name, c]));
  const noClasses = snapshot.gatewayClasses.length === 0;

  const gateways: GatewayModel[] = [];
  const foreignGateways: Model['foreignGateways'] = [];
  for (const gw of snapshot.gateways) {
    const key = `${gw.metadata.namespace}/${gw.metadata.name}`;
    const cls = ourClasses.get(gw.spec.gatewayClassName);
    if (!noClasses && !cls) {
      const other = snapshot.gatewayClasses.find((c) => c.metadata.name === gw.spec.gatewayClassName);
      foreignGateways.push({
        key,
        reason: other
          ? `its GatewayClass ${other.metadata.name} has controllerName ${other.spec.controllerName}, not ${controllerName}`
          : `its GatewayClass ${gw.spec.gatewayClassName} is not in the manifests`,
      });
      continue;
    }
    if (cls && cls.checks[0]?.status !== 'True') {
      foreignGateways.push({ key, reason: `its GatewayClass ${gw.spec.gatewayClassName} is not Accepted` });
      continue;
    }
    gateways.push(gatewayModel(gw, key, snapshot));
  }

  const ctx = new Resolver(snapshot, options);
  const routes = snapshot.routes.map((r) => routeModel(r, gateways, ctx, options));
  // attachedRoutes: one route counts once per listener, however many parentRefs reach it (digest 2.4).
  // One parent lists each listener once, so the usual single-parent route needs no Set.
  for (const route of routes) {
    if (route.parents.length === 1) {
      const parent = route.parents[0]!;
      if (parent.accepted) for (const l of parent.listeners) listenerNamed(gateways, parent.gatewayKey, l.name).attachedRoutes++;
      continue;
    }
    const counted = new Set<ListenerModel>();
    for (const parent of route.parents) {
      if (!parent.accepted) continue;
      for (const l of parent.listeners) counted.add(listenerNamed(gateways, parent.gatewayKey, l.name));
    }
    for (const l of counted) l.attachedRoutes++;
  }
  return { controllerName, gatewayClasses: classes, gateways, foreignGateways, routes };
}

function listenerNamed(gateways: GatewayModel[], gatewayKey: string, name: string): ListenerModel {
  for (const g of gateways) {
    if (g.key !== gatewayKey) continue;
    for (const l of g.listeners) if (l.name === name) return l;
  }
  throw new Error(`gateway-api-router internal error: no listener ${gatewayKey}/${name}`);
}

// ---------------------------------------------------------------------------------------------
// GatewayClass

function classModel(c: GatewayClass, controllerName: string): GatewayClassModel {
  if (c.spec.controllerName !== controllerName) return { resource: c, checks: [] };
  if (c.spec.parametersRef) {
    const p = c.spec.parametersRef;
    return {
      resource: c,
      checks: [check('Accepted', 'False', 'InvalidParameters', `parametersRef ${p.group}/${p.kind}/${p.name} is not supported by gateway-api-router; remove parametersRef`)],
    };
  }
  return { resource: c, checks: [check('Accepted', 'True', 'Accepted', 'GatewayClass is accepted by gateway-api-router')] };
}

// ---------------------------------------------------------------------------------------------
// Gateway and listeners

function gatewayModel(gw: Gateway, key: string, snapshot: Snapshot): GatewayModel {
  const listeners = gw.spec.listeners.map((l, index) => listenerModel(gw, l, index, snapshot));
  markConflicts(listeners);
  for (const l of listeners) {
    l.programmed = l.valid && l.checks.every((c) => c.type !== 'ResolvedRefs' || c.status === 'True');
    l.checks.push(
      l.programmed
        ? check('Programmed', 'True', 'Programmed', 'Listener is programmed')
        : check('Programmed', 'False', 'Invalid', 'Listener is not programmed: see its Accepted, Conflicted and ResolvedRefs conditions'),
    );
  }
  const valid = listeners.filter((l) => l.valid).length;
  const checks: Check[] = [];
  if (valid === listeners.length) {
    checks.push(check('Accepted', 'True', 'Accepted', 'Gateway is accepted'));
  } else if (valid > 0) {
    const bad = listeners.filter((l) => !l.valid).map((l) => l.name).join(', ');
    checks.push(check('Accepted', 'True', 'ListenersNotValid', `Gateway is accepted, but these listeners are not valid and serve no traffic: ${bad}`));
  } else {
    checks.push(check('Accepted', 'False', 'ListenersNotValid', 'No listener is valid; fix the listeners (see their conditions)'));
  }
  const programmed = listeners.some((l) => l.programmed);
  checks.push(
    programmed
      ? check('Programmed', 'True', 'Programmed', 'Gateway is programmed')
      : check('Programmed', 'False', 'Invalid', 'No listener is programmed; fix the listeners (see their conditions)'),
  );
  return { resource: gw, key, listeners, checks };
}

function listenerModel(gw: Gateway, l: Gateway['spec']['listeners'][number], index: number, snapshot: Snapshot): ListenerModel {
  const checks: Check[] = [];
  let valid = true;
  const compatible = ROUTE_KINDS_BY_PROTOCOL[l.protocol] ?? [];
  if (!SUPPORTED_PROTOCOLS.has(l.protocol)) {
    valid = false;
    checks.push(check('Accepted', 'False', 'UnsupportedProtocol', `Protocol ${l.protocol} is not supported; gateway-api-router serves HTTP, HTTPS and TLS listeners`));
  } else if (l.protocol === 'TLS' && l.tls?.mode === 'Terminate') {
    valid = false;
    checks.push(check('Accepted', 'False', 'UnsupportedValue', 'TLS mode Terminate is not supported for protocol TLS; use mode Passthrough, or protocol HTTPS'));
  } else if (l.protocol === 'HTTPS' && l.tls === undefined) {
    valid = false;
    checks.push(check('Accepted', 'False', 'Invalid', 'An HTTPS listener needs tls with certificateRefs'));
  } else {
    checks.push(check('Accepted', 'True', 'Accepted', 'Listener is accepted'));
  }

  // allowedRoutes.kinds: keep compatible kinds; any other makes ResolvedRefs False.
  let supportedKinds: { group: string; kind: string }[] = compatible.map((kind) => ({ group: GatewayGroup, kind }));
  const refChecks: Check[] = [];
  const requested = l.allowedRoutes.kinds;
  if (requested && requested.length > 0) {
    const ok = requested.filter((k) => k.group === GatewayGroup && (compatible as string[]).includes(k.kind));
    const bad = requested.filter((k) => !ok.includes(k));
    supportedKinds = ok.map((k) => ({ group: k.group, kind: k.kind }));
    if (bad.length > 0) {
      const names = bad.map((k) => `${k.group}/${k.kind}`).join(', ');
      refChecks.push(check('ResolvedRefs', 'False', 'InvalidRouteKinds', `Route kinds not supported on a ${l.protocol} listener: ${names}; supported: ${compatible.join(', ') || 'none'}`));
    }
  }

  // certificateRefs (HTTPS, and TLS with Terminate).
  if (l.tls && l.tls.mode === 'Terminate' && refChecks.length === 0) {
    for (const ref of l.tls.certificateRefs ?? []) {
      const ns = ref.namespace ?? gw.metadata.namespace!;
      const what = `certificateRef ${ns}/${ref.name}`;
      if (ref.group !== '' || ref.kind !== 'Secret') {
        refChecks.push(check('ResolvedRefs', 'False', 'InvalidCertificateRef', `${what} has group/kind ${ref.group || 'core'}/${ref.kind}; only core Secrets are supported`));
        break;
      }
      if (ns !== gw.metadata.namespace && !isPermitted(snapshot.referenceGrants, { group: GatewayGroup, kind: 'Gateway', namespace: gw.metadata.namespace! }, { group: '', kind: 'Secret', namespace: ns, name: ref.name })) {
        refChecks.push(check('ResolvedRefs', 'False', 'RefNotPermitted', `${what} is in another namespace and no ReferenceGrant in ${ns} allows it; add one from Gateway in ${gw.metadata.namespace}`));
        break;
      }
      const secret = snapshot.secrets.find((s) => s.metadata.namespace === ns && s.metadata.name === ref.name);
      if (!secret || !isTLSSecret(secret)) {
        refChecks.push(check('ResolvedRefs', 'False', 'InvalidCertificateRef', secret ? `Secret ${ns}/${ref.name} is not a kubernetes.io/tls Secret with tls.crt and tls.key` : `Secret ${ns}/${ref.name} is not in the manifests; add it`));
        break;
      }
    }
  }
  if (refChecks.length === 0) refChecks.push(ALL_RESOLVED);
  checks.push(...refChecks);

  return {
    index,
    name: l.name,
    port: l.port,
    protocol: l.protocol,
    hostname: l.hostname,
    supportedKinds,
    checks,
    valid,
    programmed: false,
    attachedRoutes: 0,
    allowedRoutes: l.allowedRoutes,
  };
}

function isTLSSecret(s: Secret): boolean {
  const has = (k: string) => s.data?.[k] !== undefined || s.stringData?.[k] !== undefined;
  return s.type === 'kubernetes.io/tls' && has('tls.crt') && has('tls.key');
}

/**
 * Listeners on one port must be able to share it: HTTP with HTTP, HTTPS with HTTPS, TLS with TLS
 * (a Node server speaks one protocol per port). Indistinct listeners are all marked
 * Conflicted; no winner is picked (spec digest section 1.3).
 */
function markConflicts(listeners: ListenerModel[]): void {
  const family = (p: string) => (p === 'HTTPS' || p === 'TLS' ? 'tls' : p);
  for (const l of listeners) {
    if (!l.valid) continue;
    const clash = listeners.find((o) => o !== l && o.port === l.port && SUPPORTED_PROTOCOLS.has(o.protocol) && (o.protocol !== l.protocol && (family(o.protocol) !== family(l.protocol) || o.protocol !== l.protocol)));
    if (clash) {
      l.valid = false;
      const msg = `Listener ${clash.name} uses protocol ${clash.protocol} on the same port ${l.port}; listeners sharing a port must use the same protocol`;
      l.checks = l.checks.filter((c) => c.type !== 'Accepted');
      l.checks.unshift(check('Accepted', 'False', 'ProtocolConflict', msg));
      l.checks.push(check('Conflicted', 'True', 'ProtocolConflict', msg));
      continue;
    }
    l.checks.push(check('Conflicted', 'False', 'NoConflicts', 'No conflicts'));
  }
  // OverlappingTLSConfig (negative polarity, only ever True): HTTPS listeners on one port whose
  // hostnames overlap, such as foo.example.com and *.example.com.
  for (const l of listeners) {
    if (l.protocol !== 'HTTPS' || !l.valid) continue;
    const overlap = listeners.find((o) => o !== l && o.valid && o.protocol === 'HTTPS' && o.port === l.port && hostnamesOverlap(o.hostname, l.hostname));
    if (overlap) {
      l.checks.push(check('OverlappingTLSConfig', 'True', 'OverlappingHostnames', `Hostname ${l.hostname ?? '(any)'} overlaps listener ${overlap.name} (${overlap.hostname ?? '(any)'}) on port ${l.port}; the most specific certificate is used`));
    }
  }
}

function hostnamesOverlap(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  return effectiveHostnames(a, [b]).length > 0;
}

// ---------------------------------------------------------------------------------------------
// References

interface GrantFrom { group: string; kind: string; namespace: string }
interface GrantTo { group: string; kind: string; namespace: string; name: string }

/** ReferenceGrant check (spec digest section 1.7): same namespace, or an exact grant in the target namespace. */
export function isPermitted(grants: readonly ReferenceGrant[], from: GrantFrom, to: GrantTo): boolean {
  if (from.namespace === to.namespace) return true;
  return grants.some(
    (g) =>
      g.metadata.namespace === to.namespace &&
      g.spec.from.some((f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace) &&
      g.spec.to.some((t) => t.group === to.group && t.kind === to.kind && (t.name === undefined || t.name === to.name)),
  );
}

class Resolver {
  /** Services by namespace, then name: probing with the strings at hand builds no key per backendRef. */
  private readonly services = new Map<string, Map<string, Service>>();
  private readonly namespaceLabels = new Map<string, Record<string, string>>();
  /** The Accepted check of each Gateway's routes: one message, so one object for every route. */
  private readonly acceptedChecks = new Map<GatewayModel, Check>();

  constructor(
    readonly snapshot: Snapshot,
    readonly options: AttachOptions,
  ) {
    for (const s of snapshot.services) {
      const ns = s.metadata.namespace!;
      let byName = this.services.get(ns);
      if (!byName) this.services.set(ns, (byName = new Map()));
      byName.set(s.metadata.name, s);
    }
    for (const n of snapshot.namespaces) this.namespaceLabels.set(n.metadata.name, n.metadata.labels ?? {});
  }

  /** Labels of a namespace, with the implied `kubernetes.io/metadata.name`. */
  labelsOf(ns: string): Record<string, string> {
    return { ...(this.namespaceLabels.get(ns) ?? {}), 'kubernetes.io/metadata.name': ns };
  }

  /** `Accepted: True` for a route attached to `gw`. */
  acceptedBy(gw: GatewayModel): Check {
    let c = this.acceptedChecks.get(gw);
    if (c === undefined) this.acceptedChecks.set(gw, (c = check('Accepted', 'True', 'Accepted', `Route is accepted by Gateway ${gw.key}`)));
    return c;
  }

  /**
   * Resolves one backendRef of a route (spec digest section 6). Runs for every backendRef: the
   * label and messages are built only for refs that fail.
   */
  backend(route: { kind: RouteKind; namespace: string }, ref: { group: string; kind: string; name: string; namespace?: string | undefined; port?: number | undefined; weight?: number; filters?: HTTPRouteFilter[] | undefined }): BackendModel {
    const namespace = ref.namespace ?? route.namespace;
    const b: BackendModel = { group: ref.group, kind: ref.kind, namespace, name: ref.name, port: ref.port, weight: ref.weight ?? 1, state: 'ok', filters: ref.filters ?? [] };
    if (ref.group !== '' || ref.kind !== 'Service') {
      return failed(b, 'invalid', 'InvalidKind', `backendRef ${backendLabel(b)} has kind ${ref.group ? `${ref.group}/` : ''}${ref.kind}; only core Services are supported`);
    }
    // RefNotPermitted is checked before existence, so messages never reveal other namespaces' objects.
    if (namespace !== route.namespace && !isPermitted(this.snapshot.referenceGrants, { group: GatewayGroup, kind: route.kind, namespace: route.namespace }, { group: '', kind: 'Service', namespace, name: ref.name })) {
      return failed(b, 'invalid', 'RefNotPermitted', `backendRef ${backendLabel(b)} is in another namespace and no ReferenceGrant in ${namespace} allows ${route.kind}s from ${route.namespace}; add one`);
    }
    const registered = this.registeredKey(namespace, ref.name, ref.port);
    if (registered !== undefined) return { ...b, registered };
    const svc = this.services.get(namespace)?.get(ref.name);
    if (!svc) {
      return failed(b, 'invalid', 'BackendNotFound', `Service ${backendLabel(b)} is not in the manifests${this.options.registeredBackends ? ' and no backend is registered for it' : ''}; add the Service${this.options.registeredBackends ? ' or register a backend' : ''}`);
    }
    if (svc.spec.type === 'ExternalName') {
      return failed(b, 'invalid', 'BackendNotFound', `Service ${backendLabel(b)} is an ExternalName Service, which is not supported (CVE-2021-25740); register a backend URL instead`);
    }
    let port: NonNullable<Service['spec']['ports']>[number] | undefined;
    for (const p of svc.spec.ports ?? []) {
      if (p.port === ref.port) {
        port = p;
        break;
      }
    }
    if (!port) {
      const ports = (svc.spec.ports ?? []).map((p) => p.port).join(', ') || 'none';
      return failed(b, 'invalid', 'BackendNotFound', `Service ${namespace}/${ref.name} has no port ${ref.port} (ports: ${ports})`);
    }
    if (port.appProtocol !== undefined && UNSUPPORTED_APP_PROTOCOLS.has(port.appProtocol)) {
      return failed(b, 'invalid', 'UnsupportedProtocol', `Service ${backendLabel(b)} has appProtocol ${port.appProtocol}, which gateway-api-router cannot proxy`);
    }
    if (this.options.registeredBackends) {
      const label = backendLabel(b);
      return failed(b, 'unavailable', 'BackendNotFound', `Service ${label} has no endpoints: no backend is registered for it; register one as backends['${label}']`);
    }
    return b;
  }

  private registeredKey(namespace: string, name: string, port: number | undefined): string | undefined {
    const reg = this.options.registeredBackends;
    if (!reg) return undefined;
    const keys = port !== undefined ? [`${namespace}/${name}:${port}`, `${name}:${port}`, `${namespace}/${name}`, name] : [`${namespace}/${name}`, name];
    return keys.find((k) => reg.has(k));
  }
}

/** `namespace/name:port` of a backendRef, as messages name it. */
function backendLabel(b: BackendModel): string {
  return `${b.namespace}/${b.name}${b.port !== undefined ? `:${b.port}` : ''}`;
}

function failed(b: BackendModel, state: 'invalid' | 'unavailable', reason: NonNullable<BackendModel['reason']>, message: string): BackendModel {
  return { ...b, state, reason, message };
}

// ---------------------------------------------------------------------------------------------
// Routes

function routeModel(route: AnyRoute, gateways: GatewayModel[], ctx: Resolver, options: AttachOptions): RouteModel {
  const namespace = route.metadata.namespace!;
  const kind = route.kind;
  const rules = ruleModels(route, ctx);
  const hostnames = route.spec.hostnames;
  let parents: RouteParentModel[] = [];
  let resolved: Check | undefined; // the same for every parent: computed for the first
  for (const ref of route.spec.parentRefs ?? []) {
    // Only Gateways this controller owns get a status entry; other parents are not ours to write.
    if (ref.group !== GatewayGroup || ref.kind !== 'Gateway') continue;
    const gw = gatewayOf(gateways, ref.namespace ?? namespace, ref.name);
    if (!gw) continue;
    const parent = attachToParent(kind, namespace, ref, gw, hostnames, rules, (resolved ??= resolvedRefsCheck(rules)), ctx);
    // Usually the only parent: a literal is sized exactly (push would reserve 17 slots).
    parents = parents.length === 0 ? [parent] : [...parents, parent];
  }
  return { resource: route, kind, namespace, name: route.metadata.name, createdAt: options.createdAt(route), rules, parents };
}

/** The Gateway `namespace/name` among ours. A Gateway has a handful of them: a scan beats building a key. */
function gatewayOf(gateways: GatewayModel[], namespace: string, name: string): GatewayModel | undefined {
  for (const g of gateways) if (g.resource.metadata.name === name && g.resource.metadata.namespace === namespace) return g;
  return undefined;
}

/**
 * Attachment to one parent (spec digest 2.2). Runs for every route: the common path (no
 * sectionName or port, every listener admitting the route) copies no listener list and shares
 * its checks; the messages of rejections are built only when they happen.
 */
function attachToParent(
  kind: RouteKind,
  namespace: string,
  parentRef: RouteParentModel['parentRef'],
  gw: GatewayModel,
  hostnames: readonly string[] | undefined,
  rules: RuleModel[],
  resolved: Check,
  ctx: Resolver,
): RouteParentModel {
  const result: RouteParentModel = { parentRef, gatewayKey: gw.key, accepted: false, listeners: [], checks: [] };
  const reject = (reason: 'NoMatchingParent' | 'NotAllowedByListeners' | 'NoMatchingListenerHostname' | 'UnsupportedValue' | 'IncompatibleFilters', message: string): RouteParentModel => {
    result.checks = [check('Accepted', 'False', reason, message), resolved];
    return result;
  };
  // Step 2: listeners named by sectionName and/or port (both must match when both are set).
  let relevant = gw.listeners;
  if (parentRef.sectionName !== undefined || parentRef.port !== undefined) {
    relevant = gw.listeners.filter((l) => (parentRef.sectionName === undefined || l.name === parentRef.sectionName) && (parentRef.port === undefined || l.port === parentRef.port));
  }
  if (relevant.length === 0) {
    const want = [parentRef.sectionName !== undefined ? `sectionName ${parentRef.sectionName}` : '', parentRef.port !== undefined ? `port ${parentRef.port}` : ''].filter(Boolean).join(' and ');
    const have = gw.listeners.map((l) => `${l.name}:${l.port}`).join(', ');
    return reject('NoMatchingParent', `Gateway ${gw.key} has no listener with ${want} (listeners: ${have}); fix the parentRef`);
  }
  // Step 3: listeners that admit this kind and this namespace (usually all: then no copy).
  let allowed = relevant;
  for (const l of relevant) {
    if (!admits(l, gw, kind, namespace, ctx)) {
      allowed = relevant.filter((x) => admits(x, gw, kind, namespace, ctx));
      break;
    }
  }
  if (allowed.length === 0) {
    const why = relevant.map((l) => (l.supportedKinds.some((k) => k.kind === kind) ? `${l.name} admits routes from ${describeFrom(l)} only` : `${l.name} does not accept ${kind}`)).join('; ');
    return reject('NotAllowedByListeners', `Gateway ${gw.key} does not allow this route: ${why}`);
  }
  // Step 4: hostname intersection. Invalid or conflicted listeners still count the route as
  // attached (spec digest 2.2 step 6); they just serve no traffic. (map and filter size the
  // list exactly: it lives until the build ends.)
  const listeners = allowed.map((l) => ({ name: l.name, hostnames: effectiveHostnames(l.hostname, hostnames) }));
  result.listeners = listeners.every((l) => l.hostnames.length > 0) ? listeners : listeners.filter((l) => l.hostnames.length > 0);
  if (result.listeners.length === 0) {
    const listenerHosts = allowed.map((l) => `${l.name} (${l.hostname ?? 'any host'})`).join(', ');
    return reject('NoMatchingListenerHostname', `None of the route's hostnames (${(hostnames ?? []).join(', ')}) matches a listener hostname: ${listenerHosts}`);
  }
  // Step 5: the route needs at least one valid rule (GEP-1364).
  let valid = 0;
  for (const r of rules) if (r.valid) valid++;
  if (valid === 0 && rules.length > 0) {
    result.listeners = [];
    const first = rules[0]!;
    const reason = first.invalidReason ?? 'UnsupportedValue';
    return reject(reason, `All rules are invalid: ${rules.map((r) => `rule ${r.index}: ${r.invalidMessage}`).join('; ')}`);
  }
  result.accepted = true;
  result.checks = [ctx.acceptedBy(gw), resolved];
  if (valid < rules.length) {
    const dropped = rules.filter((r) => !r.valid);
    result.checks.push(
      check('PartiallyInvalid', 'True', 'UnsupportedValue', `Dropped Rule(s): ${dropped.map((r) => `rule ${r.index}${r.name ? ` (${r.name})` : ''}: ${r.invalidMessage}`).join('; ')}`),
    );
  }
  return result;
}

/** Whether listener `l` admits routes of this kind from this namespace (spec digest 2.2 step 3). */
function admits(l: ListenerModel, gw: GatewayModel, kind: RouteKind, namespace: string, ctx: Resolver): boolean {
  let kindOk = false;
  for (const k of l.supportedKinds) {
    if (k.group === GatewayGroup && k.kind === kind) {
      kindOk = true;
      break;
    }
  }
  return kindOk && namespaceAllowed(l, gw, namespace, ctx);
}

function describeFrom(l: ListenerModel): string {
  const from = l.allowedRoutes.namespaces.from;
  return from === 'Same' ? 'the Gateway namespace' : from === 'Selector' ? 'namespaces matching its selector' : 'all namespaces';
}

function namespaceAllowed(l: ListenerModel, gw: GatewayModel, namespace: string, ctx: Resolver): boolean {
  const ns = l.allowedRoutes.namespaces;
  switch (ns.from) {
    case 'All':
      return true;
    case 'Same':
      return namespace === gw.resource.metadata.namespace;
    case 'Selector':
      return ns.selector !== undefined && selectorMatches(ns.selector, ctx.labelsOf(namespace));
  }
}

/** Kubernetes LabelSelector semantics; an invalid operator makes the selector match nothing. */
export function selectorMatches(
  selector: { matchLabels?: Record<string, string> | undefined; matchExpressions?: { key: string; operator: string; values?: string[] | undefined }[] | undefined },
  labels: Record<string, string>,
): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(labels[e.key]!)) return false; break;
      case 'NotIn': if (has && values.includes(labels[e.key]!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/** The route's ResolvedRefs condition: the first failing backend names the reason; all are listed. */
function resolvedRefsCheck(rules: RuleModel[]): Check {
  let bad: BackendModel[] | undefined;
  for (const r of rules) {
    for (const b of r.backends) if (b.state !== 'ok') (bad ??= []).push(b);
    for (const b of r.mirrors) if (b.state !== 'ok') (bad ??= []).push(b);
  }
  if (bad === undefined) return ALL_RESOLVED;
  return check('ResolvedRefs', 'False', bad[0]!.reason!, bad.map((b) => b.message).join('; '));
}

// ---------------------------------------------------------------------------------------------
// Rules

/** The mirrors of a rule without RequestMirror filters (most rules): shared, never written to. */
const NO_MIRRORS: BackendModel[] = [];

function ruleModels(route: AnyRoute, ctx: Resolver): RuleModel[] {
  const owner = { kind: route.kind, namespace: route.metadata.namespace! };
  const rules = (route.spec.rules ?? []) as { name?: string | undefined; filters?: HTTPRouteFilter[] | undefined; backendRefs?: Parameters<Resolver['backend']>[1][] | undefined }[];
  return rules.map((rule, index) => {
    const refs = rule.backendRefs ?? [];
    const backends = refs.map((b) => ctx.backend(owner, b));
    const model: RuleModel = { index, name: rule.name, valid: true, backends, mirrors: NO_MIRRORS };
    // Most rules have no filters at all: nothing to collect, resolve or check.
    if ((rule.filters ?? []).length > 0 || refs.some((b) => (b.filters ?? []).length > 0)) {
      const allFilters = [...(rule.filters ?? []), ...refs.flatMap((b) => b.filters ?? [])];
      const mirrors = allFilters.filter((f) => f.type === 'RequestMirror' && f.requestMirror).map((f) => ctx.backend(owner, f.requestMirror!.backendRef));
      if (mirrors.length > 0) model.mirrors = mirrors;
      const problem = invalidRule(allFilters);
      if (problem) Object.assign(model, { valid: false, invalidReason: problem.reason, invalidMessage: problem.message });
    }
    return model;
  });
}

/** Why a rule is dropped, if it is (spec digest section 10.5). */
function invalidRule(filters: HTTPRouteFilter[]): { reason: 'UnsupportedValue' | 'IncompatibleFilters'; message: string } | undefined {
  for (const f of filters) {
    if (f.type === 'ExternalAuth') return { reason: 'UnsupportedValue', message: 'the ExternalAuth filter (experimental) is not supported' };
    for (const mod of [f.requestHeaderModifier, f.responseHeaderModifier]) {
      if (!mod) continue;
      // One header name may appear in only one of set/add/remove (HTTPHeaderFilter docs).
      const seen = new Map<string, string>();
      const entries: [string, string][] = [
        ...(mod.set ?? []).map((h) => ['set', h.name] as [string, string]),
        ...(mod.add ?? []).map((h) => ['add', h.name] as [string, string]),
        ...(mod.remove ?? []).map((n) => ['remove', n] as [string, string]),
      ];
      for (const [action, name] of entries) {
        const lower = name.toLowerCase();
        const prev = seen.get(lower);
        if (prev !== undefined && prev !== action) {
          return { reason: 'IncompatibleFilters', message: `header ${name} appears in both ${prev} and ${action} of ${f.type}; use one action per header` };
        }
        seen.set(lower, action);
      }
    }
  }
  return undefined;
}
