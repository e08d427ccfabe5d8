// Issue 9 item 5: upstream limits. A bounded queue per origin (overflow answers 503 at once),
// default headers and body timeouts, and slow clients that cannot hold upstream connections.
// Real sockets; every wait is event-driven with generous limits (CI runs on 2 loaded cores).
import { connect } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UPSTREAM_DEFAULTS } from '../../src/adapters/upstream/pool.js';
import type { UpstreamLimits } from '../../src/adapters/node.js';
import { ADAPTERS, gatewayManifest, httpRoute, mount, prefix, sendRaw, sleep, startRecorder, waitFor, type Mounted, type Recorder } from './harness.js';

const manifests = () => [
  gatewayManifest(),
  httpRoute('r', [
    { matches: prefix('/ruled'), backendRefs: [{ name: 'up', port: 80 }], timeouts: { request: '10s' } },
    { matches: prefix('/'), backendRefs: [{ name: 'up', port: 80 }] },
  ]),
];

/** An upstream whose answers the test controls: held requests wait until released. */
interface Controlled extends Recorder {
  held: ServerResponse[];
  /** Responses closed before they finished (the gateway cut the exchange). */
  cut: string[];
  /** Responses that finished (all bytes handed to the kernel). */
  finished: string[];
}

async function controlled(): Promise<Controlled> {
  const r = (await startRecorder()) as Controlled;
  r.held = [];
  r.cut = [];
  r.finished = [];
  r.handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    res.on('close', () => (res.writableFinished ? r.finished : r.cut).push(url));
    req.on('error', () => {});
    if (url.includes('/hold')) {
      r.held.push(res);
      return;
    }
    if (url.startsWith('/stall-body')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n');
      return;
    }
    if (url.startsWith('/big/')) {
      const size = Number(url.slice(5));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      res.end(Buffer.alloc(size, 120));
      return;
    }
    if (url.startsWith('/upload')) {
      req.resume();
      req.on('end', () => res.end('uploaded'));
      return;
    }
    req.resume();
    res.end('ok');
  };
  return r;
}

describe('defaults', () => {
  it('are documented values: Envoy-like 15 s headers and body timeouts, bounded pools and buffers', () => {
    expect(UPSTREAM_DEFAULTS).toEqual({ connections: 128, maxQueued: 256, headersTimeout: 15_000, bodyTimeout: 15_000, clientTimeout: 30_000, http2ClientReadTimeout: 300_000, responseBuffer: 256 * 1024 });
  });

  it('refuses invalid limits at construction, naming the option', async () => {
    const up = await controlled();
    try {
      await expect(mount('node', { manifests: manifests(), backends: { up: up.url }, upstream: { maxQueued: -1 } })).rejects.toThrow(/upstream\.maxQueued/);
      await expect(mount('node', { manifests: manifests(), backends: { up: { url: up.url, connections: 0 } } })).rejects.toThrow(/backends\['up'\]\.connections/);
    } finally {
      await up.close();
    }
  });
});

