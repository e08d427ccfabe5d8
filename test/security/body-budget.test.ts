// The request bodies a handler keeps in memory for retries and mirrors are bounded in sum, not
// only one by one: with `maxBufferedBodyBytes` held, a body is sent once, unretried, and a mirror
// copy is skipped (mirrorStats.skipped); the budget comes back when the exchange (retries) or
// the copies (mirrors) are over. Real sockets: node:http upstreams that hold chosen requests.
// docs/adapters.md, "Retries" and the adapter options.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, type GatewayHandler } from '../../src/adapters/node.js';
import { closeServer, listen, sleep, waitFor } from '../adapters/helpers.js';
import { gatewayManifest, httpRoute, prefix } from './harness.js';

/** An upstream recording what it received; `/retry/*` answers 503 to the first try of each path; paths with its `marker` wait for release(). */
interface Recording {
  url: string;
  seen: { path: string; bytes: number }[];
  held: ServerResponse[];
  release(): void;
  server: Server;
}

async function recording(marker: string): Promise<Recording> {
  const tries = new Map<string, number>();
  const r: Recording = {
    url: '',
    seen: [],
    held: [],
    release() {
      for (const res of r.held) res.end('released');
      r.held = [];
    },
    server: createServer((req: IncomingMessage, res: ServerResponse) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        const path = req.url ?? '';
        r.seen.push({ path, bytes });
        const n = (tries.get(path) ?? 0) + 1;
        tries.set(path, n);
        if (path.startsWith('/retry/') && n === 1) {
          res.statusCode = 503;
          res.end('first try fails');
          return;
        }
        if (path.includes(marker)) {
          r.held.push(res);
          return;
        }
        res.end(`ok ${path} ${bytes}`);
      });
    }),
  };
  r.url = await listen(r.server);
  return r;
}

let app: Recording;
let shadow: Recording;
let handler: GatewayHandler;
let gateway: Server;
let port: number;

beforeAll(async () => {
  app = await recording('hold-app');
  shadow = await recording('hold-shadow');
  const manifests = [
    gatewayManifest(),
    httpRoute('r', [
      { matches: prefix('/retry'), retry: { codes: [503], attempts: 1 }, backendRefs: [{ name: 'app', port: 8080 }] },
      { matches: prefix('/mirror'), filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 8080 } } }], backendRefs: [{ name: 'app', port: 8080 }] },
    ]),
  ];
  handler = createHandler({ manifests, backends: { 'app:8080': app.url, 'shadow:8080': shadow.url }, maxBufferedBodyBytes: 1000 });
  gateway = createServer(handler);
  port = Number(new URL(await listen(gateway)).port);
});
afterAll(async () => {
  handler?.close();
  app?.release();
  shadow?.release();
  await closeServer(gateway);
  await closeServer(app.server);
  await closeServer(shadow.server);
});

function post(path: string, bytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { host: 'x.test', 'content-length': bytes } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(Buffer.alloc(bytes, 97));
  });
}

/** Posts to fresh paths until one is retried (the budget came back once the previous exchange closed). */
async function untilRetried(base: string, bytes: number): Promise<{ status: number; body: string }> {
  for (let i = 0; ; i++) {
    const r = await post(`${base}-${i}`, bytes);
    if (r.status === 200 || i >= 100) return r;
    await sleep(20);
  }
}

describe('maxBufferedBodyBytes, retries', () => {
  it('while other requests hold the budget, a body is sent once and not retried; once they end, bodies are retried again', async () => {
    // 800 bytes kept for the retries of a request whose second try the upstream holds.
    const held = post('/retry/hold-app', 800);
    await waitFor(() => app.held.length === 1, 10_000, 'the held try to reach the upstream');
    // 800 + 500 > 1000: not kept, so the first try's 503 is the answer.
    expect(await post('/retry/b', 500)).toEqual({ status: 503, body: 'first try fails' });
    expect(app.seen.filter((s) => s.path === '/retry/b')).toEqual([{ path: '/retry/b', bytes: 500 }]);
    app.release();
    expect(await held).toEqual({ status: 200, body: 'released' });
    // The kept body went back to the budget: a body is retried again.
    const again = await untilRetried('/retry/c', 500);
    expect(again.status).toBe(200);
    expect(again.body).toMatch(/^ok \/retry\/c-\d+ 500$/);
  });
});

describe('maxBufferedBodyBytes, mirrors', () => {
  it('while a copy in flight holds the budget, another mirror is skipped; once the copy is over, mirrors carry bodies again', async () => {
    const skipped = handler.mirrorStats.skipped;
    // The copy of this 800-byte body waits at the shadow backend; the request itself is answered.
    expect(await post('/mirror/a-hold-shadow', 800)).toEqual({ status: 200, body: 'ok /mirror/a-hold-shadow 800' });
    await waitFor(() => shadow.held.length === 1, 10_000, 'the mirror copy to reach the shadow');
    // 800 + 500 > 1000: the request is served, its mirror skipped.
    expect(await post('/mirror/b', 500)).toEqual({ status: 200, body: 'ok /mirror/b 500' });
    expect(handler.mirrorStats.skipped).toBe(skipped + 1);
    shadow.release();
    await waitFor(() => handler.mirrorStats.inFlight === 0, 10_000, 'the held copy to be over');
    expect(await post('/mirror/c', 500)).toEqual({ status: 200, body: 'ok /mirror/c 500' });
    await waitFor(() => shadow.seen.some((s) => s.path === '/mirror/c'), 10_000, 'the copy of /mirror/c');
    expect(shadow.seen.find((s) => s.path === '/mirror/c')).toEqual({ path: '/mirror/c', bytes: 500 });
    expect(shadow.seen.some((s) => s.path === '/mirror/b')).toBe(false);
    expect(handler.mirrorStats.skipped).toBe(skipped + 1);
  });
});
