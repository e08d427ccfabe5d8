// In-process handlers' responses that the client stops reading: bounded as proxied ones are, by
// clientTimeout (HTTP/1.1, the connection cut) and http2ClientReadTimeout (HTTP/2, the stream
// reset with CANCEL), and the handler sees its response close. Real sockets: node:http and
// node:http2 servers (createHandler, Express, Fastify, listen()) with node:http / node:http2
// clients that pause. docs/adapters.md, "Upstream limits" and "In-process handlers".
import { createServer as createH1Server, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, constants, createServer as createH2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createHandler, type UpstreamLimits } from '../../src/adapters/node.js';
import { listen } from '../../src/server/listen.js';
import { gatewayManifest, httpRoute, mount, serveLocal, waitFor, type AdapterName } from './harness.js';

const MiB = 1024 * 1024;
const manifests = () => [gatewayManifest(), httpRoute('r', [{ backendRefs: [{ name: 'app', port: 8080 }] }])];

/** What the in-process backend saw of its response. */
interface Seen {
  /** 'close' was emitted on the response. */
  closed: boolean;
  /** What write() returned once the response had closed (a handler that ended its response whole does not write again). */
  writeAfterClose: boolean | undefined;
  /** Bytes the handler wrote. */
  sent: number;
  /** The handler wrote the whole response (a reading client). */
  finished: boolean;
}

/**
 * A handler writing `total` bytes (Infinity: without end) with backpressure, 64 KiB at a time,
 * write until false and go on at 'drain'; or, with `whole`, all of it in one `end(buffer)`.
 * Loopback socket buffers can take up to 32 MiB here, so a stalled response must be endless or
 * larger than that for the gateway to see it stall.
 */
function bigHandler(total: number, whole = false): { seen: Seen; handler: (req: IncomingMessage, res: ServerResponse) => void } {
  const seen: Seen = { closed: false, writeAfterClose: undefined, sent: 0, finished: false };
  const chunk = Buffer.alloc(64 * 1024, 1);
  const handler = (_req: IncomingMessage, res: ServerResponse): void => {
    res.on('error', () => {});
    res.on('close', () => {
      // A client that reads nothing cannot have had a response larger than the socket buffers
      // whole, so a close is a cut; an endless handler writes again, as one unaware would.
      seen.closed = true;
      if (total === Infinity) seen.writeAfterClose = res.write(chunk);
    });
    res.on('finish', () => (seen.finished = true));
    res.writeHead(200, total === Infinity ? {} : { 'content-length': String(total) });
    if (whole) {
      seen.sent = total;
      res.end(Buffer.alloc(total, 1));
      return;
    }
    const pump = (): void => {
      while (seen.sent < total && !seen.closed) {
        seen.sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!seen.closed) res.end();
    };
    pump();
  };
  return { seen, handler };
}

/**
 * GET / over HTTP/1.1 on a fresh connection; the response is left unread (a paused socket reads
 * nothing, not even the server's close). `readRest()` then reads what is left and tells whether
 * the response arrived whole.
 */
