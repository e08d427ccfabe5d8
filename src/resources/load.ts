/**
 * loadManifests: YAML text or objects in, typed resources with CRD defaults and issues out.
 * It never throws on content: every problem becomes an {@link Issue} with its location.
 */
import { z } from 'zod';
import type { Issue } from '../types.js';
import { BackendTLSPolicySchema, ConfigMapSchema, GatewayClassSchema, GatewaySchema, ListenerSetSchema, NamespaceSchema, ReferenceGrantSchema, SecretSchema, ServiceSchema } from './schemas-gateway.js';
import { GRPCRouteSchema, HTTPRouteSchema, TLSRouteSchema, TLSRouteV1Alpha2Schema, refusedRegexes } from './schemas-route.js';
import type { BackendTLSPolicy, ConfigMap, GatewayClass, Gateway, ListenerSet, ReferenceGrant, Service, NamespaceObject, Secret } from './schemas-gateway.js';
import type { GRPCRoute, HTTPRoute, TLSRoute } from './schemas-route.js';
import { GatewayGroup } from './schemas-shared.js';
import { acceptorOf, INVALID, type Accept } from './validate/accept.js';
import { describe, formatPath, isPlainObject, limitIssue, located, objectRef, positionOf, rawRef, toIssues, type Origin } from './validate/issues.js';
import { measureValue, resolveLimits, tooManyDocuments, type ManifestLimits, type ParseBudget, type RawDoc } from './parse.js';
import { parseYaml } from './yaml/fast.js';

export type { ManifestLimits } from './parse.js';

/** Every kind loadManifests returns, CRD defaults applied, namespace filled in. */
export type Resource = GatewayClass | Gateway | ListenerSet | HTTPRoute | GRPCRoute | TLSRoute | ReferenceGrant | Service | NamespaceObject | Secret | ConfigMap | BackendTLSPolicy;

/** A YAML text with the file name its issues should carry. */
export interface ManifestFile {
  /** File name reported in issues. Default: the `filename` option, else none (`<input>`). */
  filename?: string;
  /** YAML text: one or more documents. */
  text: string;
}

/** One input to loadManifests: YAML text (one or more documents), a named YAML text, or an object. */
export type ManifestInput = string | ManifestFile | Record<string, unknown>;

/** The manifests, in any form loadManifests accepts: one input or an array of them. */
export type Manifests = ManifestInput | readonly ManifestInput[] | readonly Resource[];

/** Options of {@link loadManifests}. */
export interface LoadOptions {
  /** File name reported in issues for YAML text given without one. Default: none (`<input>`). */
  filename?: string;
  /** Namespace for namespaced objects without one, as `kubectl apply -n`. Default `default`. */
  namespace?: string;
  /** Bounds on input size, nesting, documents and routes; see {@link ManifestLimits} for the defaults. */
  limits?: ManifestLimits;
}

/** What {@link loadManifests} returns. */
export interface LoadResult {
  /** Valid objects, later duplicates replacing earlier ones, in load order. */
  resources: Resource[];
  /** Every problem found, in input order. */
  issues: Issue[];
}

interface KindInfo {
  group: string;
  versions: Record<string, z.ZodType>;
  namespaced: boolean;
}

