/**
 * References and ReferenceGrants (spec digest sections 1.7 and 6): whether a reference may cross
 * into another namespace, and what a backendRef or a listener's certificateRef resolves to.
 * Also namespace labels and LabelSelectors, which allowedRoutes reads. Pure lookups over the
 * loaded resources.
 */
import type { BackendTLSPolicy, ConfigMap, NamespaceObject, ReferenceGrant, Secret, Service } from '../resources/schemas-gateway.js';
import type { HTTPRouteFilter } from '../resources/schemas-route.js';
import { GatewayGroup } from '../resources/schemas-shared.js';
import { check, type Check } from './conditions.js';
import { readCABundle, readCertificate, type Certificate } from './refs/certificates.js';
import { GrantIndex } from './refs/grants.js';

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
  /** The Service port's `appProtocol` (GEP-1911), when set: how the adapters speak to it. */
  appProtocol?: string;
  /** Per-backend filters, as written (HTTPRoute and GRPCRoute). */
  filters: HTTPRouteFilter[];
  /**
   * buildIR's memo for a backend without filters (ir/build.ts): the IR form made once for every
   * rule that lists this model, in place of a Map grown over every backend of the table. Nothing
   * else reads or writes it; the rest of the model is never written to.
   */
  built: unknown;
}

/** A backendRef as written (CRD defaults applied), or a RequestMirror's. */
type BackendRef = { group: string; kind: string; name: string; namespace?: string | undefined; port?: number | undefined; weight?: number; filters?: HTTPRouteFilter[] | undefined };

/** How the gateway verifies a backend over TLS (BackendTLSPolicy). */
export interface BackendTLS {
  /** `namespace/name` of the policy. */
  policy: string;
  /** PEM CA bundle; null: the system's well-known CAs (WellKnownCACertificates: System). */
  ca: string | null;
  /**
   * Set when the policy targets the backend but cannot verify it (no caCertificateRef
   * resolves): requests to the backend fail rather than go unverified (upstream conformance
   * `BackendTLSPolicyInvalidCACertificateRef` expects a 5xx).
   */
  refused?: string;
  /** The name sent as SNI and, without subjectAltNames, verified in the certificate. */
  hostname: string;
  /** When given, the certificate must carry one of these instead of `hostname`. */
  subjectAltNames: { type: 'Hostname' | 'URI'; value: string }[];
}

/** A BackendTLSPolicy after resolution. */
export interface BackendTLSPolicyModel {
  resource: BackendTLSPolicy;
  key: string;
  checks: Check[];
  /** Target Services, with the port its sectionName names (undefined: every port). */
  targets: { namespace: string; name: string; port: number | undefined }[];
  /** Null when the policy cannot be applied (no target, or no CA). */
  tls: BackendTLS | null;
}

/** The resources references point at. */
export interface Referents {
  referenceGrants: readonly ReferenceGrant[];
  services: readonly Service[];
  namespaces: readonly NamespaceObject[];
  secrets: readonly Secret[];
  configMaps: readonly ConfigMap[];
}

/** Lookups over the referents, built once per resolution. */
export class References {
  /** Services by namespace, then name: probing with the strings at hand builds no key per backendRef. */
  private readonly services = new Map<string, Map<string, Service>>();
  private readonly namespaceLabels = new Map<string, Record<string, string>>();
  /**
   * Resolved backendRefs without filters, by name: the one model of a name (most tables give each
   * Service one ref form), or, from a name's second, its models by namespace (see backend).
   */
  private readonly plainBackends = new Map<string, BackendModel | Map<string, BackendModel[]>>();
  /** Built on the first cross-namespace reference: most loads have none. */
  private grantIndex: GrantIndex | undefined;
  /** Secrets and ConfigMaps by `namespace/name`, built on the first certificate reference. */
  private secretIndex: Map<string, Secret> | undefined;
  private configMapIndex: Map<string, ConfigMap> | undefined;
  /** What precedes `:port` in each registered key (`name` or `namespace/name`), built on the first BackendTLSPolicy target that needs it. */
  private registeredPortOwners: Set<string> | undefined;

