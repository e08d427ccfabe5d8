/**
 * Connection handling shared by listen()'s ports: the replaying bridge for streams whose first
 * bytes were already read, the h2c sniffer of HTTP ports, and the drain of close().
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Http2Server, Http2SecureServer, ServerHttp2Session } from 'node:http2';
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

/**
 * Tracks a port's connections so that close() drains: HTTP/1.1 connections (handed in with
 * `http1(socket)`) answer requests that arrive while closing with `Connection: close` and close
 * once idle; HTTP/2 sessions (the servers' `session` events) are sent GOAWAY and close once their
 * streams finish. After `drainMs` whatever is left is cut. An HTTP/2 session with no activity for
 * `idleMs` (0: never) is sent GOAWAY too, so a client that opens one and sends nothing holds nothing.
 * An HTTP/1.1 connection handed in with `headersMs` must send each request head within that many
 * ms of the connection opening or its last response ending (what node:http's `headersTimeout`
 * does, for servers that lack it: node:http2's HTTP/1.1 fallback).
 */
export function trackConnections(servers: readonly (HttpServer | HttpsServer | Http2Server | Http2SecureServer)[], listening: { close(cb: () => void): unknown }, idleMs: number): { http1(socket: Duplex, headersMs?: number): void; close(drainMs: number): Promise<void> } {
  let closing = false;
  // HTTP/1.1 connections and their requests in flight.
  const h1 = new Map<Duplex, number>();
  const sessions = new Set<ServerHttp2Session>();
  // The head timers of HTTP/1.1 connections handed in with headersMs: armed while no request is in flight.
  const heads = new Map<Duplex, { ms: number; timer: NodeJS.Timeout | undefined }>();
  const armHead = (socket: Duplex) => {
    const h = heads.get(socket);
    if (h === undefined) return;
    clearTimeout(h.timer);
    h.timer = setTimeout(() => {
      if (h1.get(socket) === 0) socket.destroy();
    }, h.ms);
    h.timer.unref();
  };
  const endIfIdle = (socket: Duplex) => {
    // Ended, not destroyed: what was written is flushed first. The timer cuts a peer that lingers.
    if (h1.get(socket) === 0) socket.end();
  };
  for (const server of servers) {
    server.on('session', (session: ServerHttp2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
      if (closing) session.close();
      // node:http2 runs the timer and resets it on any stream activity; PINGs do not reset it.
      // close() is graceful: streams in flight finish, an idle session ends at once.
      else if (idleMs > 0) session.setTimeout(idleMs, () => session.close());
    });
    (server as HttpServer).prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.httpVersionMajor === 2) return;
      const socket = req.socket;
      if (!h1.has(socket)) return;
      const n = h1.get(socket)! + 1;
      h1.set(socket, n);
      if (n === 1) clearTimeout(heads.get(socket)?.timer);
      if (closing && !res.headersSent) res.setHeader('connection', 'close');
      res.once('close', () => {
        if (!h1.has(socket)) return;
        const left = h1.get(socket)! - 1;
        h1.set(socket, left);
        if (left === 0) armHead(socket);
        if (closing) setImmediate(() => endIfIdle(socket));
      });
    });
  }
  return {
    http1(socket, headersMs = 0) {
      h1.set(socket, 0);
      if (headersMs > 0) {
        heads.set(socket, { ms: headersMs, timer: undefined });
        armHead(socket);
      }
      socket.once('close', () => {
        h1.delete(socket);
        clearTimeout(heads.get(socket)?.timer);
        heads.delete(socket);
      });
    },
    close(drainMs) {
      closing = true;
      const closed = closeWithin(listening, drainMs, () => {
        for (const s of h1.keys()) s.destroy();
        for (const s of sessions) s.destroy();
      });
      for (const s of h1.keys()) endIfIdle(s);
      for (const s of sessions) s.close();
      return closed;
    },
  };
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
