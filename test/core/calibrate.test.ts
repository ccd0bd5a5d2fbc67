import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { calibrate, noiseFloorOf, splitAA, validateCalibration } from '../../core/calibrate.js';
import { BenchError } from '../../base/errors.js';
import { syntheticResult } from '../helpers/synthetic.js';

describe('calibrate (A/A)', () => {
  const aa = syntheticResult({ runtimes: ['node-ws'], repeat: 10, seed: 3, noise: 0.02 });

  test('splits odd repetitions into A and even ones into B, renumbered', () => {
    const { a, b } = splitAA(aa);
    assert.deepEqual(a.cells.map((c) => c.repetition), [1, 2, 3, 4, 5]);
    assert.deepEqual(b.cells.map((c) => c.repetition), [1, 2, 3, 4, 5]);
    assert.equal(a.cells[1]!.metrics!.msgsPerSec, aa.cells[2]!.metrics!.msgsPerSec, 'A #2 is repetition 3');
    assert.equal(b.cells[0]!.metrics!.msgsPerSec, aa.cells[1]!.metrics!.msgsPerSec, 'B #1 is repetition 2');
    assert.equal(a.summary[0]!.msgsPerSec!.n, 5);
  });

  test('measures a noise floor near the planted 2% per metric, and no A/A change', () => {
    const c = calibrate(aa);
    assert.equal(c.runtime, 'node-ws');
    assert.equal(c.repeatPerGroup, 5);
    assert.equal(c.falseChanges, 0);
    for (const [metric, pct] of Object.entries(c.floorPct)) assert.ok(pct! > 0.5 && pct! < 5, `${metric}: ${pct}`);
    assert.equal(c.perCase['echo']!.msgsPerSec, c.floorPct.msgsPerSec);
    const row = c.rows.find((r) => r.metric === 'msgsPerSec')!;
    assert.equal(row.noisePct, Math.max(row.spreadPct, Math.abs(row.shiftPct)));
    const noise = noiseFloorOf(c, 'cal.json');
    assert.equal(noise.source, 'cal.json');
    assert.deepEqual(noise.floorPct, c.floorPct);
  });

  test('needs one runtime and at least two repetitions', () => {
    assert.throws(() => calibrate(syntheticResult({ runtimes: ['bun', 'node-ws'] })), (e: unknown) => e instanceof BenchError && e.code === 'E_USAGE');
    assert.throws(() => calibrate(syntheticResult({ runtimes: ['bun'], repeat: 1 })), (e: unknown) => e instanceof BenchError && e.code === 'E_USAGE');
  });

  test('a stored calibration is validated with field paths', () => {
    const ok = calibrate(aa);
    assert.deepEqual(validateCalibration(JSON.parse(JSON.stringify(ok)), 'c.json'), JSON.parse(JSON.stringify(ok)));
    try {
      validateCalibration({ kind: 'bench-comparison', version: 1, floorPct: { msgs: 2, latencyP99Us: -1 }, perCase: { echo: 3 } }, 'c.json');
      assert.fail('expected E_INVALID_CALIBRATION');
    } catch (e) {
      assert.ok(e instanceof BenchError && e.code === 'E_INVALID_CALIBRATION');
      assert.deepEqual(e.details, [
        'kind: must be "bench-calibration", got "bench-comparison"',
        'floorPct.msgs: unknown metric',
        'floorPct.latencyP99Us: must be a percentage ≥ 0, got -1',
        'perCase.echo: must be an object of metric: pct',
      ]);
    }
  });
});