  constructor(
    readonly referents: Referents,
    /** Backend keys registered in-process; see AttachOptions.registeredBackends. */
    readonly registeredBackends: ReadonlySet<string> | undefined,
  ) {
    for (const s of referents.services) {
      const ns = s.metadata.namespace!;
      let byName = this.services.get(ns);
      if (!byName) this.services.set(ns, (byName = new Map()));
      byName.set(s.metadata.name, s);
    }
    for (const n of referents.namespaces) this.namespaceLabels.set(n.metadata.name, n.metadata.labels ?? {});
  }

  private get grants(): GrantIndex {
    return (this.grantIndex ??= new GrantIndex(this.referents.referenceGrants));
  }

  /** Labels of a namespace, with the implied `kubernetes.io/metadata.name`. */
  labelsOf(ns: string): Record<string, string> {
    return { ...(this.namespaceLabels.get(ns) ?? {}), 'kubernetes.io/metadata.name': ns };
  }

  /**
   * Resolves one certificateRef of a listener declared by `owner` (a Gateway or a ListenerSet):
   * the certificate when it names a usable kubernetes.io/tls Secret, else the failing ResolvedRefs check.
   */
  certificateRef(owner: { kind: string; namespace: string }, ref: { group: string; kind: string; name: string; namespace?: string | undefined }): Check | Certificate {
    const ns = ref.namespace ?? owner.namespace;
    const what = `certificateRef ${ns}/${ref.name}`;
    if (ref.group !== '' || ref.kind !== 'Secret') {
      return check('ResolvedRefs', 'False', 'InvalidCertificateRef', `${what} has group/kind ${ref.group || 'core'}/${ref.kind}; only core Secrets are supported`);
    }
    if (ns !== owner.namespace && !this.grants.allows({ group: GatewayGroup, kind: owner.kind, namespace: owner.namespace }, { group: '', kind: 'Secret', namespace: ns, name: ref.name })) {
      return check('ResolvedRefs', 'False', 'RefNotPermitted', `${what} is in another namespace and no ReferenceGrant in ${ns} allows it; add one from ${owner.kind} in ${owner.namespace}`);
    }
    const secret = (this.secretIndex ??= byKey(this.referents.secrets)).get(`${ns}/${ref.name}`);
    if (!secret) return check('ResolvedRefs', 'False', 'InvalidCertificateRef', `Secret ${ns}/${ref.name} is not in the manifests; add it`);
    const cert = readCertificate(secret);
    if ('error' in cert) return check('ResolvedRefs', 'False', 'InvalidCertificateRef', `${cert.error}; a certificateRef needs a kubernetes.io/tls Secret whose tls.crt and tls.key hold a PEM certificate and its private key`);
    return cert;
  }

  /**
   * Resolves one CA certificate reference (frontend client-certificate validation, GEP-91): the
   * PEM bundle of a ConfigMap's `ca.crt`, else the failing ResolvedRefs check
   * (InvalidCACertificateKind, RefNotPermitted, InvalidCACertificateRef).
   */
  caCertificateRef(from: { kind: string; namespace: string }, ref: { group: string; kind: string; name: string; namespace?: string | undefined }): Check | { pem: string } {
    const ns = ref.namespace ?? from.namespace;
    if (ref.group !== '' || ref.kind !== 'ConfigMap') {
      return check('ResolvedRefs', 'False', 'InvalidCACertificateKind', `caCertificateRef ${ns}/${ref.name} has kind ${ref.group ? `${ref.group}/` : ''}${ref.kind}; only core ConfigMaps are supported`);
    }
    if (ns !== from.namespace && !this.grants.allows({ group: GatewayGroup, kind: from.kind, namespace: from.namespace }, { group: '', kind: 'ConfigMap', namespace: ns, name: ref.name })) {
      return check('ResolvedRefs', 'False', 'RefNotPermitted', `caCertificateRef ConfigMap ${ns}/${ref.name} is in another namespace and no ReferenceGrant in ${ns} allows it; add one from ${from.kind} in ${from.namespace}`);
    }
    const cm = (this.configMapIndex ??= byKey(this.referents.configMaps)).get(`${ns}/${ref.name}`);
    if (!cm) return check('ResolvedRefs', 'False', 'InvalidCACertificateRef', `caCertificateRef ConfigMap ${ns}/${ref.name} is not in the manifests; add it`);
    const bundle = readCABundle(cm);
    if ('error' in bundle) return check('ResolvedRefs', 'False', 'InvalidCACertificateRef', `${bundle.error}; a caCertificateRef needs a ConfigMap whose ca.crt holds PEM certificates`);
    return bundle;
  }

