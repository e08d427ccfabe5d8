/**
 * A seeded source of numbers in [0, 1) for the `random` option of createGateway and the adapters:
 * weighted splits and mirror fractions drawn from it are the same on every run, so a test or a
 * demo that counts them can check exact figures instead of a tolerance that fails now and then.
 */

/** mulberry32: 2^32 states, uniform enough for traffic splits; not for anything secret. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
