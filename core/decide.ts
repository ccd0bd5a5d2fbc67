// The decision the main job ends in: per workload (scenario case), the
// runtimes ranked on the one figure that is valid on this machine, each pair
// of runtimes called different, equivalent or undecided (and why) by the
// sequential test of stats/sequential.ts, with the costs beside. Pure: the
// orchestrator calls it after every round of a budgeted run to know which
// cases still need repetitions, and the reports and `bench choose` render it.

import { median, sequentialVerdict, type SequentialResult } from '../stats/index.js';
import type { CaseDecision, CellResult, DecisionSettings, PairDecision, PrimaryFigure, RankedRuntime, RunResult, SummaryRow } from '../schema/result.js';
import { metricDef, thresholdFor, EMPTY_THRESHOLDS, type MetricId, type Thresholds } from './compare-metrics.js';
import { caseSuffixOf, modelNamed, modelOf, type AnyModel } from '../loadgen/models/index.js';
import type { ScenarioCase } from './scenario.js';
import { summarizeCells } from './summarize.js';
import { affectedByLoadgen } from './validity.js';

/** Server CPU at or above this share of its CPUs means the server, not the load generator, was the limit. */
export const SERVER_BOUND_CPU_PCT = 95;

/** The fixed-sample settings (one look): `bench choose` and fixed-repetition runs. */
export const FIXED_SAMPLE: DecisionSettings = { alpha: 0.05, look: 1, maxLooks: 1, spending: 'pocock' };

function completed(cells: readonly CellResult[]): CellResult[] {
  return cells.filter((c) => c.status === 'completed' && c.metrics !== undefined);
}

/** CPUs the server was pinned to (1 when unpinned: its CPU % is then of one core). */
function serverCpuCount(c: CellResult): number {
  const list = c.server?.cpus;
  if (!list) return 1;
  return list.split(',').reduce((n, part) => {
    const [a, b] = part.split('-').map(Number);
    return n + (b !== undefined && a !== undefined ? b - a + 1 : 1);
  }, 0);
}

/**
 * The figure a case is ranked on, chosen from the cells by its model's rule so it is valid on the machine at
 * hand (issue: "each workload's primary figure is one that is valid"):
 * - `capacity` (closed loop, HTTP): throughput where the server was the limit in every cell (server CPU ≥ 95% of
 *   its CPUs, the load generator not saturated); otherwise server CPU per message, valid whoever was the limit;
 * - `fixed-rate` (open loop, broadcast, voice): server CPU per message where every cell sustained the offered
 *   rate, or fell short only where the load generator was the limit (core/validity.ts); otherwise the rate each
 *   sustained (a starved server batches more and its CPU per message falls, so an overloaded cell's cost would
 *   rank it ahead);
 * - `memory` (idle in steps): bytes per connection, the slope over the plateaus;
 * - `capacity-slo` (a capacity search): the most load one server core carried within the SLO (higher is better);
 * - `none`: not ranked (a ceiling search reports its own figures).
 */
export function primaryFigureOf(rule: 'capacity' | 'fixed-rate' | 'memory' | 'capacity-slo' | 'none', cells: readonly CellResult[]): PrimaryFigure | undefined {
  const done = completed(cells);
  if (rule === 'none' || done.length === 0) return undefined;
  if (rule === 'memory') return { metric: 'bytesPerConnection', why: 'memory-slope' };
  if (rule === 'capacity-slo') return { metric: 'capacityPerCore', why: 'capacity-slo' };
  if (rule === 'capacity') {
    const serverBound = done.every((c) => !c.metrics!.loadgen.saturation.saturated && c.metrics!.serverCpuUtilPct >= SERVER_BOUND_CPU_PCT * serverCpuCount(c));
    return serverBound ? { metric: 'msgsPerSec', why: 'server-bound' } : { metric: 'serverCpuUsPerMsg', why: 'cpu-cost' };
  }
  // A shortfall the load generator caused (its throughput a lower bound) is not the server's: seen on npm start,
  // where one Node + ws repetition whose generator fell behind "carried" 9,879 of 10,000 msg/s and switched the
  // whole case to ranking by rate, the generator's figure, with the most expensive runtime first.
  const sustained = done.every((c) => c.metrics!.sustained !== false || affectedByLoadgen('msgsPerSec', c));
  return sustained ? { metric: 'serverCpuUsPerMsg', why: 'sustained-cost' } : { metric: 'msgsPerSec', why: 'not-sustained' };
}

