// closest() ("did you mean", docs/errors.md) skips candidates by cheap lower bounds of the edit
// distance (length, letter counts). The bounds must never change the answer: compare with a
// naive transcription (optimal string alignment distance over every candidate), seeded.
import { describe, expect, it } from 'vitest';
import { closest } from '../../src/errors.js';

function naiveDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

function naiveClosest(word: string, candidates: string[]): string | undefined {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = naiveDistance(word.toLowerCase(), c.toLowerCase());
    if (d <= limit && d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

describe('closest', () => {
  it('agrees with the naive search on seeded random words (ASCII and not)', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const word = () => Array.from({ length: 1 + Math.floor(random() * 12) }, () => 'abcdeXY-é'[Math.floor(random() * 9)]!).join('');
    let suggested = 0;
    for (let t = 0; t < 1500; t++) {
      const candidates = Array.from({ length: 20 }, word);
      const w = word();
      const want = naiveClosest(w, candidates);
      expect(closest(w, candidates), `${w} among ${candidates.join(',')}`).toBe(want);
      if (want !== undefined) suggested++;
    }
    expect(suggested).toBeGreaterThan(200); // the cases exercise suggestions, not only misses
  });

  it('a transposition is one edit; anagrams are not skipped', () => {
    expect(closest('detials', ['retails', 'details'])).toBe('details');
    expect(closest('abcdef', ['badcfe'])).toBe(undefined);
    expect(closest('abcdef', ['bacdef'])).toBe('bacdef');
  });
});
