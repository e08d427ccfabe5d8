/**
 * Proxying a forward decision to an upstream URL with undici: bodies streamed both ways (never
 * buffered), hop-by-hop headers stripped, X-Forwarded-* set, timeouts answered 504, a refused
 * connection 503, other upstream failures 502, and a client abort aborting the upstream request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { constants, type Http2Stream } from 'node:http2';
import type { Dispatcher } from 'undici';
import type { ForwardDecision } from '../types.js';
import { finalizeHeaders, sendError, type Outgoing } from './respond.js';
import type { AttemptHooks, ExchangeHandle } from './protocols/retry.js';
import { responseHeaders, upstreamHeaders } from './upstream/headers.js';
import type { PreparedUpstream } from './upstream/pool.js';

/**
 * True when the request has a body to send on. HTTP/1.1 says so with Content-Length or
 * Transfer-Encoding; an HTTP/2 request has one unless its HEADERS frame ended the stream.
 */
export function requestHasBody(req: IncomingMessage): boolean {
  const stream = (req as unknown as { stream?: { endAfterHeaders?: boolean } }).stream;
  if (req.httpVersionMajor === 2 && stream !== undefined) return stream.endAfterHeaders !== true;
  return req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
}

/**
 * Maps an upstream failure to the answer: 504 timeouts, 503 refused, 502 otherwise. `retried`:
 * the failure ends a retry series (GEP-1731) whose tries are used up; a failed connection (reset,
 * protocol error) is then 503 `upstream-unavailable`, the answer conformance's
 * HTTPRouteRetryConnectionError expects (500 or 503) and Envoy gives (docs/adapters.md, "Retries").
 */
export function upstreamFailure(err: unknown, retried = false): { status: number; reason: string } {
  const e = err as { code?: string; name?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? e?.name;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'TimeoutError' || code === 'GW_TIMEOUT') {
    return { status: 504, reason: 'upstream-timeout' };
  }
  if (code === 'ECONNREFUSED') return { status: 503, reason: 'upstream-refused' };
  return retried ? { status: 503, reason: 'upstream-unavailable' } : { status: 502, reason: 'upstream-failure' };
}

/**
 * Proxies the request. Never throws: failures are answered (504, 503, 502) or, once the upstream
 * response has started, cut the client connection. The client closing the connection aborts the
 * upstream request; `requestTimeout` (the rule's timeouts.request) answers 504 and aborts it too.
 */
export function proxy(
  req: IncomingMessage,
  res: ServerResponse,
  d: ForwardDecision,
  target: PreparedUpstream,
  out: Outgoing,
  requestTimeout?: number,
  attempt?: { hooks?: AttemptHooks | undefined; body?: Buffer | Readable | null },
): ExchangeHandle {
  const origin = target.state;
  if (origin.active >= origin.limit) {
    // The pool's queue is full: answer now rather than wait behind it (a bounded queue).
    sendError(res, 503, 'upstream-overloaded', `upstream ${target.origin} has ${origin.active} requests in flight or queued (connections + maxQueued = ${origin.limit})`, out);
    return { cancel: () => {} };
  }
  origin.active++;
  const x = new Exchange(req, res, d, target, out);
  x.hooks = attempt?.hooks;
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
  // A retry replays a buffered body (or the rest of an unreplayable one) instead of the request stream.
  const body = attempt?.body !== undefined ? attempt.body : requestHasBody(req) ? req : null;
  if (body === req) x.watchClient();
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
        body,
        headersTimeout: ruled ? 0 : target.headersTimeout,
        bodyTimeout: ruled ? 0 : target.bodyTimeout,
      },
      x,
    );
  } catch (err) {
    x.onResponseError(null, err as Error); // a path or header undici refuses (set by an extension filter): 502
  }
  return x;
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
  /** Bytes of response body written to `res` (watchClientStall's measure of an HTTP/2 client's reading). */
  written = 0;
  /** The retry layer's say on this try's outcome (GEP-1731); undefined: no retries. */
  hooks: AttemptHooks | undefined = undefined;
  /** This try's response was discarded for a retry: nothing more of it is written. */
  discarded = false;
  /** This try's response head was written to the client. */
  started = false;

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

  /** Cuts the exchange when the client stalls while the exchange waits on it (see watchClientStall). */
  watchClient(): void {
    if (this.clientTimer !== undefined || this.done) return;
    this.clientTimer = watchClientStall(this.req, this.res, this.target, this, (ms) => {
      this.clientGone = true;
      this.cancel(Object.assign(new Error(`the client stalled for ${ms} ms`), { code: 'GW_CLIENT_TIMEOUT' }));
      answerStalledClient(this.res, ms, this.out);
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cancelled !== null) controller.abort(this.cancelled);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // interim responses (103 Early Hints...) are not forwarded
    if (this.hooks?.retryStatus(statusCode)) {
      this.discarded = true;
      this.finish();
      _controller.abort(Object.assign(new Error(`status ${statusCode} is retried`), { name: 'AbortError' }));
      return;
    }
    this.started = true;
    const d = this.d;
    const h = responseHeaders(headers);
    // One writeHead with the whole map: no per-header setHeader bookkeeping.
    this.res.writeHead(statusCode, d.responseHeaders.length === 0 && d.session === undefined ? h : finalizeHeaders(h, d, this.out));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.discarded) return;
    const res = this.res;
    // Up to responseBuffer bytes are held for a slow client, so small responses free the
    // upstream connection at once; beyond that the upstream waits, and watchClient bounds it.
    this.written += chunk.length;
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
    if (this.discarded) return;
    this.finish();
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    this.finish();
    if (this.clientGone || this.discarded) return; // the client left, or a retry follows: nothing to answer
    if (!this.started && this.hooks?.retryError(this.cancelled ?? err)) return;
    const res = this.res;
    if (res.headersSent) {
      cutResponse(res, constants.NGHTTP2_INTERNAL_ERROR); // an HTTP/2 client sees the reset, not a clean end
      return;
    }
    const f = upstreamFailure(this.cancelled ?? err, this.hooks !== undefined);
    sendError(res, f.status, f.reason, `upstream ${this.target.origin} for ${this.d.backend.namespace}/${this.d.backend.name}: ${describeError(err)}`, this.out, {}, err);
  }
}

