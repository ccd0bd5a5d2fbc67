// Holm–Bonferroni adjustment for a family of p-values.

import { StatsError } from './errors.js';

/**
 * Holm–Bonferroni step-down adjusted p-values (Holm 1979), the same as R's
 * `p.adjust(p, "holm")`: with p₍₁₎ ≤ … ≤ p₍ₘ₎ sorted ascending,
 * p̃₍ᵢ₎ = min(1, max_{j ≤ i} (m − j + 1)·p₍ⱼ₎).
 *
 * Rejecting every hypothesis with p̃ ≤ α controls the family-wise error rate
 * at α under any dependence between the tests.
 *
 * @param pValues raw p-values, each in [0, 1]; an empty family gives []
 * @returns adjusted p-values in the input's order; each is ≥ its raw value,
 *   ≤ 1, and they are monotone in the raw values (a smaller raw p never gets
 *   a larger adjusted p)
 * @throws StatsError STATS_OUT_OF_RANGE for a value outside [0, 1] or NaN
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) {
      throw new StatsError('STATS_OUT_OF_RANGE', `holmAdjust: p-value at index ${i} must be in [0, 1], got ${p}`);
    }
  });
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.min(1, Math.max(running, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
