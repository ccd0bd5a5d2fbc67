// What the comparison and runtime-choice reports show, computed once: the
// terminal and Markdown formatters only lay these strings out, so both print
// the same figures, verdicts and notes.

import { fmtP, rowRuntimeLabel, upgradeLine, type Comparison, type ComparisonRow, type SuspectReason } from '../../core/compare.js';
import { METRICS, metricDef, type MetricDef, type MetricId } from '../../core/compare-metrics.js';
import type { ChoiceTable } from '../../core/choice.js';
import { answerLines } from '../answer.js';
import { decisionView, settledWords, type DecisionView } from '../verdict.js';
import { formatBytes, formatPct, formatRate, formatRatio, formatUs, sig3 } from '../units.js';

/** A figure in its metric's unit: `812k`, `1.23 ms`, `6.10 µs`, `47.1 MiB`. */
export function formatMetric(id: MetricId, v: number): string {
  switch (metricDef(id).unit) {
    case 'msgs/s':
      return formatRate(v);
    case 'µs':
      return formatUs(v);
    case 'µs/msg':
      return `${sig3(v)} µs`;
    case 'bytes':
      return formatBytes(v);
    case 'count':
      return Number.isInteger(v) ? v.toLocaleString('en-US') : sig3(v);
  }
}

/** A signed percentage: `+3.1%`, `-12%`, `0%`. */
export function signedPct(pct: number): string {
  if (Math.abs(pct) < 0.05) return '0%';
  const s = formatPct(pct);
  return pct > 0 ? `+${s}` : s;
}

/** Short label with the better direction: `msgs/s ↑`, `p99 ↓`. */
export function metricLabel(def: MetricDef): string {
  const short: Record<MetricId, string> = {
    msgsPerSec: 'msgs/s',
    latencyP50Us: 'p50',
    latencyP99Us: 'p99',
    latencyP999Us: 'p99.9',
    serverCpuUsPerMsg: 'CPU/msg',
    rssPeakBytes: 'peak RSS',
    rssEndBytes: 'RSS end',
    bytesPerConnection: 'bytes/conn',
    relayOverheadP50Us: 'relay p50',
    relayOverheadP99Us: 'relay p99',
    capacityPerCore: 'capacity/core',
  };
  return `${short[def.id]} ${def.better === 'higher' ? '↑' : '↓'}`;
}

/** Short forms for the verdict column (the legend spells each out). */
export const REASON_TEXT: Record<SuspectReason, string> = {
  'lower-bound': 'loadgen-bound',
  'too-few-repetitions': 'too few reps',
  'ci-straddles-threshold': 'CI straddles threshold',
  'not-significant-after-holm': 'not significant after Holm',
  'no-relative-scale': 'base ≤ 0',
};

/** What each suspect reason means, for the legend. */
export const REASON_LEGEND: Record<SuspectReason, string> = {
  'lower-bound': 'a repetition on either side was load-generator-bound: msgs/s and latency then describe the client, not the server',
  'too-few-repetitions': 'with these repetition counts and this many rows no p-value can pass Holm at α (n = 1–3 per side cannot reach p < 0.05 at all)',
  'ci-straddles-threshold': 'significant, but the 95% CI reaches the threshold without lying wholly beyond it: real change, size unsettled',
  'not-significant-after-holm': 'significant alone with the whole CI beyond the threshold, but not after Holm across all rows: likely real, rerun with more repetitions',
  'no-relative-scale': 'the base median is 0 or less, so there is no change in %',
};

export interface CompareRowView {
  case: string;
  runtime: string;
  metric: string;
  base: string;
  head: string;
  delta: string;
  ci: string;
  p: string;
  threshold: string;
  verdict: string;
  kind: ComparisonRow['verdict'];
  /** A primary row gates; a secondary one informs. */
  primary: boolean;
}

export interface CompareView {
  /** The primary rows' verdicts: `1 regression, 2 improvements, 3 suspect, 18 unchanged`. */
  counts: string;
  /** Repetitions, α and Holm family size, thresholds, noise floor: one line each. */
  settings: string[];
  base: string;
  head: string;
  /** Differences overridden with --force (empty otherwise). */
  forced: string[];
  /** An upgrade comparison (issue 17): one line per runtime compared across versions; empty otherwise. */
  upgrades: string[];
  notes: string[];
  warnings: string[];
  /** Regressions, then suspects, then improvements; each in row order. */
  changed: CompareRowView[];
  unchanged: CompareRowView[];
  legend: string[];
}

const plural = (n: number, word: string, many = `${word}s`) => `${n} ${n === 1 ? word : many}`;

