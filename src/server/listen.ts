/**
 * listen(): the Gateway opens its own listeners. One server per distinct listener port of the
 * served Gateway (ports.ts): HTTP/1.1 and h2c for HTTP listeners, HTTP/2 and HTTP/1.1 by ALPN
 * with certificates chosen by SNI for HTTPS listeners, TLSRoute passthrough for TLS listeners.
 * Reloads open and close ports and swap certificates without dropping connections in flight;
 * close() drains. See docs/listeners.md.
 */
import type { Server as NetServer } from 'node:net';
import { asWrapperOptions, createHandler, followServing, kDrainTimeout, type Drained, type GatewayHandler, type HandlerOptions } from '../adapters/node.js';
import type { GatewayRouter } from '../gateway/create.js';
import type { ServedListener, ServingPlan } from '../gateway/serving.js';
import type { Manifests } from '../resources/load.js';
import { DRAIN_MS } from '../adapters/upstream/h2-sessions.js';
import { GatewayError } from '../errors.js';
import { openPort, type ConnectionTimeouts, type PortOptions, type PortProtocol, type PortServer } from './ports.js';
import type { StreamBackend } from './tls/tls-route.js';

/** Options of {@link listen}, on top of createHandler's. */
export interface ListenOptions {
  /**
   * Where each listener port binds: `{ [listenerPort]: bindPort }`, 0 for an ephemeral port.
   * A listener port not in the map binds itself. Default: `{}`.
   */
  ports?: Record<number, number>;
  /** The address every port binds to. Default: all interfaces (Node's default). Tests pass `'127.0.0.1'`. */
  host?: string;
  /**
   * How long close() and a removed port wait for requests in flight before cutting connections,
   * in ms. The same bound applies to backend connections: the pools, TLS Agents and HTTP/2
   * sessions that close() closes or a reload retires finish their requests in flight within it, and
   * so do the streams of a client's HTTP/2 session sent GOAWAY for inactivity (http2IdleTimeout).
   * Default 30,000.
   */
  drainTimeout?: number;
  /**
   * Backends of TLSRoutes, keyed like `backends`: `'tcp://host:port'` (the TLS stream is piped
   * there unopened) or an in-process `net.Server`/`tls.Server` (handed the connection). Default: none.
   */
  streams?: Record<string, StreamBackend>;
  /**
   * How long a port waits for a client's first bytes, in ms: the complete ClientHello on TLS
   * ports, the bytes that tell HTTP/1.1 from h2c on HTTP ports. Default 10,000.
   */
  helloTimeout?: number;
  /**
   * How long a TLSRoute stream (Passthrough or Terminate) may go without traffic either way
   * before both its connections are closed, in ms. 0 disables. Default 3,600,000 (an hour,
   * Envoy's TCP proxy idle timeout).
   */
  streamIdleTimeout?: number;
  /**
   * Serve HTTP/2: ALPN `h2` (preferred to `http/1.1`) on HTTPS ports, and h2c with prior
   * knowledge (RFC 9113 section 3.3) beside HTTP/1.1 on HTTP ports. Default true.
   */
  http2?: boolean;
  /**
   * How long a client's HTTP/2 session may go without any activity (no request, no stream data
   * either way; PINGs do not count) before it is sent GOAWAY and closed, in ms. Streams in flight
   * still finish within drainTimeout, then the connection is cut; a session with nothing in flight
   * closes at once. 0 disables. Default 60,000.
   */
  http2IdleTimeout?: number;
  /** How long an HTTP/1.1 keep-alive connection may stay idle between requests, in ms (node:http's `keepAliveTimeout`). 0 disables. Default 5,000. */
  http1KeepAliveTimeout?: number;
  /**
   * How long an HTTP/1.1 connection may take to send a request head, from the connection opening
   * or the previous response ending, in ms (node:http's `headersTimeout`). 0 disables. Not above
   * http1RequestTimeout unless that is 0. Default 60,000, or http1RequestTimeout when that is shorter.
   */
  http1HeadersTimeout?: number;
  /**
   * How long an HTTP/1.1 connection may take to send a whole request, head and body, counted as
   * http1HeadersTimeout, in ms (node:http's `requestTimeout`); a request received whole is not cut
   * while it is answered. 0 disables. Default 300,000.
   */
  http1RequestTimeout?: number;
  /**
   * How long an HTTP/2 stream may take to send its whole request, headers and body (up to the
   * client's END_STREAM), while nothing of its response has been sent, in ms; the stream is then
   * reset with CANCEL, which ends what it reached (an upstream exchange, a handler's response).
   * A stream whose request arrived whole, or whose response has started, is not cut by it (as
   * Envoy's request_timeout: a gRPC stream that answers lives as long as it likes). 0 disables.
   * Default 300,000 (as http1RequestTimeout).
   */
  http2RequestTimeout?: number;
  /**
   * The most client connections a port holds open at once, every client together (node's
   * `server.maxConnections`): a connection over it is closed as it is accepted. Per port; HTTP/1.1
   * and h2c connections of an HTTP port count together. 0: no cap. Default 10,000.
   */
  maxConnections?: number;
  /**
   * The most connections one client IP address holds open on a port at once; one more is closed
   * as it is accepted. 0: no cap. Default 0: clients behind one NAT or load balancer share an
   * address (see docs/listeners.md, "Connection caps").
   */
  maxConnectionsPerClient?: number;
}

