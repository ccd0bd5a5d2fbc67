import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { primaryMetric, runtimeChoice } from '../../core/choice.js';
import { summarizeCells } from '../../core/summarize.js';
import { IDLE_CASE, OPEN_CASE, loadFixture } from '../helpers/make-fixture.js';
import { syntheticResult } from '../helpers/synthetic.js';

const opts = { resamples: 2000 };

describe('runtimeChoice', () => {
  test('ranks by the primary figure, names a winner only when every other runtime is significantly behind', () => {
    const r = syntheticResult({ runtimes: ['node-ws', 'bun', 'deno'], seed: 5, factors: { bun: { msgsPerSec: 1.5 }, deno: { msgsPerSec: 1.2 } } });
    const t = runtimeChoice(r, opts);
    const c = t.cases[0]!;
    assert.equal(c.metric, 'msgsPerSec');
    assert.deepEqual(c.rows.map((x) => x.runtime), ['bun', 'deno', 'node-ws']);
    assert.deepEqual(c.rows.map((x) => x.standing), ['best', 'behind', 'behind']);
    assert.equal(c.winner, 'bun');
    const deno = c.rows[1]!;
    assert.ok(Math.abs(deno.ratioToBest - 1.2 / 1.5) < 0.03, String(deno.ratioToBest));
    assert.ok(deno.ratioCi!.low < deno.ratioToBest && deno.ratioToBest < deno.ratioCi!.high);
    assert.ok(deno.ratioCi!.high < 1);
    assert.ok(deno.pAdjusted! <= 0.05);
  });

  test('calls runtimes within noise of the best a tie, and then there is no winner', () => {
    const t = runtimeChoice(syntheticResult({ runtimes: ['bun', 'node-ws'], seed: 6 }), opts);
    const c = t.cases[0]!;
    assert.equal(c.rows[1]!.standing, 'tie');
    assert.equal(c.winner, null);
    assert.match(c.verdict, /not significantly different/);
    assert.ok(c.rows[1]!.ratioCi!.low <= 1 || c.rows[1]!.pAdjusted! > 0.05);
  });

  test('puts the costs beside the speed', () => {
    const c = runtimeChoice(syntheticResult({ runtimes: ['bun', 'node-ws'], seed: 7 }), opts).cases[0]!;
    for (const row of c.rows) {
      assert.ok(row.figures.serverCpuUsPerMsg! > 9 && row.figures.serverCpuUsPerMsg! < 11);
      assert.ok(row.figures.bytesPerConnection! > 0 && row.figures.rssPeakBytes! > 0);
    }
  });

  test('a load-generator-bound best never wins on its own', () => {
    const r = syntheticResult({ runtimes: ['bun', 'node-ws'], seed: 8, factors: { bun: { msgsPerSec: 1.5 } }, loadgenBound: ['echo/bun/2'] });
    const c = runtimeChoice(r, opts).cases[0]!;
    assert.equal(c.rows[0]!.runtime, 'bun');
    assert.equal(c.rows[0]!.loadgenBound, true);
    assert.equal(c.winner, null);
    assert.match(c.verdict, /bun leads, but its figure was limited by the load generator/);
  });

  test('a load-generator-bound runtime behind the best is undecided, not behind', () => {
    const r = syntheticResult({ runtimes: ['bun', 'node-ws'], seed: 9, factors: { bun: { msgsPerSec: 1.5 } }, loadgenBound: ['echo/node-ws/4'] });
    const c = runtimeChoice(r, opts).cases[0]!;
    assert.equal(c.rows[1]!.standing, 'undecided');
    assert.equal(c.rows[1]!.undecidedReason, 'load-generator-bound');
    assert.equal(c.winner, null);
  });

  test('with 3 repetitions no difference can be significant: undecided, with how many are needed', () => {
    const c = runtimeChoice(syntheticResult({ repeat: 3, seed: 10, factors: { bun: { msgsPerSec: 2 } } }), opts).cases[0]!;
    assert.equal(c.rows[1]!.standing, 'undecided');
    assert.equal(c.rows[1]!.undecidedReason, 'too-few-repetitions');
    assert.match(c.verdict, /at least 4 per runtime/);
  });

  test('is deterministic for a seed and changes with it', () => {
    const r = syntheticResult({ seed: 11 });
    const a = runtimeChoice(r, { ...opts, seed: 3 }).cases[0]!.rows[1]!.ratioCi;
    assert.deepEqual(runtimeChoice(r, { ...opts, seed: 3 }).cases[0]!.rows[1]!.ratioCi, a);
    assert.notDeepEqual(runtimeChoice(r, { ...opts, seed: 4 }).cases[0]!.rows[1]!.ratioCi, a);
  });

  test('picks p99 latency for an open loop and bytes per connection for idle', () => {
    const f = loadFixture();
    const rows = summarizeCells(f.cells, f.settings.referenceRuntime);
    assert.equal(primaryMetric(f, rows.filter((r) => r.case === OPEN_CASE)), 'latencyP99Us');
    assert.equal(primaryMetric(f, rows.filter((r) => r.case === IDLE_CASE)), 'bytesPerConnection');
    const t = runtimeChoice(f, opts);
    assert.deepEqual(t.cases.map((c) => c.case), [OPEN_CASE, IDLE_CASE]);
    // The fixture's one load-generator-bound cell is node-uws's, which is also the lowest p99: no winner.
    assert.equal(t.cases[0]!.rows[0]!.runtime, 'node-uws');
    assert.equal(t.cases[0]!.winner, null);
  });
});
