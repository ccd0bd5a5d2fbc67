// The decision a report leads with, as data: per scenario case, what the
// runtimes are ranked by, the outcome (a winner, a tie, undecided), and per
// runtime its figure, ratio to the best with its interval, standing and costs,
// every number a Figure with its unit.
//
// Both a run's page and `bench choose` adapt the same decisions
// (`decisionFromDecisions`: core/decide.ts, the verdict the terminal ends in).
// The HTML section (`decisionVerdict`) reads this shape.

import type { CaseDecision as CaseDecisionData, RankedRuntime, RunResult } from '../schema/result.js';
import { decisionsOf, outcomeOf, type CaseOutcome } from '../core/choice.js';
import { describeUndecided } from './verdict.js';
import { metricDef, type MetricId } from '../core/compare-metrics.js';
import type { Block, HtmlDocument, TextCell, Tone } from './html/page.js';
import { formatCell, formatRatio } from './units.js';
import { fig, type Figure, type ViewCell } from './view.js';

/** What a case's decision comes to (core/choice.ts `CaseOutcome`). */
export type DecisionOutcome = CaseOutcome;

/** A runtime's place in a case: `best`, `behind` (different), `equivalent` (within the minimum effect), `undecided`. */
export type DecisionStanding = RankedRuntime['standing'];

export interface DecisionRow {
  runtime: string;
  rank: number;
  standing: DecisionStanding;
  /** The standing in a few words: `best`, `behind`, `undecided: too few reps` (the case's sentence says it in full). */
  standingText: string;
  /** The ranked figure: median with spread; a load-generator bound is marked (`bound`, note `*`). */
  figure: Figure;
  /** Median ÷ the best's median (1 for the best); undefined when the best's median is 0. */
  ratio: Figure | undefined;
  /** An interval of that ratio (a Welch interval on the log values), with its level in %. */
  interval: { low: number; high: number; levelPct: number } | undefined;
  /** The costs beside the speed, where measured. */
  costs: { cpuUsPerMsg?: Figure; bytesPerConn?: Figure; rssPeak?: Figure };
  /** Repetitions the figure rests on. */
  n: number;
  /** The figure was limited by the load generator in a repetition: it describes the client, and never wins on its own. */
  bound: boolean;
}

export interface DecisionCase {
  case: string;
  /** What the runtimes are ranked by (`p99 latency`) and which way is better. */
  metric: MetricId;
  metricLabel: string;
  better: 'higher' | 'lower';
  outcome: DecisionOutcome;
  winner: string | null;
  /** Why, in one sentence (the decision's own words). */
  sentence: string;
  /** Ranked, best first. */
  rows: DecisionRow[];
}

export interface Decision {
  cases: DecisionCase[];
  /** How the decision was made, one line each (shown under the table). */
  method: string[];
}

const STANDING_TONE: Record<DecisionStanding, Tone | undefined> = { best: 'good', equivalent: 'good', behind: 'muted', undecided: 'warn' };

/** The outcome of a case in a few words: `node-uws wins`, `tie`, `undecided`. */
export function outcomeWords(c: DecisionCase): string {
  switch (c.outcome) {
    case 'winner':
      return `${c.winner} wins`;
    case 'equivalent':
      return 'equivalent';
    case 'tie':
      return 'no winner (tie)';
    case 'undecided':
      return 'undecided';
    case 'single':
      return `only ${c.rows[0]?.runtime ?? 'one runtime'} ran`;
  }
}

const text = (c: ViewCell | undefined): string => (c === undefined ? '–' : formatCell(c));

/**
 * The page's verdict from a decision: a one-line summary (per case, who wins
 * or why nobody does), the sentence of each case, and one table (case,
 * runtime, standing, the ranked figure, ratio to the best with its interval,
 * the costs, n), the method under it. Tones repeat what the words say.
 */
