/**
 * The servers of listen()'s ports, one per distinct listener port:
 * - HTTP: node:http for HTTP/1.1, and h2c (HTTP/2 with prior knowledge) on the same port when
 *   `http2` is on, told apart by the connection preface;
 * - HTTPS: node:http2's secure server with `allowHTTP1`, ALPN `h2` then `http/1.1`, the
 *   certificate chosen by SNI, client certificates as the port's frontend validation says;
 * - TLS: the ClientHello front end of TLSRoutes (tls-route.ts).
 * Every one drains on close (connections.ts).
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createH2Server, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { GatewayHandler } from '../adapters/node.js';
import { createSecureHttp2Server, socketListenerPorts } from '../adapters/serving/http2.js';
import type { ServedListener } from '../gateway/serving.js';
import { GatewayError } from '../errors.js';
import { closeWithin, serveH2cToo, trackConnections, type TrackerBounds } from './connections.js';
import { PortContexts } from './tls-context.js';
import { createTLSPortServer, type TLSPortOptions } from './tls/tls-route.js';

/** Protocols a port server is opened for. TLS listeners (TLSRoute) are served by tls-route.ts. */
export type PortProtocol = 'HTTP' | 'HTTPS' | 'TLS';

/** One open port. */
export interface PortServer {
  protocol: PortProtocol;
  boundPort: number;
  update(listeners: ServedListener[]): void;
  close(drainMs: number): Promise<void>;
}

/**
 * HTTP/2 settings of every port: Node's default allows 2^32-1 concurrent streams per session;
 * 100 is RFC 9113's recommended minimum and bounds what one client can hold open.
 */
const H2_SETTINGS = { maxConcurrentStreams: 100 };

/**
 * MB of data a session may hold queued (node:http2's maxSessionMemory) before it refuses the
 * client's new streams with ENHANCE_YOUR_CALM. Node's default, 10, refused a browser's next
 * requests while it was still reading twelve 1 MiB answers on the same connection (measured,
 * test/server/h2-session-memory.test.ts). 32 holds the proxy's own bound for a session: 100
 * streams of at most `responseBuffer` (256 KiB by default) unsent each, 25.6 MB; an in-process
 * handler's large writes are handed over 1 MiB at a time (serving/in-process.ts). It stays a bound
 * on what one client that stops reading can hold (docs/listeners.md, "HTTP/2 session memory").
 */
const H2_SESSION_MEMORY_MB = 32;

/** What every port of one listen() shares. */
export interface PortOptions {
  handler: GatewayHandler;
  /** The port's listeners now (a router.reload made elsewhere is seen at the next TLS handshake). */
  current: () => readonly ServedListener[];
  tls: TLSPortOptions;
  /** Offer HTTP/2: ALPN h2 on HTTPS ports, h2c on HTTP ports. */
  http2: boolean;
  timeouts: ConnectionTimeouts;
  /** listen()'s drainTimeout: what close() gives requests in flight, and an HTTP/2 session sent GOAWAY for inactivity its streams. */
  drainMs: number;
  caps: ConnectionCaps;
}

/** How many client connections a port holds open at once; 0: no cap (listen()'s options of these names). */
export interface ConnectionCaps {
  /** Connections of every client together. */
  maxConnections: number;
  /** Connections from one client IP address. */
  maxConnectionsPerClient: number;
}

/** How long client connections may hold a port without doing anything, in ms; 0: no bound (listen()'s options of these names). */
export interface ConnectionTimeouts {
  /** Inactivity after which an HTTP/2 session is sent GOAWAY. */
  http2IdleTimeout: number;
  /** Idle time between requests on an HTTP/1.1 keep-alive connection. */
  http1KeepAliveTimeout: number;
  /** Time to send an HTTP/1.1 request head, from the connection opening or the previous response ending. */
  http1HeadersTimeout: number;
  /** Time to send a whole HTTP/1.1 request, head and body, counted as http1HeadersTimeout; not below it unless 0. */
  http1RequestTimeout: number;
  /** Time an HTTP/2 stream may take to send its whole request while nothing of its response was sent. */
  http2RequestTimeout: number;
}

/**
 * node:http's server options for the HTTP/1.1 timeouts (listen() checked that headersTimeout is
 * not above requestTimeout, which node:http refuses). node:http checks both every
 * connectionsCheckingInterval (30 s by default), so a shorter timeout checks as often.
 */