// Served versions per kind, from the CRDs' `served: true` (standard and experimental channels).
const KINDS: Record<string, KindInfo> = {
  GatewayClass: { group: GatewayGroup, versions: { v1: GatewayClassSchema, v1beta1: GatewayClassSchema }, namespaced: false },
  Gateway: { group: GatewayGroup, versions: { v1: GatewaySchema, v1beta1: GatewaySchema }, namespaced: true },
  ListenerSet: { group: GatewayGroup, versions: { v1: ListenerSetSchema }, namespaced: true },
  HTTPRoute: { group: GatewayGroup, versions: { v1: HTTPRouteSchema, v1beta1: HTTPRouteSchema }, namespaced: true },
  GRPCRoute: { group: GatewayGroup, versions: { v1: GRPCRouteSchema }, namespaced: true },
  TLSRoute: { group: GatewayGroup, versions: { v1: TLSRouteSchema, v1alpha3: TLSRouteSchema, v1alpha2: TLSRouteV1Alpha2Schema }, namespaced: true },
  ReferenceGrant: { group: GatewayGroup, versions: { v1: ReferenceGrantSchema, v1beta1: ReferenceGrantSchema }, namespaced: true },
  Service: { group: '', versions: { v1: ServiceSchema }, namespaced: true },
  Namespace: { group: '', versions: { v1: NamespaceSchema }, namespaced: false },
  Secret: { group: '', versions: { v1: SecretSchema }, namespaced: true },
  ConfigMap: { group: '', versions: { v1: ConfigMapSchema }, namespaced: true },
  BackendTLSPolicy: { group: GatewayGroup, versions: { v1: BackendTLSPolicySchema, v1alpha3: BackendTLSPolicySchema }, namespaced: true },
};

/** What a document of a served kind and version is checked with: its schema, and the schema's acceptor (made on first use). */
interface Served {
  info: KindInfo;
  schema: z.ZodType;
  accept: Accept | undefined;
}

/**
 * Per kind, per apiVersion as written (`gateway.networking.k8s.io/v1`, `v1`): what serves it.
 * Every valid document finds its schema with two lookups and no string sliced out of its
 * apiVersion; what is not found here takes validate()'s slow path, which says why.
 */
const SERVED = new Map<string, Map<string, Served>>(
  Object.entries(KINDS).map(([kind, info]) => [kind, new Map(Object.entries(info.versions).map(([v, schema]) => [info.group ? `${info.group}/${v}` : v, { info, schema, accept: undefined }]))]),
);

/** The kinds counted against `limits.maxRoutes`. */
const ROUTE_KINDS = new Set(['HTTPRoute', 'GRPCRoute', 'TLSRoute']);

/** Gateway API kinds that exist upstream but that this library does not implement: a warning. */
const UNIMPLEMENTED = new Set(['TCPRoute', 'UDPRoute', 'BackendLBPolicy', 'XListenerSet', 'XBackendTrafficPolicy', 'XMesh']);

/**
 * Loads Gateway API manifests.
 *
 * @param input multi-document YAML text, `{ filename, text }`, an object, or an array mixing them.
 * @returns the valid resources (defaults applied) and every issue, each with file, input,
 *   document, line, column and field path where they apply. Never throws on bad content, however
 *   large or deep: limits (`options.limits`) turn it into issues.
 * @throws GatewayError `GW_ERR_OPTIONS_INVALID` for a bad `limits` option.
 */
export function loadManifests(input: Manifests, options: LoadOptions = {}): LoadResult {
  return loadManifestsWith(parseYaml, input, options);
}

/** loadManifests with the YAML parser as a parameter, so that tests can hold the fast path to the exact one. */
export function loadManifestsWith(parse: typeof parseYaml, input: Manifests, options: LoadOptions = {}): LoadResult {
  const { resources, issues } = loadIndexed(parse, input, options);
  return { resources, issues };
}

/** What loadManifestsWith returns: loadManifests' result and, for createGateway, every loaded object by kind, namespace and name. */
export interface IndexedLoad extends LoadResult {
  /** Every resource by kind, namespace ('' for cluster-scoped kinds) and name (the values are internal indexes). */
  names: ByObject<number>;
}

