// HTTP/2 clients that stall: judged per stream, and a response left unread judged by
// http2ClientReadTimeout rather than clientTimeout; and what an HTTP/2 client sees of a response
// the upstream fails mid-body. Real sockets: a node:http2 h2c gateway with node:http2 clients;
// upstreams over node:http (undici) and over h2c (node:http2), each streaming a large body with
// backpressure. docs/adapters.md, "Upstream limits".
import { createServer as createH1Server, type Server } from 'node:http';
import { connect, constants, createServer as createH2Server, type ClientHttp2Session, type ClientHttp2Stream, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, type UpstreamLimits, type UpstreamOptions } from '../../src/adapters/node.js';
import { Upstreams } from '../../src/adapters/upstream/pool.js';
import { gatewayManifest, httpRoute, startRecorder, waitFor, type Recorder } from './harness.js';

const MiB = 1024 * 1024;

let upstream: Recorder;

beforeAll(async () => {
  upstream = await startRecorder();
});
afterAll(async () => {
  await upstream?.close();
});

/** An upstream answering every GET with `total` bytes, written with backpressure; it records each response the gateway closed early. */
interface BigUpstream {
  backend: UpstreamOptions;
  /** Paths whose response was closed before it was written whole (the gateway cancelled it). */
  cut: string[];
  /** Makes the responses that reached `failAfter` fail now. */
  fail(): void;
  close(): Promise<void>;
}

/**
 * `failAfter`: the upstream writes that many bytes, then waits for `fail()` and fails: it closes
 * the connection (HTTP/1.1) or resets the stream with INTERNAL_ERROR (h2c). Such a body is sent
 * without a content-length (streamed, as gRPC's), so a short body is not itself a protocol error.
 */