export function decisionVerdict(d: Decision, title = 'Verdict: which runtime'): HtmlDocument['verdict'] {
  if (d.cases.length === 0) return { title, summary: 'No completed cell yet: nothing to decide.', tone: 'muted', blocks: [] };
  const outcomes = d.cases.map((c) => c.outcome);
  const tone: Tone | undefined = outcomes.every((o) => o === 'winner' || o === 'equivalent') ? 'good' : outcomes.includes('undecided') ? 'warn' : undefined;
  const levels = [...new Set(d.cases.flatMap((c) => c.rows.flatMap((r) => (r.interval ? [r.interval.levelPct] : []))))];
  const level = levels.length === 1 ? `${levels[0]}% ` : '';
  const rows: TextCell[][] = d.cases.flatMap((c) =>
    c.rows.map((r, i): TextCell[] => [
      // The case on its first row, what it is ranked by under it: the column reads "echo-rate… / by p99 latency ↓".
      i === 0 ? c.case : i === 1 ? { text: `by ${c.metricLabel} ${c.better === 'higher' ? '↑' : '↓'}`, tone: 'muted' } : '',
      r.runtime,
      { text: r.standingText, ...(r.bound ? { tone: 'warn' as const } : STANDING_TONE[r.standing] ? { tone: STANDING_TONE[r.standing]! } : {}) },
      text(r.figure),
      r.rank === 1 ? '1× (best)' : `${text(r.ratio)}${r.interval ? ` (${formatRatio(r.interval.low).slice(0, -1)}–${formatRatio(r.interval.high)})` : ''}`,
      text(r.costs.cpuUsPerMsg),
      text(r.costs.bytesPerConn),
      text(r.costs.rssPeak),
      String(r.n),
    ]),
  );
  // A case with one runtime has no second row for what it is ranked by: say it on the first.
  d.cases.forEach((c, k) => {
    if (c.rows.length !== 1) return;
    const at = d.cases.slice(0, k).reduce((n, x) => n + x.rows.length, 0);
    rows[at]![0] = `${c.case}, by ${c.metricLabel}`;
  });
  const blocks: Block[] = [
    {
      type: 'list',
      items: d.cases.map((c) => ({ label: `${c.case}:`, text: c.outcome === 'winner' ? `winner ${c.winner} — ${c.sentence}` : c.sentence, ...(c.outcome === 'winner' ? { tone: 'good' as const } : {}) })),
    },
    {
      type: 'table',
      columns: [
        { header: 'case, ranked by' },
        { header: 'runtime' },
        { header: 'standing' },
        { header: 'figure', align: 'right' },
        { header: `ratio to best (${level}interval)`, align: 'right' },
        { header: 'CPU µs/msg', align: 'right' },
        { header: 'bytes/conn', align: 'right' },
        { header: 'peak RSS', align: 'right' },
        { header: 'n', align: 'right' },
      ],
      rows,
      footnotes: d.method,
    },
  ];
  return { title, summary: d.cases.map((c) => `${c.case}: ${outcomeWords(c)}`).join(' · '), ...(tone ? { tone } : {}), blocks };
}

const PRIMARY_UNIT: Record<CaseDecisionData['primary']['metric'], Figure['unit']> = { msgsPerSec: 'msgs/s', serverCpuUsPerMsg: 'µs/msg', bytesPerConnection: 'bytes', capacityPerCore: 'count' };

/**
 * The decision of a run (issue 12: core/decide.ts, stored as `result.decisions`, or decided again from the raw
 * values of an older result), for `decisionVerdict`. Pure.
 */
export function decisionFromRun(result: RunResult): Decision {
  return decisionFromDecisions(decisionsOf(result));
}

/**
 * Decisions (a run's, or `bench choose`'s) for `decisionVerdict`: a winner when every other runtime is different
 * and behind, `equivalent` when every runtime is within the minimum effect of the best, `tie` when some are
 * equivalent to the best and the rest behind, `undecided` while any comparison with the best is open
 * (core/choice.ts outcomeOf). Pure.
 */