/** loadManifestsWith, and the index of the loaded objects (createGateway keeps it as their first-seen record). */
export function loadIndexed(parse: typeof parseYaml, input: Manifests, options: LoadOptions = {}): IndexedLoad {
  const limits = resolveLimits(options.limits);
  const budget: ParseBudget = { limits, documents: 0, exhausted: false };
  const issues: Issue[] = [];
  // Each document is validated as soon as it is parsed, so its raw value (as large as the
  // resource) need not outlive it. What is kept is in document order, for the second pass below.
  const slots: (Checked | RawDoc)[] = [];
  const take = (raw: RawDoc) => slots.push(isList(raw.value) ? raw : check(raw, options, limits));
  const inputs = Array.isArray(input) ? (input as readonly unknown[]) : [input];
  // (Indexed loops here and below: a first load runs this in the interpreter, where for-of
  // allocates an iterator result, and entries() a pair, per element.)
  for (let i = 0; i < inputs.length; i++) {
    const item = inputs[i];
    if (budget.exhausted) break;
    const file = isManifestFile(item) && typeof item.filename === 'string' ? item.filename : options.filename;
    // Where the input's issues point: one object per input, written as a literal (an array of
    // 10,000 objects is 10,000 inputs). Only ever spread into issues, never written to.
    const base: Partial<Issue> = file !== undefined ? (inputs.length > 1 ? { file, input: i + 1 } : { file }) : inputs.length > 1 ? { input: i + 1 } : NO_BASE;
    if (typeof item === 'string' || isManifestFile(item)) {
      parse(typeof item === 'string' ? item : item.text, base, budget, issues, take);
    } else if (++budget.documents > limits.maxDocuments) {
      issues.push(tooManyDocuments(budget, { ...base, document: 1 }));
    } else if (typeof item === 'object' && item !== null) {
      take({ value: item, base, document: 1 });
    } else {
      issues.push({ ...base, code: 'GW_MANIFEST_INPUT', severity: 'error', document: 1, message: `Expected YAML text, { filename, text } or an object, got ${describe(item)}.` });
    }
  }

  // Second pass, in document order, once every document is counted: `kind: List` items count
  // against maxDocuments now (as before any of them is read), routes against maxRoutes, and a
  // later definition replaces an earlier one. Issues of parsing come first, then these.
  // The admitted documents in load order, a replaced definition's entry emptied; by kind,
  // namespace and name, the index of the current definition (no key string per object).
  const admitted: (Checked | undefined)[] = [];
  const at: ByObject<number> = new Map();
  let routes = 0;
  const admit = (checked: Checked) => {
    const { resource, issues: found } = checked;
    const origin: Origin = checked;
    for (let i = 0; i < found.length; i++) issues.push(found[i]!);
    if (!resource) return;
    if (ROUTE_KINDS.has(resource.kind) && ++routes > limits.maxRoutes) {
      issues.push({ ...located(origin, []), code: 'GW_MANIFEST_TOO_MANY', severity: 'error', object: objectRef(resource), message: `More than ${limits.maxRoutes} routes (limits.maxRoutes); this route is not loaded.` });
      return;
    }
    const names = namesIn(at, resource.kind, resource.metadata.namespace ?? '');
    const previousAt = names.get(resource.metadata.name);
    if (previousAt !== undefined) {
      const previous: Origin = admitted[previousAt]!;
      const { line } = positionOf(previous, []);
      // In another input, the first definition names its file (or input number).
      const elsewhere = previous.base.file !== origin.base.file || previous.base.input !== origin.base.input;
      const where = !elsewhere ? '' : previous.base.file !== undefined ? ` of ${previous.base.file}` : previous.base.input !== undefined ? ` of input ${previous.base.input}` : '';
      issues.push({
        ...located(origin, ['metadata', 'name']),
        code: 'GW_MANIFEST_DUPLICATE',
        severity: 'warning',
        object: objectRef(resource),
        path: 'metadata.name',
        message: `${resourceKey(resource)} is defined again (first in document ${previous.document}${line ? `, line ${line}` : ''}${where}); the later definition wins.`,
      });
      admitted[previousAt] = undefined;
    }
    names.set(resource.metadata.name, admitted.length);
    admitted.push(checked);
  };
  slots: for (let s = 0; s < slots.length; s++) {
    const slot = slots[s]!;
    if ('issues' in slot) {
      admit(slot);
      continue;
    }
    const items = (slot.value as { items: unknown[] }).items;
    for (let i = 0; i < items.length; i++) {
      if (i > 0 && ++budget.documents > limits.maxDocuments) {
        issues.push({ ...tooManyDocuments(budget, located(slot, ['items', i])), path: `items[${i}]` });
        break slots;
      }
      const yaml = slot.yaml;
      const prefix = [...(yaml?.prefix ?? []), 'items', i];
      admit(check({ ...slot, value: items[i], ...(yaml ? { yaml: { tree: (document: number) => yaml.tree(document), prefix } } : {}) }, options, limits));
    }
  }
  const resources: Resource[] = [];
  for (let i = 0; i < admitted.length; i++) if (admitted[i] !== undefined) resources.push(admitted[i]!.resource!);
  return { resources, issues, names: at };
}

