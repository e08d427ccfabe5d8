/**
 * npm run demo: the seed scenario (Cilium's Gateway API guide) end to end.
 * Loads examples/*.yaml verbatim, prints the status a controller would write, and routes the
 * guide's requests.
 */
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { createGateway, type Decision } from '../src/index.js';

const read = (f: string) => readFileSync(new URL(`../examples/${f}`, import.meta.url), 'utf8');
const out = (s = '') => process.stdout.write(`${s}\n`);
const show = (d: Decision) => (d.type === 'forward' ? `200 -> ${d.backend.name}:${d.backend.port} (${d.route.name} rule ${d.rule.index})` : d.type === 'redirect' ? `${d.status} -> ${d.location}` : `${d.status} ${d.reason}`);

out('== basic-http.yaml + bookinfo-services.yaml ==');
const bookinfo = createGateway({ manifests: [read('basic-http.yaml'), read('bookinfo-services.yaml')] });
out(stringify({ gateway: bookinfo.statusOf('Gateway', 'my-gateway')?.status.conditions.map((c) => `${c.type}=${c.status}`), route: bookinfo.statusOf('HTTPRoute', 'http-app-1')?.status }));
for (const [label, req] of [
  ['GET /details/1', { method: 'GET', path: '/details/1' }],
  ['GET /?great=example  magic: foo', { method: 'GET', path: '/?great=example', headers: { magic: 'foo' } }],
  ['GET /', { method: 'GET', path: '/' }],
  ['POST /?great=example  magic: foo', { method: 'POST', path: '/?great=example', headers: { magic: 'foo' } }],
] as const) {
  out(`${label.padEnd(36)} ${show(bookinfo.route(req))}`);
}

for (const file of ['splitting.yaml', 'splitting-99-1.yaml']) {
  out(`\n== ${file} + echo-services.yaml ==`);
  const split = createGateway({ manifests: [read(file), read('echo-services.yaml')] });
  const counts: Record<string, number> = {};
  const n = 10_000;
  for (let i = 0; i < n; i++) {
    const d = split.route({ method: 'GET', path: '/echo' });
    const k = d.type === 'forward' ? d.backend.name : String(d.type);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  for (const [k, v] of Object.entries(counts).sort()) out(`${k.padEnd(8)} ${String(v).padStart(6)}  ${'#'.repeat(Math.round((v / n) * 50))}`);
}
