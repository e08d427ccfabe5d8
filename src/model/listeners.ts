/**
 * Listeners: whether each one is accepted, conflicted, resolved and programmed (spec digest
 * sections 1.3 and 10.4), for a Gateway's own listeners and a ListenerSet's alike (1.8,
 * GEP-1713 "Listener and ListenerSet Conflicts"). Pure functions of the loaded resources.
 */
import type { Listener } from '../resources/schemas-gateway.js';
import { GatewayGroup } from '../resources/schemas-shared.js';
import { ALL_RESOLVED, check, type Check } from './conditions.js';
import { effectiveHostnames } from './hostnames.js';
import type { References } from './references.js';
import type { Certificate } from './refs/certificates.js';

/** Route kinds this library serves. */
export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute';

/** The Gateway or ListenerSet that declares a listener. */
export interface ListenerOwner {
  kind: 'Gateway' | 'ListenerSet';
  namespace: string;
  name: string;
  /** `namespace/name`. */
  key: string;
}

export interface ListenerModel {
  index: number;
  name: string;
  /**
   * Unique among the listeners a Gateway serves: the name for the Gateway's own listeners,
   * `{namespace}/{name}/{listener}` of the ListenerSet for the others (names need not be unique
   * across a Gateway and its ListenerSets, GEP-1713 "Listener Validation").
   */
  key: string;
  owner: ListenerOwner;
  port: number;
  protocol: string;
  hostname: string | undefined;
  /** Route kinds this listener accepts (after allowedRoutes.kinds filtering). */
  supportedKinds: { group: string; kind: string }[];
  checks: Check[];
  /** Accepted and not conflicted: routes may attach and traffic is served if also programmed. */
  valid: boolean;
  /** Set when the listener lost a conflict; its Accepted and Programmed conditions carry this reason. */
  conflicted?: 'ProtocolConflict' | 'HostnameConflict';
  /** Ready to serve traffic: valid and every reference resolved. */
  programmed: boolean;
  attachedRoutes: number;
  allowedRoutes: Listener['allowedRoutes'];
  /**
   * TLS mode, the certificates of its certificateRefs that resolved (all of them when
   * programmed), and the client-certificate validation of its port (GEP-91), when configured.
   */
  tls: { mode: 'Terminate' | 'Passthrough'; certificates: Certificate[]; frontend: FrontendValidation | null; versions: TLSVersions } | null;
}

/** TLS protocol versions a terminating listener accepts, from its `tls.options` (absent: Node's defaults). */
export interface TLSVersions {
  minVersion?: TLSVersion;
  maxVersion?: TLSVersion;
}

type TLSVersion = 'TLSv1.2' | 'TLSv1.3';

/**
 * The listener `tls.options` this library supports. The API leaves options to each
 * implementation ("Support: Implementation-specific") and requires domain-prefixed keys for
 * them; un-prefixed keys are reserved for keys Gateway API may define (it defines none yet).
 */
export const LISTENER_TLS_OPTIONS = {
  minVersion: 'gateway-api-router.dev/min-tls-version',
  maxVersion: 'gateway-api-router.dev/max-tls-version',
} as const;

const TLS_VERSIONS: readonly TLSVersion[] = ['TLSv1.2', 'TLSv1.3'];

/**
 * Reads a listener's `tls.options`: the versions, or why the listener is not accepted
 * (`UnsupportedValue`, spec digest 10.4): a key this library does not support (another
 * implementation's, or an un-prefixed one), a value it does not support, an option on a
 * Passthrough listener (nothing is terminated to apply it to), or a Terminate listener with no
 * certificateRefs (none of these options supplies a certificate).
 */
function readTLSOptions(tls: NonNullable<Listener['tls']>): TLSVersions | string {
  const options = tls.options ?? {};
  const keys = Object.keys(options);
  const known: readonly string[] = Object.values(LISTENER_TLS_OPTIONS);
  const unknown = keys.filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    const which = unknown.map((k) => (k.includes('/') ? `${k} (not an option of gateway-api-router)` : `${k} (un-prefixed keys are reserved for Gateway API, which defines none)`));
    return `tls.options ${which.join(', ')} is not supported; supported: ${known.join(', ')}`;
  }
  if (keys.length > 0 && tls.mode === 'Passthrough') return 'tls.options do not apply to a Passthrough listener: it does not terminate TLS';
  if (tls.mode === 'Terminate' && (tls.certificateRefs ?? []).length === 0) return 'A Terminate listener needs certificateRefs: no tls.options key of gateway-api-router supplies a certificate';
  const versions: TLSVersions = {};
  for (const [field, key] of Object.entries(LISTENER_TLS_OPTIONS) as [keyof TLSVersions, string][]) {
    const v = options[key];
    if (v === undefined) continue;
    if (!(TLS_VERSIONS as readonly string[]).includes(v)) return `tls.options ${key} ${JSON.stringify(v)} is not supported; use ${TLS_VERSIONS.join(' or ')}`;
    versions[field] = v as TLSVersion;
  }
  if (versions.minVersion && versions.maxVersion && versions.minVersion > versions.maxVersion) return `tls.options ${LISTENER_TLS_OPTIONS.minVersion} ${versions.minVersion} is above ${LISTENER_TLS_OPTIONS.maxVersion} ${versions.maxVersion}`;
  return versions;
}

