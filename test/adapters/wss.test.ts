// WebSocket over TLS to the backend (Service port appProtocol kubernetes.io/wss, GEP-1911): the
// client speaks ws to the gateway, the gateway speaks wss to a `ws` server over https with a
// certificate from a CA made in the test. The upstream is verified as every https upstream is: by
// the BackendTLSPolicy that applies (CA bundle, hostname as SNI, docs/adapters.md "WebSocket"),
// else against the system CAs; a wss backend registered with a plain http URL is refused.
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createHandler, type GatewayHandler } from '../../src/adapters/node.js';
import { caConfigMap, makeCA } from '../support/certs.js';
import { closeServer, G, listen, type Obj } from './helpers.js';

const ca = makeCA('wss backend CA');
let upstream: HttpsServer;
let upstreamPort = 0;
const sni: (string | false | null)[] = [];
/** A plain (cleartext) ws server: a wss backend registered with its http URL must not reach it. */
let plain: Server;
let plainConnections = 0;
let handler: GatewayHandler;
let gateway: Server;
let base = '';

const service = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 443, appProtocol: 'kubernetes.io/wss' }] } });
const route = (name: string): Obj => ({ apiVersion: G, kind: 'HTTPRoute', metadata: { name, namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/${name}` } }], backendRefs: [{ name, port: 443 }] }] } });
const policy = (name: string, hostname: string): Obj => ({ apiVersion: G, kind: 'BackendTLSPolicy', metadata: { name, namespace: 'default' }, spec: { targetRefs: [{ group: '', kind: 'Service', name }], validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'wss-ca' }], hostname } } });

beforeAll(async () => {
  upstream = createHttpsServer(ca.server(['wss.internal']), (_req, res) => {
    res.writeHead(426);
    res.end();
  });
  upstream.on('secureConnection', (s: TLSSocket) => sni.push(s.servername));
  const wss = new WebSocketServer({ server: upstream });
  wss.on('connection', (ws, req) => {
    ws.send(`hello over ${(req.socket as TLSSocket).encrypted ? 'tls' : 'cleartext'} at ${req.url}`);
    ws.on('message', (m) => ws.send(`echo ${m.toString()}`));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamPort = (upstream.address() as AddressInfo).port;
  const https = `https://127.0.0.1:${upstreamPort}`;
  plain = createServer();
  new WebSocketServer({ server: plain }).on('connection', (ws) => {
    plainConnections++;
    ws.send('hello over cleartext');
  });
  const plainUrl = await listen(plain);
  const names = ['secure', 'mismatch', 'nopolicy', 'cleartext'];
  handler = createHandler({
    manifests: [
      { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'router', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
      caConfigMap('wss-ca', ca.cert),
      ...names.map(service),
      ...names.map(route),
      policy('secure', 'wss.internal'),
      policy('mismatch', 'other.internal'),
    ],
    backends: { 'secure:443': https, 'mismatch:443': https, 'nopolicy:443': https, 'cleartext:443': plainUrl },
  });
  gateway = createServer(handler);
  gateway.on('upgrade', handler.upgrade);
  base = (await listen(gateway)).replace('http:', 'ws:');
});
afterAll(async () => {
  await closeServer(gateway);
  plain.closeAllConnections();
  await closeServer(plain);
  handler.close();
  await new Promise<void>((r) => {
    upstream.close(() => r());
    upstream.closeAllConnections();
  });
});

/** Opens a WebSocket through the gateway: the first message, or the HTTP status of a refusal. */
function open(path: string): Promise<{ ws: WebSocket; first: string } | { status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base + path, { headers: { host: 'app.example.com' } });
    ws.once('message', (m) => resolve({ ws, first: m.toString() }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

describe('kubernetes.io/wss backends: WebSocket over TLS to the upstream (GEP-1911)', () => {
  it('the route resolves: wss is no longer an unsupported appProtocol', () => {
    const s = handler.router.statusOf('HTTPRoute', 'secure', 'default');
    const parents = s?.kind === 'HTTPRoute' ? s.status.parents : [];
    expect(parents[0]?.conditions.find((c) => c.type === 'ResolvedRefs')).toMatchObject({ status: 'True' });
  });

  it('proxies over TLS verified by the BackendTLSPolicy (CA bundle, hostname as SNI): messages both ways', async () => {
    sni.length = 0;
    const r = await open('/secure/room');
    if (!('ws' in r)) throw new Error(`refused with ${r.status}`);
    expect(r.first).toBe('hello over tls at /secure/room');
    const next = new Promise<string>((resolve) => r.ws.once('message', (m) => resolve(m.toString())));
    r.ws.send('ping');
    expect(await next).toBe('echo ping');
    r.ws.close();
    expect(sni).toEqual(['wss.internal']);
  });

  it('refuses an upstream whose certificate does not name the policy hostname: 502', async () => {
    expect(await open('/mismatch')).toEqual({ status: 502 });
  });

  it('without a policy, verifies against the system CAs: a private CA is refused, 502', async () => {
    expect(await open('/nopolicy')).toEqual({ status: 502 });
  });

  it('refuses a wss backend registered with a plain http URL (no cleartext where TLS is declared): 502, nothing sent', async () => {
    expect(await open('/cleartext')).toEqual({ status: 502 });
    expect(plainConnections).toBe(0);
  });
});
