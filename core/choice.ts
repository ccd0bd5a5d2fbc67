// `bench choose`: the runtime-choice table a team decides from, built from one
// result (or several pooled into one side). It is the decision `bench run`
// ended in (core/decide.ts: per case the runtimes ranked on the figure valid on
// the machine, every pair different, equivalent or undecided by the sequential
// test), so the two commands can never disagree: a run's own decisions are
// read back as stored; an older result, or several pooled, is decided now from
// the raw values, with settings that count every look the parts took. Pure.

import type { CaseDecision, DecisionSettings, RunResult } from '../schema/result.js';
import { casesOfResult, decideAll, FIXED_SAMPLE } from './decide.js';

/**
 * What a case's decision comes to:
 * - `winner`: every other runtime different and behind the best;
 * - `equivalent`: every other runtime within the minimum effect of the best;
 * - `tie`: some equivalent to the best, the rest behind (no single winner);
 * - `undecided`: a comparison with the best is still open (each says why);
 * - `single`: only one runtime ran the case.
 */
export type CaseOutcome = 'winner' | 'equivalent' | 'tie' | 'undecided' | 'single';

export interface ChoiceCase {
  decision: CaseDecision;
  outcome: CaseOutcome;
  /** The best runtime when the outcome is `winner`, else null. */
  winner: string | null;
}

/**
 * Where the verdicts come from:
 * - `run`: the decisions the run stored as it ended (a budgeted run's own looks);
 * - `decided`: decided now from the raw per-cell values (a result without stored decisions, or several pooled).
 */
export type ChoiceSource = 'run' | 'decided';

export interface ChoiceTable {
  kind: 'bench-choice';
  version: 2;
  label: string;
  gitRevision: string | null;
  environment: { cpuModel: string; logicalCpus: number; kernel: string };
  runtimes: { id: string; runtimeVersion?: string; libraryVersion?: string }[];
  /** How many result files the table rests on (more than 1: pooled, core/compare.ts mergeResults). */
  runs: number;
  source: ChoiceSource;
  /** The sequential test's settings of the verdicts (a stored decision may carry its own look: `decision.look`). */
  settings: DecisionSettings;
  cases: ChoiceCase[];
}

/** The outcome of one case's decision (see `CaseOutcome`). */
export function outcomeOf(d: CaseDecision): { outcome: CaseOutcome; winner: string | null } {
  const others = d.ranking.slice(1);
  const outcome: CaseOutcome =
    others.length === 0
      ? 'single'
      : others.some((r) => r.standing === 'undecided')
        ? 'undecided'
        : others.every((r) => r.standing === 'behind')
          ? 'winner'
          : others.every((r) => r.standing === 'equivalent')
            ? 'equivalent'
            : 'tie';
  return { outcome, winner: outcome === 'winner' ? d.ranking[0]!.runtime : null };
}

/**
 * The decisions of a result: the stored ones (a run since schema 2), or decided now from the raw per-cell values
 * with the result's own sequential settings (`settings.decision`: a budgeted run's, or a pool's, which counts
 * every look of its parts), else at one look (fixed repetitions).
 */
export function decisionsOf(result: RunResult): CaseDecision[] {
  if (result.decisions) return result.decisions;
  return decideAll(result, casesOfResult(result), { settings: result.settings.decision ?? FIXED_SAMPLE });
}

/**
 * The runtime-choice table of one result (see the module comment). `runs` is how many result files were pooled
 * into it (1 for one run).
 */
export function runtimeChoice(result: RunResult, runs = 1): ChoiceTable {
  const used = new Set(result.cells.map((c) => c.runtime));
  return {
    kind: 'bench-choice',
    version: 2,
    label: result.label,
    gitRevision: result.tool?.gitRevision ?? null,
    environment: { cpuModel: result.environment.cpuModel, logicalCpus: result.environment.logicalCpus, kernel: result.environment.kernel },
    runtimes: (result.environment.runtimes ?? [])
      .filter((r) => used.has(r.id))
      .map((r) => ({ id: r.id, ...(r.runtimeVersion ? { runtimeVersion: r.runtimeVersion } : {}), ...(r.libraryVersion ? { libraryVersion: r.libraryVersion } : {}) })),
    runs,
    source: result.decisions ? 'run' : 'decided',
    settings: result.settings.decision ?? FIXED_SAMPLE,
    cases: decisionsOf(result).map((decision) => ({ decision, ...outcomeOf(decision) })),
  };
}