  /**
   * Resolves a BackendTLSPolicy (standard; `apis/v1/backendtlspolicy_types.go`): its target
   * Services and ports, and the CA bundle it validates backends with. Accepted False
   * TargetNotFound when no target resolves, NoValidCACertificate when no caCertificateRef does;
   * ResolvedRefs False InvalidKind / InvalidCACertificateRef for a bad caCertificateRef.
   */
  backendTLSPolicy(p: BackendTLSPolicy): BackendTLSPolicyModel {
    const namespace = p.metadata.namespace!;
    const key = `${namespace}/${p.metadata.name}`;
    const v = p.spec.validation;
    const checks: Check[] = [];
    const targets: BackendTLSPolicyModel['targets'] = [];
    for (const t of p.spec.targetRefs) {
      if (t.group !== '' || t.kind !== 'Service') continue;
      const svc = this.services.get(namespace)?.get(t.name);
      if (!svc && this.registeredKey(namespace, t.name, undefined) === undefined && !this.isRegisteredOnSomePort(namespace, t.name)) continue;
      if (t.sectionName === undefined) {
        targets.push({ namespace, name: t.name, port: undefined });
        continue;
      }
      const port = svc?.spec.ports?.find((sp) => sp.name === t.sectionName);
      if (port) targets.push({ namespace, name: t.name, port: port.port });
    }
    let ca: string | null = null;
    let failed: Check | undefined;
    for (const ref of v.caCertificateRefs ?? []) {
      const r = this.caCertificateRef({ kind: 'BackendTLSPolicy', namespace }, { ...ref, namespace });
      if ('pem' in r) ca = ca === null ? r.pem : `${ca}\n${r.pem}`;
      else failed ??= r.reason === 'InvalidCACertificateKind' ? check('ResolvedRefs', 'False', 'InvalidKind', r.message) : r;
    }
    const system = v.wellKnownCACertificates === 'System';
    if (targets.length === 0) checks.push(check('Accepted', 'False', 'TargetNotFound', `No targetRef of BackendTLSPolicy ${key} names a Service in the manifests or a registered backend`));
    else if (!system && ca === null) checks.push(check('Accepted', 'False', 'NoValidCACertificate', `No caCertificateRef of BackendTLSPolicy ${key} resolves; see ResolvedRefs`));
    else checks.push(check('Accepted', 'True', 'Accepted', 'Policy is accepted'));
    checks.push(failed ?? check('ResolvedRefs', 'True', 'ResolvedRefs', 'All references are resolved'));
    const sans = (v.subjectAltNames ?? []).map((s) => (s.type === 'Hostname' ? { type: 'Hostname' as const, value: s.hostname! } : { type: 'URI' as const, value: s.uri! }));
    if (targets.length === 0) return { resource: p, key, checks, targets, tls: null };
    const refused = !system && ca === null ? { refused: `no caCertificateRef of BackendTLSPolicy ${key} resolves` } : {};
    return { resource: p, key, checks, targets, tls: { policy: key, ca: system ? null : ca, hostname: v.hostname, subjectAltNames: sans, ...refused } };
  }

