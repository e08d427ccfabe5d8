/** Compile and load figures: in this process (heap, reload), and first builds in fresh processes (see fresh.ts). */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createGateway, type GatewayRouter } from '../src/index.js';
import { median } from './harness.js';
import { generateTable, type Shape } from './tables.js';

const gc = (globalThis as { gc?: () => void }).gc;
const freshScript = fileURLToPath(new URL('./fresh.mjs', import.meta.url));

/** Runs one fresh.ts task in a new process and returns what it printed. */
export function fresh<T>(task: 'objects' | 'yaml' | 'alloc', shape: Shape, n: number): T {
  const flags = ['--expose-gc', ...(task === 'alloc' ? ['--max-semi-space-size=64'] : [])];
  const out = execFileSync(process.execPath, [...flags, freshScript, task, shape, String(n)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

export function benchCompile(n: number): { compileMs: number; heapMB: number; reloadMs: number } {
  const manifests = generateTable(n).manifests;
  const times: number[] = [];
  const heaps: number[] = [];
  let gw: GatewayRouter | null = null;
  for (let i = 0; i < 3; i++) {
    gw = null; // release the previous instance before measuring the next one
    gc?.();
    const before = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    gw = createGateway({ manifests, now: () => new Date(0) });
    times.push(performance.now() - t0);
    gc?.();
    heaps.push((process.memoryUsage().heapUsed - before) / 2 ** 20);
  }
  const reloads: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = gw!.reload(manifests);
    reloads.push(performance.now() - t0);
    if (!r.ok) throw r.error;
  }
  return { compileMs: median(times), heapMB: median(heaps), reloadMs: median(reloads) };
}
