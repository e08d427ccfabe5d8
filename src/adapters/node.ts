/**
 * gateway-api-router/node: serve a Gateway from a `node:http` or `node:https` server.
 *
 *   import { createHandler } from 'gateway-api-router/node';
 *   http.createServer(createHandler({ manifests, backends: { 'details:9080': handler } })).listen(8080);
 *
 * A decision is applied to the real request: forwarded to an in-process handler or proxied to
 * an upstream URL, redirected, or answered by the gateway itself (404, 500, 503...).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import { createGateway, kWrapperOptions, type GatewayOptions, type GatewayRouter } from '../gateway/create.js';
import { GatewayError } from '../errors.js';
import type { Decision, ForwardDecision, RouteRequest } from '../types.js';
import { sendAnswer, sendError, type ErrorInfo, type Outgoing } from './respond.js';
import { createMirrors, DEFAULT_MIRROR_BODY_BYTES, type MirrorStats } from './protocols/mirror.js';
import { liveH2Origins } from './protocols/h2.js';
import { DEFAULT_BUFFERED_BODY_BYTES, DEFAULT_RETRY_BODY_BYTES, type BodyBudget } from './protocols/retry.js';
import { routeUpgrade, type UpgradeOptions, type UpgradeRouter } from './protocols/upgrade.js';
import { hostOf, listenerPortOf } from './serving/http2.js';
import { serveInProcess, type BackendHandler } from './serving/in-process.js';
import { watchManifests, type OnReload } from './serving/manifest-watch.js';
import { forwardUpstream, upstreamTarget, type UpstreamForwarder } from './upstream/forward.js';
import { stallLimitsOf, Upstreams, validateLimits, type UpstreamLimits, type UpstreamOptions } from './upstream/pool.js';

/** A backend: an in-process handler, an upstream URL, or upstream options. */
export type BackendSpec = BackendHandler | string | UpstreamOptions;

/** Options every adapter shares, on top of createGateway's (or an existing `router`). */
export interface AdapterOptions {
  /**
   * Backends keyed `name`, `name:port` or `namespace/name:port`: a handler, `'http://host:port'`,
   * or `{ url, ...options }`. A registered backend counts as resolved even without a Service.
   */
  backends?: Record<string, BackendSpec>;
  /**
   * A manifest file or directory to watch: the gateway reloads when it changes, including the
   * `..data` symlink swap Kubernetes performs for ConfigMap volumes. Default: none.
   */
  watch?: string;
  /** The listener port this server stands for. Default: none, so listeners on every port are candidates. */
  port?: number;
  /**
   * Limits for every URL backend (a backend's own `{ url, ... }` fields override them): pool
   * size and queue bound per origin, headers and body timeouts, slow-client bounds. Defaults:
   * `{ connections: 128, maxQueued: 256, headersTimeout: 15000, bodyTimeout: 15000, clientTimeout: 30000, http2ClientReadTimeout: 300000, responseBuffer: 262144 }`.
   */
  upstream?: UpstreamLimits;
  /** The most mirror requests in flight at once; more are dropped. Default 64. */
  maxMirrorsInFlight?: number;
  /** Largest request body a mirror copy carries, in bytes; a larger one skips the mirror (counted). Default 262,144. */
  maxMirrorBodyBytes?: number;
  /** Largest request body kept to replay on a retry, in bytes; a larger one is sent once, unretried. Default 65,536. */
  maxRetryBodyBytes?: number;
  /**
   * Bytes of request bodies held in memory at once for retries and mirrors, all requests
   * together; past it a body is sent once, unretried, and a mirror copy is skipped (counted in
   * `mirrorStats.skipped`). Default 67,108,864 (64 MiB).
   */
  maxBufferedBodyBytes?: number;
  /** Proxied upgrades (WebSocket): handshake and idle timeouts; for Express and Fastify, whether to wire the server's upgrade event. */
  upgrade?: UpgradeOptions;
  /**
   * Called with the detail (`{ status, reason, message, error? }`) when the gateway answers a
   * 5xx itself: an upstream failed, an in-process handler threw, no backend is registered. The
   * client only sees the status text and reason code. Default: none (Fastify: `request.log.error`).
   */
  onError?: (info: ErrorInfo) => void;
  /**
   * Put the detail message (upstream origin, error code, exception text) in the gateway's own
   * error bodies. For development only. Default false: `503 Service Unavailable: upstream-refused`.
   */
  exposeErrors?: boolean;
  /** Called after each reload triggered by `watch`. */
  onReload?: OnReload;
}

