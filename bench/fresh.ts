/**
 * Measurements that need a fresh process: `node --expose-gc fresh.mjs <task> <shape> <routes>`
 * prints one JSON line. run.ts spawns it once per figure.
 *
 * - `objects`: the first createGateway in the process on manifests given as objects (what a
 *   service pays at start-up, before the JIT has seen the code), loadManifests alone, and the
 *   heap the gateway retains.
 * - `yaml`: the first createGateway on the same table as one YAML text, and the heap. The text is
 *   what a service that read a manifest file holds: built in a function, so that the generated
 *   objects are garbage before the measurement starts, and flat, as `readFileSync` returns it (a
 *   text joined from pieces would make the parser's first read copy it).
 * - `alloc`: bytes allocated per route() call, for forwarded hits and for misses (run with a
 *   young generation large enough that no scavenge happens inside the measured loop).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { createGateway, loadManifests, type GatewayRouter, type RouteRequest } from '../src/index.js';
import { generateTable, requestSet, type Shape } from './tables.js';
import { toYaml } from './yaml.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const [task, shape, size] = process.argv.slice(2) as [string, Shape, string];
const n = Number(size);
const mb = (b: number) => b / 2 ** 20;
const print = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const v = f();
  return [v, performance.now() - t0];
}

if (task === 'objects') {
  const manifests = generateTable(n, shape).manifests;
  gc();
  const before = process.memoryUsage().heapUsed;
  const [gw, firstMs] = timed(() => createGateway({ manifests, now: () => new Date(0) }));
  gc();
  const heapMB = mb(process.memoryUsage().heapUsed - before);
  const [, loadMs] = timed(() => loadManifests(manifests));
  const [, secondMs] = timed(() => createGateway({ manifests, now: () => new Date(0) }));
  print({ firstMs, secondMs, loadMs, heapMB, routes: gw.ir.rules.length > 0 ? n : 0 });
} else if (task === 'yaml') {
  const text = yamlText();
  gc();
  const before = process.memoryUsage().heapUsed;
  const [gw, firstMs] = timed(() => createGateway({ manifests: text, now: () => new Date(0) }));
  const heapTotalMB = mb(getHeapStatistics().total_heap_size);
  gc();
  const heapMB = mb(process.memoryUsage().heapUsed - before);
  const [, loadMs] = timed(() => loadManifests(text));
  print({ firstMs, loadMs, heapMB, heapTotalMB, textMB: mb(Buffer.byteLength(text)), rules: gw.ir.rules.length });
} else if (task === 'alloc') {
  const t = generateTable(n, shape);
  const gw = createGateway({ manifests: t.manifests, now: () => new Date(0) });
  const hits = requestSet(t, { missShare: 0, seed: 3 }).filter((r) => {
    const d = gw.route(r);
    return d.type === 'forward' && d.mirrors.length === 0 && d.responseHeaders.length === 0;
  });
  const misses = requestSet(t, { missShare: 1, seed: 4 });
  print({ hit: bytesPerCall(gw, hits), miss: bytesPerCall(gw, misses) });
} else {
  throw new Error(`unknown task ${task}`);
}

/**
 * The table as one flat YAML text, with nothing else of the generated table reachable. Built in a
 * function: a temporary of the module's top level can stay reachable from its frame, and kept
 * the generated objects (about 55 MB at 50,000 routes) alive through the measurement.
 */
function yamlText(): string {
  return Buffer.from(toYaml(generateTable(n, shape).manifests), 'utf8').toString('utf8');
}

/** Bytes allocated per call, over a loop with no garbage collection inside it. */
function bytesPerCall(gw: GatewayRouter, reqs: RouteRequest[]): number {
  let sink: unknown;
  for (let i = 0; i < 200_000; i++) sink = gw.route(reqs[i % reqs.length]!); // warm up: optimised code
  let gcs = 0;
  const obs = new PerformanceObserver((list) => (gcs += list.getEntries().length));
  obs.observe({ entryTypes: ['gc'] });
  const results: number[] = [];
  for (let round = 0; round < 5; round++) {
    gc();
    const seen = gcs;
    const k = 10_000;
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < k; i++) sink = gw.route(reqs[(round * k + i) % reqs.length]!);
    const after = process.memoryUsage().heapUsed;
    if (gcs === seen) results.push((after - before) / k);
  }
  obs.disconnect();
  if (sink === undefined) throw new Error('unreachable');
  results.sort((a, b) => a - b);
  return results.length ? results[results.length >> 1]! : NaN;
}
