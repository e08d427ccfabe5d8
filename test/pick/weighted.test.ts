// Weighted picking (spec digest section 6): shares are exactly weight/sum, weight 0 never wins.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aliasTable, createPicker, drawAlias, pickerFactory } from '../../src/pick/weighted.js';

/** An RNG that walks [0, 1) in `steps` equal steps: every integer in [0, total) is drawn equally often. */
function sweep(steps: number): () => number {
  let k = 0;
  return () => ((k++ % steps) + 0.5) / steps;
}

describe('random picker', () => {
  it('gives each backend exactly weight/sum of a full sweep of the RNG (shares are exact, digest 6)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 8 }), (weights) => {
        const total = weights.reduce((a, b) => a + b, 0);
        // The picker draws an integer in [0, live·total); sweeping those evenly must give each
        // backend exactly live·weight of them.
        const live = weights.filter((w) => w > 0).length;
        const steps = Math.max(1, live * total);
        const p = createPicker(weights, 'random', sweep(steps));
        if (total === 0) {
          expect(p).toBeNull();
          return;
        }
        const counts = weights.map(() => 0);
        for (let i = 0; i < steps; i++) counts[p!.pick()]!++;
        expect(counts).toEqual(live === 1 ? weights.map((w) => (w > 0 ? steps : 0)) : weights.map((w) => w * live));
      }),
      { numRuns: 500 },
    );
  });

  it('maps every draw r to the backend its alias bucket names, whether read from the list of draws or computed (small and large tables)', () => {
    // The documented table: [total, n·total, per bucket: kept values, own index, alias index, ...];
    // draw r falls in bucket floor(r / total) and keeps it when its offset is below the kept values.
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 2, maxLength: 6 }), (weights) => {
        const live = weights.filter((w) => w > 0);
        fc.pre(live.length >= 2);
        const total = live.reduce((a, b) => a + b, 0);
        const table = aliasTable(weights, weights.flatMap((w, i) => (w > 0 ? [i] : [])));
        const wrong: number[] = [];
        for (let r = 0; r < live.length * total; r++) {
          const bucket = Math.floor(r / total);
          const want = r - bucket * total < table[2 + 3 * bucket]! ? table[3 + 3 * bucket]! : table[4 + 3 * bucket]!;
          if (drawAlias(table, () => (r + 0.5) / (live.length * total)) !== want) wrong.push(r);
        }
        expect(wrong).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('is exact for large tables too: 100 backends, every draw of the integer range swept once', () => {
    const weights = Array.from({ length: 100 }, (_, i) => (i % 10 === 0 ? 0 : 1 + ((i * 37) % 97)));
    const live = weights.filter((w) => w > 0).length;
    const steps = live * weights.reduce((a, b) => a + b, 0);
    const p = createPicker(weights, 'random', sweep(steps))!;
    const counts = weights.map(() => 0);
    for (let i = 0; i < steps; i++) counts[p.pick()]!++;
    expect(counts).toEqual(weights.map((w) => w * live));
  });

  it('never picks a weight-0 backend, whatever the RNG returns (HTTPBackendRef weight 0 gets no traffic)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 2, maxLength: 16 }), fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 50, maxLength: 50 }), (weights, draws) => {
        fc.pre(weights.some((w) => w > 0));
        let k = 0;
        const p = createPicker(weights, 'random', () => draws[k++ % draws.length]!)!;
        for (let i = 0; i < 50; i++) expect(weights[p.pick()]).toBeGreaterThan(0);
      }),
    );
  });

  it('does not throw when the RNG misbehaves (NaN, negative, 1)', () => {
    for (const bad of [Number.NaN, -1, 1, 5]) {
      const p = createPicker([1, 2, 0, 3], 'random', () => bad)!;
      const i = p.pick();
      expect([0, 1, 3]).toContain(i);
    }
  });

  it('stays within 0.5 percentage points of each weight over 200,000 Math.random picks', () => {
    const weights = [70, 25, 5, 0];
    const p = createPicker(weights, 'random', Math.random)!;
    const counts = [0, 0, 0, 0];
    const n = 200_000;
    for (let i = 0; i < n; i++) counts[p.pick()]!++;
    weights.forEach((w, i) => expect(Math.abs(counts[i]! / n - w / 100)).toBeLessThan(0.005));
  });
});

describe('smooth picker', () => {
  it('is exact in every window of sum(weights) consecutive picks, and never picks weight 0', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 6 }), (weights) => {
        const total = weights.reduce((a, b) => a + b, 0);
        const p = createPicker(weights, 'smooth', Math.random);
        if (total === 0) {
          expect(p).toBeNull();
          return;
        }
        const seq = Array.from({ length: total * 3 }, () => p!.pick());
        for (let start = 0; start + total <= seq.length; start++) {
          const counts = weights.map(() => 0);
          for (const i of seq.slice(start, start + total)) counts[i]!++;
          expect(counts).toEqual(weights);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('spreads picks evenly: 99/1 puts the single pick mid-period, 50/50 alternates', () => {
    const p = createPicker([99, 1], 'smooth', Math.random)!;
    const seq = Array.from({ length: 100 }, () => p.pick());
    expect(seq.indexOf(1)).toBeGreaterThan(30);
    expect(seq.indexOf(1)).toBeLessThan(70);
    const q = createPicker([50, 50], 'smooth', Math.random)!;
    expect(Array.from({ length: 6 }, () => q.pick())).toEqual([0, 1, 0, 1, 0, 1]);
  });

  it('handles the largest weights without losing exactness (1,000,000 vs 1)', () => {
    const p = createPicker([1_000_000, 1], 'smooth', Math.random)!;
    let ones = 0;
    for (let i = 0; i < 1_000_001; i++) if (p.pick() === 1) ones++;
    expect(ones).toBe(1);
  });
});

describe('pickerFactory (one per compiled table)', () => {
  it('shares a stateless random picker between rules with the same weights, and it draws as createPicker does', () => {
    let k = 0;
    const draws = [0.1, 0.5, 0.93, 0.7, 0.02];
    const random = () => draws[k++ % draws.length]!;
    const make = pickerFactory('random', random);
    const a = make([60, 10, 15])!;
    expect(make([60, 10, 15])).toBe(a);
    expect(make([60, 15, 10])).not.toBe(a);
    expect(make([0, 0])).toBeNull();
    expect(make([0, 3])!.pick()).toBe(1);
    k = 0;
    const picks = Array.from({ length: 5 }, () => a.pick());
    k = 0;
    const own = createPicker([60, 10, 15], 'random', random)!;
    expect(Array.from({ length: 5 }, () => own.pick())).toEqual(picks);
  });

  it('never shares a smooth picker: each rule keeps its own position in the sequence', () => {
    const make = pickerFactory('smooth', Math.random);
    const a = make([50, 50])!;
    const b = make([50, 50])!;
    expect(b).not.toBe(a);
    expect([a.pick(), a.pick(), b.pick()]).toEqual([0, 1, 0]);
  });
});