/** Every listen() option, so that createGateway's unknown-option warning knows them (TypeScript keeps the list complete). */
const LISTEN_OPTION_NAMES = Object.keys({
  ports: true,
  host: true,
  drainTimeout: true,
  streams: true,
  helloTimeout: true,
  streamIdleTimeout: true,
  http2: true,
  http2IdleTimeout: true,
  http1KeepAliveTimeout: true,
  http1HeadersTimeout: true,
  http1RequestTimeout: true,
  http2RequestTimeout: true,
  maxConnections: true,
  maxConnectionsPerClient: true,
} satisfies Record<keyof ListenOptions, true>);

/** The default of maxConnections, per port (docs/listeners.md, "Connection caps"). */
const MAX_CONNECTIONS = 10_000;

/** The default of streamIdleTimeout: an hour, as Envoy's TCP proxy. */
const STREAM_IDLE_MS = 3_600_000;

/**
 * The defaults of the connection timeouts: node:http's for HTTP/1.1, a minute of inactivity for an
 * HTTP/2 session, and HTTP/1.1's whole-request bound for an HTTP/2 stream's request. As in node:http, the head's default is the whole request's when that is shorter.
 */
const CONNECTION_TIMEOUTS: ConnectionTimeouts = { http2IdleTimeout: 60_000, http1KeepAliveTimeout: 5_000, http1HeadersTimeout: 60_000, http1RequestTimeout: 300_000, http2RequestTimeout: 300_000 };

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
  /**
   * Reloads the manifests, then opens, closes and re-certifies ports to match. Manifests that do
   * not load change nothing (the result says why). Rejects with GW_ERR_LISTEN_FAILED when a new
   * port cannot be bound: the new manifests are then in effect on every other port, and the next
   * reload() or refresh() tries that port again.
   */
  reload(manifests: Manifests): Promise<ReturnType<GatewayRouter['reload']>>;
  /** Opens, closes and re-certifies ports to match `router.serving` (after a `router.reload` made elsewhere), and retries ports that could not be bound. Rejects with GW_ERR_LISTEN_FAILED as reload() does. */
  refresh(): Promise<void>;
  /** Stops accepting, lets requests in flight finish (up to `drainTimeout`), and closes every port. */
  close(): Promise<void>;
}

/**
 * Opens one server per distinct listener port of the served Gateway and serves it.
 * @throws GatewayConfigError / GatewayError as createHandler does; rejects with
 *   GW_ERR_LISTEN_FAILED when a port cannot be bound (every port opened so far is closed again).
 */
