// Proxied upgrades (WebSocket) cannot be held open for ever: a connection silent both ways is
// closed after `upgrade.idleTimeout` (default 5 minutes, Envoy's stream idle timeout), on the
// client's side and the upstream's; and an upstream that refuses the upgrade with a long body
// is let go when the client leaves. Real sockets: a node:http upstream that accepts upgrades on
// /ws and refuses them on /refuse, a node:http gateway, raw clients.
// docs/adapters.md, "WebSocket and other upgrades".
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, type GatewayHandler } from '../../src/adapters/node.js';
import type { UpgradeOptions } from '../../src/adapters/protocols/upgrade.js';
import { closeServer, listen, waitFor } from '../adapters/helpers.js';

const G = 'gateway.networking.k8s.io/v1';
const manifests = [
  { apiVersion: G, kind: 'Gateway', metadata: { name: 'gw', namespace: 'default' }, spec: { gatewayClassName: 'any', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
  { apiVersion: G, kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'default' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'ws', port: 8080 }] }] } },
];

/** Upstream sockets of accepted or refused upgrades, and whether each has closed. */
const upstreamSockets: { path: string; socket: Duplex; closed: boolean }[] = [];
let upstream: Server;
let upstreamUrl: string;

beforeAll(async () => {
  upstream = createServer((_req, res) => res.end('plain'));
  upstream.on('upgrade', (req, socket: Duplex) => {
    const entry = { path: req.url ?? '', socket, closed: false };
    upstreamSockets.push(entry);
    socket.on('error', () => {});
    socket.on('close', () => (entry.closed = true));
    // node:http's sockets allow half-open connections: the gateway's end closes this side too.
    socket.on('end', () => socket.end());
    if (req.url === '/refuse') {
      // A refusal whose body never ends.
      socket.write('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 100000000\r\n\r\nnot for you');
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n');
  });
  upstreamUrl = await listen(upstream);
});
afterAll(async () => {
  await closeServer(upstream);
});

/** A gateway on node:http; `gatewaySockets` are the client sockets it was handed for upgrades. */
async function start(upgrade?: UpgradeOptions): Promise<{ port: number; gatewaySockets: Socket[]; close(): Promise<void> }> {
  const handler: GatewayHandler = createHandler({ manifests, backends: { 'ws:8080': upstreamUrl }, ...(upgrade ? { upgrade } : {}) });
  const server = createServer(handler);
  const gatewaySockets: Socket[] = [];
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    gatewaySockets.push(socket);
    handler.upgrade(req, socket, head);
  });
  const port = Number(new URL(await listen(server)).port);
  return {
    port,
    gatewaySockets,
    close: async () => {
      handler.close();
      // Upgraded sockets are the handler's, not the server's: a regression must not hang the close.
      for (const s of gatewaySockets) s.destroy();
      await closeServer(server);
    },
  };
}

/** Sends an upgrade request and resolves with the socket once the response head arrived. */
function upgradeRequest(port: number, path: string): Promise<{ socket: Socket; head: string; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let received = '';
    let closed = false;
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nhost: x.test\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n`));
    socket.on('error', () => {});
    socket.on('close', () => (closed = true));
    socket.on('data', (c: Buffer) => {
      received += c.toString('latin1');
      if (received.includes('\r\n\r\n')) resolve({ socket, head: received, closed: () => closed });
    });
    setTimeout(() => reject(new Error('no response head within 10 s')), 10_000).unref();
  });
}

describe('upgrade idle timeout', () => {
  it('a proxied WebSocket silent both ways is closed after upgrade.idleTimeout, on both sides', async () => {
    const g = await start({ idleTimeout: 300 });
    try {
      const c = await upgradeRequest(g.port, '/ws');
      expect(c.head).toMatch(/^HTTP\/1\.1 101 /);
      const up = upstreamSockets.filter((s) => s.path === '/ws').at(-1)!;
      await waitFor(c.closed, 10_000, 'the silent client connection to close');
      await waitFor(() => up.closed, 10_000, 'the upstream connection to close');
    } finally {
      await g.close();
    }
  });

  it('is 5 minutes by default', async () => {
    const g = await start();
    try {
      const c = await upgradeRequest(g.port, '/ws');
      expect(c.head).toMatch(/^HTTP\/1\.1 101 /);
      // The gateway's socket to the client carries the idle timer (net.Socket#timeout).
      expect((g.gatewaySockets.at(-1) as Socket & { timeout?: number }).timeout).toBe(300_000);
      c.socket.destroy();
    } finally {
      await g.close();
    }
  });
});

describe('refused upgrades', () => {
  it('the client leaving ends the upstream exchange of a refusal whose body never ends', async () => {
    const g = await start();
    try {
      const c = await upgradeRequest(g.port, '/refuse');
      expect(c.head).toMatch(/^HTTP\/1\.1 403 /);
      const up = upstreamSockets.filter((s) => s.path === '/refuse').at(-1)!;
      c.socket.destroy();
      await waitFor(() => up.closed, 10_000, 'the upstream connection of the refusal to close');
    } finally {
      await g.close();
    }
  });
});
