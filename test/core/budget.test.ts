// The budgeted main job on a fake clock: rounds until every pair is settled,
// the budget bounding the rounds, the sequential test's looks fixed from the
// first round; and, by seeded simulation, that an A/A comparison stopped this
// way calls "different" at most 5% of the time while real differences settle.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FIRST_LOOK_ROUND, maxLooksFor, runBudgeted } from '../../core/budget.js';
import { decideCase, primaryFigureOf } from '../../core/decide.js';
import { summarizeCells } from '../../core/summarize.js';
import { mulberry32, seededShuffle } from '../../stats/index.js';
import type { CellResult, DecisionSettings } from '../../schema/result.js';
import { cell } from '../helpers/cells.js';
import { gaussian } from '../helpers/synthetic.js';

describe('runBudgeted on a fake clock', () => {
  test('the most looks come from the first round: a 180 s budget at 20 s a round allows 9 rounds, 7 looks', () => {
    assert.equal(maxLooksFor(180_000, 20_000), 9 - (FIRST_LOOK_ROUND - 1));
    assert.equal(maxLooksFor(10_000, 60_000), 1, 'always at least one look');
  });

  test('stops a case once it is settled and gives the rest of the budget to the open ones', async () => {
    let now = 0;
    const ran: string[] = [];
    const out = await runBudgeted({
      cases: ['easy', 'hard'],
      budgetMs: 100_000,
      now: () => now,
      runRound: async (round, cases) => {
        for (const c of cases) ran.push(`${c}@${round}`);
        now += 1000 * cases.length;
      },
      // "easy" settles at its first look; "hard" at its fourth.
      settled: (c, look) => (c === 'easy' ? true : look >= 4),
    });
    assert.equal(out.stop, 'settled');
    assert.equal(ran.filter((r) => r.startsWith('easy')).length, FIRST_LOOK_ROUND);
    assert.equal(ran.filter((r) => r.startsWith('hard')).length, FIRST_LOOK_ROUND + 3);
    assert.deepEqual(
      out.cases.map((c) => [c.case, c.look, c.settled]),
      [
        ['easy', 1, true],
        ['hard', 4, true],
      ],
    );
  });

  test('stops when the budget cannot pay for the next round, leaving the case unsettled at its last look', async () => {
    let now = 0;
    const out = await runBudgeted({
      cases: ['never'],
      budgetMs: 10_000,
      now: () => now,
      runRound: async () => void (now += 2000),
      settled: () => false,
    });
    assert.equal(out.stop, 'budget');
    assert.equal(out.rounds, 5);
    assert.equal(out.maxLooks, 5 - (FIRST_LOOK_ROUND - 1));
    assert.deepEqual(out.cases[0], { case: 'never', look: 3, settled: false, rounds: 5 });
  });

  test('a budget too small for the first look is stretched to it, then stops: never a run without a verdict', async () => {
    let now = 0;
    const out = await runBudgeted({
      cases: ['a'],
      budgetMs: 5_000,
      now: () => now,
      runRound: async () => void (now += 4_000),
      settled: () => false,
    });
    assert.equal(out.rounds, FIRST_LOOK_ROUND);
    assert.equal(out.stop, 'budget');
    assert.deepEqual(out.cases[0], { case: 'a', look: 1, settled: false, rounds: FIRST_LOOK_ROUND });
  });

  test('never takes more looks than fixed after the first round, even when the rounds get cheaper', async () => {
    let now = 0;
    let round = 0;
    const out = await runBudgeted({
      cases: ['a'],
      budgetMs: 60_000,
      now: () => now,
      runRound: async (r) => {
        round = r;
        now += r === 1 ? 20_000 : 100;
      },
      settled: () => false,
    });
    assert.equal(out.maxLooks, 1);
    assert.equal(out.stop, 'max-looks');
    assert.equal(round, FIRST_LOOK_ROUND);
  });

  test('a case that ranks nothing runs one round and is never looked at', async () => {
    let now = 0;
    const rounds: Record<string, number> = { ceiling: 0, echo: 0 };
    const looked: string[] = [];
    await runBudgeted({
      cases: ['ceiling', 'echo'],
      unranked: ['ceiling'],
      budgetMs: 60_000,
      now: () => now,
      runRound: async (_r, cases) => {
        for (const c of cases) rounds[c]!++;
        now += 1000;
      },
      settled: (c) => {
        looked.push(c);
        return true;
      },
    });
    assert.deepEqual(rounds, { ceiling: 1, echo: FIRST_LOOK_ROUND });
    assert.deepEqual(looked, ['echo']);
  });

  test('an interrupt stops before the next round', async () => {
    let now = 0;
    let stop = false;
    const out = await runBudgeted({
      cases: ['a'],
      budgetMs: 60_000,
      now: () => now,
      runRound: async (r) => {
        now += 1000;
        if (r === 2) stop = true;
      },
      settled: () => false,
      stopped: () => stop,
    });
    assert.equal(out.stop, 'interrupted');
    assert.equal(out.rounds, 2);
  });
});

