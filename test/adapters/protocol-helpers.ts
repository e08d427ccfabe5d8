// Real servers for the protocol end-to-end tests: a WebSocket echo (`ws`), an upstream that fails
// the first N tries of a request, an h2c upstream, and a self-signed certificate made with the
// openssl CLI in a temp dir. Everything listens on 127.0.0.1:0.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createH2Server, type Http2Server, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { closeServer, G, listen, type Obj } from './helpers.js';

/** A self-signed certificate for `app.example.com` (and localhost), made by openssl in a temp dir. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gw-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=app.example.com', '-addext', 'subjectAltName=DNS:app.example.com,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface WsEcho {
  url: string;
  /** Upgrade requests received: path and headers. */
  upgrades: { url: string; headers: IncomingMessage['headers'] }[];
  /** Sockets the server still has open. */
  readonly open: number;
  /** Close codes the server saw from clients. */
  closes: number[];
  close(): Promise<void>;
}

/**
 * A WebSocket echo server. Every message comes back as it was sent (text stays text, binary
 * binary); the text `close-please` makes the server close with code 4000.
 */
export async function startWsEcho(): Promise<WsEcho> {
  const server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('upgrade required');
  });
  const wss = new WebSocketServer({ server });
  const state: Omit<WsEcho, 'url' | 'close' | 'open'> = { upgrades: [], closes: [] };
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    state.upgrades.push({ url: req.url ?? '', headers: req.headers });
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'close-please') ws.close(4000, 'server says bye');
      else ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code) => state.closes.push(code));
  });
  const url = await listen(server);
  return Object.defineProperties(state, {
    url: { value: url },
    open: { get: () => wss.clients.size },
    close: { value: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await closeServer(server);
    } },
  }) as WsEcho;
}

export interface FlakyUpstream {
  url: string;
  server: Server;
  /** Tries seen per `uuid`. */
  tries: Map<string, number>;
  /** Request bodies seen per `uuid`, one per try. */
  bodies: Map<string, string[]>;
  close(): Promise<void>;
}

/**
 * An upstream that fails the first tries of each request, as the conformance suite's retry
 * simulation does. Query: `uuid` (required), `succeedAfter` (failing tries before success),
 * `responseCode` (status of a failure; without it a failure resets the connection), `delayRetry`
 * (ms to wait before answering a failing try). A success answers 200 with JSON `{ tries, body }`.
 */
export async function startFlakyUpstream(name = 'flaky'): Promise<FlakyUpstream> {
  const tries = new Map<string, number>();
  const bodies = new Map<string, string[]>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const id = q.get('uuid') ?? '';
    const n = (tries.get(id) ?? 0) + 1;
    tries.set(id, n);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.set(id, [...(bodies.get(id) ?? []), Buffer.concat(chunks).toString()]);
      const failing = n <= Number(q.get('succeedAfter') ?? '0');
      const answer = () => {
        if (!failing) {
          res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
          res.end(JSON.stringify({ tries: n, backend: name, body: Buffer.concat(chunks).toString() }));
          return;
        }
        const code = q.get('responseCode');
        if (code === null) {
          req.socket.destroy();
          return;
        }
        res.writeHead(Number(code), { 'content-type': 'text/plain', 'x-backend': name });
        res.end(`failing try ${n}`);
      };
      const delay = failing ? Number(q.get('delayRetry') ?? '0') : 0;
      if (delay > 0) {
        const t = setTimeout(answer, delay);
        res.on('close', () => clearTimeout(t));
      } else answer();
    });
  });
  const url = await listen(server);
  return { url, server, tries, bodies, close: () => closeServer(server) };
}

export interface H2cUpstream {
  url: string;
  /** Requests seen: HTTP version, headers, body. */
  seen: { httpVersion: string; headers: IncomingHttpHeaders; body: string }[];
  /** HTTP/2 sessions (client connections) open now. */
  readonly open: number;
  close(): Promise<void>;
}

/**
 * An HTTP/2-only cleartext upstream (h2c with prior knowledge, no HTTP/1.1). It answers JSON
 * describing the request, with a trailer `x-upstream-trailer: done`.
 */
export async function startH2cUpstream(): Promise<H2cUpstream> {
  const seen: H2cUpstream['seen'] = [];
  const server: Http2Server = createH2Server();
  const open = new Set<{ destroy(): void }>();
  server.on('session', (session) => {
    open.add(session);
    session.on('close', () => open.delete(session));
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ httpVersion: '2.0', headers, body });
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-h2': 'yes' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-upstream-trailer': 'done' }));
      stream.end(JSON.stringify({ path: headers[':path'], authority: headers[':authority'], body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    get open() {
      return open.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
}

const prefix = (value: string) => [{ path: { type: 'PathPrefix', value } }];
const ref = (name: string, port = 80, weight?: number) => ({ name, port, ...(weight !== undefined ? { weight } : {}) });

/** The manifests the protocol tests serve: WebSocket, h2c and retry routes on one listener. */
export function protocolManifests(): Obj[] {
  const route = (name: string, rules: Obj[]): Obj => ({ apiVersion: G, kind: 'HTTPRoute', metadata: { name, namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], rules } });
  return [
    { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'router', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ws-echo', namespace: 'default' }, spec: { ports: [{ port: 80, appProtocol: 'kubernetes.io/ws' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'h2', namespace: 'default' }, spec: { ports: [{ port: 80, appProtocol: 'kubernetes.io/h2c' }] } },
    route('ws', [
      { matches: prefix('/ws'), filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-through', value: 'gateway' }] } }], backendRefs: [ref('ws-echo')] },
      { matches: prefix('/rewritten-ws'), filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/ws/inner' } } }], backendRefs: [ref('ws-echo')] },
      { matches: prefix('/inproc-ws'), backendRefs: [ref('inproc-ws')] },
      { matches: prefix('/moved-ws'), filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'elsewhere.example.com', statusCode: 302 } }] },
      { matches: prefix('/nobody-ws'), backendRefs: [ref('nobody')] },
    ]),
    route('h2', [{ matches: prefix('/h2c'), backendRefs: [ref('h2')] }]),
    route('plain', [{ matches: prefix('/plain'), backendRefs: [ref('plain')] }]),
    route('retries', [
      { matches: prefix('/retry/code-500-attempts-3'), retry: { codes: [500], attempts: 3 }, backendRefs: [ref('flaky')] },
      { matches: prefix('/retry/code-all-attempts-2'), retry: { codes: [500, 502, 503, 504], attempts: 2 }, backendRefs: [ref('flaky')] },
      { matches: prefix('/retry/no-status-code-attempts-3'), retry: { attempts: 3 }, backendRefs: [ref('flaky')] },
      // Upstream's httproute-retry-with-timeouts uses 200ms/400ms; the margins here are wider for loaded CI machines.
      { matches: prefix('/retry/backend-request-timeout'), retry: { attempts: 2 }, timeouts: { backendRequest: '1s' }, backendRefs: [ref('flaky')] },
      { matches: prefix('/retry/request-timeout'), retry: { codes: [500], attempts: 5 }, timeouts: { backendRequest: '1s', request: '4s' }, backendRefs: [ref('flaky')] },
      { matches: prefix('/retry/split'), retry: { codes: [503], attempts: 3 }, backendRefs: [ref('always-503', 80, 1), ref('flaky', 80, 1)] },
    ]),
  ];
}
