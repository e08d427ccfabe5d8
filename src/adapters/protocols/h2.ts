/**
 * HTTP/2 to backends: with prior knowledge (h2c) to `http:` URLs, over TLS with ALPN `h2` to
 * `https:` URLs (verified as the backend's BackendTLSPolicy says). Spoken to Services whose port
 * has `appProtocol: kubernetes.io/h2c` (GEP-1911) or a gRPC hint, to `https:` backends of
 * GRPCRoutes (gRPC is HTTP/2), and to upstreams given `{ url, protocol: 'h2c' }`. One
 * `node:http2` session per origin, TLS settings and handler carries every request to it (HTTP/2
 * multiplexes streams, so the session is the pool; upstream/h2-sessions.ts). Bodies stream both
 * ways and trailers (gRPC's `grpc-status`) pass through.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, type ClientHttp2Session, type IncomingHttpHeaders as H2Headers, type OutgoingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import type * as IR from '../../ir/types.js';
import type { ForwardDecision, RouteRef } from '../../types.js';
import { finalizeHeaders, sendError, type Outgoing } from '../respond.js';
import { answerStalledClient, cutResponse, upstreamFailure, watchClientStall } from '../proxy.js';
import { isHopByHop } from '../upstream/headers.js';
import type { H2Sessions, H2SessionTLS } from '../upstream/h2-sessions.js';
import type { OriginLoad, UpstreamOptions } from '../upstream/pool.js';
import { sendHeadersOnly } from './grpc.js';
import type { AttemptHooks, ExchangeHandle } from './retry.js';

/** Service appProtocols spoken as HTTP/2 with prior knowledge: GEP-1911's, and the common gRPC hints. */
const H2C_APP_PROTOCOLS = new Set(['kubernetes.io/h2c', 'h2c', 'http2', 'grpc']);

/**
 * True when the backend is reached over HTTP/2: its upstream says `protocol: 'h2c'`, or its
 * Service port's appProtocol does (h2c to an `http:` URL, h2 over TLS to an `https:` one), or it
 * is an `https:` backend of a GRPCRoute (gRPC is HTTP/2; over TLS, ALPN `h2` says so: the
 * upstream conformance test BackendTLSPolicyGRPCRoute gives its Services no appProtocol).
 */
export function isH2Backend(d: { backend: { appProtocol?: string | undefined }; route?: Pick<RouteRef, 'kind'> | undefined }, upstream: UpstreamOptions): boolean {
  if (upstream.protocol !== undefined) return upstream.protocol === 'h2c';
  if (d.backend.appProtocol !== undefined && H2C_APP_PROTOCOLS.has(d.backend.appProtocol)) return true;
  return d.route?.kind === 'GRPCRoute' && upstream.url.startsWith('https:');
}

/**
 * The origins that `ir` reaches over HTTP/2 (isH2Backend) through the upstreams registered
 * for its backends (`specOf`): the backendRefs of every rule and the backends of its mirrors.
 * A reload retires the HTTP/2 sessions to every other origin (upstream/h2-sessions.ts).
 */
export function liveH2Origins(ir: IR.Gateway, specOf: (registered: string) => object | undefined): Set<string> {
  const origins = new Set<string>();
  const add = (b: IR.Backend, route: IR.Route | undefined): void => {
    const spec = b.registered !== undefined ? specOf(b.registered) : undefined;
    if (spec === undefined || typeof spec === 'function' || !isH2Backend({ backend: b, route }, spec as UpstreamOptions)) return;
    origins.add(new URL((spec as UpstreamOptions).url).origin);
  };
  const mirrors = (filters: readonly IR.Filter[]): void => {
    // A mirror's target carries no route (protocols/mirror.ts): it is HTTP/2 by its own settings only.
    for (const f of filters) if (f.type === 'RequestMirror') add(f.backend, undefined);
  };
  for (const rule of ir.rules) {
    const route = ir.routes[rule.route];
    mirrors(rule.filters);
    for (const b of rule.backends) {
      add(b, route);
      mirrors(b.filters);
    }
  }
  return origins;
}

/**
 * Sends a request over HTTP/2 and discards the answer (mirrors). Resolves when the exchange is over,
 * whatever its outcome; `timeoutMs` bounds it.
 */
export function sendH2AndForget(up: H2Upstream, headers: OutgoingHttpHeaders, body: Buffer, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    try {
      const stream = up.h2.sessionFor(up.origin, up.tls).request(headers, { endStream: body.length === 0 });
      const t = setTimeout(() => stream.close(constants.NGHTTP2_CANCEL), timeoutMs);
      t.unref();
      stream.on('error', () => {});
      stream.on('close', () => {
        clearTimeout(t);
        resolve();
      });
      stream.resume();
      if (body.length > 0) stream.end(body);
    } catch {
      resolve();
    }
  });
}

