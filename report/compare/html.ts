// `bench compare --format html` and `bench choose --format html`: one
// self-contained page each (report/html/page.ts), the verdict first. The
// comparison's page draws, per case and metric, base and head repetitions side
// by side with the minimum-effect zone around the base median, the shift's
// confidence interval on head and the verdict above (report/html/figures.ts
// compareDistributions) — what core/compare.ts decideVerdict decides, drawn.
// Text comes from the same views as the table and Markdown (view.ts), so every
// format prints the same figures and verdicts.

import { rowRuntimeLabel, type Comparison, type ComparisonRow } from '../../core/compare.js';
import type { ChoiceTable } from '../../core/choice.js';
import { metricDef, METRICS, type MetricId } from '../../core/compare-metrics.js';
import { decisionFromDecisions, decisionVerdict } from '../decision.js';
import type { ChartSpec } from '../html/charts.js';
import { compareDistributions, ratioBars, type CompareDistributionRow, type ValueAxis } from '../html/figures.js';
import { renderHtmlPage, type Block, type HtmlDocument, type HtmlSection, type TableBlock, type TextCell, type Tone } from '../html/page.js';
import { slugOf } from '../html.js';
import type { ChoiceFormat, ComparisonFormat } from './format.js';
import { buildChoiceView, buildCompareView, byCase, COMPARE_COLUMNS, compareCells, metricLabel, rowView, signedPct, type CompareRowView } from './view.js';

const VERDICT_TONE: Record<ComparisonRow['verdict'], Tone | undefined> = { regression: 'bad', improvement: 'good', suspect: 'warn', unchanged: undefined };

/** Rows as a table: every column of the terminal and Markdown tables, the verdict in its tone. */
function rowsTable(rows: readonly CompareRowView[], withCase: boolean, caption?: string): TableBlock {
  const header = [...(withCase ? ['case'] : []), ...COMPARE_COLUMNS];
  const right = new Set(['base', 'head', 'Δ', '95% CI', 'p Holm']);
  return {
    type: 'table',
    ...(caption !== undefined ? { caption } : {}),
    columns: header.map((h) => ({ header: h, ...(right.has(h) ? { align: 'right' as const } : {}) })),
    rows: rows.map((r) => {
      const cells: TextCell[] = [...(withCase ? [r.case] : []), ...compareCells(r)];
      // A secondary row informs: its change is never coloured as a verdict.
      const tone = r.primary ? VERDICT_TONE[r.kind] : 'muted';
      if (tone) cells[cells.length - 1] = { text: r.verdict, tone };
      return cells;
    }),
  };
}

/** The verdict of a row in a few words, for the annotation above its runtime: `REGRESSION +16%`, `~ +1.2%`, `suspect`. */
export function shortVerdict(r: ComparisonRow): string {
  const delta = r.deltaPct === null ? '' : ` ${signedPct(r.deltaPct)}`;
  switch (r.verdict) {
    case 'regression':
      return `REGRESSION${delta}`;
    case 'improvement':
      return `improved${delta}`;
    case 'unchanged':
      return `~${delta}`;
    case 'suspect':
      return `suspect${delta}`;
  }
}

/** A metric's y axis: throughput linear around its values, everything else on a log axis (runtimes differ by orders of magnitude, and a ±t% zone is then the same height everywhere). */
function axisOf(id: MetricId): ValueAxis {
  const def = metricDef(id);
  return def.unit === 'msgs/s' ? { label: 'delivered', unit: 'msgs/s', scale: 'linear', zero: false } : { label: def.label, unit: def.unit, scale: 'log' };
}

/** One `distributions` chart per metric of a case: per runtime, base and head repetitions, the zone, the interval, the verdict. */
function caseCharts(prefix: string, caseName: string, rows: readonly ComparisonRow[]): ChartSpec[] {
  const metrics = METRICS.filter((m) => rows.some((r) => r.metric === m.id));
  return metrics.map((m) => {
    const mine = rows.filter((r) => r.metric === m.id);
    const level = Math.min(...mine.map((r) => r.shift?.confidence ?? 0.95));
    const data: CompareDistributionRow[] = mine.map((r) => ({
      category: rowRuntimeLabel(r),
      base: r.base.values,
      head: r.head.values,
      ...(r.shift ? { shiftPct: { low: r.shift.lowPct, high: r.shift.highPct } } : {}),
      thresholdPct: r.thresholdPct,
      verdict: shortVerdict(r),
      kind: r.verdict,
    }));
    const zones = [...new Set(mine.map((r) => r.thresholdPct))].map((t) => `±${t}%`).join('/');
    return compareDistributions({
      id: `${prefix}-${slugOf(m.alias)}`,
      title: `${caseName}: ${metricLabel(m)}`,
      caption: `${m.better === 'higher' ? 'Higher' : 'Lower'} is better. Zone: the base median ${zones}; whisker on head: the ${Math.floor(level * 100)}% interval of the shift.`,
      y: axisOf(m.id),
      rows: data,
    });
  });
}

