/**
 * Proxying a forward decision to an upstream URL with undici: bodies streamed both ways (never
 * buffered), hop-by-hop headers stripped, X-Forwarded-* set, timeouts answered 504, a refused
 * connection 503, other upstream failures 502, and a client abort aborting the upstream request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, stream as undiciStream, type Dispatcher } from 'undici';
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

const agents = new Map<string, Agent>();
function agentFor(origin: string): Agent {
  let a = agents.get(origin);
  if (!a) agents.set(origin, (a = new Agent({ keepAliveTimeout: 10_000, connections: 256 })));
  return a;
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
 * Proxies the request. Resolves when the response is finished or the exchange failed; never
 * rejects. `signal` aborts when the client goes away or the request timeout fires.
 */
export async function proxy(req: IncomingMessage, res: ServerResponse, d: ForwardDecision, upstream: UpstreamOptions, signal: AbortSignal, out: Outgoing): Promise<void> {
  const target = prepared(upstream);
  const headers = upstreamHeaders(d, req);
  const backendTimeout = d.timeouts?.backendRequest;
  const attemptSignal = backendTimeout ? AbortSignal.any([signal, timeoutSignal(backendTimeout)]) : signal;
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  try {
    // undici's stream API writes the upstream body straight into the response, with
    // backpressure, and no intermediate Readable.
    await undiciStream(
      target.origin + target.basePath + d.request.path,
      {
        method: d.request.method as Dispatcher.HttpMethod,
        headers,
        body: hasBody ? req : null,
        signal: attemptSignal,
        dispatcher: target.dispatcher,
        headersTimeout: target.headersTimeout,
        bodyTimeout: 0,
      },
      ({ statusCode, headers: upstreamResponseHeaders }) => {
        res.statusCode = statusCode;
        const h = finalizeHeaders(stripHopByHop(upstreamResponseHeaders as Record<string, string | string[] | undefined>), d, out);
        for (const k in h) res.setHeader(k, h[k]!);
        return res;
      },
    );
  } catch (err) {
    if (!res.headersSent) {
      // A client abort aborts `signal` with the default AbortError (a DOMException, whose numeric
      // `code` is 20); only the request timeout aborts it with code GW_TIMEOUT.
      const aborted = signal.aborted && (signal.reason as { code?: unknown } | undefined)?.code !== 'GW_TIMEOUT';
      if (aborted) return; // the client left: nothing to answer
      const f = upstreamFailure(signal.aborted ? signal.reason : attemptSignal.aborted ? attemptSignal.reason : err);
      sendError(res, f.status, f.reason, `upstream ${target.origin} for ${d.backend.namespace}/${d.backend.name}: ${describeError(err)}`, out);
    } else {
      res.destroy(err as Error);
    }
  }
}

interface PreparedUpstream {
  origin: string;
  basePath: string;
  dispatcher: Dispatcher;
  headersTimeout: number;
}

const preparedCache = new WeakMap<UpstreamOptions, PreparedUpstream>();

/** The parsed form of an upstream, computed once per options object. */
function prepared(upstream: UpstreamOptions): PreparedUpstream {
  let p = preparedCache.get(upstream);
  if (!p) {
    const base = new URL(upstream.url);
    p = {
      origin: base.origin,
      basePath: base.pathname === '/' ? '' : base.pathname.replace(/\/$/, ''),
      dispatcher: upstream.dispatcher ?? agentFor(base.origin),
      headersTimeout: upstream.headersTimeout ?? 30_000,
    };
    preparedCache.set(upstream, p);
  }
  return p;
}

/**
 * The headers sent upstream, in one pass: hop-by-hop headers dropped, X-Forwarded-For appended,
 * X-Forwarded-Proto and -Host set, and Host as the decision says (unmodified unless URLRewrite
 * set a hostname, HTTPURLRewriteFilter.Hostname).
 */
function upstreamHeaders(d: ForwardDecision, req: IncomingMessage): Record<string, string | string[]> {
  const src = d.request.headers;
  const conn = src.connection;
  const listed = conn === undefined ? null : new Set((Array.isArray(conn) ? conn.join(',') : conn).split(',').map((t) => t.trim().toLowerCase()));
  const out: Record<string, string | string[]> = {};
  for (const k in src) {
    if (HOP_BY_HOP.has(k) || (listed !== null && listed.has(k)) || k === 'host' || k === 'x-forwarded-for') continue;
    out[k] = src[k]!;
  }
  const prior = src['x-forwarded-for'];
  const client = req.socket?.remoteAddress ?? '';
  out['x-forwarded-for'] = prior === undefined ? client : `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}`;
  out['x-forwarded-proto'] = d.request.scheme;
  const original = req.headers.host;
  if (original !== undefined) out['x-forwarded-host'] = original;
  if (d.request.host !== undefined) out.host = d.request.host;
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
