/**
 * Proxying a forward decision to an upstream URL with undici: bodies streamed both ways (never
 * buffered), hop-by-hop headers stripped, X-Forwarded-* set, timeouts answered 504, a refused
 * connection 503, other upstream failures 502, and a client abort aborting the upstream request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { Agent, Pool, buildConnector, type Dispatcher } from 'undici';
import type { BackendTLS, Certificate } from '../gateway/serving.js';
import type { ForwardDecision } from '../types.js';
import { finalizeHeaders, sendError, type Outgoing } from './respond.js';

/**
 * Bounds on proxied traffic, so that neither a slow upstream nor a slow client can hold every
 * connection. The adapter option `upstream` sets them for every URL backend; a backend given as
 * `{ url, ... }` overrides them. `connections` and `maxQueued` belong to the origin's pool: the
 * first backend seen for an origin sets them.
 */
export interface UpstreamLimits {
  /** Connections per upstream origin. Default 128. */
  connections?: number;
  /** Requests per origin that may wait for a connection; beyond that a request gets 503 (`upstream-overloaded`) at once. Default 256. */
  maxQueued?: number;
  /** Milliseconds to wait for the response headers. 0 disables. Default 15,000 (Envoy's default route timeout). The rule's `timeouts` replace it when set. */
  headersTimeout?: number;
  /** Milliseconds the upstream may stay silent between body chunks. 0 disables (e.g. for long-lived event streams). Default 15,000. The rule's `timeouts` replace it when set. */
  bodyTimeout?: number;
  /** Milliseconds a client may stall (not sending its request body, not reading the response) before the exchange is cut and the upstream connection freed. 0 disables. Default 30,000. */
  clientTimeout?: number;
  /** Bytes of response held for a client that reads slowly, so a response up to this size frees its upstream connection at once. Default 256 KiB. */
  responseBuffer?: number;
}

/** A backend reached over HTTP. */
export interface UpstreamOptions extends UpstreamLimits {
  /** Base URL, e.g. `http://127.0.0.1:9080`. A path in it prefixes the request path. */
  url: string;
  /** The undici dispatcher to use (connection pool). Default: one pool per origin, shared by the handler's backends. */
  dispatcher?: Dispatcher;
}

/** The defaults of {@link UpstreamLimits}. */
export const UPSTREAM_DEFAULTS: Required<UpstreamLimits> = { connections: 128, maxQueued: 256, headersTimeout: 15_000, bodyTimeout: 15_000, clientTimeout: 30_000, responseBuffer: 256 * 1024 };

/** Hop-by-hop headers (RFC 9110 section 7.6.1), never forwarded in either direction. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings']);

export function stripHopByHop(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const listed = new Set<string>();
  const conn = headers.connection;
  for (const v of Array.isArray(conn) ? conn : conn ? [conn] : []) for (const t of v.split(',')) listed.add(t.trim().toLowerCase());
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const key = k.toLowerCase();
    if (HOP_BY_HOP.has(key) || listed.has(key)) continue;
    out[key] = v;
  }
  return out;
}

/** Maps an upstream failure to the answer: 504 timeouts, 503 refused, 502 otherwise. */
export function upstreamFailure(err: unknown): { status: number; reason: string } {
  const e = err as { code?: string; name?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? e?.name;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'TimeoutError' || code === 'GW_TIMEOUT') {
    return { status: 504, reason: 'upstream-timeout' };
  }
  if (code === 'ECONNREFUSED') return { status: 503, reason: 'upstream-refused' };
  return { status: 502, reason: 'upstream-failure' };
}

/**
 * Proxies the request. Never throws: failures are answered (504, 503, 502) or, once the upstream
 * response has started, cut the client connection. The client closing the connection aborts the
 * upstream request; `requestTimeout` (the rule's timeouts.request) answers 504 and aborts it too.
 */