export async function listen(options: ListenGatewayOptions): Promise<ListeningGateway> {
  for (const k of ['drainTimeout', 'helloTimeout', 'streamIdleTimeout', 'http2IdleTimeout', 'http1KeepAliveTimeout', 'http1HeadersTimeout', 'http1RequestTimeout', 'http2RequestTimeout'] as const) validateMs(k, options[k]);
  for (const k of ['maxConnections', 'maxConnectionsPerClient'] as const) validateCount(k, options[k]);
  const drainMs = options.drainTimeout ?? DRAIN_MS;
  const timeouts = connectionTimeouts(options);
  if (options.ports !== undefined && (typeof options.ports !== 'object' || options.ports === null || Object.entries(options.ports).some(([k, v]) => !/^\d+$/.test(k) || !Number.isInteger(v) || v < 0 || v > 65535))) {
    throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option ports must map listener ports to bind ports (0 for an ephemeral port), e.g. { 443: 8443 }; got ${JSON.stringify(options.ports)}.`);
  }
  const streams = validateStreams(options.streams);
  const userOnReload = options.onReload;
  let refresh: () => Promise<void> = async () => {};
  const handler = createHandler(
    asWrapperOptions(
      {
        // listen() serves the listeners itself: status says their TLS settings are enforced.
        ...('router' in options && options.router ? {} : { tlsTermination: 'listen' as const }),
        ...options,
        onReload: (r) => {
          userOnReload?.(r);
          if (r.ok) refresh().catch((error: Error) => userOnReload?.({ ok: false, error }));
        },
        // One drain bound for both sides: the client connections of the ports and the handler's backend connections.
        [kDrainTimeout]: drainMs,
      } as HandlerOptions & Drained,
      'listen',
      LISTEN_OPTION_NAMES,
    ),
  );
  const router = handler.router;
  // TLSRoute backends count as registered too (status: ResolvedRefs), alongside the HTTP ones.
  if (Object.keys(streams).length > 0) router.setBackends([...Object.keys(options.backends ?? {}), ...Object.keys(streams)]);
  if (options.http2 !== undefined && typeof options.http2 !== 'boolean') throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option http2 must be true or false; got ${JSON.stringify(options.http2)}.`);
  const portOptions: PortOptions = {
    handler,
    current: () => follow(),
    tls: { streams, helloTimeout: options.helloTimeout ?? 10_000, streamIdleTimeout: options.streamIdleTimeout ?? STREAM_IDLE_MS, random: Math.random, plan: () => router.serving },
    http2: options.http2 ?? true,
    timeouts,
    drainMs,
    caps: { maxConnections: options.maxConnections ?? MAX_CONNECTIONS, maxConnectionsPerClient: options.maxConnectionsPerClient ?? 0 },
  };
  const servers = new Map<number, PortServer>();
  const ports: Record<number, number> = {};
  let applied: ServingPlan | null = null;
  /** Listener ports of `applied` that could not be bound: the next refresh() tries them again. */
  const unbound = new Set<number>();
  let queue: Promise<void> = Promise.resolve();

  const apply = async (plan: ServingPlan): Promise<void> => {
    // Upstream connections under TLS settings the plan replaced close once their requests finish.
    followServing(handler);
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
    // A port that cannot be bound does not stop the others: they serve the new plan.
    unbound.clear();
    const failures: GatewayError[] = [];
    for (const [port, list] of wanted) {
      if (servers.has(port)) continue;
      if (closing.length > 0) await Promise.all(closing);
      const bind = options.ports?.[port] ?? port;
      try {
        const s = await openPort(list[0]!.protocol as PortProtocol, port, bind, options.host, list, portOptions);
        servers.set(port, s);
        ports[port] = s.boundPort;
      } catch (e) {
        unbound.add(port);
        failures.push(e as GatewayError);
      }
    }
    applied = plan;
    if (failures.length === 1) throw failures[0]!;
    if (failures.length > 1) throw new GatewayError('GW_ERR_LISTEN_FAILED', `Cannot open ${failures.length} listener ports: ${failures.map((f) => f.message).join(' ')}`, { cause: failures[0] });
  };

  // A reload made with router.reload() directly is seen at the next TLS handshake: certificates
  // follow at once, ports at the refresh this schedules.
  const follow = () => {
    if (router.serving !== applied) void refresh().catch(() => undefined);
    return router.serving.listeners;
  };
  refresh = () => {
    // A failed refresh (a port could not be bound) must not stop the ones after it.
    queue = queue.catch(() => undefined).then(() => (router.serving === applied && unbound.size === 0 ? undefined : apply(router.serving)));
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

/** The connection timeouts of listen()'s options, defaults filled in. @throws GatewayError GW_ERR_OPTIONS_INVALID for a head bound above the whole request's. */
function connectionTimeouts(options: ListenOptions): ConnectionTimeouts {
  const request = options.http1RequestTimeout ?? CONNECTION_TIMEOUTS.http1RequestTimeout;
  const headers = options.http1HeadersTimeout ?? (request > 0 ? Math.min(CONNECTION_TIMEOUTS.http1HeadersTimeout, request) : CONNECTION_TIMEOUTS.http1HeadersTimeout);
  if (request > 0 && headers > request) {
    throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option http1HeadersTimeout (${headers} ms) must not be above http1RequestTimeout (${request} ms): the head is part of the request. Lower it, or raise http1RequestTimeout (0 disables it).`);
  }
  return {
    http2IdleTimeout: options.http2IdleTimeout ?? CONNECTION_TIMEOUTS.http2IdleTimeout,
    http1KeepAliveTimeout: options.http1KeepAliveTimeout ?? CONNECTION_TIMEOUTS.http1KeepAliveTimeout,
    http1HeadersTimeout: headers,
    http1RequestTimeout: request,
    http2RequestTimeout: options.http2RequestTimeout ?? CONNECTION_TIMEOUTS.http2RequestTimeout,
  };
}

/** A timeout option: a non-negative integer of ms, or absent. */
function validateMs(name: string, v: unknown): void {
  if (v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 0)) return;
  throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option ${name} must be a non-negative integer of milliseconds; got ${JSON.stringify(v)}.`);
}

/** A connection cap option: a non-negative integer, or absent. */
function validateCount(name: string, v: unknown): void {
  if (v === undefined || (typeof v === 'number' && Number.isInteger(v) && v >= 0)) return;
  throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option ${name} must be a non-negative integer (0: no cap); got ${JSON.stringify(v)}.`);
}

function validateStreams(streams: ListenOptions['streams']): Record<string, StreamBackend> {
  if (streams === undefined) return {};
  const ok = typeof streams === 'object' && streams !== null && Object.values(streams).every((v) => (typeof v === 'string' && /^tcp:\/\/[^/]+:\d{1,5}$/.test(v)) || (typeof v === 'object' && v !== null && typeof (v as NetServer).emit === 'function'));
  if (!ok) throw new GatewayError('GW_ERR_OPTIONS_INVALID', `The option streams must map backend references to 'tcp://host:port' or a net.Server, e.g. { 'echo:443': 'tcp://127.0.0.1:8443' }; got ${JSON.stringify(streams)}.`);
  return streams;
}