  /**
   * Resolves one backendRef of a route (spec digest section 6). Runs for every backendRef: the
   * label and messages are built only for refs that fail.
   */
  backend(route: { kind: string; namespace: string }, ref: BackendRef): BackendModel {
    // A backendRef without filters in the route's own namespace resolves the same for every route
    // (nothing in it depends on the route): one model per distinct ref, shared and never written to.
    if ((ref.filters === undefined || ref.filters.length === 0) && (ref.namespace === undefined || ref.namespace === route.namespace)) {
      // (Its namespace is the route's: a plain model's `namespace` says where it was resolved.)
      const weight = ref.weight ?? 1;
      let byNamespace = this.plainBackends.get(ref.name);
      if (byNamespace === undefined) {
        const b = this.resolveBackend(route, ref);
        this.plainBackends.set(ref.name, b);
        return b;
      }
      if (!(byNamespace instanceof Map)) {
        if (samePlainRef(byNamespace, route.namespace, ref, weight)) return byNamespace;
        const one = byNamespace;
        this.plainBackends.set(ref.name, (byNamespace = new Map()));
        byNamespace.set(one.namespace, [one]);
      }
      let known = byNamespace.get(route.namespace);
      if (known === undefined) byNamespace.set(route.namespace, (known = []));
      for (let i = 0; i < known.length; i++) if (samePlainRef(known[i]!, route.namespace, ref, weight)) return known[i]!;
      const b = this.resolveBackend(route, ref);
      known.push(b);
      return b;
    }
    return this.resolveBackend(route, ref);
  }

