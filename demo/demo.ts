/**
 * npm run demo: the seed scenario (Cilium's Gateway API guide) served on localhost and exercised
 * over real HTTP. basic-http.yaml and splitting.yaml are loaded verbatim; in-process stand-ins
 * play the bookinfo and echo workloads. Exits 0 when every answer is what the guide shows.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createHandler } from '../src/adapters/node.js';
import { seededRandom } from '../src/testing/matchers.js';
import { detailsService, echoServer, productPage } from './backends.js';

const read = (f: string) => readFileSync(new URL(`../examples/${f}`, import.meta.url), 'utf8');
const out = (s = '') => process.stdout.write(`${s}\n`);
const tty = process.stdout.isTTY === true;
let failures = 0;
const check = (ok: boolean, what: string) => {
  if (!ok) failures++;
  return ok ? 'ok' : `FAILED: ${what}`;
};

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function get(base: string, path: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  const r = await request(base + path, { method: (init.method ?? 'GET') as 'GET', headers: init.headers ?? {} });
  return { status: r.statusCode, body: await r.body.text() };
}

// ---------------------------------------------------------------------------------------------
out('gateway-api-router demo: Cilium Gateway API guide, served in-process on localhost\n');

const bookinfo = createHandler({
  manifests: [read('basic-http.yaml'), read('bookinfo-services.yaml')],
  backends: { 'details:9080': detailsService, 'productpage:9080': productPage },
  addresses: [{ type: 'IPAddress', value: '127.0.0.1' }],
});
const bookinfoServer = createServer(bookinfo);
const bookinfoURL = await listen(bookinfoServer);

const gwStatus = bookinfo.router.statusOf('Gateway', 'my-gateway');
out(`$ kubectl get gateway my-gateway        (served at ${bookinfoURL})`);
const cond = (t: string) => gwStatus?.status.conditions.find((c) => c.type === t)?.status ?? '?';
out(`NAME         CLASS    ADDRESS     PROGRAMMED   ACCEPTED`);
out(`my-gateway   cilium   ${gwStatus?.status.addresses[0]?.value}   ${cond('Programmed')}         ${cond('Accepted')}`);
const route = bookinfo.router.statusOf('HTTPRoute', 'http-app-1');
out(`HTTPRoute http-app-1: ${route?.status.parents[0]?.conditions.map((c) => `${c.type}=${c.status}`).join(', ')}; attachedRoutes=${gwStatus?.status.listeners[0]?.attachedRoutes}\n`);

const details = await get(bookinfoURL, '/details/1');
out(`$ curl ${bookinfoURL}/details/1`);
out(`${details.body}\n  -> ${details.status} ${check(details.status === 200 && details.body.includes('"id":1'), 'details JSON')}\n`);

const product = await get(bookinfoURL, '/?great=example', { headers: { magic: 'foo' } });
out(`$ curl -v -H 'magic: foo' "${bookinfoURL}/?great=example"`);
out(`${product.body.split('\n').slice(0, 4).join('\n')}\n...\n  -> ${product.status} ${check(product.status === 200 && product.body.includes('Simple Bookstore App'), 'productpage HTML')}\n`);

for (const [label, path, init] of [
  ['GET / (no header, no query)', '/', {}],
  ['GET /?great=example (no header)', '/?great=example', {}],
  ['POST /?great=example with magic: foo', '/?great=example', { method: 'POST', headers: { magic: 'foo' } }],
] as const) {
  const r = await get(bookinfoURL, path, init);
  out(`${label.padEnd(40)} -> ${r.status} ${check(r.status === 404, `${label} should be 404`)}`);
}

// ---------------------------------------------------------------------------------------------
// The split draws from a seeded generator (the `random` option; seededRandom is in the testing
// entry), so the demo's counts are the same on every run: with Math.random, 2,000 draws at 50/50
// land outside the ±3% check about once in 140 runs, and the demo is part of `npm test`.
const split = createHandler({
  manifests: [read('splitting.yaml'), read('echo-services.yaml')],
  backends: { 'echo-1:8080': echoServer('echo-1'), 'echo-2:8090': echoServer('echo-2') },
  random: seededRandom(20261204),
});
const splitServer = createServer(split);
const splitURL = await listen(splitServer);

async function loop(label: string, n: number, weights: [number, number]) {
  out(`\n$ for _ in {1..${n}}; do curl -s ${splitURL}/echo; done | grep -c "Hostname: echo-N"      (${label})`);
  const counts: Record<string, number> = { 'echo-1': 0, 'echo-2': 0 };
  let done = 0;
  const worker = async () => {
    while (done < n) {
      done++;
      const r = await get(splitURL, '/echo');
      const host = /Hostname: (\S+)/.exec(r.body)?.[1] ?? `status ${r.status}`;
      counts[host] = (counts[host] ?? 0) + 1;
      const finished = counts['echo-1']! + counts['echo-2']!;
      if (tty && finished % 100 === 0) process.stdout.write(`\r  ${finished}/${n} requests`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (tty) process.stdout.write('\r' + ' '.repeat(30) + '\r');
  else out(`  ${n}/${n} requests`);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  for (const [host, c] of Object.entries(counts)) {
    const share = c / total;
    out(`  ${host}: ${String(c).padStart(5)}  ${'█'.repeat(Math.round(share * 50)).padEnd(50)} ${(share * 100).toFixed(1)}%`);
  }
  const expected = weights[0] / (weights[0] + weights[1]);
  const off = Math.abs(counts['echo-1']! / total - expected);
  out(`  echo-1 share ${(100 * counts['echo-1']! / total).toFixed(1)}% for weight ${(expected * 100).toFixed(0)}% -> ${check(off < 0.03 && total === n, `${label} split`)}`);
}

await loop('weights 50/50', 2000, [50, 50]);
out('\n$ kubectl apply -f splitting-99-1.yaml      (hot reload: the running server swaps its table)');
const reloaded = split.router.reload([read('splitting-99-1.yaml'), read('echo-services.yaml')]);
out(`  reload: ${reloaded.ok ? 'ok' : reloaded.error.message}`);
await loop('weights 99/1', 5000, [99, 1]);

bookinfoServer.close();
splitServer.close();
out(failures === 0 ? '\nEvery answer matches the guide.' : `\n${failures} answer(s) differ from the guide.`);
process.exit(failures === 0 ? 0 : 1);