/** The upstream of an h2c exchange, parsed once per backend. */
export interface H2Upstream {
  origin: string;
  basePath: string;
  /** The origin's requests in flight and their bound (connections + maxQueued), shared with HTTP/1.1 exchanges. */
  state: OriginLoad;
  /** ms a client may stall while the exchange waits on it; 0: no bound. */
  clientTimeout: number;
  /** ms an HTTP/2 client may leave the response unread; 0: no bound. */
  http2ClientReadTimeout: number;
  /** The sessions of the handler the exchange belongs to. */
  h2: H2Sessions;
  /** The BackendTLSPolicy an `https:` origin is verified with; absent: the system CAs and the URL's host. */
  tls?: H2SessionTLS | undefined;
}

/**
 * Request headers for an HTTP/2 upstream: pseudo-headers from the decision, no HTTP/1.1
 * connection-specific headers (RFC 9113 section 8.2.2, a stream carrying them is malformed),
 * `te: trailers` kept (gRPC requires it), X-Forwarded-* as the HTTP/1.1 proxy sets them.
 */
function h2RequestHeaders(d: ForwardDecision, req: IncomingMessage, up: H2Upstream, path: string): OutgoingHttpHeaders {
  const src = d.request.headers;
  const h: OutgoingHttpHeaders = {
    ':method': d.request.method,
    ':path': path,
    ':scheme': up.origin.startsWith('https:') ? 'https' : 'http',
    ':authority': d.request.host ?? src[':authority'] ?? src.host ?? new URL(up.origin).host,
  };
  for (const k in src) {
    if (k.startsWith(':') || k === 'host' || isHopByHop(k, src.connection) || k === 'x-forwarded-for' || k === 'x-forwarded-proto' || k === 'x-forwarded-host') continue;
    h[k] = src[k];
  }
  const te = src.te;
  if (typeof te === 'string' && te.toLowerCase().split(',').some((t) => t.trim() === 'trailers')) h.te = 'trailers';
  const prior = src['x-forwarded-for'];
  const client = req.socket?.remoteAddress ?? '';
  h['x-forwarded-for'] = prior === undefined ? client : `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}`;
  h['x-forwarded-proto'] = d.request.scheme;
  const original = req.headers.host ?? req.headers[':authority'];
  if (original !== undefined) h['x-forwarded-host'] = original;
  return h;
}

/** Response headers from an HTTP/2 upstream, for the client: no pseudo-headers. */
function h2ResponseHeaders(headers: H2Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || k.startsWith(':') || isHopByHop(k, headers.connection)) continue;
    out[k] = v as string | string[];
  }
  return out;
}

/**
 * Proxies the request over HTTP/2 (h2c, or h2 over TLS). Never throws: failures before the
 * response are answered as the HTTP/1.1 proxy answers them (504, 503, 502; gRPC statuses for gRPC
 * calls); after it started, the client stream is reset. Returns a handle to cancel the exchange.
 */
