import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runtimeChoice } from '../../core/choice.js';
import { mergeResults } from '../../core/compare.js';
import { casesOfResult, decideAll } from '../../core/decide.js';
import type { DecisionSettings } from '../../schema/result.js';
import { IDLE_CASE, OPEN_CASE, loadFixture } from '../helpers/make-fixture.js';
import { syntheticResult } from '../helpers/synthetic.js';

const BUDGETED = (look: number, maxLooks: number): DecisionSettings => ({ alpha: 0.05, spending: 'pocock', look, maxLooks });

describe('runtimeChoice', () => {
  test('ranks by the primary figure, names a winner only when every other runtime is different and behind', () => {
    // The server at full CPU in every cell: a closed loop ranks on throughput, the server's figure.
    const r = syntheticResult({ runtimes: ['node-ws', 'bun', 'deno'], seed: 5, serverBound: true, factors: { bun: { msgsPerSec: 1.5 }, deno: { msgsPerSec: 1.2 } } });
    const c = runtimeChoice(r).cases[0]!;
    assert.equal(c.decision.primary.metric, 'msgsPerSec');
    assert.deepEqual(c.decision.ranking.map((x) => x.runtime), ['bun', 'deno', 'node-ws']);
    assert.deepEqual(c.decision.ranking.map((x) => x.standing), ['best', 'behind', 'behind']);
    assert.equal(c.outcome, 'winner');
    assert.equal(c.winner, 'bun');
    const deno = c.decision.ranking[1]!;
    assert.ok(Math.abs(deno.ratioToBest - 1.2 / 1.5) < 0.03, String(deno.ratioToBest));
    assert.ok(deno.low! < deno.ratioToBest && deno.ratioToBest < deno.high! && deno.high! < 1);
  });

  test('runtimes alike are never called different, and then there is no winner', () => {
    const c = runtimeChoice(syntheticResult({ runtimes: ['bun', 'node-ws'], seed: 6, serverBound: true })).cases[0]!;
    assert.notEqual(c.decision.ranking[1]!.standing, 'behind');
    assert.equal(c.winner, null);
    assert.ok(c.outcome === 'equivalent' || c.outcome === 'undecided', c.outcome);
  });

  test('puts the costs beside the speed', () => {
    const c = runtimeChoice(syntheticResult({ runtimes: ['bun', 'node-ws'], seed: 7 })).cases[0]!;
    for (const row of c.decision.ranking) {
      assert.ok(row.costs.serverCpuUsPerMsg! > 9 && row.costs.serverCpuUsPerMsg! < 11);
      assert.ok(row.costs.rssPeakBytes! > 0);
    }
  });

  test('where the load generator limited a repetition, a closed loop ranks on server CPU per message, never on a bound', () => {
    const r = syntheticResult({ runtimes: ['bun', 'node-ws'], seed: 8, serverBound: true, factors: { bun: { msgsPerSec: 1.5, serverCpuUsPerMsg: 0.6 } }, loadgenBound: ['echo/bun/2'] });
    const c = runtimeChoice(r).cases[0]!;
    assert.equal(c.decision.primary.metric, 'serverCpuUsPerMsg');
    assert.equal(c.winner, 'bun');
  });

  test('an open loop some runtime did not carry ranks on the rate carried; a shortfall only the load generator caused does not switch it', () => {
    const f = loadFixture();
    for (const c of f.cells.filter((x) => x.case === OPEN_CASE && x.metrics)) c.metrics = { ...c.metrics!, sustained: false, throughputIsLowerBound: false };
    assert.equal(runtimeChoice(f).cases.find((x) => x.decision.case === OPEN_CASE)!.decision.primary.metric, 'msgsPerSec');
    // One repetition short of its rate, and its throughput a bound (npm start: node-ws "carried" 9,879 of 10,000).
    for (const c of f.cells.filter((x) => x.case === OPEN_CASE && x.metrics)) {
      const short = c.id === `${OPEN_CASE}/node-ws/2`;
      c.metrics = { ...c.metrics!, sustained: !short, throughputIsLowerBound: short };
    }
    assert.equal(runtimeChoice(f).cases.find((x) => x.decision.case === OPEN_CASE)!.decision.primary.metric, 'serverCpuUsPerMsg');
  });

  test('with 2 repetitions nothing is decided: undecided, saying why', () => {
    const c = runtimeChoice(syntheticResult({ repeat: 2, seed: 10, serverBound: true, factors: { bun: { msgsPerSec: 2 } } })).cases[0]!;
    assert.equal(c.outcome, 'undecided');
    assert.equal(c.decision.ranking[1]!.standing, 'undecided');
    assert.equal(c.decision.ranking[1]!.reason, 'too-few-values');
  });

  test('picks what bench run decides on: CPU per message at a rate every runtime carried, bytes per connection for idle', () => {
    const f = loadFixture();
    const t = runtimeChoice(f);
    assert.deepEqual(t.cases.map((c) => [c.decision.case, c.decision.primary.metric]), [[OPEN_CASE, 'serverCpuUsPerMsg'], [IDLE_CASE, 'bytesPerConnection']]);
    // CPU per message is valid whatever the load generator's lateness: node-uws, the cheapest, leads.
    assert.equal(t.cases[0]!.decision.ranking[0]!.runtime, 'node-uws');
  });
});

