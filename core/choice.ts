// `bench choose`: the runtime-choice table a team decides from, built from one
// result. Per scenario case the runtimes are ranked by the case's primary
// figure (throughput for closed loops and HTTP, p99 latency at a fixed rate,
// bytes per connection when idle), each with its ratio to the best and a
// seeded bootstrap CI of that ratio, "tie" where it is not significantly
// different from the best, and the cost figures beside the speed. Pure.

import { bootstrapMedianRatio, holmAdjust, isNonEmpty, madPct, mannWhitneyU, median, mulberry32 } from '../stats/index.js';
import { DEFAULT_ALPHA, DEFAULT_CONFIDENCE, minPossibleP, repetitionsNeeded } from './compare.js';
import { METRICS, metricDef, type MetricId } from './compare-metrics.js';
import type { RunResult, SummaryRow } from '../schema/result.js';
import { summarizeCells } from './summarize.js';

/**
 * - best: the first by median;
 * - tie: not significantly different from the best (Mann–Whitney p, Holm over
 *   the case's runtimes, above α, or a ratio CI that contains 1), although
 *   the repetitions would have allowed a significant difference;
 * - behind: significantly worse than the best, and the CI excludes 1;
 * - undecided: the data cannot rank it against the best — see `UndecidedReason`.
 */
export type Standing = 'best' | 'tie' | 'behind' | 'undecided';

/**
 * - `load-generator-bound`: its figure was limited by the load generator (a
 *   lower bound of throughput, a latency that includes the client's delay),
 *   so being behind on it proves nothing;
 * - `too-few-repetitions`: with these repetition counts no Holm-adjusted
 *   Mann–Whitney p-value can reach α (e.g. 3 vs 3: the smallest p is 0.1).
 */
export type UndecidedReason = 'load-generator-bound' | 'too-few-repetitions';

export interface ChoiceRow {
  runtime: string;
  rank: number;
  n: number;
  /** Median of the primary metric over the completed repetitions. */
  median: number;
  madPct: number | null;
  /** A repetition was load-generator-bound and the primary metric is one the client limits. */
  loadgenBound: boolean;
  /** median / best's median (1 for the best). For throughput below 1 is slower; for costs above 1 is more. */
  ratioToBest: number;
  /** Percentile bootstrap CI of that ratio; null for the best, or when the best's values are not all positive. */
  ratioCi: { low: number; high: number } | null;
  /** Mann–Whitney p against the best, raw and Holm-adjusted within the case; null for the best. */
  p: number | null;
  pAdjusted: number | null;
  standing: Standing;
  /** Why the standing is `undecided`. */
  undecidedReason?: UndecidedReason;
  /** Medians of every metric this runtime has (the costs beside the speed). */
  figures: Partial<Record<MetricId, number>>;
}

export interface ChoiceCase {
  case: string;
  scenario: string;
  /** The figure the ranking is by. */
  metric: MetricId;
  better: 'higher' | 'lower';
  rows: ChoiceRow[];
  /** The one runtime significantly best on a measured (not load-generator-bound) figure, or null. */
  winner: string | null;
  /** Why there is or is not a winner, in a sentence. */
  verdict: string;
}

export interface ChoiceTable {
  kind: 'bench-choice';
  version: 1;
  label: string;
  gitRevision: string | null;
  environment: { cpuModel: string; logicalCpus: number; kernel: string };
  runtimes: { id: string; runtimeVersion?: string; libraryVersion?: string }[];
  alpha: number;
  confidence: number;
  seed: number;
  resamples: number;
  cases: ChoiceCase[];
}

export interface ChoiceOptions {
  alpha?: number;
  confidence?: number;
  /** Seed of the bootstrap (mulberry32); the same seed gives the same intervals. Default 1. */
  seed?: number;
  /** Bootstrap resamples per runtime. Default 10 000. */
  resamples?: number;
}

/** The primary metric of a case: from its load model, else the first the case has of msgs/s, p99, bytes/conn. */
export function primaryMetric(result: RunResult, rows: readonly SummaryRow[]): MetricId {
  const scenario = result.settings.scenarios.find((s) => (s as { name?: unknown }).name === rows[0]?.scenario) as
    | { load?: { model?: string } }
    | undefined;
  const model = scenario?.load?.model;
  const has = (id: MetricId) => rows.some((r) => r[id] !== undefined);
  const byModel: Record<string, MetricId> = { closed: 'msgsPerSec', http: 'msgsPerSec', open: 'latencyP99Us', broadcast: 'latencyP99Us', idle: 'bytesPerConnection', capacity: 'capacityPerCore' };
  const preferred = model ? byModel[model] : undefined;
  if (preferred && has(preferred)) return preferred;
  return (['msgsPerSec', 'latencyP99Us', 'bytesPerConnection', 'serverCpuUsPerMsg'] as const).find(has) ?? 'msgsPerSec';
}

function isLoadgenBound(row: SummaryRow): boolean {
  return row.throughputIsLowerBound || row.warnings.some((w) => w.code === 'loadgen-bound');
}

/**
 * The runtime-choice table of one result (see the module comment and
 * `Standing`). A winner is named only when every other runtime is `behind`
 * and the best's own figure was not limited by the load generator: a lower
 * bound never wins on its own.
 */
