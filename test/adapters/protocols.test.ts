// WebSocket upgrades, h2c backends and retries end to end over real sockets, for each adapter:
// node:http (createHandler + handler.upgrade), Express (gatewayMiddleware wires the upgrade on the
// server it serves) and Fastify (the plugin wires it at registration). Real `ws` clients and
// servers; upstreams on 127.0.0.1:0.
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createHandler, type HandlerOptions } from '../../src/adapters/node.js';
import { gatewayMiddleware } from '../../src/adapters/express.js';
import { fastifyGateway } from '../../src/adapters/fastify.js';
import type { GatewayRouter } from '../../src/index.js';
import { seeded } from '../support/random.js';
import { client, closeServer, listen, rawRequest, startUpstream, waitFor, type Upstream } from './helpers.js';
import { protocolManifests, startFlakyUpstream, startH2cUpstream, startWsEcho, type FlakyUpstream, type H2cUpstream, type WsEcho } from './protocol-helpers.js';

interface Mounted {
  url: string;
  router: GatewayRouter;
  close(): Promise<void>;
}

const mounts: [string, (o: HandlerOptions) => Promise<Mounted>][] = [
  [
    'node:http',
    async (o) => {
      const handler = createHandler(o);
      const server = createServer(handler);
      server.on('upgrade', handler.upgrade);
      return { url: await listen(server), router: handler.router, close: () => closeServer(server) };
    },
  ],
  [
    'Express',
    async (o) => {
      const app = express();
      const mw = gatewayMiddleware(o);
      app.use(mw);
      const server: Server = createServer(app);
      const url = await listen(server);
      // The middleware wires the upgrade event on the first request it serves.
      await fetch(`${url}/plain/first`, { headers: { host: 'app.example.com' } }).then((r) => r.arrayBuffer());
      return { url, router: mw.handler.router, close: () => closeServer(server) };
    },
  ],
  [
    'Fastify',
    async (o) => {
      const app = Fastify({ logger: false, forceCloseConnections: true });
      await app.register(fastifyGateway, o);
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, router: app.gateway.router, close: () => app.close() };
    },
  ],
];

/** Opens a WebSocket through the gateway; resolves once open, rejects with the HTTP status when refused. */
function openWs(base: string, path: string): Promise<WebSocket & { received: string[] }> {
  return new Promise((resolve, reject) => {
    const ws = Object.assign(new WebSocket(base.replace('http:', 'ws:') + path, { headers: { host: 'app.example.com' } }), { received: [] as string[] });
    // Messages sent on open arrive before the caller can listen: keep them.
    ws.on('message', (m) => ws.received.push(m.toString()));
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`refused with ${res.statusCode}`), { status: res.statusCode, headers: res.headers }));
      res.resume();
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data: Buffer.from(data as Buffer), isBinary })));
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve(-1) : ws.once('close', (code) => resolve(code))));
}