export function proxy(req: IncomingMessage, res: ServerResponse, d: ForwardDecision, target: PreparedUpstream, out: Outgoing, requestTimeout?: number): void {
  const origin = target.state;
  if (origin.active >= origin.limit) {
    // The pool's queue is full: answer now rather than wait behind it (a bounded queue).
    sendError(res, 503, 'upstream-overloaded', `upstream ${target.origin} has ${origin.active} requests in flight or queued (connections + maxQueued = ${origin.limit})`, out);
    return;
  }
  origin.active++;
  const x = new Exchange(req, res, d, target, out);
  res.on('close', () => x.clientClosed());
  if (requestTimeout) {
    x.requestTimer = setTimeout(() => {
      if (!res.headersSent) sendError(res, 504, 'request-timeout', `no complete response within the route's request timeout of ${requestTimeout} ms`, out);
      x.cancel(Object.assign(new Error(`request timeout ${requestTimeout} ms`), { code: 'GW_TIMEOUT' }));
    }, requestTimeout);
    x.requestTimer.unref();
  }
  const backendTimeout = d.timeouts?.backendRequest;
  if (backendTimeout) {
    x.backendTimer = setTimeout(() => x.cancel(Object.assign(new Error(`timed out after ${backendTimeout} ms`), { code: 'GW_TIMEOUT' })), backendTimeout);
    x.backendTimer.unref();
  }
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  if (hasBody) x.watchClient();
  // A rule with timeouts governs the whole exchange; otherwise the upstream's own bounds apply.
  const ruled = d.timeouts !== undefined && (d.timeouts.request !== undefined || d.timeouts.backendRequest !== undefined);
  // The dispatcher's own handler API: the upstream body is written straight into the response
  // with backpressure, and nothing per request beyond this handler (no promise, no AbortSignal,
  // no URL parsing for ordinary paths).
  try {
    target.dispatcher.dispatch(
      {
        origin: target.origin,
        path: upstreamPath(target, d.request.path),
        method: d.request.method as Dispatcher.HttpMethod,
        headers: upstreamHeaders(d, req) as string[], // undici accepts array values too (repeated header lines)
        body: hasBody ? req : null,
        headersTimeout: ruled ? 0 : target.headersTimeout,
        bodyTimeout: ruled ? 0 : target.bodyTimeout,
      },
      x,
    );
  } catch (err) {
    x.onResponseError(null, err as Error); // a path or header undici refuses (set by an extension filter): 502
  }
}

/** One proxied exchange: the undici dispatch handler writing the upstream response into `res`. */
class Exchange implements Dispatcher.DispatchHandler {
  controller: Dispatcher.DispatchController | null = null;
  /** Why the gateway cancelled the exchange (client gone, a timeout); null while it runs. */
  cancelled: Error | null = null;
  clientGone = false;
  done = false;
  requestTimer: NodeJS.Timeout | undefined = undefined;
  backendTimer: NodeJS.Timeout | undefined = undefined;
  /** Polls the client's progress while the exchange waits on the client (see watchClient). */
  clientTimer: NodeJS.Timeout | undefined = undefined;
  /** True while the upstream is paused because the client does not read. */
  pausedForClient = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly d: ForwardDecision,
    readonly target: PreparedUpstream,
    readonly out: Outgoing,
  ) {}

  /** Aborts the upstream request (now, or as soon as it is dispatched). */
  cancel(reason: Error): void {
    if (this.done || this.cancelled !== null) return;
    this.cancelled = reason;
    this.controller?.abort(reason);
  }

  clientClosed(): void {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.cancel(Object.assign(new Error('the client closed the connection'), { name: 'AbortError' }));
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.target.state.active--;
    if (this.requestTimer !== undefined) clearTimeout(this.requestTimer);
    if (this.backendTimer !== undefined) clearTimeout(this.backendTimer);
    if (this.clientTimer !== undefined) clearInterval(this.clientTimer);
  }

  /**
   * Cuts the exchange when the client stalls for `clientTimeout` while the exchange waits on it:
   * a request body that stops arriving while the upstream reads it, or a response the client
   * stops reading once `responseBuffer` is full. Progress is the socket's byte counts, polled
   * (a second 'data' listener would change how the body flows).
   */
  watchClient(): void {
    const ms = this.target.clientTimeout;
    const socket = this.res.socket;
    if (this.clientTimer !== undefined || ms <= 0 || !socket || this.done) return;
    let last = -1;
    let idle = 0;
    this.clientTimer = setInterval(() => {
      const req = this.req;
      const waiting = this.pausedForClient || (req.readableFlowing === true && !req.complete && !req.readableEnded);
      const progress = socket.bytesRead + socket.bytesWritten;
      if (!waiting || progress !== last) {
        last = progress;
        idle = 0;
        return;
      }
      if (++idle < 2) return;
      const res = this.res;
      this.clientGone = true;
      this.cancel(Object.assign(new Error(`the client stalled for ${ms} ms`), { code: 'GW_CLIENT_TIMEOUT' }));
      if (!res.headersSent) {
        res.once('finish', () => res.destroy());
        sendError(res, 408, 'client-timeout', `the client sent nothing for ${ms} ms while the upstream waited for its request body`, this.out, { connection: 'close' });
      } else {
        res.destroy();
      }
    }, ms / 2);
    this.clientTimer.unref();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cancelled !== null) controller.abort(this.cancelled);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // interim responses (103 Early Hints...) are not forwarded
    const d = this.d;
    const h = responseHeaders(headers);
    // One writeHead with the whole map: no per-header setHeader bookkeeping.
    this.res.writeHead(statusCode, d.responseHeaders.length === 0 && d.session === undefined ? h : finalizeHeaders(h, d, this.out));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const res = this.res;
    // Up to responseBuffer bytes are held for a slow client, so small responses free the
    // upstream connection at once; beyond that the upstream waits, and watchClient bounds it.
    if (!res.write(chunk) && res.writableLength > this.target.responseBuffer && !this.pausedForClient) {
      controller.pause();
      this.pausedForClient = true;
      this.watchClient();
      res.once('drain', () => {
        this.pausedForClient = false;
        controller.resume();
      });
    }
  }

  onResponseEnd(): void {
    this.finish();
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    this.finish();
    if (this.clientGone) return; // the client left: nothing to answer
    const res = this.res;
    if (res.headersSent) {
      res.destroy(err);
      return;
    }
    const f = upstreamFailure(this.cancelled ?? err);
    sendError(res, f.status, f.reason, `upstream ${this.target.origin} for ${this.d.backend.namespace}/${this.d.backend.name}: ${describeError(err)}`, this.out, {}, err);
  }
}

