// clientTimeout per HTTP/2 stream: a client that stops sending one request's body is cut after
// clientTimeout even while another stream of the same session keeps sending. The stall watch
// counted the connection's bytes, so any stream's traffic was every stream's progress. Real
// sockets: a node:http2 h2c gateway with a node:http2 client, a node:http upstream that reads
// every body. docs/adapters.md, "Upstream limits".
import { createServer as createH1Server } from 'node:http';
import { connect, constants, createServer as createH2Server, type ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/adapters/node.js';
import { gatewayManifest, httpRoute, startRecorder, type Recorder } from './harness.js';

let upstream: Recorder;

beforeAll(async () => {
  upstream = await startRecorder();
});
afterAll(async () => {
  await upstream?.close();
});

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

  it('a response the client stops reading is reset with CANCEL after clientTimeout, not closed with NO_ERROR as if complete', async () => {
    // An upstream streaming 4 MB; it sees its response closed early when the gateway gives up.
    const total = 4 * 1024 * 1024;
    let upstreamCut!: () => void;
    const cut = new Promise<void>((r) => (upstreamCut = r));
    const big = createH1Server((_req, res) => {
      res.writeHead(200, { 'content-length': String(total) });
      const chunk = Buffer.alloc(65536, 1);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => {
        if (!res.writableFinished) upstreamCut();
      });
      pump();
    });
    await new Promise<void>((r) => big.listen(0, '127.0.0.1', r));
    const handler = createHandler({ manifests: [gatewayManifest(), httpRoute('r', [{ backendRefs: [{ name: 'app', port: 8080 }] }])], backends: { 'app:8080': `http://127.0.0.1:${(big.address() as AddressInfo).port}` }, upstream: { clientTimeout: 300, responseBuffer: 16384 } });
    const server = createH2Server(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let session: ClientHttp2Session | undefined;
    try {
      session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      session.on('error', () => {});
      const stream = session.request({ ':path': '/big' });
      stream.on('error', () => {});
      stream.pause(); // reads nothing: the gateway's window for the stream runs out
      await cut; // the gateway gave up on the client and cancelled the upstream
      let got = 0;
      const outcome = await new Promise<{ rstCode: number | undefined }>((resolve) => {
        stream.on('data', (c: Buffer) => (got += c.length));
        stream.on('close', () => resolve({ rstCode: stream.rstCode }));
        stream.resume();
      });
      // The client must be able to tell the body was cut: node:http2 ends the readable side on any
      // reset, so the reset code is what tells; NO_ERROR (what destroying the stream sends) reads
      // as a complete response.
      expect({ cut: got < total, rstCode: outcome.rstCode }).toEqual({ cut: true, rstCode: constants.NGHTTP2_CANCEL });
    } finally {
      session?.destroy();
      handler.close();
      await new Promise<void>((r) => server.close(() => r()));
      big.closeAllConnections();
      await new Promise<void>((r) => big.close(() => r()));
    }
  });
});
