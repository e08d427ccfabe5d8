// createHandler on a node:http2 server: h2c here (HTTP/2 with prior knowledge, as gRPC clients
// speak it); http2.createSecureServer({ allowHTTP1: true, key, cert }, handler) serves TLS the same
// way. The :authority pseudo-header is the host; the HTTP/1.1 upstream never sees pseudo-headers.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:http2';
import { createHandler } from 'gateway-api-router/node';

const upstream = createHttpServer((req, res) => res.end(`productpage got ${req.url} over HTTP/${req.httpVersion} for ${req.headers.host}`));
await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));

const handler = createHandler({
  manifests: [readFileSync('examples/basic-http.yaml', 'utf8'), readFileSync('examples/bookinfo-services.yaml', 'utf8')],
  backends: { 'productpage:9080': `http://127.0.0.1:${(upstream.address() as { port: number }).port}`, 'details:9080': (_req, res) => res.end('{"id":1}') },
});
const server = createServer(handler);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));

const session = connect(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
const get = (path: string, headers: Record<string, string> = {}) =>
  new Promise<string>((resolve) => {
    const stream = session.request({ ':path': path, ':authority': 'bookinfo.example.com', ...headers });
    let body = '';
    stream.on('response', (h) => (body += `${h[':status']} `));
    stream.on('data', (c: Buffer) => (body += c));
    stream.on('end', () => resolve(body));
  });
console.log(await get('/details/1'));
console.log(await get('/?great=example', { magic: 'foo' }));
session.close();
server.close();
upstream.close();
