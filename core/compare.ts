// `bench compare`: BASE against HEAD, the way benchstat and criterion decide.
// Every scenario case × runtime × metric becomes a row with both medians and
// spreads, the change, a Hodges–Lehmann 95% CI for the shift (in % of the base
// median), a Mann–Whitney p-value, a Holm-adjusted p-value and a verdict.
// Each case declares its primary figures up front (core/decide.ts
// gatingMetrics): Holm runs over those few rows, which alone gate; the other
// rows are reported with intervals and Holm apart, as information. Results
// that were not measured the same way are refused, naming each difference.
// Pure: no I/O, inputs are never mutated.

import { hodgesLehmann, holmAdjust, isNonEmpty, madPct, mannWhitneyU, median } from '../stats/index.js';
import {
  EMPTY_THRESHOLDS,
  METRICS,
  metricDef,
  metricValues,
  thresholdFor,
  type MetricDef,
  type MetricId,
  type Thresholds,
} from './compare-metrics.js';
import { BenchError } from '../base/errors.js';
import type { CellResult, RunResult, SummaryRow } from '../schema/result.js';
import { summarizeCells } from './summarize.js';
import { casesOfResult, gatingMetrics } from './decide.js';
import { affectedByLoadgen } from './validity.js';

/** Significance level of the Holm-adjusted p-values. */
export const DEFAULT_ALPHA = 0.05;
/** Requested confidence of the Hodges–Lehmann interval. */
export const DEFAULT_CONFIDENCE = 0.95;
// Percentages are ratios of floats: a bound computed as −5.000000000001% is at a 5% threshold.
const PCT_EPSILON = 1e-9;

export type Verdict = 'regression' | 'improvement' | 'unchanged' | 'suspect';

/**
 * Why a row is `suspect` — the data cannot support a verdict either way:
 * - `lower-bound`: a repetition on either side was load-generator-bound; for
 *   msgs/s and latency the figure then describes the client, not the server.
 * - `too-few-repetitions`: with these repetition counts and this many compared
 *   rows no Holm-adjusted p-value can reach α at all (with n = 1..3 per side
 *   Mann–Whitney cannot even reach p < 0.05 alone), so "unchanged" would be
 *   a claim the data cannot make.
 * - `ci-straddles-threshold`: significant after Holm, but the CI reaches the
 *   minimum effect without lying wholly beyond it: the change is real, its
 *   size is not settled.
 * - `not-significant-after-holm`: significant alone (raw p ≤ α) with the whole
 *   CI beyond the threshold, but not after Holm's correction across the rows:
 *   likely real, not proven; rerun with more repetitions.
 * - `no-relative-scale`: the base median is ≤ 0, so no change in % exists.
 */
export type SuspectReason = 'lower-bound' | 'too-few-repetitions' | 'ci-straddles-threshold' | 'not-significant-after-holm' | 'no-relative-scale';

/** One side's figures of a row. */
export interface SideStats {
  n: number;
  median: number;
  /** Raw MAD / |median|, %; null when n < 2 or the median is 0. */
  madPct: number | null;
  /** True when a repetition of this case × runtime was load-generator-bound. */
  lowerBound: boolean;
  /** Per repetition, in repetition order. */
  values: number[];
}

export interface ComparisonRow {
  case: string;
  scenario: string;
  /** HEAD's runtime label. */
  runtime: string;
  /** BASE's label when it differs: the row compares two versions of one runtime (`bun@1.3.14` → `bun@1.4.5`). */
  baseRuntime?: string;
  metric: MetricId;
  better: 'higher' | 'lower';
  base: SideStats;
  head: SideStats;
  /** (head median − base median) / base median × 100; null when the base median is ≤ 0. */
  deltaPct: number | null;
  /**
   * Hodges–Lehmann shift head − base with its distribution-free CI, in % of the
   * base median; `confidence` is the achieved level (below the requested one
   * when n is too small for it, e.g. at most 0.9 with 3 vs 3). Null when the
   * base median is ≤ 0.
   */
  shift: { pct: number; lowPct: number; highPct: number; confidence: number } | null;
  /** Two-sided Mann–Whitney U p-value (exact without ties and n < 50, else normal). */
  p: number;
  pMethod: 'exact' | 'normal';
  /** Holm-adjusted over the row's family: the primary rows together, the secondary rows together. */
  pAdjusted: number;
  /**
   * A primary row gates the comparison (its case's primary figure, and its latency where the generator kept its
   * schedule: core/decide.ts gatingMetrics); a secondary row is reported with its interval and verdict but never
   * counts as a regression.
   */
  primary: boolean;
  /** The smallest p Mann–Whitney can give for these sample sizes: 2 / C(n₁ + n₂, n₁). */
  minPossibleP: number;
  /** Minimum effect for this row, % of the base median. */
  thresholdPct: number;
  verdict: Verdict;
  /** Why the verdict is `suspect` (empty otherwise). */
  reasons: SuspectReason[];
  /** Set when a calibration was given and `thresholdPct` is below twice its noise floor. */
  noiseFloorPct?: number;
}

