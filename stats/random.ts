// Seeded, deterministic randomness. Nothing in stats/ calls Math.random: a
// generator is created from a seed and passed in, so every result can be
// reproduced from the seed recorded in the report.

import { StatsError } from './errors.js';

/** A source of uniform numbers in [0, 1); each call advances its state. */
export type Rng = () => number;

/**
 * Mulberry32 (Tommy Ettinger, 2017): a 32-bit-state generator with period
 * 2³² (a Weyl sequence run through an output mix), adequate for resampling
 * and shuffling, not for cryptography. Returns multiples of 2⁻³² in [0, 1).
 *
 * @param seed any safe integer; reduced modulo 2³² (so 2³² + 5 and 5 give the
 *   same stream)
 * @throws StatsError STATS_OUT_OF_RANGE unless seed is a safe integer
 */
export function mulberry32(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) {
    throw new StatsError('STATS_OUT_OF_RANGE', `mulberry32: seed must be a safe integer, got ${seed}`);
  }
  // Reduce modulo 2³² without the sign and precision issues of >>> on large values.
  let state = ((seed % 4294967296) + 4294967296) % 4294967296 | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A uniform integer in [0, n) from one draw of `rng`: ⌊rng()·n⌋. The bias is
 * below n/2³² for mulberry32, negligible for the sample sizes used here.
 * @throws StatsError STATS_OUT_OF_RANGE unless n is an integer ≥ 1
 */
export function randomIndex(rng: Rng, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new StatsError('STATS_OUT_OF_RANGE', `randomIndex: n must be an integer ≥ 1, got ${n}`);
  }
  return Math.floor(rng() * n);
}

/**
 * Fisher–Yates shuffle (Durstenfeld's in-place form, Knuth TAOCP vol. 2,
 * Algorithm P) of a copy of `items`: for i from n − 1 down to 1, swap item i
 * with item ⌊rng()·(i + 1)⌋. Every permutation is equally likely given a
 * uniform rng; the input is not mutated. Draws exactly n − 1 numbers.
 */
export function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}

/**
 * `shuffle(items, mulberry32(seed))`: the same seed always gives the same
 * order, e.g. to interleave runtimes in a reproducible order.
 * @throws StatsError STATS_OUT_OF_RANGE unless seed is a safe integer
 */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  return shuffle(items, mulberry32(seed));
}
