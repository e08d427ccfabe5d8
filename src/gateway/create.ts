/**
 * createGateway: the composition root. Loads manifests, resolves attachment and status, and
 * (in later layers) compiles the routing table. A reload swaps one immutable snapshot for
 * another, so a failed reload leaves the running one untouched.
 */
import { GatewayConfigError, GatewayError, isGatewayError } from '../errors.js';
import type { Issue } from '../types.js';
import { loadIndexed, type ByObject, type Manifests, type Resource } from '../resources/load.js';
import { parseYaml } from '../resources/yaml/fast.js';
import { groupResources, resolveAttachments, type Model } from '../model/attach.js';
import { gatewaysByKey, type GatewayModel } from '../model/gateways.js';
import { buildStatus, type StatusList, type StatusObject } from '../model/status.js';
import { buildServing, markTLSEnforcement, type ServingPlan } from './serving.js';
import { buildIR } from '../ir/build.js';
import { SUPPORTED_FEATURES } from './report/features.js';
import { findWarnings, unknownOptionWarnings } from './report/warnings.js';
import type * as IR from '../ir/types.js';
import type { BackendTarget, Decision, RouteRequest } from '../types.js';
import { compileRuntime, explainRequest, routeRequest, type Explanation, type Runtime } from './route.js';
import { DEFAULT_CONTROLLER_NAME, OPTION_NAMES, validateOptions, type GatewayOptions } from './create/options.js';

// What createGateway's callers import with it (src/index.ts, the adapters, the CLI).
export { SUPPORTED_FEATURES } from './report/features.js';
export { DEFAULT_CONTROLLER_NAME, type GatewayOptions } from './create/options.js';

/**
 * Internal: option names that callers wrapping createGateway (the adapters) accept on top of
 * createGateway's, so that they are not reported as unknown.
 */
export const kWrapperOptions: unique symbol = Symbol('gateway-api-router.wrapperOptions');

/**
 * An immutable, fully computed view of one set of manifests. Only what requests and status
 * need is kept: the loaded objects and the attachment model are dropped once compiled.
 */
export interface Snapshot {
  issues: Issue[];
  /** `namespace/name` of the Gateway this process serves. */
  gatewayKey: string;
  status: StatusList;
  ir: IR.Gateway;
  runtime: Runtime;
  serving: ServingPlan;
}

/** What a backend receives for a request, as {@link GatewayRouter.inject} computes it. */
export interface InjectedRequest {
  /** The backend the request goes to. */
  backend: BackendTarget;
  method: string;
  /** Path with the query string. */
  path: string;
  host: string | undefined;
  scheme: 'http' | 'https';
  /** Header names lower-case; `host` is the host sent. */
  headers: Record<string, string | string[]>;
}

/** A running gateway: what createGateway returns. */
export interface GatewayRouter {
  /** Status for every GatewayClass, Gateway and route this controller owns, as a `kind: List`. */
  readonly status: StatusList;
  /**
   * Warnings and infos from the last successful load (with `onInvalid: 'skip'`, also the errors
   * of the objects skipped): the loader's, plus
   * likely mistakes that still load (docs/errors.md): a parentRef to a Gateway not in the
   * manifests, a backendRef with neither a Service nor a registered backend, a `backends` key no
   * backendRef uses, an unknown option name.
   */
  readonly issues: readonly Issue[];
  /** `namespace/name` of the Gateway this process serves. */
  readonly gatewayKey: string;
  /** Routes a request: the Decision as plain data. Never throws. */
  route(request: RouteRequest): Decision;
  /** Routes a request and says why: listener choice, every candidate match, the pick. Never throws. */
  explain(request: RouteRequest): Explanation;
  /**
   * What the backend would receive for this request after every filter: method, path (with
   * query), host, and headers (names lower-case, `host` included). Routes the request (so a
   * weighted pick advances like route()). null when the request is not forwarded. Never throws.
   */
  inject(request: RouteRequest): InjectedRequest | null;
  /** The compiled intermediate representation of the served Gateway: plain data, for debugging and snapshots. */
  readonly ir: IR.Gateway;
  /**
   * What `listen()` opens: the served Gateway's programmed listeners with their certificates
   * (private keys included: never log it). A new object after each reload. See docs/listeners.md.
   */
  readonly serving: ServingPlan;
  /** The status object of one resource, or undefined. `namespace` defaults to `default`. */
  statusOf<K extends StatusObject['kind']>(kind: K, name: string, namespace?: string): Extract<StatusObject, { kind: K }> | undefined;
  /**
   * Replaces the manifests atomically. On error the running snapshot stays and the error is
   * returned (not thrown): `{ ok: false, error }`.
   */
  reload(manifests: Manifests): { ok: true; issues: readonly Issue[] } | { ok: false; error: GatewayConfigError | GatewayError };
  /**
   * Replaces the set of in-process backends (only the keys matter here) and recomputes status
   * and routing for the current manifests. The adapters call it with their `backends` option.
   */
  setBackends(keys: readonly string[]): void;
}

