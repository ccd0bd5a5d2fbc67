// A tiny seeded PRNG for the load generator (arrival times, message sizes).
// Kept inside loadgen/ on purpose: loadgen must not import stats/, and the
// streams it produces must be reproducible from a seed across runs and
// machines, which Math.random() is not.

/** A generator of uniform doubles in [0, 1), 32 bits of randomness each. */
export type Prng = () => number;

/**
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state generator, fast
 * and good enough for workload generation (not for statistics or crypto).
 * The same seed always gives the same sequence; any number is accepted as a
 * seed and reduced to its low 32 bits, so `seed` 0 and 2^32 are the same.
 *
 * @param seed any integer (default 1)
 * @returns a function returning doubles in [0, 1) with 2^-32 resolution
 */
export function createPrng(seed = 1): Prng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