/**
 * The scenario cases of a stored result, from its settings (the validated scenarios it ran). A scenario that no
 * longer validates (an older schema) gives no case.
 */
export function casesOfResult(result: RunResult): ScenarioCase[] {
  return result.settings.scenarios.flatMap((raw) => {
    // Stored as validated; only its `load` decides the cases, so a scenario missing other fields still expands.
    const load = (raw as { load?: unknown } | null)?.load;
    const name = (raw as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || load === null || typeof load !== 'object') return [];
    const problems: string[] = [];
    const def = modelNamed(String((load as Record<string, unknown>)['model']) as AnyModel['model']) as ReturnType<typeof modelNamed> | undefined;
    const models = def ? def.validate(load as Record<string, unknown>, 'load', problems) : [];
    if (problems.length > 0) return [];
    return models.map((model) => ({ name: name + caseSuffixOf(model), scenario: raw as ScenarioCase['scenario'], model }));
  });
}

/** The median twin of a tail latency: what gates where the tail is the load generator's. */
const MEDIAN_OF: Record<'latencyP99Us' | 'relayOverheadP99Us', MetricId> = { latencyP99Us: 'latencyP50Us', relayOverheadP99Us: 'relayOverheadP50Us' };

/**
 * The figures that gate a comparison of two runs of a case (`bench compare`): its primary figure over the cells
 * of both sides, and its model's latency: the tail (p99) where the load generator's limits affected it in no
 * cell, else the median where that is still the server's (core/validity.ts: with up to 25% of sends late),
 * else none. A server starved of CPU batches and its CPU per message falls; its latency is what shows it.
 * Every other figure is informative. Declared from the model's rule and validity, never by which figure moved.
 */
export function gatingMetrics(c: ScenarioCase, cells: readonly CellResult[]): MetricId[] {
  const def = modelOf(c.model);
  const primary = primaryFigureOf(def.primary, cells);
  if (!primary) return [];
  const out: MetricId[] = [primary.metric];
  const done = completed(cells);
  const valid = (m: MetricId) => done.every((x) => !affectedByLoadgen(m, x));
  if (def.primaryLatency) {
    if (valid(def.primaryLatency)) out.push(def.primaryLatency);
    else if (valid(MEDIAN_OF[def.primaryLatency])) out.push(MEDIAN_OF[def.primaryLatency]);
  }
  return out;
}

/** The costs shown beside the primary figure. */
const COSTS: readonly MetricId[] = ['serverCpuUsPerMsg', 'bytesPerConnection', 'rssPeakBytes', 'rssEndBytes'];

export interface DecideOptions {
  settings?: DecisionSettings;
  thresholds?: Thresholds;
}

/**
 * The decision for one case: its runtimes ranked by the median of the primary figure (best first, by the
 * metric's direction), the ratio of each to the best with its interval, and every pair's verdict at this look.
 * A case is settled when every pair is different or equivalent. `comparisons` (the Bonferroni family) is the
 * number of pairs of the case: the primary figure is its only gating figure.
 */
