/** Compile time, heap after compile, and reload cost, at 1,000 and 10,000 routes. */
import { createGateway } from '../src/index.js';
import { median } from './harness.js';
import { generateTable } from './tables.js';

const gc = (globalThis as { gc?: () => void }).gc;

export function benchCompile(n: number): { compileMs: number; heapMB: number; reloadMs: number } {
  const manifests = generateTable(n).manifests;
  const times: number[] = [];
  let heapMB = Number.NaN;
  for (let i = 0; i < 3; i++) {
    gc?.();
    const before = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const gw = createGateway({ manifests, now: () => new Date(0) });
    times.push(performance.now() - t0);
    gc?.();
    heapMB = Math.min(Number.isNaN(heapMB) ? Infinity : heapMB, (process.memoryUsage().heapUsed - before) / 2 ** 20);
    if (gw.route({ method: 'GET', path: '/' }).type === undefined) throw new Error('unreachable');
  }
  const gw = createGateway({ manifests, now: () => new Date(0) });
  const reloads: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = gw.reload(manifests);
    reloads.push(performance.now() - t0);
    if (!r.ok) throw r.error;
  }
  return { compileMs: median(times), heapMB, reloadMs: median(reloads) };
}
