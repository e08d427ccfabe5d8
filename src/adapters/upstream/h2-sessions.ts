/**
 * The HTTP/2 client sessions of one adapter instance (h2c and gRPC backends): one `node:http2`
 * session per origin carries every request to it (HTTP/2 multiplexes streams, so the session is
 * the pool). Each handler owns its sessions, like its undici pools: `handler.close()` closes
 * them, so the upstreams see their connections end and a process with closed handlers exits.
 */
import { connect, type ClientHttp2Session } from 'node:http2';

export class H2Sessions {
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private closed = false;

  /**
   * The session to `origin` (`http://host:port`), connected on first use and replaced once it
   * closes or is told to go away.
   * @throws Error once closed: the exchange answers it as an upstream failure.
   */
  sessionFor(origin: string): ClientHttp2Session {
    if (this.closed) throw new Error('the handler was closed: its HTTP/2 sessions are gone');
    const s = this.sessions.get(origin);
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    const next = connect(origin);
    const drop = () => {
      if (this.sessions.get(origin) === next) this.sessions.delete(origin);
    };
    // Errors reach the streams too (each answers its own request); the session just leaves the pool.
    next.on('error', drop);
    next.on('close', drop);
    next.on('goaway', drop);
    // An idle session is closed after a minute and never keeps the process alive.
    next.setTimeout(60_000, () => next.close());
    next.unref();
    this.sessions.set(origin, next);
    return next;
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
