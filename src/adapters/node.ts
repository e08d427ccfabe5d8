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
import { PassThrough, Readable } from 'node:stream';
import { ServerResponse as NodeServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import type { Dispatcher } from 'undici';
import { createGateway, kWrapperOptions, type GatewayOptions, type GatewayRouter } from '../gateway/create.js';
import { GatewayError } from '../errors.js';
import type { Decision, ForwardDecision, MirrorTarget, RouteRequest } from '../types.js';
import type { ManifestFile } from '../resources/load.js';
import { backendTLSFor } from '../gateway/serving.js';
import { proxy, withBackendTLS, stripHopByHop, timeoutSignal, upstreamPath, Upstreams, validateLimits, type UpstreamLimits, type UpstreamOptions } from './proxy.js';
import { interceptHead, sendAnswer, sendError, type ErrorInfo, type Outgoing } from './respond.js';

/** An in-process backend: a plain node request handler (Express apps work too). */
export type BackendHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

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
  /** The gateway (route, explain, status, reload). */
  readonly router: GatewayRouter;
  /**
   * Applies a decision (as from `router.route`) to a request; `onUnmatched` replaces the 404s
   * when given; `onError` replaces the option's for this request (a per-request logger).
   */
  handle(req: IncomingMessage, res: ServerResponse, onUnmatched?: (decision: Decision) => void, onError?: (info: ErrorInfo) => void, next?: (error: unknown) => void): Decision;
  /** Mirror requests currently in flight and dropped so far. */
  readonly mirrorStats: { inFlight: number; dropped: number };
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
  const maxMirrors = options.maxMirrorsInFlight ?? 64;
  const mirrorStats = { inFlight: 0, dropped: 0 };
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
    if (typeof spec !== 'function') {
      // Upstream URL: the exchange handles the client abort and the request timeout itself.
      let body: PassThrough | null = null;
      if (d.mirrors.length > 0) {
        const copies = teeForMirrors(req, d.mirrors.length);
        for (let i = 0; i < d.mirrors.length; i++) sendMirror(d.mirrors[i]!, copies[i]!);
        body = copies[copies.length - 1]!;
      }
      // BackendTLSPolicy: an https upstream is verified as the policy says; plain http would ignore it.
      const tls = backendTLSFor(router.serving, d.backend);
      if (tls !== undefined && !spec.url.startsWith('https:')) {
        sendError(res, 502, 'backend-tls', `BackendTLSPolicy ${tls.policy} applies to ${d.backend.namespace}/${d.backend.name} but its registered URL is not https`, out);
        return;
      }
      proxy(body ? (Object.assign(body, { headers: req.headers, socket: req.socket }) as unknown as IncomingMessage) : req, res, d, upstreams.prepare(tls !== undefined ? withBackendTLS(spec, tls, router.serving.backendClientCertificate) : spec), out, requestTimeout);
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
    for (let i = 0; i < d.mirrors.length; i++) sendMirror(d.mirrors[i]!, null);
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

  /**
   * Splits the request body into one stream per mirror plus one for the main backend. Mirrors
   * never slow the main request: a mirror that falls 1 MiB behind is cut off.
   */
  const teeForMirrors = (req: IncomingMessage, n: number): PassThrough[] => {
    const main = new PassThrough();
    const copies = Array.from({ length: n }, () => new PassThrough({ highWaterMark: 1 << 20 }));
    req.on('data', (chunk: Buffer) => {
      for (const c of copies) if (!c.destroyed && !c.write(chunk)) c.destroy();
      if (!main.write(chunk)) {
        req.pause();
        main.once('drain', () => req.resume());
      }
    });
    req.on('end', () => {
      for (const c of copies) if (!c.destroyed) c.end();
      main.end();
    });
    req.on('error', (e) => main.destroy(e));
    return [...copies, main];
  };

  const sendMirror = (m: MirrorTarget, body: PassThrough | null): void => {
    const spec = m.registered !== undefined ? backends[m.registered] : undefined;
    if (spec === undefined || mirrorStats.inFlight >= maxMirrors) {
      mirrorStats.dropped++;
      body?.destroy();
      return;
    }
    mirrorStats.inFlight++;
    const done = () => {
      mirrorStats.inFlight--;
    };
    const headers = stripHopByHop(m.request.headers);
    if (typeof spec === 'function') {
      // An in-process mirror gets a detached copy of the request; its answer is discarded.
      const mreq = Object.assign(body ?? Readable.from([]), { method: m.request.method, url: m.request.path, headers: { ...headers, ...(m.request.host ? { host: m.request.host } : {}) }, httpVersion: '1.1', httpVersionMajor: 1, httpVersionMinor: 1, socket: null }) as unknown as IncomingMessage;
      const mres = new NodeServerResponse(mreq);
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        done();
      };
      // A mirror handler that never ends gives its slot back after 30 s.
      setTimeout(finish, 30_000).unref();
      mres.write = () => true;
      mres.end = function end(this: ServerResponse) {
        finish();
        return this;
      } as ServerResponse['end'];
      try {
        const r = spec(mreq, mres) as unknown;
        if (r && typeof (r as Promise<unknown>).then === 'function') (r as Promise<unknown>).then(undefined, finish);
      } catch {
        finish();
      }
      return;
    }
    // Origin and path are given apart: a mirror can only reach its configured origin.
    const target = upstreams.prepare(spec);
    if (m.request.host !== undefined) headers.host = m.request.host;
    const signal = timeoutSignal(30_000);
    const failed = () => {
      body?.destroy();
      done();
    };
    try {
      target.dispatcher
        .request({
          origin: target.origin,
          path: upstreamPath(target, m.request.path),
          method: m.request.method as Dispatcher.HttpMethod,
          headers: headers as Record<string, string>,
          body: body ?? null,
          signal,
        })
        .then((r) => r.body.dump().then(done, done), failed);
    } catch {
      failed();
    }
  };

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    handle(req, res);
  }) as GatewayHandler;
  Object.defineProperties(handler, {
    router: { value: router, enumerable: true },
    handle: { value: handle },
    mirrorStats: { get: () => ({ ...mirrorStats }) },
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
  // Unfiltered headers with the Host unchanged are the request's own object: nothing to copy.
  if (src === req.headers && (d.request.host === undefined || src.host === d.request.host)) return;
  const headers: Record<string, string | string[]> = { ...src };
  if (d.request.host !== undefined) headers.host = d.request.host;
  req.headers = headers;
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