/**
 * Creates a gateway from Gateway API manifests.
 *
 * @throws GatewayConfigError when the manifests contain errors (with every issue attached).
 * @throws GatewayError `GW_ERR_GATEWAY_*` when the Gateway to serve cannot be chosen, and
 *   `GW_ERR_OPTIONS_INVALID` for bad options.
 */
export function createGateway(options: GatewayOptions): GatewayRouter {
  validateOptions(options);
  const wrapper = (options as { [kWrapperOptions]?: { fn: string; names: readonly string[] } })[kWrapperOptions];
  const optionWarnings = unknownOptionWarnings(options, [...OPTION_NAMES, ...(wrapper?.names ?? [])], wrapper?.fn ?? 'createGateway');
  const clock = options.now ?? (() => new Date());
  /**
   * When the objects of the running snapshot were first seen (see FirstSeen). Only the objects of
   * the running manifests are kept: one that a reload removes is forgotten, so that the record
   * stays the size of the manifests however many names come and go over a long run (it grew by
   * every name ever loaded), and an object added again is first seen again, as a deleted and
   * re-created Kubernetes object gets a new creationTimestamp.
   */
  let seen: FirstSeen | undefined;
  let backendKeys: ReadonlySet<string> | undefined = options.backends ? new Set(Object.keys(options.backends)) : undefined;
  let manifestsNow = options.manifests;
  const build = (manifests: Manifests, previous?: Snapshot): Snapshot => {
    // The loaded objects and the attachment model are unreachable once analyse() returns, so that
    // the runtime, the largest part of a snapshot, is compiled without them in the heap.
    const a = analyse(manifests, previous);
    const runtime = compileRuntime(a.ir, options);
    // Commit first-seen times only once the whole build succeeded.
    seen = a.seen;
    return { issues: a.issues, gatewayKey: a.gatewayKey, status: a.status, ir: a.ir, runtime, serving: a.serving };
  };
  /**
   * The IR and what else a build needs the loaded objects for; the first-seen times to commit come
   * back as `seen`. Once attach() returns, the model's routes hold the only references to the
   * loaded routes, and buildIR releases each route once it is in the IR: a full collection during
   * the IR build then reclaims the loaded objects and the attachment model of the routes already
   * done, rather than keeping them (about 90 MB at 50,000 routes) to the end of the build.
   */
  const analyse = (manifests: Manifests, previous: Snapshot | undefined) => {
    const a = attach(manifests, previous);
    const ir = buildIR(a.model, a.gatewayKey, { release: true });
    return { seen: a.seen, issues: a.issues, gatewayKey: a.gatewayKey, status: a.status, ir, serving: a.serving };
  };
  /** Loading, attachment, status, warnings and listeners: everything but the IR. The model comes back for the IR, its last user. */
  const attach = (manifests: Manifests, previous: Snapshot | undefined) => {
    const loaded = loadIndexed(parseYaml, manifests, {
      ...(options.filename !== undefined ? { filename: options.filename } : {}),
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
      ...(options.limits !== undefined ? { limits: options.limits } : {}),
    });
    if (options.onInvalid !== 'skip' && loaded.issues.some((i) => i.severity === 'error')) throw new GatewayConfigError(loaded.issues);
    const now = clock();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    // First-seen times, kept across reloads by kind, namespace and name. A first build has none:
    // every object was first seen now, and createdAt needs no lookup at all. A reload makes the
    // loader's index of this load the next record (`seen`, committed if the build succeeds): the
    // running record is only read, so a failed reload changes nothing.
    const before = seen;
    const names = loaded.names;
    if (before !== undefined) firstSeenTimes(names, before, nowSeconds);
    const model = resolveAttachments(groupResources(loaded.resources), {
      controllerName: options.controllerName ?? DEFAULT_CONTROLLER_NAME,
      registeredBackends: backendKeys,
      createdAt: before === undefined ? (r) => createdAt(r, 1000 * nowSeconds) : (r) => createdAt(r, 1000 * (seenOf(names, r) ?? nowSeconds)),
    });
    markTLSEnforcement(model.gateways, options.tlsTermination);
    const served = chooseGateway(model, options.gateway);
    // Addresses are asked per Gateway: found by key, not by a scan each.
    const gatewayByKey = gatewaysByKey(model.gateways);
    const status = buildStatus(model, {
      addresses: (key) => addressesOf(gatewayByKey.get(key)!, key === served.key ? options.addresses : undefined),
      now,
      previous: previous?.status,
      supportedFeatures: [...SUPPORTED_FEATURES],
    });
    const issues = [...loaded.issues, ...findWarnings(model, loaded.resources, backendKeys), ...optionWarnings];
    const serving = buildServing(served, model.routes, model.backendTLSPolicies);
    const record: FirstSeen = { names, seconds: before === undefined ? nowSeconds : undefined };
    return { seen: record, issues, gatewayKey: served.key, status, serving, model };
  };

  let current = guarded(() => build(options.manifests));
  return {
    get status() {
      return current.status;
    },
    get issues() {
      return current.issues;
    },
    get gatewayKey() {
      return current.gatewayKey;
    },
    get ir() {
      return current.ir;
    },
    get serving() {
      return current.serving;
    },
    route(request) {
      return routeRequest(current.runtime, request);
    },
    explain(request) {
      return explainRequest(current.runtime, request);
    },
    inject(request) {
      const d = routeRequest(current.runtime, request);
      if (d.type !== 'forward') return null;
      const r = d.request;
      const headers: Record<string, string | string[]> = { ...r.headers };
      if (r.host !== undefined) headers.host = r.host;
      return { backend: d.backend, method: r.method, path: r.path, host: r.host, scheme: r.scheme, headers };
    },
    statusOf<K extends StatusObject['kind']>(kind: K, name: string, namespace = 'default') {
      return current.status.items.find((i) => i.kind === kind && i.metadata.name === name && (kind === 'GatewayClass' || i.metadata.namespace === namespace)) as Extract<StatusObject, { kind: K }> | undefined;
    },
    reload(manifests) {
      try {
        current = guarded(() => build(manifests, current));
        manifestsNow = manifests;
        return { ok: true, issues: current.issues };
      } catch (e) {
        return { ok: false, error: e as GatewayError };
      }
    },
    setBackends(keys) {
      const previous = backendKeys;
      backendKeys = new Set(keys);
      try {
        current = guarded(() => build(manifestsNow, current));
      } catch (e) {
        backendKeys = previous;
        throw e;
      }
    },
  };
}

