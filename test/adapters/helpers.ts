// Shared pieces of the adapter end-to-end tests: real upstream servers on 127.0.0.1:0, the
// manifests every adapter serves, and small HTTP client helpers. Nothing here uses a fixed port.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { Agent, request, type Dispatcher } from 'undici';
import { stringify } from 'yaml';

export type Obj = Record<string, unknown>;
export const G = 'gateway.networking.k8s.io/v1';
export const MB = 1024 * 1024;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns true, or fails after `ms`. */
export async function waitFor(check: () => boolean, ms = 5_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A URL whose port was just free: connecting to it is refused. */
export async function refusedUrl(): Promise<string> {
  const s = createServer();
  const url = await listen(s);
  await closeServer(s);
  return url;
}

// ---------------------------------------------------------------------------------------------
// Upstream servers

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Upstream {
  url: string;
  server: Server;
  /** Requests received (body filled in once read, for the paths that read it). */
  requests: Seen[];
  /** URLs whose response was closed before it finished (the gateway aborted the request). */
  closedEarly: string[];
  /** Bytes the last /echo request carried. */
  echoed: number;
  close(): Promise<void>;
}

/**
 * A real node:http upstream. Its behaviour depends on the path:
 * `/slow` answers after 3 s, `/hang` never answers, `/stall` sends headers and one chunk then
 * stalls, `/destroy` destroys the socket, `/destroy-mid` destroys it mid-body, `/echo` streams
 * the body back, `/hop` adds hop-by-hop response headers; anything else answers JSON describing
 * the request (`{ method, url, headers, body }`).
 */
export async function startUpstream(): Promise<Upstream> {
  const up: Omit<Upstream, 'url' | 'close'> = { server: createServer(), requests: [], closedEarly: [], echoed: 0 };
  up.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const seen: Seen = { method: req.method ?? '', url, headers: req.headers, body: '' };
    up.requests.push(seen);
    res.on('close', () => {
      if (!res.writableFinished) up.closedEarly.push(url);
    });
    res.setHeader('x-gw', 'upstream');
    res.setHeader('x-remove-me', 'present');
    if (url.includes('/slow')) {
      const t = setTimeout(() => res.end('slow'), 3_000);
      res.on('close', () => clearTimeout(t));
      return;
    }
    if (url.includes('/hang')) return;
    if (url.includes('/stall')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n');
      return;
    }
    if (url.includes('/destroy-mid')) {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 20);
      return;
    }
    if (url.includes('/destroy')) {
      req.socket.destroy();
      return;
    }
    if (url.includes('/echo')) {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => (up.echoed = n));
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.body = Buffer.concat(chunks).toString();
      if (url.includes('/hop')) {
        res.setHeader('connection', 'keep-alive, x-up-hop');
        res.setHeader('x-up-hop', 'must-not-pass');
        res.setHeader('proxy-authenticate', 'Basic realm="up"');
        res.setHeader('x-up-kept', 'yes');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(seen));
    });
  });
  const url = await listen(up.server);
  return Object.assign(up, { url, close: () => closeServer(up.server) });
}

// ---------------------------------------------------------------------------------------------
// Manifests

const prefix = (value: string) => [{ path: { type: 'PathPrefix', value } }];
const ref = (name: string, weight?: number) => ({ name, port: 80, ...(weight !== undefined ? { weight } : {}) });
const mirror = (name: string) => ({ type: 'RequestMirror', requestMirror: { backendRef: { name, port: 80 } } });

export function gatewayObj(): Obj {
  return { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'router', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }] } };
}

export function routeObj(name: string, rules: Obj[], namespace = 'default'): Obj {
  return { apiVersion: G, kind: 'HTTPRoute', metadata: { name, namespace }, spec: { parentRefs: [{ name: 'gw', namespace: 'default' }], rules } };
}

/**
 * The manifests every adapter serves. `weights` are those of blue and green on /split.
 * Registered backends (see suiteBackends): up, blue, green, mirror, hang-mirror, stuck-mirror,
 * dead, inproc. `ghost` has a Service but nobody registers it.
 */
export function suiteManifests(weights: [number, number] = [1, 1]): Obj[] {
  return [
    gatewayObj(),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'ghost', namespace: 'default' }, spec: { ports: [{ port: 80 }] } },
    routeObj('proxy', [
      { matches: prefix('/proxy'), backendRefs: [ref('up')] },
      { matches: prefix('/rewrite-host'), filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'rewritten.example.com' } }], backendRefs: [ref('up')] },
      {
        matches: prefix('/modify'),
        filters: [
          { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-req', value: 'added-by-gateway' }] } },
          { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'x-gw', value: 'set-by-gateway' }], add: [{ name: 'x-added', value: 'a' }], remove: ['x-remove-me'] } },
        ],
        backendRefs: [ref('up')],
      },
      {
        matches: prefix('/redirect'),
        filters: [
          { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'x-redirected', value: 'yes' }] } },
          { type: 'RequestRedirect', requestRedirect: { hostname: 'new.example.com', statusCode: 301 } },
        ],
      },
      {
        matches: prefix('/cors'),
        filters: [{ type: 'CORS', cors: { allowOrigins: ['https://app.example.com'], allowMethods: ['GET', 'POST'], allowHeaders: ['x-custom'], maxAge: 600 } }],
        backendRefs: [ref('up')],
      },
      { matches: prefix('/split'), backendRefs: [ref('blue', weights[0]), ref('green', weights[1])] },
      { matches: prefix('/inproc'), backendRefs: [ref('inproc')] },
    ]),
    routeObj('mirrors', [
      { matches: prefix('/mirror-copy'), filters: [mirror('mirror')], backendRefs: [ref('up')] },
      { matches: prefix('/mirror-hang'), filters: [mirror('hang-mirror')], backendRefs: [ref('up')] },
      { matches: prefix('/mirror-stuck'), filters: [mirror('stuck-mirror')], backendRefs: [ref('up')] },
      { matches: prefix('/mirror-dead'), filters: [mirror('dead')], backendRefs: [ref('up')] },
      { matches: prefix('/inproc-mirror'), filters: [mirror('mirror')], backendRefs: [ref('inproc')] },
    ]),
    routeObj('failures', [
      { matches: prefix('/t-request'), backendRefs: [ref('up')], timeouts: { request: '300ms' } },
      { matches: prefix('/t-backend'), backendRefs: [ref('up')], timeouts: { backendRequest: '300ms' } },
      { matches: prefix('/dead'), backendRefs: [ref('dead')] },
    ]),
    routeObj('ghost', [{ matches: prefix('/ghost'), backendRefs: [ref('ghost')] }]),
  ];
}