/** Every adapter option, known to createGateway's unknown-option check (TypeScript keeps the list complete). */
const ADAPTER_OPTION_NAMES = Object.keys({
  backends: true,
  watch: true,
  port: true,
  maxMirrorsInFlight: true,
  maxMirrorBodyBytes: true,
  maxRetryBodyBytes: true,
  maxBufferedBodyBytes: true,
  upgrade: true,
  onError: true,
  onReload: true,
  upstream: true,
  exposeErrors: true,
} satisfies Record<keyof AdapterOptions, true>);

/**
 * Internal: the drain bound of the handler's upstream connections, in ms (pools, TLS Agents and
 * HTTP/2 sessions closed by close() or retired by a reload). listen() passes its `drainTimeout`
 * here, so that one setting bounds the client side and the backend side; default DRAIN_MS.
 */
export const kDrainTimeout = Symbol('gateway-api-router.drainTimeout');
export type Drained = { [kDrainTimeout]?: number };

/** What an adapter built on createHandler (Express, Fastify) adds: its name and its own option names. */
type Wrapped = { [kWrapperOptions]?: { fn: string; names: readonly string[] } };

/** Options of createHandler: createGateway's options plus the adapter's, or an existing router. */
export type HandlerOptions = (GatewayOptions | { router: GatewayRouter }) & AdapterOptions;

/** What createHandler returns: a `(req, res)` handler that also exposes the gateway. */
export interface GatewayHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** The same handler on `node:http2` servers (secure with `allowHTTP1`, or h2c): `:authority` is the host. */
  (req: Http2ServerRequest, res: Http2ServerResponse): void;
  /**
   * Routes an HTTP/1.1 upgrade request (WebSocket) through the same decision:
   * `server.on('upgrade', handler.upgrade)`. Bound: pass it as is.
   */
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** The gateway (route, explain, status, reload). */
  readonly router: GatewayRouter;
  /**
   * Applies a decision (as from `router.route`) to a request; `onUnmatched` replaces the 404s
   * when given; `onError` replaces the option's for this request (a per-request logger).
   */
  handle(req: IncomingMessage, res: ServerResponse, onUnmatched?: (decision: Decision) => void, onError?: (info: ErrorInfo) => void, next?: (error: unknown) => void): Decision;
  /** Mirror requests in flight, dropped (no backend, too many in flight) and skipped (body over maxMirrorBodyBytes, or maxBufferedBodyBytes held) so far. */
  readonly mirrorStats: MirrorStats;
  /** Stops watching files and closes the upstream connection pools and HTTP/2 sessions this handler owns. */
  close(): void;
}

/**
 * Creates a `(req, res)` handler that routes every request through the Gateway.
 * @throws GatewayConfigError / GatewayError as createGateway does; GW_ERR_OPTIONS_INVALID for bad adapter options.
 */
