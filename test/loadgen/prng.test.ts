import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrng } from '../../loadgen/prng.js';

describe('prng', () => {
  test('the same seed gives the same sequence, another seed another one', () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const c = createPrng(43);
    const sa = Array.from({ length: 100 }, a);
    assert.deepEqual(Array.from({ length: 100 }, b), sa);
    assert.notDeepEqual(Array.from({ length: 100 }, c), sa);
  });

  test('values lie in [0, 1) and are roughly uniform', () => {
    const r = createPrng(7);
    const bins = new Array<number>(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const u = r();
      assert.ok(u >= 0 && u < 1, `value ${u}`);
      bins[Math.floor(u * 10)]!++;
    }
    // Each bin expects 10,000 with σ ≈ 95: 5σ bounds, deterministic for this seed.
    for (const count of bins) assert.ok(Math.abs(count - n / 10) < 500, `bin count ${count}`);
  });
});