/**
 * The request target sent upstream: the upstream's base path plus the decision's path, as is.
 * The path was normalised once, before matching (match/normalize.ts); resolving it again here
 * (as `new URL(path, base)` would) could reach another path, or with `//host/x` another host.
 * The origin is always the configured one: it is passed to undici apart from the path.
 */
export function upstreamPath(target: PreparedUpstream, path: string): string {
  return target.basePath + path;
}

/** The upstream response headers without hop-by-hop ones (keys are lower-case, as undici parses them). */
function responseHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const conn = headers.connection;
  const listed = conn === undefined ? null : connectionTokens(conn);
  const out: Record<string, string | string[]> = {};
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || HOP_BY_HOP.has(k) || (listed !== null && listed.includes(k))) continue;
    out[k] = v;
  }
  return out;
}

/** The header names a Connection header lists beyond the standard hop-by-hop ones; null when none. */
function connectionTokens(conn: string | string[]): string[] | null {
  let listed: string[] | null = null;
  for (const t of (Array.isArray(conn) ? conn.join(',') : conn).split(',')) {
    const k = t.trim().toLowerCase();
    if (k !== '' && !HOP_BY_HOP.has(k)) (listed ??= []).push(k);
  }
  return listed;
}

/** The shared state of one upstream origin: its pool and the requests in flight or queued on it. */
interface OriginState {
  pool: Pool;
  active: number;
  /** connections + maxQueued: more requests in flight get 503 at once. */
  limit: number;
}

/** An upstream as requests use it: origin, base path, pool and limits, resolved once. */
export interface PreparedUpstream {
  origin: string;
  basePath: string;
  dispatcher: Dispatcher;
  headersTimeout: number;
  bodyTimeout: number;
  clientTimeout: number;
  responseBuffer: number;
  state: OriginState;
}

/** The upstreams of one adapter instance: one pool per origin, with the limits applied. */
export class Upstreams {
  private readonly origins = new Map<string, OriginState>();
  private readonly cache = new WeakMap<UpstreamOptions, PreparedUpstream>();
  constructor(private readonly defaults: UpstreamLimits = {}) {}

  /** The parsed form of an upstream, computed once per options object. */
  prepare(upstream: UpstreamOptions): PreparedUpstream {
    let p = this.cache.get(upstream);
    if (p) return p;
    const limit = <K extends keyof UpstreamLimits>(k: K): number => upstream[k] ?? this.defaults[k] ?? UPSTREAM_DEFAULTS[k];
    const base = new URL(upstream.url);
    let state = this.origins.get(base.origin);
    if (!state) {
      const connections = limit('connections');
      state = { pool: new Pool(base.origin, { keepAliveTimeout: 10_000, connections }), active: 0, limit: connections + limit('maxQueued') };
      this.origins.set(base.origin, state);
    }
    p = {
      origin: base.origin,
      basePath: base.pathname === '/' ? '' : base.pathname.replace(/\/$/, ''),
      dispatcher: upstream.dispatcher ?? state.pool,
      headersTimeout: limit('headersTimeout'),
      bodyTimeout: limit('bodyTimeout'),
      clientTimeout: limit('clientTimeout'),
      responseBuffer: limit('responseBuffer'),
      state,
    };
    this.cache.set(upstream, p);
    return p;
  }

  /** Closes the pools (idle connections at once, busy ones when their request ends). */
  close(): void {
    for (const o of this.origins.values()) o.pool.close().catch(() => {});
    this.origins.clear();
  }
}