/**
 * Runs a build so that it throws only GatewayErrors: manifests are untrusted input, and an
 * exception from a dependency or a bug must not escape createGateway or reload as anything else
 * (the watcher and reload callers rely on it). The original error is kept as `cause`.
 */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof GatewayError || isGatewayError(e)) throw e;
    throw new GatewayError('GW_ERR_INTERNAL', `Loading the manifests failed unexpectedly: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}. This is a bug in gateway-api-router; please report it with the manifests.`, { cause: e });
  }
}

/**
 * Status addresses: the option for the served Gateway, else the Gateway's own spec.addresses,
 * else 127.0.0.1 for the served Gateway (where an in-process gateway listens by default).
 */
function addressesOf(gw: GatewayModel, given: GatewayOptions['addresses']): { type: string; value: string }[] {
  if (given) return given.map((a) => ({ type: a.type ?? 'IPAddress', value: a.value }));
  const spec = (gw.resource.spec.addresses ?? []).filter((a) => a.value !== undefined).map((a) => ({ type: a.type, value: a.value! }));
  return spec.length > 0 ? spec : [{ type: 'IPAddress', value: '127.0.0.1' }];
}

/**
 * When this process first saw each object of one load, in whole seconds, by kind, namespace and
 * name: the loader's index of the load (no map of its own). After a first build its values are
 * the loader's internal indexes, every object first seen at `seconds`; after a reload they are
 * each object's own time (`seconds` undefined).
 */
