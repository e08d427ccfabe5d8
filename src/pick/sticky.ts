/**
 * Sticky weighted splits: a session key always gets the same backend while the weights stay the
 * same, and ramping weights only ever moves keys onto the backends that gained weight.
 *
 * Algorithm: weighted rendezvous hashing (highest random weight). For key k and backend i with
 * weight w_i > 0, draw u_i = H(k, id_i) uniform in (0, 1) and score s_i = -ln(u_i) / w_i; the
 * smallest score wins. Since -ln(u_i) are independent Exp(1) draws, P(i wins) = w_i / sum(w)
 * exactly. Backend ids are their references (namespace/name:port), independent of weights, so:
 * - consistent: the same key and weights give the same scores, hence the same backend;
 * - monotonic: when a backend's weight grows and the others' shrink (or stay), its score shrinks
 *   and theirs grow, so a key can only move onto it, never away from it.
 * Cost: one hash per backend, O(n) with n <= 16 backendRefs per rule.
 */

export interface StickyPicker {
  /** The index of the backend for `key`. */
  pick(key: string): number;
}

/** Creates a sticky picker over backends identified by `ids`; null when every weight is zero. */
export function createStickyPicker(ids: readonly string[], weights: readonly number[]): StickyPicker | null {
  const live = weights.flatMap((w, i) => (w > 0 ? [i] : []));
  if (live.length === 0) return null;
  const seeds = live.map((i) => hash32(ids[i]!, 0x9747b28c));
  const w = live.map((i) => weights[i]!);
  return {
    pick(key) {
      const kh = hash32(key, 0x2545f491);
      const kl = hash32(key, 0x6c8e9cf5);
      let best = 0;
      let bestScore = Infinity;
      for (let j = 0; j < live.length; j++) {
        // Two independent 26-bit halves make a 52-bit uniform in (0, 1).
        const hi = mix32(kh ^ seeds[j]!) >>> 6;
        const lo = mix32(kl ^ Math.imul(seeds[j]!, 0x85ebca6b)) >>> 6;
        const u = (hi * 67108864 + lo + 0.5) / 4503599627370496;
        const score = -Math.log(u) / w[j]!;
        if (score < bestScore) {
          bestScore = score;
          best = j;
        }
      }
      return live[best]!;
    },
  };
}

/** FNV-1a over UTF-16 code units with a seed, then a murmur3 finaliser. */
export function hash32(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
