/**
 * gateway-api-router/node: serve a Gateway from a `node:http` or `node:https` server.
 *
 *   import { createHandler } from 'gateway-api-router/node';
 *   http.createServer(createHandler({ manifests, backends: { 'details:9080': handler } })).listen(8080);
 *
 * A decision is applied to the real request: forwarded to an in-process handler or proxied to
 * an upstream URL, redirected, or answered by the gateway itself (404, 500, 503...).
 */
import { readFileSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import { dirname, join } from 'node:path';
import { createGateway, kWrapperOptions, type GatewayOptions, type GatewayRouter } from '../gateway/create.js';
import { GatewayError } from '../errors.js';
import type { Decision, ForwardDecision, RouteRequest } from '../types.js';
import type { ManifestFile } from '../resources/load.js';
import { backendTLSFor } from '../gateway/serving.js';
import { proxy, requestHasBody, withBackendTLS, Upstreams, validateLimits, type UpstreamLimits, type UpstreamOptions } from './proxy.js';
import { interceptHead, sendAnswer, sendError, type ErrorInfo, type Outgoing } from './respond.js';
import { isH2cBackend, proxyH2 } from './protocols/h2.js';
import { createMirrors, DEFAULT_MIRROR_BODY_BYTES, type MirrorStats } from './protocols/mirror.js';
import { DEFAULT_RETRY_BODY_BYTES, proxyWithRetries, type AttemptBody, type AttemptHooks } from './protocols/retry.js';
import { answerUpgradeDecision, failUpgrade, proxyUpgrade, type UpgradeHook, type UpgradeOptions } from './protocols/upgrade.js';

/**
 * An in-process backend: a plain node request handler (Express apps work too). To accept
 * upgrades (WebSocket), give it an `upgrade(req, socket, head)` method: upgrade requests routed
 * to it are handed there, after the decision's filters (docs/adapters.md, "WebSocket").
 */
export type BackendHandler = ((req: IncomingMessage, res: ServerResponse) => unknown) & { upgrade?: UpgradeHook };

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
   * `{ connections: 128, maxQueued: 256, headersTimeout: 15000, bodyTimeout: 15000, clientTimeout: 30000, responseBuffer: 262144 }`.
   */
  upstream?: UpstreamLimits;
  /** The most mirror requests in flight at once; more are dropped. Default 64. */
  maxMirrorsInFlight?: number;
  /** Largest request body a mirror copy carries, in bytes; a larger one skips the mirror (counted). Default 262,144. */
  maxMirrorBodyBytes?: number;
  /** Largest request body kept to replay on a retry, in bytes; a larger one is sent once, unretried. Default 65,536. */
  maxRetryBodyBytes?: number;
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
  onReload?: (result: { ok: true } | { ok: false; error: Error }) => void;
}

/** Every adapter option, known to createGateway's unknown-option check (TypeScript keeps the list complete). */
const ADAPTER_OPTION_NAMES = Object.keys({
  backends: true,
  watch: true,
  port: true,
  maxMirrorsInFlight: true,
  maxMirrorBodyBytes: true,
  maxRetryBodyBytes: true,
  upgrade: true,
  onError: true,
  onReload: true,
  upstream: true,
  exposeErrors: true,
} satisfies Record<keyof AdapterOptions, true>);

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
  /** Mirror requests in flight, dropped (no backend, too many in flight) and skipped (body over maxMirrorBodyBytes) so far. */
  readonly mirrorStats: MirrorStats;
  /** Stops watching files and closes the upstream connection pools. */
  close(): void;
}

/**
 * Creates a `(req, res)` handler that routes every request through the Gateway.
 * @throws GatewayConfigError / GatewayError as createGateway does; GW_ERR_OPTIONS_INVALID for bad adapter options.
 */
