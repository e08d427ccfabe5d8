/**
 * The headers of a proxied exchange: hop-by-hop headers (RFC 9110 section 7.6.1) dropped in both
 * directions, and the request headers sent upstream with X-Forwarded-* set.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { ForwardDecision } from '../../types.js';

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

/** True for a header never forwarded: hop-by-hop, or named by the message's own Connection header. */
export function isHopByHop(name: string, connection: string | string[] | undefined): boolean {
  if (HOP_BY_HOP.has(name)) return true;
  return connection !== undefined && (connectionTokens(connection)?.includes(name) ?? false);
}

/** The upstream response headers without hop-by-hop ones (keys are lower-case, as undici parses them). */
export function responseHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
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
export function connectionTokens(conn: string | string[]): string[] | null {
  let listed: string[] | null = null;
  for (const t of (Array.isArray(conn) ? conn.join(',') : conn).split(',')) {
    const k = t.trim().toLowerCase();
    if (k !== '' && !HOP_BY_HOP.has(k)) (listed ??= []).push(k);
  }
  return listed;
}

/**
 * The headers sent upstream, in one pass, as a flat [name, value, ...] list: hop-by-hop headers
 * dropped, X-Forwarded-For appended, X-Forwarded-Proto and -Host set, and Host as the decision
 * says (unmodified unless URLRewrite set a hostname, HTTPURLRewriteFilter.Hostname).
 */
export function upstreamHeaders(d: ForwardDecision, req: IncomingMessage): (string | string[])[] {
  const src = d.request.headers;
  const conn = src.connection;
  const listed = conn === undefined ? null : connectionTokens(conn);
  const out: (string | string[])[] = [];
  for (const k in src) {
    // HTTP/2 pseudo-headers (':path'...) of an HTTP/2 client's request never go to an HTTP/1.1 upstream.
    if (HOP_BY_HOP.has(k) || (listed !== null && listed.includes(k)) || k === 'host' || k === 'x-forwarded-for' || k === 'x-forwarded-proto' || k === 'x-forwarded-host' || k.charCodeAt(0) === 58 /* : */) continue;
    out.push(k, src[k]!);
  }
  const prior = src['x-forwarded-for'];
  const client = req.socket?.remoteAddress ?? '';
  out.push('x-forwarded-for', prior === undefined ? client : `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}`);
  out.push('x-forwarded-proto', d.request.scheme);
  const original = req.headers.host ?? (req.headers[':authority'] as string | undefined);
  if (original !== undefined) out.push('x-forwarded-host', original);
  else if (src['x-forwarded-host'] !== undefined) out.push('x-forwarded-host', src['x-forwarded-host']);
  if (d.request.host !== undefined) out.push('host', d.request.host);
  return out;
}
