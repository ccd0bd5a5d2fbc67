import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { primaryMetric, runtimeChoice } from '../../core/choice.js';
import { summarizeCells } from '../../core/summarize.js';
import { IDLE_CASE, OPEN_CASE, loadFixture } from '../helpers/make-fixture.js';
import { syntheticResult } from '../helpers/synthetic.js';

const opts = { resamples: 2000 };

describe('runtimeChoice', () => {
  test('ranks by the primary figure, names a winner only when every other runtime is significantly behind', () => {
    // The server at full CPU in every cell: a closed loop ranks on throughput, the server's figure.
    const r = syntheticResult({ runtimes: ['node-ws', 'bun', 'deno'], seed: 5, serverBound: true, factors: { bun: { msgsPerSec: 1.5 }, deno: { msgsPerSec: 1.2 } } });
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
    const t = runtimeChoice(syntheticResult({ runtimes: ['bun', 'node-ws'], seed: 6, serverBound: true }), opts);
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

  test('where the load generator limited a repetition, a closed loop ranks on server CPU per message, never on a bound', () => {
    const r = syntheticResult({ runtimes: ['bun', 'node-ws'], seed: 8, serverBound: true, factors: { bun: { msgsPerSec: 1.5, serverCpuUsPerMsg: 0.6 } }, loadgenBound: ['echo/bun/2'] });
    const c = runtimeChoice(r, opts).cases[0]!;
    assert.equal(c.metric, 'serverCpuUsPerMsg');
    assert.equal(c.rows[0]!.runtime, 'bun');
    assert.ok(c.rows.every((x) => !x.loadgenBound));
    assert.equal(c.winner, 'bun');
  });

  test('a bound figure never wins on its own: an open loop whose load was not offered in full ranks on the rate carried, marked', () => {
    const f = loadFixture();
    // Every cell of the open case short of its rate, one of bun's not offered in full (a bound).
    for (const c of f.cells.filter((x) => x.case === OPEN_CASE && x.metrics)) c.metrics = { ...c.metrics!, sustained: false, throughputIsLowerBound: c.id === `${OPEN_CASE}/bun/2` };
    const c = runtimeChoice(f, opts).cases.find((x) => x.case === OPEN_CASE)!;
    assert.equal(c.metric, 'msgsPerSec');
    const bun = c.rows.find((x) => x.runtime === 'bun')!;
    assert.equal(bun.loadgenBound, true);
    assert.notEqual(c.winner, 'bun');
  });

  test('a shortfall only where the load generator fell behind is the generator\'s: the open loop still ranks on CPU per message', () => {
    const f = loadFixture();
    // One repetition short of its rate, and its throughput a bound (npm start: node-ws "carried" 9,879 of 10,000).
    for (const c of f.cells.filter((x) => x.case === OPEN_CASE && x.metrics)) {
      const short = c.id === `${OPEN_CASE}/node-ws/2`;
      c.metrics = { ...c.metrics!, sustained: !short, throughputIsLowerBound: short };
    }
    assert.equal(runtimeChoice(f, opts).cases.find((x) => x.case === OPEN_CASE)!.metric, 'serverCpuUsPerMsg');
    // The same shortfall with the generator keeping up is the server's: ranked on the rate carried.
    for (const c of f.cells.filter((x) => x.case === OPEN_CASE && x.metrics)) c.metrics = { ...c.metrics!, throughputIsLowerBound: false };
    assert.equal(runtimeChoice(f, opts).cases.find((x) => x.case === OPEN_CASE)!.metric, 'msgsPerSec');
  });

  test('with 3 repetitions no difference can be significant: undecided, with how many are needed', () => {
    const c = runtimeChoice(syntheticResult({ repeat: 3, seed: 10, serverBound: true, factors: { bun: { msgsPerSec: 2 } } }), opts).cases[0]!;
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

  test('picks what bench run decides on: CPU per message at a rate every runtime carried, bytes per connection for idle', () => {
    const f = loadFixture();
    const rows = summarizeCells(f.cells, f.settings.referenceRuntime);
    assert.equal(primaryMetric(f, rows.filter((r) => r.case === OPEN_CASE)), 'serverCpuUsPerMsg');
    assert.equal(primaryMetric(f, rows.filter((r) => r.case === IDLE_CASE)), 'bytesPerConnection');
    const t = runtimeChoice(f, opts);
    assert.deepEqual(t.cases.map((c) => c.case), [OPEN_CASE, IDLE_CASE]);
    // CPU per message is valid whatever the load generator's lateness: node-uws, the cheapest, is not a bound.
    assert.equal(t.cases[0]!.rows[0]!.runtime, 'node-uws');
    assert.equal(t.cases[0]!.rows[0]!.loadgenBound, false);
  });
});
