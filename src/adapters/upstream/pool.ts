/**
 * The upstreams of one adapter instance: the limits on proxied traffic, and one undici pool per
 * origin with those limits applied, resolved once per backend.
 */
import type { Dispatcher } from 'undici';
import { Pool } from 'undici';
import type { ServingPlan } from '../../gateway/serving.js';
import { BackendTLSAgents, closeDispatcher, liveBackendTLSIds } from './backend-tls.js';
import { H2Sessions, DRAIN_MS } from './h2-sessions.js';

/**
 * Bounds on proxied traffic, so that neither a slow upstream nor a slow client can hold every
 * connection. The adapter option `upstream` sets them for every URL backend; a backend given as
 * `{ url, ... }` overrides them. `connections` and `maxQueued` belong to the origin's pool: the
 * first backend seen for an origin sets them.
 */
export interface UpstreamLimits {
  /** Connections per upstream origin. Default 128. */
  connections?: number;
  /** Requests per origin that may wait for a connection; beyond `connections + maxQueued` in flight (HTTP/1.1 requests and HTTP/2 streams alike) a request gets 503 (`upstream-overloaded`) at once. Default 256. */
  maxQueued?: number;
  /** Milliseconds to wait for the response headers. 0 disables. Default 15,000 (Envoy's default route timeout). The rule's `timeouts` replace it when set. */
  headersTimeout?: number;
  /** Milliseconds the upstream may stay silent between body chunks. 0 disables (e.g. for long-lived event streams). Default 15,000. The rule's `timeouts` replace it when set. */
  bodyTimeout?: number;
  /** Milliseconds a client may stall (not sending its request body, not reading the response over HTTP/1.1, an in-process handler's included; also while a body is read to be replayed by retries) before the exchange is cut and the upstream connection or HTTP/2 stream freed. 0 disables. Default 30,000. */
  clientTimeout?: number;
  /**
   * Milliseconds an HTTP/2 client may leave its stream's response unread (no flow-control window
   * for it) while the exchange waits on it, before the stream is reset with CANCEL and the
   * upstream freed (an in-process handler's response is reset the same way). It replaces `clientTimeout` there: an HTTP/2 client's reading shows only
   * when it returns window, after reading about half of it, which takes a browser reading
   * slowly but steadily longer than `clientTimeout`. 0 disables. Default 300,000 (Envoy's
   * stream idle timeout), or `clientTimeout` when that is larger or 0.
   */
  http2ClientReadTimeout?: number;
  /** Bytes of response held for a client that reads slowly, so a response up to this size frees its upstream connection at once. Default 256 KiB. */
  responseBuffer?: number;
}

/** A backend reached over HTTP. */
export interface UpstreamOptions extends UpstreamLimits {
  /** Base URL, e.g. `http://127.0.0.1:9080`. A path in it prefixes the request path. */
  url: string;
  /** The undici dispatcher to use (connection pool). Default: one pool per origin, shared by the handler's backends. */
  dispatcher?: Dispatcher;
  /**
   * How to speak to it: `'http1'` (HTTP/1.1, undici) or `'h2c'` (HTTP/2, node:http2, one session
   * per origin: with prior knowledge to an `http:` URL, over TLS with ALPN `h2` to an `https:` one).
   * Default: `'h2c'` when the Service port's appProtocol is `kubernetes.io/h2c` (or `h2c`, `http2`,
   * `grpc`), or for an `https:` backend of a GRPCRoute, else `'http1'`.
   */
  protocol?: 'http1' | 'h2c';
}

/** The defaults of {@link UpstreamLimits}. */
export const UPSTREAM_DEFAULTS: Required<UpstreamLimits> = { connections: 128, maxQueued: 256, headersTimeout: 15_000, bodyTimeout: 15_000, clientTimeout: 30_000, http2ClientReadTimeout: 300_000, responseBuffer: 256 * 1024 };

/**
 * The slow-client bounds from the limits given (undefined: not set): `clientTimeout` defaults
 * to 30 s; `http2ClientReadTimeout` to 300 s, never below what `clientTimeout` allows, and off
 * with it, unless set. They bound proxied exchanges and in-process handlers' responses alike.
 */
export function stallLimitsOf(clientTimeout: number | undefined, http2ClientReadTimeout: number | undefined): { clientTimeout: number; http2ClientReadTimeout: number } {
  const c = clientTimeout ?? UPSTREAM_DEFAULTS.clientTimeout;
  return { clientTimeout: c, http2ClientReadTimeout: http2ClientReadTimeout ?? (c === 0 ? 0 : Math.max(c, UPSTREAM_DEFAULTS.http2ClientReadTimeout)) };
}

/** The requests in flight or queued on one upstream origin, HTTP/1.1 and HTTP/2 alike. */
export interface OriginLoad {
  active: number;
  /** connections + maxQueued: more requests in flight get 503 at once. */
  limit: number;
}

/** The shared state of one upstream origin: its pool and its load. */
interface OriginState extends OriginLoad {
  pool: Pool;
}