export function decideCase(caseName: string, scenario: string, rows: readonly SummaryRow[], primary: PrimaryFigure, opts: DecideOptions = {}): CaseDecision {
  const settings = opts.settings ?? FIXED_SAMPLE;
  const def = metricDef(primary.metric);
  const minEffectPct = thresholdFor(opts.thresholds ?? EMPTY_THRESHOLDS, primary.metric, scenario, caseName);
  const sign = def.better === 'higher' ? -1 : 1;
  const withValues = rows
    .map((r, i) => ({ r, i, values: (r[primary.metric]?.values ?? []).filter((v) => v > 0) }))
    .filter((x) => x.values.length > 0);
  const ranked = withValues.sort((a, b) => sign * (median(a.values as [number, ...number[]]) - median(b.values as [number, ...number[]])) || a.i - b.i);
  const comparisons = Math.max(1, (ranked.length * (ranked.length - 1)) / 2);
  const verdictOf = (a: number[], b: number[]): SequentialResult =>
    sequentialVerdict({ a, b, look: settings.look, maxLooks: settings.maxLooks, alpha: settings.alpha, spending: settings.spending, comparisons, minEffectPct });
  const pairs: PairDecision[] = [];
  let level: number | undefined;
  for (let i = 0; i < ranked.length; i++) {
    for (let j = i + 1; j < ranked.length; j++) {
      const a = ranked[i]!;
      const b = ranked[j]!;
      const v = verdictOf(a.values, b.values);
      level = v.level;
      // b / a: above 1 is b's figure higher; "worse" depends on the metric's direction.
      const ratio = v.ratio ?? 1;
      const bWorse = def.better === 'higher' ? ratio < 1 : ratio > 1;
      pairs.push({
        a: a.r.runtime,
        b: b.r.runtime,
        verdict: v.verdict,
        ...(v.verdict === 'different' ? { better: bWorse ? a.r.runtime : b.r.runtime } : {}),
        ratio,
        low: v.low,
        high: v.high,
        ...(v.reason ? { reason: v.reason } : {}),
      });
    }
  }
  const best = ranked[0];
  const ranking: RankedRuntime[] = ranked.map((x, k) => {
    const costs: Partial<Record<MetricId, number>> = {};
    for (const m of COSTS) if (x.r[m]) costs[m] = x.r[m]!.median;
    const med = median(x.values as [number, ...number[]]);
    if (k === 0 || !best) return { runtime: x.r.runtime, n: x.values.length, median: med, values: x.values, ratioToBest: 1, low: null, high: null, standing: 'best', costs };
    const p = pairs.find((q) => q.a === best.r.runtime && q.b === x.r.runtime)!;
    // The interval the verdict was taken on (this look's, corrected for the looks and the pairs), so the figure
    // beside a verdict can never contradict it: a 95% interval clear of the band beside "undecided" did.
    return {
      runtime: x.r.runtime,
      n: x.values.length,
      median: med,
      values: x.values,
      ratioToBest: best ? med / median(best.values as [number, ...number[]]) : 1,
      low: p.low,
      high: p.high,
      standing: p.verdict === 'different' ? 'behind' : p.verdict,
      ...(p.reason ? { reason: p.reason } : {}),
      costs,
    };
  });
  return {
    case: caseName,
    scenario,
    primary,
    better: def.better,
    minEffectPct,
    ...(level !== undefined ? { intervalLevel: level } : {}),
    ranking,
    pairs,
    settled: pairs.every((p) => p.verdict !== 'undecided'),
  };
}

/**
 * The decisions of a result: one per case whose model ranks runtimes, in the order of the cases. `settings`
 * says which look this is (a budgeted run's last look; one look for fixed repetitions).
 */
export function decideAll(result: RunResult, cases: readonly ScenarioCase[], opts: DecideOptions = {}): CaseDecision[] {
  const summary = result.summary.length > 0 ? result.summary : summarizeCells(result.cells, result.settings.referenceRuntime);
  const out: CaseDecision[] = [];
  for (const c of cases) {
    const rows = summary.filter((r) => r.case === c.name);
    const primary = primaryFigureOf(modelOf(c.model).primary, result.cells.filter((x) => x.case === c.name));
    if (!primary || rows.length === 0) continue;
    out.push(decideCase(c.name, c.scenario.name, rows, primary, opts));
  }
  return out;
}
