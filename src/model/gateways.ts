/**
 * GatewayClasses, Gateways and ListenerSets (spec digest sections 1.2, 1.3 and 1.8; GEP-1713):
 * which Gateways this controller owns, which ListenerSets each admits, the merged list of
 * listeners each serves, and the acceptance of each. Pure function of the loaded resources.
 */
import type { Gateway, GatewayClass, ListenerSet } from '../resources/schemas-gateway.js';
import type { Resource } from '../resources/load.js';
import { GatewayGroup } from '../resources/schemas-shared.js';
import { check, type Check } from './conditions.js';
import { finishListeners, listenerModels, markPrecedenceConflicts, type ListenerModel, type ListenerOwner } from './listeners.js';
import { selectorMatches, type References } from './references.js';
import type { Certificate } from './refs/certificates.js';

export interface GatewayClassModel {
  resource: GatewayClass;
  checks: Check[];
}

export interface GatewayModel {
  resource: Gateway;
  key: string;
  /** The Gateway's own listeners (`spec.listeners`), the ones its status lists. */
  listeners: ListenerModel[];
  /** ListenerSets allowed to attach, in merged order: oldest first, then `{namespace}/{name}`. */
  listenerSets: ListenerSetModel[];
  /** Every listener the Gateway serves: its own, then each allowed ListenerSet's (GEP-1713 "Listener Precedence"). */
  merged: ListenerModel[];
  /** `status.attachedListenerSets`, written when the Gateway allows ListenerSets or one names it; else undefined. */
  attachedListenerSets: number | undefined;
  checks: Check[];
  /** The client certificate the Gateway presents to TLS backends (GEP-3155 `spec.tls.backend.clientCertificateRef`), when it resolves. */
  backendClientCertificate: Certificate | null;
  /** The Gateway's ResolvedRefs check for that reference, when set. */
  backendClientCertificateCheck?: Check;
}

/** A ListenerSet whose parentRef names a Gateway this controller owns. */
export interface ListenerSetModel {
  resource: ListenerSet;
  key: string;
  gatewayKey: string;
  /** False when the Gateway's allowedListeners does not admit it: its listeners serve nothing and no route attaches. */
  allowed: boolean;
  /** Its listeners; empty when not allowed. */
  listeners: ListenerModel[];
  checks: Check[];
}

/** The outcome of {@link resolveGateways}. */
export interface GatewaysModel {
  gatewayClasses: GatewayClassModel[];
  /** Gateways this controller owns, in load order. */
  gateways: GatewayModel[];
  /** Gateways in the manifests that belong to another controller, with the reason. */
  foreignGateways: { key: string; reason: string }[];
  /** ListenerSets whose parent is one of `gateways`, in load order. */
  listenerSets: ListenerSetModel[];
}