function getUnread(port: number): Promise<{ status: number; readRest(): Promise<{ complete: boolean }> }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: '/', agent: false }, (res) => {
      res.pause();
      res.on('error', () => {});
      const ended = new Promise<{ complete: boolean }>((done) => res.on('close', () => done({ complete: res.complete })));
      resolve({
        status: res.statusCode ?? 0,
        readRest: () => {
          res.resume();
          return ended;
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The handler sees its response close early; the client, reading on, finds the response cut. */
async function expectCut(port: number, seen: Seen, whole = false): Promise<void> {
  const r = await getUnread(port);
  expect(r.status).toBe(200);
  await waitFor(() => seen.closed, 20_000, 'the handler to see its response close');
  expect(seen.writeAfterClose).toBe(whole ? undefined : false);
  expect(await r.readRest()).toEqual({ complete: false });
}

/** GET / over HTTP/1.1, read whole. */
function getRead(port: number): Promise<{ status: number; got: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: '/', agent: false }, (res) => {
      let got = 0;
      res.on('data', (c: Buffer) => (got += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, got, complete: res.complete }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET / over h2c; the stream is left unread (`read`: read whole). Resolves with the stream's end. */
async function h2Get(port: number, read: boolean): Promise<{ status: number; got: number; rstCode: number | undefined }> {
  const session = connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  try {
    return await new Promise((resolve) => {
      const stream = session.request({ ':path': '/' });
      let status = 0;
      let got = 0;
      stream.on('error', () => {});
      stream.on('response', (h) => (status = Number(h[':status'])));
      if (read) stream.on('data', (c: Buffer) => (got += c.length));
      else stream.pause();
      stream.on('close', () => resolve({ status, got, rstCode: stream.rstCode }));
    });
  } finally {
    session.destroy();
  }
}

async function h1Server(limits: UpstreamLimits, backend: (req: IncomingMessage, res: ServerResponse) => void) {
  const handler = createHandler({ manifests: manifests(), backends: { 'app:8080': backend }, upstream: limits });
  return serveLocal(createH1Server(handler), () => handler.close());
}

async function h2Server(limits: UpstreamLimits, backend: (req: IncomingMessage, res: ServerResponse) => void) {
  const handler = createHandler({ manifests: manifests(), backends: { 'app:8080': backend }, upstream: limits });
  const server = createH2Server(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      handler.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('in-process handler, HTTP/1.1 client that stops reading: the connection is cut after clientTimeout', () => {
  it.each(['node', 'express', 'fastify'] as AdapterName[])('%s: an endless response written with backpressure; the handler sees close and its writes fail', async (kind) => {
    const big = bigHandler(Infinity);
    const m = await mount(kind, { manifests: manifests(), backends: { 'app:8080': big.handler }, upstream: { clientTimeout: 300 } });
    try {
      await expectCut(m.port, big.seen);
    } finally {
      await m.close();
    }
  });

  it('one end(buffer) larger than the socket buffers can take is cut too', async () => {
    const big = bigHandler(64 * MiB, true);
    const s = await h1Server({ clientTimeout: 300 }, big.handler);
    try {
      await expectCut(s.port, big.seen, true);
    } finally {
      await s.close();
    }
  });

  it('a client that reads gets the whole response (8 MiB, written with backpressure and in one end())', async () => {
    for (const whole of [false, true]) {
      const big = bigHandler(8 * MiB, whole);
      const s = await h1Server({ clientTimeout: 1_000 }, big.handler);
      try {
        expect(await getRead(s.port)).toEqual({ status: 200, got: 8 * MiB, complete: true });
        await waitFor(() => big.seen.finished, 20_000, 'the handler to see its response finish');
      } finally {
        await s.close();
      }
    }
  });
});

describe('in-process handler, HTTP/2 client that stops reading its stream: the stream is reset with CANCEL after http2ClientReadTimeout', () => {
  it('an endless response written with backpressure; the handler sees close and its writes fail', async () => {
    const big = bigHandler(Infinity);
    // clientTimeout stays at its default: the configured http2ClientReadTimeout governs HTTP/2.
    const s = await h2Server({ http2ClientReadTimeout: 300 }, big.handler);
    try {
      expect(await h2Get(s.port, false)).toMatchObject({ status: 200, rstCode: constants.NGHTTP2_CANCEL });
      await waitFor(() => big.seen.closed, 20_000, 'the handler to see its response close');
      expect(big.seen.writeAfterClose).toBe(false);
    } finally {
      await s.close();
    }
  });

  it('one end(buffer) the stream window cannot take is reset too', async () => {
    const big = bigHandler(4 * MiB, true);
    const s = await h2Server({ http2ClientReadTimeout: 300 }, big.handler);
    try {
      expect(await h2Get(s.port, false)).toMatchObject({ status: 200, rstCode: constants.NGHTTP2_CANCEL });
      await waitFor(() => big.seen.closed, 20_000, 'the handler to see its response close');
    } finally {
      await s.close();
    }
  });

  it('a client that reads gets the whole response, ended with NO_ERROR', async () => {
    for (const whole of [false, true]) {
      const big = bigHandler(8 * MiB, whole);
      const s = await h2Server({ http2ClientReadTimeout: 1_000 }, big.handler);
      try {
        expect(await h2Get(s.port, true)).toEqual({ status: 200, got: 8 * MiB, rstCode: constants.NGHTTP2_NO_ERROR });
        await waitFor(() => big.seen.finished, 20_000, 'the handler to see its response finish');
      } finally {
        await s.close();
      }
    }
  });
});

describe("listen(): in-process handlers' responses are bounded on its ports (HTTP/1.1 and h2c)", () => {
  it('a stalled HTTP/1.1 response is cut after clientTimeout and a stalled h2c stream reset after http2ClientReadTimeout', async () => {
    const h1 = bigHandler(Infinity);
    const h2 = bigHandler(Infinity);
    let calls = 0;
    const backend = (req: IncomingMessage, res: ServerResponse) => (calls++ === 0 ? h1 : h2).handler(req, res);
    const gw = await listen({ manifests: manifests(), backends: { 'app:8080': backend }, upstream: { clientTimeout: 300, http2ClientReadTimeout: 300 }, ports: { 80: 0 }, host: '127.0.0.1' });
    try {
      const port = gw.ports[80]!;
      await expectCut(port, h1.seen);
      expect(await h2Get(port, false)).toMatchObject({ status: 200, rstCode: constants.NGHTTP2_CANCEL });
      await waitFor(() => h2.seen.closed, 20_000, 'the HTTP/2 handler to see its response close');
    } finally {
      await gw.close();
    }
  });
});