export interface SuiteServers {
  up: Upstream;
  mirror: Upstream;
  hangMirror: Upstream;
  stuckMirror: Upstream;
  dead: string;
  close(): Promise<void>;
}

export async function startSuiteServers(): Promise<SuiteServers> {
  const [up, mirror, hangMirror, stuckMirror, dead] = await Promise.all([startUpstream(), startUpstream(), startUpstream(), startUpstream(), refusedUrl()]);
  // The stuck mirror never reads the body nor answers.
  stuckMirror.server.removeAllListeners('request');
  stuckMirror.server.on('request', (req: IncomingMessage) => {
    stuckMirror.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' });
    req.pause();
  });
  // The hang mirror records and never answers (every path).
  hangMirror.server.removeAllListeners('request');
  hangMirror.server.on('request', (req: IncomingMessage) => {
    hangMirror.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' });
    req.resume();
  });
  return {
    up,
    mirror,
    hangMirror,
    stuckMirror,
    dead,
    close: async () => {
      await Promise.all([up.close(), mirror.close(), hangMirror.close(), stuckMirror.close()]);
    },
  };
}

/** The backends registry: every key form (`name`, `name:port`, `namespace/name:port`) and value form. */
export function suiteBackends(s: SuiteServers) {
  return {
    up: s.up.url,
    'blue:80': `${s.up.url}/blue`,
    'default/green:80': { url: `${s.up.url}/green` },
    'mirror:80': s.mirror.url,
    'hang-mirror': s.hangMirror.url,
    'stuck-mirror': s.stuckMirror.url,
    dead: s.dead,
    'inproc:80': (req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-inproc': 'yes' });
      res.end(`in-process ${req.method} ${req.url} host=${req.headers.host ?? ''}`);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Clients

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A client with its own connection pool, closed with `close()`. */
export function client(base: string) {
  const dispatcher: Dispatcher = new Agent({ keepAliveTimeout: 1_000, connections: 64 });
  const send = async (path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Readable; signal?: AbortSignal } = {}): Promise<Answer> => {
    const r = await request(base + path, {
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: init.headers ?? {},
      body: init.body ?? null,
      dispatcher,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    return { status: r.statusCode, headers: r.headers as Answer['headers'], body: await r.body.text() };
  };
  return { send, dispatcher, close: () => dispatcher.close() };
}

/** One request over node:http (for headers undici refuses to send, such as Connection and TE). */
export function rawRequest(base: string, path: string, headers: Record<string, string>, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + path, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() });
        res.socket?.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The first line of a gateway error body, e.g. `503 Service Unavailable: upstream-refused`. */
export const firstLine = (body: string) => body.split('\n')[0];

/** A readable of `size` bytes made of freshly allocated 64 KiB chunks (nothing reused, nothing pre-allocated). */
export function generatedBody(size: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(64 * 1024, size - sent);
      sent += n;
      this.push(Buffer.allocUnsafe(n).fill(0x61));
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Watched manifests

/** YAML manifests routing /w to the in-process backend `backend` (port 80). */
export function watchYaml(backend: string): string {
  return [gatewayObj(), routeObj('w', [{ matches: [{ path: { type: 'PathPrefix', value: '/w' } }], backendRefs: [{ name: backend, port: 80 }] }])].map((d) => stringify(d)).join('---\n');
}

/**
 * A Kubernetes ConfigMap volume under `parent`: `..<timestamp>/routes.yaml`, `..data -> ..<timestamp>`
 * and `routes.yaml -> ..data/routes.yaml`. `swap` writes a new timestamped directory and replaces
 * `..data` atomically (a temporary symlink renamed over it), then removes the old one, as the kubelet does.
 */
export function configMapVolume(parent: string, content: string): { root: string; swap(content: string): void } {
  const root = mkdtempSync(join(parent, 'cm-'));
  let n = 0;
  const version = (text: string) => {
    const ts = `..2026_01_01_00_00_${String(n++).padStart(2, '0')}.${process.pid}`;
    mkdirSync(join(root, ts));
    writeFileSync(join(root, ts, 'routes.yaml'), text);
    return ts;
  };
  let current = version(content);
  symlinkSync(current, join(root, '..data'));
  symlinkSync(join('..data', 'routes.yaml'), join(root, 'routes.yaml'));
  return {
    root,
    swap(text: string) {
      const next = version(text);
      symlinkSync(next, join(root, '..data_tmp'));
      renameSync(join(root, '..data_tmp'), join(root, '..data'));
      rmSync(join(root, current), { recursive: true });
      current = next;
    },
  };
}
