// The decision first: per workload, the runtimes ranked on the figure that is
// valid on this machine, each against the best with the interval its verdict was taken on and a
// verdict (different, equivalent within X%, undecided and why), the costs
// beside; then one line per warning kind with its count. The terminal ends a
// run with this (report/table.ts prints the per-cell tables after it with
// --verbose) and the Markdown opens with it.

import { answerLines } from './answer.js';
import Table from 'cli-table3';
import type { BudgetOutcomeData, CaseDecision, RankedRuntime, RunResult, UndecidedReason, Warning, WarningCode } from '../schema/result.js';
import { decisionsOf } from '../core/choice.js';
import { formatCell, formatRatio } from './units.js';
import { fig, MISSING, type Unit, type ViewCell } from './view.js';
import { describeWarning } from './warnings.js';
import { TABLE_WIDTH, wrap } from './text.js';

export interface DecisionColumn {
  id: string;
  header: string;
  align: 'left' | 'right';
}

export interface DecisionCaseView {
  name: string;
  /** What the case is ranked on and why that figure is valid here. */
  rankedOn: string;
  /** `settled`, or how many pairs are still open, and at which look. */
  status: string;
  columns: DecisionColumn[];
  rows: ViewCell[][];
  /** Pairs other than against the best that are not settled, in words. */
  notes: string[];
}

export interface WarningKindView {
  code: WarningCode;
  count: number;
  /** How many cells raised it, of how many. */
  cells: number;
  /** One instance's message, as an example, and the hint. */
  example: string;
  hint: string;
}

export interface DecisionView {
  /** "12 of 14 runtime pairs settled (different or equivalent) · 4 rounds · stopped: every case settled". */
  headline: string;
  cases: DecisionCaseView[];
  warnings: WarningKindView[];
}

const PRIMARY: Record<CaseDecision['primary']['metric'], { header: string; unit: Unit }> = {
  msgsPerSec: { header: 'msgs/s', unit: 'msgs/s' },
  serverCpuUsPerMsg: { header: 'CPU µs/msg', unit: 'µs/msg' },
  bytesPerConnection: { header: 'bytes/conn', unit: 'bytes' },
  capacityPerCore: { header: 'capacity/core', unit: 'count' },
};

const WHY: Record<CaseDecision['primary']['why'], string> = {
  'server-bound': 'throughput, because the server was the limit (≥ 95% CPU) in every repetition',
  'cpu-cost': "the server's CPU per message, because the load generator, not the server, limited throughput here",
  'sustained-cost': "the server's CPU per message at the offered rate, which every runtime carried",
  'not-sustained': 'the rate carried, because not every runtime carried the offered rate (CPU per message would favour an overloaded server)',
  'memory-slope': 'memory per connection, the slope of RSS over the plateaus',
  'capacity-slo': 'the most load one server core carried within the SLO (capacity per core)',
};

/** Why a comparison is not settled, in words a reader can act on. */
export function describeUndecided(reason: UndecidedReason | undefined, minEffectPct: number): string {
  switch (reason) {
    case 'too-few-values':
      return 'too few repetitions (3 each at least)';
    case 'no-spread':
      return 'no spread between repetitions to judge by';
    case 'covers-band':
      return `too noisy: the interval spans both sides of ±${minEffectPct}%`;
    case 'crosses-band-edge':
      return `close to the ±${minEffectPct}% band: more repetitions would tell`;
    default:
      return 'not decided';
  }
}

function standingWords(r: RankedRuntime, d: CaseDecision): string {
  switch (r.standing) {
    case 'best':
      return d.ranking.length > 1 ? 'best' : 'only runtime';
    case 'behind':
      return 'different';
    case 'equivalent':
      return `equivalent within ${d.minEffectPct}%`;
    case 'undecided':
      return `undecided: ${describeUndecided(r.reason, d.minEffectPct)}`;
  }
}

/** The level of a case's intervals in words: `98.8%` (a stored result from before the level was kept: 95%). */
function levelWords(d: CaseDecision): string {
  return `${d.intervalLevel === undefined ? 95 : Math.round(d.intervalLevel * 1000) / 10}%`;
}

