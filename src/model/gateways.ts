/**
 * GatewayClasses, Gateways and their listeners (spec digest sections 1.2 and 1.3): which
 * Gateways this controller owns, whether each listener is accepted, conflicted, resolved and
 * programmed. Pure function of the loaded resources.
 */
import type { Gateway, GatewayClass } from '../resources/schemas-gateway.js';
import { GatewayGroup } from '../resources/schemas-shared.js';
import { ALL_RESOLVED, check, type Check } from './conditions.js';
import { effectiveHostnames } from './hostnames.js';
import type { Certificate, References } from './references.js';

/** Route kinds this library serves. */
export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute';

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
  /** TLS mode and the certificates of its certificateRefs that resolved (all of them when programmed). */
  tls: { mode: 'Terminate' | 'Passthrough'; certificates: Certificate[] } | null;
}

export interface GatewayModel {
  resource: Gateway;
  key: string;
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
}

const ROUTE_KINDS_BY_PROTOCOL: Record<string, RouteKind[]> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
};

/** Protocols an in-process HTTP router can serve. TCP, UDP and custom protocols are not. */
const SUPPORTED_PROTOCOLS = new Set(Object.keys(ROUTE_KINDS_BY_PROTOCOL));

/** Which Gateways are ours (through their GatewayClass), and the model of each. */
export function resolveGateways(
  resources: { gatewayClasses: readonly GatewayClass[]; gateways: readonly Gateway[] },
  controllerName: string,
  refs: References,
): GatewaysModel {
  const classes = resources.gatewayClasses.map((c) => classModel(c, controllerName));
  const ourClasses = new Map(classes.filter((c) => c.resource.spec.controllerName === controllerName).map((c) => [c.resource.metadata.name, c]));
  const noClasses = resources.gatewayClasses.length === 0;

  const gateways: GatewayModel[] = [];
  const foreignGateways: GatewaysModel['foreignGateways'] = [];
  for (const gw of resources.gateways) {
    const key = `${gw.metadata.namespace}/${gw.metadata.name}`;
    const cls = ourClasses.get(gw.spec.gatewayClassName);
    if (!noClasses && !cls) {
      const other = resources.gatewayClasses.find((c) => c.metadata.name === gw.spec.gatewayClassName);
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
  return { gatewayClasses: classes, gateways, foreignGateways };
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

function gatewayModel(gw: Gateway, key: string, refs: References): GatewayModel {
  const listeners = gw.spec.listeners.map((l, index) => listenerModel(gw, l, index, refs));
  markConflicts(listeners);
  // spec.infrastructure.parametersRef: no parameters kind is supported, so the Gateway is not
  // accepted (digest 10.3 InvalidParameters; conformance gateway-invalid-parameters-ref).
  const params = gw.spec.infrastructure?.parametersRef;
  for (const l of listeners) {
    l.programmed = !params && l.valid && l.checks.every((c) => c.type !== 'ResolvedRefs' || c.status === 'True');
    l.checks.push(
      l.programmed
        ? check('Programmed', 'True', 'Programmed', 'Listener is programmed')
        : params
          ? check('Programmed', 'False', 'Invalid', 'Listener is not programmed: its Gateway is not accepted (infrastructure.parametersRef)')
          : check('Programmed', 'False', 'Invalid', 'Listener is not programmed: see its Accepted, Conflicted and ResolvedRefs conditions'),
    );
  }
  const valid = listeners.filter((l) => l.valid).length;
  const checks: Check[] = [];
  if (params) {
    checks.push(check('Accepted', 'False', 'InvalidParameters', `infrastructure.parametersRef ${params.group}/${params.kind}/${params.name} is not supported by gateway-api-router; remove parametersRef`));
  } else if (valid === listeners.length) {
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

function listenerModel(gw: Gateway, l: Gateway['spec']['listeners'][number], index: number, refs: References): ListenerModel {
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
  const certificates: Certificate[] = [];
  if (l.tls && l.tls.mode === 'Terminate' && refChecks.length === 0) {
    for (const ref of l.tls.certificateRefs ?? []) {
      const r = refs.certificateRef(gw.metadata.namespace!, ref);
      if ('type' in r) {
        refChecks.push(r);
        break;
      }
      certificates.push(r);
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
    tls: l.tls ? { mode: l.tls.mode, certificates } : null,
  };
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

