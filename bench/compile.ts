/** Compile time, heap after compile, and reload cost, at 1,000 and 10,000 routes. */
import { createGateway, type GatewayRouter } from '../src/index.js';
import { median } from './harness.js';
import { generateTable } from './tables.js';

const gc = (globalThis as { gc?: () => void }).gc;

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
