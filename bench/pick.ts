/** Weighted-pick benchmarks: random and smooth pickers at 2, 10 and 100 backends, against a baseline of Math.random(). */
import { createPicker } from '../src/pick/weighted.js';
import { compare } from './harness.js';

export async function benchPick(sizes = [2, 10, 100]) {
  const out: { backends: number; random: number; smooth: number; baseline: number }[] = [];
  for (const n of sizes) {
    const weights = Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % 100));
    const random = createPicker(weights, 'random', Math.random)!;
    const smooth = createPicker(weights, 'smooth', Math.random)!;
    const r = await compare([
      { name: 'baseline', fn: () => Math.random() },
      { name: 'random', fn: () => random.pick() },
      { name: 'smooth', fn: () => smooth.pick() },
    ]);
    out.push({ backends: n, random: r.random!, smooth: r.smooth!, baseline: r.baseline! });
  }
  return out;
}
