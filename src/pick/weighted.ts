/**
 * Weighted backend picking (spec digest section 6): each backend's share is exactly
 * weight / sum(weights); weight 0 is never picked. Invalid backends keep their weight, so their
 * share is answered with an error by the caller, not redistributed.
 */

/** Picks an index into the weights it was built from. Never returns a zero-weight index. */
export interface Picker {
  pick(): number;
  /** Which algorithm; for explain(). */
  readonly kind: 'random' | 'smooth' | 'single';
  /** For `random`: the alias table `pick` draws from (see aliasTable), so a caller can draw inline. */
  readonly table?: readonly number[];
}

/** Creates a picker, or returns null when every weight is zero (or there are none). */
export function createPicker(weights: readonly number[], kind: 'random' | 'smooth', random: () => number): Picker | null {
  // Runs for every rule at every load, and most rules have one backendRef: count the live
  // weights before building the list of their indices.
  let count = 0;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i]! > 0) {
      count++;
      last = i;
    }
  }
  if (count === 0) return null;
  if (count === 1) return singlePicker(last);
  const live = weights.flatMap((w, i) => (w > 0 ? [i] : []));
  return kind === 'smooth' ? smoothPicker(weights, live) : randomPicker(weights, live, random);
}

/**
 * A picker maker for one compiled table: stateless pickers (single and random) are shared by
 * every rule with the same weights, so a table of thousands of rules split the same way builds
 * one alias table, not thousands. Smooth pickers keep per-rule state and are never shared.
 */
export function pickerFactory(kind: 'random' | 'smooth', random: () => number): (weights: readonly number[]) => Picker | null {
  if (kind === 'smooth') return (weights) => createPicker(weights, kind, random);
  const known = new Map<string, Picker | null>();
  return (weights) => {
    if (weights.length === 1) return weights[0]! > 0 ? singlePicker(0) : null;
    const key = weights.join(',');
    let p = known.get(key);
    if (p === undefined) known.set(key, (p = createPicker(weights, kind, random)));
    return p;
  };
}

/** Most rules have one backendRef: their pickers hold no state, so one per index serves them all. */
const singlePickers: Picker[] = [];

function singlePicker(only: number): Picker {
  return (singlePickers[only] ??= { kind: 'single', pick: () => only });
}

/** Periods up to this many picks are recorded (2 bytes a pick), so a smooth pick is one array read (O(1)). */
const SMOOTH_TABLE_LIMIT = 16_384;

/**
 * Stateless random pick in O(1), exact: an integer alias table (Walker/Vose) over the live
 * backends. With n backends summing to T, a draw r in [0, n·T) selects bucket floor(r / T) and
 * an offset within it; each bucket holds T values split between itself and one alias, so every
 * backend owns exactly n·w_i of the n·T values: its share is exactly w_i / T. Integers only
 * (n·T <= 16 · 16·10^6 for a Gateway API rule; < 2^53 for any realistic table).
 */
function randomPicker(weights: readonly number[], live: number[], random: () => number): Picker {
  const table = aliasTable(weights, live);
  return { kind: 'random', pick: () => drawAlias(table, random), table };
}

/**
 * The alias table of the live weights, flattened into one array of small integers (one object
 * for a pick to read, so that a decision can carry it inline): `[total, n·total, then per
 * bucket: the values it keeps (out of total), its own weight index, its alias's weight index]`,
 * then, when n·total is at most DIRECT_LIMIT, the weight index of every draw r from 0 to
 * n·total - 1 (what the buckets answer for r, read in one step).
 */
