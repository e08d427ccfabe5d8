/**
 * Scalar types, references and metadata shared by every Gateway API kind.
 * Facts (lengths, patterns, defaults) are from `apis/v1/shared_types.go`,
 * `apis/v1/object_reference_types.go` and the CRDs in `config/crd/` of kubernetes-sigs/gateway-api
 * v1.6.1; the spec digest section 1.1 lists them.
 */
import { z } from 'zod';
import { refinement } from './validate/refinement.js';
import { RE2JS } from 're2js';

// Patterns are copied as facts from the CRD OpenAPI schemas.
const DNS_SUBDOMAIN = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
export const Patterns = {
  hostname: new RegExp(`^(\\*\\.)?${DNS_SUBDOMAIN}$`),
  preciseHostname: new RegExp(`^${DNS_SUBDOMAIN}$`),
  headerName: /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/,
  sectionName: new RegExp(`^${DNS_SUBDOMAIN}$`),
  namespace: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  kind: /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/,
  group: new RegExp(`^$|^${DNS_SUBDOMAIN}$`),
  controllerName: new RegExp(`^${DNS_SUBDOMAIN}\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$`),
  duration: /^([0-9]{1,5}(h|m|s|ms)){1,4}$/,
  corsOrigin: /(^\*$)|(^(http(s)?):\/\/(((\*\.)?([a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+|\*)(:([0-9]{1,5}))?)$)/,
  protocol: /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$/,
  pathValue: /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/,
  dnsSubdomain: new RegExp(`^${DNS_SUBDOMAIN}$`),
  dnsLabel: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  dns1035Label: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
  labelValue: /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/,
  labelKey: /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$/,
} as const;

/** A string with length bounds and an optional pattern; the pattern name goes in the message. */
export function str(min: number, max: number, pattern?: RegExp, what?: string) {
  let s = z.string().min(min).max(max);
  if (pattern) s = s.regex(pattern, what ? `must be a valid ${what} (matching ${pattern.source})` : undefined);
  return s;
}

/** A 32-bit integer in [min, max]. */
export function int(min: number, max = 2147483647) {
  return z.number().int().min(min).max(max);
}

export const Hostname = str(1, 253, Patterns.hostname, 'Hostname');
export const PreciseHostname = str(1, 253, Patterns.preciseHostname, 'PreciseHostname');
export const HeaderName = str(1, 256, Patterns.headerName, 'HTTP header name');
export const SectionName = str(1, 253, Patterns.sectionName, 'SectionName');
export const ObjectName = str(1, 253);
export const Namespace = str(1, 63, Patterns.namespace, 'Namespace');
export const Kind = str(1, 63, Patterns.kind, 'Kind');
export const Group = str(0, 253, Patterns.group, 'Group');
export const PortNumber = int(1, 65535);
export const Duration = z.string().regex(Patterns.duration, 'must be a GEP-2257 duration such as 500ms, 10s or 1h30m');

/**
 * Header values: CR, LF and NUL are refused everywhere (header injection), whatever the
 * channel. The experimental channel's stricter printable-ASCII pattern is not applied, so a
 * manifest valid on a standard-channel cluster stays valid here.
 */
export const HeaderValue = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^[^\r\n\0]*$/, 'must not contain CR, LF or NUL characters');

export const GatewayGroup = 'gateway.networking.k8s.io';

/** Kubernetes LabelSelector (`matchLabels` and `matchExpressions`). */
export const LabelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.strictObject({
        key: z.string(),
        operator: z.string(),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});

/** `ParentReference` with its CRD defaults applied. */
export const ParentReference = z.strictObject({
  group: Group.default(GatewayGroup),
  kind: Kind.default('Gateway'),
  namespace: Namespace.optional(),
  name: ObjectName,
  sectionName: SectionName.optional(),
  port: PortNumber.optional(),
});

/**
 * A BackendObjectReference (group, kind, name, namespace, port; CRD defaults applied) with
 * `extra` fields (weight, filters). CEL: a core Service reference must have a port.
 */
export function backendReference<T extends z.ZodRawShape>(extra: T) {
  return z
    .strictObject({
      group: Group.default(''),
      kind: Kind.default('Service'),
      name: ObjectName,
      namespace: Namespace.optional(),
      port: PortNumber.optional(),
      ...extra,
    })
    .check(refinement((value, ctx) => {
      const ref = value as { group: string; kind: string; port?: number | undefined };
      if (ref.group === '' && ref.kind === 'Service' && ref.port === undefined) {
        ctx.addIssue({ code: 'custom', message: 'Must have port for Service reference', path: ['port'], params: { rule: 'Must have port for Service reference' } });
      }
    }));
}

/** `BackendObjectReference`: a Service (or other kind) with a port. CRD defaults applied. */
export const BackendObjectReference = backendReference({});

/** Weight of a backendRef: 0 to 1,000,000, default 1. */
export const Weight = int(0, 1_000_000).default(1);

/**
 * Kubernetes ObjectMeta. Every field of ObjectMeta is known, so a misspelt one (`namepsace`) is
 * an unknown-field error, as with kubectl's strict field validation.
 */
export function metadata(name: z.ZodString = ObjectName.regex(Patterns.dnsSubdomain, 'must be a lowercase RFC 1123 subdomain')) {
  return z.strictObject({
    name,
    namespace: Namespace.optional(),
    generateName: z.string().optional(),
    labels: z.record(z.string().regex(Patterns.labelKey, 'must be a valid label key'), z.string().max(63).regex(Patterns.labelValue, 'must be a valid label value')).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    creationTimestamp: z.union([z.string(), z.date()]).optional(),
    generation: z.number().int().min(0).optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    selfLink: z.string().optional(),
    deletionTimestamp: z.union([z.string(), z.date()]).optional(),
    deletionGracePeriodSeconds: z.number().int().optional(),
    ownerReferences: z.array(z.record(z.string(), z.unknown())).optional(),
    finalizers: z.array(z.string()).optional(),
    managedFields: z.array(z.record(z.string(), z.unknown())).optional(),
  });
}

/**
 * Entries of a list the CRD keys by `key` (x-kubernetes-list-type: map) or keeps as a set:
 * the API server refuses a repeated key. `key` undefined compares whole values.
 */
export function checkUnique<T>(list: readonly T[] | undefined, ctx: z.RefinementCtx, key?: (t: T) => unknown, field = 'name'): void {
  if (list === undefined || list.length < 2) return; // most lists hold one entry: nothing to compare
  const seen = new Set<unknown>();
  (list ?? []).forEach((item, i) => {
    const k = key ? key(item) : item;
    if (seen.has(k)) {
      ctx.addIssue({ code: 'custom', message: `Duplicate value ${JSON.stringify(k)}: entries of this list must be unique${key ? ` by ${field}` : ''}`, path: key ? [i, field] : [i], params: { rule: 'list entries must be unique' } });
    }
    seen.add(k);
  });
}

/** The `status` a user may paste from `kubectl get -o yaml`: accepted and ignored. */
export const AnyStatus = z.unknown().optional();

// ---------------------------------------------------------------------------------------------
// RegularExpression values (path, header, query and gRPC method matches)
//
// The dialect is RE2's, the engine Envoy uses, and patterns run on re2js, a port of RE2 that
// matches in time linear in the input. No pattern can backtrack catastrophically, so none is
// rejected for its shape; what RE2 cannot run in linear time (backreferences, lookaround) is
// rejected when the manifests load, with the reason. Matching is full-match (the whole path,
// header value or query value), as Envoy's `safe_regex` does. See docs/routing.md.

/** A compiled full-match regular expression. */
export interface FullMatcher {
  (input: string): boolean;
}

/**
 * Compiled patterns, shared by validation, the compiled table and explain(). Bounded: manifests
 * reloaded with ever new patterns must not grow it without end. A Map keeps insertion order, so
 * the first key is the least recently used one.
 */
const regexCache = new Map<string, FullMatcher>();

/** How many compiled patterns {@link compileFullMatch} keeps. */
export const REGEX_CACHE_SIZE = 1024;

/** Compiles `pattern` for full matching, or explains why it is refused. */
export function compileFullMatch(pattern: string): { ok: true; test: FullMatcher } | { ok: false; reason: string } {
  const cached = regexCache.get(pattern);
  if (cached) {
    regexCache.delete(pattern); // most recently used goes last
    regexCache.set(pattern, cached);
    return { ok: true, test: cached };
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    return { ok: false, reason: explainRE2Error(pattern, (e as Error).message) };
  }
  const test: FullMatcher = (input) => re.matches(input);
  regexCache.set(pattern, test);
  if (regexCache.size > REGEX_CACHE_SIZE) regexCache.delete(regexCache.keys().next().value!);
  return { ok: true, test };
}

/** How many compiled patterns are cached now (for tests of the bound). */
export function regexCacheSize(): number {
  return regexCache.size;
}

function explainRE2Error(pattern: string, message: string): string {
  if (/\\[1-9]|\\k</.test(pattern) && /escape/.test(message)) {
    return 'backreferences are not supported: they cannot run in linear time (RE2 dialect)';
  }
  if (/\(\?<?[=!]/.test(pattern)) {
    return 'lookahead and lookbehind are not supported: they cannot run in linear time (RE2 dialect)';
  }
  return message.replace(/^error parsing regexp: /, 'not valid RE2 syntax: ');
}
