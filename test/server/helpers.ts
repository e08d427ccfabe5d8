// Shared pieces of the listen() tests: manifests built as objects, and a node:https client that
// reports which certificate the server presented. Every server binds 127.0.0.1 on port 0.
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Obj = Record<string, unknown>;
export const G = 'gateway.networking.k8s.io/v1';

export function gateway(listeners: Obj[], extra: Obj = {}): Obj {
  return { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'any', listeners, ...extra } };
}

export function httpsListener(name: string, port: number, hostname: string | undefined, secrets: string[]): Obj {
  return {
    name,
    port,
    protocol: 'HTTPS',
    ...(hostname ? { hostname } : {}),
    tls: { certificateRefs: secrets.map((s) => ({ name: s })) },
  };
}

/** An HTTPRoute on one listener (sectionName) sending everything to `backend`. */
export function route(name: string, sectionName: string, backend: string, hostnames?: string[]): Obj {
  return {
    apiVersion: G,
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'default' },
    spec: { parentRefs: [{ name: 'gw', sectionName }], ...(hostnames ? { hostnames } : {}), rules: [{ backendRefs: [{ name: backend, port: 8080 }] }] },
  };
}

/** An in-process backend answering its own name and the path. */
export function named(name: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('x-backend', name);
    res.end(`${name} ${req.url}`);
  };
}

export interface HttpsAnswer {
  status: number;
  body: string;
  headers: IncomingMessage['headers'];
  /** subjectAltName of the certificate the server presented. */
  san: string;
  /** SHA-256 fingerprint of that certificate. */
  fingerprint: string;
  /** ALPN protocol negotiated. */
  alpn: string | false | null;
}

/** One HTTPS request on a new connection. `servername` is the SNI (omit to send none). */
export function httpsGet(port: number, opts: { servername?: string; host?: string; path?: string; ca: string; cert?: string; key?: string; alpn?: string[] }): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const o: RequestOptions = {
      host: '127.0.0.1',
      port,
      path: opts.path ?? '/',
      agent: false,
      ca: opts.ca,
      headers: { host: opts.host ?? opts.servername ?? 'localhost', connection: 'close' },
      // The certificate is checked against the SNI (not 127.0.0.1), as a browser would.
      checkServerIdentity: () => undefined,
      ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
      ...(opts.cert !== undefined ? { cert: opts.cert, key: opts.key } : {}),
      ...(opts.alpn !== undefined ? { ALPNProtocols: opts.alpn } : {}),
    };
    const req = httpsRequest(o, (res) => {
      const socket = res.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      const san = peer.subjectaltname ?? '';
      const fingerprint = peer.fingerprint256;
      const alpn = socket.alpnProtocol;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, san, fingerprint, alpn }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One plain HTTP request on a new connection. */
export function httpGet(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { host, connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Asserts that `port` no longer serves the gateway once it was closed: the connection is refused
 * or reset. On a loaded machine another process may bind the freed ephemeral port at once; an
 * answer is then accepted as long as it does not look like the gateway's (the test backends mark
 * theirs with `x-backend`; the gateway's own answer for an unrouted `/` is a 404), so the check
 * does not flake on port reuse.
 */
export async function expectPortClosed(port: number): Promise<void> {
  const outcome = await new Promise<string>((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false, headers: { host: 'x.test', connection: 'close' } }, (res) => {
      res.resume();
      const gatewayLike = res.headers['x-backend'] !== undefined || res.statusCode === 404;
      resolve(gatewayLike ? `HTTP ${res.statusCode} ${String(res.headers['x-backend'] ?? '')}` : 'another server');
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
  if (outcome !== 'ECONNREFUSED' && outcome !== 'ECONNRESET' && outcome !== 'another server') throw new Error(`port ${port} still answers: ${outcome}`);
}

/**
 * An in-process backend that holds its answer ('late') until `release()`: `started` resolves once
 * a request reached it. For drain tests: a request stays in flight while close() runs.
 */
export function heldBackend(): { handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>; started: Promise<void>; release: () => void } {
  let release!: () => void;
  let reached!: () => void;
  const started = new Promise<void>((r) => (reached = r));
  const gate = new Promise<void>((r) => (release = r));
  const handler = async (_req: IncomingMessage, res: ServerResponse) => {
    reached();
    await gate;
    res.end('late');
  };
  return { handler, started, release };
}
