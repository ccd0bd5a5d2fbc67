// A time budget instead of a repetition count: rounds of fresh-process cells,
// every open case × runtime once per round in a seeded interleaved order;
// after each round every comparison is looked at again, a case whose pairs
// are all settled stops receiving cells, and the rest of the budget goes to
// the cases still undecided. The sequential test (stats/sequential.ts) needs
// the most looks fixed before its first look: it is set from the first
// round's cost, and the run never takes more looks than that. No I/O: the
// cell runner, the decision and the clock are injected.

import { DEFAULT_MIN_VALUES } from '../stats/index.js';

/** A case's looks start at this round: the first with MIN_VALUES values per runtime. */
export const FIRST_LOOK_ROUND = DEFAULT_MIN_VALUES;

export interface BudgetSpec {
  /** Case names, in order. */
  cases: readonly string[];
  budgetMs: number;
  /** The clock, ms (injected so tests run on a fake one). */
  now(): number;
  /** Runs one round: every runtime of each case given, in the orchestrator's interleaved order. */
  runRound(round: number, cases: readonly string[]): Promise<void>;
  /**
   * After a round from FIRST_LOOK_ROUND on: whether a case is settled at this look (all its pairs different or
   * equivalent). Cases that rank nothing (a ceiling search) may return true at once.
   */
  settled(caseName: string, look: number, maxLooks: number): boolean;
  /** Cases that rank nothing (a ceiling search reports its own figures): one round, never looked at. */
  unranked?: readonly string[];
  /** Stops before the next round (an interrupt). */
  stopped?(): boolean;
  /** Most rounds whatever the budget (a safety bound; default 100). */
  maxRounds?: number;
}

export interface BudgetOutcome {
  rounds: number;
  /** The sequential test's K: the most looks any case could get, fixed after the first round. */
  maxLooks: number;
  /** The look each case was last decided at, and whether it settled there. */
  cases: { case: string; look: number; settled: boolean; rounds: number }[];
  /** Why the run stopped: every case settled, the budget spent, the most looks reached, or interrupted. */
  stop: 'settled' | 'budget' | 'max-looks' | 'interrupted';
}

/**
 * The most looks a budget allows, from the first round's cost: every round costs about as much as the first
 * (cases that settle make later rounds cheaper, which only leaves budget unused), and looks begin at round
 * FIRST_LOOK_ROUND. At least 1, so a case can always be decided once.
 */
export function maxLooksFor(budgetMs: number, firstRoundMs: number, maxRounds = 100): number {
  const rounds = Math.min(maxRounds, Math.floor(budgetMs / Math.max(1, firstRoundMs)));
  return Math.max(1, rounds - (FIRST_LOOK_ROUND - 1));
}

/**
 * Runs rounds until every case is settled, the budget cannot pay for the next round (estimated from the open
 * cases' share of the rounds so far), the most looks are taken, or `stopped()`. The first FIRST_LOOK_ROUND rounds
 * always run (a budget too small for them is stretched to them).
 */
export async function runBudgeted(spec: BudgetSpec): Promise<BudgetOutcome> {
  const t0 = spec.now();
  const maxRounds = spec.maxRounds ?? 100;
  const open = new Map(spec.cases.map((c) => [c, { look: 0, settled: false, rounds: 0 }]));
  /** Time spent per case per round, ms: what a round of the open cases will cost next. */
  const costMs = new Map<string, number[]>();
  let maxLooks = 1;
  let round = 0;
  let stop: BudgetOutcome['stop'] = 'settled';
  while (round < maxRounds) {
    const active = spec.cases.filter((c) => !open.get(c)!.settled);
    if (active.length === 0) {
      stop = 'settled';
      break;
    }
    if (spec.stopped?.()) {
      stop = 'interrupted';
      break;
    }
    // The first FIRST_LOOK_ROUND rounds always run: no verdict exists before them, and a run that spent its whole
    // budget to end without one would be the worst use of it (the budget stretches; the CLI says by how much).
    if (round >= FIRST_LOOK_ROUND) {
      const next = active.reduce((a, c) => a + mean(costMs.get(c) ?? []), 0);
      if (spec.now() - t0 + next > spec.budgetMs) {
        stop = 'budget';
        break;
      }
      if (round + 1 - (FIRST_LOOK_ROUND - 1) > maxLooks) {
        stop = 'max-looks';
        break;
      }
    }
    round++;
    // Per case, the time its cells took: one runRound per case keeps the accounting exact.
    for (const c of active) {
      const start = spec.now();
      await spec.runRound(round, [c]);
      costMs.set(c, [...(costMs.get(c) ?? []), spec.now() - start]);
      open.get(c)!.rounds++;
      if (spec.stopped?.()) break;
    }
    if (round === 1) {
      maxLooks = maxLooksFor(spec.budgetMs, spec.now() - t0, maxRounds);
      for (const c of spec.unranked ?? []) if (open.has(c)) open.get(c)!.settled = true;
    }
    if (round >= FIRST_LOOK_ROUND) {
      const look = round - (FIRST_LOOK_ROUND - 1);
      for (const c of active.filter((x) => !spec.unranked?.includes(x))) {
        const state = open.get(c)!;
        state.look = look;
        state.settled = spec.settled(c, look, maxLooks);
      }
    }
    if (spec.stopped?.()) {
      stop = 'interrupted';
      break;
    }
  }
  return { rounds: round, maxLooks, cases: spec.cases.map((c) => ({ case: c, ...open.get(c)! })), stop };
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}