function side(r: ComparisonRow['base'], id: MetricId): string {
  const bound = r.lowerBound ? (metricDef(id).better === 'higher' ? '≥' : '') : '';
  const mark = r.lowerBound ? '*' : '';
  const spread = r.madPct === null ? '' : ` ±${formatPct(r.madPct)}`;
  return `${bound}${formatMetric(id, r.median)}${mark}${spread}`;
}

/** One row as display strings (the verdict in words, the CI with its achieved level when below 95%). */
export function rowView(r: ComparisonRow, alpha: number): CompareRowView {
  const def = metricDef(r.metric);
  const ci = r.shift
    ? `[${signedPct(r.shift.lowPct)}, ${signedPct(r.shift.highPct)}]${r.shift.confidence < 0.949 ? ` (${Math.floor(r.shift.confidence * 100)}%)` : ''}`
    : '–';
  // A secondary row informs, it never gates: its change reads in lower case and says so.
  const verdict =
    r.verdict === 'regression'
      ? r.primary
        ? 'REGRESSION'
        : 'worse (secondary, does not gate)'
      : r.verdict === 'improvement'
        ? r.primary
          ? 'improvement'
          : 'better (secondary, does not gate)'
        : r.verdict === 'unchanged'
          ? r.pAdjusted <= alpha
            ? `~ (significant, within ±${r.thresholdPct}%)`
            : '~'
          : `suspect: ${r.reasons.map((x) => REASON_TEXT[x]).join(', ')}`;
  return {
    case: r.case,
    runtime: rowRuntimeLabel(r),
    metric: `${metricLabel(def)}${r.primary ? ' [primary]' : ''}`,
    base: side(r.base, r.metric),
    head: side(r.head, r.metric),
    delta: r.deltaPct === null ? '–' : signedPct(r.deltaPct),
    ci,
    p: fmtP(r.pAdjusted),
    threshold: `±${r.thresholdPct}%${r.noiseFloorPct !== undefined ? ' (< 2× noise)' : ''}`,
    verdict,
    kind: r.verdict,
    primary: r.primary,
  };
}

function revision(s: Comparison['base']): string {
  const rev = s.gitRevision ? s.gitRevision.slice(0, 7) + (s.gitDirty ? '+dirty' : '') : 'no git revision';
  return `${rev} "${s.label}" (${s.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${plural(s.runs, 'run')}, ${s.completedCells} completed cells${s.erroredCells ? `, ${s.erroredCells} errored` : ''}${s.status !== 'completed' ? `, ${s.status}` : ''})`;
}

function range(ns: number[]): string {
  const lo = Math.min(...ns);
  const hi = Math.max(...ns);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
}

/** The comparison as display strings (see `CompareView`). */
export function buildCompareView(c: Comparison): CompareView {
  const order: Record<ComparisonRow['verdict'], number> = { regression: 0, suspect: 1, improvement: 2, unchanged: 3 };
  const rows = c.rows.map((r, i) => ({ r, i })).sort((a, b) => order[a.r.verdict] - order[b.r.verdict] || a.i - b.i);
  const present = METRICS.filter((m) => c.rows.some((r) => r.metric === m.id));
  const thresholds = present
    .map((m) => {
      const ts = [...new Set(c.rows.filter((r) => r.metric === m.id).map((r) => r.thresholdPct))].sort((a, b) => a - b);
      return `${metricLabel(m).slice(0, -2)} ${ts.map((t) => `${t}%`).join('/')}`;
    })
    .join(', ');
  const noise = c.noise
    ? `noise floor (A/A, ${c.noise.source}): ${present
        .filter((m) => c.noise!.floorPct[m.id] !== undefined)
        .map((m) => `${metricLabel(m).slice(0, -2)} ${formatPct(c.noise!.floorPct[m.id]!)}`)
        .join(', ')}`
    : 'noise floor: not calibrated (run `bench calibrate` and pass --noise to check the thresholds against it)';
  const settings = [
    c.rows.length === 0
      ? 'no rows compared'
      : `repetitions: ${range(c.rows.map((r) => r.base.n))} base vs ${range(c.rows.map((r) => r.head.n))} head · α ${c.alpha} after Holm over ${plural(c.rows.filter((r) => r.primary).length, 'primary row')} (the ${plural(c.rows.filter((r) => !r.primary).length, 'secondary row')} inform, Holm apart, and never gate) · ${Math.round(c.confidence * 100)}% CI of the shift: Hodges–Lehmann, % of the base median`,
    `minimum effect (the whole CI must reach it): ${thresholds || '–'}`,
    noise,
  ];
  const { regression, improvement, suspect, unchanged } = c.counts;
  const sc = c.secondaryCounts;
  return {
    counts: `${plural(regression, 'regression')}, ${plural(improvement, 'improvement')}, ${suspect} suspect, ${unchanged} unchanged`,
    settings: [...settings.slice(0, 1), `secondary rows (informative, never gate): ${sc.regression} worse, ${sc.improvement} better, ${sc.suspect} suspect, ${sc.unchanged} unchanged`, ...settings.slice(1)],
    base: revision(c.base),
    head: revision(c.head),
    forced: c.forced ? c.differences : [],
    upgrades: (c.upgrades ?? []).map(upgradeLine),
    notes: c.notes,
    warnings: c.warnings,
    changed: rows.filter((x) => x.r.verdict !== 'unchanged').map((x) => rowView(x.r, c.alpha)),
    unchanged: rows.filter((x) => x.r.verdict === 'unchanged').map((x) => rowView(x.r, c.alpha)),
    legend: [
      'Δ: change of the median; ↑ higher is better, ↓ lower is better; ±: spread (MAD / median) over the repetitions',
      '[primary]: the figures each case declares before comparing (its primary figure, and its latency where the load generator kept its schedule); only they gate --fail-on-regression',
      '95% CI: Hodges–Lehmann interval of the shift head − base (a lower achieved level is shown beside it); p Holm: Mann–Whitney U, Holm-adjusted within the primary rows and within the secondary rows',
      'REGRESSION / improvement: significant after Holm and the whole CI beyond the threshold; ~: no significant change, or a significant one wholly within the threshold',
      '≥ … *: load-generator bound (a lower bound of throughput, or a latency that includes the client\'s delay)',
      ...Object.entries(REASON_LEGEND).map(([k, v]) => `suspect (${REASON_TEXT[k as SuspectReason]}): ${v}`),
    ],
  };
}

