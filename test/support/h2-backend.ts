// A real node:http2 backend for the tests of backend HTTP/2 sessions (h2c or TLS): it records its
// sessions and streams, answers at once, holds requests to `/held` until released, never answers
// `/forever`, and answers `/big` with 32 MiB.
import type { Http2SecureServer, Http2Server, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface H2Backend {
  url: string;
  /** Sessions open now, and every session ever accepted (in order). */
  open: Set<ServerHttp2Session>;
  all: ServerHttp2Session[];
  /** Every stream accepted, with its path. */
  streams: { path: string; stream: ServerHttp2Stream }[];
  /** Releases the requests to `/held` waiting so far. */
  release(): void;
  /** Requests to `/held` waiting now. */
  held(): number;
  close(): Promise<void>;
}

/**
 * Serves `server` (a node:http2 h2c or secure server, not yet listening) on 127.0.0.1, port 0.
 * Other paths are answered `${prefix} ${path}`.
 */
export async function startH2Backend(server: Http2Server | Http2SecureServer, scheme: 'http' | 'https', prefix: string): Promise<H2Backend> {
  const open = new Set<ServerHttp2Session>();
  const all: ServerHttp2Session[] = [];
  const streams: H2Backend['streams'] = [];
  let waiting: ServerHttp2Stream[] = [];
  server.on('session', (s: ServerHttp2Session) => {
    open.add(s);
    all.push(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => {});
  });
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.on('error', () => {});
    const path = headers[':path'] ?? '';
    streams.push({ path, stream });
    if (path === '/forever') return;
    if (path === '/big') {
      // Written with backpressure: 32 MiB in one write would exceed the session's maxSessionMemory.
      stream.respond({ ':status': 200 });
      const chunk = Buffer.alloc(64 * 1024, 120);
      let left = 512;
      const pump = (): void => {
        while (left > 0 && !stream.destroyed) {
          left--;
          if (!stream.write(chunk)) {
            stream.once('drain', pump);
            return;
          }
        }
        if (!stream.destroyed) stream.end();
      };
      pump();
      return;
    }
    if (path === '/held') {
      waiting.push(stream);
      return;
    }
    stream.respond({ ':status': 200 });
    stream.end(`${prefix} ${path}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    open,
    all,
    streams,
    held: () => waiting.filter((s) => !s.closed).length,
    release() {
      for (const s of waiting) {
        if (s.closed) continue;
        s.respond({ ':status': 200 });
        s.end('released');
      }
      waiting = [];
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}