function vsBest(r: RankedRuntime): string {
  if (r.standing === 'best') return '1';
  const ci = r.low !== null && r.high !== null ? ` (${formatRatio(r.low).replace('×', '')}–${formatRatio(r.high)})` : '';
  return `${formatRatio(r.ratioToBest)}${ci}`;
}

const COST_COLUMNS: { id: keyof RankedRuntime['costs']; header: string; unit: Unit }[] = [
  { id: 'serverCpuUsPerMsg', header: 'CPU µs/msg', unit: 'µs/msg' },
  { id: 'bytesPerConnection', header: 'bytes/conn', unit: 'bytes' },
  { id: 'rssPeakBytes', header: 'peak RSS', unit: 'bytes' },
  { id: 'rssEndBytes', header: 'RSS after drain', unit: 'bytes' },
];


function caseView(d: CaseDecision, stop?: BudgetOutcomeData['stop']): DecisionCaseView {
  const p = PRIMARY[d.primary.metric];
  // The primary figure is also a cost column (CPU µs/msg): shown once.
  const costs = COST_COLUMNS.filter((c) => c.id !== d.primary.metric && d.ranking.some((r) => r.costs[c.id] !== undefined));
  const columns: DecisionColumn[] = [
    { id: 'runtime', header: 'runtime', align: 'left' },
    { id: 'primary', header: p.header, align: 'right' },
    { id: 'vsBest', header: `vs best (${levelWords(d)} CI)`, align: 'right' },
    { id: 'verdict', header: 'verdict', align: 'left' },
    ...costs.map((c) => ({ id: c.id, header: c.header, align: 'right' as const })),
  ];
  const rows: ViewCell[][] = d.ranking.map((r) => {
    const lo = Math.min(...r.values);
    const hi = Math.max(...r.values);
    return [
      `${r.runtime}${r.n > 1 ? ` (n=${r.n})` : ''}`,
      fig(r.median, p.unit, r.values.length > 1 ? { range: [lo, hi] } : {}),
      vsBest(r),
      standingWords(r, d),
      ...costs.map((c) => (r.costs[c.id] === undefined ? MISSING : fig(r.costs[c.id]!, c.unit))),
    ];
  });
  const open = d.pairs.filter((x) => x.verdict === 'undecided');
  const best = d.ranking[0]?.runtime;
  const notes = d.pairs
    .filter((x) => x.a !== best && x.b !== best)
    .map((x) =>
      x.verdict === 'undecided'
        ? `${x.a} vs ${x.b}: undecided, ${describeUndecided(x.reason, d.minEffectPct)}`
        : x.verdict === 'equivalent'
          ? `${x.a} vs ${x.b}: equivalent within ${d.minEffectPct}%`
          : `${x.a} vs ${x.b}: ${x.better} better, ${formatRatio(x.ratio)}`,
    );
  const before = stop === 'interrupted' ? 'interrupted before the first look' : 'the budget ran out before the first look';
  const look = d.look === undefined || d.pairs.length === 0 ? '' : d.look === 0 ? ` · ${before}` : ` · look ${d.look} of ${d.maxLooks}`;
  const better = d.better === 'higher' ? 'higher is better' : 'lower is better';
  return {
    name: d.case,
    rankedOn: `ranked on ${WHY[d.primary.why]} (${better}); equivalent means within ±${d.minEffectPct}%`,
    status: `${d.pairs.length === 0 ? 'one runtime: nothing to compare' : d.settled ? 'settled' : `${open.length} of ${d.pairs.length} pairs undecided`}${look}`,
    columns,
    rows,
    notes,
  };
}