export function proxyH2(
  req: IncomingMessage,
  res: ServerResponse,
  d: ForwardDecision,
  up: H2Upstream,
  out: Outgoing,
  opts: { requestTimeout?: number; headersTimeout?: number; body?: Buffer | Readable | null; hasBody: boolean; attempt?: AttemptHooks },
): ExchangeHandle {
  const load = up.state;
  if (load.active >= load.limit) {
    // As for HTTP/1.1 (proxy.ts): a backend that stalls must not collect streams without bound
    // (node:http2 queues the streams beyond the peer's SETTINGS_MAX_CONCURRENT_STREAMS).
    sendError(res, 503, 'upstream-overloaded', `upstream ${up.origin} (HTTP/2) has ${load.active} requests in flight or queued (connections + maxQueued = ${load.limit})`, out);
    return { cancel: () => {} };
  }
  load.active++;
  let started = false;
  let done = false;
  let cancelled: Error | null = null;
  let discarded = false;
  let clientGone = false;
  // What the stall watch reads (watchClientStall): paused for the client, and the bytes written to it.
  const flow = { pausedForClient: false, written: 0 };
  let watching: NodeJS.Timeout | undefined;
  const timers: NodeJS.Timeout[] = [];
  const finish = () => {
    if (done) return;
    done = true;
    load.active--;
    for (const t of timers) clearTimeout(t);
    clearInterval(watching);
  };
  // The client stalling (a body that stops arriving, a response it stops reading) is bounded as for HTTP/1.1.
  const watchClient = () => {
    if (watching !== undefined || done) return;
    watching = watchClientStall(req, res, up, flow, (ms) => {
      clientGone = true;
      cancel(Object.assign(new Error(`the client stalled for ${ms} ms`), { code: 'GW_CLIENT_TIMEOUT' }));
      answerStalledClient(res, ms, out);
    });
  };
  let stream: ReturnType<ClientHttp2Session['request']>;
  const fail = (err: unknown) => {
    if (done) return;
    finish();
    if (clientGone || discarded) return;
    if (started || res.headersSent) {
      cutResponse(res, constants.NGHTTP2_INTERNAL_ERROR); // an HTTP/2 client sees the reset, not a clean end
      return;
    }
    const reason = cancelled ?? err;
    if (opts.attempt?.retryError(reason)) return;
    const f = upstreamFailure(reason, opts.attempt !== undefined);
    sendError(res, f.status, f.reason, `upstream ${up.origin} (HTTP/2) for ${d.backend.namespace}/${d.backend.name}: ${(reason as Error)?.message ?? String(reason)}`, out);
  };
  const cancel = (reason: Error) => {
    if (done || cancelled !== null) return;
    cancelled = reason;
    stream?.close(constants.NGHTTP2_CANCEL);
    fail(reason);
  };
  try {
    const session = up.h2.sessionFor(up.origin, up.tls);
    const path = up.basePath + d.request.path;
    const endStream = opts.body === null || (opts.body === undefined && !opts.hasBody);
    stream = session.request(h2RequestHeaders(d, req, up, path), { endStream });
  } catch (err) {
    fail(err);
    return { cancel: () => {} };
  }
  res.on('close', () => {
    if (res.writableFinished || done) return;
    clientGone = true;
    cancel(Object.assign(new Error('the client closed the connection'), { name: 'AbortError' }));
  });
  if (opts.requestTimeout) {
    const t = setTimeout(() => {
      if (!res.headersSent) sendError(res, 504, 'request-timeout', `no complete response within the route's request timeout of ${opts.requestTimeout} ms`, out);
      cancelled = Object.assign(new Error('request timeout'), { code: 'GW_TIMEOUT' });
      clientGone = true; // answered: nothing more to write
      stream.close(constants.NGHTTP2_CANCEL);
      finish();
    }, opts.requestTimeout);
    t.unref();
    timers.push(t);
  }
  // Without rule timeouts, the upstream's headersTimeout bounds the wait for the response head
  // (a gRPC stream may then stay open as long as both sides like).
  const ruled = d.timeouts !== undefined && (d.timeouts.request !== undefined || d.timeouts.backendRequest !== undefined);
  if (!ruled && opts.headersTimeout) {
    const ms = opts.headersTimeout;
    const t = setTimeout(() => {
      if (!started) cancel(Object.assign(new Error(`no response headers within ${ms} ms`), { code: 'UND_ERR_HEADERS_TIMEOUT' }));
    }, ms);
    t.unref();
    timers.push(t);
  }
  const backendTimeout = d.timeouts?.backendRequest;
  if (backendTimeout) {
    const t = setTimeout(() => cancel(Object.assign(new Error(`timed out after ${backendTimeout} ms`), { code: 'GW_TIMEOUT' })), backendTimeout);
    t.unref();
    timers.push(t);
  }
  stream.on('error', fail);
  stream.on('response', (headers, flags) => {
    const status = Number(headers[':status']);
    if (opts.attempt?.retryStatus(status)) {
      discarded = true;
      finish();
      stream.close(constants.NGHTTP2_CANCEL);
      return;
    }
    started = true;
    const h = h2ResponseHeaders(headers);
    const final = d.responseHeaders.length === 0 && d.session === undefined ? h : finalizeHeaders(h, d, out);
    // A trailers-only answer (gRPC errors) must stay one header block that ends the stream.
    if ((flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0) {
      finish();
      sendHeadersOnly(res, status, final as Record<string, string | string[]>);
      return;
    }
    res.writeHead(status, final);
  });
  stream.on('data', (chunk: Buffer) => {
    if (discarded || !started) return;
    flow.written += chunk.length;
    if (!res.write(chunk) && !flow.pausedForClient) {
      stream.pause();
      flow.pausedForClient = true;
      watchClient();
      res.once('drain', () => {
        flow.pausedForClient = false;
        stream.resume();
      });
    }
  });
  stream.on('trailers', (trailers) => {
    if (!discarded && started) res.addTrailers(h2ResponseHeaders(trailers) as Record<string, string>);
  });
  stream.on('end', () => {
    if (discarded || !started || done) return;
    finish();
    res.end();
  });
  stream.on('close', () => {
    if (!done && !discarded) fail(Object.assign(new Error(`stream closed with code ${stream.rstCode}`), { code: 'ECONNRESET' }));
  });
  if (Buffer.isBuffer(opts.body)) stream.end(opts.body);
  else if (opts.body) opts.body.pipe(stream);
  else if (opts.hasBody && opts.body === undefined) {
    req.pipe(stream);
    watchClient();
  }
  return { cancel };
}