export function createHandler(options: HandlerOptions): GatewayHandler {
  // URL strings become option objects once, so per-request work (URL parsing, pools) is cached.
  const limits = validateUpstream(options.upstream);
  const backends = Object.fromEntries(Object.entries(validateBackends(options.backends)).map(([k, v]) => [k, typeof v === 'string' ? { url: v } : v])) as Record<string, BackendHandler | UpstreamOptions>;
  const router = 'router' in options && options.router ? options.router : createGateway({ ...(options as GatewayOptions), backends: options.backends ?? {}, [kWrapperOptions]: wrapperOptions(options as Wrapped, 'createHandler', ADAPTER_OPTION_NAMES) } as GatewayOptions);
  // A reload retires the HTTP/2 sessions to origins it no longer reaches over HTTP/2.
  const upstreams = new Upstreams(limits, (options as Drained)[kDrainTimeout], () => liveH2Origins(router.ir, (k) => backends[k]));
  if ('router' in options && options.router && options.backends) router.setBackends(Object.keys(options.backends));
  const baseOut: Outgoing = { ...(options.onError ? { onError: options.onError } : {}), exposeErrors: options.exposeErrors === true };
  // One budget for the bodies that retries and mirrors keep, over every request in flight.
  const bodyBudget: BodyBudget = { used: 0, limit: options.maxBufferedBodyBytes ?? DEFAULT_BUFFERED_BODY_BYTES };
  const mirrors = createMirrors(backends, (m, spec) => upstreamTarget(upstream, m, spec), { maxInFlight: options.maxMirrorsInFlight ?? 64, maxBodyBytes: options.maxMirrorBodyBytes ?? DEFAULT_MIRROR_BODY_BYTES, budget: bodyBudget });
  const maxRetry = options.maxRetryBodyBytes ?? DEFAULT_RETRY_BODY_BYTES;
  // In-process handlers' responses are bounded as proxied ones are, by the adapter-wide limits.
  const stall = stallLimitsOf(limits.clientTimeout, limits.http2ClientReadTimeout);
  // A reload retires the upstream connections made under TLS settings it replaced (upstream/pool.ts follow()).
  const followServing = (): void => upstreams.follow(router.serving);
  const onReload = options.onReload;
  const onWatchReload: OnReload = (r) => {
    followServing();
    onReload?.(r);
  };
  const watcher = options.watch !== undefined ? watchManifests(router, options.watch, onWatchReload) : null;
  const route = (req: IncomingMessage): Decision => router.route(toRouteRequest(req, options.port));
  const backendOf = (d: ForwardDecision): BackendHandler | UpstreamOptions | undefined => (d.registered !== undefined ? backends[d.registered] : undefined);
  const upstream: UpstreamForwarder = { router, upstreams, backendOf, route, maxRetryBodyBytes: maxRetry, bodyBudget };

  const handle = (req: IncomingMessage, res: ServerResponse, onUnmatched?: (decision: Decision) => void, onError?: (info: ErrorInfo) => void, next?: (error: unknown) => void): Decision => {
    const d = route(req);
    const out = onError ? { ...baseOut, onError } : baseOut;
    if (d.type === 'forward') {
      forward(req, res, d, out, next);
    } else if (onUnmatched && d.type === 'respond' && (d.reason === 'no-route' || d.reason === 'no-listener')) {
      onUnmatched(d);
    } else {
      sendAnswer(res, d, out);
    }
    return d;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, d: ForwardDecision, out: Outgoing, next?: (error: unknown) => void): void => {
    // A response that fails after the gateway answered must never crash the process.
    res.on('error', ignore);
    if (isBodyConsumed(req)) {
      // A body parser ran first: the body is gone, and forwarding would send an empty one.
      const e = new GatewayError('GW_ERR_BODY_CONSUMED', `The request body of ${req.method} ${req.url} was read before the gateway (a body parser such as express.json() runs first); forwarding it would send an empty body. Register the gateway before body parsers, or scope the parsers to your own routes.`);
      if (next) next(e);
      else sendError(res, 500, 'body-consumed', e.message, out, {}, e);
      return;
    }
    const spec = backendOf(d);
    if (spec === undefined) {
      sendError(res, 503, 'no-endpoints', `no backend is registered for ${d.backend.namespace}/${d.backend.name}:${d.backend.port ?? ''}; add it to the option backends`, out);
      return;
    }
    mirrors.send(req, d.mirrors);
    if (typeof spec === 'function') serveInProcess(req, res, d, spec, out, stall, next);
    else forwardUpstream(upstream, req, res, d, spec, out);
  };

  const upgrader: UpgradeRouter = { route, backendOf, prepare: (spec) => upstreams.prepare(spec), serving: () => router.serving, out: baseOut, options: options.upgrade };
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => routeUpgrade(upgrader, req, socket, head);

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    handle(req, res);
  }) as GatewayHandler;
  Object.defineProperties(handler, {
    router: { value: router, enumerable: true },
    handle: { value: handle },
    upgrade: { value: upgrade, enumerable: true },
    mirrorStats: { get: () => ({ ...mirrors.stats }) },
    [kFollowServing]: { value: followServing },
    close: {
      value: () => {
        watcher?.close();
        upstreams.close();
      },
    },
  });
  return handler;
}

