/**
 * In-process backends: a decision forwarded to a plain node request handler (Express apps work
 * too) in the same process. The handler sees the request as the backend must receive it (filters
 * applied), and the route's timeouts and the decision's response headers apply to its answer.
 * It is called once: it is not a network hop, so retries (GEP-1731) do not apply to it
 * (docs/adapters.md, "Retries").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants } from 'node:http2';
import type { ForwardDecision } from '../../types.js';
import { cutResponse, watchClientStall, type StallLimits } from '../proxy.js';
import { interceptHead, sendError, type Outgoing } from '../respond.js';
import type { UpgradeHook } from '../protocols/upgrade.js';
import { isHttp2Request, setRequestHeaders } from './http2.js';

/**
 * An in-process backend: a plain node request handler (Express apps work too). To accept
 * upgrades (WebSocket), give it an `upgrade(req, socket, head)` method: upgrade requests routed
 * to it are handed there, after the decision's filters (docs/adapters.md, "WebSocket").
 */
export type BackendHandler = ((req: IncomingMessage, res: ServerResponse) => unknown) & { upgrade?: UpgradeHook };

/**
 * Calls an in-process backend for a forward decision: the request and backendRequest timeouts
 * answer 504 (the handler's late answer is dropped), the decision's response header operations
 * apply to its answer, a response the client stops reading is cut as a proxied one is
 * (`stall`, see watchResponseStall), and a throw or rejection answers 500 (or goes to `next`, a
 * framework's error handler, while nothing was sent).
 */
export function serveInProcess(req: IncomingMessage, res: ServerResponse, d: ForwardDecision, spec: BackendHandler, out: Outgoing, stall: StallLimits, next?: (error: unknown) => void): void {
  const requestTimeout = d.timeouts?.request;
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
  watchResponseStall(req, res, stall);
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
}

/**
 * Bounds an in-process handler's response that the client stops reading, with the bounds of a
 * proxied one (docs/adapters.md, "Upstream limits"): after `clientTimeout` (HTTP/1.1) or
 * `http2ClientReadTimeout` (HTTP/2, judged on the stream) without progress while the response
 * waits on the client, the connection is cut (HTTP/1.1) or the stream reset with CANCEL, so the
 * handler sees 'close' and its writes fail. The watch (watchClientStall, the proxy's) starts only
 * when a write meets backpressure; a client that reads never starts it.
 */
function watchResponseStall(req: IncomingMessage, res: ServerResponse, limits: StallLimits): void {
  if (isHttp2Request(req)) {
    if (limits.http2ClientReadTimeout > 0) watchStreamWrites(req, res, limits);
    return;
  }
  if (limits.clientTimeout <= 0) return;
  const socket = res.socket as WatchedSocket | null;
  if (socket === null) return; // a pipelined response not yet given its socket: left unwatched
  // Hot path: one property read and one store per request; the socket's write is wrapped once
  // per connection (a keep-alive connection serves many requests), never the response's.
  const conn = socket[kConnectionWatch] ?? watchConnectionWrites(socket, limits);
  conn.current = res;
}

const kConnectionWatch = Symbol('gateway-api-router.connectionWatch');

/** What a connection's write wrapper knows: the in-process response it serves now. */
interface ConnectionWatch {
  current: ServerResponse | null;
  watch: ResponseWatch | null;
}

type WatchedSocket = NonNullable<ServerResponse['socket']> & { [kConnectionWatch]?: ConnectionWatch; _httpMessage?: unknown };

/**
 * HTTP/1.1: node:http writes a response's head and body through its socket's write(), whose
 * false says the kernel's buffers are full. When it does for the in-process response the
 * connection serves (not a proxied one, which has its own watch), the response is watched.
 */
function watchConnectionWrites(socket: WatchedSocket, limits: StallLimits): ConnectionWatch {
  const conn: ConnectionWatch = { current: null, watch: null };
  socket[kConnectionWatch] = conn;
  const write = socket.write as (this: WatchedSocket, chunk: unknown, encoding?: unknown, cb?: unknown) => boolean;
  socket.write = function watchedWrite(this: WatchedSocket, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    const ok = write.call(this, chunk, encoding, cb);
    const res = conn.current;
    if (!ok && res !== null && this._httpMessage === res) {
      if (conn.watch === null || conn.watch.res !== res) conn.watch = new ResponseWatch(res.req, res, limits);
      conn.watch.blocked();
    }
    return ok;
  } as WatchedSocket['write'];
  return conn;
}

/**
 * HTTP/2: each response is its own stream, so its writes are wrapped: `write()` returning false,
 * or `end()` leaving more than the high-water mark unsent, starts the watch. The bytes written
 * are counted once watched (watchClientStall reads a stream's progress from them). node:http2's
 * response ends with a chunk by passing it to its own `write()`, this wrapper, so each chunk is
 * counted once and sliced (sliceLargeWrite) whether written or ended with.
 */