describe.each(mounts)('%s: protocols end to end', (_label, mount) => {
  let echo: WsEcho;
  let flaky: FlakyUpstream;
  let always503: Upstream;
  let h2: H2cUpstream;
  let plain: Upstream;
  let gw: Mounted;
  const inprocServer = new WebSocketServer({ noServer: true });
  const errors: { status: number; reason: string }[] = [];

  beforeAll(async () => {
    [echo, flaky, h2, plain] = await Promise.all([startWsEcho(), startFlakyUpstream(), startH2cUpstream(), startUpstream()]);
    // Always answers 503: the retry split test's bad backend.
    always503 = await startUpstream();
    always503.server.removeAllListeners('request');
    always503.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      always503.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' });
      res.writeHead(503, { 'x-backend': 'always-503' });
      res.end('down');
    });
    inprocServer.on('connection', (ws, req) => {
      ws.send(`in-process ${req.url} x-through=${req.headers['x-through'] ?? ''}`);
      ws.on('message', (m) => ws.send(`inproc: ${m.toString()}`));
    });
    const inproc = Object.assign((_req: IncomingMessage, res: ServerResponse) => res.end('plain in-process'), {
      upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => inprocServer.handleUpgrade(req, socket, head, (ws) => inprocServer.emit('connection', ws, req)),
    });
    gw = await mount({
      manifests: protocolManifests(),
      random: seeded(7),
      backends: { 'ws-echo': echo.url, 'inproc-ws': inproc, h2: h2.url, flaky: flaky.url, 'always-503': always503.url, plain: plain.url },
      onError: (e) => errors.push(e),
    });
  });
  afterAll(async () => {
    await gw?.close();
    inprocServer.close();
    await Promise.all([echo?.close(), flaky?.close(), h2?.close(), plain?.close(), always503?.close()]);
  });

  describe('WebSocket (RFC 6455; appProtocol kubernetes.io/ws, conformance HTTPRouteBackendProtocolWebSocket)', () => {
    it('opens through the gateway and echoes text and binary frames both ways; the filters applied to the upgrade request', async () => {
      const ws = await openWs(gw.url, '/ws/chat?room=1');
      const text = nextMessage(ws);
      ws.send('Websocket Support!');
      expect((await text).data.toString()).toBe('Websocket Support!');
      const bin = nextMessage(ws);
      ws.send(Buffer.from([1, 2, 3, 4, 5, 6, 7]));
      const b = await bin;
      expect(b.isBinary).toBe(true);
      expect([...b.data]).toEqual([1, 2, 3, 4, 5, 6, 7]);
      const seen = echo.upgrades.at(-1)!;
      expect(seen.url).toBe('/ws/chat?room=1');
      expect(seen.headers['x-through']).toBe('gateway');
      expect(seen.headers.host).toBe('app.example.com');
      const done = closed(ws);
      ws.close(1000, 'client done');
      expect(await done).toBe(1000);
      await waitFor(() => echo.closes.includes(1000), 5_000, 'the upstream to see the client close');
    });

    it('passes a close from the upstream to the client, and tears both sockets down', async () => {
      const ws = await openWs(gw.url, '/ws/bye');
      const done = closed(ws);
      ws.send('close-please');
      expect(await done).toBe(4000);
      await waitFor(() => echo.open === 0, 5_000, 'the upstream socket to close');
    });

    it('a client that vanishes (TCP close without a close frame) frees the upstream socket', async () => {
      const ws = await openWs(gw.url, '/ws/vanish');
      await waitFor(() => echo.open > 0, 5_000, 'the upstream socket');
      ws.terminate();
      await waitFor(() => echo.open === 0, 5_000, 'the upstream socket to close');
    });

    it('rewrites the upgrade request path like any request (URLRewrite)', async () => {
      const ws = await openWs(gw.url, '/rewritten-ws/room');
      await waitFor(() => echo.upgrades.some((u) => u.url === '/ws/inner/room'), 5_000, 'the rewritten upgrade');
      ws.close();
    });

    it('answers an upgrade no route matches with 404, a redirect with its status and Location, an unregistered backend with 503', async () => {
      await expect(openWs(gw.url, '/no-such-route')).rejects.toMatchObject({ status: 404 });
      await expect(openWs(gw.url, '/moved-ws/x')).rejects.toMatchObject({ status: 302, headers: { location: 'http://elsewhere.example.com/moved-ws/x' } });
      await expect(openWs(gw.url, '/nobody-ws')).rejects.toMatchObject({ status: expect.any(Number) });
    });

    it('hands upgrades for an in-process backend to its upgrade hook, after the filters', async () => {
      const ws = await openWs(gw.url, '/inproc-ws/a');
      await waitFor(() => ws.received.length > 0, 5_000, 'the greeting');
      expect(ws.received[0]).toBe('in-process /inproc-ws/a x-through=');
      const reply = nextMessage(ws);
      ws.send('hi');
      expect((await reply).data.toString()).toBe('inproc: hi');
      ws.close();
    });
  });

  describe('h2c backends (appProtocol kubernetes.io/h2c, conformance HTTPRouteBackendProtocolH2C)', () => {
    it('reaches an HTTP/2-only backend with prior knowledge, body and trailers included', async () => {
      const r = await new Promise<{ status: number; headers: IncomingMessage['headers']; trailers: IncomingMessage['trailers']; body: string }>((resolve, reject) => {
        const req = httpRequest(`${gw.url}/h2c/x?y=1`, { method: 'POST', agent: false, headers: { host: 'app.example.com', 'content-type': 'text/plain', te: 'trailers' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        req.end('over h2c');
      });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ path: '/h2c/x?y=1', authority: 'app.example.com', body: 'over h2c' });
      expect(r.headers['x-h2']).toBe('yes');
      expect(r.trailers['x-upstream-trailer']).toBe('done');
      const seen = h2.seen.at(-1)!;
      expect(seen.httpVersion).toBe('2.0');
      expect(seen.headers['x-forwarded-proto']).toBe('http');
    });

    it('never sends HTTP/1.1 hop-by-hop headers to an HTTP/2 backend (RFC 9113 8.2.2)', async () => {
      const r = await rawRequest(gw.url, '/h2c/hop', { host: 'app.example.com', connection: 'keep-alive, x-hop', 'keep-alive': 'timeout=5', 'x-hop': 'must-not-pass', 'x-kept': 'yes' });
      expect(r.status).toBe(200);
      const seen = h2.seen.find((x) => x.headers[':path'] === '/h2c/hop')!;
      expect(seen.headers['x-kept']).toBe('yes');
      for (const h of ['connection', 'keep-alive', 'x-hop', 'transfer-encoding', 'upgrade']) expect(seen.headers[h], h).toBeUndefined();
    });
  });

  describe('retries (GEP-1731; conformance HTTPRouteRetry, -ConnectionError, -WithTimeouts)', () => {
    const call = async (path: string, q: Record<string, string>, init: { method?: string; body?: string } = {}) => {
      const uuid = randomUUID();
      const c = client(gw.url);
      try {
        const r = await c.send(`${path}?${new URLSearchParams({ ...q, uuid })}`, { headers: { host: 'app.example.com' }, ...init });
        return { ...r, tries: flaky.tries.get(uuid) ?? 0, bodies: flaky.bodies.get(uuid) ?? [] };
      } finally {
        await c.close();
      }
    };

    it.each([
      ['/retry/code-500-attempts-3', { responseCode: '500', succeedAfter: '2' }, 200, 3],
      ['/retry/code-500-attempts-3', { responseCode: '500', succeedAfter: '4' }, 500, 4],
      ['/retry/code-500-attempts-3', { responseCode: '503', succeedAfter: '2' }, 503, 1],
      ['/retry/code-all-attempts-2', { responseCode: '500', succeedAfter: '1' }, 200, 2],
      ['/retry/code-all-attempts-2', { responseCode: '500', succeedAfter: '3' }, 500, 3],
      ['/retry/code-all-attempts-2', { responseCode: '502', succeedAfter: '1' }, 200, 2],
      ['/retry/code-all-attempts-2', { responseCode: '502', succeedAfter: '3' }, 502, 3],
      ['/retry/code-all-attempts-2', { responseCode: '503', succeedAfter: '1' }, 200, 2],
      ['/retry/code-all-attempts-2', { responseCode: '503', succeedAfter: '3' }, 503, 3],
      ['/retry/code-all-attempts-2', { responseCode: '504', succeedAfter: '1' }, 200, 2],
      ['/retry/code-all-attempts-2', { responseCode: '504', succeedAfter: '3' }, 504, 3],
      ['/retry/no-status-code-attempts-3', { succeedAfter: '2' }, 200, 3],
      // Tries used up on connection resets: 503 (conformance HTTPRouteRetryConnectionError accepts 500 or 503; digest 8.3).
      ['/retry/no-status-code-attempts-3', { succeedAfter: '4' }, 503, 4],
      ['/retry/backend-request-timeout', { responseCode: '500', succeedAfter: '2', delayRetry: '3000' }, 200, 3],
      ['/retry/backend-request-timeout', { responseCode: '500', succeedAfter: '3', delayRetry: '3000' }, 504, 3],
      ['/retry/request-timeout', { responseCode: '500', succeedAfter: '1' }, 200, 2],
    ] as const)('%s %j answers %i after %i tries', async (path, q, status, tries) => {
      const r = await call(path, q);
      expect(r.status).toBe(status);
      expect(r.tries).toBe(tries);
    });

    it('the request timeout bounds the whole series: 504 once it passes, however many tries remain (digest 8.3)', async () => {
      const start = Date.now();
      const r = await call('/retry/request-timeout', { responseCode: '500', succeedAfter: '5', delayRetry: '3000' });
      expect(r.status).toBe(504);
      expect(Date.now() - start).toBeLessThan(20_000);
      expect(r.tries).toBeGreaterThanOrEqual(2);
      expect(r.tries).toBeLessThan(5);
    });

    it('replays a small request body on every try', async () => {
      const r = await call('/retry/code-500-attempts-3', { responseCode: '500', succeedAfter: '2' }, { method: 'POST', body: 'replay me' });
      expect(r.status).toBe(200);
      expect(r.bodies).toEqual(['replay me', 'replay me', 'replay me']);
    });

    it('sends a body over maxRetryBodyBytes (64 KiB) once, unretried', async () => {
      const big = 'x'.repeat(100 * 1024);
      const r = await call('/retry/code-500-attempts-3', { responseCode: '500', succeedAfter: '2' }, { method: 'POST', body: big });
      expect(r.status).toBe(500);
      expect(r.tries).toBe(1);
      expect(r.bodies[0]?.length).toBe(big.length);
    });

    it('each retry may pick another backend of the rule (weighted 1:1, one always 503)', async () => {
      const answers: number[] = [];
      for (let i = 0; i < 24; i++) answers.push((await call('/retry/split', {})).status);
      // Without a new pick per try, about half the requests would end on the 503 backend.
      expect(answers.filter((s) => s === 200).length).toBeGreaterThanOrEqual(20);
      expect(always503.requests.length).toBeGreaterThan(0);
    });

    it('explain() shows the retry plan', () => {
      const why = gw.router.explain({ method: 'GET', path: '/retry/request-timeout' });
      expect(why.retry).toEqual({ tries: 6, codes: [500], connectionErrors: true, backoffMs: 25, maxBackoffMs: 250, timeouts: { request: 4000, backendRequest: 1000 }, repick: true });
      expect(gw.router.explain({ method: 'GET', path: '/plain' }).retry).toBeNull();
    });
  });
});