describe('the interval beside a verdict', () => {
  test('is the one the verdict was taken on: different exactly when it clears the band, never a narrower 95% one', () => {
    let seen = 0;
    for (const seed of [31, 32, 33, 34, 35, 36]) {
      const r = syntheticResult({ runtimes: ['bun', 'node-ws', 'deno'], seed, repeat: 4, noise: 0.15, serverBound: true, factors: { 'node-ws': { msgsPerSec: 0.75 }, deno: { msgsPerSec: 0.9 } } });
      const d = runtimeChoice(r).cases[0]!.decision;
      assert.ok(d.intervalLevel! > 0.95, String(d.intervalLevel));
      const band = 1 + d.minEffectPct / 100;
      for (const x of d.ranking.slice(1)) {
        const clears = x.high! < 1 / band || x.low! > band;
        assert.equal(x.standing === 'behind', clears, `${seed} ${x.runtime}: ${x.standing}, ${x.low}–${x.high}`);
        seen++;
      }
    }
    assert.equal(seen, 12);
  });
});

describe('bench choose agrees with bench run', () => {
  test("a run's stored decisions are the table's, verdict for verdict (a budgeted run's looks included)", () => {
    const r = syntheticResult({ runtimes: ['node-ws', 'bun'], seed: 12, serverBound: true, factors: { bun: { msgsPerSec: 1.06 } } });
    r.settings.decision = BUDGETED(3, 8);
    r.decisions = decideAll(r, casesOfResult(r), { settings: r.settings.decision }).map((d) => ({ ...d, look: 3, maxLooks: 8 }));
    const t = runtimeChoice(r);
    assert.equal(t.source, 'run');
    assert.deepEqual(t.cases.map((c) => c.decision), r.decisions);
  });

  test('a result without stored decisions is decided at its own looks: a later look of many is never bolder than one look', () => {
    for (const seed of [13, 14, 15, 16]) {
      const r = syntheticResult({ runtimes: ['node-ws', 'bun'], seed, serverBound: true, factors: { bun: { msgsPerSec: 1.08 } } });
      const fixed = runtimeChoice(r).cases[0]!.decision.pairs[0]!;
      r.settings.decision = BUDGETED(6, 6);
      const sequential = runtimeChoice(r);
      assert.equal(sequential.source, 'decided');
      const pair = sequential.cases[0]!.decision.pairs[0]!;
      // The corrected interval of the later look contains the one-look interval.
      assert.ok(pair.low! <= fixed.low! && pair.high! >= fixed.high!, `${seed}: ${pair.low}–${pair.high} vs ${fixed.low}–${fixed.high}`);
      if (pair.verdict === 'different') assert.equal(fixed.verdict, 'different');
    }
  });

  test("pooled results: a workload only one of them ran keeps its verdict; one several ran is decided again at the last of their looks", () => {
    // a: a budgeted run of echo and idle (its own decisions stored); b: a later fixed run of echo only.
    const a = syntheticResult({ runtimes: ['node-ws', 'bun'], cases: ['echo', 'idle'], seed: 17, serverBound: true, factors: { bun: { msgsPerSec: 1.3 } } });
    const b = syntheticResult({ runtimes: ['node-ws', 'bun'], cases: ['echo'], seed: 18, serverBound: true, factors: { bun: { msgsPerSec: 1.3 } } });
    a.settings.decision = BUDGETED(2, 5);
    a.decisions = decideAll(a, casesOfResult(a), { settings: a.settings.decision }).map((d) => ({ ...d, look: 2, maxLooks: 5 }));
    a.budget = { rounds: 4, maxLooks: 5, stop: 'settled' };
    const pool = mergeResults([
      { name: 'a', result: a },
      { name: 'b', result: b },
    ]);
    assert.equal(pool.decisions, undefined);
    assert.equal(pool.budget, undefined);
    assert.equal(pool.settings.decision, undefined);
    const t = runtimeChoice(pool, [a, b]);
    assert.equal(t.source, 'pooled');
    assert.equal(t.runs, 2);
    const [echo, idle] = [t.cases.find((c) => c.decision.case === 'echo')!, t.cases.find((c) => c.decision.case === 'idle')!];
    // idle: only a ran it, so its verdict is a's, unchanged by an unrelated run.
    assert.deepEqual(idle.decision, a.decisions.find((d) => d.case === 'idle'));
    // echo: both ran it: a's two looks and b's one, the pool at look 3 of 3 over every repetition.
    assert.deepEqual([echo.decision.look, echo.decision.maxLooks], [3, 3]);
    assert.equal(echo.decision.ranking[0]!.n, a.cells.filter((c) => c.case === 'echo' && c.runtime === 'bun').length + b.cells.filter((c) => c.case === 'echo' && c.runtime === 'bun').length);
  });

});
