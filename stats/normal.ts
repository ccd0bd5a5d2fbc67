// The standard normal distribution, for the large-sample approximations in
// mann-whitney.ts and hodges-lehmann.ts.

import { StatsError } from './errors.js';

/**
 * Standard normal cumulative distribution Φ(z) = P(Z ≤ z).
 *
 * Hart's double-precision rational approximation (Hart et al. 1968, algorithm
 * 5666) as given by West, "Better approximations to cumulative normal
 * functions" (Wilmott, 2005). Absolute error below 1e-14; the tail is
 * computed directly (no 1 − Φ cancellation), so small tail probabilities keep
 * a relative error below 1e-10 for |z| < 7 and below 1e-8 out to |z| = 37
 * (checked against scipy.stats.norm.cdf).
 */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  const x = Math.abs(z);
  let tail: number; // P(Z ≤ −|z|)
  if (x > 37) {
    tail = 0;
  } else {
    const e = Math.exp((-x * x) / 2);
    if (x < 7.07106781186547) {
      let num = 3.52624965998911e-2 * x + 0.700383064443688;
      num = num * x + 6.37396220353165;
      num = num * x + 33.912866078383;
      num = num * x + 112.079291497871;
      num = num * x + 221.213596169931;
      num = num * x + 220.206867912376;
      let den = 8.83883476483184e-2 * x + 1.75566716318264;
      den = den * x + 16.064177579207;
      den = den * x + 86.7807322029461;
      den = den * x + 296.564248779674;
      den = den * x + 637.333633378831;
      den = den * x + 793.826512519948;
      den = den * x + 440.413735824752;
      tail = (e * num) / den;
    } else {
      // Continued fraction for Mills' ratio.
      let cf = x + 0.65;
      cf = x + 4 / cf;
      cf = x + 3 / cf;
      cf = x + 2 / cf;
      cf = x + 1 / cf;
      tail = e / cf / 2.506628274631;
    }
  }
  return z > 0 ? 1 - tail : tail;
}

/**
 * Inverse of `normalCdf`: the z with Φ(z) = p.
 *
 * Acklam's rational approximation (relative error < 1.15e-9) refined by one
 * Halley step against `normalCdf`, computed in the lower tail and mirrored so
 * that p close to 1 keeps its precision. Relative error below 1e-12 for
 * 1e-5 ≤ p ≤ 1 − 1e-5 and below 1e-10 down to p = 1e-20 (checked against
 * scipy.stats.norm.ppf).
 *
 * @param p probability in (0, 1); 0 and 1 give −Infinity and +Infinity
 * @throws StatsError STATS_OUT_OF_RANGE for p outside [0, 1] or NaN
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) {
    throw new StatsError('STATS_OUT_OF_RANGE', `normalQuantile: p must be in [0, 1], got ${p}`);
  }
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p > 0.5) return -normalQuantile(1 - p);
  if (p === 0.5) return 0;

  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((-7.784894002430293e-3 * q - 3.223964580411365e-1) * q - 2.400758277161838) * q - 2.549732539343734) * q +
        4.374664141464968) * q + 2.938163982698783) /
      ((((7.784695709041462e-3 * q + 3.224671290700398e-1) * q + 2.445134137142996) * q + 3.754408661907416) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((-3.969683028665376e1 * r + 2.209460984245205e2) * r - 2.759285104469687e2) * r + 1.38357751867269e2) * r -
        3.066479806614716e1) * r + 2.506628277459239) * q) /
      (((((-5.447609879822406e1 * r + 1.615858368580409e2) * r - 1.556989798598866e2) * r + 6.680131188771972e1) * r -
        1.328068155288572e1) * r + 1);
  }
  // One Halley step (Acklam): brings the error down to about machine precision.
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}
