import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32, randomIndex, seededShuffle, shuffle, type Rng } from '../../stats/random.js';
import { assertThrowsCode } from './assert-close.js';

const take = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng());

describe('mulberry32', () => {
  // Expected streams from an independent Python port of the reference C/JS
  // mulberry32 (32-bit arithmetic emulated with masks).
  const table: [seed: number, first: number[]][] = [
    [0, [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197, 0.1462021479383111]],
    [1, [0.6270739405881613, 0.002735721180215478, 0.5274470399599522, 0.9810509674716741]],
    [42, [0.6011037519201636, 0.44829055899754167, 0.8524657934904099, 0.6697340414393693]],
    [4294967295, [0.8964226141106337, 0.189478256739676, 0.7156526781618595, 0.9440599093213677]],
    [123456789, [0.2577907438389957, 0.9707721115555614, 0.7853280142880976, 0.20616457983851433]],
  ];
  for (const [seed, first] of table) {
    test(`seed ${seed} gives the reference stream`, () => {
      assert.deepEqual(take(mulberry32(seed), 4), first);
    });
  }

  test('seeds are reduced modulo 2³² (−1 ≡ 2³² − 1, 2³² + 42 ≡ 42)', () => {
    assert.deepEqual(take(mulberry32(-1), 3), take(mulberry32(4294967295), 3));
    assert.deepEqual(take(mulberry32(4294967296 + 42), 3), take(mulberry32(42), 3));
  });

  test('values lie in [0, 1) and average about ½', () => {
    const xs = take(mulberry32(7), 10000);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const avg = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(avg - 0.5) < 0.01, `mean ${avg}`); // σ of the mean ≈ 0.0029
  });

  test('rejects seeds that are not safe integers', () => {
    for (const seed of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      assertThrowsCode(() => mulberry32(seed), 'STATS_OUT_OF_RANGE', `${seed}`);
    }
  });
});

describe('randomIndex', () => {
  test('maps draws onto 0 … n − 1', () => {
    const fixed = (v: number): Rng => () => v;
    assert.equal(randomIndex(fixed(0), 5), 0);
    assert.equal(randomIndex(fixed(0.999999), 5), 4);
    assert.equal(randomIndex(fixed(0.5), 5), 2);
    assert.equal(randomIndex(fixed(0.7), 1), 0);
  });
  test('rejects n < 1 and non-integers', () => {
    for (const n of [0, -1, 2.5]) assertThrowsCode(() => randomIndex(mulberry32(1), n), 'STATS_OUT_OF_RANGE', `${n}`);
  });
});

describe('shuffle (Fisher–Yates)', () => {
  test('matches the reference order for a seed (Python port of the same algorithm)', () => {
    assert.deepEqual(seededShuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 42), [0, 7, 3, 5, 2, 1, 8, 9, 4, 6]);
    assert.deepEqual(seededShuffle(['bun', 'node-ws', 'node-uws', 'deno'], 7), ['node-uws', 'node-ws', 'deno', 'bun']);
  });

  test('follows the swap sequence by hand for a scripted rng', () => {
    // n = 4: i = 3 swaps with ⌊0.9·4⌋ = 3 (no-op), i = 2 with ⌊0·3⌋ = 0,
    // i = 1 with ⌊0.6·2⌋ = 1 (no-op): [a b c d] → [c b a d].
    const draws = [0.9, 0, 0.6];
    let k = 0;
    const scripted: Rng = () => draws[k++]!;
    assert.deepEqual(shuffle(['a', 'b', 'c', 'd'], scripted), ['c', 'b', 'a', 'd']);
    assert.equal(k, 3, 'draws n − 1 numbers');
  });

  test('returns a permutation and leaves the input untouched', () => {
    const items = [5, 3, 9, 1, 7];
    const out = seededShuffle(items, 3);
    assert.deepEqual(items, [5, 3, 9, 1, 7]);
    assert.deepEqual([...out].sort((a, b) => a - b), [1, 3, 5, 7, 9]);
  });

  test('same seed, same order; handles 0 and 1 items', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    assert.deepEqual(seededShuffle(items, 99), seededShuffle(items, 99));
    assert.notDeepEqual(seededShuffle(items, 99), seededShuffle(items, 100));
    assert.deepEqual(seededShuffle([], 1), []);
    assert.deepEqual(seededShuffle(['only'], 1), ['only']);
  });

  test('all 6 orders of 3 items are about equally frequent', () => {
    // Deterministic (fixed seed): 6000 shuffles, each order expected 1000
    // times, binomial σ ≈ 29; ±150 is over 5σ.
    const rng = mulberry32(2024);
    const counts = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const key = shuffle(['a', 'b', 'c'], rng).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    for (const [order, c] of counts) assert.ok(Math.abs(c - 1000) < 150, `${order}: ${c}`);
  });
});