function http1ServerTimeouts(t: ConnectionTimeouts): { keepAliveTimeout: number; headersTimeout: number; requestTimeout: number; connectionsCheckingInterval?: number } {
  const shortest = Math.min(...[t.http1HeadersTimeout, t.http1RequestTimeout].filter((ms) => ms > 0));
  return { keepAliveTimeout: t.http1KeepAliveTimeout, headersTimeout: t.http1HeadersTimeout, requestTimeout: t.http1RequestTimeout, ...(shortest < 30_000 ? { connectionsCheckingInterval: Math.max(50, Math.floor(shortest / 2)) } : {}) };
}

/** The tracker's bounds of a port (connections.ts). */
function trackerBounds(o: PortOptions): TrackerBounds {
  return { idleMs: o.timeouts.http2IdleTimeout, drainMs: o.drainMs, h2RequestMs: o.timeouts.http2RequestTimeout };
}

/** Opens the server of one listener port and binds it. @throws GatewayError GW_ERR_LISTEN_FAILED when it cannot bind. */
export async function openPort(protocol: PortProtocol, listenerPort: number, bind: number, host: string | undefined, listeners: ServedListener[], o: PortOptions): Promise<PortServer> {
  if (protocol === 'TLS') return openTLSPort(listenerPort, bind, host, o);
  const { server, update, close } = protocol === 'HTTP' ? createHTTPPort(listenerPort, o) : createHTTPSPort(listenerPort, listeners, o);
  capConnections(server, o.caps);
  await bindPort(server, listenerPort, bind, host);
  return { protocol, boundPort: (server.address() as AddressInfo).port, update, close };
}

type PortParts = { server: NetServer; update: (l: ServedListener[]) => void; close: (drainMs: number) => Promise<void> };

/** HTTP/1.1, plus h2c on the same port (RFC 9113 section 3.3, prior knowledge) when http2 is on. */
function createHTTPPort(listenerPort: number, o: PortOptions): PortParts {
  const server = createHttpServer(http1ServerTimeouts(o.timeouts), o.handler);
  const h2 = o.http2 ? createH2Server({ settings: H2_SETTINGS, maxSessionMemory: H2_SESSION_MEMORY_MB }, o.handler) : null;
  const tracker = trackConnections(h2 ? [server, h2] : [server], server, trackerBounds(o));
  if (h2) {
    h2.on('session', (session) => socketListenerPorts.set(session, listenerPort));
    serveH2cToo(server, h2, o.tls.helloTimeout, tracker.http1);
  } else {
    server.on('connection', tracker.http1);
  }
  server.prependListener('connection', (s: Socket) => socketListenerPorts.set(s, listenerPort));
  server.on('upgrade', o.handler.upgrade);
  return { server, update: () => {}, close: tracker.close };
}

