/**
 * Plain data types shared by every layer. Nothing here holds functions or classes, so every
 * value can be printed, snapshotted and sent over the wire.
 */

/** Stable codes of manifest issues, with a one-line meaning each. Kept equal to docs/errors.md. */
export const IssueCodes = {
  GW_MANIFEST_YAML: 'The text is not valid YAML.',
  GW_MANIFEST_NOT_OBJECT: 'A document is not a mapping (object).',
  GW_MANIFEST_MISSING_KIND: 'A document has no `kind` or no `apiVersion`.',
  GW_MANIFEST_UNKNOWN_VERSION: 'The apiVersion is not one a cluster serves for this kind.',
  GW_MANIFEST_UNKNOWN_KIND: 'A kind the gateway.networking.k8s.io API group does not have.',
  GW_MANIFEST_UNSUPPORTED_KIND: 'A gateway.networking.k8s.io kind this library does not implement; it is ignored.',
  GW_MANIFEST_UNKNOWN_FIELD: 'A field that the schema of this kind does not have.',
  GW_MANIFEST_REQUIRED: 'A required field is missing.',
  GW_MANIFEST_TYPE: 'A field has the wrong type.',
  GW_MANIFEST_ENUM: 'A field has a value outside its enumeration.',
  GW_MANIFEST_PATTERN: 'A string does not match the pattern its type requires.',
  GW_MANIFEST_LIMIT: 'A length, size, count or numeric limit is exceeded.',
  GW_MANIFEST_RULE: 'A validation rule (CEL in the CRD) is violated.',
  GW_MANIFEST_REGEX: 'A RegularExpression value is invalid or cannot be run safely.',
  GW_MANIFEST_DUPLICATE: 'Two objects share kind, namespace and name; the later one wins.',
  GW_MANIFEST_INPUT: 'An input to loadManifests is neither YAML text nor an object.',
  GW_MANIFEST_PARENT_NOT_FOUND: 'A route parentRef names a Gateway that is not in the manifests (warning).',
  GW_MANIFEST_BACKEND_NOT_FOUND: 'A backendRef has neither a Service nor a registered backend (warning).',
  GW_OPTION_BACKEND_UNUSED: 'A key of the option backends matches no backendRef (warning).',
  GW_OPTION_UNKNOWN: 'An option name the function does not know, e.g. a typo (warning).',
  GW_MANIFEST_TOO_LARGE: 'An input or an object is larger than its limit (limits.maxInputBytes, limits.maxObjectBytes); it is not loaded.',
  GW_MANIFEST_TOO_DEEP: 'Mappings and sequences are nested deeper than limits.maxDepth; the document is not loaded.',
  GW_MANIFEST_TOO_MANY: 'More documents or routes than limits.maxDocuments or limits.maxRoutes; the rest are not loaded.',
} as const;

/** A stable manifest issue code. */
export type IssueCode = keyof typeof IssueCodes;

/** How bad an issue is. Only `error` issues make `createGateway` throw. */
export type Severity = 'error' | 'warning' | 'info';

/**
 * One problem found in the manifests: what, how bad, and exactly where.
 * `line` and `column` are 1-based and present when the input was YAML text.
 */
export interface Issue {
  /** Stable code; see {@link IssueCodes}. */
  code: IssueCode;
  severity: Severity;
  /** What is wrong and, where possible, how to fix it. */
  message: string;
  /** The input's file name: its `{ filename }`, else the `filename` option, when given. */
  file?: string;
  /** 1-based number of the input in the `manifests` array, when there are several. */
  input?: number;
  /** 1-based number of the YAML document (or `kind: List` item's document) within its input. */
  document?: number;
  /** 1-based line in the file. */
  line?: number;
  /** 1-based column in the file. */
  column?: number;
  /** Field path inside the object, e.g. `spec.rules[1].matches[0].path.value`. */
  path?: string;
  /** The object the issue is about, when known. */
  object?: { apiVersion?: string; kind?: string; namespace?: string; name?: string };
  /** The validation rule that failed, for GW_MANIFEST_RULE issues, as the CRD states it. */
  rule?: string;
}

// ---------------------------------------------------------------------------------------------
// Requests and decisions

/** Header map: names in any case, repeated headers as arrays. */
export type HeaderMap = Record<string, string | string[] | undefined>;

