// The security suite's pieces: recording upstreams (real node:http servers on port 0 that record
// every request target and every connection), an "attacker" server that must never be reached,
// the three adapters mounted on port 0, and a raw client that sends a request line byte for byte
// (URL-building clients would normalise the very paths under test).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { createHandler, type HandlerOptions } from '../../src/adapters/node.js';
import { gatewayMiddleware } from '../../src/adapters/express.js';
import { fastifyGateway } from '../../src/adapters/fastify.js';
import type { GatewayRouter } from '../../src/index.js';

export const G = 'gateway.networking.k8s.io/v1';

/** A real upstream that records what it received. */
export interface Recorder {
  url: string;
  port: number;
  /** Request targets received, in order (`req.url`, byte for byte). */
  paths: string[];
  /** Every request with its headers. */
  requests: { url: string; method: string; headers: IncomingMessage['headers'] }[];
  /** TCP connections accepted. */
  connections: number;
  /** Answers every request with this handler instead of the default 200 JSON; set per test. */
  handler: ((req: IncomingMessage, res: ServerResponse) => void) | null;
  reset(): void;
  close(): Promise<void>;
}

export async function startRecorder(): Promise<Recorder> {
  const server: Server = createHttpServer();
  const rec: Omit<Recorder, 'url' | 'port' | 'close'> = {
    paths: [],
    requests: [],
    connections: 0,
    handler: null,
    reset() {
      this.paths.length = 0;
      this.requests.length = 0;
    },
  };
  server.on('connection', () => rec.connections++);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    rec.paths.push(req.url ?? '');
    rec.requests.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers });
    if (rec.handler) {
      rec.handler(req, res);
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(rec, {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  }) as Recorder;
}

export interface Mounted {
  url: string;
  port: number;
  router: GatewayRouter;
  close(): Promise<void>;
}

export type AdapterName = 'node' | 'express' | 'fastify';
export const ADAPTERS: AdapterName[] = ['node', 'express', 'fastify'];

/**
 * Mounts one adapter on 127.0.0.1:0. `log` receives Fastify's log lines (JSON, one per call)
 * when given; otherwise Fastify's logger is off.
 */
export async function mount(kind: AdapterName, options: HandlerOptions, log?: (line: Record<string, unknown>) => void): Promise<Mounted> {
  let server: Server;
  let router: GatewayRouter;
  let closeExtra = async () => {};
  if (kind === 'node') {
    const h = createHandler(options);
    server = createHttpServer(h);
    router = h.router;
    closeExtra = async () => h.close();
  } else if (kind === 'express') {
    const app = express();
    app.set('env', 'test');
    const mw = gatewayMiddleware(options);
    app.use(mw);
    server = createHttpServer(app);
    router = mw.handler.router;
    closeExtra = async () => mw.handler.close();
  } else {
    const logger = log ? { level: 'info', stream: { write: (s: string) => log(JSON.parse(s) as Record<string, unknown>) } } : false;
    const app = Fastify({ logger, forceCloseConnections: true });
    await app.register(fastifyGateway, options);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    return { url: `http://127.0.0.1:${port}`, port, router: app.gateway.router, close: () => app.close() };
  }
  const served = await serveLocal(server, closeExtra);
  return { url: `http://127.0.0.1:${served.port}`, port: served.port, router, close: served.close };
}

/**
 * Listens on 127.0.0.1:0 (a node:http or node:https server). `close()` runs `before` (a
 * handler's close), drops the open connections, and closes the server.
 */
export async function serveLocal(server: Server, before: () => unknown = () => {}): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await before();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends one request over a fresh TCP connection exactly as given (request line, headers, body)
 * and reads the answer until the server closes (Connection: close). A request the server drops
 * without answering yields status 0.
 */
export function sendRaw(port: number, target: string, headers: Record<string, string> = { host: 'app.example.com' }, method = 'GET', body = ''): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const lines = [`${method} ${target} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'connection: close'];
    if (body !== '') lines.push(`content-length: ${Buffer.byteLength(body)}`);
    socket.on('connect', () => socket.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1')));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseAnswer(Buffer.concat(chunks).toString('latin1'))));
    socket.setTimeout(20_000, () => socket.destroy(new Error(`no answer to ${method} ${target} within 20 s`)));
  });
}

function parseAnswer(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '' };
  const [statusLine, ...headerLines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of headerLines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = text.slice(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status: Number(statusLine!.split(' ')[1]), headers, body };
}

function unchunk(s: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const nl = s.indexOf('\r\n', i);
    if (nl < 0) return out;
    const n = parseInt(s.slice(i, nl), 16);
    if (!(n > 0)) return out;
    out += s.slice(nl + 2, nl + 2 + n);
    i = nl + 2 + n + 2;
  }
}

export { sleep, waitFor } from '../adapters/helpers.js';

/** The Gateway every security test serves: one HTTP listener on port 80, any host. */
export const gatewayManifest = () => ({ apiVersion: G, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } });

/** An HTTPRoute named `name` on that Gateway with these rules. */
export const httpRoute = (name: string, rules: Record<string, unknown>[]) => ({ apiVersion: G, kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs: [{ name: 'gw' }], rules } });

/** A PathPrefix match list. */
export const prefix = (value: string) => [{ path: { type: 'PathPrefix', value } }];
