/**
 * TLS listeners (TLSRoute, spec digest 1.6, 5.4, 9.2): a TCP front end reads the server name
 * from the ClientHello without terminating TLS, chooses the listener and the TLSRoute by it, and
 * pipes the raw stream to the chosen backend (Passthrough), or terminates TLS with the
 * listener's certificate and pipes the cleartext (Terminate; the stream is plain TCP, no HTTP
 * assumptions: spec digest 1.6). Listeners of both modes may share a port. Hostile clients are bounded: at most
 * MAX_CLIENT_HELLO_BYTES are read and `helloTimeout` ms waited before the ClientHello is
 * complete, and on a Terminate listener `helloTimeout` ms again for the rest of the handshake
 * (the backend is connected only after it); anything else closes the connection. A routed
 * stream silent both ways for `streamIdleTimeout` ms is closed.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, TLSSocket, type ConnectionOptions } from 'node:tls';
import { backendTLSOptions } from '../../adapters/upstream/backend-tls.js';
import { backendTLSFor, routeTLS, type ServedListener, type ServingPlan } from '../../gateway/serving.js';
import { parseClientHello } from './client-hello.js';
import { bridge } from '../connections.js';
import { PortContexts } from '../tls-context.js';

/** The most reads a ClientHello may take (a real one takes one to three). */
const MAX_HELLO_CHUNKS = 256;

/** A TLSRoute backend: `'tcp://host:port'` (the stream is piped there) or an in-process `net.Server`/`tls.Server` (handed the connection). */
export type StreamBackend = string | Server;

/** Options of a TLS port. */
export interface TLSPortOptions {
  /** The stream backends, keyed like `backends`. */
  streams: Readonly<Record<string, StreamBackend>>;
  /** ms to wait for a complete ClientHello. */
  helloTimeout: number;
  /** ms a routed stream may go without traffic either way before it is closed; 0: no bound. */
  streamIdleTimeout: number;
  /** Weighted pick in [0, 1). */
  random: () => number;
  /** The serving plan now: the BackendTLSPolicies that re-encrypt terminated streams. */
  plan: () => ServingPlan;
}

/** A net.Server for one TLS listener port. `current()` gives the port's listeners at each connection. */
export function createTLSPortServer(current: () => readonly ServedListener[], options: TLSPortOptions): Server {
  return createServer((socket) => {
    socket.on('error', () => socket.destroy());
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => socket.destroy(), options.helloTimeout);
    timer.unref();
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      // Each chunk re-reads what came before: a client dribbling bytes is cut off, not served.
      if (chunks.length > MAX_HELLO_CHUNKS) {
        socket.destroy();
        return;
      }
      const buffered = chunks.length === 1 ? chunk : Buffer.concat(chunks, size);
      const hello = parseClientHello(buffered);
      if (hello.status === 'incomplete') return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      if (hello.status === 'invalid') {
        socket.destroy();
        return;
      }
      const chosen = routeTLS(current(), hello.serverName, options.random);
      const target = chosen?.backend ? options.streams[chosen.backend] : undefined;
      if (target === undefined) {
        socket.destroy();
        return;
      }
      // A silent stream does not hold its connections for ever: the client's socket sees the
      // traffic of both directions (Passthrough and Terminate alike), and closing it closes the backend's.
      if (options.streamIdleTimeout > 0) socket.setTimeout(options.streamIdleTimeout, () => socket.destroy());
      if (chosen!.listener.tls?.mode === 'Terminate') {
        const ctx = contextsOf(chosen!.listener).contextFor(hello.serverName ?? undefined);
        if (ctx === null) {
          socket.destroy();
          return;
        }
        // A BackendTLSPolicy on the backend's Service re-encrypts the stream to it (GEP-1897).
        const plan = options.plan();
        const svc = chosen!.picked?.service;
        const policy = svc !== undefined && typeof target === 'string' ? backendTLSFor(plan, svc) : undefined;
        if (policy?.refused !== undefined) {
          socket.destroy();
          return;
        }
        const clear = new TLSSocket(bridge(socket, buffered) as unknown as Socket, { isServer: true, secureContext: ctx });
        const cut = () => {
          clear.destroy();
          socket.destroy();
        };
        clear.on('error', cut);
        // The rest of the handshake is bounded like the ClientHello, and the backend is reached
        // only once it is done: a client that stops after its ClientHello holds no backend connection.
        const handshake = setTimeout(cut, options.helloTimeout);
        handshake.unref();
        clear.once('close', () => clearTimeout(handshake));
        clear.once('secure', () => {
          clearTimeout(handshake);
          pipeTo(target, clear, Buffer.alloc(0), policy !== undefined ? backendTLSOptions(policy, plan.backendClientCertificate) : undefined);
        });
        return;
      }
      pipeTo(target, socket, buffered);
    };
    socket.on('data', onData);
  });
}

/** SecureContexts per listener object (a reload makes new listener objects). */
const listenerContexts = new WeakMap<ServedListener, PortContexts>();
function contextsOf(l: ServedListener): PortContexts {
  let c = listenerContexts.get(l);
  if (!c) listenerContexts.set(l, (c = new PortContexts([l], {})));
  return c;
}

/**
 * Hands the client stream (whose first bytes were read as `head`) to a backend: over TLS with
 * `tls` (a BackendTLSPolicy's verified client options), else as is.
 */
function pipeTo(target: StreamBackend, client: Socket, head: Buffer, tls?: ConnectionOptions): void {
  if (typeof target !== 'string') {
    target.emit('connection', bridge(client, head));
    return;
  }
  const url = new URL(target);
  const address = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) };
  const upstream = tls ? tlsConnect({ ...tls, ...address }) : connect(address);
  const fail = () => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', fail);
  client.on('error', fail);
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  upstream.write(head);
  client.pipe(upstream);
  upstream.pipe(client);
}
