/**
 * listen(): the Gateway opens its own listeners. One server per distinct listener port of the
 * served Gateway: node:http for HTTP listeners, node:https with certificates chosen by SNI for
 * HTTPS listeners. Reloads open and close ports and swap certificates without dropping
 * connections in flight; close() drains. See docs/listeners.md.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createHandler, socketListenerPorts, type GatewayHandler, type HandlerOptions } from '../adapters/node.js';
import type { GatewayRouter } from '../gateway/create.js';
import type { ServedListener, ServingPlan } from '../gateway/serving.js';
import type { Manifests } from '../resources/load.js';
import { GatewayError } from '../errors.js';
import { PortContexts } from './tls-context.js';
import { createTLSPortServer, type StreamBackend } from './tls-route.js';

/** Options of {@link listen}, on top of createHandler's. */
export interface ListenOptions {
  /**
   * Where each listener port binds: `{ [listenerPort]: bindPort }`, 0 for an ephemeral port.
   * A listener port not in the map binds itself. Default: `{}`.
   */
  ports?: Record<number, number>;
  /** The address every port binds to. Default: all interfaces (Node's default). Tests pass `'127.0.0.1'`. */
  host?: string;
  /** How long close() and a removed port wait for requests in flight before cutting connections, in ms. Default 30,000. */
  drainTimeout?: number;
  /**
   * Backends of TLSRoutes, keyed like `backends`: `'tcp://host:port'` (the TLS stream is piped
   * there unopened) or an in-process `net.Server`/`tls.Server` (handed the connection). Default: none.
   */
  streams?: Record<string, StreamBackend>;
  /** How long a TLS port waits for a client's complete ClientHello, in ms. Default 10,000. */
  helloTimeout?: number;
}

/** Options of {@link listen}: createHandler's options plus {@link ListenOptions}. */
export type ListenGatewayOptions = HandlerOptions & ListenOptions;

/** A Gateway serving its own ports: what {@link listen} resolves to. */
export interface ListeningGateway {
  /** `{ [listenerPort]: boundPort }` of every open port; kept current across reloads. */
  readonly ports: Readonly<Record<number, number>>;
  /** The gateway (route, explain, status). */
  readonly router: GatewayRouter;
  /** The request handler every HTTP and HTTPS port uses. */
  readonly handler: GatewayHandler;
  /** Reloads the manifests, then opens, closes and re-certifies ports to match. A failed reload changes nothing. */
  reload(manifests: Manifests): Promise<ReturnType<GatewayRouter['reload']>>;
  /** Opens, closes and re-certifies ports to match `router.serving` (after a `router.reload` made elsewhere). */
  refresh(): Promise<void>;
  /** Stops accepting, lets requests in flight finish (up to `drainTimeout`), and closes every port. */
  close(): Promise<void>;
}

/** Protocols a port server is opened for. TLS listeners (TLSRoute) are served by tls-route.ts. */
type PortProtocol = 'HTTP' | 'HTTPS' | 'TLS';

interface PortServer {
  protocol: PortProtocol;
  boundPort: number;
  update(listeners: ServedListener[]): void;
  close(drainMs: number): Promise<void>;
}

/**
 * Opens one server per distinct listener port of the served Gateway and serves it.
 * @throws GatewayConfigError / GatewayError as createHandler does; rejects with
 *   GW_ERR_LISTEN_FAILED when a port cannot be bound (every port opened so far is closed again).
 */
