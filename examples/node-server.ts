// A node:http server fronted by the gateway: one in-process backend, one proxied upstream.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createHandler } from 'gateway-api-router/node';

// An upstream the gateway proxies to (stands in for a real service).
const upstream = createServer((req, res) => res.end(`productpage got ${req.url} (x-forwarded-for: ${req.headers['x-forwarded-for']})`));
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
const upstreamPort = (upstream.address() as { port: number }).port;

const handler = createHandler({
  manifests: readFileSync('examples/basic-http.yaml', 'utf8'),
  backends: {
    'details:9080': (_req, res) => res.end(JSON.stringify({ id: 1 })), // in-process
    'productpage:9080': `http://127.0.0.1:${upstreamPort}`, // proxied with undici
  },
});
const server = createServer(handler);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

console.log(await (await fetch(`${base}/details/1`)).text());
console.log(await (await fetch(`${base}/?great=example`, { headers: { magic: 'foo' } })).text());
console.log((await fetch(`${base}/nowhere`)).status);
server.close();
upstream.close();
