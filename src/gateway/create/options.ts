/**
 * The options of createGateway: their type (each documented with its default), the list that
 * unknown option names are checked against, and the checks that throw GW_ERR_OPTIONS_INVALID
 * at construction, before any manifest is read. Part of the composition root
 * (gateway/create.ts), which exports them with createGateway.
 */
import { GatewayError } from '../../errors.js';
import { resolveLimits } from '../../resources/parse.js';
import type { ManifestLimits, Manifests } from '../../resources/load.js';
import type { TLSTermination } from '../serving.js';
import type { RoutingOptions } from '../runtime.js';

/** The controllerName this library answers to unless told otherwise. */
export const DEFAULT_CONTROLLER_NAME = 'gateway-api-router.dev/controller';

/** Options of createGateway. */
export interface GatewayOptions extends RoutingOptions {
  /** Manifests: YAML text, objects, or an array mixing both (see loadManifests). Required. */
  manifests: Manifests;
  /** File name reported in issues for YAML text given without one (`{ filename, text }` names its own). Default: none. */
  filename?: string;
  /**
   * What to do with an object the API server would refuse (invalid YAML, a schema or CEL error,
   * a limit exceeded): `'throw'` a GatewayConfigError listing every issue (createGateway; reload
   * returns it), or `'skip'` the object and serve the rest, as `kubectl apply` of a set where one
   * object fails. Skipped objects stay reported in `gw.issues` with severity `error`.
   * Rules a controller would drop (an RE2-invalid regex, an unsupported filter) never throw:
   * they are dropped and the route is marked PartiallyInvalid. Default `'throw'`.
   */
  onInvalid?: 'throw' | 'skip';
  /** Bounds on input size, nesting depth, documents and routes (see ManifestLimits and docs/routing.md, "Security"). Default: each limit's documented default. */
  limits?: ManifestLimits;
  /** Namespace for objects without one, as `kubectl apply -n`. Default `default`. */
  namespace?: string;
  /** The Gateway this process serves. Default: the only Gateway this controller owns. */
  gateway?: { namespace?: string; name: string };
  /**
   * The GatewayClass controllerName this process answers to. When the manifests contain no
   * GatewayClass at all, every gatewayClassName is accepted. Default `gateway-api-router.dev/controller`.
   */
  controllerName?: string;
  /**
   * The clock: stands in for missing `metadata.creationTimestamp`s (objects first seen at the
   * same load share one instant, so `{namespace}/{name}` breaks their ties, as in a cluster
   * where they were applied together) and stamps condition transitions. Default `() => new Date()`.
   */
  now?: () => Date;
  /** Addresses written to the served Gateway's status. Default: its `spec.addresses`, else 127.0.0.1. */
  addresses?: { type?: string; value: string }[];
  /**
   * Backends registered in-process, keyed `name`, `name:port` or `namespace/name:port`. Only the
   * keys matter to the core: a registered backend counts as resolved even without a Service.
   * The adapters give the values meaning. Default: none (Services in the manifests resolve).
   */
  backends?: Record<string, unknown>;
  /**
   * Who terminates TLS for HTTPS and TLS listeners, written to their status as the condition
   * `gateway-api-router.dev/TLSEnforced`: `'listen'` (listen() serves them; it sets this itself)
   * or `'external'` (you declare that a load balancer or the server in front of the handler
   * terminates TLS with the listeners' certificates and client validation). Default: undeclared,
   * so the condition is False: routing works, the listeners' TLS settings are not enforced here.
   */
  tlsTermination?: TLSTermination;
}

/** Every option of createGateway: the list unknown option names are checked against (TypeScript keeps it complete). */
export const OPTION_NAMES = Object.keys({
  manifests: true,
  filename: true,
  namespace: true,
  gateway: true,
  controllerName: true,
  now: true,
  addresses: true,
  backends: true,
  picker: true,
  random: true,
  hostFallthrough: true,
  extensions: true,
  sticky: true,
  mergeSlashes: true,
  escapedSlashes: true,
  tlsTermination: true,
  limits: true,
  onInvalid: true,
} satisfies Record<keyof GatewayOptions, true>);

/** Throws GW_ERR_OPTIONS_INVALID, naming the option, what was given and the fix, for the first bad option. */
export function validateOptions(options: GatewayOptions): void {
  const fail = (msg: string) => {
    throw new GatewayError('GW_ERR_OPTIONS_INVALID', msg);
  };
  if (typeof options !== 'object' || options === null) fail(`createGateway expects an options object, got ${String(options)}.`);
  if (options.manifests === undefined || options.manifests === null) fail('The option manifests is required: pass YAML text, objects, or an array of them.');
  if (options.gateway !== undefined && (typeof options.gateway !== 'object' || typeof options.gateway.name !== 'string')) {
    fail(`The option gateway must be { namespace?, name }, got ${JSON.stringify(options.gateway)}.`);
  }
  if (options.controllerName !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/.test(options.controllerName)) {
    fail(`The option controllerName must look like "example.com/my-controller", got ${JSON.stringify(options.controllerName)}.`);
  }
  resolveLimits(options.limits); // throws for a bad limit before any manifest is read
  if (options.onInvalid !== undefined && options.onInvalid !== 'throw' && options.onInvalid !== 'skip') fail(`The option onInvalid must be 'throw' or 'skip', got ${JSON.stringify(options.onInvalid)}.`);
  if (options.tlsTermination !== undefined && options.tlsTermination !== 'listen' && options.tlsTermination !== 'external') fail(`The option tlsTermination must be 'listen' or 'external', got ${JSON.stringify(options.tlsTermination)}.`);
  if (options.now !== undefined && typeof options.now !== 'function') fail('The option now must be a function returning a Date, e.g. () => new Date(0).');
  if (options.backends !== undefined && (typeof options.backends !== 'object' || options.backends === null)) fail('The option backends must be an object keyed by backend reference.');
  if (options.picker !== undefined && options.picker !== 'random' && options.picker !== 'smooth') fail(`The option picker must be 'random' or 'smooth', got ${JSON.stringify(options.picker)}.`);
  if (options.random !== undefined && typeof options.random !== 'function') fail('The option random must be a function returning a number in [0, 1), e.g. a seeded PRNG.');
  if (options.extensions !== undefined) {
    for (const [k, v] of Object.entries(options.extensions)) {
      if (typeof v !== 'function') fail(`The option extensions['${k}'] must be a function (request, context) => void | { status, headers?, body? }.`);
      if (k.split('/').length !== 3) fail(`The option extensions key '${k}' must be 'group/Kind/name', as the filter's extensionRef names it.`);
    }
  }
  if (options.mergeSlashes !== undefined && typeof options.mergeSlashes !== 'boolean') fail(`The option mergeSlashes must be true or false, got ${JSON.stringify(options.mergeSlashes)}.`);
  if (options.escapedSlashes !== undefined && !['keep', 'decode', 'reject'].includes(options.escapedSlashes)) {
    fail(`The option escapedSlashes must be 'keep', 'decode' or 'reject', got ${JSON.stringify(options.escapedSlashes)}.`);
  }
  const sticky = options.sticky;
  if (sticky !== undefined && typeof sticky !== 'function' && !(typeof sticky === 'object' && sticky !== null && (typeof (sticky as { cookie?: unknown }).cookie === 'string' || typeof (sticky as { header?: unknown }).header === 'string'))) {
    fail(`The option sticky must be { cookie: name }, { header: name } or a function returning the session key, got ${JSON.stringify(sticky)}.`);
  }
}
