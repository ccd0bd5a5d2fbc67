// Ordinary least-squares straight line, e.g. RSS against open connections,
// whose slope is the memory cost per connection.

import { checkFinite } from './internal.js';

export interface Point {
  x: number;
  y: number;
}

export interface LinearFit {
  ok: true;
  /** b in y = a + b·x, in y-units per x-unit (e.g. bytes per connection). */
  slope: number;
  /** a in y = a + b·x, in y-units: the fitted y at x = 0. */
  intercept: number;
  /** Coefficient of determination in [0, 1]; 1 when every y is equal (the line passes through all points). */
  r2: number;
  /** Number of points, ≥ 2. */
  n: number;
}

export interface NoLinearFit {
  ok: false;
  /** 'too-few-points': n < 2 (including 0); 'constant-x': every x is equal, so no slope exists. */
  reason: 'too-few-points' | 'constant-x';
  n: number;
}

/**
 * Ordinary least-squares fit of y = a + b·x (Gauss–Legendre):
 * b = Sxy / Sxx, a = ȳ − b·x̄, r² = Sxy² / (Sxx·Syy), with sums of centred
 * products (two passes, so large offsets like RSS in bytes do not cancel).
 *
 * Returns a discriminated result instead of throwing when the data admit no
 * line, so callers can report why: fewer than two points, or all x equal
 * (exact equality; x values that merely differ by rounding do get a slope).
 *
 * @throws StatsError STATS_NON_FINITE if any x or y is NaN or infinite
 */
export function linearRegression(points: readonly Point[]): LinearFit | NoLinearFit {
  const n = points.length;
  checkFinite(points.map((p) => p.x), 'linearRegression: x');
  checkFinite(points.map((p) => p.y), 'linearRegression: y');
  if (n < 2) return { ok: false, reason: 'too-few-points', n };
  const x0 = points[0]!.x;
  if (points.every((p) => p.x === x0)) return { ok: false, reason: 'constant-x', n };

  let sumX = 0;
  let sumY = 0;
  for (const p of points) {
    sumX += p.x;
    sumY += p.y;
  }
  const meanX = sumX / n;
  const meanY = sumY / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const p of points) {
    const dx = p.x - meanX;
    const dy = p.y - meanY;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 1 : Math.min(1, (sxy * sxy) / (sxx * syy));
  return { ok: true, slope, intercept: meanY - slope * meanX, r2, n };
}