/** A request to route. Only `method` and `path` are required. */
export interface RouteRequest {
  /** HTTP method, e.g. `GET`. Compared upper-case. */
  method: string;
  /** Path with the query string, e.g. `/details/1?x=y`. Normalised before matching (docs/routing.md, Security); a fragment is never matched nor forwarded. */
  path: string;
  /** Host header (or :authority); the port in it is ignored. Default: the `host` header, else none. */
  host?: string;
  /** Request headers, names in any case. */
  headers?: HeaderMap;
  /** `http` or `https`. Default `https` when `sni` is set, else `http`. */
  scheme?: 'http' | 'https';
  /** The local port the request arrived on. Default: every listener port (see docs/routing.md). */
  port?: number;
  /** TLS server name (SNI), for HTTPS listeners. */
  sni?: string;
}

/** A reference to a route. */
export interface RouteRef {
  kind: 'HTTPRoute' | 'GRPCRoute';
  namespace: string;
  name: string;
}

/** A resolved backend reference. */
export interface BackendTarget {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  port: number | undefined;
}

/** The listener that handled a request. */
export interface ListenerRef {
  /** `namespace/name` of the Gateway. */
  gateway: string;
  name: string;
  port: number;
  protocol: string;
  /** Listener hostname; null when it has none (any host). */
  hostname: string | null;
  /** `namespace/name` of the ListenerSet that declares the listener; absent for the Gateway's own listeners. */
  listenerSet?: string;
}

/** The request as the backend must receive it. */
export interface ForwardedRequest {
  method: string;
  /** The normalised path that was matched (after URLRewrite), with the query string: exactly what the backend receives. */
  path: string;
  /** Host to send, port stripped only if the filters rewrote it. */
  host: string | undefined;
  scheme: 'http' | 'https';
  /** Headers, names lower-case. */
  headers: Record<string, string | string[]>;
}

/** Header operations to apply, in order: set replaces, add appends, remove deletes. Names lower-case. */
export interface HeaderOps {
  set: [string, string][];
  add: [string, string][];
  remove: string[];
}

/** A copy of the request sent to a mirror backend; its response is ignored. */
export interface MirrorTarget {
  backend: BackendTarget;
  /** The registered backend key that serves it, when one is registered. */
  registered?: string;
  request: ForwardedRequest;
}

interface DecisionBase {
  /** The listener that handled the request; null when no listener matched. */
  listener: ListenerRef | null;
}

interface MatchedBase extends DecisionBase {
  listener: ListenerRef;
  route: RouteRef;
  rule: { index: number; name?: string };
  /** Index of the match within the rule. */
  match: number;
}

/** Send the request to a backend. */
export interface ForwardDecision extends MatchedBase {
  type: 'forward';
  backend: BackendTarget;
  /** The registered backend key that serves it (adapters), when one is registered. */
  registered?: string;
  request: ForwardedRequest;
  /** Operations on the backend's response headers (ResponseHeaderModifier, CORS), in order. */
  responseHeaders: HeaderOps[];
  /** Copies to send fire-and-forget (RequestMirror), after the percent/fraction draw. */
  mirrors: MirrorTarget[];
  /** Rule timeouts in milliseconds; 0 disables one. Absent: no timeout configured. */
  timeouts?: { request?: number; backendRequest?: number };
  /** Rule retry policy (experimental), carried for the adapter. */
  retry?: { codes: number[]; attempts?: number; backoffMs?: number };
  /** A session to start (sessionPersistence): the cookie or header to send with the response. */
  session?: { cookie: string } | { header: [string, string] };
}

/** Answer with a redirect. */
export interface RedirectDecision extends MatchedBase {
  type: 'redirect';
  status: 301 | 302 | 303 | 307 | 308;
  location: string;
  /** Operations on the response headers (ResponseHeaderModifier, CORS), in order. */
  responseHeaders: HeaderOps[];
}

/** Why the gateway answers a request itself. */
export type RespondReason =
  | 'no-listener'
  | 'no-route'
  | 'misdirected-request'
  | 'invalid-backend'
  | 'backend-unavailable'
  | 'no-backends'
  | 'all-weights-zero'
  | 'cors-preflight'
  | 'extension'
  | 'extension-unresolved'
  | 'extension-error'
  | 'bad-request';

/** Answer directly with a status code (404, 421, 500, 503...). */
export interface RespondDecision extends DecisionBase {
  type: 'respond';
  status: number;
  reason: RespondReason;
  /** One sentence for humans. */
  message: string;
  route?: RouteRef;
  rule?: { index: number; name?: string };
  match?: number;
  /** The backend whose share this is, for invalid-backend and backend-unavailable. */
  backend?: BackendTarget;
  /** Headers to send (CORS preflight answers, ExtensionRef answers). */
  headers?: Record<string, string>;
  /** Body to send instead of the default short reason (ExtensionRef answers). */
  body?: string;
}

/** What the gateway does with a request: plain, serialisable data. */
export type Decision = ForwardDecision | RedirectDecision | RespondDecision;