  private resolveBackend(route: { kind: string; namespace: string }, ref: BackendRef): BackendModel {
    const namespace = ref.namespace ?? route.namespace;
    const b: BackendModel = { group: ref.group, kind: ref.kind, namespace, name: ref.name, port: ref.port, weight: ref.weight ?? 1, state: 'ok', filters: ref.filters ?? NO_FILTERS, built: undefined };
    if (ref.group !== '' || ref.kind !== 'Service') {
      return failed(b, 'invalid', 'InvalidKind', `backendRef ${backendLabel(b)} has kind ${ref.group ? `${ref.group}/` : ''}${ref.kind}; only core Services are supported`);
    }
    // RefNotPermitted is checked before existence, so messages never reveal other namespaces' objects.
    if (namespace !== route.namespace && !this.grants.allows({ group: GatewayGroup, kind: route.kind, namespace: route.namespace }, { group: '', kind: 'Service', namespace, name: ref.name })) {
      return failed(b, 'invalid', 'RefNotPermitted', `backendRef ${backendLabel(b)} is in another namespace and no ReferenceGrant in ${namespace} allows ${route.kind}s from ${route.namespace}; add one`);
    }
    const registered = this.registeredKey(namespace, ref.name, ref.port);
    const svc = this.services.get(namespace)?.get(ref.name);
    if (registered !== undefined) {
      // A registered backend needs no Service; when one is there, its appProtocol still says how to speak to it.
      const appProtocol = svc?.spec.ports?.find((p) => p.port === ref.port)?.appProtocol;
      return appProtocol !== undefined ? { ...b, registered, appProtocol } : { ...b, registered };
    }
    if (!svc) {
      return failed(b, 'invalid', 'BackendNotFound', `Service ${backendLabel(b)} is not in the manifests${this.registeredBackends ? ' and no backend is registered for it' : ''}; add the Service${this.registeredBackends ? ' or register a backend' : ''}`);
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
    // Every appProtocol is carried to the adapters (GEP-1911): kubernetes.io/h2c is proxied over
    // HTTP/2 with prior knowledge, kubernetes.io/ws and kubernetes.io/wss with HTTP/1.1 upgrades
    // (wss over TLS), anything else as HTTP/1.1 (docs/adapters.md).
    if (port.appProtocol !== undefined) b.appProtocol = port.appProtocol;
    if (this.registeredBackends) {
      const label = backendLabel(b);
      return failed(b, 'unavailable', 'BackendNotFound', `Service ${label} has no endpoints: no backend is registered for it; register one as backends['${label}']`);
    }
    return b;
  }

  /** True when a backend is registered for some port of the Service (`name:port` or `namespace/name:port`). */
  private isRegisteredOnSomePort(namespace: string, name: string): boolean {
    // Indexed once: a load with many policies would otherwise scan every key per target.
    let owners = this.registeredPortOwners;
    if (owners === undefined) {
      owners = this.registeredPortOwners = new Set();
      for (const k of this.registeredBackends ?? []) {
        const colon = k.indexOf(':');
        if (colon >= 0) owners.add(k.slice(0, colon));
      }
    }
    return owners.has(name) || owners.has(`${namespace}/${name}`);
  }

  private registeredKey(namespace: string, name: string, port: number | undefined): string | undefined {
    const reg = this.registeredBackends;
    if (!reg) return undefined;
    const keys = port !== undefined ? [`${namespace}/${name}:${port}`, `${name}:${port}`, `${namespace}/${name}`, name] : [`${namespace}/${name}`, name];
    return keys.find((k) => reg.has(k));
  }
}

/** Objects by `namespace/name`; the first of duplicates wins, as a scan would find it. */
function byKey<T extends { metadata: { namespace?: string | undefined; name: string } }>(objects: readonly T[]): Map<string, T> {
  const out = new Map<string, T>();
  for (const o of objects) {
    if (o.metadata.namespace === undefined) continue;
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    if (!out.has(key)) out.set(key, o);
  }
  return out;
}

/** The filters of a backendRef without any: shared, never written to. */
const NO_FILTERS: HTTPRouteFilter[] = [];

/** True when the plain model `k` (no filters, in its route's namespace) is what the plain ref `ref` of a route in `namespace` resolves to. */
function samePlainRef(k: BackendModel, namespace: string, ref: BackendRef, weight: number): boolean {
  return k.namespace === namespace && k.port === ref.port && k.weight === weight && k.group === ref.group && k.kind === ref.kind;
}

/** `namespace/name:port` of a backendRef, as messages name it. */
function backendLabel(b: BackendModel): string {
  return `${b.namespace}/${b.name}${b.port !== undefined ? `:${b.port}` : ''}`;
}

function failed(b: BackendModel, state: 'invalid' | 'unavailable', reason: NonNullable<BackendModel['reason']>, message: string): BackendModel {
  return { ...b, state, reason, message };
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

/**
 * BackendTLSPolicies that target the same Service port (the same sectionName, or neither with
 * one) conflict. GEP-713's rule: the oldest wins, then the first by `{namespace}/{name}`; the
 * loser is `Accepted=False, Conflicted` and not applied to that target (its other targets keep
 * it). A policy for one port and one for the whole Service do not conflict: the port's is the
 * more specific and applies there. Only accepted policies compete: one that is not accepted
 * for another reason takes no target from anyone.
 */
export function rejectPolicyConflicts(policies: readonly BackendTLSPolicyModel[], createdAt: (r: BackendTLSPolicy) => number): void {
  const order = policies.filter((p) => p.tls !== null && p.tls.refused === undefined).map((p) => ({ p, at: createdAt(p.resource) }));
  order.sort((a, b) => a.at - b.at || (a.p.key < b.p.key ? -1 : a.p.key > b.p.key ? 1 : 0));
  const owner = new Map<string, string>();
  for (const { p } of order) {
    const lostTo = new Set<string>();
    p.targets = p.targets.filter((t) => {
      const k = `${t.namespace}/${t.name}:${t.port ?? '*'}`;
      const winner = owner.get(k);
      if (winner !== undefined && winner !== p.key) {
        lostTo.add(winner);
        return false;
      }
      owner.set(k, p.key);
      return true;
    });
    if (lostTo.size === 0) continue;
    const i = p.checks.findIndex((c) => c.type === 'Accepted');
    p.checks[i >= 0 ? i : 0] = check('Accepted', 'False', 'Conflicted', `BackendTLSPolicy ${[...lostTo].join(', ')} targets the same Service port and wins (older, or first by namespace/name); this policy is not applied there`);
    if (p.targets.length === 0) p.tls = null;
  }
}
