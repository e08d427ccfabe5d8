/**
 * Proxying a forward decision to an upstream URL with undici: bodies streamed both ways (never
 * buffered), hop-by-hop headers stripped, X-Forwarded-* set, timeouts answered 504, a refused
 * connection 503, other upstream failures 502, and a client abort aborting the upstream request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import type { ForwardDecision } from '../types.js';
import { finalizeHeaders, sendError, type Outgoing } from './respond.js';

/** A backend reached over HTTP. */
export interface UpstreamOptions {
  /** Base URL, e.g. `http://127.0.0.1:9080`. A path in it prefixes the request path. */
  url: string;
  /** The undici dispatcher to use (connection pool). Default: one Agent per upstream. */
  dispatcher?: Dispatcher;
  /** Milliseconds to wait for the response headers when no route timeout applies. Default 30,000. */
  headersTimeout?: number;
}

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

const pools = new Map<string, Pool>();
/** One connection pool per origin (what an Agent would create for it, without the Agent's lookup per request). */
function poolFor(origin: string): Pool {
  let p = pools.get(origin);
  if (!p) pools.set(origin, (p = new Pool(origin, { keepAliveTimeout: 10_000, connections: 256 })));
  return p;
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
export function proxy(req: IncomingMessage, res: ServerResponse, d: ForwardDecision, upstream: UpstreamOptions, out: Outgoing, requestTimeout?: number): void {
  const target = prepared(upstream);
  const x = new Exchange(res, d, target, out);
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
        headersTimeout: target.headersTimeout,
        bodyTimeout: 0,
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

  constructor(
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
    this.done = true;
    if (this.requestTimer !== undefined) clearTimeout(this.requestTimer);
    if (this.backendTimer !== undefined) clearTimeout(this.backendTimer);
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
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
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
    sendError(res, f.status, f.reason, `upstream ${this.target.origin} for ${this.d.backend.namespace}/${this.d.backend.name}: ${describeError(err)}`, this.out);
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

/** An upstream as requests use it: origin, base path and pool, parsed once. */
export interface PreparedUpstream {
  origin: string;
  basePath: string;
  dispatcher: Dispatcher;
  headersTimeout: number;
}

const preparedCache = new WeakMap<UpstreamOptions, PreparedUpstream>();

/** The parsed form of an upstream, computed once per options object. */
export function prepared(upstream: UpstreamOptions): PreparedUpstream {
  let p = preparedCache.get(upstream);
  if (!p) {
    const base = new URL(upstream.url);
    p = {
      origin: base.origin,
      basePath: base.pathname === '/' ? '' : base.pathname.replace(/\/$/, ''),
      dispatcher: upstream.dispatcher ?? poolFor(base.origin),
      headersTimeout: upstream.headersTimeout ?? 30_000,
    };
    preparedCache.set(upstream, p);
  }
  return p;
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
