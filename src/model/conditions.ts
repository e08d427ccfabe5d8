/**
 * Condition types and reasons (`apis/v1/{gateway,gatewayclass,listenerset,shared}_types.go`; spec digest
 * section 10), and the checks that produce them. A check is plain data
 * `{ type, status, reason, message }`; status.ts turns checks into Kubernetes conditions.
 */

/** Condition types. Each constant's name equals its value. */
export const ConditionType = {
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Conflicted: 'Conflicted',
  OverlappingTLSConfig: 'OverlappingTLSConfig',
  PartiallyInvalid: 'PartiallyInvalid',
  InsecureFrontendValidationMode: 'InsecureFrontendValidationMode',
  /** Ours (domain-prefixed, as Kubernetes requires for custom types): who enforces a listener's TLS settings. */
  'gateway-api-router.dev/TLSEnforced': 'gateway-api-router.dev/TLSEnforced',
} as const;
export type ConditionType = keyof typeof ConditionType;

/** Condition reasons. Each constant's name equals its value. */
export const Reason = {
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Pending: 'Pending',
  Invalid: 'Invalid',
  InvalidParameters: 'InvalidParameters',
  ListenersNotValid: 'ListenersNotValid',
  NoConflicts: 'NoConflicts',
  HostnameConflict: 'HostnameConflict',
  ProtocolConflict: 'ProtocolConflict',
  OverlappingHostnames: 'OverlappingHostnames',
  UnsupportedProtocol: 'UnsupportedProtocol',
  UnsupportedValue: 'UnsupportedValue',
  InvalidRouteKinds: 'InvalidRouteKinds',
  InvalidCertificateRef: 'InvalidCertificateRef',
  InvalidCACertificateRef: 'InvalidCACertificateRef',
  InvalidCACertificateKind: 'InvalidCACertificateKind',
  NoValidCACertificate: 'NoValidCACertificate',
  ConfigurationChanged: 'ConfigurationChanged',
  RefNotPermitted: 'RefNotPermitted',
  NotAllowedByListeners: 'NotAllowedByListeners',
  NoMatchingListenerHostname: 'NoMatchingListenerHostname',
  NoMatchingParent: 'NoMatchingParent',
  IncompatibleFilters: 'IncompatibleFilters',
  InvalidKind: 'InvalidKind',
  TargetNotFound: 'TargetNotFound',
  Conflicted: 'Conflicted',
  ServedByListen: 'ServedByListen',
  TerminatedExternally: 'TerminatedExternally',
  NotEnforced: 'NotEnforced',
  InvalidClientCertificateRef: 'InvalidClientCertificateRef',
  BackendNotFound: 'BackendNotFound',
  NotAllowed: 'NotAllowed',
  ParentNotAccepted: 'ParentNotAccepted',
  ParentNotProgrammed: 'ParentNotProgrammed',
} as const;
export type Reason = keyof typeof Reason;

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** The outcome of one check, before it becomes a condition. */
export interface Check {
  type: ConditionType;
  status: ConditionStatus;
  reason: Reason;
  message: string;
}

export function check(type: ConditionType, status: ConditionStatus, reason: Reason, message: string): Check {
  return { type, status, reason, message: normalizeMessage(message) };
}

const MAX_MESSAGE = 32_768;

/**
 * Every condition message passes through here: capital first letter, final period, bounded
 * length, so status output is stable and reads the same everywhere.
 */
export function normalizeMessage(message: string): string {
  // Most messages repeat across routes ("All references are resolved."): one string for all.
  const known = normalized.get(message);
  if (known !== undefined) return known;
  const m = normalizeOnce(message);
  if (normalized.size > 10_000) normalized.clear();
  normalized.set(message, m);
  return m;
}

const normalized = new Map<string, string>();

function normalizeOnce(message: string): string {
  let m = message.trim().replace(/\s+/g, ' ');
  if (m === '') return m;
  m = m[0]!.toUpperCase() + m.slice(1);
  if (!/[.!?]$/.test(m)) m += '.';
  if (m.length > MAX_MESSAGE) m = `${m.slice(0, MAX_MESSAGE - 1)}…`;
  return m;
}

/** Checks are plain data nobody writes to: every listener and route whose references all resolve shares this one. */
export const ALL_RESOLVED = check('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved');