/** What the header says about one side. */
export interface SideInfo {
  label: string;
  gitRevision: string | null;
  gitDirty: boolean | null;
  toolVersion: string;
  status: RunResult['status'];
  startedAt: string;
  /** How many result files were merged into this side. */
  runs: number;
  /** Completed cells, and cells that errored. */
  completedCells: number;
  erroredCells: number;
}

/** A per-metric A/A noise floor (from `bench calibrate`), % of the median. */
export interface NoiseFloor {
  /** Where it came from (a path, for the header). */
  source: string;
  /** Largest over the calibrated cases. */
  floorPct: Partial<Record<MetricId, number>>;
  /** Per scenario case, when calibrated on the same cases. */
  perCase: Record<string, Partial<Record<MetricId, number>>>;
}

export interface ComparisonCounts {
  regression: number;
  improvement: number;
  suspect: number;
  unchanged: number;
}

export interface Comparison {
  kind: 'bench-comparison';
  version: 1;
  base: SideInfo;
  head: SideInfo;
  alpha: number;
  confidence: number;
  thresholds: Thresholds;
  /** True when differences were overridden with --force. */
  forced: boolean;
  /** Differences in schema, scenario definitions, environment or settings (empty unless forced). */
  differences: string[];
  /** Runtimes compared across versions (an upgrade comparison); absent when every runtime ran the same versions on both sides. */
  upgrades?: RuntimeUpgrade[];
  noise?: NoiseFloor;
  rows: ComparisonRow[];
  /** Verdicts of the primary rows: what `--fail-on-regression` reads. */
  counts: ComparisonCounts;
  /** Verdicts of the secondary (informative) rows. */
  secondaryCounts: ComparisonCounts;
  /** What could not be compared and why the data cannot decide, in plain words. */
  notes: string[];
  /** Thresholds below twice the measured noise floor, one line per metric. */
  warnings: string[];
}

export interface CompareOptions {
  alpha?: number;
  confidence?: number;
  thresholds?: Thresholds;
  /** Compare despite differences, recording them for the header. */
  force?: boolean;
  noise?: NoiseFloor;
  /** Names for messages, e.g. file paths. Default `base` and `head`. */
  names?: { base: string; head: string };
}

/** JSON with object keys sorted, so that key order never counts as a difference. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const show = (v: unknown) => (v === undefined ? 'absent' : JSON.stringify(v));

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One side of a RuntimeUpgrade: the label and the versions its environment block recorded. */
export interface UpgradeSide {
  label: string;
  runtimeVersion: string | null;
  libraryVersion: string | null;
}

/**
 * One runtime compared across versions (issue 17): the same registry id on both sides with a different runtime
 * or library version, e.g. `bun@1.3.14` against `bun@1.4.5`, or plain `node-ws` on Node 22 against plain
 * `node-ws` on Node 24 after the pinned default moved.
 */
export interface RuntimeUpgrade {
  /** The registry id (core/runtimes.ts registryIdOf). */
  runtime: string;
  base: UpgradeSide;
  head: UpgradeSide;
}

/** Which BASE label a HEAD label is compared with; `upgrade` when their recorded versions differ. */
export interface RuntimePair {
  base: string;
  head: string;
  upgrade: boolean;
}

