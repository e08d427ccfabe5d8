// Upstream limits on the paths that lacked them: HTTP/2 backends (h2c, gRPC) and the body a
// retry buffers. Over HTTP/2, `connections + maxQueued` bounds the streams in flight per origin
// (node:http2 would queue the streams beyond the backend's SETTINGS_MAX_CONCURRENT_STREAMS
// without bound), and `clientTimeout` cuts a client that stops reading the response or sending
// its body, closing the backend stream; a client that stalls while a retried request's body is
// buffered gets 408. Real sockets: a node:http2 h2c backend, a node:http gateway, raw clients.
// docs/adapters.md, "Upstream limits" and "Retries".
import { request as httpRequest, createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createH2Server } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, type GatewayHandler, type UpstreamLimits } from '../../src/adapters/node.js';
import { closeServer, listen, waitFor } from '../adapters/helpers.js';
import { startH2Backend, type H2Backend } from '../support/h2-backend.js';
import { gatewayManifest, httpRoute, prefix } from './harness.js';

let backend: H2Backend;

beforeAll(async () => {
  // One stream at a time: what exceeds it waits in the gateway's HTTP/2 client.
  backend = await startH2Backend(createH2Server({ settings: { maxConcurrentStreams: 1 } }), 'http', 'h2c');
});
afterAll(async () => {
  await backend?.close();
});

const manifests = [
  gatewayManifest(),
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app' }, spec: { ports: [{ port: 8080, appProtocol: 'kubernetes.io/h2c' }] } },
  httpRoute('r', [
    { matches: prefix('/retried'), retry: { codes: [503], attempts: 2 }, backendRefs: [{ name: 'app', port: 8080 }] },
    { backendRefs: [{ name: 'app', port: 8080 }] },
  ]),
];

/**
 * A node:http gateway in front of the backend. `seen(path)`: requests to `path` the gateway has
 * taken; `left(path)`: those whose client left before the response ended.
 */
interface Gateway {
  port: number;
  seen(path: string): number;
  left(path: string): number;
  close(): Promise<void>;
}

async function start(upstream: UpstreamLimits): Promise<Gateway> {
  const handler: GatewayHandler = createHandler({ manifests, backends: { 'app:8080': backend.url }, upstream });
  const seen: string[] = [];
  const left: string[] = [];
  const server: Server = createHttpServer((req, res) => {
    const path = req.url ?? '';
    res.on('close', () => {
      if (!res.writableFinished) left.push(path);
    });
    handler(req, res);
    seen.push(path); // after the handler: it takes its place in the bound synchronously
  });
  const port = Number(new URL(await listen(server)).port);
  const count = (list: string[], path: string) => list.filter((p) => p === path).length;
  return {
    port,
    seen: (path) => count(seen, path),
    left: (path) => count(left, path),
    close: async () => {
      handler.close();
      await closeServer(server);
    },
  };
}

/** A GET on its own connection; `abort()` closes it. */
function get(port: number, path: string): { answer: Promise<{ status: number; body: string }>; abort(): void } {
  const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { host: 'x.test' } });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  answer.catch(() => {});
  req.end();
  return { answer, abort: () => req.destroy() };
}

/** Resolves when the backend stream of the `n`-th request to `path` has closed; rejects after `ms` (a margin). */
async function backendStreamClosed(path: string, ms: number): Promise<void> {
  await waitFor(() => backend.streams.some((s) => s.path === path), ms, `the request to ${path} to reach the backend`);
  const { stream } = backend.streams.filter((s) => s.path === path).at(-1)!;
  await waitFor(() => stream.closed || stream.destroyed, ms, `the backend stream of ${path} to close`);
}

/** A raw HTTP/1.1 client: what it has received so far, and whether the connection closed. */
function raw(port: number, text: string, read = true): { socket: Socket; received: () => string; closed: () => boolean } {
  let received = '';
  let closed = false;
  const socket = connect(port, '127.0.0.1', () => socket.write(text));
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  if (read) socket.on('data', (c: Buffer) => (received += c.toString('latin1')));
  else socket.pause();
  return { socket, received: () => received, closed: () => closed };
}