export const COMPARE_COLUMNS = ['runtime', 'metric', 'base', 'head', 'Δ', '95% CI', 'p Holm', 'verdict'] as const;

/** A row's cells in `COMPARE_COLUMNS` order. */
export function compareCells(v: CompareRowView): string[] {
  return [v.runtime, v.metric, v.base, v.head, v.delta, v.ci, v.p, v.verdict];
}

/** Rows grouped by case, in first-appearance order. */
export function byCase<T extends { case: string }>(rows: readonly T[]): [string, T[]][] {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const list = m.get(r.case);
    if (list) list.push(r);
    else m.set(r.case, [r]);
  }
  return [...m.entries()];
}

// --- runtime choice ---

/** What `bench choose` shows above the decision: title, the machine and runtimes, where the verdicts come from. */
export interface ChoiceView {
  title: string;
  /** Revision and machine; runtimes with versions. */
  meta: [string, string];
  /** How far the decisions got and where they come from (the run's own, or decided now from a pool). */
  headline: string;
  /** The decisions in the run's own view (report/verdict.ts), so `bench run` and `bench choose` read alike. */
  decision: DecisionView;
  answers: string[];
}

function sourceWords(t: ChoiceTable): string {
  const test = `sequential test, ${t.settings.spending === 'pocock' ? 'Pocock' : "O'Brien–Fleming"} spending, α ${t.settings.alpha}`;
  if (t.source === 'run') return `as \`bench run\` decided: ${t.settings.maxLooks > 1 ? `a budgeted run of up to ${t.settings.maxLooks} looks` : 'fixed repetitions, one look'} (${test})`;
  if (t.source === 'pooled') return `${t.runs} results pooled: a workload one of them ran keeps that run's verdict, the others are decided again at the last of every look their runs took (${test})`;
  return t.settings.maxLooks > 1 ? `decided now at look ${t.settings.look} of ${t.settings.maxLooks} (${test})` : `decided now at one look: fixed repetitions (${test})`;
}

/** The runtime-choice table as a view over the run's decision view. */
export function buildChoiceView(t: ChoiceTable): ChoiceView {
  const versions = t.runtimes.map((r) => `${r.id} ${r.runtimeVersion ?? '?'}${r.libraryVersion && r.libraryVersion !== r.runtimeVersion ? ` (${r.libraryVersion})` : ''}`);
  const decisions = t.cases.map((c) => c.decision);
  const headline = `${settledWords(decisions)} · ${sourceWords(t)}`;
  return {
    title: `Runtime choice: ${t.label}`,
    meta: [`${t.gitRevision ? t.gitRevision.slice(0, 7) : 'no git revision'} · ${t.environment.cpuModel}, ${t.environment.logicalCpus} CPUs, ${t.environment.kernel}`, `runtimes: ${versions.join(', ') || '–'}`],
    headline,
    decision: decisionView(decisions, headline),
    answers: answerLines(decisions),
  };
}
