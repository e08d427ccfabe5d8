// listen()'s HTTP/2 sessions hold more than node:http2's default 10 MB of queued responses before
// they refuse a client's new streams (ENHANCE_YOUR_CALM): a browser still reading twelve 1 MiB
// answers on a connection gets its next requests answered, over h2c and over TLS (ALPN h2).
// Real sockets, node:http2 clients. docs/listeners.md, "HTTP/2 session memory".
import { connect as h2connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../src/server/node-entry.js';
import { makeCA, tlsSecret, type TestCA } from '../support/certs.js';
import { waitFor } from '../adapters/helpers.js';
import { gateway, httpsListener, route } from './helpers.js';

const MiB = 1024 * 1024;
const body = Buffer.alloc(MiB, 97);

let ca: TestCA;
let cert: { cert: string; key: string };

beforeAll(() => {
  ca = makeCA();
  cert = ca.server(['a.example.com']);
});

/** A stream's outcome: its body length, or the error it ended with. */
function outcome(s: ClientHttp2Stream): Promise<string> {
  return new Promise((resolve) => {
    let n = 0;
    s.on('data', (c: Buffer) => (n += c.length));
    s.on('end', () => resolve(`${n} bytes`));
    s.on('error', (e: Error) => resolve(e.message));
  });
}

describe.each(['h2c', 'h2'] as const)('listen(), %s: HTTP/2 session memory', (kind) => {
  it('twelve 1 MiB answers left unread on a session do not get its next four streams refused', async () => {
    let answered = 0;
    // An in-process handler answering 1 MiB in one end() (handed to the stream whole: it is not over 1 MiB).
    const big = (_req: IncomingMessage, res: ServerResponse) => {
      res.end(body);
      answered++;
    };
    const listener = kind === 'h2c' ? { name: 'web', port: 80, protocol: 'HTTP' } : httpsListener('web', 443, 'a.example.com', ['web']);
    const gw = await listen({
      manifests: [gateway([listener]), ...(kind === 'h2' ? [tlsSecret('web', cert)] : []), route('r', 'web', 'big')],
      backends: { big },
      host: '127.0.0.1',
      ports: kind === 'h2c' ? { 80: 0 } : { 443: 0 },
    });
    const session: ClientHttp2Session =
      kind === 'h2c'
        ? h2connect(`http://127.0.0.1:${gw.ports[80]}`)
        : h2connect(`https://a.example.com:${gw.ports[443]}`, { host: '127.0.0.1', servername: 'a.example.com', ca: ca.cert } as never);
    session.on('error', () => {});
    const get = (path: string) => session.request({ ':path': path, ':authority': 'a.example.com' }, { endStream: true });
    try {
      // Twelve answers the client does not read yet: their data waits on the session (the client's
      // stream windows, 64 KiB each by default, let little of it go).
      const first = Array.from({ length: 12 }, (_, i) => {
        const s = get(`/first/${i}`);
        s.pause();
        return s;
      });
      const firstDone = first.map(outcome);
      await waitFor(() => answered === 12, 20_000, 'the twelve answers to be written');
      // Four more requests on the same session, with about 11 MiB queued: node:http2's default
      // (10 MB) refused all four with ENHANCE_YOUR_CALM.
      const next = Array.from({ length: 4 }, (_, i) => outcome(get(`/next/${i}`)));
      for (const s of first) s.resume();
      expect(await Promise.all(next)).toEqual(Array(4).fill(`${MiB} bytes`));
      expect(await Promise.all(firstDone)).toEqual(Array(12).fill(`${MiB} bytes`));
    } finally {
      session.close();
      await gw.close();
    }
  });
});
