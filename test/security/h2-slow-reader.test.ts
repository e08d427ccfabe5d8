// HTTP/2 clients that read one large response slowly but steadily are not cut by the stall watch
// (http2ClientReadTimeout, judged per stream); clients that stop reading are reset with CANCEL.
// Real sockets: listen()'s HTTPS port (HTTP/2 by ALPN, a certificate made in the test) and its
// HTTP port (h2c with prior knowledge), node:http2 clients. Both an in-process handler's single
// end(buffer) and a proxied response (an upstream node:http server writing its body at once) are
// read. docs/adapters.md, "Slow HTTP/2 readers" and "In-process handlers and clients that stop
// reading".
//
// What the gateway can see of an HTTP/2 reader is flow control: it sends a stream no more than the
// client's window for it, and the client returns window (WINDOW_UPDATE) once it has consumed about
// half of it; and of a stream, whole writes sent (an in-process write is handed over in 1 MiB
// slices, a proxied body as the upstream's chunks). The client here has a 1 MiB stream window
// (browsers' are larger: a smaller one makes progress show more often, not less) and a 16 MiB
// connection window, so the two streams read at once never wait on each other's window. Reading
// 192 KiB per 50 ms, it returns window about every 512 KiB and takes a slice in ~300 ms: five
// times inside http2ClientReadTimeout (1.5 s, so 1.5 to 2.25 s without progress cut), so a loaded
// machine that slows the reader several times over still shows progress in time, while the whole
// body takes over three bounds to read (a pause count bounds it from below).
// (An in-process handler's end(buffer) was once handed to its stream as one write, and a stream's
// bufferSize, the watch's measure, holds a write whole, twice over, until all of it is sent, over
// TLS and h2c alike: the in-process reader here was reset after about 8.5 MiB on Node 20, 22 and
// 24, and the stream opened beside one unread 64 MiB end(buffer) was refused. Such writes are now
// handed over in slices.)
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../src/server/listen.js';
import { makeCA, tlsSecret, type KeyPair, type TestCA } from '../support/certs.js';
import { G, serveLocal, waitFor } from './harness.js';
import { bigAnswer, GAP, HOST, MiB, patterned, sha256, STEADY_BYTES, steadyReader, STOPPED_BYTES, track, type Seen, type Transfer } from './slow-readers.js';

const READ_TIMEOUT = 1_500;
/** The client's window for each stream, and for the connection (see the head of the file). */
const STREAM_WINDOW = 1 * MiB;
const CONNECTION_WINDOW = 16 * MiB;

let ca: TestCA;
let pair: KeyPair;
let body: Buffer;
let bodyHash: string;

/**
 * `/local` an in-process handler writing STEADY_BYTES in one end(buffer), `/local/big` one writing
 * STOPPED_BYTES so; `/proxied` an upstream writing STEADY_BYTES in one end(buffer),
 * `/proxied/endless` one writing without end, with backpressure (a finite body the gateway stops
 * reading could still fit in loopback's buffers, and its close would not tell the gateway gave up).
 */
let local: Seen;
let upstream: Seen;
let upstreamServer: { port: number; close(): Promise<void> };
let gw: { ports: Readonly<Record<number, number>>; close(): Promise<void> };

function inProcess(req: IncomingMessage, res: ServerResponse): void {
  track(res, local);
  const b = req.url === '/local/big' ? Buffer.alloc(STOPPED_BYTES, 1) : body;
  res.writeHead(200, { 'content-length': String(b.length) });
  res.end(b);
}

const rules = [
  { matches: [{ path: { type: 'PathPrefix', value: '/local' } }], backendRefs: [{ name: 'app', port: 8080 }] },
  { matches: [{ path: { type: 'PathPrefix', value: '/proxied' } }], backendRefs: [{ name: 'up', port: 8080 }] },
];

beforeAll(async () => {
  ca = makeCA();
  pair = ca.server([HOST]);
  body = patterned(STEADY_BYTES);
  bodyHash = sha256(body);
  local = { closed: 0, finished: 0 };
  upstream = { closed: 0, finished: 0 };
  upstreamServer = await serveLocal(createHttpServer(bigAnswer(() => body, upstream)));
  const listeners = [
    { name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'cert' }] } },
    { name: 'http', port: 80, protocol: 'HTTP' },
  ];
  gw = await listen({
    manifests: [
      { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners } },
      tlsSecret('cert', pair),
      { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { parentRefs: [{ name: 'gw' }], rules } },
    ],
    backends: { 'app:8080': inProcess, 'up:8080': `http://127.0.0.1:${upstreamServer.port}` },
    // clientTimeout is left at its default (30 s): http2ClientReadTimeout governs HTTP/2 responses.
    upstream: { http2ClientReadTimeout: READ_TIMEOUT },
    ports: { 443: 0, 80: 0 },
    host: '127.0.0.1',
  });
});

afterAll(async () => {
  await gw?.close();
  await upstreamServer?.close();
});