interface FirstSeen {
  names: ByObject<number>;
  seconds: number | undefined;
}

/** The first-seen time of `r` in a reload's record (its values are times), or undefined. */
function seenOf(names: ByObject<number>, r: Resource): number | undefined {
  return names.get(r.kind)?.get(r.metadata.namespace ?? '')?.get(r.metadata.name);
}

/**
 * Turns the loader's index of a reload (`names`) into its first-seen record, in place (only the
 * values change): an object of the running record keeps its time, any other is first seen now.
 */
function firstSeenTimes(names: ByObject<number>, before: FirstSeen, nowSeconds: number): void {
  for (const [kind, byNamespace] of names) {
    const kindBefore = before.names.get(kind);
    for (const [namespace, byName] of byNamespace) {
      const namespaceBefore = kindBefore?.get(namespace);
      for (const name of byName.keys()) {
        const was = namespaceBefore?.get(name);
        byName.set(name, was === undefined ? nowSeconds : (before.seconds ?? was));
      }
    }
  }
}

/** A resource's creationTimestamp in ms, else `firstSeen` (when this process first saw it). */
function createdAt(r: Resource, firstSeen: number): number {
  const ts = r.metadata.creationTimestamp;
  if (ts !== undefined) {
    const ms = ts instanceof Date ? ts.getTime() : Date.parse(ts);
    if (!Number.isNaN(ms)) return ms;
  }
  return firstSeen;
}

function chooseGateway(model: Model, wanted: GatewayOptions['gateway']): GatewayModel {
  const list = () => model.gateways.map((g) => g.key).join(', ') || 'none';
  if (wanted) {
    const key = `${wanted.namespace ?? 'default'}/${wanted.name}`;
    const found = model.gateways.find((g) => g.key === key);
    if (found) return found;
    const foreign = model.foreignGateways.find((g) => g.key === key);
    if (foreign) {
      throw new GatewayError('GW_ERR_GATEWAY_NOT_OURS', `Gateway ${key} is not served by this controller (${model.controllerName}): ${foreign.reason}. Set the option controllerName to the class's controllerName, or remove the GatewayClass from the manifests.`);
    }
    throw new GatewayError('GW_ERR_GATEWAY_NOT_FOUND', `Gateway ${key} is not in the manifests. Gateways found: ${list()}.`);
  }
  if (model.gateways.length === 1) return model.gateways[0]!;
  if (model.gateways.length === 0) {
    const foreign = model.foreignGateways.map((g) => `${g.key} (${g.reason})`).join('; ');
    throw new GatewayError('GW_ERR_GATEWAY_NOT_FOUND', `The manifests contain no Gateway this controller serves${foreign ? `; skipped: ${foreign}` : ''}.`);
  }
  throw new GatewayError('GW_ERR_GATEWAY_AMBIGUOUS', `The manifests contain ${model.gateways.length} Gateways: ${list()}. Choose one with the option gateway: { namespace, name }.`);
}