export function aliasTable(weights: readonly number[], live: number[]): number[] {
  const n = live.length;
  const w = live.map((i) => weights[i]!);
  const total = w.reduce((a, b) => a + b, 0);
  const prob = new Array<number>(n).fill(0); // values of the bucket kept by the bucket itself, out of `total`
  const alias = new Array<number>(n).fill(0);
  const scaled = w.map((x) => x * n);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((x, i) => (x < total ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const s = small.pop()!;
    const l = large.pop()!;
    prob[s] = scaled[s]!;
    alias[s] = l;
    scaled[l] = scaled[l]! - (total - scaled[s]!);
    (scaled[l]! < total ? small : large).push(l);
  }
  for (const i of [...small, ...large]) {
    prob[i] = total; // exactly full (integer arithmetic leaves no residue)
    alias[i] = i;
  }
  const out = [total, n * total];
  for (let b = 0; b < n; b++) out.push(prob[b]!, live[b]!, live[alias[b]!]!);
  if (n * total <= DIRECT_LIMIT) for (let r = 0; r < n * total; r++) out.push(fromBuckets(out, r));
  return out;
}

/** Alias tables with at most this many draws (n·total) also list every draw's pick (see aliasTable). */
const DIRECT_LIMIT = 1024;

/** The weight index the buckets of table `t` answer for draw `r` in [0, n·total). */
function fromBuckets(t: readonly number[], r: number): number {
  const total = t[0]!;
  const bucket = Math.floor(r / total);
  const k = 2 + bucket * 3;
  return r - bucket * total < t[k]! ? t[k + 1]! : t[k + 2]!;
}

/** One draw from an alias table: the weight index picked. */
export function drawAlias(t: readonly number[], random: () => number): number {
  // Hot path: one RNG call (Math.random called as itself, so that the compiler inlines it), one
  // multiply, then one read of the draw's pick (or one divide and one compare in the buckets).
  const span = t[1]!;
  let r = Math.floor((random === Math.random ? Math.random() : random()) * span);
  if (!(r >= 0 && r < span)) r = r >= span ? span - 1 : 0; // a misbehaving RNG must not throw
  return span <= DIRECT_LIMIT ? t[t.length - span + r]! : fromBuckets(t, r);
}

/**
 * Deterministic smooth weighted round-robin as earliest-deadline-first: the k-th pick of
 * backend i (k = 0, 1, ...) has the virtual deadline (2k+1) / (2 w_i). Picking the smallest
 * deadline each time gives, in every block of sum(w) picks, exactly w_i picks of backend i,
 * spread as evenly as possible; the sequence is periodic with period sum(w), so every window of
 * sum(w) consecutive picks is exact. A binary heap makes each pick O(log n); deadlines are
 * compared by integer cross-multiplication (at most (2·10^6+1)·10^6 < 2^53), never as floats.
 * When the period is at most 16,384 picks, the first period is recorded and each later pick is one
 * read (O(1)).
 */
function smoothPicker(weights: readonly number[], live: number[]): Picker {
  const n = live.length;
  const w = live.map((i) => weights[i]!);
  const total = w.reduce((a, b) => a + b, 0);
  const k = new Float64Array(n); // picks so far of each backend in this period
  const heap = Array.from({ length: n }, (_, i) => i);
  // deadline(i) < deadline(j)  <=>  (2k_i+1) * w_j < (2k_j+1) * w_i ; ties by index.
  const less = (a: number, b: number) => {
    const l = (2 * k[a]! + 1) * w[b]!;
    const r = (2 * k[b]! + 1) * w[a]!;
    return l < r || (l === r && a < b);
  };
  const siftDown = (pos: number) => {
    for (;;) {
      const left = 2 * pos + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && less(heap[right]!, heap[left]!) ? right : left;
      if (!less(heap[child]!, heap[pos]!)) return;
      [heap[child], heap[pos]] = [heap[pos]!, heap[child]!];
      pos = child;
    }
  };
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(i);
  let picked = 0;
  const next = () => {
    const top = heap[0]!;
    k[top]!++;
    siftDown(0);
    if (++picked === total) {
      picked = 0;
      k.fill(0);
      heap.sort((a, b) => a - b);
      for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(i);
    }
    return live[top]!;
  };
  if (total <= SMOOTH_TABLE_LIMIT && n <= 65_535) {
    // The sequence is periodic with period sum(w): the first period is computed pick by pick
    // and recorded; every later pick is one read. Nothing is computed or allocated up front.
    let table: Uint16Array | null = null;
    let filled = 0;
    let pos = 0;
    return {
      kind: 'smooth',
      pick() {
        if (filled === total) {
          const v = table![pos]!;
          pos = pos + 1 === total ? 0 : pos + 1;
          return v;
        }
        const v = next();
        if (table === null) table = new Uint16Array(total);
        table[filled++] = v;
        return v;
      },
    };
  }
  return { kind: 'smooth', pick: next };
}
