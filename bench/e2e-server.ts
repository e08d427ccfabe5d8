/**
 * One server for the end-to-end benchmarks, in its own process: `node e2e-server.mjs <mode> [upstreamPort]`.
 * Prints its port on stdout when listening. Listens on 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { createHandler } from '../src/adapters/node.js';
import { gatewayMiddleware } from '../src/adapters/express.js';
import { fastifyGateway } from '../src/adapters/fastify.js';
import { generateTable } from './tables.js';

const [mode, upstreamPort] = process.argv.slice(2);
const BODY = JSON.stringify({ id: 1, author: 'William Shakespeare', year: 1595, type: 'paperback', pages: 200 });
// A realistic table: 1,000 routes, the benchmarked one among them.
const table = generateTable(1000).manifests;
const route = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'bench-details' },
  spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/details' } }], backendRefs: [{ name: 'details', port: 9080 }] }] },
};
const manifests = [...table, route];
// The same response plain Fastify and Express send (they set Content-Length): without it Node
// would answer chunked, and the comparison would measure the encoding, not the router.
const handler = (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
  res.end(BODY);
};
const upstream = `http://127.0.0.1:${upstreamPort}`;

async function main(): Promise<AddressInfo> {
  switch (mode) {
    case 'upstream': {
      const s = createServer(handler);
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return s.address() as AddressInfo;
    }
    case 'fastify-plain':
    case 'fastify-gateway': {
      const app = Fastify({ logger: false });
      if (mode === 'fastify-gateway') await app.register(fastifyGateway, { manifests, backends: { 'details:9080': handler }, onError: () => {} });
      else app.get('/details/:id', (_req, reply) => reply.header('content-type', 'application/json').send(BODY));
      await app.listen({ port: 0, host: '127.0.0.1' });
      return app.server.address() as AddressInfo;
    }
    case 'express-plain':
    case 'express-gateway': {
      const app = express();
      if (mode === 'express-gateway') app.use(gatewayMiddleware({ manifests, backends: { 'details:9080': handler }, onError: () => {} }));
      else app.get('/details/:id', (_req, res) => res.type('application/json').send(BODY));
      const s = app.listen(0, '127.0.0.1');
      await new Promise((r) => s.once('listening', r));
      return s.address() as AddressInfo;
    }
    case 'proxy-gateway': {
      const s = createServer(createHandler({ manifests, backends: { 'details:9080': upstream }, onError: () => {} }));
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return s.address() as AddressInfo;
    }
    case 'proxy-fastify-http-proxy': {
      const app = Fastify({ logger: false });
      await app.register(httpProxy, { upstream, prefix: '/details', rewritePrefix: '/details' });
      await app.listen({ port: 0, host: '127.0.0.1' });
      return app.server.address() as AddressInfo;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

const addr = await main();
process.stdout.write(`${addr.port}\n`);
// Exit cleanly when the driver stops us (so --cpu-prof and the like can write their output).
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
