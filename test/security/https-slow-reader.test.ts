// HTTPS HTTP/1.1 clients that read one large response slowly but steadily are not cut by the
// stall watch (clientTimeout); clients that stop reading are. Real sockets: listen()'s HTTPS port
// (node:http2's secure server, HTTP/1.1 by ALPN) and createHandler under node:https, with a
// certificate made in the test; the client is a raw node:tls socket reading in slices. Both an
// in-process handler's single end(buffer) and a proxied response (an upstream node:http server
// writing its body as fast as it can) are read. docs/adapters.md, "Upstream limits" and "In-process
// handlers and clients that stop reading".
//
// What the gateway sees of a reader is the kernel taking more of the response: on Linux a full
// socket send buffer (up to tcp_wmem's maximum, 4 MiB by default, which loopback reaches) takes
// more once about a third of it has drained, so a reader shows progress about every 1.4 MiB
// here. The steady reader is paced to read far more than that per clientTimeout (so a loaded
// machine that slows it several times over still shows progress in time) while the whole body
// takes several clientTimeouts to read, which a pause count bounds from below. (Over TLS the
// watch once read only the TLS handle's write queue, which stays at a write's whole size until
// the write completes: the in-process reader here was cut after 12 to 16 MiB on Node 20, 22, 24.)
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/adapters/node.js';
import { listen } from '../../src/server/listen.js';
import { makeCA, tlsSecret, type KeyPair, type TestCA } from '../support/certs.js';
import { G, serveLocal, waitFor } from './harness.js';
import { bigAnswer, GAP, HOST, patterned, sha256, STEADY_BYTES, steadyReader, STOPPED_BYTES, track, type Seen, type Transfer } from './slow-readers.js';

const CLIENT_TIMEOUT = 1_500;

let ca: TestCA;
let pair: KeyPair;
let body: Buffer;
let bodyHash: string;

beforeAll(() => {
  ca = makeCA();
  pair = ca.server([HOST]);
  body = patterned(STEADY_BYTES);
  bodyHash = sha256(body);
});

/**
 * The backends every gateway here serves: `/local` an in-process handler writing STEADY_BYTES in
 * one end(buffer), `/local/big` one writing STOPPED_BYTES so; `/proxied` an upstream writing
 * STEADY_BYTES in one end(buffer), `/proxied/endless` one writing without end, with backpressure.
 */
interface Backends {
  local: Seen;
  upstream: Seen;
  upstreamUrl: string;
  handler(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

async function startBackends(): Promise<Backends> {
  const local: Seen = { closed: 0, finished: 0 };
  const upstream: Seen = { closed: 0, finished: 0 };
  const server = await serveLocal(createHttpServer(bigAnswer(() => body, upstream)));
  return {
    local,
    upstream,
    upstreamUrl: `http://127.0.0.1:${server.port}`,
    handler: (req, res) => {
      track(res, local);
      const b = req.url === '/local/big' ? Buffer.alloc(STOPPED_BYTES, 1) : body;
      res.writeHead(200, { 'content-length': String(b.length) });
      res.end(b);
    },
    close: server.close,
  };
}

const rules = [
  { matches: [{ path: { type: 'PathPrefix', value: '/local' } }], backendRefs: [{ name: 'app', port: 8080 }] },
  { matches: [{ path: { type: 'PathPrefix', value: '/proxied' } }], backendRefs: [{ name: 'up', port: 8080 }] },
];
const routeManifest = { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { parentRefs: [{ name: 'gw' }], rules } };
const gatewayManifest = { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'cert' }] } }] } };
/** The manifests of both gateways: an HTTPS listener (the scheme of a request over TLS is https) and its certificate. */
const manifests = () => [gatewayManifest, tlsSecret('cert', pair), routeManifest];

/** An HTTPS gateway port serving the backends, with clientTimeout CLIENT_TIMEOUT. */
interface Gateway {
  port: number;
  close(): Promise<void>;
}

async function listenGateway(b: Backends): Promise<Gateway> {
  const gw = await listen({
    manifests: manifests(),
    backends: { 'app:8080': b.handler, 'up:8080': b.upstreamUrl },
    upstream: { clientTimeout: CLIENT_TIMEOUT },
    ports: { 443: 0 },
    host: '127.0.0.1',
  });
  return { port: gw.ports[443]!, close: () => gw.close() };
}

async function nodeHttpsGateway(b: Backends): Promise<Gateway> {
  const handler = createHandler({
    manifests: manifests(),
    backends: { 'app:8080': b.handler, 'up:8080': b.upstreamUrl },
    upstream: { clientTimeout: CLIENT_TIMEOUT },
  });
  return serveLocal(createHttpsServer({ cert: pair.cert, key: pair.key }, handler), () => handler.close());
}

