// Two-sided Mann–Whitney U test (Wilcoxon rank-sum test).

import { StatsError, type NonEmpty } from './errors.js';
import { checkProbability, checkSample } from './internal.js';
import { normalCdf } from './normal.js';

/**
 * With no ties and both samples smaller than this, `method: 'auto'` uses the
 * exact distribution (the rule of R's `wilcox.test`); otherwise the normal
 * approximation.
 */
export const MANN_WHITNEY_EXACT_BELOW_N = 50;

export interface MannWhitneyOptions {
  /**
   * 'auto' (default): exact when there are no ties and both n < 50, else
   * normal. 'exact': always exact; throws STATS_TIES_NOT_EXACT when there are
   * ties (cost grows as n1²·n2²). 'normal': always the approximation.
   */
  method?: 'auto' | 'exact' | 'normal';
}

export interface MannWhitneyResult {
  /**
   * U of the first sample: #{(i, j) : xᵢ > yⱼ} + ½·#{(i, j) : xᵢ = yⱼ}
   * = R₁ − n₁(n₁ + 1)/2, in [0, n₁·n₂] (R's W, SciPy's U1). The U of the
   * second sample is n₁·n₂ − u.
   */
  u: number;
  /** Two-sided p-value in (0, 1]. */
  p: number;
  method: 'exact' | 'normal';
}

/**
 * Two-sided Mann–Whitney U test of H₀: x and y come from the same
 * distribution, against a shift in either direction (Mann & Whitney 1947).
 *
 * - exact: the null distribution of U, computed by the recurrence
 *   P(U = u | m, n) = m/(m+n)·P(u − n | m−1, n) + n/(m+n)·P(u | m, n−1);
 *   p = min(1, 2·min(P(U ≤ u), P(U ≥ u))), as R's `wilcox.test` and SciPy.
 * - normal: z = (|u − n₁n₂/2| − ½) / σ with the continuity correction ½ and
 *   the tie-corrected σ² = n₁n₂/12 · ((N + 1) − Σ(t³ − t)/(N(N − 1))),
 *   t running over tie-group sizes; p = min(1, 2·Φ(−z)). When every value is
 *   equal, σ = 0 and p = 1 (no evidence of a difference).
 *
 * Unitless; x and y must share a unit.
 * @throws StatsError STATS_EMPTY_INPUT, STATS_NON_FINITE, STATS_TIES_NOT_EXACT
 */
export function mannWhitneyU(
  x: NonEmpty<number>,
  y: NonEmpty<number>,
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  checkSample(x, 'mannWhitneyU: x');
  checkSample(y, 'mannWhitneyU: y');
  const requested = options.method ?? 'auto';
  const n1 = x.length;
  const n2 = y.length;
  const { rankSumX, tieTerm } = rankSum(x, y);
  const u = rankSumX - (n1 * (n1 + 1)) / 2;
  const hasTies = tieTerm > 0;

  if (requested === 'exact' && hasTies) {
    throw new StatsError(
      'STATS_TIES_NOT_EXACT',
      'mannWhitneyU: the exact distribution of U assumes no ties, and the samples have tied values',
      "use method 'auto' or 'normal', which correct for ties",
    );
  }
  const exact =
    requested === 'exact' ||
    (requested === 'auto' && !hasTies && n1 < MANN_WHITNEY_EXACT_BELOW_N && n2 < MANN_WHITNEY_EXACT_BELOW_N);

  if (exact) {
    const pmf = mannWhitneyExactPmf(n1, n2);
    let lower = 0; // P(U ≤ u)
    let upper = 0; // P(U ≥ u), summed directly rather than 1 − P(U < u)
    for (let k = 0; k < pmf.length; k++) {
      if (k <= u) lower += pmf[k]!;
      if (k >= u) upper += pmf[k]!;
    }
    return { u, p: Math.min(1, 2 * Math.min(lower, upper)), method: 'exact' };
  }

  const nTotal = n1 + n2;
  const variance = ((n1 * n2) / 12) * (nTotal + 1 - tieTerm / (nTotal * (nTotal - 1)));
  if (!(variance > 0)) return { u, p: 1, method: 'normal' };
  const z = Math.max(0, Math.abs(u - (n1 * n2) / 2) - 0.5) / Math.sqrt(variance);
  return { u, p: Math.min(1, 2 * normalCdf(-z)), method: 'normal' };
}