function ignore(): void {}

/**
 * Internal: a handler's method that retires its upstream connections made under TLS settings the
 * router's current serving plan replaced. listen() calls it after each reload it applies; other
 * reloads are followed at the handler's next upstream request.
 */
export const kFollowServing = Symbol('gateway-api-router.followServing');

/** Tells `handler` the router's serving plan may have changed (see kFollowServing). */
export function followServing(handler: GatewayHandler): void {
  (handler as unknown as { [kFollowServing]?: () => void })[kFollowServing]?.();
}

/** True when the request has a body and something (a body parser) already read it. */
function isBodyConsumed(req: IncomingMessage): boolean {
  const h = req.headers;
  const hasBody = h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
  return hasBody && (req.readableEnded || (req as { _body?: unknown })._body === true);
}

/**
 * The option names a wrapper accepts on top of createGateway's: this adapter's, plus those of the
 * adapter built on it (`outer`). Internal; lets createGateway warn about unknown option names.
 */
function wrapperOptions(options: Wrapped, fn: string, names: readonly string[]): { fn: string; names: readonly string[] } {
  const outer = options[kWrapperOptions];
  return { fn: outer?.fn ?? fn, names: [...names, ...(outer?.names ?? [])] };
}

/** Internal: `options` marked as given to adapter `fn`, which also accepts `names` (Express, Fastify). */
export function asWrapperOptions<T extends object>(options: T, fn: string, names: readonly string[]): T {
  return Object.assign({ ...options }, { [kWrapperOptions]: { fn, names } });
}

/** The RouteRequest for a node request: method, url, Host, headers, scheme, port, SNI. */
export function toRouteRequest(req: IncomingMessage, port?: number): RouteRequest {
  const socket = req.socket as (IncomingMessage['socket'] & { encrypted?: boolean; servername?: string | false }) | null;
  if (port === undefined) port = listenerPortOf(req);
  const encrypted = socket?.encrypted === true;
  const host = hostOf(req);
  const rr: RouteRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, scheme: encrypted ? 'https' : 'http' };
  if (host !== undefined) rr.host = host;
  if (port !== undefined) rr.port = port;
  if (encrypted && typeof socket?.servername === 'string') rr.sni = socket.servername;
  return rr;
}

const failOption = (msg: string): never => {
  throw new GatewayError('GW_ERR_OPTIONS_INVALID', msg);
};

function validateUpstream(limits: UpstreamLimits | undefined): UpstreamLimits {
  if (limits === undefined) return {};
  if (typeof limits !== 'object' || limits === null) failOption(`The option upstream must be an object of limits, got ${JSON.stringify(limits)}.`);
  validateLimits('upstream', limits, failOption);
  return limits;
}

function validateBackends(backends: AdapterOptions['backends']): Record<string, BackendSpec> {
  const fail = failOption;
  if (backends === undefined) return {};
  if (typeof backends !== 'object' || backends === null) fail('The option backends must be an object keyed by backend reference (name, name:port or namespace/name:port).');
  for (const [k, v] of Object.entries(backends)) {
    if (!/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?$/.test(k)) fail(`The option backends has the key '${k}'; use 'name', 'name:port' or 'namespace/name:port'.`);
    const url = typeof v === 'string' ? v : typeof v === 'object' && v !== null ? (v as UpstreamOptions).url : undefined;
    if (typeof v !== 'function' && (typeof url !== 'string' || !/^https?:\/\//.test(url))) {
      fail(`The option backends['${k}'] must be a handler (req, res) => void, a URL such as 'http://127.0.0.1:9080', or { url, ... }; got ${JSON.stringify(v)}.`);
    }
    if (typeof v === 'object' && v !== null) validateLimits(`backends['${k}']`, v as UpstreamOptions, fail);
  }
  return backends;
}

export { socketListenerPorts } from './serving/http2.js';
export { manifestFilesOf, readManifestPath, watchManifests } from './serving/manifest-watch.js';
export type { BackendHandler, ErrorInfo, UpstreamLimits, UpstreamOptions };