/** The comparison as an `HtmlDocument`: counts and changed rows first, then per case its charts and rows. Pure. */
export function compareDocument(c: Comparison): HtmlDocument {
  const v = buildCompareView(c);
  const { regression, improvement, suspect } = c.counts;
  const tone: Tone | undefined = regression > 0 ? 'bad' : suspect > 0 ? 'warn' : improvement > 0 ? 'good' : undefined;
  const verdictBlocks: Block[] = [];
  if (v.upgrades.length > 0) verdictBlocks.push({ type: 'list', title: 'Upgrade comparison: the same runtimes on other versions (head against base)', items: v.upgrades.map((u) => ({ text: u })) });
  if (v.forced.length > 0) verdictBlocks.push({ type: 'list', title: 'Forced (--force): compared despite these differences', items: v.forced.map((d) => ({ text: d, tone: 'bad' as const })) });
  verdictBlocks.push(v.changed.length > 0 ? rowsTable(v.changed, true, `Changed or suspect (${v.changed.length})`) : { type: 'text', text: 'No regressions, improvements or suspect rows.', tone: 'good' });
  if (v.warnings.length + v.notes.length > 0) {
    verdictBlocks.push({ type: 'list', items: [...v.warnings.map((w) => ({ label: 'warning:', text: w, tone: 'warn' as const })), ...v.notes.map((n) => ({ label: 'note:', text: n }))] });
  }

  const sections: HtmlSection[] = byCase(c.rows).map(([caseName, rows], i) => {
    const prefix = `c${i + 1}-${slugOf(caseName)}`;
    const ordered = rows.map((r) => rowView(r, c.alpha));
    return {
      id: prefix,
      title: caseName,
      intro:
        `${rows[0]!.base.n === rows[0]!.head.n ? rows[0]!.base.n : `${rows[0]!.base.n} vs ${rows[0]!.head.n}`} repetitions per side. In each chart, per runtime: ` +
        'base (left) and head (right) repetitions as dots, medians as wide ticks; the shaded zone is the base median ± the minimum effect; the whisker beside head is ' +
        "the interval of the shift (Hodges–Lehmann), placed on the base median. A regression is significant after Holm's correction with that whisker wholly beyond the zone on the worse side.",
      blocks: [
        ...caseCharts(prefix, caseName, rows).map((chart): Block => ({ type: 'chart', chart })),
        { type: 'details', summary: `Every row of ${caseName} (${ordered.length})`, print: true, blocks: [rowsTable(ordered, false)] },
      ],
    };
  });
  sections.push({ id: 'settings', title: 'How this was decided', blocks: [{ type: 'list', items: v.settings.map((s) => ({ text: s })) }, { type: 'list', title: 'Legend', items: v.legend.map((l) => ({ text: l })) }] });

  const runtimes = [...new Set(c.rows.map(rowRuntimeLabel))];
  return {
    title: `bench compare${v.upgrades.length > 0 ? ' (upgrade)' : ''}: ${v.counts}`,
    meta: [
      ['base', v.base],
      ['head', v.head],
    ],
    verdict: { title: 'Verdict: head against base', summary: v.counts, ...(tone ? { tone } : {}), blocks: verdictBlocks },
    sections,
    // base and head are the series of every chart: their styles stay fixed, whatever the runtimes.
    groups: ['base', 'head', ...runtimes],
  };
}

/** The runtime-choice table as an `HtmlDocument`: the decision first, then each case's ratio to the best with its interval. Pure. */
export function choiceDocument(t: ChoiceTable): HtmlDocument {
  const v = buildChoiceView(t);
  const decision = decisionFromDecisions(t.cases.map((c) => c.decision));
  // One section, so the cases' charts sit side by side in the page's grid.
  const charts = decision.cases.flatMap((d, i): Block[] => {
    const best = d.rows[0];
    const others = d.rows.slice(1).filter((r) => r.ratio !== undefined);
    if (!best || others.length === 0) return [];
    const worse = d.better === 'higher' ? 'below' : 'above';
    const chart = ratioBars({
      id: `k${i + 1}-${slugOf(d.case)}-ratio`,
      title: `${d.case}: ${d.metricLabel}, ratio to the best (${best.runtime})`,
      caption: `Each runtime's median ÷ ${best.runtime}'s, with the interval its verdict was taken on as a whisker; ${worse} 1× is worse.`,
      label: `${d.metricLabel} ÷ best`,
      categories: others.map((r) => r.runtime),
      reference: best.runtime,
      series: others.map((r) => ({ name: r.runtime, values: [{ category: r.runtime, ratio: r.ratio!.value, ...(r.interval ? { low: r.interval.low, high: r.interval.high } : {}) }] })),
    });
    return [{ type: 'chart', chart }];
  });
  const sections: HtmlSection[] = charts.length > 0 ? [{ id: 'ratios', title: 'Ratio to the best, per case', blocks: charts }] : [];
  return {
    title: v.title,
    meta: [
      ['revision and machine', v.meta[0]],
      ['runtimes', v.meta[1].replace(/^runtimes: /, '')],
      ['verdicts', v.headline],
    ],
    verdict: decisionVerdict(decision),
    sections,
    groups: t.runtimes.map((r) => r.id),
  };
}

/** `html`: the comparison as one self-contained page with charts. */
export const compareHtmlFormat: ComparisonFormat = {
  name: 'html',
  extension: 'html',
  render: (c: Comparison) => renderHtmlPage(compareDocument(c)),
};

/** `html`: the runtime choice as one self-contained page with charts. */
export const choiceHtmlFormat: ChoiceFormat = {
  name: 'html',
  extension: 'html',
  render: (t: ChoiceTable) => renderHtmlPage(choiceDocument(t)),
};
