/** A seeded PRNG (mulberry32), so every draw in a test is reproducible: the library's own, from its testing entry. */
export { seededRandom as seeded } from '../../src/testing/random.js';