/** One document validated, with where it came from (one object per document): the resource, if valid, and its issues, not yet counted against the limits of the second pass. */
interface Checked extends Origin {
  resource: Resource | undefined;
  issues: readonly Issue[];
}

/** Where the issues of a lone input without a file name point: nowhere more precise than its documents (shared, never written to). */
const NO_BASE: Partial<Issue> = Object.freeze({});

/** The issues of a document that has none: one array for all, as Checked objects live as long as the load. */
const NO_ISSUES: readonly Issue[] = Object.freeze([]);

function check(raw: RawDoc, options: LoadOptions, limits: Required<ManifestLimits>): Checked {
  const issues: Issue[] = [];
  const resource = validate(raw, options, limits, issues);
  return { base: raw.base, document: raw.document, yaml: raw.yaml, resource, issues: issues.length > 0 ? issues : NO_ISSUES };
}

function isList(v: unknown): boolean {
  return isPlainObject(v) && v.kind === 'List' && Array.isArray(v.items);
}

function isManifestFile(v: unknown): v is ManifestFile {
  return typeof v === 'object' && v !== null && typeof (v as ManifestFile).text === 'string' && !('kind' in v) && !('apiVersion' in v);
}

/**
 * Values by kind, namespace ('' for cluster-scoped kinds) and name: maps keyed by the objects'
 * own strings, so that no key string is made (or kept) per object.
 */
export type ByObject<T> = Map<string, Map<string, Map<string, T>>>;

/** The names of `kind` in `namespace` in `m` (made if missing). */
export function namesIn<T>(m: ByObject<T>, kind: string, namespace: string): Map<string, T> {
  let byNamespace = m.get(kind);
  if (byNamespace === undefined) m.set(kind, (byNamespace = new Map()));
  let names = byNamespace.get(namespace);
  if (names === undefined) byNamespace.set(namespace, (names = new Map()));
  return names;
}

/** `Kind/namespace/name`, or `Kind/name` for cluster-scoped kinds (for messages). */
export function resourceKey(r: { kind: string; metadata: { name: string; namespace?: string | undefined } }): string {
  return r.metadata.namespace !== undefined ? `${r.kind}/${r.metadata.namespace}/${r.metadata.name}` : `${r.kind}/${r.metadata.name}`;
}

/**
 * The API server treats a field set to null as absent, so `port:` with no value is "required"
 * when required and simply unset when optional. Nulls inside lists stay (they are type errors).
 * Recursion is safe: the depth was bounded by measureValue.
 */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

/**
 * A kind and apiVersion not found as written in SERVED: what serves it when the group and
 * version, split at the last slash, are served after all (`/v1` is core `v1`); otherwise why
 * not, as issues: a kind this library does not implement (a warning), a misspelt Gateway API
 * kind, or a version the kind is not served as (errors). Anything else (Deployments and the
 * like) is not ours and is skipped quietly.
 */
