// WebSocket through the gateway: the upgrade request is routed like any request, then the
// gateway pipes the client's socket to the upstream's. `server.on('upgrade', handler.upgrade)`
// is the only wiring (Express and Fastify do it for you).
import { createServer } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { createHandler } from 'gateway-api-router/node';

// A WebSocket echo upstream.
const upstream = new WebSocketServer({ port: 0, host: '127.0.0.1' });
upstream.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`echo ${m} (path ${req.url})`)));
await new Promise<void>((r) => upstream.once('listening', () => r()));

const handler = createHandler({
  manifests: `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw }
spec: { gatewayClassName: router, listeners: [{ name: http, port: 80, protocol: HTTP }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: chat }
spec:
  parentRefs: [{ name: gw }]
  rules:
  - matches: [{ path: { type: PathPrefix, value: /chat } }]
    backendRefs: [{ name: chat, port: 80 }]
`,
  backends: { chat: `http://127.0.0.1:${(upstream.address() as { port: number }).port}` },
});
const server = createServer(handler);
server.on('upgrade', handler.upgrade);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;

const ws = new WebSocket(`${base}/chat/room-1`);
ws.on('open', () => ws.send('hi'));
ws.on('message', (m) => {
  console.log(m.toString());
  ws.close();
});
ws.on('close', () => {
  const other = new WebSocket(`${base}/elsewhere`);
  other.on('unexpected-response', (_req, res) => {
    console.log(`no route: ${res.statusCode}`); // the gateway answers the upgrade request itself
    process.exit(0);
  });
});
