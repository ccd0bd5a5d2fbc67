import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normalCdf, normalQuantile } from '../../stats/normal.js';
import { assertClose, assertThrowsCode } from './assert-close.js';

// Reference values: SciPy 1.17.1 scipy.stats.norm.cdf / norm.ppf.
describe('normalCdf', () => {
  const table: [z: number, expected: number, relTol: number][] = [
    [0, 0.5, 1e-15],
    [-1, 0.15865525393145707, 1e-14],
    [1, 0.8413447460685429, 1e-14],
    [-1.959963984540054, 0.025, 1e-14],
    [0.3, 0.6179114221889526, 1e-14],
    [-3, 0.0013498980316300933, 1e-12],
    [-5, 2.866515718791933e-7, 1e-9],
    [-8, 6.22096057427174e-16, 1e-7],
    [-20, 2.7536241186061556e-89, 1e-7],
    [3, 0.9986501019683699, 1e-14],
    [10, 1, 1e-15],
  ];
  for (const [z, expected, relTol] of table) {
    test(`Φ(${z}) ≈ ${expected}`, () => assertClose(normalCdf(z), expected, `Φ(${z})`, relTol));
  }
  test('is 0 far in the lower tail and NaN for NaN', () => {
    assert.equal(normalCdf(-40), 0);
    assert.ok(Number.isNaN(normalCdf(Number.NaN)));
  });
});

describe('normalQuantile', () => {
  const table: [p: number, expected: number, relTol: number][] = [
    [0.5, 0, 0],
    [0.975, 1.959963984540054, 1e-14],
    [0.025, -1.9599639845400545, 1e-14],
    [0.95, 1.6448536269514722, 1e-14],
    [0.9, 1.2815515655446004, 1e-14],
    [0.3, -0.5244005127080409, 1e-14],
    [0.001, -3.090232306167813, 1e-13],
    [1e-10, -6.361340902404056, 1e-9],
    [0.999999, 4.753424308817087, 1e-11],
  ];
  for (const [p, expected, relTol] of table) {
    test(`Φ⁻¹(${p}) ≈ ${expected}`, () => assertClose(normalQuantile(p), expected, `Φ⁻¹(${p})`, relTol));
  }
  test('maps 0 and 1 to ∓Infinity and rejects values outside [0, 1]', () => {
    assert.equal(normalQuantile(0), Number.NEGATIVE_INFINITY);
    assert.equal(normalQuantile(1), Number.POSITIVE_INFINITY);
    for (const p of [-0.1, 1.1, Number.NaN]) assertThrowsCode(() => normalQuantile(p), 'STATS_OUT_OF_RANGE', `${p}`);
  });
});
