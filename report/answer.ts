// The decision in one line per workload: which runtime to pick, or why not yet. The tables below it carry the
// figures; this is what a reader acts on. Pure.

import type { CaseDecision } from '../schema/result.js';

/** One workload's answer, from its ranking's standings against the best. */
export interface CaseAnswer {
  case: string;
  /** The runtime(s) to pick: the best, with those equivalent to it; empty when nothing completed. */
  pick: string[];
  /** Runtimes still undecided against the best (the pick may change). */
  openAgainst: string[];
  /** The band of equivalence, %. */
  minEffectPct: number;
}

/** Each case's answer (shape above). A case with no ranked runtime gives an empty pick. */
export function answersOf(decisions: readonly CaseDecision[]): CaseAnswer[] {
  return decisions.map((d) => {
    const best = d.ranking.find((r) => r.standing === 'best');
    return {
      case: d.case,
      pick: best ? [best.runtime, ...d.ranking.filter((r) => r.standing === 'equivalent').map((r) => r.runtime)] : [],
      openAgainst: d.ranking.filter((r) => r.standing === 'undecided').map((r) => r.runtime),
      minEffectPct: d.minEffectPct,
    };
  });
}

/**
 * The answers in words, one line per case: "echo-rate@10000/s: bun", "idle: node-uws or bun (equivalent within
 * ±10%)", "broadcast: bun leads, not yet settled against node-uws (more repetitions would tell: …)".
 */
export function answerLines(decisions: readonly CaseDecision[]): string[] {
  return answersOf(decisions).map((a) => {
    if (a.pick.length === 0) return `${a.case}: nothing ranked`;
    const [best, ...same] = a.pick;
    const pick = same.length > 0 ? `${[best, ...same].join(' or ')} (equivalent within ±${a.minEffectPct}%)` : best!;
    if (a.openAgainst.length === 0) return `${a.case}: ${pick}`;
    return `${a.case}: ${pick} ${same.length > 0 ? 'lead' : 'leads'}, not yet settled against ${a.openAgainst.join(', ')} (more repetitions would tell: a longer --budget or --repeat)`;
  });
}
