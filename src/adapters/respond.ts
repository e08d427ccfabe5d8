/**
 * Writing answers: the gateway's own short error bodies, redirects, CORS preflights, and the
 * response header operations of a decision applied to whatever a backend answers.
 */
import type { ServerResponse } from 'node:http';
import type { Decision, ForwardDecision, HeaderOps, RedirectDecision, RespondDecision } from '../types.js';
import { answersGrpc, grpcStatusFor, sendGrpcStatus } from './protocols/grpc.js';

/** What the gateway reports about an answer it gave itself: the detail that the client never sees. */
export interface ErrorInfo {
  status: number;
  /** The reason code the client sees too, e.g. `upstream-refused`. */
  reason: string;
  /** One sentence with the detail (upstream origin, error code, exception text). */
  message: string;
  /** The exception behind it, when there is one (an in-process handler's, undici's). */
  error?: unknown;
}

/** How the adapters report and word the answers they give themselves. */
export interface Outgoing {
  /** Called once with a failure the gateway answered itself (status >= 500) or an internal error. */
  onError?: (info: ErrorInfo) => void;
  /** Put the detail message in error bodies (development). Default false: status text and reason code only. */
  exposeErrors?: boolean;
}

/** An answer the gateway gives itself, as data: what an adapter hands to its framework's reply. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | number>;
  /** The body; empty for redirects and preflights. */
  body: string;
}

/**
 * Responses whose framework has its own reply pipeline (Fastify: `reply.send`, so that `onSend`
 * and `onResponse` hooks run): the gateway's own answers to them (404, redirects, preflights,
 * 5xx before a backend answered) are handed to the sink as data instead of being written. gRPC
 * answers (one header block ending an HTTP/2 stream) are always written directly.
 *
 * The sink is a symbol-keyed property of the response, set per request. Not a WeakMap: a WeakMap
 * entry per request cost the Fastify plugin a fifth of its throughput (bench, end to end).
 */
const ANSWER_SINK = Symbol('gateway-api-router.answerSink');

type Sinkable = { [ANSWER_SINK]?: ((answer: Answer) => void) | undefined };

/** Hands the gateway's own answer to `res` to `sink` instead of writing it; `undefined` clears it. */
export function setAnswerSink(res: object, sink: ((answer: Answer) => void) | undefined): void {
  (res as Sinkable)[ANSWER_SINK] = sink;
}

/** Writes an answer, or hands it to the response's sink when its adapter registered one. */
function writeAnswer(res: ServerResponse, answer: Answer): void {
  const sink = (res as Sinkable)[ANSWER_SINK];
  if (sink !== undefined) {
    (res as Sinkable)[ANSWER_SINK] = undefined; // not `delete`: the response keeps its shape
    sink(answer);
    return;
  }
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 408: 'Request Timeout', 421: 'Misdirected Request', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/**
 * Sends a short, generic text answer: `503 Service Unavailable: upstream-refused`. The detail
 * (upstream URLs, error codes, exception text) goes to `onError` only, unless `exposeErrors`.
 */
export function sendError(res: ServerResponse, status: number, reason: string, message: string, out: Outgoing, headers: Record<string, string> = {}, error?: unknown): void {
  if (status >= 500) out.onError?.(error === undefined ? { status, reason, message } : { status, reason, message, error });
  if (answersGrpc(res)) {
    // A gRPC client reads grpc-status, not the HTTP status; the message stays the generic reason.
    sendGrpcStatus(res, grpcStatusFor(status, reason), reason, headers);
    return;
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${status} ${STATUS_TEXT[status] ?? ''}: ${reason}\n${out.exposeErrors === true ? `${message}\n` : ''}`;
  writeAnswer(res, { status, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) }, body });
}

/** Applies header operations to a lower-case header map (set, add, remove, in order). */
export function applyOps(headers: Record<string, string | string[] | number>, ops: readonly HeaderOps[]): Record<string, string | string[] | number> {
  const out: Record<string, string | string[] | number> = { ...headers };
  for (const op of ops) {
    for (const [k, v] of op.set) out[k] = v;
    for (const [k, v] of op.add) {
      const prev = out[k];
      out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [String(prev)]), v];
    }
    for (const k of op.remove) delete out[k];
  }
  return out;
}

/** The backend's response headers with the decision's header operations and session applied. */
export function finalizeHeaders(headers: Record<string, string | string[] | number>, d: ForwardDecision, _out: Outgoing): Record<string, string | string[] | number> {
  const h = applyOps(headers, d.responseHeaders);
  if (d.session) {
    if ('cookie' in d.session) {
      const prev = h['set-cookie'];
      h['set-cookie'] = prev === undefined ? [d.session.cookie] : [...(Array.isArray(prev) ? prev : [String(prev)]), d.session.cookie];
    } else {
      h[d.session.header[0]] = d.session.header[1];
    }
  }
  return h;
}

/**
 * Makes an in-process handler's response go through the decision's header operations: the
 * operations run when the head is written, whether the handler calls writeHead or not.
 */
export function interceptHead(res: ServerResponse, d: ForwardDecision, out: Outgoing): void {
  if (d.responseHeaders.length === 0 && !d.session) return;
  const original = res.writeHead as (this: ServerResponse, status: number, reason?: string) => ServerResponse;
  res.writeHead = function writeHead(this: ServerResponse, status: number, ...rest: unknown[]) {
    const headersArg = rest.find((x) => typeof x === 'object' && x !== null) as Record<string, string | string[] | number> | string[] | undefined;
    const reason = rest.find((x) => typeof x === 'string') as string | undefined;
    if (Array.isArray(headersArg)) {
      for (let i = 0; i + 1 < headersArg.length; i += 2) this.setHeader(headersArg[i]!, headersArg[i + 1]!);
    } else if (headersArg) {
      for (const [k, v] of Object.entries(headersArg)) this.setHeader(k, v);
    }
    const current = Object.fromEntries(this.getHeaderNames().map((n) => [n, this.getHeader(n) as string | string[] | number]));
    const next = finalizeHeaders(current, d, out);
    for (const n of this.getHeaderNames()) if (!(n in next)) this.removeHeader(n);
    for (const [k, v] of Object.entries(next)) this.setHeader(k, v);
    return reason !== undefined ? original.call(this, status, reason) : original.call(this, status);
  } as ServerResponse['writeHead'];
}

/** Writes a decision the gateway answers itself: respond or redirect. */
export function sendAnswer(res: ServerResponse, d: RespondDecision | RedirectDecision, out: Outgoing): void {
  if (d.type === 'redirect') {
    writeAnswer(res, { status: d.status, headers: applyOps({ location: d.location, 'content-length': 0 }, d.responseHeaders), body: '' });
    return;
  }
  if (d.reason === 'cors-preflight') {
    writeAnswer(res, { status: d.status, headers: { ...(d.headers ?? {}), 'content-length': 0 }, body: '' });
    return;
  }
  if (d.body !== undefined) {
    writeAnswer(res, { status: d.status, headers: { 'content-length': Buffer.byteLength(d.body), ...(d.headers ?? {}) }, body: d.body });
    return;
  }
  sendError(res, d.status, d.reason, d.message, out, d.headers ?? {});
}

export type { Decision };
