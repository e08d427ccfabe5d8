// seededRandom (testing entry): the `random` option's seeded source, so weighted splits counted in
// tests and in the demo are the same on every run (docs/testing.md, "Splits").
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { backendOf, seededRandom } from '../../src/testing/matchers.js';

const read = (f: string) => readFileSync(new URL(`../../examples/${f}`, import.meta.url), 'utf8');
const manifests = [read('splitting.yaml'), read('echo-services.yaml')];

const counts = (random: () => number, n: number) => {
  const gw = createGateway({ manifests, random });
  const c: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const k = backendOf(gw.route({ method: 'GET', path: '/echo', headers: { host: 'localhost' } }));
    c[k] = (c[k] ?? 0) + 1;
  }
  return c;
};

describe('seededRandom', () => {
  it('draws numbers in [0, 1), the same sequence for the same seed and another for another seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    // Spread over the interval, not stuck in a corner: each tenth gets some draws.
    const tenths = new Set(xs.map((x) => Math.floor(x * 10)));
    expect(tenths.size).toBe(10);
  });

  it('makes a weighted split give the same counts on every run', () => {
    const first = counts(seededRandom(20261204), 2000);
    expect(counts(seededRandom(20261204), 2000)).toEqual(first);
    expect(Object.keys(first).sort()).toEqual(['echo-1:8080', 'echo-2:8090']);
    expect(Math.abs(first['echo-1:8080']! / 2000 - 0.5)).toBeLessThan(0.05);
  });
});