function watchStreamWrites(req: IncomingMessage, res: ServerResponse, limits: StallLimits): void {
  let watch: ResponseWatch | undefined;
  const write = res.write as (this: ServerResponse, chunk: unknown, encoding?: unknown, cb?: unknown) => boolean;
  const end = res.end as (this: ServerResponse, chunk?: unknown, encoding?: unknown, cb?: unknown) => ServerResponse;
  res.write = function watchedWrite(this: ServerResponse, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
    const ok = sliceLargeWrite(this, write, chunk, encoding, cb) ?? write.call(this, chunk, encoding, cb);
    if (watch !== undefined) watch.written += byteLengthOf(chunk, encoding);
    if (!ok) (watch ??= new ResponseWatch(req, res, limits)).blocked();
    return ok;
  } as ServerResponse['write'];
  res.end = function watchedEnd(this: ServerResponse, chunk?: unknown, encoding?: unknown, cb?: unknown): ServerResponse {
    const r = end.call(this, chunk, encoding, cb);
    if (this.writableLength > this.writableHighWaterMark && !this.writableFinished) (watch ??= new ResponseWatch(req, res, limits)).blocked();
    return r;
  } as ServerResponse['end'];
}

/**
 * The size of the pieces a large in-process HTTP/2 write is handed to its stream in. Each slice
 * costs a write, and the stream's next slice waits for the last to be sent: measured (h2c, a
 * client reading at once, CPU per request, new/old), 256 KiB slices cost 9-15% on 1 MiB
 * responses and 4-7% on 4 MiB ones, 1 MiB slices 3-5% on 4 MiB ones and nothing on writes of
 * 1 MiB or less. A steady reader then shows progress at least once per MiB (per half its window
 * if that is larger: browsers' are several MB), which needs no more than 3.5 KB/s at the default
 * http2ClientReadTimeout.
 */
const WRITE_SLICE = 1024 * 1024;

/**
 * Hands a write larger than WRITE_SLICE to the HTTP/2 stream in slices of that size (views of
 * the chunk, not copies), each its own write, so that what the stall watch reads of the stream
 * (its `bufferSize`) falls as the client reads: a stream's write leaves bufferSize only once all
 * of it is sent, and until then bufferSize holds it twice (queued and in flight). Measured on
 * Node 20.20, 22.23 and 24.22, over TLS and h2c alike: one end() of 18 MiB read at about
 * 3.8 MB/s through a 1 MiB stream window, bufferSize did not move for 4.5 s, and with
 * http2ClientReadTimeout 1.5 s the reader was reset after about 8.5 MiB; sliced, bufferSize
 * moved at least every ~300 ms. The stream's `_writev` (the writable stream's hook that takes
 * all buffered chunks as one write) is turned off, or the slices queued behind the first would
 * go out as one write again. Besides: node:http2 counts data handed to a session's streams
 * against its maxSessionMemory (10 MB by default) and refuses the session's new streams while
 * over it (ENHANCE_YOUR_CALM); the slices not yet handed over do not count, so one large write
 * no longer holds the session's other requests off. Returns undefined for a write it leaves
 * whole.
 */
function sliceLargeWrite(res: ServerResponse, write: (this: ServerResponse, chunk: unknown, encoding?: unknown, cb?: unknown) => boolean, chunk: unknown, encoding: unknown, cb: unknown): boolean | undefined {
  if (typeof chunk === 'string' ? chunk.length <= WRITE_SLICE : !(chunk instanceof Uint8Array) || chunk.byteLength <= WRITE_SLICE) return undefined;
  const stream = (res as unknown as { stream?: { _writev?: unknown } }).stream;
  if (stream === undefined || res.writableEnded || res.destroyed) return undefined;
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : (chunk as Uint8Array);
  stream._writev = null;
  const done = typeof encoding === 'function' ? encoding : cb;
  let at = 0;
  for (; at + WRITE_SLICE < bytes.byteLength; at += WRITE_SLICE) write.call(res, bytes.subarray(at, at + WRITE_SLICE));
  return write.call(res, bytes.subarray(at), done);
}

/** The stall watch of one in-process response, from the first write that met backpressure. */
class ResponseWatch {
  pausedForClient = false;
  written = 0;
  readonly responseOnly = true;
  /** undefined: not started; null: no socket to watch. */
  private timer: NodeJS.Timeout | null | undefined = undefined;
  private readonly unblock = (): void => {
    this.pausedForClient = false;
  };

  constructor(
    private readonly req: IncomingMessage,
    readonly res: ServerResponse,
    private readonly limits: StallLimits,
  ) {}

  /** The response waits on the client until it drains, or, ended, finishes. */
  blocked(): void {
    if (this.pausedForClient) return;
    this.pausedForClient = true;
    const res = this.res;
    res.once('drain', this.unblock);
    if (this.timer !== undefined) return;
    const timer = (this.timer = watchClientStall(this.req, res, this.limits, this, () => cutResponse(res, constants.NGHTTP2_CANCEL)) ?? null);
    if (timer === null) return;
    const stop = (): void => clearInterval(timer);
    res.once('finish', stop);
    res.once('close', stop);
  }
}

function byteLengthOf(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
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
export function applyRequest(req: IncomingMessage, d: ForwardDecision): void {
  req.method = d.request.method;
  req.url = d.request.path;
  // Express keeps the first originalUrl it sees: an Express app as the backend must not find the
  // raw path there (what is matched is what is forwarded).
  const r = req as IncomingMessage & { originalUrl?: string };
  if (r.originalUrl !== undefined) r.originalUrl = d.request.path;
  const src = d.request.headers;
  const h2 = isHttp2Request(req);
  // Unfiltered headers with the Host unchanged are the request's own object: nothing to copy.
  if (src === req.headers && (d.request.host === undefined || (h2 ? src[':authority'] : src.host) === d.request.host)) return;
  const headers: Record<string, string | string[]> = { ...src };
  if (d.request.host !== undefined) {
    if (h2) headers[':authority'] = d.request.host;
    else headers.host = d.request.host;
  }
  setRequestHeaders(req, headers);
}