/**
 * GET `path` over HTTPS, HTTP/1.1 by ALPN, on a fresh connection. The client reads SLICE bytes,
 * pauses GAP ms, and so on; with `stopAfter` it stops reading once it has that many body bytes
 * and waits for `resume()`, then reads the rest at once. `done` resolves when the connection closes.
 */
function slowGet(port: number, path: string, stopAfter?: number): { done: Promise<Transfer>; stopped: Promise<void>; resume(): void } {
  const socket = tlsConnect({ host: '127.0.0.1', port, servername: HOST, ca: ca.cert, ALPNProtocols: ['http/1.1'] }, () => {
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
  });
  socket.on('error', () => {});
  const reader = steadyReader(socket, stopAfter);
  const t = reader.transfer;
  let head: Buffer | null = Buffer.alloc(0);
  socket.on('data', (c: Buffer) => {
    if (head !== null) {
      head = Buffer.concat([head, c]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const text = head.subarray(0, end).toString('latin1');
      t.status = Number(text.split(' ')[1]);
      const cl = /\r\ncontent-length: *(\d+)/i.exec(text);
      t.length = cl ? Number(cl[1]) : -1;
      c = head.subarray(end + 4);
      head = null;
    }
    reader.body(c);
  });
  const done = new Promise<Transfer>((resolve) => socket.on('close', () => resolve(reader.close())));
  return { done, stopped: reader.stopped, resume: () => socket.resume() };
}

/** The steady reader gets every byte, though its reading takes several times clientTimeout. */
async function expectReadWhole(port: number, path: string, seen: Seen): Promise<void> {
  const t = await slowGet(port, path).done;
  expect({ status: t.status, length: t.length, got: t.got, hash: t.hash }).toEqual({ status: 200, length: STEADY_BYTES, got: STEADY_BYTES, hash: bodyHash });
  expect(t.pauses * GAP).toBeGreaterThanOrEqual(3 * CLIENT_TIMEOUT);
  await waitFor(() => seen.finished === 1 && seen.closed === 1, 20_000, 'the backend to see its response finish');
}

/**
 * The reader that stops after 256 KiB is cut: the backend's response closes (the upstream's,
 * endless, can only close so when the gateway aborts it), and the client, reading on, finds the
 * body short.
 */
async function expectCut(port: number, path: string, seen: Seen): Promise<void> {
  const r = slowGet(port, path, 256 * 1024);
  await r.stopped;
  await waitFor(() => seen.closed === 1, 20_000, 'the backend to see its response close');
  r.resume();
  const t = await r.done;
  expect(t.status).toBe(200);
  expect(t.got).toBeGreaterThanOrEqual(256 * 1024);
  expect(t.got).toBeLessThan(t.length === -1 ? STOPPED_BYTES : t.length);
}

// createHandler under node:https serves the in-process cases only: its proxied responses go
// through the same exchange and socket as listen()'s.
describe.each([
  ['listen(), HTTPS port (HTTP/1.1 by ALPN)', listenGateway, true],
  ['createHandler under node:https', nodeHttpsGateway, false],
])('%s: a slow but steady HTTPS reader is not cut; one that stops reading is', (_label, start, proxied) => {
  let b: Backends;
  let gw: Gateway;
  beforeAll(async () => {
    b = await startBackends();
    gw = await start(b);
  });
  afterAll(async () => {
    await gw?.close();
    await b?.close();
  });
  const reset = (): void => {
    Object.assign(b.local, { closed: 0, finished: 0 });
    Object.assign(b.upstream, { closed: 0, finished: 0 });
  };

  it("an in-process handler's one end(buffer) of 18 MiB, read in slices over several clientTimeouts, arrives whole", async () => {
    reset();
    await expectReadWhole(gw.port, '/local', b.local);
  });

  it("an in-process handler's one end(buffer) of 64 MiB, the client stops reading: the connection is cut", async () => {
    reset();
    await expectCut(gw.port, '/local/big', b.local);
  });

  if (proxied) {
    it('a proxied 18 MiB response (the upstream writes it at once), read so, arrives whole', async () => {
      reset();
      await expectReadWhole(gw.port, '/proxied', b.upstream);
    });

    it('a proxied endless response, the client stops reading: the connection is cut and the upstream request aborted', async () => {
      reset();
      await expectCut(gw.port, '/proxied/endless', b.upstream);
    });
  }
});