/**
 * One simulated budgeted run: per round, every runtime of every case gets a cell whose server CPU per message
 * is its true value times log-normal noise (`noise`) times a drift shared by the round (the machine); the same
 * decision code as `bench run` looks after every round. Returns every pair's verdict at its case's last look.
 */
async function simulate(seed: number, truth: Record<string, number>, cases: string[], noise = 0.05, budgetMs = 180_000, roundMs = 12_000) {
  const rng = mulberry32(seed);
  const runtimes = Object.keys(truth);
  const cells: CellResult[] = [];
  const last = new Map<string, ReturnType<typeof decideCase>>();
  let now = 0;
  const outcome = await runBudgeted({
    cases,
    budgetMs,
    now: () => now,
    runRound: async (round, names) => {
      for (const name of names) {
        const drift = Math.exp(0.6 * noise * gaussian(rng));
        for (const rt of seededShuffle(runtimes, seed * 1000 + round)) {
          const v = truth[rt]! * drift * Math.exp(noise * gaussian(rng));
          cells.push(cell({ case: name, runtime: rt, repetition: round, metrics: { serverCpuUsPerMsg: v, sustained: true } }));
        }
        now += roundMs / cases.length;
      }
    },
    settled: (name, look, maxLooks) => {
      const mine = cells.filter((c) => c.case === name);
      const primary = primaryFigureOf('fixed-rate', mine)!;
      const settings: DecisionSettings = { alpha: 0.05, look, maxLooks, spending: 'pocock' };
      const d = decideCase(name, name, summarizeCells(mine, runtimes[0]!), primary, { settings });
      last.set(name, d);
      return d.settled;
    },
  });
  return { outcome, pairs: [...last.values()].flatMap((d) => d.pairs) };
}

describe('the budgeted decision by seeded simulation', () => {
  test('A/A: the same runtime under four labels, 20 runs of 3 cases: at most 5% of pairs called different', async () => {
    let pairs = 0;
    let different = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const r = await simulate(seed, { a: 10, 'a#2': 10, 'a#3': 10, 'a#4': 10 }, ['c1', 'c2', 'c3']);
      pairs += r.pairs.length;
      different += r.pairs.filter((p) => p.verdict === 'different').length;
    }
    assert.equal(pairs, 20 * 3 * 6);
    assert.ok(different / pairs <= 0.05, `${different} of ${pairs} A/A pairs called different`);
  });

  test('runtimes 2x apart settle as different within the budget, the better one named', async () => {
    const r = await simulate(7, { fast: 5, slow: 10 }, ['c1']);
    assert.equal(r.outcome.stop, 'settled');
    assert.deepEqual(
      r.pairs.map((p) => [p.verdict, p.better]),
      [['different', 'fast']],
    );
  });

  test('runtimes 1% apart with 1% noise settle as equivalent within ±5%', async () => {
    const r = await simulate(9, { x: 10, y: 10.1 }, ['c1'], 0.01);
    assert.deepEqual(
      r.pairs.map((p) => p.verdict),
      ['equivalent'],
    );
  });
});