/**
 * Exact null distribution of U for samples of sizes n1 and n2 without ties:
 * element u is P(U = u), u = 0 … n1·n2 (symmetric around n1·n2/2, summing to
 * 1). Computed by the recurrence in `mannWhitneyU` on probabilities rather
 * than counts, so no intermediate exceeds 1; O(n1²·n2²) time, O(n1·n2·min)
 * memory.
 * @throws StatsError STATS_OUT_OF_RANGE unless both sizes are integers ≥ 1
 */
export function mannWhitneyExactPmf(n1: number, n2: number): Float64Array {
  for (const [name, n] of [['n1', n1], ['n2', n2]] as const) {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new StatsError('STATS_OUT_OF_RANGE', `mannWhitneyExactPmf: ${name} must be an integer ≥ 1, got ${n}`);
    }
  }
  // The distribution is symmetric in the two sizes; recurse over the smaller.
  const m = Math.min(n1, n2);
  const n = Math.max(n1, n2);
  // prev[j] = distribution for sizes (i − 1, j); cur[j] for (i, j).
  let prev: Float64Array[] = Array.from({ length: n + 1 }, () => Float64Array.of(1));
  for (let i = 1; i <= m; i++) {
    const cur: Float64Array[] = [Float64Array.of(1)];
    for (let j = 1; j <= n; j++) {
      const withoutX = prev[j]!; // sizes (i − 1, j): max of i − 1 + j values came from x
      const withoutY = cur[j - 1]!; // sizes (i, j − 1)
      const dist = new Float64Array(i * j + 1);
      const wx = i / (i + j);
      const wy = j / (i + j);
      for (let u = 0; u <= i * j; u++) {
        // If the largest value is an x, it beats all j values of y.
        const a = u >= j ? (withoutX[u - j] ?? 0) : 0;
        const b = withoutY[u] ?? 0;
        dist[u] = wx * a + wy * b;
      }
      cur.push(dist);
    }
    prev = cur;
  }
  return prev[n]!;
}

/**
 * Two-sided critical value of the exact Mann–Whitney test: the largest u
 * with 2·P(U ≤ u) ≤ alpha, so that min(U₁, U₂) ≤ u rejects H₀ at level
 * alpha. Matches the published tables, e.g. (5, 5, 0.05) → 2,
 * (10, 10, 0.05) → 23.
 * @returns `null` when no outcome is that extreme (e.g. n1 = n2 = 3 at 0.05,
 *   whose smallest two-sided p is 0.1)
 * @throws StatsError STATS_OUT_OF_RANGE for bad sizes or alpha outside [0, 1]
 */
export function mannWhitneyCriticalU(n1: number, n2: number, alpha: number): number | null {
  checkProbability(alpha, 'mannWhitneyCriticalU: alpha');
  return lowerCriticalIndex(mannWhitneyExactPmf(n1, n2), alpha / 2);
}

/**
 * Largest u with P(U ≤ u) ≤ tailProbability, or null. A relative slack of
 * 1e-12 lets boundary cases such as P(U ≤ 0) = 1/20 for (3, 3) count as equal
 * to 0.05 despite rounding in the recurrence.
 */
export function lowerCriticalIndex(pmf: Float64Array, tailProbability: number): number | null {
  let cumulative = 0;
  let critical: number | null = null;
  for (let u = 0; u < pmf.length; u++) {
    cumulative += pmf[u]!;
    if (cumulative <= tailProbability * (1 + 1e-12)) critical = u;
    else break;
  }
  return critical;
}

/** Rank sum of x in the pooled sample (mid-ranks for ties) and Σ(t³ − t) over tie groups. */
function rankSum(x: readonly number[], y: readonly number[]): { rankSumX: number; tieTerm: number } {
  const pooled = [...x.map((v) => ({ v, isX: true })), ...y.map((v) => ({ v, isX: false }))];
  pooled.sort((a, b) => a.v - b.v);
  let rankSumX = 0;
  let tieTerm = 0;
  for (let start = 0; start < pooled.length; ) {
    let end = start + 1;
    while (end < pooled.length && pooled[end]!.v === pooled[start]!.v) end++;
    const t = end - start;
    const midRank = (start + 1 + end) / 2; // ranks start+1 … end
    for (let k = start; k < end; k++) if (pooled[k]!.isX) rankSumX += midRank;
    tieTerm += t * t * t - t;
    start = end;
  }
  return { rankSumX, tieTerm };
}