/** An HTTP/2 session to the gateway: over TLS (ALPN h2) or h2c, with the windows above. */
async function session(transport: 'h2' | 'h2c'): Promise<ClientHttp2Session> {
  const s =
    transport === 'h2'
      ? connect(`https://127.0.0.1:${gw.ports[443]}`, { ca: ca.cert, servername: HOST, ALPNProtocols: ['h2'], settings: { initialWindowSize: STREAM_WINDOW } })
      : connect(`http://127.0.0.1:${gw.ports[80]}`, { settings: { initialWindowSize: STREAM_WINDOW } });
  s.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('close', () => reject(new Error('the session closed before it connected')));
  });
  if (transport === 'h2') expect((s.socket as unknown as { alpnProtocol?: string }).alpnProtocol).toBe('h2');
  s.setLocalWindowSize(CONNECTION_WINDOW);
  return s;
}

/** What a client read of one response stream, and its reset code (NO_ERROR: ended cleanly). */
type StreamTransfer = Transfer & { rstCode: number | undefined };

/**
 * GET `path` on `s`. The client reads SLICE bytes, pauses GAP ms, and so on; with `stopAfter` it
 * stops reading once it has that many body bytes (`stopped` resolves). `done` resolves when the
 * stream closes.
 */
function slowGet(s: ClientHttp2Session, path: string, stopAfter?: number): { done: Promise<StreamTransfer>; stopped: Promise<void> } {
  const stream: ClientHttp2Stream = s.request({ ':path': path, ':authority': HOST });
  stream.on('error', () => {});
  const reader = steadyReader(stream, stopAfter);
  stream.on('response', (h) => {
    reader.transfer.status = Number(h[':status']);
    reader.transfer.length = h['content-length'] === undefined ? -1 : Number(h['content-length']);
  });
  stream.on('data', (c: Buffer) => reader.body(c));
  const done = new Promise<StreamTransfer>((resolve) => stream.on('close', () => resolve({ ...reader.close(), rstCode: stream.rstCode })));
  return { done, stopped: reader.stopped };
}

const expectWhole = (t: StreamTransfer): void => {
  expect({ status: t.status, length: t.length, got: t.got, hash: t.hash, rstCode: t.rstCode }).toEqual({ status: 200, length: STEADY_BYTES, got: STEADY_BYTES, hash: bodyHash, rstCode: constants.NGHTTP2_NO_ERROR });
  expect(t.pauses * GAP).toBeGreaterThanOrEqual(3 * READ_TIMEOUT);
};

describe.each([
  ['listen(), HTTPS port (HTTP/2 by ALPN)', 'h2'],
  ['listen(), HTTP port (h2c)', 'h2c'],
] as const)('%s: slow but steady HTTP/2 readers are not cut at http2ClientReadTimeout; readers that stop are', (_label, transport) => {
  it("an in-process handler's one end(buffer) of 18 MiB and a proxied 18 MiB response, read in slices over several bounds on two streams of one session, arrive whole", async () => {
    Object.assign(local, { closed: 0, finished: 0 });
    Object.assign(upstream, { closed: 0, finished: 0 });
    const s = await session(transport);
    try {
      const [inProc, proxied] = await Promise.all([slowGet(s, '/local').done, slowGet(s, '/proxied').done]);
      expectWhole(inProc);
      expectWhole(proxied);
      await waitFor(() => local.finished === 1 && upstream.finished === 1, 20_000, 'the backends to see their responses finish');
    } finally {
      s.destroy();
    }
  });

  it('an in-process 64 MiB end(buffer) and a proxied endless response, the client stops reading both: each stream is reset with CANCEL and the upstream request aborted', async () => {
    Object.assign(local, { closed: 0, finished: 0 });
    Object.assign(upstream, { closed: 0, finished: 0 });
    const s = await session(transport);
    try {
      const inProc = slowGet(s, '/local/big', 256 * 1024);
      // The second stream opens while the first's 64 MiB waits to be sent. node:http2 refuses new
      // streams (ENHANCE_YOUR_CALM) of a session whose data handed to its streams exceeds
      // maxSessionMemory (10 MB by default): the in-process write goes to the stream in slices,
      // so the unsent rest of it does not count (it did before, and this stream was refused).
      await inProc.stopped;
      const proxied = slowGet(s, '/proxied/endless', 256 * 1024);
      const [a, b] = await Promise.all([inProc.done, proxied.done]);
      // The window caps what the client was sent: the in-process body is cut short.
      expect({ status: a.status, rstCode: a.rstCode, short: a.got < STOPPED_BYTES }).toEqual({ status: 200, rstCode: constants.NGHTTP2_CANCEL, short: true });
      expect({ status: b.status, rstCode: b.rstCode }).toEqual({ status: 200, rstCode: constants.NGHTTP2_CANCEL });
      await waitFor(() => local.closed === 1 && upstream.closed === 1, 20_000, 'the handler and the upstream to see their responses close');
      // The endless upstream can only have closed because the gateway aborted its request.
      expect(upstream.finished).toBe(0);
    } finally {
      s.destroy();
    }
  });
});