function servedOtherwise(raw: RawDoc, obj: Record<string, unknown>, kind: string, apiVersion: string, issues: Issue[]): Served | undefined {
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = apiVersion.slice(slash + 1);
  const info = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (!info || info.group !== group) {
    if (group === GatewayGroup && UNIMPLEMENTED.has(kind)) {
      issues.push({ ...located(raw, ['kind']), code: 'GW_MANIFEST_UNSUPPORTED_KIND', severity: 'warning', object: rawRef(obj), path: 'kind', message: `${kind} is not implemented by gateway-api-router; the object is ignored.` });
    } else if (group === GatewayGroup) {
      const known = [...Object.keys(KINDS).filter((k) => KINDS[k]!.group === GatewayGroup), ...UNIMPLEMENTED];
      const near = known.find((k) => k.toLowerCase() === kind.toLowerCase());
      issues.push({ ...located(raw, ['kind']), code: 'GW_MANIFEST_UNKNOWN_KIND', severity: 'error', object: rawRef(obj), path: 'kind', message: `${GatewayGroup} has no kind ${kind}${near ? `; did you mean ${near}?` : ''}` });
    }
    return undefined;
  }
  // (An own property: a version named like an Object.prototype member is not served.)
  if (Object.hasOwn(info.versions, version)) return SERVED.get(kind)!.get(group ? `${group}/${version}` : version);
  const served = Object.keys(info.versions).map((v) => (group ? `${group}/${v}` : v)).join(', ');
  issues.push({ ...located(raw, ['apiVersion']), code: 'GW_MANIFEST_UNKNOWN_VERSION', severity: 'error', object: rawRef(obj), path: 'apiVersion', message: `${kind} is not served as ${apiVersion}; use one of: ${served}.` });
  return undefined;
}

function validate(raw: RawDoc, options: LoadOptions, limits: Required<ManifestLimits>, issues: Issue[]): Resource | undefined {
  if (!isPlainObject(raw.value)) {
    issues.push({ ...located(raw, []), code: 'GW_MANIFEST_NOT_OBJECT', severity: 'error', message: `A manifest must be a mapping with apiVersion and kind, got ${describe(raw.value)}.` });
    return undefined;
  }
  const obj = raw.value;
  const { kind, apiVersion } = obj;
  if (typeof kind !== 'string' || kind === '' || typeof apiVersion !== 'string' || apiVersion === '') {
    const missing = typeof kind !== 'string' || kind === '' ? 'kind' : 'apiVersion';
    issues.push({ ...located(raw, [missing]), code: 'GW_MANIFEST_MISSING_KIND', severity: 'error', object: rawRef(obj), path: missing, message: `The document has no ${missing}; every manifest needs apiVersion and kind.` });
    return undefined;
  }
  const served = SERVED.get(kind)?.get(apiVersion) ?? servedOtherwise(raw, obj, kind, apiVersion, issues);
  if (served === undefined) return undefined;
  const { info, schema } = served;
  const measured = measureValue(obj, limits);
  if (measured.exceeded) {
    issues.push(limitIssue(raw, measured.exceeded, limits, rawRef(obj)));
    return undefined;
  }
  const input = measured.hasNullField ? dropNulls(obj) : obj;
  // Valid objects (the common case) take the acceptor; what it refuses, zod parses again for its issues.
  let resource = (served.accept ??= acceptorOf(schema))(input) as Resource | typeof INVALID;
  if (resource === INVALID) {
    const result = schema.safeParse(input, { reportInput: true });
    if (!result.success) {
      const ref = rawRef(obj);
      for (const zi of result.error.issues) issues.push(...toIssues(zi, raw, ref));
      return undefined;
    }
    resource = result.data as Resource;
  }
  if (resource.kind === 'HTTPRoute' || resource.kind === 'GRPCRoute') {
    const refused = refusedRegexes(resource);
    for (let i = 0; i < refused.length; i++) {
      const r = refused[i]!;
      issues.push({
        ...located(raw, r.path),
        code: 'GW_MANIFEST_REGEX',
        severity: 'warning',
        object: rawRef(obj),
        path: formatPath(r.path),
        message: `Regular expression ${JSON.stringify(r.pattern)} is refused: ${r.reason}. Rule ${r.rule} is dropped; the route is PartiallyInvalid, or not Accepted if no rule is left.`,
      });
    }
  }
  if (info.namespaced) {
    resource.metadata.namespace = resource.metadata.namespace ?? options.namespace ?? 'default';
  } else {
    delete resource.metadata.namespace;
  }
  return resource;
}
