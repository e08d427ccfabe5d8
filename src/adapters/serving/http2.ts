/**
 * Serving HTTP/2 (`node:http2`, secure with `allowHTTP1`, or h2c) with the same handler as
 * HTTP/1.1. An HTTP/2 request names its host in `:authority`, has a read-only `headers` object,
 * and reaches its connection through the HTTP/2 session, not through `req.socket` (a proxy
 * object): these helpers hide the differences from the adapter.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type SecureServerOptions } from 'node:http2';
import type { Duplex } from 'node:stream';

/** ALPN protocols of a TLS port that serves HTTP/2 and HTTP/1.1, HTTP/2 preferred (RFC 7301, RFC 9113 section 3.2). */
export const ALPN_H2_AND_HTTP1: readonly string[] = ['h2', 'http/1.1'];

/**
 * The listener port of each connection `listen()` accepted, keyed by the socket (HTTP/1.1) or
 * the HTTP/2 session: a request on such a connection routes on that port when the handler has
 * no `port` option.
 */
export const socketListenerPorts = new WeakMap<object, number>();

/** True for a request that arrived over HTTP/2. */
export function isHttp2Request(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 2;
}

/** The request's host: `Host`, or the `:authority` pseudo-header of an HTTP/2 request. */
export function hostOf(req: IncomingMessage): string | undefined {
  return req.headers.host ?? (req.headers[':authority'] as string | undefined);
}

/** The listener port registered for the request's connection (its socket, or its HTTP/2 session). */
export function listenerPortOf(req: IncomingMessage): number | undefined {
  const socket = req.socket as object | null;
  const bySocket = socket ? socketListenerPorts.get(socket) : undefined;
  if (bySocket !== undefined || !isHttp2Request(req)) return bySocket;
  // node:http2's req.socket is a proxy object, a different key from the TLS socket: use the session.
  const session = (req as unknown as { stream?: { session?: object } }).stream?.session;
  return session ? socketListenerPorts.get(session) : undefined;
}

/** Replaces the request's headers (node:http2's compatibility request has a read-only `headers` getter: it is shadowed on the object). */
export function setRequestHeaders(req: IncomingMessage, headers: Record<string, string | string[]>): void {
  if (isHttp2Request(req)) Object.defineProperty(req, 'headers', { value: headers, writable: true, configurable: true, enumerable: true });
  else req.headers = headers as IncomingMessage['headers'];
}

/** What an HTTP/2 server needs of a gateway handler: the request handler and its upgrade method. */
export interface ServableHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  (req: Http2ServerRequest, res: Http2ServerResponse): void;
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

/**
 * A TLS server that speaks HTTP/2 and HTTP/1.1 (ALPN `h2`, `http/1.1`; `allowHTTP1`) with one
 * handler: HTTP/1.1 upgrades (WebSocket) go to `handler.upgrade`. With `listenerPort`, every
 * connection it accepts (socket and HTTP/2 session) routes on that listener port. `options` are
 * the TLS options (`key`, `cert`, `SNICallback`, `requestCert`...); `allowHTTP1` and
 * `ALPNProtocols` are set here.
 */
export function createSecureHttp2Server(handler: ServableHandler, options: SecureServerOptions, listenerPort?: number): Http2SecureServer {
  const server = createSecureServer({ ...options, allowHTTP1: true, ALPNProtocols: [...ALPN_H2_AND_HTTP1] }, handler);
  server.on('upgrade', handler.upgrade);
  if (listenerPort !== undefined) {
    server.on('secureConnection', (s: object) => socketListenerPorts.set(s, listenerPort));
    server.on('session', (s: object) => socketListenerPorts.set(s, listenerPort));
  }
  return server;
}