// The registry id and the A/A copy suffix of a label `<id>[@<version>][#<copy>]` (kept here: core/compare.ts is pure over results).
const idOf = (label: string) => label.split(/[@#]/, 1)[0]!;
const copyOf = (label: string) => (label.includes('#') ? label.slice(label.indexOf('#')) : '');

function labelsOf(r: RunResult): string[] {
  const out = [...(r.settings?.runtimes ?? [])];
  for (const c of r.cells ?? []) if (!out.includes(c.runtime)) out.push(c.runtime);
  return out;
}

function sideOf(r: RunResult, label: string): UpgradeSide {
  const rs = r.environment?.runtimes ?? [];
  // Results before issue 17 hold probed entries per registry id only: an A/A copy ran its registry id's versions.
  const e = rs.find((x) => x.id === label) ?? rs.find((x) => x.id === idOf(label));
  return { label, runtimeVersion: e?.runtimeVersion ?? null, libraryVersion: e?.libraryVersion ?? null };
}

/**
 * How the runtime labels of two results pair up, and which pairs are upgrades. A label on both sides pairs
 * with itself; the labels left over pair by registry id and A/A copy suffix when exactly one is left on each
 * side (`bun@1.3.14` with `bun@1.4.5`, `bun@1.3.14#2` with `bun@1.4.5#2`); the rest pair with nothing. A pair
 * is an upgrade when the versions the two environment blocks recorded for its labels differ.
 */
export function pairRuntimes(base: RunResult, head: RunResult): { pairs: RuntimePair[]; upgrades: RuntimeUpgrade[] } {
  const a = labelsOf(base);
  const b = labelsOf(head);
  const matches: [string, string][] = b.filter((l) => a.includes(l)).map((l) => [l, l]);
  const key = (l: string) => `${idOf(l)}${copyOf(l)}`;
  const leftA = a.filter((l) => !b.includes(l));
  const leftB = b.filter((l) => !a.includes(l));
  for (const h of leftB) {
    const candidates = leftA.filter((l) => key(l) === key(h));
    if (candidates.length === 1 && leftB.filter((l) => key(l) === key(h)).length === 1) matches.push([candidates[0]!, h]);
  }
  const pairs: RuntimePair[] = [];
  const upgrades: RuntimeUpgrade[] = [];
  for (const [x, y] of matches) {
    const sa = sideOf(base, x);
    const sb = sideOf(head, y);
    const upgrade = sa.runtimeVersion !== sb.runtimeVersion || sa.libraryVersion !== sb.libraryVersion;
    pairs.push({ base: x, head: y, upgrade });
    if (upgrade) upgrades.push({ runtime: idOf(y), base: sa, head: sb });
  }
  return { pairs, upgrades };
}

/**
 * Every difference that makes two results incomparable, each naming the
 * field and both values: schema version; environment facts that change
 * performance (CPU model, logical CPUs, allowed CPUs, kernel, platform, arch,
 * CPU governor, open-file limit, the Node that runs bench and its load
 * generator, and the runtime and library versions of the runtimes both ran);
 * settings (client, quick preset, server and load-generator CPUs); the
 * definitions of scenarios both ran; and the effective server settings
 * (parity manifests) of the runtimes both ran.
 * With `upgrades` (bench compare), runtime versions are not a difference: runtimes pair as `pairRuntimes`
 * says, and a pair whose versions differ is an upgrade the comparison reports; parity is compared across
 * each pair. Without it (the parts merged into one side), a version difference is refused.
 * Host name, tool version and git revision are not compared: they are what
 * a comparison of two builds is about, or say nothing about performance.
 */
export function findDifferences(a: RunResult, b: RunResult, names = { base: 'base', head: 'head' }, opts: { upgrades?: boolean } = {}): string[] {
  const out: string[] = [];
  // Objects are compared key by key, so a difference names its leaf (settings.scenarios.echo.connections) and
  // quotes two values, not two whole scenario definitions.
  const diff = (field: string, x: unknown, y: unknown): void => {
    if (isPlainObject(x) && isPlainObject(y)) {
      for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) diff(`${field}.${k}`, x[k], y[k]);
      return;
    }
    if (stableJson(x) !== stableJson(y)) out.push(`${field}: ${names.base} ${show(x)}, ${names.head} ${show(y)}`);
  };
  diff('schemaVersion', a.schemaVersion, b.schemaVersion);
  const ea = a.environment ?? ({} as RunResult['environment']);
  const eb = b.environment ?? ({} as RunResult['environment']);
  for (const k of ['cpuModel', 'logicalCpus', 'allowedCpus', 'kernel', 'platform', 'arch', 'cpuGovernor', 'openFileLimit', 'nodeVersion'] as const) {
    diff(`environment.${k}`, ea[k], eb[k]);
  }
  const common = (a.settings?.runtimes ?? []).filter((r) => (b.settings?.runtimes ?? []).includes(r));
  const pairs: RuntimePair[] = opts.upgrades ? pairRuntimes(a, b).pairs : common.map((id) => ({ base: id, head: id, upgrade: false }));
  if (!opts.upgrades) {
    for (const id of common) {
      const ra = ea.runtimes?.find((r) => r.id === id);
      const rb = eb.runtimes?.find((r) => r.id === id);
      diff(`environment.runtimes.${id}.runtimeVersion`, ra?.runtimeVersion, rb?.runtimeVersion);
      diff(`environment.runtimes.${id}.libraryVersion`, ra?.libraryVersion, rb?.libraryVersion);
    }
  }
  const sa = a.settings ?? ({} as RunResult['settings']);
  const sb = b.settings ?? ({} as RunResult['settings']);
  for (const k of ['client', 'quick', 'serverCpus', 'loadgenCpus'] as const) diff(`settings.${k}`, sa[k], sb[k]);
  const byName = (list: unknown[] | undefined) =>
    new Map((list ?? []).map((s) => [String((s as { name?: unknown }).name), s] as const));
  const scA = byName(sa.scenarios);
  const scB = byName(sb.scenarios);
  for (const [name, def] of scA) if (scB.has(name)) diff(`settings.scenarios.${name}`, def, scB.get(name));
  for (const p of pairs) {
    const ma = a.parity?.manifests?.[p.base];
    const mb = b.parity?.manifests?.[p.head];
    if (ma && mb) diff(`parity.manifests.${p.base === p.head ? p.head : `${p.base} → ${p.head}`}`, ma, mb);
  }
  return out;
}

/**
 * Several results of one side (for example single-repetition runs alternated
 * with the other side in CI) as one: cells concatenated in the order given,
 * repetitions renumbered 1…n per case × runtime in that order, summary
 * recomputed. Metadata comes from the first part; the status is the worst
 * (failed, interrupted, running, completed); scenarios are the union by name.
 * @throws BenchError E_INCOMPARABLE when a part differs from the first (see `findDifferences`)
 * @throws BenchError E_USAGE for an empty list
 */
export function mergeResults(parts: readonly { name: string; result: RunResult }[]): RunResult {
  const first = parts[0];
  if (!first) throw new BenchError('E_USAGE', 'no result to merge');
  if (parts.length === 1) return first.result;
  const differences = parts
    .slice(1)
    .flatMap((p) => findDifferences(first.result, p.result, { base: first.name, head: p.name }));
  if (differences.length > 0) {
    throw new BenchError('E_INCOMPARABLE', `the results merged into one side were not measured the same way`, {
      details: differences,
      hint: 'a side must hold runs of one build on one machine with one configuration',
    });
  }
  const next = new Map<string, number>();
  const cells: CellResult[] = [];
  for (const p of parts) {
    const sorted = [...p.result.cells].sort((x, y) => x.repetition - y.repetition || x.order - y.order);
    for (const c of sorted) {
      const key = `${c.case}\u0000${c.runtime}`;
      const rep = (next.get(key) ?? 0) + 1;
      next.set(key, rep);
      cells.push({ ...c, repetition: rep, id: `${c.case}/${c.runtime}/${rep}`, order: cells.length });
    }
  }
  const rank = { failed: 3, interrupted: 2, running: 1, completed: 0 } as const;
  const status = parts.map((p) => p.result.status).reduce((w, s) => (rank[s] > rank[w] ? s : w), 'completed' as RunResult['status']);
  const scenarios = new Map<string, unknown>();
  const runtimes: string[] = [];
  for (const p of parts) {
    for (const s of p.result.settings.scenarios) {
      const name = String((s as { name?: unknown }).name);
      if (!scenarios.has(name)) scenarios.set(name, s);
    }
    for (const r of p.result.settings.runtimes) if (!runtimes.includes(r)) runtimes.push(r);
  }
  const reference = first.result.settings.referenceRuntime;
  // The parts' own decisions, budget and sequential settings describe one part each: a pool is decided again
  // from its parts (core/choice.ts runtimeChoice).
  const { decisions: _d, budget: _b, ...meta } = first.result;
  const { decision: _s, ...settings } = first.result.settings;
  // Each part lists the runtimes it ran (with their versions, equal where both ran: findDifferences): the union.
  const byId = new Map<string, RunResult['environment']['runtimes'][number]>();
  for (const p of parts) for (const r of p.result.environment.runtimes) if (!byId.has(r.id)) byId.set(r.id, r);
  const runtimeEntries = [...byId.values()];
  return {
    ...meta,
    environment: { ...meta.environment, runtimes: runtimeEntries },
    status,
    ...(parts[parts.length - 1]!.result.finishedAt ? { finishedAt: parts[parts.length - 1]!.result.finishedAt! } : {}),
    settings: { ...settings, runtimes, scenarios: [...scenarios.values()], repeat: Math.max(0, ...next.values()) },
    cells,
    summary: summarizeCells(cells, reference),
  };
}

/** log C(n, k), for the smallest possible p without overflow. */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/**
 * The smallest two-sided p-value the exact Mann–Whitney test can return for
 * sample sizes n1 and n2 (both samples wholly separated): 2 / C(n1 + n2, n1),
 * at most 1. E.g. 3 vs 3 → 0.1, 4 vs 4 → 0.0286, 10 vs 10 → 1.08e-5.
 */
export function minPossibleP(n1: number, n2: number): number {
  return Math.min(1, 2 * Math.exp(-logChoose(n1 + n2, Math.min(n1, n2))));
}

/**
 * The fewest repetitions per side (equal on both) with which a Holm-adjusted
 * p-value over `rows` compared rows can reach `alpha`: the smallest n with
 * rows × 2 / C(2n, n) ≤ alpha.
 */
export function repetitionsNeeded(rows: number, alpha: number): number {
  let n = 1;
  while (Math.max(1, rows) * minPossibleP(n, n) > alpha && n < 1000) n++;
  return n;
}

export interface VerdictInput {
  better: 'higher' | 'lower';
  thresholdPct: number;
  /** HL CI of head − base in % of the base median; null when the base median is ≤ 0. */
  ciPct: { lowPct: number; highPct: number } | null;
  p: number;
  pAdjusted: number;
  alpha: number;
  /** False when no p-value of this row could pass Holm at alpha (too few repetitions). */
  canBeSignificant: boolean;
  /** A load-generator-bound repetition on either side, for a metric the client limits. */
  lowerBound: boolean;
}

/**
 * The verdict of one row (see `SuspectReason` for `suspect`). With the CI
 * oriented so that positive is better (msgs/s as is; latency, CPU and memory
 * negated), t the threshold and "significant" meaning pAdjusted ≤ α:
 * - regression: significant and the whole CI at or beyond −t (a bound exactly
 *   at the threshold counts as reaching it);
 * - improvement: significant and the whole CI at or beyond +t;
 * - suspect: any `SuspectReason`;
 * - unchanged: not significant, or significant with the whole CI strictly
 *   within (−t, +t) — a real change smaller than the minimum effect.
 */
export function decideVerdict(v: VerdictInput): { verdict: Verdict; reasons: SuspectReason[] } {
  const reasons: SuspectReason[] = [];
  if (v.lowerBound) reasons.push('lower-bound');
  if (!v.canBeSignificant) reasons.push('too-few-repetitions');
  if (v.ciPct === null) reasons.push('no-relative-scale');
  if (reasons.length > 0 || v.ciPct === null) return { verdict: 'suspect', reasons };
  const t = v.thresholdPct;
  const low = v.better === 'higher' ? v.ciPct.lowPct : -v.ciPct.highPct;
  const high = v.better === 'higher' ? v.ciPct.highPct : -v.ciPct.lowPct;
  const atOrBelow = (x: number, limit: number) => x <= limit + PCT_EPSILON;
  const atOrAbove = (x: number, limit: number) => x >= limit - PCT_EPSILON;
  const wholeWorse = atOrBelow(high, -t);
  const wholeBetter = atOrAbove(low, t);
  if (v.pAdjusted <= v.alpha) {
    if (wholeWorse) return { verdict: 'regression', reasons };
    if (wholeBetter) return { verdict: 'improvement', reasons };
    if (atOrBelow(low, -t) || atOrAbove(high, t)) return { verdict: 'suspect', reasons: ['ci-straddles-threshold'] };
    return { verdict: 'unchanged', reasons };
  }
  if (v.p <= v.alpha && (wholeWorse || wholeBetter)) return { verdict: 'suspect', reasons: ['not-significant-after-holm'] };
  return { verdict: 'unchanged', reasons };
}

function sideStats(values: number[], lowerBound: boolean): SideStats {
  const ne = values as [number, ...number[]];
  return { n: values.length, median: median(ne), madPct: values.length < 2 ? null : madPct(ne), lowerBound, values: [...values] };
}

function sideInfo(r: RunResult, runs: number): SideInfo {
  return {
    label: r.label,
    gitRevision: r.tool?.gitRevision ?? null,
    gitDirty: r.tool?.gitDirty ?? null,
    toolVersion: r.tool?.version ?? 'unknown',
    status: r.status,
    startedAt: r.startedAt,
    runs,
    completedCells: r.cells.filter((c) => c.status === 'completed').length,
    erroredCells: r.cells.filter((c) => c.status === 'errored').length,
  };
}

interface Pending {
  row: Omit<ComparisonRow, 'pAdjusted' | 'verdict' | 'reasons' | 'primary'>;
  def: MetricDef;
  lowerBound: boolean;
}

/**
 * Compares HEAD against BASE (see the module comment and `decideVerdict`).
 * Rows: every case × runtime that both sides completed at least once, × every
 * metric both sides have, in HEAD's case and runtime order and `METRICS`
 * order. Summaries are recomputed from the cells. Holm's correction runs over
 * all rows. `runs` (default 1 each) says how many files were merged per side.
 * @throws BenchError E_INCOMPARABLE naming every difference, unless `force`
 */
export function compareResults(base: RunResult, head: RunResult, opts: CompareOptions = {}, runs = { base: 1, head: 1 }): Comparison {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  const thresholds = opts.thresholds ?? EMPTY_THRESHOLDS;
  const names = opts.names ?? { base: 'base', head: 'head' };
  const differences = findDifferences(base, head, names, { upgrades: true });
  const { pairs, upgrades } = pairRuntimes(base, head);
  if (differences.length > 0 && !opts.force) {
    throw new BenchError('E_INCOMPARABLE', `${names.base} and ${names.head} were not measured the same way`, {
      details: differences,
      hint: 'run both on the same machine with the same settings and scenarios, or pass --force to compare anyway (the differences are then printed in the header)',
    });
  }
  const baseRows = summarizeCells(base.cells, base.settings.referenceRuntime);
  const headRows = summarizeCells(head.cells, head.settings.referenceRuntime);
  const notes: string[] = [];
  const pending: Pending[] = [];
  // Declared per case before any figure is compared: the primary figures gate, the rest inform.
  const cases = new Map([...casesOfResult(base), ...casesOfResult(head)].map((c) => [c.name, c] as const));
  const gating = (caseName: string, baseRuntime: string, runtime: string): Set<MetricId> | 'all' => {
    const c = cases.get(caseName);
    if (!c) return 'all';
    const cells = [...base.cells.filter((x) => x.runtime === baseRuntime), ...head.cells.filter((x) => x.runtime === runtime)].filter((x) => x.case === caseName);
    return new Set(gatingMetrics(c, cells));
  };
  // Rows pair by label, and across versions of one runtime by registry id (pairRuntimes).
  const baseLabelOf = (headLabel: string) => pairs.find((p) => p.head === headLabel)?.base;
  for (const hr of headRows) {
    const baseLabel = baseLabelOf(hr.runtime);
    const br = baseRows.find((r) => r.case === hr.case && r.runtime === baseLabel);
    if (!br) {
      notes.push(`${hr.case} · ${hr.runtime}: only in ${names.head}, not compared`);
      continue;
    }
    if (br.completed === 0 || hr.completed === 0) {
      notes.push(`${hr.case} · ${hr.runtime}: no completed repetition in ${br.completed === 0 ? names.base : names.head}, not compared`);
      continue;
    }
    for (const def of METRICS) {
      const x = metricValues(br, def.id);
      const y = metricValues(hr, def.id);
      if (!x || !y || !isNonEmpty(x) || !isNonEmpty(y)) continue;
      // Marked where the load generator's limits affected this figure (core/validity.ts), not the whole cell.
      const affected = (r: RunResult) => r.cells.some((c) => c.case === hr.case && c.runtime === hr.runtime && c.status === 'completed' && affectedByLoadgen(def.id, c));
      const b = sideStats(x, def.clientBound && affected(base));
      const h = sideStats(y, def.clientBound && affected(head));
      const mw = mannWhitneyU(x, y);
      const hl = hodgesLehmann(x, y, { confidence });
      const scale = b.median > 0 ? 100 / b.median : null;
      pending.push({
        def,
        lowerBound: b.lowerBound || h.lowerBound,
        row: {
          case: hr.case,
          scenario: hr.scenario,
          runtime: hr.runtime,
          ...(br.runtime !== hr.runtime ? { baseRuntime: br.runtime } : {}),
          metric: def.id,
          better: def.better,
          base: b,
          head: h,
          deltaPct: scale === null ? null : (h.median - b.median) * scale,
          shift: scale === null ? null : { pct: hl.shift * scale, lowPct: hl.low * scale, highPct: hl.high * scale, confidence: hl.confidence },
          p: mw.p,
          pMethod: mw.method,
          minPossibleP: minPossibleP(x.length, y.length),
          thresholdPct: thresholdFor(thresholds, def.id, hr.scenario, hr.case),
        },
      });
    }
  }
  for (const br of baseRows) {
    const headLabel = pairs.find((p) => p.base === br.runtime)?.head;
    if (!headRows.some((r) => r.case === br.case && r.runtime === headLabel)) notes.push(`${br.case} · ${br.runtime}: only in ${names.base}, not compared`);
  }

  const gates = pending.map((p) => {
    const g = gating(p.row.case, p.row.baseRuntime ?? p.row.runtime, p.row.runtime);
    return g === 'all' || g.has(p.row.metric);
  });
  // Holm within each family: the few primary rows keep their power however many secondary rows there are.
  const rows: ComparisonRow[] = new Array(pending.length);
  const familyNotes: string[] = [];
  for (const primary of [true, false]) {
    const idx = pending.map((_, i) => i).filter((i) => gates[i] === primary);
    const m = idx.length;
    if (m === 0) continue;
    const adjusted = holmAdjust(idx.map((i) => pending[i]!.row.p));
    const smallestMinP = Math.min(1, ...idx.map((i) => pending[i]!.row.minPossibleP));
    idx.forEach((i, k) => {
      const p = pending[i]!;
      const canBeSignificant = p.row.minPossibleP <= alpha && m * smallestMinP <= alpha;
      const { verdict, reasons } = decideVerdict({
        better: p.def.better,
        thresholdPct: p.row.thresholdPct,
        ciPct: p.row.shift,
        p: p.row.p,
        pAdjusted: adjusted[k]!,
        alpha,
        canBeSignificant,
        lowerBound: p.lowerBound,
      });
      rows[i] = { ...p.row, pAdjusted: adjusted[k]!, primary, verdict, reasons };
    });
    if (idx.some((i) => rows[i]!.reasons.includes('too-few-repetitions'))) {
      const ns = [...new Set(idx.map((i) => `${rows[i]!.base.n} vs ${rows[i]!.head.n}`))];
      familyNotes.push(
        `with ${ns.join(', ')} repetitions and ${m} ${primary ? 'primary' : 'secondary'} rows, no difference can be significant: the smallest p Mann–Whitney can give is ` +
          `${fmtP(smallestMinP)}, and Holm's correction needs ${fmtP(alpha / m)} for the first row` +
          ` (with 1–3 repetitions per side not even p < 0.05 is possible). Run at least ${repetitionsNeeded(m, alpha)} repetitions per side (10+ for power).`,
      );
    }
  }
  notes.unshift(...familyNotes);
  // The trap a fixed rate sets: a server short of CPU batches, its CPU per message falls while its latency rises.
  for (const r of rows) {
    if (!r.primary || r.metric !== 'serverCpuUsPerMsg' || r.verdict !== 'improvement') continue;
    const slower = rows.find((x) => x.primary && x.case === r.case && x.runtime === r.runtime && x.verdict === 'regression' && x.metric !== r.metric);
    if (slower) {
      notes.push(
        `${r.case} · ${r.runtime}: CPU per message fell while ${metricDef(slower.metric).label} rose: a server short of CPU batches its work, so the latency is the regression and the lower cost is its symptom`,
      );
    }
  }
  const known = new Set(rows.flatMap((r) => [r.scenario, r.case]));
  for (const scope of Object.keys(thresholds.scenarios)) {
    if (!known.has(scope)) notes.push(`thresholds for "${scope}": no compared scenario or case has that name (${[...new Set(rows.map((r) => r.scenario))].join(', ') || 'none'})`);
  }
  const warnings = opts.noise ? noiseWarnings(rows, opts.noise) : [];
  if (base.status !== 'completed') notes.push(`${names.base}: run ${base.status}; compared what completed`);
  if (head.status !== 'completed') notes.push(`${names.head}: run ${head.status}; compared what completed`);
  const counts: ComparisonCounts = { regression: 0, improvement: 0, suspect: 0, unchanged: 0 };
  const secondaryCounts: ComparisonCounts = { regression: 0, improvement: 0, suspect: 0, unchanged: 0 };
  for (const r of rows) (r.primary ? counts : secondaryCounts)[r.verdict]++;
  return {
    kind: 'bench-comparison',
    version: 1,
    base: sideInfo(base, runs.base),
    head: sideInfo(head, runs.head),
    alpha,
    confidence,
    thresholds,
    forced: differences.length > 0,
    differences,
    ...(upgrades.length > 0 ? { upgrades } : {}),
    ...(opts.noise ? { noise: opts.noise } : {}),
    rows,
    counts,
    secondaryCounts,
    notes,
    warnings,
  };
}

/** A row's runtime as tables show it: `bun`, or across versions `bun@1.3.14 → bun@1.4.5`. */
export function rowRuntimeLabel(r: Pick<ComparisonRow, 'runtime' | 'baseRuntime'>): string {
  return r.baseRuntime === undefined ? r.runtime : `${r.baseRuntime} → ${r.runtime}`;
}

/**
 * The header line of an upgrade comparison, one per runtime: `bun: 1.3.14 → 1.4.5 (bun@1.3.14 → bun@1.4.5)`,
 * with the library when its version changed apart from the runtime's (`node-ws: 22.23.5 → 24.22.3, library 8.23.0`).
 */
export function upgradeLine(u: RuntimeUpgrade): string {
  const v = (x: string | null) => x ?? 'unknown';
  const runtime = u.base.runtimeVersion === u.head.runtimeVersion ? `${v(u.head.runtimeVersion)} (unchanged)` : `${v(u.base.runtimeVersion)} → ${v(u.head.runtimeVersion)}`;
  const libSame = u.base.libraryVersion === u.head.libraryVersion;
  const libIsRuntime = u.base.libraryVersion === u.base.runtimeVersion && u.head.libraryVersion === u.head.runtimeVersion;
  const library = libIsRuntime ? '' : libSame ? `, library ${v(u.head.libraryVersion)}` : `, library ${v(u.base.libraryVersion)} → ${v(u.head.libraryVersion)}`;
  const labels = u.base.label === u.head.label ? '' : ` (${u.base.label} → ${u.head.label})`;
  return `${u.runtime}: ${runtime}${library}${labels}`;
}

/** A p-value for prose: 0.031, 0.0021, 1.1e-5. */
export function fmtP(p: number): string {
  if (p >= 0.01) return p.toFixed(p >= 0.1 ? 2 : 3);
  if (p >= 0.001) return p.toFixed(4);
  return p.toExponential(1);
}

/**
 * Marks rows whose threshold is below twice the A/A noise floor of their
 * metric (the case's own floor when calibrated on that case, else the
 * metric's largest) and returns one warning per metric. Mutates `rows`
 * (sets `noiseFloorPct`); called on rows this module just built.
 */
function noiseWarnings(rows: ComparisonRow[], noise: NoiseFloor): string[] {
  const byMetric = new Map<MetricId, { rows: number; thresholds: Set<number>; floor: number }>();
  for (const r of rows) {
    const floor = noise.perCase[r.case]?.[r.metric] ?? noise.floorPct[r.metric];
    if (floor === undefined || r.thresholdPct >= 2 * floor - PCT_EPSILON) continue;
    r.noiseFloorPct = floor;
    const e = byMetric.get(r.metric) ?? { rows: 0, thresholds: new Set<number>(), floor: 0 };
    e.rows++;
    e.thresholds.add(r.thresholdPct);
    e.floor = Math.max(e.floor, floor);
    byMetric.set(r.metric, e);
  }
  return METRICS.filter((d) => byMetric.has(d.id)).map((d) => {
    const e = byMetric.get(d.id)!;
    const ts = [...e.thresholds].sort((a, b) => a - b).map((t) => `${t}%`).join('/');
    return (
      `${d.label}: threshold ${ts} is below twice the A/A noise floor (2 × ${e.floor.toFixed(1)}%) in ${e.rows} row${e.rows === 1 ? '' : 's'}: ` +
      `a change that small cannot be told from noise on this machine; raise --threshold ${d.alias}=${Math.ceil(2 * e.floor)} or calibrate again`
    );
  });
}
