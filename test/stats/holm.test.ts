import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { holmAdjust } from '../../stats/holm.js';
import { assertClose, assertThrowsCode } from './assert-close.js';

describe('holmAdjust', () => {
  // Expected: R's p.adjust(p, "holm") formula, pmin(1, cummax((n − i + 1)·p[o]))[ro],
  // evaluated independently in NumPy; the first row also by hand:
  // sorted .005 .01 .03 .04 × 4 3 2 1 = .02 .03 .06 .04 → running max .02 .03 .06 .06.
  const table: { name: string; p: number[]; adjusted: number[] }[] = [
    { name: 'four tests, unsorted', p: [0.01, 0.04, 0.03, 0.005], adjusted: [0.03, 0.06, 0.06, 0.02] },
    { name: 'capped at 1', p: [0.5, 0.2, 0.9], adjusted: [1, 0.6, 1] },
    { name: 'ties share one adjusted value', p: [0.01, 0.01, 0.02], adjusted: [0.03, 0.03, 0.03] },
    { name: 'a single test is unchanged', p: [0.3], adjusted: [0.3] },
    {
      name: 'six tests',
      p: [0.02, 0.5, 0.04, 0.01, 0.9, 0.03],
      adjusted: [0.1, 1, 0.12, 0.06, 1, 0.12],
    },
    { name: 'zero and one', p: [0, 1, 0.5], adjusted: [0, 1, 1] },
    { name: 'empty family', p: [], adjusted: [] },
  ];
  for (const c of table) {
    test(`${c.name}`, () => {
      const got = holmAdjust(c.p);
      assert.equal(got.length, c.adjusted.length);
      got.forEach((v, i) => assertClose(v, c.adjusted[i]!, `index ${i}`));
    });
  }

  test('adjusted values are ≥ raw, ≤ 1 and monotone in the raw values', () => {
    const p = Array.from({ length: 40 }, (_, i) => ((i * 37) % 41) / 400);
    const adj = holmAdjust(p);
    for (let i = 0; i < p.length; i++) {
      assert.ok(adj[i]! >= p[i]! && adj[i]! <= 1);
      for (let j = 0; j < p.length; j++) if (p[i]! < p[j]!) assert.ok(adj[i]! <= adj[j]!);
    }
  });

  test('does not mutate its input', () => {
    const p = [0.04, 0.01];
    holmAdjust(p);
    assert.deepEqual(p, [0.04, 0.01]);
  });

  test('rejects values outside [0, 1] and NaN', () => {
    for (const bad of [-0.1, 1.5, Number.NaN]) {
      assertThrowsCode(() => holmAdjust([0.1, bad]), 'STATS_OUT_OF_RANGE', `${bad}`);
    }
  });
});