async function startBigUpstream(protocol: 'http1' | 'h2c', total: number, failAfter = Infinity): Promise<BigUpstream> {
  const cut: string[] = [];
  const failing: (() => void)[] = [];
  const chunk = Buffer.alloc(64 * 1024, 1);
  // The same pump for node:http's ServerResponse and node:http2's stream: write until the
  // buffer is full, go on at 'drain', note a close before the end.
  const serve = (path: string, w: { write(c: Buffer): boolean; end(): void; once(e: 'drain', f: () => void): unknown; on(e: 'close', f: () => void): unknown; writableFinished: boolean; destroyed: boolean }, fail: () => void): void => {
    let sent = 0;
    const pump = (): void => {
      while (sent < total && !w.destroyed) {
        if (sent >= failAfter) return void failing.push(fail);
        sent += chunk.length;
        if (!w.write(chunk)) return void w.once('drain', pump);
      }
      if (!w.destroyed) w.end();
    };
    w.on('close', () => {
      if (!w.writableFinished) cut.push(path);
    });
    pump();
  };
  let server: Server | Http2Server;
  if (protocol === 'http1') {
    const s = createH1Server((req, res) => {
      res.writeHead(200, failAfter === Infinity ? { 'content-length': String(total) } : {});
      serve(req.url ?? '', res, () => res.socket?.destroy());
    });
    server = s;
  } else {
    const s = createH2Server();
    s.on('stream', (stream, headers) => {
      stream.on('error', () => {});
      stream.respond(failAfter === Infinity ? { ':status': 200, 'content-length': String(total) } : { ':status': 200 });
      // Destroyed with an error: reset with INTERNAL_ERROR (close(code) would send END_STREAM first once the data is out).
      serve(String(headers[':path']), stream, () => stream.destroy(new Error('upstream failure')));
    });
    server = s;
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    backend: { url, protocol },
    cut,
    fail: () => {
      for (const f of failing.splice(0)) f();
    },
    close: async () => {
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** An h2c gateway in front of `backend`, with `limits`, and a client session to it with `settings` (and a 16 MiB connection window, as browsers have). */
async function startGateway(backend: UpstreamOptions, limits: UpstreamLimits, settings: { initialWindowSize?: number } = {}): Promise<{ session: ClientHttp2Session; close(): Promise<void> }> {
  const handler = createHandler({ manifests: [gatewayManifest(), httpRoute('r', [{ backendRefs: [{ name: 'app', port: 8080 }] }])], backends: { 'app:8080': backend }, upstream: limits });
  const server = createH2Server(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { settings });
  session.on('error', () => {});
  await new Promise<void>((r) => session.once('connect', () => r()));
  // A stream the client leaves unread holds its share of the connection window too; a large one
  // keeps the other streams flowing (Chrome's is 15 MB).
  session.setLocalWindowSize(16 * MiB);
  return {
    session,
    close: async () => {
      session.destroy();
      handler.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The end of a response stream as the client saw it: bytes read and the reset code (0: ended cleanly). */
interface Outcome {
  status: number;
  got: number;
  rstCode: number | undefined;
}

/**
 * Reads `stream` at a steady pace: up to `perTick` bytes every `tickMs`, until `fast()` says to
 * read the rest at once. `progress.got` counts the bytes read so far; the promise resolves when
 * the stream closes.
 */
function readSteadily(stream: ClientHttp2Stream, perTick: number, tickMs: number, fast: () => boolean = () => false): { progress: { got: number }; outcome: Promise<Outcome> } {
  const progress = { got: 0 };
  const outcome = new Promise<Outcome>((resolve) => {
    let status = 0;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.pause();
    const tick = setInterval(() => {
      if (fast()) {
        clearInterval(tick);
        stream.on('data', (c: Buffer) => (progress.got += c.length));
        stream.resume();
        return;
      }
      // read(n) gives n bytes or nothing (before the end): ask for no more than is buffered;
      // read(0) on an empty buffer lets a stream that ended emit 'end'.
      for (let want = perTick; want > 0; ) {
        const c = stream.read(Math.min(want, stream.readableLength)) as Buffer | null;
        if (c === null || c.length === 0) break;
        progress.got += c.length;
        want -= c.length;
      }
    }, tickMs);
    stream.on('close', () => {
      clearInterval(tick);
      resolve({ status, got: progress.got, rstCode: stream.rstCode });
    });
  });
  return { progress, outcome };
}

describe('HTTP/2 clients: clientTimeout per stream', () => {
  it('a stream whose body stops gets 408 after clientTimeout while another stream of the session keeps sending', async () => {
    const handler = createHandler({ manifests: [gatewayManifest(), httpRoute('r', [{ backendRefs: [{ name: 'app', port: 8080 }] }])], backends: { 'app:8080': upstream.url }, upstream: { clientTimeout: 500 } });
    const server = createH2Server(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let session: ClientHttp2Session | undefined;
    let trickle: NodeJS.Timeout | undefined;
    try {
      session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      session.on('error', () => {});
      const stalled = session.request({ ':method': 'POST', ':path': '/stalled' });
      stalled.on('error', () => {});
      stalled.write('0123456789');
      const busy = session.request({ ':method': 'POST', ':path': '/busy' });
      busy.on('error', () => {});
      // The busy stream sends a byte every 50 ms for up to 10 s (20 times clientTimeout): the
      // stalled one must be answered while it still does.
      let sending = true;
      let sent = 0;
      trickle = setInterval(() => {
        if (sent++ < 200) busy.write('x');
        else sending = false;
      }, 50);
      const answer = await new Promise<{ status: number; whileBusySent: boolean }>((resolve) => {
        stalled.on('response', (h) => resolve({ status: Number(h[':status']), whileBusySent: sending }));
        stalled.on('close', () => resolve({ status: 0, whileBusySent: sending }));
      });
      expect(answer).toEqual({ status: 408, whileBusySent: true });
    } finally {
      clearInterval(trickle);
      session?.destroy();
      handler.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe.each(['http1', 'h2c'] as const)('HTTP/2 clients, %s upstream: a response left unread is judged on its own stream by http2ClientReadTimeout', (protocol) => {
  it('a response the client stops reading is reset with CANCEL after http2ClientReadTimeout, not closed with NO_ERROR as if complete', async () => {
    const total = 4 * MiB;
    const big = await startBigUpstream(protocol, total);
    // clientTimeout is left at its default: the configured http2ClientReadTimeout governs.
    const gw = await startGateway(big.backend, { http2ClientReadTimeout: 300, responseBuffer: 16384 });
    try {
      const stream = gw.session.request({ ':path': '/big' });
      stream.on('error', () => {});
      const closed = new Promise<{ rstCode: number | undefined }>((resolve) => stream.on('close', () => resolve({ rstCode: stream.rstCode })));
      stream.pause(); // reads nothing: the client's window for the stream runs out
      await waitFor(() => big.cut.length > 0, 20_000, 'the gateway to cancel the upstream'); // it gave up on the client
      let got = 0;
      stream.on('data', (c: Buffer) => (got += c.length));
      stream.resume();
      const outcome = await closed;
      // The client must be able to tell the body was cut: node:http2 ends the readable side on any
      // reset, so the reset code is what tells; NO_ERROR (what destroying the stream sends) reads
      // as a complete response.
      expect({ cut: got < total, rstCode: outcome.rstCode, upstreamCut: big.cut }).toEqual({ cut: true, rstCode: constants.NGHTTP2_CANCEL, upstreamCut: ['/big'] });
    } finally {
      await gw.close();
      await big.close();
    }
  });

  it('two streams of one session: the one left unread is cut with CANCEL while the other reads on, and the reading one completes', async () => {
    const total = 4 * MiB;
    const big = await startBigUpstream(protocol, total);
    // clientTimeout as short, so that the connection's traffic would have kept the stalled one alive under either bound.
    const gw = await startGateway(big.backend, { clientTimeout: 400, http2ClientReadTimeout: 400, responseBuffer: 16384 });
    try {
      const stalled = gw.session.request({ ':path': '/stalled' });
      stalled.on('error', () => {});
      stalled.pause();
      const reading = gw.session.request({ ':path': '/reading' });
      reading.on('error', () => {});
      // The reading stream takes 16 KiB every 25 ms (4 MiB: over 6 s, 15 times the bound) while
      // the stalled one is open, then the rest at once.
      let stalledClosed = false;
      const read = readSteadily(reading, 16384, 25, () => stalledClosed);
      const stalledOutcome = new Promise<{ rstCode: number | undefined; whileReading: boolean }>((resolve) => {
        stalled.on('close', () => {
          stalledClosed = true;
          resolve({ rstCode: stalled.rstCode, whileReading: read.progress.got < total });
        });
      });
      expect(await stalledOutcome).toEqual({ rstCode: constants.NGHTTP2_CANCEL, whileReading: true });
      expect(await read.outcome).toEqual({ status: 200, got: total, rstCode: constants.NGHTTP2_NO_ERROR });
      expect(big.cut).toEqual(['/stalled']);
    } finally {
      await gw.close();
      await big.close();
    }
  });

  it('a slow but steady reader with a browser-size window is not cut at the default http2ClientReadTimeout, though clientTimeout is short', async () => {
    // A 3 MiB stream window: the client returns window after reading about half of it, so the
    // gateway sees its progress about every 1.5 MiB; read at 64 KiB every 20 ms, that is every
    // ~0.5 s, well beyond clientTimeout.
    const total = 6 * MiB;
    const big = await startBigUpstream(protocol, total);
    const gw = await startGateway(big.backend, { clientTimeout: 100, responseBuffer: 16384 }, { initialWindowSize: 3 * MiB });
    try {
      const outcome = await readSteadily(gw.session.request({ ':path': '/slow' }), 64 * 1024, 20).outcome;
      expect(outcome).toEqual({ status: 200, got: total, rstCode: constants.NGHTTP2_NO_ERROR });
      expect(big.cut).toEqual([]);
    } finally {
      await gw.close();
      await big.close();
    }
  });
});

describe('http2ClientReadTimeout defaults', () => {
  const bounds = (limits: UpstreamLimits, own: Partial<UpstreamOptions> = {}) => {
    const ups = new Upstreams(limits);
    const p = ups.prepare({ url: 'http://127.0.0.1:1', ...own });
    ups.close();
    return { clientTimeout: p.clientTimeout, http2ClientReadTimeout: p.http2ClientReadTimeout };
  };

  it("is 300 s (Envoy's stream idle timeout), or clientTimeout when that is larger or 0; a value set (adapter-wide or per backend) wins", () => {
    expect(bounds({})).toEqual({ clientTimeout: 30_000, http2ClientReadTimeout: 300_000 });
    expect(bounds({ clientTimeout: 100 })).toEqual({ clientTimeout: 100, http2ClientReadTimeout: 300_000 });
    expect(bounds({ clientTimeout: 600_000 })).toEqual({ clientTimeout: 600_000, http2ClientReadTimeout: 600_000 });
    expect(bounds({ clientTimeout: 0 })).toEqual({ clientTimeout: 0, http2ClientReadTimeout: 0 });
    expect(bounds({ clientTimeout: 0, http2ClientReadTimeout: 5_000 })).toEqual({ clientTimeout: 0, http2ClientReadTimeout: 5_000 });
    expect(bounds({ http2ClientReadTimeout: 5_000 }, { http2ClientReadTimeout: 0 })).toEqual({ clientTimeout: 30_000, http2ClientReadTimeout: 0 });
  });

  it('refuses a value that is not a non-negative integer, naming the option', () => {
    expect(() => createHandler({ manifests: [gatewayManifest()], upstream: { http2ClientReadTimeout: -1 } })).toThrow(/upstream\.http2ClientReadTimeout/);
  });
});

describe.each(['http1', 'h2c'] as const)('HTTP/2 clients, %s upstream failing mid-response', (protocol) => {
  it('the client stream is reset with INTERNAL_ERROR, not ended with NO_ERROR as if the body were whole', async () => {
    const total = 4 * MiB;
    const sentBeforeFailing = 256 * 1024;
    const big = await startBigUpstream(protocol, total, sentBeforeFailing);
    const gw = await startGateway(big.backend, {});
    try {
      const stream = gw.session.request({ ':path': '/fails' });
      stream.on('error', () => {});
      const read = readSteadily(stream, Infinity, 0, () => true);
      // The client has read all the gateway wrote, so nothing of the response waits to go out
      // when the upstream fails (a reset behind queued data cannot be overtaken by END_STREAM).
      await waitFor(() => read.progress.got === sentBeforeFailing, 20_000, 'the client to read what the upstream sent');
      big.fail();
      const outcome = await read.outcome;
      // node:http2 ends the readable side on any reset: the code is what tells a cut body.
      expect({ status: outcome.status, cut: outcome.got < total, rstCode: outcome.rstCode }).toEqual({ status: 200, cut: true, rstCode: constants.NGHTTP2_INTERNAL_ERROR });
    } finally {
      await gw.close();
      await big.close();
    }
  });
});
