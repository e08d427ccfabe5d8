// Fastify 5: the plugin routes in onRequest; `app.gateway` exposes route, explain, status, reload.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { fastifyGateway } from 'gateway-api-router/fastify';

const app = Fastify({ logger: false });
await app.register(fastifyGateway, {
  manifests: [readFileSync('examples/splitting.yaml', 'utf8'), readFileSync('examples/echo-services.yaml', 'utf8')],
  backends: { 'echo-1:8080': (_req, res) => res.end('Hostname: echo-1'), 'echo-2:8090': (_req, res) => res.end('Hostname: echo-2') },
  picker: 'smooth',
});

const replies: string[] = [];
for (let i = 0; i < 4; i++) replies.push((await app.inject({ method: 'GET', url: '/echo' })).body);
console.log(replies.join(' | ')); // smooth 50/50: echo-1 and echo-2 alternate
console.log(app.gateway.route({ method: 'GET', path: '/nope' }).type === 'respond' ? 'unmatched -> 404' : 'matched');
await app.close();