/** Which Gateways are ours (through their GatewayClass), the ListenerSets they admit, and the model of each. */
export function resolveGateways(
  resources: { gatewayClasses: readonly GatewayClass[]; gateways: readonly Gateway[]; listenerSets: readonly ListenerSet[] },
  controllerName: string,
  refs: References,
  createdAt: (r: Resource) => number,
): GatewaysModel {
  const classes = resources.gatewayClasses.map((c) => classModel(c, controllerName));
  // By name, the first of duplicates winning as a scan would: looked up once per foreign Gateway.
  const classByName = new Map<string, GatewayClass>();
  for (const c of resources.gatewayClasses) if (!classByName.has(c.metadata.name)) classByName.set(c.metadata.name, c);
  const ourClasses = new Map(classes.filter((c) => c.resource.spec.controllerName === controllerName).map((c) => [c.resource.metadata.name, c]));
  const noClasses = resources.gatewayClasses.length === 0;

  const gateways: GatewayModel[] = [];
  const foreignGateways: GatewaysModel['foreignGateways'] = [];
  for (const gw of resources.gateways) {
    const key = `${gw.metadata.namespace}/${gw.metadata.name}`;
    const cls = ourClasses.get(gw.spec.gatewayClassName);
    if (!noClasses && !cls) {
      const other = classByName.get(gw.spec.gatewayClassName);
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
    gateways.push(gatewayModel(gw, key, refs));
  }
  const byKey = gatewaysByKey(gateways);
  const listenerSets = resolveListenerSets(resources.listenerSets, byKey, refs, createdAt);
  for (const g of gateways) finishGateway(g);
  for (const ls of listenerSets) if (ls.allowed) finishListenerSet(ls, byKey.get(ls.gatewayKey)!);
  return { gatewayClasses: classes, gateways, foreignGateways, listenerSets };
}

/** Gateway models by `namespace/name`; the first of duplicates wins, as a scan would find it. */
export function gatewaysByKey(gateways: readonly GatewayModel[]): Map<string, GatewayModel> {
  const out = new Map<string, GatewayModel>();
  for (const g of gateways) if (!out.has(g.key)) out.set(g.key, g);
  return out;
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
// Gateway

function gatewayModel(gw: Gateway, key: string, refs: References): GatewayModel {
  const owner: ListenerOwner = { kind: 'Gateway', namespace: gw.metadata.namespace!, name: gw.metadata.name, key };
  const listeners = listenerModels(owner, gw.spec.listeners, refs);
  for (const l of listeners) if (l.protocol === 'HTTPS') applyFrontendValidation(gw, l, refs);
  const from = gw.spec.allowedListeners?.namespaces.from ?? 'None';
  const g: GatewayModel = { resource: gw, key, listeners, listenerSets: [], merged: listeners, attachedListenerSets: from === 'None' ? undefined : 0, checks: [], backendClientCertificate: null };
  // GEP-3155: the certificate the Gateway presents when a backend asks for one (BackendTLSPolicy).
  const ref = gw.spec.tls?.backend?.clientCertificateRef;
  if (ref) {
    const r = refs.certificateRef(owner, ref);
    if ('type' in r) {
      g.backendClientCertificateCheck = r.reason === 'InvalidCertificateRef' ? check('ResolvedRefs', 'False', 'InvalidClientCertificateRef', `tls.backend.clientCertificateRef: ${r.message}`) : r;
    } else {
      g.backendClientCertificate = r;
      g.backendClientCertificateCheck = check('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved');
    }
  }
  return g;
}

/**
 * Completes the Gateway once its ListenerSets are known: conflicts across the merged listeners,
 * then the Gateway's own conditions, which reflect its own listeners only (GEP-1713 "Gateway
 * Conditions").
 */
function finishGateway(g: GatewayModel): void {
  markPrecedenceConflicts(g.merged);
  // spec.infrastructure.parametersRef: no parameters kind is supported, so the Gateway is not
  // accepted (digest 10.3 InvalidParameters; conformance gateway-invalid-parameters-ref), and
  // neither its listeners nor its ListenerSets' are programmed.
  const params = g.resource.spec.infrastructure?.parametersRef;
  finishListeners(g.merged, params ? 'its Gateway is not accepted (infrastructure.parametersRef)' : undefined);
  const listeners = g.listeners;
  const valid = listeners.filter((l) => l.valid).length;
  if (params) {
    g.checks.push(check('Accepted', 'False', 'InvalidParameters', `infrastructure.parametersRef ${params.group}/${params.kind}/${params.name} is not supported by gateway-api-router; remove parametersRef`));
  } else if (valid === listeners.length) {
    g.checks.push(check('Accepted', 'True', 'Accepted', 'Gateway is accepted'));
  } else if (valid > 0) {
    const bad = listeners.filter((l) => !l.valid).map((l) => l.name).join(', ');
    g.checks.push(check('Accepted', 'True', 'ListenersNotValid', `Gateway is accepted, but these listeners are not valid and serve no traffic: ${bad}`));
  } else {
    g.checks.push(check('Accepted', 'False', 'ListenersNotValid', 'No listener is valid; fix the listeners (see their conditions)'));
  }
  const programmed = listeners.some((l) => l.programmed);
  g.checks.push(
    programmed
      ? check('Programmed', 'True', 'Programmed', 'Gateway is programmed')
      : check('Programmed', 'False', 'Invalid', 'No listener is programmed; fix the listeners (see their conditions)'),
  );
  if (g.backendClientCertificateCheck) g.checks.push(g.backendClientCertificateCheck);
  const fe = g.resource.spec.tls?.frontend;
  if ([fe?.default.validation, ...(fe?.perPort ?? []).map((p) => p.tls.validation)].some((v) => v?.mode === 'AllowInsecureFallback')) {
    g.checks.push(check('InsecureFrontendValidationMode', 'True', 'ConfigurationChanged', 'Client-certificate validation uses AllowInsecureFallback: connections without a valid client certificate are accepted'));
  }
}

/**
 * Client-certificate validation (GEP-91) of one of the Gateway's HTTPS listeners: the perPort
 * entry for its port, else the default. A caCertificateRef that does not resolve makes
 * ResolvedRefs False; when none resolves the listener is not accepted (NoValidCACertificate:
 * "If ALL CACertificateRefs are invalid ... Accepted ... False").
 */
function applyFrontendValidation(gw: Gateway, l: ListenerModel, refs: References): void {
  const fe = gw.spec.tls?.frontend;
  if (!fe || !l.tls) return;
  const perPort = fe.perPort?.find((p) => p.port === l.port);
  const validation = perPort ? perPort.tls.validation : fe.default.validation;
  if (!validation) return;
  const pems: string[] = [];
  let failed: Check | undefined;
  for (const ref of validation.caCertificateRefs) {
    const r = refs.caCertificateRef({ kind: 'Gateway', namespace: gw.metadata.namespace! }, ref);
    if ('pem' in r) pems.push(r.pem);
    else failed ??= r;
  }
  if (failed) {
    const i = l.checks.findIndex((c) => c.type === 'ResolvedRefs');
    if (i >= 0 && l.checks[i]!.status === 'True') l.checks[i] = failed;
  }
  if (pems.length === 0) {
    if (l.valid) {
      l.valid = false;
      const i = l.checks.findIndex((c) => c.type === 'Accepted');
      l.checks[i >= 0 ? i : 0] = check('Accepted', 'False', 'NoValidCACertificate', `No caCertificateRef of the client-certificate validation for port ${l.port} resolves; see ResolvedRefs`);
    }
    return;
  }
  l.tls.frontend = { ca: pems.join('\n'), mode: validation.mode };
}

// ---------------------------------------------------------------------------------------------
// ListenerSet

/**
 * The ListenerSets whose parentRef names one of our Gateways; others are not ours to write
 * status for. Each is allowed or not by the Gateway's `spec.allowedListeners` (None by default,
 * Same, All or Selector over the ListenerSet's namespace labels); the allowed ones join the
 * Gateway's merged listener list in precedence order (spec digest 1.8).
 */
function resolveListenerSets(sets: readonly ListenerSet[], gateways: ReadonlyMap<string, GatewayModel>, refs: References, createdAt: (r: Resource) => number): ListenerSetModel[] {
  const out: ListenerSetModel[] = [];
  for (const ls of sets) {
    const ref = ls.spec.parentRef;
    if (ref.group !== GatewayGroup || ref.kind !== 'Gateway') continue;
    const namespace = ls.metadata.namespace!;
    const gatewayKey = `${ref.namespace ?? namespace}/${ref.name}`;
    const gw = gateways.get(gatewayKey);
    if (!gw) continue;
    const key = `${namespace}/${ls.metadata.name}`;
    gw.attachedListenerSets ??= 0;
    const refused = refusal(gw, namespace, refs);
    if (refused !== undefined) {
      out.push({ resource: ls, key, gatewayKey, allowed: false, listeners: [], checks: [check('Accepted', 'False', 'NotAllowed', refused), check('Programmed', 'False', 'NotAllowed', refused)] });
      continue;
    }
    const owner: ListenerOwner = { kind: 'ListenerSet', namespace, name: ls.metadata.name, key };
    const model: ListenerSetModel = { resource: ls, key, gatewayKey, allowed: true, listeners: listenerModels(owner, ls.spec.listeners, refs), checks: [] };
    // Client-certificate validation is the Gateway's, per port (GEP-91): a ListenerSet listener
    // served on a Gateway port gets it too, or a ListenerSet could open that port without it.
    for (const l of model.listeners) if (l.protocol === 'HTTPS') applyFrontendValidation(gw.resource, l, refs);
    gw.listenerSets.push(model);
    out.push(model);
  }
  for (const gw of gateways.values()) {
    if (gw.listenerSets.length === 0) continue;
    // Precedence: oldest first, then alphabetically by {namespace}/{name} (GEP-1713).
    const order = gw.listenerSets.map((m) => ({ m, at: createdAt(m.resource) }));
    order.sort((a, b) => a.at - b.at || (a.m.key < b.m.key ? -1 : a.m.key > b.m.key ? 1 : 0));
    gw.listenerSets = order.map((o) => o.m);
    gw.merged = [...gw.listeners, ...gw.listenerSets.flatMap((m) => m.listeners)];
  }
  return out;
}

/** Why the Gateway's allowedListeners refuses a ListenerSet from `namespace`, or undefined when it admits it. */
function refusal(gw: GatewayModel, namespace: string, refs: References): string | undefined {
  const allowed = gw.resource.spec.allowedListeners?.namespaces;
  const from = allowed?.from ?? 'None';
  const gwNamespace = gw.resource.metadata.namespace!;
  switch (from) {
    case 'All':
      return undefined;
    case 'Same':
      return namespace === gwNamespace ? undefined : `Gateway ${gw.key} allows ListenerSets from its own namespace only (allowedListeners.namespaces.from: Same)`;
    case 'Selector':
      return allowed?.selector !== undefined && selectorMatches(allowed.selector, refs.labelsOf(namespace))
        ? undefined
        : `Gateway ${gw.key} allows ListenerSets from namespaces matching its allowedListeners selector only, and namespace ${namespace} does not match`;
    default:
      return `Gateway ${gw.key} does not allow ListenerSets (allowedListeners.namespaces.from is None, the default); set it to Same, All or Selector`;
  }
}

/**
 * A ListenerSet's Accepted and Programmed conditions summarise its own listeners only (GEP-1713
 * "ListenerSet Conditions"): accepted while at least one is programmed, with reason
 * ListenersNotValid when some are not (conformance listenerset-hostname-conflict,
 * listenerset-reference-grant).
 */
function finishListenerSet(ls: ListenerSetModel, gw: GatewayModel): void {
  if (gw.checks[0]?.status !== 'True') {
    const msg = `The parent Gateway ${gw.key} is not accepted`;
    ls.checks = [check('Accepted', 'False', 'ParentNotAccepted', msg), check('Programmed', 'False', 'ParentNotProgrammed', msg)];
    return;
  }
  const ok = ls.listeners.filter((l) => l.programmed).length;
  if (ok === 0) {
    const msg = 'No listener is valid and programmed; fix the listeners (see their conditions)';
    ls.checks = [check('Accepted', 'False', 'ListenersNotValid', msg), check('Programmed', 'False', 'ListenersNotValid', msg)];
    return;
  }
  gw.attachedListenerSets = (gw.attachedListenerSets ?? 0) + 1;
  if (ok === ls.listeners.length) {
    ls.checks = [check('Accepted', 'True', 'Accepted', `ListenerSet is accepted by Gateway ${gw.key}`)];
  } else {
    const bad = ls.listeners.filter((l) => !l.programmed).map((l) => l.name).join(', ');
    ls.checks = [check('Accepted', 'True', 'ListenersNotValid', `ListenerSet is accepted, but these listeners are not valid or not programmed and serve no traffic: ${bad}`)];
  }
  ls.checks.push(check('Programmed', 'True', 'Programmed', 'ListenerSet is programmed'));
}