/** How long a client may stall, by what the exchange waits on (docs/adapters.md, "Upstream limits"). */
export interface StallLimits {
  /** ms: a request body that stops arriving; a response an HTTP/1.1 client stops reading. 0: no bound. */
  clientTimeout: number;
  /** ms: a response an HTTP/2 client leaves unread. 0: no bound. */
  http2ClientReadTimeout: number;
}

/** What a stall watch reads of its exchange. */
export interface WatchedExchange {
  /** True while the upstream is paused because the client does not read. */
  readonly pausedForClient: boolean;
  /** Bytes of response body written to the client's response so far. */
  readonly written: number;
  /** Only the response is watched: the request body is the backend's to read (an in-process handler). */
  readonly responseOnly?: boolean;
}

/**
 * Watches a client that an exchange waits on: a request body that stops arriving while the
 * upstream reads it, or a response the client stops reading (`pausedForClient`). `onStall(ms)`
 * runs once after `ms` to `ms` plus half the shorter bound without progress while waiting, `ms`
 * being the bound of what is waited on (StallLimits). Progress is judged where the exchange
 * lives: on HTTP/1.1 the connection's byte counts (socketBytesSent: they move each time the kernel
 * takes more of the response, which it does as the client reads, on Linux once about a third of
 * the socket's send buffer has drained: every ~1.4 MiB on loopback); on HTTP/2 this stream alone, so another stream's traffic is not this one's
 * progress: the bytes received on it (streamBytesReceived) and the bytes of its response sent,
 * written less unsent (`bufferSize`, which falls only as this stream's writes go out, each once
 * all of it is sent, as far as the client's window for it allows; an in-process handler's large
 * writes are handed over in slices for that, sliceLargeWrite in serving/in-process.ts). Polled (a second 'data' listener on the request would
 * change how the body flows). Returns the interval for the exchange to clear when it ends;
 * undefined when no bound applies or there is no socket.
 */
export function watchClientStall(req: IncomingMessage, res: ServerResponse, limits: StallLimits, exchange: WatchedExchange, onStall: (ms: number) => void): NodeJS.Timeout | undefined {
  const socket = res.socket;
  const stream = req.httpVersionMajor === 2 ? (req as unknown as { stream?: Http2Stream }).stream : undefined;
  const bodyMs = limits.clientTimeout;
  const readMs = stream ? limits.http2ClientReadTimeout : bodyMs;
  // Polled at half the shorter bound in force; a stall is counted in polls.
  const shorter = bodyMs > 0 && readMs > 0 ? Math.min(bodyMs, readMs) : Math.max(bodyMs, readMs);
  if (shorter <= 0 || !socket) return undefined;
  const every = shorter / 2;
  const received = stream ? streamBytesReceived(stream) : undefined;
  let lastIn = -1;
  let lastOut = -1;
  let idle = 0;
  const timer = setInterval(() => {
    const paused = exchange.pausedForClient;
    const waiting = paused || (exchange.responseOnly !== true && req.readableFlowing === true && !req.complete && !req.readableEnded);
    // Sent bytes only grow: the unsent ones alone could read the same at two polls with the
    // exchange resumed and paused again in between.
    const bytesIn = received !== undefined ? received() : socket.bytesRead;
    const bytesOut = stream !== undefined ? exchange.written - stream.bufferSize : socketBytesSent(socket);
    if (!waiting || bytesIn !== lastIn || bytesOut !== lastOut) {
      lastIn = bytesIn;
      lastOut = bytesOut;
      idle = 0;
      return;
    }
    const ms = paused ? readMs : bodyMs;
    if (ms <= 0 || ++idle * every < ms) return;
    clearInterval(timer);
    onStall(ms);
  }, every);
  timer.unref();
  return timer;
}