describe('HTTP/2 backends: the origin bound', () => {
  // Places are freed by streams the backend ends (`/held`, released) and by clients that leave.
  // A client never leaves here while another stream waits behind its backend stream: the
  // gateway's HTTP/2 client would send the waiting stream's HEADERS right behind the RST_STREAM,
  // and a node:http2 backend of Node 22 or later still counts the reset stream then and refuses
  // the new one with ENHANCE_YOUR_CALM (a 502 here), where Node 20's serves it. That is the
  // backend's choice, not the bound's.
  const over = { status: 503, body: '503 Service Unavailable: upstream-overloaded\n' };
  const released = { status: 200, body: 'released' };

  /**
   * Fills the bound of a gateway with connections 1 + maxQueued 1: a request to `/held` at the
   * backend, one to `path` waiting behind it in the gateway, and a third answered 503 at once.
   */
  async function fillBound(g: Gateway, path: string): Promise<{ held: ReturnType<typeof get>; waiting: ReturnType<typeof get> }> {
    const held = get(g.port, '/held');
    await waitFor(() => backend.held() === 1, 10_000, `the stream to /held to reach the backend`);
    const taken = g.seen(path);
    const waiting = get(g.port, path);
    await waitFor(() => g.seen(path) === taken + 1, 10_000, `the gateway to take the request to ${path}`);
    // Over the bound: answered at once, never queued.
    expect(await get(g.port, '/over').answer).toEqual(over);
    return { held, waiting };
  }

  it('beyond connections + maxQueued streams in flight, a request gets 503 upstream-overloaded at once; the bound frees as streams end', async () => {
    const g = await start({ connections: 1, maxQueued: 1 });
    const before = backend.streams.length;
    try {
      // The backend allows one stream: the second waits in the gateway's HTTP/2 client.
      const { held: first, waiting: queued } = await fillBound(g, '/queued');
      expect(backend.streams.length).toBe(before + 1);
      // The first ends: the queued one goes out.
      backend.release();
      expect(await first.answer).toEqual(released);
      expect(await queued.answer).toEqual({ status: 200, body: 'h2c /queued' });
      expect(await get(g.port, '/after').answer).toEqual({ status: 200, body: 'h2c /after' });
    } finally {
      await g.close();
    }
  });

  it('a client that leaves frees its place, whether its stream waits in the gateway or is at the backend', async () => {
    const g = await start({ connections: 1, maxQueued: 1 });
    try {
      // Its stream waits in the gateway's HTTP/2 client.
      const { held: first, waiting } = await fillBound(g, '/waiting');
      waiting.abort();
      await waitFor(() => g.left('/waiting') === 1, 10_000, 'the gateway to see the client leave');
      const next = get(g.port, '/next'); // takes the free place, behind the held stream
      await waitFor(() => g.seen('/next') === 1, 10_000, 'the gateway to take the next request');
      expect(await get(g.port, '/over').answer).toEqual(over);
      backend.release();
      expect(await first.answer).toEqual(released);
      expect(await next.answer).toEqual({ status: 200, body: 'h2c /next' });
      // Its stream is at the backend: the gateway resets it there.
      const gone = get(g.port, '/held');
      await waitFor(() => backend.held() === 1, 10_000, 'the stream to reach the backend');
      gone.abort();
      await backendStreamClosed('/held', 10_000);
      await waitFor(() => g.left('/held') === 1, 10_000, 'the gateway to see the client leave');
      // Both places are free again: one at the backend, one waiting, and the next is over.
      const { held: again, waiting: behind } = await fillBound(g, '/behind');
      backend.release();
      expect(await again.answer).toEqual(released);
      expect(await behind.answer).toEqual({ status: 200, body: 'h2c /behind' });
    } finally {
      await g.close();
    }
  });
});

describe('HTTP/2 backends: clientTimeout', () => {
  it('a client that stops reading a large response is cut after clientTimeout, and the backend stream closed', async () => {
    const g = await start({ clientTimeout: 400 });
    try {
      const c = raw(g.port, 'GET /big HTTP/1.1\r\nhost: x.test\r\n\r\n', false);
      await backendStreamClosed('/big', 10_000);
      let bytes = 0;
      c.socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
      c.socket.resume(); // what was buffered, then the end: the response was cut short
      await waitFor(c.closed, 10_000, 'the stalled client to be disconnected');
      expect(bytes).toBeLessThan(32 * 1024 * 1024);
      expect(await get(g.port, '/next').answer).toEqual({ status: 200, body: 'h2c /next' });
    } finally {
      await g.close();
    }
  });

  it('a client that stops sending its request body gets 408 after clientTimeout, and the backend stream is closed', async () => {
    const g = await start({ clientTimeout: 400 });
    try {
      const c = raw(g.port, 'POST /forever HTTP/1.1\r\nhost: x.test\r\ncontent-length: 100000\r\n\r\n0123456789');
      await waitFor(() => c.received().length > 0, 10_000, 'the 408');
      expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
      await backendStreamClosed('/forever', 10_000);
      c.socket.destroy();
    } finally {
      await g.close();
    }
  });
});

describe('retries: the buffered body', () => {
  it('a client that stalls while its body is read for replay gets 408 after clientTimeout; nothing went upstream', async () => {
    const g = await start({ clientTimeout: 400 });
    const before = backend.streams.length;
    try {
      const c = raw(g.port, 'POST /retried HTTP/1.1\r\nhost: x.test\r\ncontent-length: 1000\r\n\r\n0123456789');
      await waitFor(() => c.received().length > 0, 10_000, 'the 408');
      expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
      await waitFor(c.closed, 10_000, 'the connection to close');
      expect(backend.streams.length).toBe(before);
      // A complete body is still retried and forwarded.
      expect(await get(g.port, '/retried/ok').answer).toEqual({ status: 200, body: 'h2c /retried/ok' });
    } finally {
      await g.close();
    }
  });
});