describe.each(ADAPTERS)('%s adapter: upstream limits (issue 9 item 5)', (kind) => {
  let up: Controlled;
  let gw: Mounted | null = null;
  const errors: { status: number; reason: string }[] = [];
  const start = async (upstream: UpstreamLimits) => {
    gw = await mount(kind, { manifests: manifests(), backends: { up: up.url }, upstream, onError: (e) => errors.push(e) });
    return gw;
  };
  beforeEach(async () => {
    up = await controlled();
    errors.length = 0;
  });
  afterEach(async () => {
    for (const r of up.held) r.end();
    await gw?.close();
    gw = null;
    await up.close();
  });

  it('bounds the queue per origin: beyond connections + maxQueued a request gets 503 at once', async () => {
    const g = await start({ connections: 1, maxQueued: 1 });
    const first = sendRaw(g.port, '/hold/1');
    await waitFor(() => up.held.length === 1, 10_000, 'the first request upstream');
    // Two more: whichever the gateway sees first is queued, the other is refused at once. The
    // refused one answers first (the queued one waits for a release), whatever the arrival order.
    const second = sendRaw(g.port, '/hold/2');
    const third = sendRaw(g.port, '/hold/3');
    const refused = await Promise.race([second, third]);
    expect(refused.status).toBe(503);
    expect(refused.body).toBe('503 Service Unavailable: upstream-overloaded\n');
    expect(up.paths).toEqual(['/hold/1']);
    up.held.shift()!.end('one');
    await waitFor(() => up.held.length === 1, 10_000, 'the queued request upstream');
    up.held.shift()!.end('two');
    const answers = await Promise.all([first, second, third]);
    expect(answers.map((a) => a.body).sort()).toEqual(['503 Service Unavailable: upstream-overloaded\n', 'one', 'two']);
    expect((await sendRaw(g.port, '/after')).status).toBe(200); // the slots are given back
    expect(errors.map((e) => e.reason)).toEqual(['upstream-overloaded']);
  });

  it('cuts an upstream that sends no headers within headersTimeout (504)', async () => {
    const g = await start({ headersTimeout: 300 });
    const ans = await sendRaw(g.port, '/hold/x');
    expect(ans.status).toBe(504);
    expect(ans.body).toBe('504 Gateway Timeout: upstream-timeout\n');
  });

  it('cuts an upstream that stalls after its headers (bodyTimeout): the client connection is closed, not left hanging', async () => {
    const g = await start({ bodyTimeout: 300 });
    const ans = await sendRaw(g.port, '/stall-body');
    expect(ans.status).toBe(200);
    expect(ans.body.startsWith('first chunk')).toBe(true);
    await waitFor(() => up.cut.includes('/stall-body'), 10_000, 'the upstream request to be aborted');
  });

  it("a rule's timeouts replace the default headers timeout", async () => {
    const g = await start({ headersTimeout: 200 });
    const pending = sendRaw(g.port, '/ruled/hold');
    await waitFor(() => up.held.length === 1, 10_000, 'the request upstream');
    await sleep(600); // well past headersTimeout: the rule's 10 s request timeout governs
    up.held.shift()!.end('late but in time');
    expect((await pending).body).toBe('late but in time');
  });

  it('a client that does not read gets a response up to responseBuffer without holding the upstream connection', async () => {
    const g = await start({ responseBuffer: 1024 * 1024 });
    const socket = connect(g.port, '127.0.0.1');
    socket.pause(); // never reads
    socket.write('GET /big/300000 HTTP/1.1\r\nhost: a\r\n\r\n');
    await waitFor(() => up.finished.includes('/big/300000'), 10_000, 'the upstream response to finish');
    socket.destroy();
  });

  it('a client that stops reading a large response is cut after clientTimeout, freeing the upstream connection', async () => {
    const g = await start({ responseBuffer: 64 * 1024, clientTimeout: 400, connections: 1 });
    const socket = connect(g.port, '127.0.0.1');
    socket.pause();
    socket.write('GET /big/50000000 HTTP/1.1\r\nhost: a\r\n\r\n');
    let closed = false;
    socket.on('close', () => (closed = true));
    await waitFor(() => up.paths.length === 1, 10_000, 'the request upstream');
    // The only upstream connection is held by the stalled exchange until clientTimeout cuts it;
    // without the cut this request would wait in the queue for ever.
    expect((await sendRaw(g.port, '/next')).body).toBe('ok');
    let bytes = 0;
    socket.on('data', (c: Buffer) => (bytes += c.length));
    socket.on('error', () => {});
    socket.resume(); // what was buffered, then the end: the response was cut short
    await waitFor(() => closed, 10_000, 'the stalled client to be disconnected');
    expect(bytes).toBeLessThan(50_000_000);
    socket.destroy();
  });

  it('a client that stops sending its request body gets 408 after clientTimeout and frees the connection', async () => {
    const g = await start({ clientTimeout: 400, connections: 1 });
    const socket = connect(g.port, '127.0.0.1');
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.write('POST /upload HTTP/1.1\r\nhost: a\r\ncontent-length: 100000\r\n\r\n0123456789');
    await waitFor(() => up.cut.includes('/upload'), 15_000, 'the upstream request to be cut');
    await waitFor(() => answer.length > 0, 10_000, 'the 408');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect((await sendRaw(g.port, '/next')).body).toBe('ok');
    socket.destroy();
  });
});
