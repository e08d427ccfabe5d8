// clientTimeout per HTTP/2 stream: a client that stops sending one request's body is cut after
// clientTimeout even while another stream of the same session keeps sending. The stall watch
// counted the connection's bytes, so any stream's traffic was every stream's progress. Real
// sockets: a node:http2 h2c gateway with a node:http2 client, a node:http upstream that reads
// every body. docs/adapters.md, "Upstream limits".
import { connect, createServer as createH2Server, type ClientHttp2Session } from 'node:http2';
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
});
