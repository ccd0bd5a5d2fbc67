// `bench choose`: the runtime-choice table a team decides from, built from one
// result (or several pooled into one side). It is the decision `bench run`
// ended in (core/decide.ts: per case the runtimes ranked on the figure valid on
// the machine, every pair different, equivalent or undecided by the sequential
// test), so the two commands can never disagree: a run's own decisions are
// read back as stored; an older result is decided now from its raw values;
// several results pooled keep, for a workload only one of them ran, that run's
// verdict, and decide the others again at the last of every look their runs
// took. Pure.

import type { CaseDecision, DecisionSettings, RunResult } from '../schema/result.js';
import type { ScenarioCase } from './scenario.js';
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
 * - `decided`: decided now from the raw per-cell values (a result without stored decisions);
 * - `pooled`: several results; per workload the one run's verdict where one ran it, else decided again
 *   (`pooledDecision`).
 */
export type ChoiceSource = 'run' | 'decided' | 'pooled';

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
  /** The sequential test's settings of one result's verdicts (each decision carries its own look: `decision.look`). */
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
 * The decision of one workload over several results pooled (`merged`, core/compare.ts mergeResults, of `parts`):
 * where only one part ran the workload, that part's own decision (the same values: the same verdict); where
 * several did, decided again on the union at look K of K, K the looks the parts took on it (a budgeted part's
 * looks at the workload, at least one for any part: each result pooled was a chance to look, and a budgeted run
 * stopped when its data looked settled), so the error rate holds over every look that led here (Pocock spending
 * is the same at every look: the conservative reading). Undefined when the workload ranks nothing.
 */
export function pooledDecision(merged: RunResult, parts: readonly RunResult[], c: ScenarioCase): CaseDecision | undefined {
  const ran = parts.filter((p) => p.cells.some((x) => x.case === c.name && x.status === 'completed'));
  if (ran.length === 1) {
    const own = decisionsOf(ran[0]!).find((d) => d.case === c.name);
    if (own) return own;
  }
  const looks = ran.reduce((k, p) => k + Math.max(1, p.budget ? (p.decisions?.find((d) => d.case === c.name)?.look ?? 1) : 1), 0);
  const k = Math.max(1, looks);
  const d = decideAll(merged, [c], { settings: { ...FIXED_SAMPLE, look: k, maxLooks: k } })[0];
  return d ? { ...d, look: k, maxLooks: k } : undefined;
}

/**
 * The runtime-choice table of one result, or of several pooled (`parts`, the results `result` merges; see the
 * module comment).
 */
export function runtimeChoice(result: RunResult, parts: readonly RunResult[] = [result]): ChoiceTable {
  const used = new Set(result.cells.map((c) => c.runtime));
  const pooled = parts.length > 1;
  const decisions = pooled ? casesOfResult(result).flatMap((c) => pooledDecision(result, parts, c) ?? []) : decisionsOf(result);
  return {
    kind: 'bench-choice',
    version: 2,
    label: pooled ? `${parts.length} results pooled (${[...new Set(parts.map((p) => p.label))].join(', ')})` : result.label,
    gitRevision: result.tool?.gitRevision ?? null,
    environment: { cpuModel: result.environment.cpuModel, logicalCpus: result.environment.logicalCpus, kernel: result.environment.kernel },
    runtimes: (result.environment.runtimes ?? [])
      .filter((r) => used.has(r.id))
      .map((r) => ({ id: r.id, ...(r.runtimeVersion ? { runtimeVersion: r.runtimeVersion } : {}), ...(r.libraryVersion ? { libraryVersion: r.libraryVersion } : {}) })),
    runs: parts.length,
    source: pooled ? 'pooled' : result.decisions ? 'run' : 'decided',
    settings: result.settings.decision ?? FIXED_SAMPLE,
    cases: decisions.map((decision) => ({ decision, ...outcomeOf(decision) })),
  };
}
