// Express 5: the gateway in front of existing routes; unmatched requests fall through to them.
import { readFileSync } from 'node:fs';
import express from 'express';
import { gatewayMiddleware } from 'gateway-api-router/express';

const app = express();
app.use(
  gatewayMiddleware({
    manifests: readFileSync('examples/basic-http.yaml', 'utf8'),
    backends: { details: (_req, res) => res.end('details from the gateway'), productpage: (_req, res) => res.end('productpage') },
    fallthrough: true, // unmatched requests call next() instead of answering 404
  }),
);
app.get('/legacy', (_req, res) => {
  res.send('an existing Express route');
});

const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
console.log(await (await fetch(`${base}/details/1`)).text());
console.log(await (await fetch(`${base}/legacy`)).text());
server.close();