/** Client-certificate validation of an HTTPS listener (GEP-91, `spec.tls.frontend`). */
export interface FrontendValidation {
  /** PEM bundle of every caCertificateRef that resolved. */
  ca: string;
  mode: 'AllowValidOnly' | 'AllowInsecureFallback';
}

const ROUTE_KINDS_BY_PROTOCOL: Record<string, RouteKind[]> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
};

/** Protocols an in-process HTTP router can serve. TCP, UDP and custom protocols are not. */
const SUPPORTED_PROTOCOLS = new Set(Object.keys(ROUTE_KINDS_BY_PROTOCOL));

/**
 * The listeners one Gateway or ListenerSet declares, each validated and its references resolved,
 * with the conflicts among them marked. {@link finishListeners} completes them once every
 * listener the Gateway serves is known.
 */
export function listenerModels(owner: ListenerOwner, specs: readonly Listener[], refs: References): ListenerModel[] {
  const listeners = specs.map((l, index) => listenerModel(owner, l, index, refs));
  markConflicts(listeners);
  return listeners;
}

function listenerModel(owner: ListenerOwner, l: Listener, index: number, refs: References): ListenerModel {
  const checks: Check[] = [];
  let valid = true;
  const compatible = ROUTE_KINDS_BY_PROTOCOL[l.protocol] ?? [];
  if (!SUPPORTED_PROTOCOLS.has(l.protocol)) {
    valid = false;
    checks.push(check('Accepted', 'False', 'UnsupportedProtocol', `Protocol ${l.protocol} is not supported; gateway-api-router serves HTTP, HTTPS and TLS listeners`));
  } else if (l.protocol === 'HTTPS' && l.tls === undefined) {
    valid = false;
    checks.push(check('Accepted', 'False', 'Invalid', 'An HTTPS listener needs tls with certificateRefs'));
  }
  const tlsOptions = l.tls && SUPPORTED_PROTOCOLS.has(l.protocol) ? readTLSOptions(l.tls) : {};
  if (valid && typeof tlsOptions === 'string') {
    valid = false;
    checks.push(check('Accepted', 'False', 'UnsupportedValue', tlsOptions));
  } else if (valid) {
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

  // certificateRefs (HTTPS, and TLS with Terminate), resolved from the declaring object: a
  // ReferenceGrant to a Gateway does not extend to its ListenerSets, nor the reverse (GEP-1713).
  // Checked even when the kinds are wrong: a bad certificate must stop the listener, and its
  // reason wins (one condition per type).
  const certificates: Certificate[] = [];
  if (l.tls && l.tls.mode === 'Terminate') {
    for (const ref of l.tls.certificateRefs ?? []) {
      const r = refs.certificateRef(owner, ref);
      if ('type' in r) {
        refChecks.splice(0, refChecks.length, r);
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
    key: owner.kind === 'Gateway' ? l.name : `${owner.key}/${l.name}`,
    owner,
    port: l.port,
    protocol: l.protocol,
    hostname: l.hostname,
    supportedKinds,
    checks,
    valid,
    programmed: false,
    attachedRoutes: 0,
    allowedRoutes: l.allowedRoutes,
    tls: l.tls ? { mode: l.tls.mode, certificates, frontend: null, versions: typeof tlsOptions === 'string' ? {} : tlsOptions } : null,
  };
}

/** Marks `l` as having lost a conflict: not accepted, Conflicted True, no traffic. */
function conflict(l: ListenerModel, reason: NonNullable<ListenerModel['conflicted']>, message: string): void {
  l.valid = false;
  l.conflicted = reason;
  l.checks = l.checks.filter((c) => c.type !== 'Accepted');
  l.checks.unshift(check('Accepted', 'False', reason, message));
  l.checks.push(check('Conflicted', 'True', reason, message));
}

/**
 * Within one Gateway or one ListenerSet, listeners on one port must be able to share it: HTTP
 * with HTTP, HTTPS with HTTPS, TLS with TLS (a Node server speaks one protocol per port).
 * Indistinct listeners are all marked Conflicted; no winner is picked (spec digest section 1.3).
 */
function markConflicts(listeners: ListenerModel[]): void {
  for (const l of listeners) {
    if (!l.valid) continue;
    const clash = listeners.find((o) => o !== l && o.port === l.port && SUPPORTED_PROTOCOLS.has(o.protocol) && o.protocol !== l.protocol);
    if (clash) conflict(l, 'ProtocolConflict', `Listener ${clash.name} uses protocol ${clash.protocol} on the same port ${l.port}; listeners sharing a port must use the same protocol`);
  }
}

/**
 * Across a Gateway and its ListenerSets, in merged order (the Gateway's listeners, then each
 * ListenerSet's, oldest first, then by `{namespace}/{name}`), the first listener wins a conflict:
 * a later one on the same port with another protocol (ProtocolConflict), or with the same
 * protocol and hostname (HostnameConflict), is Conflicted (spec digest 1.8; GEP-1713 "Listener
 * and ListenerSet Conflicts"; conformance listenerset-hostname-conflict and -protocol-conflict).
 * Messages name no listener of another ListenerSet, which its owner may not be allowed to see.
 */
export function markPrecedenceConflicts(merged: readonly ListenerModel[]): void {
  for (let i = 0; i < merged.length; i++) {
    const l = merged[i]!;
    // A listener invalid for another reason (a TCP listener, say) still reports the conflict,
    // which would stand even if it were supported (conformance listenerset-protocol-conflict).
    if (l.conflicted !== undefined || l.owner.kind === 'Gateway') continue;
    for (let j = 0; j < i; j++) {
      const e = merged[j]!;
      if (!e.valid || e.owner === l.owner || e.port !== l.port) continue;
      const reason = e.protocol !== l.protocol ? 'ProtocolConflict' : e.hostname === l.hostname ? 'HostnameConflict' : undefined;
      if (reason === undefined) continue;
      const what = reason === 'ProtocolConflict' ? `uses protocol ${e.protocol} on port ${l.port}` : `uses protocol ${l.protocol} and hostname ${l.hostname ?? '(any)'} on port ${l.port}`;
      const who = e.owner.kind === 'Gateway' ? `Listener ${e.name} of the parent Gateway ${e.owner.key}` : 'A listener of another ListenerSet attached to the same Gateway, which takes precedence,';
      conflict(l, reason, `${who} ${what}; change this listener's port${reason === 'HostnameConflict' ? ' or hostname' : ' or protocol'}`);
      break;
    }
  }
}

/**
 * Completes the listeners a Gateway serves (its own, then its ListenerSets'): Conflicted False
 * on the valid ones, OverlappingTLSConfig, and Programmed. `blocked`: why none can be programmed,
 * whatever its own state (the Gateway is not accepted).
 */
export function finishListeners(merged: readonly ListenerModel[], blocked?: string): void {
  for (const l of merged) {
    if (l.valid && l.conflicted === undefined) l.checks.push(check('Conflicted', 'False', 'NoConflicts', 'No conflicts'));
  }
  // OverlappingTLSConfig (negative polarity, only ever True): HTTPS listeners on one port whose
  // hostnames overlap, such as foo.example.com and *.example.com.
  for (const l of merged) {
    if (l.protocol !== 'HTTPS' || !l.valid) continue;
    const overlap = merged.find((o) => o !== l && o.valid && o.protocol === 'HTTPS' && o.port === l.port && hostnamesOverlap(o.hostname, l.hostname));
    if (overlap) {
      const other = overlap.owner === l.owner ? `listener ${overlap.name} (${overlap.hostname ?? '(any)'})` : 'a listener of another Gateway or ListenerSet resource';
      l.checks.push(check('OverlappingTLSConfig', 'True', 'OverlappingHostnames', `Hostname ${l.hostname ?? '(any)'} overlaps ${other} on port ${l.port}; the most specific certificate is used`));
    }
  }
  for (const l of merged) {
    // Unsupported allowedRoutes.kinds alone do not stop a listener that kept a valid kind: "if
    // both valid and invalid Route kinds are specified, the implementation MUST reference the
    // valid Route kinds" (ListenerStatus.SupportedKinds). Status and traffic then agree: the
    // routes counted in attachedRoutes are served (digest 1.3).
    l.programmed = blocked === undefined && l.valid && l.checks.every((c) => c.type !== 'ResolvedRefs' || c.status === 'True' || (c.reason === 'InvalidRouteKinds' && l.supportedKinds.length > 0));
    l.checks.push(
      l.programmed
        ? check('Programmed', 'True', 'Programmed', 'Listener is programmed')
        : blocked !== undefined
          ? check('Programmed', 'False', 'Invalid', `Listener is not programmed: ${blocked}`)
          : check('Programmed', 'False', l.conflicted ?? 'Invalid', 'Listener is not programmed: see its Accepted, Conflicted and ResolvedRefs conditions'),
    );
  }
}

function hostnamesOverlap(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  return effectiveHostnames(a, [b]).length > 0;
}