/** An upstream as requests use it: origin, base path, pool and limits, resolved once. */
export interface PreparedUpstream {
  origin: string;
  basePath: string;
  dispatcher: Dispatcher;
  headersTimeout: number;
  bodyTimeout: number;
  clientTimeout: number;
  http2ClientReadTimeout: number;
  responseBuffer: number;
  state: OriginState;
  /** The handler's HTTP/2 sessions (h2c backends). */
  h2: H2Sessions;
}

/** The upstreams of one adapter instance: one pool per origin, with the limits applied. */
export class Upstreams {
  private readonly origins = new Map<string, OriginState>();
  private readonly cache = new WeakMap<UpstreamOptions, PreparedUpstream>();
  /** The HTTP/2 sessions of h2c backends, owned like the pools: close() closes them. */
  readonly h2: H2Sessions;
  /** The TLS dispatchers of backends under a BackendTLSPolicy, owned like the pools: close() closes them. */
  readonly backendTLS: BackendTLSAgents;
  /** The serving plan the TLS connections were last checked against (follow()). */
  private plan: ServingPlan | null = null;

  /**
   * @param defaults limits for every upstream that sets none.
   * @param drainMs how long a closed pool, Agent or HTTP/2 session may finish what is in flight before it is cut, in ms.
   * @param h2Origins the origins the router's current plan reaches over HTTP/2 (protocols/h2.ts
   *   liveH2Origins); a reload retires the sessions to any other. Absent: sessions are kept by origin.
   */
  constructor(
    private readonly defaults: UpstreamLimits = {},
    private readonly drainMs = DRAIN_MS,
    private readonly h2Origins?: () => ReadonlySet<string>,
  ) {
    this.h2 = new H2Sessions(drainMs);
    this.backendTLS = new BackendTLSAgents(UPSTREAM_DEFAULTS.connections, drainMs);
  }

  /**
   * Follows the router's serving plan: when it changed (a reload, setBackends), the HTTP/2
   * sessions and TLS Agents made under BackendTLSPolicy settings (or a client certificate) it no
   * longer holds are closed, and so are the HTTP/2 sessions to origins it no longer reaches over
   * HTTP/2; their requests in flight finish first (within the drain bound). One identity check
   * when nothing changed.
   */
  follow(plan: ServingPlan): void {
    if (plan === this.plan) return;
    this.plan = plan;
    const live = liveBackendTLSIds(plan);
    // The walk over the plan's backends runs only when a session could be retired.
    this.h2.retire(live, this.h2.size > 0 && this.h2Origins !== undefined ? this.h2Origins() : null);
    this.backendTLS.retire(live);
  }

  /** The parsed form of an upstream, computed once per options object. */
  prepare(upstream: UpstreamOptions): PreparedUpstream {
    let p = this.cache.get(upstream);
    if (p) return p;
    const given = <K extends keyof UpstreamLimits>(k: K): number | undefined => upstream[k] ?? this.defaults[k];
    const limit = <K extends keyof UpstreamLimits>(k: K): number => given(k) ?? UPSTREAM_DEFAULTS[k];
    const stall = stallLimitsOf(given('clientTimeout'), given('http2ClientReadTimeout'));
    const base = new URL(upstream.url);
    let state = this.origins.get(base.origin);
    if (!state) {
      const connections = limit('connections');
      state = { pool: new Pool(base.origin, { keepAliveTimeout: 10_000, connections }), active: 0, limit: connections + limit('maxQueued') };
      this.origins.set(base.origin, state);
    }
    p = {
      origin: base.origin,
      basePath: base.pathname === '/' ? '' : base.pathname.replace(/\/$/, ''),
      dispatcher: upstream.dispatcher ?? state.pool,
      headersTimeout: limit('headersTimeout'),
      bodyTimeout: limit('bodyTimeout'),
      clientTimeout: stall.clientTimeout,
      http2ClientReadTimeout: stall.http2ClientReadTimeout,
      responseBuffer: limit('responseBuffer'),
      state,
      h2: this.h2,
    };
    this.cache.set(upstream, p);
    return p;
  }

  /** Closes the pools and the HTTP/2 sessions (idle connections at once, busy ones when their request ends, within the drain bound). */
  close(): void {
    for (const o of this.origins.values()) closeDispatcher(o.pool, this.drainMs);
    this.origins.clear();
    this.h2.close();
    this.backendTLS.close();
  }
}

/** Checks limit options: each a non-negative integer (connections at least 1). */
export function validateLimits(where: string, limits: UpstreamLimits, fail: (msg: string) => never): void {
  for (const k of Object.keys(UPSTREAM_DEFAULTS) as (keyof UpstreamLimits)[]) {
    const v = limits[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < (k === 'connections' ? 1 : 0)) fail(`The option ${where}.${k} must be ${k === 'connections' ? 'a positive' : 'a non-negative'} integer, got ${JSON.stringify(v)}.`);
  }
}