export function createHandler(options: HandlerOptions): GatewayHandler {
  // URL strings become option objects once, so per-request work (URL parsing, pools) is cached.
  const upstreams = new Upstreams(validateUpstream(options.upstream));
  const backends = Object.fromEntries(Object.entries(validateBackends(options.backends)).map(([k, v]) => [k, typeof v === 'string' ? { url: v } : v])) as Record<string, BackendHandler | UpstreamOptions>;
  const router = 'router' in options && options.router ? options.router : createGateway({ ...(options as GatewayOptions), backends: options.backends ?? {}, [kWrapperOptions]: wrapperOptions(options as Wrapped, 'createHandler', ADAPTER_OPTION_NAMES) } as GatewayOptions);
  if ('router' in options && options.router && options.backends) router.setBackends(Object.keys(options.backends));
  const baseOut: Outgoing = { ...(options.onError ? { onError: options.onError } : {}), exposeErrors: options.exposeErrors === true };
  const mirrors = createMirrors(backends, (spec) => upstreams.prepare(spec), { maxInFlight: options.maxMirrorsInFlight ?? 64, maxBodyBytes: options.maxMirrorBodyBytes ?? DEFAULT_MIRROR_BODY_BYTES });
  const maxRetryBody = options.maxRetryBodyBytes ?? DEFAULT_RETRY_BODY_BYTES;
  const watcher = options.watch !== undefined ? watchManifests(router, options.watch, options.onReload) : null;

  const handle = (req: IncomingMessage, res: ServerResponse, onUnmatched?: (decision: Decision) => void, onError?: (info: ErrorInfo) => void, next?: (error: unknown) => void): Decision => {
    const d = router.route(toRouteRequest(req, options.port));
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
    const spec = d.registered !== undefined ? backends[d.registered] : undefined;
    if (spec === undefined) {
      sendError(res, 503, 'no-endpoints', `no backend is registered for ${d.backend.namespace}/${d.backend.name}:${d.backend.port ?? ''}; add it to the option backends`, out);
      return;
    }
    const requestTimeout = d.timeouts?.request;
    mirrors.send(req, d.mirrors);
    if (typeof spec !== 'function') {
      // Upstream URL: the exchange handles the client abort and the request timeout itself.
      if (d.retry !== undefined) {
        const rr = toRouteRequest(req, options.port);
        proxyWithRetries(req, res, d, {
          hasBody: requestHasBody(req),
          maxBodyBytes: maxRetryBody,
          out,
          // A retry routes the request again: a weighted rule may pick another of its backends.
          repick: () => {
            const again = router.route(rr);
            return again.type === 'forward' && again.route === d.route && again.rule.index === d.rule.index ? again : d;
          },
          run: (dn, body, hooks) => {
            const sn = dn.registered !== undefined ? backends[dn.registered] : undefined;
            return sn === undefined || typeof sn === 'function' ? null : sendUpstream(req, res, dn, sn, out, undefined, body, hooks);
          },
        });
        return;
      }
      sendUpstream(req, res, d, spec, out, requestTimeout, undefined, undefined);
      return;
    }
    if (requestTimeout) {
      const timer = setTimeout(() => {
        if (!res.headersSent) {
          sendError(res, 504, 'request-timeout', `no complete response within the route's request timeout of ${requestTimeout} ms`, out);
          ignoreLateWrites(res);
        }
      }, requestTimeout);
      timer.unref();
      res.once('close', () => clearTimeout(timer));
    }
    applyRequest(req, d);
    interceptHead(res, d, out);
    const backendTimeout = d.timeouts?.backendRequest;
    if (backendTimeout) {
      const t = setTimeout(() => {
        if (!res.headersSent) {
          sendError(res, 504, 'backend-timeout', `the backend did not answer within the route's backendRequest timeout of ${backendTimeout} ms`, out);
          ignoreLateWrites(res);
        }
      }, backendTimeout);
      t.unref();
      res.once('close', () => clearTimeout(t));
    }
    try {
      const r = spec(req, res) as unknown;
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then(undefined, (e: unknown) => (next && !res.headersSent ? next(e) : sendError(res, 500, 'backend-error', `in-process backend ${d.registered} failed: ${(e as Error)?.message ?? String(e)}`, out, {}, e)));
      }
    } catch (e) {
      if (next && !res.headersSent) next(e);
      else sendError(res, 500, 'backend-error', `in-process backend ${d.registered} threw: ${(e as Error)?.message ?? String(e)}`, out, {}, e);
    }
  };

  /** One try to an upstream URL, over HTTP/2 with prior knowledge for h2c backends, else HTTP/1.1. */
  const sendUpstream = (req: IncomingMessage, res: ServerResponse, d: ForwardDecision, spec: UpstreamOptions, out: Outgoing, requestTimeout: number | undefined, body: AttemptBody | undefined, hooks: AttemptHooks | undefined) => {
    const bytes = body === undefined ? undefined : body.kind === 'none' ? null : body.kind === 'buffer' ? body.bytes : body.stream;
    // BackendTLSPolicy: an https upstream is verified as the policy says; plain http would ignore it.
    const tls = backendTLSFor(router.serving, d.backend);
    if (tls !== undefined && !spec.url.startsWith('https:')) {
      sendError(res, 502, 'backend-tls', `BackendTLSPolicy ${tls.policy} applies to ${d.backend.namespace}/${d.backend.name} but its registered URL is not https`, out);
      return { cancel: () => {} };
    }
    const target = upstreams.prepare(tls !== undefined ? withBackendTLS(spec, tls, router.serving.backendClientCertificate) : spec);
    if (isH2cBackend(d, spec)) {
      return proxyH2(req, res, d, target, out, { headersTimeout: target.headersTimeout, hasBody: bytes === undefined ? requestHasBody(req) : bytes !== null, ...(bytes !== undefined ? { body: bytes } : {}), ...(requestTimeout ? { requestTimeout } : {}), ...(hooks ? { attempt: hooks } : {}) });
    }
    return proxy(req, res, d, target, out, requestTimeout, { hooks, ...(bytes !== undefined ? { body: bytes } : {}) });
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // A socket error after the gateway gave up on it must never crash the process.
    socket.on('error', ignore);
    const out = baseOut;
    const d = router.route(toRouteRequest(req, options.port));
    if (d.type !== 'forward') {
      answerUpgradeDecision(socket, d, out);
      return;
    }
    const spec = d.registered !== undefined ? backends[d.registered] : undefined;
    if (spec === undefined) {
      failUpgrade(socket, 503, 'no-endpoints', `no backend is registered for ${d.backend.namespace}/${d.backend.name}:${d.backend.port ?? ''}`, out);
      return;
    }
    if (typeof spec === 'function') {
      if (typeof spec.upgrade !== 'function') {
        failUpgrade(socket, 501, 'upgrade-unsupported', `in-process backend ${d.registered} has no upgrade hook`, out);
        return;
      }
      applyRequest(req, d);
      try {
        spec.upgrade(req, socket, head);
      } catch (e) {
        failUpgrade(socket, 500, 'backend-error', `in-process backend ${d.registered} threw on upgrade: ${(e as Error)?.message ?? String(e)}`, out);
      }
      return;
    }
    proxyUpgrade(req, socket, head, d, upstreams.prepare(spec), out, options.upgrade);
  };

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    handle(req, res);
  }) as GatewayHandler;
  Object.defineProperties(handler, {
    router: { value: router, enumerable: true },
    handle: { value: handle },
    upgrade: { value: upgrade, enumerable: true },
    mirrorStats: { get: () => ({ ...mirrors.stats }) },
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

/**
 * The listener port of each socket `listen()` accepted: a request on such a socket routes on
 * that port when the handler has no `port` option.
 */
export const socketListenerPorts = new WeakMap<object, number>();

/** The RouteRequest for a node request: method, url, Host, headers, scheme, port, SNI. */
export function toRouteRequest(req: IncomingMessage, port?: number): RouteRequest {
  const socket = req.socket as (IncomingMessage['socket'] & { encrypted?: boolean; servername?: string | false }) | null;
  if (port === undefined && socket) port = socketListenerPorts.get(socket);
  const encrypted = socket?.encrypted === true;
  const host = req.headers.host ?? (req.headers[':authority'] as string | undefined);
  const rr: RouteRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, scheme: encrypted ? 'https' : 'http' };
  if (host !== undefined) rr.host = host;
  if (port !== undefined) rr.port = port;
  if (encrypted && typeof socket?.servername === 'string') rr.sni = socket.servername;
  return rr;
}

/**
 * Once the gateway answered 504 for a slow in-process handler, the handler's late answer is
 * dropped: writeHead and setHeader would otherwise throw ERR_HTTP_HEADERS_SENT from the
 * handler's own callback and crash the process.
 */
function ignoreLateWrites(res: ServerResponse): void {
  Object.assign(res, {
    writeHead: () => res,
    setHeader: () => res,
    appendHeader: () => res,
    removeHeader: () => undefined,
    write: () => true,
    end: () => res,
  });
}

/** Presents the request as the backend must receive it (filters applied) to an in-process handler. */
function applyRequest(req: IncomingMessage, d: ForwardDecision): void {
  req.method = d.request.method;
  req.url = d.request.path;
  // Express keeps the first originalUrl it sees: an Express app as the backend must not find the
  // raw path there (what is matched is what is forwarded).
  const r = req as IncomingMessage & { originalUrl?: string };
  if (r.originalUrl !== undefined) r.originalUrl = d.request.path;
  const src = d.request.headers;
  const h2 = req.httpVersionMajor === 2;
  // Unfiltered headers with the Host unchanged are the request's own object: nothing to copy.
  if (src === req.headers && (d.request.host === undefined || (h2 ? src[':authority'] : src.host) === d.request.host)) return;
  const headers: Record<string, string | string[]> = { ...src };
  if (d.request.host !== undefined) {
    if (h2) headers[':authority'] = d.request.host;
    else headers.host = d.request.host;
  }
  // node:http2's compatibility request has a read-only `headers` getter: shadow it on the object.
  if (h2) Object.defineProperty(req, 'headers', { value: headers, writable: true, configurable: true, enumerable: true });
  else req.headers = headers;
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

// ---------------------------------------------------------------------------------------------
// Watching manifests

/**
/**
 * The manifest files a path stands for: the file itself, or every .yaml/.yml/.json file of a
 * directory, sorted, not recursing, ignoring dot entries (`..data`) and route-test files
 * (`*.test.yaml`, docs/testing.md).
 */
export function manifestFilesOf(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => !f.startsWith('.') && /\.(ya?ml|json)$/.test(f) && !/\.test\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

/** Reads a manifest file, or every manifest file of a directory (see manifestFilesOf), each named by its path so that issues point at the right file. */
export function readManifestPath(path: string): ManifestFile[] {
  return manifestFilesOf(path).map((f) => ({ filename: f, text: readFileSync(f, 'utf8') }));
}

/**
 * Reloads `router` whenever `path` changes. The directory is watched, not the file, so that the
 * atomic `..data` symlink swap of a Kubernetes ConfigMap volume is seen too. A failed reload
 * keeps the running table; `onReload` says why.
 */
export function watchManifests(router: GatewayRouter, path: string, onReload?: AdapterOptions['onReload']): { close(): void } {
  const dir = statSync(path).isDirectory() ? path : dirname(path);
  let last = JSON.stringify(safeRead(path));
  let timer: NodeJS.Timeout | undefined;
  // Runs in a timer: nothing may escape it, or the process would die on a bad file.
  const check = () => {
    const files = safeRead(path);
    if (files === null) return; // mid-swap or deleted: keep the running table, try on the next event
    const now = JSON.stringify(files);
    if (now === last) return;
    let result: Parameters<NonNullable<AdapterOptions['onReload']>>[0];
    try {
      const r = router.reload(files);
      if (r.ok) last = now;
      result = r.ok ? { ok: true } : { ok: false, error: r.error };
    } catch (e) {
      result = { ok: false, error: e instanceof GatewayError ? e : new GatewayError('GW_ERR_INTERNAL', `Reloading ${path} failed unexpectedly: ${String(e)}.`, { cause: e }) };
    }
    try {
      onReload?.(result);
    } catch {
      // a throwing onReload callback must not take the server down; the reload itself is done
    }
  };
  // Any event in the directory triggers a debounced re-read; unchanged content is ignored.
  let w: FSWatcher | null = watch(dir, { persistent: false }, () => {
    clearTimeout(timer);
    timer = setTimeout(check, 50);
    timer.unref();
  });
  w.on('error', () => {});
  return {
    close() {
      clearTimeout(timer);
      w?.close();
      w = null;
    },
  };
}

function safeRead(path: string): ManifestFile[] | null {
  try {
    return readManifestPath(path);
  } catch {
    return null;
  }
}

export type { ErrorInfo, UpstreamLimits, UpstreamOptions };
