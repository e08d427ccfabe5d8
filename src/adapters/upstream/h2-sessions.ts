/**
 * The HTTP/2 client sessions of one adapter instance (h2c, gRPC and h2-over-TLS backends): one
 * `node:http2` session per origin and TLS settings carries every request to it (HTTP/2
 * multiplexes streams, so the session is the pool). An `https:` origin is reached over TLS with
 * ALPN `h2`, verified as its BackendTLSPolicy says (upstream/backend-tls.ts), or against the
 * system CAs and the URL's host name without one. Each handler owns its sessions, like its undici
 * pools: `handler.close()` closes them, so the upstreams see their connections end and a process
 * with closed handlers exits. A reload retires the sessions it no longer uses: those made under a
 * BackendTLSPolicy (or Gateway client certificate) it replaced, and those to an origin it no
 * longer reaches over HTTP/2 (a Service's appProtocol changed, or no route sends there any more).
 */
import { connect, type ClientHttp2Session } from 'node:http2';
import type { BackendTLS, Certificate } from '../../gateway/serving.js';
import { backendTLSId, backendTLSOptions } from './backend-tls.js';

/** The TLS a session to an `https:` origin uses: the backend's BackendTLSPolicy and the Gateway's client certificate (GEP-3155). */
export interface H2SessionTLS {
  policy: BackendTLS;
  clientCertificate: Certificate | null;
}

/**
 * The default drain bound, in ms: how long a closed server port (listen()'s drainTimeout), or a
 * retired backend pool, Agent or HTTP/2 session, may finish what is in flight before it is cut.
 */
export const DRAIN_MS = 30_000;

/** An open session, its origin, and the TLS settings it was made under (backendTLSId; null: h2c, or the system CAs). */
interface Entry {
  session: ClientHttp2Session;
  origin: string;
  tls: string | null;
}

export class H2Sessions {
  private readonly sessions = new Map<string, Entry>();
  private closed = false;

  /** @param drainMs how long a closed session may finish its streams before it is destroyed. */
  constructor(private readonly drainMs = DRAIN_MS) {}

  /**
   * The session to `origin` (`http://host:port` for h2c, `https://host:port` for TLS) under
   * `tls`, connected on first use and replaced once it closes or is told to go away. Sessions
   * under different TLS settings (policy or client certificate) are never shared.
   * @throws Error once closed: the exchange answers it as an upstream failure.
   */
  sessionFor(origin: string, tls?: H2SessionTLS): ClientHttp2Session {
    if (this.closed) throw new Error('the handler was closed: its HTTP/2 sessions are gone');
    const id = tls === undefined ? null : backendTLSId(tls.policy, tls.clientCertificate);
    const key = id === null ? origin : `${origin} ${id}`;
    const s = this.sessions.get(key)?.session;
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    const next = origin.startsWith('https:') ? connect(origin, { ...(tls !== undefined ? backendTLSOptions(tls.policy, tls.clientCertificate) : {}), ALPNProtocols: ['h2'] }) : connect(origin);
    const drop = () => {
      if (this.sessions.get(key)?.session === next) this.sessions.delete(key);
    };
    // Errors (a failed TLS verification too) reach the streams, each answers its own request; the session just leaves the pool.
    next.on('error', drop);
    next.on('close', drop);
    next.on('goaway', drop);
    // An idle session is closed after a minute (its streams within the drain bound) and never keeps the process alive.
    next.setTimeout(60_000, () => {
      drop();
      this.drain(next);
    });
    next.unref();
    this.sessions.set(key, { session: next, origin, tls: id });
    return next;
  }

  /** Sessions open now (tests, stats). */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Closes the sessions a new serving plan no longer uses: made under TLS settings no longer in
   * effect (`live` holds the backendTLSIds still in use), or to an origin not in `h2Origins` (the
   * origins still reached over HTTP/2; null: keep every origin). Their streams in flight finish,
   * within the drain bound.
   */
  retire(live: ReadonlySet<string>, h2Origins: ReadonlySet<string> | null): void {
    for (const [key, e] of this.sessions) {
      if ((e.tls === null || live.has(e.tls)) && (h2Origins === null || h2Origins.has(e.origin))) continue;
      this.sessions.delete(key);
      this.drain(e.session);
    }
  }

  /** Closes every session: streams in flight finish (within the drain bound), no new stream starts; no session is made afterwards. */
  close(): void {
    this.closed = true;
    for (const e of this.sessions.values()) this.drain(e.session);
    this.sessions.clear();
  }

  /** GOAWAY now; whatever is still open after the drain bound is cut. */
  private drain(s: ClientHttp2Session): void {
    if (s.closed || s.destroyed) return;
    s.close();
    if (s.destroyed) return;
    const t = setTimeout(() => s.destroy(), this.drainMs);
    t.unref();
    s.once('close', () => clearTimeout(t));
  }
}
