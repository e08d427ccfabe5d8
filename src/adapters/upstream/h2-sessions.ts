/**
 * The HTTP/2 client sessions of one adapter instance (h2c, gRPC and h2-over-TLS backends): one
 * `node:http2` session per origin and TLS settings carries every request to it (HTTP/2
 * multiplexes streams, so the session is the pool). An `https:` origin is reached over TLS with
 * ALPN `h2`, verified as its BackendTLSPolicy says (upstream/backend-tls.ts), or against the
 * system CAs and the URL's host name without one. Each handler owns its sessions, like its undici
 * pools: `handler.close()` closes them, so the upstreams see their connections end and a process
 * with closed handlers exits.
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import type { BackendTLS, Certificate } from '../../gateway/serving.js';
import { backendTLSOptions } from './backend-tls.js';

/** The TLS a session to an `https:` origin uses: the backend's BackendTLSPolicy and the Gateway's client certificate (GEP-3155). */
export interface H2SessionTLS {
  policy: BackendTLS;
  clientCertificate: Certificate | null;
}

export class H2Sessions {
  private readonly sessions = new Map<string, ClientHttp2Session>();
  /** A number per policy and certificate object, for session keys (a reload makes new objects, so new sessions). */
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private closed = false;

  /**
   * The session to `origin` (`http://host:port` for h2c, `https://host:port` for TLS) under
   * `tls`, connected on first use and replaced once it closes or is told to go away. Sessions
   * under different policies (or client certificates) are never shared.
   * @throws Error once closed: the exchange answers it as an upstream failure.
   */
  sessionFor(origin: string, tls?: H2SessionTLS): ClientHttp2Session {
    if (this.closed) throw new Error('the handler was closed: its HTTP/2 sessions are gone');
    const key = tls === undefined ? origin : `${origin} ${this.idOf(tls.policy)} ${tls.clientCertificate === null ? 0 : this.idOf(tls.clientCertificate)}`;
    const s = this.sessions.get(key);
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    const next = origin.startsWith('https:') ? connect(origin, { ...(tls !== undefined ? backendTLSOptions(tls.policy, tls.clientCertificate) : {}), ALPNProtocols: ['h2'] }) : connect(origin);
    const drop = () => {
      if (this.sessions.get(key) === next) this.sessions.delete(key);
    };
    // Errors (a failed TLS verification too) reach the streams, each answers its own request; the session just leaves the pool.
    next.on('error', drop);
    next.on('close', drop);
    next.on('goaway', drop);
    // An idle session is closed after a minute and never keeps the process alive.
    next.setTimeout(60_000, () => next.close());
    next.unref();
    this.sessions.set(key, next);
    return next;
  }

  private idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.nextId++));
    return id;
  }

  /** Sessions open now (tests, stats). */
  get size(): number {
    return this.sessions.size;
  }

  /** Closes every session: streams in flight finish, no new stream starts; no session is made afterwards. */
  close(): void {
    this.closed = true;
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }
}