/** HTTPS: HTTP/2 by ALPN (`h2`), else HTTP/1.1; certificates by SNI; client certificates per GEP-91. */
function createHTTPSPort(listenerPort: number, listeners: ServedListener[], o: PortOptions): PortParts {
  let contexts = new PortContexts(listeners, frontendOf(listeners));
  let seen = o.current();
  let update: (l: ServedListener[]) => void = () => {};
  const options = {
    ...clientCertificateOptions(listeners),
    SNICallback: (name: string, cb: (err: Error | null, ctx?: SecureContext) => void) => {
      const now = o.current();
      if (now !== seen) update(now.filter((l) => l.port === listenerPort && l.protocol === 'HTTPS'));
      seen = now;
      const ctx = contexts.contextFor(name);
      if (ctx) cb(null, ctx);
      else cb(new Error(`no listener on port ${listenerPort} serves the server name`), undefined);
    },
    ...contexts.defaultContextOptions(),
  };
  // ALPN h2 first (the server's preference wins), then http/1.1; every connection (socket and
  // HTTP/2 session) routes on this listener port; HTTP/1.1 upgrades go to the handler's.
  const server: Http2SecureServer | HttpsServer = o.http2 ? createSecureHttp2Server(o.handler, { ...options, settings: H2_SETTINGS, maxSessionMemory: H2_SESSION_MEMORY_MB }, listenerPort) : createHttpsServer({ ...options, ...http1ServerTimeouts(o.timeouts), ALPNProtocols: ['http/1.1'] }, o.handler);
  const tracker = trackConnections([server], server, trackerBounds(o));
  // node:http2's HTTP/1.1 fallback has none of node:http's timeouts: an idle keep-alive
  // connection, or one that never sends a complete request head or body, would be held forever.
  // Its connection handling reads keepAliveTimeout from the server; the tracker times the head
  // and the whole request.
  if (o.http2) (server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = o.timeouts.http1KeepAliveTimeout;
  server.on('secureConnection', (s: TLSSocket) => {
    // The listener's tls.options versions (tls-context.ts): outside them, the connection ends here.
    if (!contexts.acceptsVersion(typeof s.servername === 'string' ? s.servername : undefined, s.getProtocol())) {
      s.destroy();
      return;
    }
    if (s.alpnProtocol === 'h2') return;
    if (o.http2) tracker.http1(s, { headersMs: o.timeouts.http1HeadersTimeout, requestMs: o.timeouts.http1RequestTimeout });
    else tracker.http1(s);
    if (!o.http2) socketListenerPorts.set(s, listenerPort);
  });
  if (!o.http2) server.on('upgrade', o.handler.upgrade);
  // A failed handshake (unknown server name, plain HTTP on a TLS port) only closes that socket.
  server.on('tlsClientError', () => {});
  update = (l) => {
    contexts = new PortContexts(l, frontendOf(l));
    // The server reads these per connection: a changed validation applies to new connections.
    Object.assign(server, clientCertificateOptions(l));
    server.setSecureContext(contexts.defaultContextOptions());
  };
  return { server, update: (l) => update(l), close: tracker.close };
}

/** A TLS port: the ClientHello chooses listener and TLSRoute; the stream is passed through. */
async function openTLSPort(listenerPort: number, bind: number, host: string | undefined, o: PortOptions): Promise<PortServer> {
  const server = createTLSPortServer(() => o.current().filter((l) => l.port === listenerPort && l.protocol === 'TLS'), o.tls);
  capConnections(server, o.caps);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await bindPort(server, listenerPort, bind, host);
  return {
    protocol: 'TLS',
    boundPort: (server.address() as AddressInfo).port,
    update: () => {},
    // Streams have no request boundary: new connections stop at once, open ones get drainMs to finish.
    close: (drainMs) =>
      closeWithin(server, drainMs, () => {
        for (const s of sockets) s.destroy();
      }),
  };
}

/**
 * Caps the connections a port holds open (docs/listeners.md, "Connection caps"). The cap of all
 * clients is node's own `server.maxConnections`: a connection over it is closed as it is accepted,
 * before any byte is read, on every kind of port (the server bound is the one that accepts: on an
 * HTTP port the HTTP/1.1 server, which hands h2c connections on, so both count). The per-client
 * cap counts connections by remote address the same way, before the server's own connection
 * handling sees them; it wraps the server's emit only when set.
 */
function capConnections(server: NetServer, caps: ConnectionCaps): void {
  if (caps.maxConnections > 0) server.maxConnections = caps.maxConnections;
  const max = caps.maxConnectionsPerClient;
  if (max <= 0) return;
  const open = new Map<string, number>();
  const emit = server.emit;
  server.emit = function capEmit(this: NetServer, event: string | symbol, socket?: unknown): boolean {
    if (event === 'connection') {
      const s = socket as Socket;
      const address = s.remoteAddress;
      if (address !== undefined) {
        const n = open.get(address) ?? 0;
        if (n >= max) {
          s.destroy();
          return false;
        }
        open.set(address, n + 1);
        s.once('close', () => {
          const left = (open.get(address) ?? 1) - 1;
          if (left === 0) open.delete(address);
          else open.set(address, left);
        });
      }
    }
    return Reflect.apply(emit, this, arguments) as boolean;
  } as NetServer['emit'];
}

async function bindPort(server: NetServer, listenerPort: number, bind: number, host: string | undefined): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(new GatewayError('GW_ERR_LISTEN_FAILED', `Cannot open listener port ${listenerPort} on ${host ?? '*'}:${bind}: ${e.message}. Free the port or map it elsewhere with the option ports: { ${listenerPort}: otherPort }.`, { cause: e }));
    server.once('error', onError);
    server.listen(bind, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', () => {});
}

/** The client-certificate validation of a port: every HTTPS listener on it shares it (GEP-91 is per port). */
function frontendOf(listeners: readonly ServedListener[]): { ca?: string } {
  const fe = listeners[0]?.tls?.frontend;
  return fe ? { ca: fe.ca } : {};
}

/**
 * Server options for client certificates (GEP-91): ask for one when validation is configured;
 * AllowValidOnly refuses the handshake without a certificate that chains to the CA bundle,
 * AllowInsecureFallback accepts the connection either way.
 */
function clientCertificateOptions(listeners: readonly ServedListener[]): { requestCert: boolean; rejectUnauthorized: boolean } {
  const fe = listeners[0]?.tls?.frontend;
  return { requestCert: fe !== undefined && fe !== null, rejectUnauthorized: fe?.mode === 'AllowValidOnly' };
}
