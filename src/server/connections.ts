/**
 * Connection handling shared by listen()'s ports: the replaying bridge for streams whose first
 * bytes were already read, the h2c sniffer of HTTP ports, and the drain of close().
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { constants, type Http2Server, type Http2SecureServer, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/**
 * The client connection as a plain Duplex that replays `head` first. Node's TLS and HTTP/2
 * servers read a net.Socket's native handle directly, which would skip bytes already read; a
 * Duplex is read through JavaScript.
 */
export function bridge(client: Socket, head: Buffer): Duplex {
  const d = new Duplex({
    read() {
      client.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      client.write(chunk, cb);
    },
    final(cb) {
      client.end();
      cb();
    },
    destroy(err, cb) {
      client.destroy();
      cb(err);
    },
  });
  d.push(head);
  client.on('data', (c: Buffer) => {
    if (!d.push(c)) client.pause();
  });
  client.on('end', () => d.push(null));
  client.on('close', () => d.destroy());
  return d;
}

/** The HTTP/2 connection preface (RFC 9113 section 3.4): a client with prior knowledge sends it first. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** The client's address, kept for an h2c session whose socket is a bridge (X-Forwarded-For). */
const bridgedPeers = new WeakMap<Duplex, { address: string | undefined; port: number | undefined; family: string | undefined }>();

/**
 * Makes a node:http server also speak h2c (HTTP/2 with prior knowledge, RFC 9113 section 3.3)
 * on the same port: each connection's first bytes are compared with the HTTP/2 preface; a
 * connection that starts with it goes to `h2`, any other to the HTTP/1.1 server itself. At most
 * the preface's 24 bytes are read, within `sniffTimeout` ms, before the choice; `onHttp1` is told
 * of each HTTP/1.1 connection.
 */
export function serveH2cToo(h1: HttpServer, h2: Http2Server, sniffTimeout: number, onHttp1: (socket: Socket) => void): void {
  // The HTTP/1.1 server's own connection listener runs once the connection is known to be HTTP/1.1.
  const http1 = h1.listeners('connection') as ((socket: Socket) => void)[];
  h1.removeAllListeners('connection');
  h2.on('session', (session: ServerHttp2Session) => {
    // The session's socket wraps the bridge, which has no address of its own: give it the client's
    // (the proxy reads req.socket.remoteAddress for X-Forwarded-For).
    const socket = session.socket as unknown as { stream?: Duplex; _peername?: unknown };
    const peer = socket.stream ? bridgedPeers.get(socket.stream) : undefined;
    if (peer) socket._peername = peer;
  });
  h1.on('connection', (socket: Socket) => {
    socket.on('error', () => socket.destroy());
    let head: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), sniffTimeout);
    timer.unref();
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const n = Math.min(head.length, H2_PREFACE.length);
      const isH2 = head.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (isH2 && n < H2_PREFACE.length) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      if (isH2) {
        const d = bridge(socket, head);
        bridgedPeers.set(d, { address: socket.remoteAddress, port: socket.remotePort, family: socket.remoteFamily });
        h2.emit('connection', d);
        return;
      }
      socket.unshift(head);
      onHttp1(socket);
      for (const l of http1) l.call(h1, socket);
      socket.resume();
    };
    socket.on('data', onData);
  });
}

/** What a port's connection tracker bounds, in ms; 0: no bound. */
export interface TrackerBounds {
  /** Inactivity after which an HTTP/2 session is sent GOAWAY. */
  idleMs: number;
  /** How long a session sent GOAWAY for inactivity waits for its streams before it is cut (listen()'s drainTimeout). */
  drainMs: number;
  /** How long an HTTP/2 stream may take to send its whole request while nothing of its response was sent (boundH2Request). */
  h2RequestMs: number;
}

/** The request bounds of an HTTP/1.1 connection handed to a tracker, in ms; 0: no bound. */
export interface Http1Bounds {
  /** Time to send a request head. */
  headersMs: number;
  /** Time to send a whole request, head and body. */
  requestMs: number;
}

/**
 * Tracks a port's connections so that close() drains: HTTP/1.1 connections (handed in with
 * `http1(socket)`) answer requests that arrive while closing with `Connection: close` and close
 * once idle; HTTP/2 sessions (the servers' `session` events) are sent GOAWAY and close once their
 * streams finish. After `drainMs` whatever is left is cut. An HTTP/2 session with no activity for
 * `bounds.idleMs` (0: never) is sent GOAWAY too, so a client that opens one and sends nothing
 * holds nothing; the streams it still has get `bounds.drainMs` to finish, as at close(), so a
 * stream that never ends (a handler that never answers) does not hold the session for ever.
 * An HTTP/1.1 connection handed in with `Http1Bounds` must send each request head within
 * `headersMs`, and each whole request (head and body) within `requestMs`, of the connection
 * opening or its last response ending (what node:http's `headersTimeout` and `requestTimeout`
 * do, for servers that lack them: node:http2's HTTP/1.1 fallback). A request received whole is
 * not cut while its response is written. An HTTP/2 stream must send its whole request within
 * `bounds.h2RequestMs` unless its response starts first (boundH2Request).
 */