export function decisionFromDecisions(decisions: readonly CaseDecisionData[]): Decision {
  return {
    cases: decisions.map((d): DecisionCase => {
      const def = metricDef(d.primary.metric);
      const best = d.ranking[0];
      const others = d.ranking.slice(1);
      const { outcome } = outcomeOf(d);
      const equivalent = others.filter((r) => r.standing === 'equivalent').map((r) => r.runtime);
      const open = others.filter((r) => r.standing === 'undecided');
      const sentence =
        outcome === 'winner'
          ? `${best!.runtime} is best on ${def.label}, every other runtime different and behind (${d.primary.why})`
          : outcome === 'equivalent'
            ? `all within ±${d.minEffectPct}% of ${best!.runtime} on ${def.label}: equivalent`
            : outcome === 'tie'
              ? `${[best!.runtime, ...equivalent].join(', ')} equivalent within ±${d.minEffectPct}% on ${def.label}, the rest behind`
              : outcome === 'undecided'
                ? `${open.map((r) => `${r.runtime}: ${describeUndecided(r.reason, d.minEffectPct)}`).join('; ')}`
                : `only ${best?.runtime ?? 'one runtime'} ran`;
      return {
        case: d.case,
        metric: d.primary.metric,
        metricLabel: def.label,
        better: d.better,
        outcome,
        winner: outcome === 'winner' ? best!.runtime : null,
        sentence,
        rows: d.ranking.map((r, i): DecisionRow => {
          const cost = (id: 'serverCpuUsPerMsg' | 'bytesPerConnection' | 'rssPeakBytes') => (r.costs[id] === undefined ? undefined : fig(r.costs[id]!, metricDef(id).unit));
          const cpu = cost('serverCpuUsPerMsg');
          const conn = cost('bytesPerConnection');
          const rss = cost('rssPeakBytes');
          const lo = Math.min(...r.values);
          const hi = Math.max(...r.values);
          return {
            runtime: r.runtime,
            rank: i + 1,
            standing: r.standing,
            standingText: r.standing === 'equivalent' ? `equivalent ±${d.minEffectPct}%` : r.standing === 'undecided' ? `undecided: ${describeUndecided(r.reason, d.minEffectPct)}` : r.standing,
            figure: fig(r.median, PRIMARY_UNIT[d.primary.metric], r.values.length > 1 && lo !== hi ? { range: [lo, hi] } : {}),
            ratio: Number.isFinite(r.ratioToBest) ? fig(r.ratioToBest, '×') : undefined,
            interval: r.low !== null && r.high !== null ? { low: r.low, high: r.high, levelPct: d.intervalLevel === undefined ? 95 : Math.round(d.intervalLevel * 1000) / 10 } : undefined,
            costs: { ...(cpu ? { cpuUsPerMsg: cpu } : {}), ...(conn ? { bytesPerConn: conn } : {}), ...(rss ? { rssPeak: rss } : {}) },
            n: r.n,
            bound: false,
          };
        }),
      };
    }),
    method: [
      'ranked per case on the figure valid on this machine: throughput only where the server was the limit (≥ 95% CPU), else server CPU per message; at a fixed rate CPU per message where every runtime carried the rate, else the rate carried; idle: memory per connection from a slope',
      'different: the corrected interval of the ratio of geometric means excludes the minimum effect; equivalent: it lies within ± the minimum effect; repeated confidence intervals (Jennison & Turnbull), Lan–DeMets Pocock spending over the looks, Bonferroni over the pairs of a case: valid however early a budgeted run stopped',
      "ratio to best: with the interval its verdict was taken on (this look's, at the level shown: wider than 95% for the looks and the pairs); range: lowest–highest repetition",
      'costs beside: server CPU µs per message, bytes per connection (slopes only), peak server RSS (medians)',
    ],
  };
}