/** Checks limit options: each a non-negative integer (connections at least 1). */
export function validateLimits(where: string, limits: UpstreamLimits, fail: (msg: string) => never): void {
  for (const k of Object.keys(UPSTREAM_DEFAULTS) as (keyof UpstreamLimits)[]) {
    const v = limits[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < (k === 'connections' ? 1 : 0)) fail(`The option ${where}.${k} must be ${k === 'connections' ? 'a positive' : 'a non-negative'} integer, got ${JSON.stringify(v)}.`);
  }
}

/**
 * The headers sent upstream, in one pass, as a flat [name, value, ...] list: hop-by-hop headers
 * dropped, X-Forwarded-For appended, X-Forwarded-Proto and -Host set, and Host as the decision
 * says (unmodified unless URLRewrite set a hostname, HTTPURLRewriteFilter.Hostname).
 */
function upstreamHeaders(d: ForwardDecision, req: IncomingMessage): (string | string[])[] {
  const src = d.request.headers;
  const conn = src.connection;
  const listed = conn === undefined ? null : connectionTokens(conn);
  const out: (string | string[])[] = [];
  for (const k in src) {
    if (HOP_BY_HOP.has(k) || (listed !== null && listed.includes(k)) || k === 'host' || k === 'x-forwarded-for' || k === 'x-forwarded-proto' || k === 'x-forwarded-host') continue;
    out.push(k, src[k]!);
  }
  const prior = src['x-forwarded-for'];
  const client = req.socket?.remoteAddress ?? '';
  out.push('x-forwarded-for', prior === undefined ? client : `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}`);
  out.push('x-forwarded-proto', d.request.scheme);
  const original = req.headers.host;
  if (original !== undefined) out.push('x-forwarded-host', original);
  else if (src['x-forwarded-host'] !== undefined) out.push('x-forwarded-host', src['x-forwarded-host']);
  if (d.request.host !== undefined) out.push('host', d.request.host);
  return out;
}

/** An AbortSignal that fires after `ms` with a reason whose code marks a gateway timeout. */
export function timeoutSignal(ms: number): AbortSignal {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(Object.assign(new Error(`timed out after ${ms} ms`), { code: 'GW_TIMEOUT' })), ms);
  t.unref();
  return ac.signal;
}

function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e?.cause?.code ?? e?.code ?? e?.message ?? String(err);
}

// ---------------------------------------------------------------------------------------------
// BackendTLSPolicy: TLS to the backend, verified as the policy says

const tlsUpstreams = new WeakMap<BackendTLS, WeakMap<UpstreamOptions, UpstreamOptions>>();

/**
 * The upstream options for a backend under a BackendTLSPolicy: its own options with a
 * dispatcher that sends the policy's hostname as SNI and verifies the certificate against the
 * policy's CA bundle (or the system CAs) and its hostname or subjectAltNames, presenting the
 * Gateway's client certificate when it has one. Built once per policy object and upstream (a
 * reload makes new policy objects, so new dispatchers).
 */
export function withBackendTLS(spec: UpstreamOptions, tls: BackendTLS, clientCertificate: Certificate | null): UpstreamOptions {
  let byUpstream = tlsUpstreams.get(tls);
  if (!byUpstream) tlsUpstreams.set(tls, (byUpstream = new WeakMap()));
  let out = byUpstream.get(spec);
  if (!out) {
    const connector = buildConnector({
      ...(tls.ca !== null ? { ca: tls.ca } : {}),
      // GEP-3155: the Gateway's client certificate, for backends that ask for one.
      ...(clientCertificate !== null ? { cert: clientCertificate.cert, key: clientCertificate.key } : {}),
      rejectUnauthorized: true,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => verifyBackendIdentity(tls, cert),
    } as buildConnector.BuildOptions);
    const dispatcher = new Agent({ connections: spec.connections ?? UPSTREAM_DEFAULTS.connections, connect: (opts, cb) => connector({ ...opts, servername: tls.hostname }, cb) });
    byUpstream.set(spec, (out = { ...spec, dispatcher }));
  }
  return out;
}

/** The certificate must name the policy's hostname, or one of its subjectAltNames when it lists any. */
function verifyBackendIdentity(tls: BackendTLS, cert: PeerCertificate): Error | undefined {
  if (tls.subjectAltNames.length === 0) return checkServerIdentity(tls.hostname, cert);
  const sans = (cert.subjectaltname ?? '').split(', ');
  for (const san of tls.subjectAltNames) {
    if (san.type === 'Hostname' && checkServerIdentity(san.value, cert) === undefined) return undefined;
    if (san.type === 'URI' && sans.includes(`URI:${san.value}`)) return undefined;
  }
  return new Error(`the backend certificate names none of the subjectAltNames of BackendTLSPolicy ${tls.policy}`);
}