export function runtimeChoice(result: RunResult, opts: ChoiceOptions = {}): ChoiceTable {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  const seed = opts.seed ?? 1;
  const resamples = opts.resamples ?? 10_000;
  const summary = summarizeCells(result.cells, result.settings.referenceRuntime);
  const caseNames = [...new Set(summary.map((r) => r.case))];
  const cases: ChoiceCase[] = [];
  caseNames.forEach((caseName, ci) => {
    const rows = summary.filter((r) => r.case === caseName && r.completed > 0);
    if (rows.length === 0) return;
    const metric = primaryMetric(result, rows);
    const def = metricDef(metric);
    const sign = def.better === 'higher' ? -1 : 1;
    const ranked = rows
      .filter((r) => isNonEmpty(r[metric]?.values ?? []))
      .map((r, i) => ({ r, i, values: r[metric]!.values as [number, ...number[]], med: r[metric]!.median }))
      .sort((a, b) => sign * (a.med - b.med) || a.i - b.i);
    const best = ranked[0];
    if (!best) return;
    const bound = (r: SummaryRow) => def.clientBound && isLoadgenBound(r);
    const ps = ranked.slice(1).map((x) => mannWhitneyU(best.values, x.values).p);
    const adjusted = holmAdjust(ps);
    const out: ChoiceRow[] = ranked.map((x, k) => {
      const figures: Partial<Record<MetricId, number>> = {};
      for (const m of METRICS) if (x.r[m.id]) figures[m.id] = x.r[m.id]!.median;
      const base = {
        runtime: x.r.runtime,
        rank: k + 1,
        n: x.values.length,
        median: x.med,
        madPct: x.values.length < 2 ? null : madPct(x.values),
        loadgenBound: bound(x.r),
        figures,
      };
      if (k === 0) return { ...base, ratioToBest: 1, ratioCi: null, p: null, pAdjusted: null, standing: 'best' as const };
      let ratioCi: ChoiceRow['ratioCi'] = null;
      if (best.values.every((v) => v > 0)) {
        const rng = mulberry32((seed * 1_000_003 + ci * 1009 + k) >>> 0);
        const b = bootstrapMedianRatio(best.values, x.values, { rng, resamples, confidence });
        ratioCi = { low: b.low, high: b.high };
      }
      const p = ps[k - 1]!;
      const pAdjusted = adjusted[k - 1]!;
      const ciExcludesOne = ratioCi === null || ratioCi.low > 1 || ratioCi.high < 1;
      const possible = minPossibleP(best.values.length, x.values.length) * ps.length <= alpha;
      const undecidedReason: UndecidedReason | undefined = base.loadgenBound ? 'load-generator-bound' : !possible ? 'too-few-repetitions' : undefined;
      const standing: Standing = undecidedReason ? 'undecided' : pAdjusted <= alpha && ciExcludesOne ? 'behind' : 'tie';
      return {
        ...base,
        ratioToBest: best.med !== 0 ? x.med / best.med : Number.NaN,
        ratioCi,
        p,
        pAdjusted,
        standing,
        ...(undecidedReason ? { undecidedReason } : {}),
      };
    });
    cases.push({ case: caseName, scenario: rows[0]!.scenario, metric, better: def.better, rows: out, ...winnerOf(out, def.label, alpha) });
  });
  const used = new Set(result.cells.map((c) => c.runtime));
  return {
    kind: 'bench-choice',
    version: 1,
    label: result.label,
    gitRevision: result.tool?.gitRevision ?? null,
    environment: { cpuModel: result.environment.cpuModel, logicalCpus: result.environment.logicalCpus, kernel: result.environment.kernel },
    runtimes: (result.environment.runtimes ?? [])
      .filter((r) => used.has(r.id))
      .map((r) => ({ id: r.id, ...(r.runtimeVersion ? { runtimeVersion: r.runtimeVersion } : {}), ...(r.libraryVersion ? { libraryVersion: r.libraryVersion } : {}) })),
    alpha,
    confidence,
    seed,
    resamples,
    cases,
  };
}

function winnerOf(rows: ChoiceRow[], label: string, alpha: number): { winner: string | null; verdict: string } {
  const best = rows[0]!;
  if (rows.length === 1) return { winner: null, verdict: `only ${best.runtime} ran this case` };
  const others = rows.slice(1);
  const names = (s: Standing, r?: UndecidedReason) => others.filter((x) => x.standing === s && x.undecidedReason === r).map((x) => x.runtime);
  const bound = names('undecided', 'load-generator-bound');
  const few = names('undecided', 'too-few-repetitions');
  const ties = names('tie');
  if (!best.loadgenBound && bound.length + few.length + ties.length === 0) {
    return { winner: best.runtime, verdict: `${best.runtime} is best on ${label}, significantly ahead of every other runtime` };
  }
  const why: string[] = [];
  if (best.loadgenBound) why.push(`${best.runtime} leads, but its figure was limited by the load generator, and a bound never wins on its own`);
  if (ties.length > 0) why.push(`${ties.join(', ')} ${ties.length === 1 ? 'is' : 'are'} not significantly different from ${best.runtime}`);
  if (bound.length > 0) why.push(`the figure of ${bound.join(', ')} was limited by the load generator, so it may match ${best.runtime}`);
  if (few.length > 0) {
    const need = repetitionsNeeded(others.length, alpha);
    why.push(`${few.join(', ')}: too few repetitions for any difference to be significant (at least ${need} per runtime needed)`);
  }
  return { winner: null, verdict: `no winner on ${label}: ${why.join('; ')}` };
}