export function trackConnections(servers: readonly (HttpServer | HttpsServer | Http2Server | Http2SecureServer)[], listening: { close(cb: () => void): unknown }, bounds: TrackerBounds): { http1(socket: Duplex, limits?: Http1Bounds): void; close(drainMs: number): Promise<void> } {
  let closing = false;
  // HTTP/1.1 connections and their requests in flight.
  const h1 = new Map<Duplex, number>();
  const sessions = new Set<ServerHttp2Session>();
  // The timers of HTTP/1.1 connections handed in with bounds, armed when the connection opens or
  // its last response ends: the head timer until a request arrives, the request timer until then
  // and while that request (`req`) is still being received.
  const timed = new Map<Duplex, Http1Bounds & { head: NodeJS.Timeout | undefined; request: NodeJS.Timeout | undefined; req: IncomingMessage | undefined }>();
  const arm = (socket: Duplex) => {
    const t = timed.get(socket);
    if (t === undefined) return;
    clearTimeout(t.head);
    clearTimeout(t.request);
    t.req = undefined;
    t.head = t.headersMs > 0 ? setTimeout(() => h1.get(socket) === 0 && socket.destroy(), t.headersMs).unref() : undefined;
    t.request = t.requestMs > 0 ? setTimeout(() => (h1.get(socket) === 0 || t.req?.complete === false) && socket.destroy(), t.requestMs).unref() : undefined;
  };
  const endIfIdle = (socket: Duplex) => {
    // Ended, not destroyed: what was written is flushed first. The timer cuts a peer that lingers.
    if (h1.get(socket) === 0) socket.end();
  };
  // The connection of each session. node:http2 emits 'session' from its connection listener, so
  // the connection seen last is the session's; session.socket is a proxy that refuses destroy().
  const sockets = new WeakMap<ServerHttp2Session, Duplex>();
  let arriving: Duplex | undefined;
  // A session that was sent GOAWAY only ends its connection once its streams are gone, and then
  // waits for the peer to close it: a cut destroys the connection too.
  const cut = (session: ServerHttp2Session) => {
    session.destroy();
    sockets.get(session)?.destroy();
  };
  // GOAWAY, then the drain bound for the streams left (close() has its own cut for every session).
  const closeIdle = (session: ServerHttp2Session) => {
    if (session.closed || session.destroyed) return;
    session.close();
    if (bounds.drainMs <= 0) return;
    const timer = setTimeout(() => cut(session), bounds.drainMs).unref();
    session.once('close', () => clearTimeout(timer));
  };
  for (const server of servers) {
    server.prependListener('connection', (socket: Duplex) => (arriving = socket));
    server.prependListener('secureConnection', (socket: Duplex) => (arriving = socket));
    server.on('session', (session: ServerHttp2Session) => {
      if (arriving !== undefined) sockets.set(session, arriving);
      arriving = undefined;
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
      if (closing) session.close();
      // node:http2 runs the timer and resets it on any stream activity; PINGs do not reset it.
      // close() is graceful: streams in flight finish, an idle session ends at once.
      else if (bounds.idleMs > 0) session.setTimeout(bounds.idleMs, () => closeIdle(session));
    });
    (server as HttpServer).prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.httpVersionMajor === 2) {
        if (bounds.h2RequestMs > 0) boundH2Request(req, res, bounds.h2RequestMs);
        return;
      }
      const socket = req.socket;
      if (!h1.has(socket)) return;
      const n = h1.get(socket)! + 1;
      h1.set(socket, n);
      const t = timed.get(socket);
      if (t !== undefined) {
        clearTimeout(t.head);
        t.req = req;
      }
      if (closing && !res.headersSent) res.setHeader('connection', 'close');
      res.once('close', () => {
        if (!h1.has(socket)) return;
        const left = h1.get(socket)! - 1;
        h1.set(socket, left);
        if (left === 0) arm(socket);
        if (closing) setImmediate(() => endIfIdle(socket));
      });
    });
  }
  return {
    http1(socket, limits) {
      h1.set(socket, 0);
      if (limits !== undefined && (limits.headersMs > 0 || limits.requestMs > 0)) {
        timed.set(socket, { ...limits, head: undefined, request: undefined, req: undefined });
        arm(socket);
      }
      socket.once('close', () => {
        h1.delete(socket);
        const t = timed.get(socket);
        clearTimeout(t?.head);
        clearTimeout(t?.request);
        timed.delete(socket);
      });
    },
    close(drainMs) {
      closing = true;
      const closed = closeWithin(listening, drainMs, () => {
        for (const s of h1.keys()) s.destroy();
        for (const s of sessions) cut(s);
      });
      for (const s of h1.keys()) endIfIdle(s);
      for (const s of sessions) s.close();
      return closed;
    },
  };
}

/**
 * Resets an HTTP/2 stream with CANCEL when its request is not received whole within `ms` and
 * nothing of its response was sent: HTTP/1.1's whole-request bound (node:http's requestTimeout),
 * with Envoy's request_timeout's exception, so that a stream that answers (a gRPC stream, a
 * response streamed while the upload goes on) lives as long as both sides like. The reset closes
 * the response, which ends what the stream reached (a proxied exchange aborts its upstream). The
 * stream's END_STREAM is read from nghttp2's state: it counts even if the handler has not read
 * the body.
 */
function boundH2Request(req: IncomingMessage, res: ServerResponse, ms: number): void {
  const stream = (req as unknown as { stream: ServerHttp2Stream }).stream;
  if (stream.endAfterHeaders) return;
  const timer = setTimeout(() => {
    if (stream.destroyed || stream.closed || res.headersSent || stream.state.remoteClose === 1) return;
    stream.close(constants.NGHTTP2_CANCEL);
  }, ms).unref();
  res.once('close', () => clearTimeout(timer));
}

/** Stops `listening` accepting and resolves once its connections are gone; `cut` ends the rest after `drainMs`. */
export function closeWithin(listening: { close(cb: () => void): unknown }, drainMs: number, cut: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(cut, drainMs);
    timer.unref();
    listening.close(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