/** A socket's handle as the stall watch reads it: node's TCP and TLS handles expose writeQueueSize; a TLS handle's `_parent` is the handle beneath it. */
interface QueueingHandle {
  writeQueueSize?: unknown;
  _parent?: QueueingHandle | null;
}

/**
 * A measure of what an HTTP/1.1 connection has sent, which changes as the client takes bytes:
 * the bytes written to it, less those its handle still queues (`writeQueueSize`), so that a
 * reader working through one large write (an in-process handler's `res.end(buffer)`) shows
 * progress before the write completes. Over TLS the TLS handle's queue does not fall while a
 * write goes out: it holds the write's whole encrypted size until the write completes (measured
 * on Node 20.20, 22.23 and 24.22: 18 MiB in one end(), read at about 3.8 MB/s, the measure did
 * not move for 3 s and more, and the reader was cut); the queue of the TCP handle beneath it (`_parent`) falls as the kernel
 * takes the encrypted bytes, so it is subtracted too. The measure is then offset (encrypted bytes
 * against plain ones), but the watch reads only its changes. A handle that does not tell: the
 * bytes written alone.
 */
function socketBytesSent(socket: { bytesWritten: number }): number {
  const handle = (socket as { _handle?: QueueingHandle | null })._handle;
  if (!handle) return socket.bytesWritten;
  return socket.bytesWritten - queuedOn(handle) - queuedOn(handle._parent);
}

function queuedOn(handle: QueueingHandle | null | undefined): number {
  const queued = handle?.writeQueueSize;
  return typeof queued === 'number' ? queued : 0;
}

/**
 * The bytes received on one HTTP/2 stream so far. They are counted once node:http2's request
 * reads the stream (it adds its 'data' listener on its first read; one added before would take
 * the body from it).
 */
function streamBytesReceived(stream: Http2Stream): () => number {
  let received = 0;
  let counting = false;
  return () => {
    if (!counting && stream.listenerCount('data') > 0) {
      counting = true;
      stream.on('data', (c: Buffer) => (received += c.length));
    }
    return received;
  };
}

/**
 * Ends the exchange of a client that stalled for `ms`: 408 `client-timeout` while nothing was
 * sent (then the connection closes; on HTTP/2 the stream), else the response is cut (an HTTP/2
 * stream reset with CANCEL).
 */
export function answerStalledClient(res: ServerResponse, ms: number, out: Outgoing): void {
  if (res.headersSent) {
    cutResponse(res, constants.NGHTTP2_CANCEL);
    return;
  }
  res.once('finish', () => res.destroy());
  // HTTP/2 has no Connection header (RFC 9113 section 8.2.2): destroying the stream is enough.
  sendError(res, 408, 'client-timeout', `the client sent nothing for ${ms} ms while the upstream waited for its request body`, out, res.req?.httpVersionMajor === 2 ? {} : { connection: 'close' });
}

/**
 * Cuts a response already started, so that the client can tell it is incomplete: an HTTP/1.1
 * connection is closed; an HTTP/2 stream is reset with `code` (destroying it without an error
 * resets it with NO_ERROR after the data, which a client reads as a complete body). Closing the
 * stream sends no END_STREAM first, even once all its data is out: the compatibility API's
 * response waits for trailers, so ending its writable side sends nothing (a raw stream's would).
 */
export function cutResponse(res: ServerResponse, code: number): void {
  const stream = res.req?.httpVersionMajor === 2 ? (res as unknown as { stream?: Http2Stream }).stream : undefined;
  if (stream && !stream.destroyed) stream.close(code);
  else res.destroy();
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

function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return e?.cause?.code ?? e?.code ?? e?.message ?? String(err);
}