export async function listen(options: ListenGatewayOptions): Promise<ListeningGateway> {
  const drainMs = options.drainTimeout ?? 30_000;
  if (options.ports !== undefined && (typeof options.ports !== 'object' || options.ports === null || Object.entries(options.ports).some(([k, v]) => !/^\d+$/.test(k) || !Number.isInteger(v) || v < 0 || v > 65535))) {
    throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option ports must map listener ports to bind ports (0 for an ephemeral port), e.g. { 443: 8443 }; got ${JSON.stringify(options.ports)}.`);
  }
  const streams = validateStreams(options.streams);
  const userOnReload = options.onReload;
  let refresh: () => Promise<void> = async () => {};
  const handler = createHandler({
    // listen() serves the listeners itself: status says their TLS settings are enforced.
    ...('router' in options && options.router ? {} : { tlsTermination: 'listen' as const }),
    ...options,
    onReload: (r) => {
      userOnReload?.(r);
      if (r.ok) refresh().catch((error: Error) => userOnReload?.({ ok: false, error }));
    },
  } as HandlerOptions);
  const router = handler.router;
  // TLSRoute backends count as registered too (status: ResolvedRefs), alongside the HTTP ones.
  if (Object.keys(streams).length > 0) router.setBackends([...Object.keys(options.backends ?? {}), ...Object.keys(streams)]);
  const tlsOptions = { streams, helloTimeout: options.helloTimeout ?? 10_000, random: Math.random };
  const servers = new Map<number, PortServer>();
  const ports: Record<number, number> = {};
  let applied: ServingPlan | null = null;
  let queue: Promise<void> = Promise.resolve();

  const apply = async (plan: ServingPlan): Promise<void> => {
    const wanted = new Map<number, ServedListener[]>();
    for (const l of plan.listeners) {
      if (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS' && l.protocol !== 'TLS') continue;
      const list = wanted.get(l.port);
      if (list) list.push(l);
      else wanted.set(l.port, [l]);
    }
    const closing: Promise<void>[] = [];
    for (const [port, s] of servers) {
      const list = wanted.get(port);
      if (list && list[0]!.protocol === s.protocol) {
        s.update(list);
        continue;
      }
      servers.delete(port);
      delete ports[port];
      closing.push(s.close(drainMs));
    }
    // Removed ports drain in the background; a protocol change on a port waits for its old server.
    for (const [port, list] of wanted) {
      if (servers.has(port)) continue;
      if (closing.length > 0) await Promise.all(closing);
      const bind = options.ports?.[port] ?? port;
      const s = await openPort(list[0]!.protocol as PortProtocol, port, bind, options.host, list, handler, follow, tlsOptions);
      servers.set(port, s);
      ports[port] = s.boundPort;
    }
    applied = plan;
  };

  // A reload made with router.reload() directly is seen at the next TLS handshake: certificates
  // follow at once, ports at the refresh this schedules.
  const follow = () => {
    if (router.serving !== applied) void refresh().catch(() => undefined);
    return router.serving.listeners;
  };
  refresh = () => {
    queue = queue.then(() => (router.serving === applied ? undefined : apply(router.serving)));
    return queue;
  };

  try {
    await refresh();
  } catch (e) {
    await Promise.all([...servers.values()].map((s) => s.close(0)));
    handler.close();
    throw e;
  }

  return {
    ports,
    router,
    handler,
    async reload(manifests) {
      const r = router.reload(manifests);
      if (r.ok) await refresh();
      return r;
    },
    refresh,
    async close() {
      handler.close();
      await queue.catch(() => undefined);
      const all = [...servers.values()];
      servers.clear();
      for (const k of Object.keys(ports)) delete ports[Number(k)];
      await Promise.all(all.map((s) => s.close(drainMs)));
    },
  };
}

async function openPort(
  protocol: PortProtocol,
  listenerPort: number,
  bind: number,
  host: string | undefined,
  listeners: ServedListener[],
  handler: GatewayHandler,
  current: () => readonly ServedListener[],
  tlsOptions: Omit<Parameters<typeof createTLSPortServer>[1], never>,
): Promise<PortServer> {
  if (protocol === 'TLS') return openTLSPort(listenerPort, bind, host, current, tlsOptions);
  let server: HttpServer | HttpsServer;
  let update: (l: ServedListener[]) => void;
  if (protocol === 'HTTP') {
    server = createHttpServer(handler);
    server.on('connection', (s) => socketListenerPorts.set(s, listenerPort));
    update = () => {};
  } else {
    let contexts = new PortContexts(listeners, frontendOf(listeners));
    let seen = current();
    const https = createHttpsServer(
      {
        // HTTP/2 over ALPN is not served yet: HTTPS ports speak HTTP/1.1 (docs/listeners.md).
        ALPNProtocols: ['http/1.1'],
        ...clientCertificateOptions(listeners),
        SNICallback: (name, cb) => {
          const now = current();
          if (now !== seen) update(now.filter((l) => l.port === listenerPort && l.protocol === 'HTTPS'));
          seen = now;
          const ctx = contexts.contextFor(name);
          if (ctx) cb(null, ctx);
          else cb(new Error(`no listener on port ${listenerPort} serves the server name`), undefined);
        },
        ...contexts.defaultContextOptions(),
      },
      handler,
    );
    https.on('secureConnection', (s: TLSSocket) => socketListenerPorts.set(s, listenerPort));
    // A failed handshake (unknown server name, plain HTTP on a TLS port) only closes that socket.
    https.on('tlsClientError', () => {});
    update = (l) => {
      contexts = new PortContexts(l, frontendOf(l));
      // The server reads these per connection: a changed validation applies to new connections.
      Object.assign(https, clientCertificateOptions(l));
      https.setSecureContext(contexts.defaultContextOptions());
    };
    server = https;
  }
  const drain = trackRequests(server);
  await bindPort(server, listenerPort, bind, host);
  return { protocol, boundPort: (server.address() as AddressInfo).port, update, close: drain };
}

/** A TLS port: the ClientHello chooses listener and TLSRoute; the stream is passed through. */
async function openTLSPort(listenerPort: number, bind: number, host: string | undefined, current: () => readonly ServedListener[], tlsOptions: Parameters<typeof createTLSPortServer>[1]): Promise<PortServer> {
  const server = createTLSPortServer(() => current().filter((l) => l.port === listenerPort && l.protocol === 'TLS'), tlsOptions);
  const sockets = new Set<import('node:net').Socket>();
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
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          for (const s of sockets) s.destroy();
        }, drainMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
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

function validateStreams(streams: ListenOptions['streams']): Record<string, StreamBackend> {
  if (streams === undefined) return {};
  const ok = typeof streams === 'object' && streams !== null && Object.values(streams).every((v) => (typeof v === 'string' && /^tcp:\/\/[^/]+:\d{1,5}$/.test(v)) || (typeof v === 'object' && v !== null && typeof (v as NetServer).emit === 'function'));
  if (!ok) throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option streams must map backend references to 'tcp://host:port' or a net.Server, e.g. { 'echo:443': 'tcp://127.0.0.1:8443' }; got ${JSON.stringify(streams)}.`);
  return streams;
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

/**
 * Counts requests in flight so that close() drains: it stops accepting, answers requests that
 * arrive on kept-alive connections with `Connection: close`, closes connections as they become
 * idle, and cuts whatever is left after `drainMs`.
 */
function trackRequests(server: HttpServer | HttpsServer): (drainMs: number) => Promise<void> {
  let closing = false;
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (closing && !res.headersSent) res.setHeader('connection', 'close');
    res.once('close', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
  });
  return (drainMs) =>
    new Promise<void>((resolve) => {
      closing = true;
      const timer = setTimeout(() => server.closeAllConnections(), drainMs);
      timer.unref();
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    });
}