function warningKinds(result: RunResult): WarningKindView[] {
  const byCode = new Map<WarningCode, { count: number; cells: Set<string>; first: Warning }>();
  for (const c of result.cells) {
    for (const w of c.warnings) {
      const e = byCode.get(w.code) ?? { count: 0, cells: new Set<string>(), first: w };
      e.count++;
      e.cells.add(c.id);
      byCode.set(w.code, e);
    }
  }
  return [...byCode.entries()]
    .map(([code, e]) => {
      const words = describeWarning(e.first);
      return { code, count: e.count, cells: e.cells.size, example: words.message, hint: words.hint };
    })
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

/** "5 of 6 runtime pairs settled (different or equivalent)": how far the decisions got. */
export function settledWords(decisions: readonly CaseDecision[]): string {
  const pairs = decisions.flatMap((d) => d.pairs);
  const settled = pairs.filter((p) => p.verdict !== 'undecided').length;
  return `${settled} of ${pairs.length} runtime pairs settled (different or equivalent)`;
}

/** The verdict-first view of decisions, under a headline (the run's or `bench choose`'s), with warnings by kind. */
export function decisionView(decisions: readonly CaseDecision[], headline: string, warnings: WarningKindView[] = [], stop?: BudgetOutcomeData['stop']): DecisionView {
  return { headline, cases: decisions.map((d) => caseView(d, stop)), warnings };
}

/** The verdict-first view of a result. */
export function buildDecisionView(result: RunResult): DecisionView {
  const decisions = decisionsOf(result);
  const parts = [settledWords(decisions)];
  if (result.budget) {
    const stop = { settled: 'every case settled', budget: 'the budget left could not fit another round', 'max-looks': 'the most looks were taken', interrupted: 'interrupted' }[result.budget.stop];
    parts.push(`${result.budget.rounds} round${result.budget.rounds === 1 ? '' : 's'} of a ${Math.round((result.settings.budgetMs ?? 0) / 1000)} s budget, stopped: ${stop}`);
  } else parts.push(`${result.settings.repeat} fixed repetition${result.settings.repeat === 1 ? '' : 's'}`);
  return decisionView(decisions, parts.join(' · '), warningKinds(result), result.budget?.stop);
}

/**
 * A case's table within TABLE_WIDTH columns: drawn at its natural width, and where that is wider, the verdict
 * column (the only long text) wrapped onto more lines to fit.
 */
function fitTable(c: DecisionCaseView): string {
  const cells = c.rows.map((r) => r.map(formatCell));
  const draw = (colWidths?: (number | null)[]) => {
    const table = new Table({
      head: c.columns.map((x) => x.header),
      colAligns: c.columns.map((x) => x.align),
      style: { head: [], border: [], compact: true },
      ...(colWidths ? { colWidths, wordWrap: true } : {}),
    });
    for (const r of cells) table.push(r);
    return table.toString();
  };
  const natural = draw();
  const width = Math.max(...natural.split('\n').map((l) => l.length));
  const v = c.columns.findIndex((x) => x.id === 'verdict');
  if (width <= TABLE_WIDTH || v < 0) return natural;
  // The column's natural width: its longest text and the cell padding.
  const own = Math.max(c.columns[v]!.header.length, ...cells.map((r) => r[v]!.length)) + 2;
  return draw(c.columns.map((_, i) => (i === v ? Math.max(20, own - (width - TABLE_WIDTH)) : null)));
}

/** A decision view as terminal lines: the headline, what to pick per workload, one small table per workload, the warnings by kind. */
export function decisionTextLines(v: DecisionView, answers: readonly string[]): string[] {
  const out: string[] = [
    '',
    ...wrap(v.headline, TABLE_WIDTH, '  ', 'Decision: '),
    ...(answers.length > 0 ? ['What to pick, per workload:', ...answers.flatMap((a) => wrap(a, TABLE_WIDTH, '    ', '  '))] : []),
    '',
  ];
  if (v.cases.length === 0) out.push('Nothing to rank: no completed cell of a ranked workload.', '');
  for (const c of v.cases) {
    out.push(`${c.name}  (${c.status})`, ...wrap(c.rankedOn, TABLE_WIDTH, '  ', '  '));
    out.push(fitTable(c), ...c.notes.map((n) => `  ${n}`), '');
  }
  if (v.warnings.length > 0) {
    out.push('Warnings by kind (each in full in the result folder, and with --verbose)');
    for (const w of v.warnings) out.push(...wrap(`${w.cells} cell${w.cells === 1 ? '' : 's'}: e.g. ${w.example}`, TABLE_WIDTH, '      ', `  [${w.code}] `));
    out.push('');
  }
  return out;
}

/** The decision as terminal text: one small table per workload, then the warnings by kind. */
export function renderDecisionText(result: RunResult): string {
  const lines = decisionTextLines(buildDecisionView(result), answerLines(decisionsOf(result)));
  return `${lines.join('\n').replace(/\n+$/, '')}\n`;
}
