// One self-contained HTML page from a document of tables and charts: the
// verdict first, then sections. The page opens from disk or from a CI
// artifact with no network: the charting library, the drawing script, the
// chart data and the styles are all inline, and its Content-Security-Policy
// forbids every request, so a stray URL cannot fetch anything either.

import { createHash } from 'node:crypto';
import { checkChart, ChartSpecError, type ChartSpec } from './charts.js';
import { chartAssets, type ChartAssets } from './assets.js';
import { drawCharts } from './client.js';
import { assignStyles, barFillOpacity, dataTable, groupOf, layoutChart, type RenderChart, type SeriesStyle } from './layout.js';

/** A cell's emphasis; the text must say the same on its own (the page is readable without colour). */
export type Tone = 'good' | 'bad' | 'warn' | 'muted';

/** A table cell: text, or text with a tone and a tooltip. */
export type TextCell = string | { text: string; tone?: Tone; title?: string };

export interface TableBlock {
  type: 'table';
  caption?: string;
  columns: { header: string; align?: 'left' | 'right' }[];
  /** Each row has one cell per column. */
  rows: TextCell[][];
  footnotes?: string[];
}

export interface ChartBlock {
  type: 'chart';
  chart: ChartSpec;
}

/** A paragraph. */
export interface TextBlock {
  type: 'text';
  text: string;
  tone?: Tone;
}

/** A list, e.g. warnings grouped by kind: a bold label, the text, a hint under it. */
export interface ListBlock {
  type: 'list';
  title?: string;
  items: { label?: string; text: string; hint?: string; tone?: Tone }[];
}

/** Label–value pairs (environment, parity, settings). */
export interface PairsBlock {
  type: 'pairs';
  title?: string;
  pairs: [label: string, value: string][];
}

/** Blocks folded under a summary; `print: true` unfolds them when printed. */
export interface DetailsBlock {
  type: 'details';
  summary: string;
  blocks: Block[];
  print?: boolean;
}

export type Block = TableBlock | ChartBlock | TextBlock | ListBlock | PairsBlock | DetailsBlock;

export interface HtmlSection {
  /** Anchor; from the title when absent. */
  id?: string;
  title: string;
  intro?: string;
  blocks: Block[];
}

/**
 * A report page: the verdict first (what a reader must see without
 * scrolling or clicking), then sections. Text only: no HTML is passed in,
 * every string is escaped.
 */
export interface HtmlDocument {
  title: string;
  /** Short facts under the title: tool and revision, run status, time. */
  meta?: [label: string, value: string][];
  verdict: { title?: string; summary?: string; tone?: Tone; blocks: Block[] };
  sections: HtmlSection[];
  /**
   * Series groups (runtimes) in the order their styles are given, so that bun
   * has the same colour, dash and symbol in every report of a project; groups
   * not listed follow in order of first appearance.
   */
  groups?: string[];
  /** Small print at the end (legends). */
  footer?: string[];
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * JSON that can sit inside `<script type="application/json">`: `<`, `>`
 * and `&` are written as \u escapes (so no `</script>` or `<!--` can appear),
 * and U+2028/U+2029 too; JSON.parse reads back the same value.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Text that would end an inline script early or switch the HTML parser into its escaped state. */
const SCRIPT_BREAKERS = /<\/script|<!--/i;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'section';

function cellHtml(cell: TextCell, tag: 'td' | 'th', align: 'left' | 'right' | undefined): string {
  const c = typeof cell === 'string' ? { text: cell } : cell;
  const cls = [align === 'right' ? 'num' : '', c.tone ? `tone-${c.tone}` : ''].filter((x) => x !== '').join(' ');
  return `<${tag}${cls ? ` class="${cls}"` : ''}${c.title ? ` title="${escapeHtml(c.title)}"` : ''}>${escapeHtml(c.text)}</${tag}>`;
}

function tableHtml(t: TableBlock): string {
  const head = t.columns.map((c) => `<th scope="col"${c.align === 'right' ? ' class="num"' : ''}>${escapeHtml(c.header)}</th>`).join('');
  const rows = t.rows.map((r) => `<tr>${r.map((cell, i) => cellHtml(cell, i === 0 ? 'th' : 'td', t.columns[i]?.align)).join('')}</tr>`).join('\n');
  const foot = (t.footnotes ?? []).map((f) => `<p class="footnote">${escapeHtml(f)}</p>`).join('');
  return `<div class="table-wrap"><table>${t.caption ? `<caption>${escapeHtml(t.caption)}</caption>` : ''}<thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table></div>${foot}`;
}

/** Plot's symbols as 24×14 key shapes centred at (12, 7). */
const SYMBOL_SHAPES: Record<string, string> = {
  circle: '<circle cx="12" cy="7" r="3.6"/>',
  square: '<rect x="8.6" y="3.6" width="6.8" height="6.8"/>',
  triangle: '<path d="M12 2.6 16.2 10.6H7.8Z"/>',
  diamond: '<path d="M12 2.4 16.6 7 12 11.6 7.4 7Z"/>',
  cross: '<path d="M10.6 2.8h2.8v2.8h2.8v2.8h-2.8v2.8h-2.8V8.4H7.8V5.6h2.8Z"/>',
  star: '<path d="M12 2.2 13.3 5.5 16.8 5.7 14.1 7.9 15 11.3 12 9.4 9 11.3 9.9 7.9 7.2 5.7 10.7 5.5Z"/>',
  wye: '<path d="M11 7.5V11.8h2V7.5l3.6-2.1-1-1.7L12 5.8 8.4 3.7l-1 1.7Z"/>',
  times: '<path d="M8.6 4.6 10.4 2.8 12 4.4 13.6 2.8 15.4 4.6 13.8 6.2 15.4 7.8 13.6 9.6 12 8 10.4 9.6 8.6 7.8 10.2 6.2Z"/>',
};

/**
 * A small key for a series, drawn as its marks are (the line's dash, the dots'
 * symbol, a filled or outlined bar), so the legend reads without colour.
 */
function swatch(style: SeriesStyle, kind: ChartSpec['kind'], index: number): string {
  const dash = style.dash === '' ? '' : ` stroke-dasharray="${style.dash}"`;
  const line = `<line x1="1" y1="7" x2="23" y2="7" stroke="currentColor" stroke-width="2"${dash}/>`;
  const symbol = (filled: boolean) =>
    `<g fill="${filled ? 'currentColor' : 'none'}" stroke="currentColor" stroke-width="1.3">${SYMBOL_SHAPES[style.symbol] ?? SYMBOL_SHAPES['circle']}</g>`;
  const shape =
    kind === 'bars-interval'
      ? `<rect x="5" y="2" width="14" height="10" fill="currentColor" fill-opacity="${barFillOpacity(index)}" stroke="currentColor" stroke-width="1.5"/>`
      : kind === 'plateau' || kind === 'scatter-fit'
        ? `${line}${symbol(true)}`
        : kind === 'dots' || kind === 'distributions'
          ? symbol(false)
          : line;
  return `<svg class="${style.cls}" width="24" height="14" viewBox="0 0 24 14" aria-hidden="true">${shape}</svg>`;
}

/** A checked chart and its drawing (undefined when no series is left to draw). */
export interface PreparedChart {
  spec: ChartSpec;
  render: RenderChart | undefined;
}

function chartHtml(p: PreparedChart, styles: Map<string, SeriesStyle>): string {
  const { spec } = p;
  const legend = spec.series.map((s, k) => `<li>${swatch(styles.get(groupOf(s))!, spec.kind, k)}${escapeHtml(s.name)}</li>`).join('');
  const table = dataTable(spec);
  const notes = (spec.notes ?? []).map((n) => `<li>${escapeHtml(n)}</li>`).join('');
  const marks = table.marks.map((m) => `<li>${escapeHtml(m)}</li>`).join('');
  const plot = p.render
    ? `<div class="plot"><noscript>The charts need JavaScript; every value is in the data table below.</noscript></div>`
    : `<div class="plot empty">No data to draw.</div>`;
  return [
    `<figure class="chart" id="chart-${spec.id}" data-kind="${spec.kind}" data-series="${spec.series.length}">`,
    `<figcaption><span class="chart-title">${escapeHtml(spec.title)}</span>${spec.caption ? ` <span class="chart-caption">${escapeHtml(spec.caption)}</span>` : ''}</figcaption>`,
    spec.series.length > 0 ? `<ul class="legend" aria-hidden="true">${legend}</ul>` : '',
    plot,
    notes ? `<ul class="chart-notes">${notes}</ul>` : '',
    `<details class="data"><summary>Data table</summary>`,
    tableHtml({ type: 'table', columns: table.head.map((h, i) => ({ header: h, align: i === 0 ? 'left' : 'right' })), rows: table.rows }),
    marks ? `<ul class="chart-marks">${marks}</ul>` : '',
    `</details>`,
    `</figure>`,
  ]
    .filter((l) => l !== '')
    .join('\n');
}

function blocksHtml(blocks: readonly Block[], prepared: Map<string, PreparedChart>, styles: Map<string, SeriesStyle>): string {
  const out: string[] = [];
  let grid: string[] = [];
  let pairGrid: string[] = [];
  const flush = () => {
    if (grid.length > 0) out.push(`<div class="chart-grid">\n${grid.join('\n')}\n</div>`);
    grid = [];
    // Label–value lists side by side (machine, runtimes, parity, settings): short lines, a screen less to scroll.
    if (pairGrid.length > 0) out.push(`<div class="pairs-grid">\n${pairGrid.join('\n')}\n</div>`);
    pairGrid = [];
  };
  for (const b of blocks) {
    if (b.type === 'chart') {
      if (pairGrid.length > 0) flush();
      grid.push(chartHtml(prepared.get(b.chart.id)!, styles));
      continue;
    }
    if (b.type === 'pairs') {
      if (grid.length > 0) flush();
      pairGrid.push(
        `<div>${b.title ? `<h3>${escapeHtml(b.title)}</h3>` : ''}<dl class="pairs">${b.pairs.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl></div>`,
      );
      continue;
    }
    flush();
    switch (b.type) {
      case 'table':
        out.push(tableHtml(b));
        break;
      case 'text':
        out.push(`<p${b.tone ? ` class="tone-${b.tone}"` : ''}>${escapeHtml(b.text)}</p>`);
        break;
      case 'list':
        out.push(
          `${b.title ? `<h3>${escapeHtml(b.title)}</h3>` : ''}<ul class="items">${b.items
            .map(
              (i) =>
                `<li${i.tone ? ` class="tone-${i.tone}"` : ''}>${i.label ? `<strong>${escapeHtml(i.label)}</strong> ` : ''}${escapeHtml(i.text)}${i.hint ? `<br><span class="hint">hint: ${escapeHtml(i.hint)}</span>` : ''}</li>`,
            )
            .join('')}</ul>`,
        );
        break;
      case 'details':
        out.push(`<details${b.print ? ' class="print-open"' : ''}><summary>${escapeHtml(b.summary)}</summary>\n${blocksHtml(b.blocks, prepared, styles)}\n</details>`);
        break;
    }
  }
  flush();
  return out.join('\n');
}

function chartsOf(blocks: readonly Block[]): ChartSpec[] {
  return blocks.flatMap((b) => (b.type === 'chart' ? [b.chart] : b.type === 'details' ? chartsOf(b.blocks) : []));
}

/** Every chart of a document, in page order (verdict first). */
export function documentCharts(doc: HtmlDocument): ChartSpec[] {
  return [...chartsOf(doc.verdict.blocks), ...doc.sections.flatMap((s) => chartsOf(s.blocks))];
}

/**
 * Checks every chart of `doc` (`checkChart`: structural problems throw,
 * undrawable values are dropped with a note) and lays it out; series styles
 * are assigned per group over the whole document, so a runtime has one
 * colour, dash and symbol everywhere. Charts with no series left are kept
 * (the page says "No data to draw") but get no drawing.
 * @throws ChartSpecError for a structural problem or a chart id used twice
 */
export function prepareCharts(doc: HtmlDocument): { charts: PreparedChart[]; styles: Map<string, SeriesStyle> } {
  const specs = documentCharts(doc);
  const seen = new Set<string>();
  const dup = specs.filter((s) => (seen.has(s.id) ? true : (seen.add(s.id), false)));
  if (dup.length > 0) throw new ChartSpecError(dup.map((s) => `chart "${s.id}": id: used by more than one chart`));
  const checked = specs.map(checkChart);
  const styles = assignStyles([...(doc.groups ?? []), ...checked.flatMap((s) => s.series.map(groupOf))]);
  return { charts: checked.map((spec) => ({ spec, render: spec.series.length > 0 ? layoutChart(spec, styles) : undefined })), styles };
}

/**
 * The whole report as one HTML string: no external reference of any kind
 * (scripts, styles and data inline; a Content-Security-Policy of
 * `default-src 'none'` with the inline scripts allowed by hash), light and
 * dark colours from `prefers-color-scheme`, a print stylesheet, the verdict
 * first, and for every chart a caption, a legend, notes and a data table in
 * a <details> as its text alternative (the SVG also gets an aria-label).
 *
 * Pure given `assets` (default: the installed d3 and Plot, read once).
 * @throws ChartSpecError (see `prepareCharts`); Error when an inlined script contains `</script` or `<!--`
 */
export function renderHtmlPage(doc: HtmlDocument, assets: ChartAssets = chartAssets()): string {
  const { charts, styles } = prepareCharts(doc);
  const prepared = new Map(charts.map((p) => [p.spec.id, p]));
  const boot = `(${drawCharts.toString()})(window);`;
  const scripts = [...assets.scripts.map((s) => ({ name: `${s.name} ${s.version}`, text: s.text })), { name: 'bench charts', text: boot }];
  for (const s of scripts) if (SCRIPT_BREAKERS.test(s.text)) throw new Error(`report/html: ${s.name} contains "</script" or "<!--" and cannot be inlined`);
  const drawn = charts.flatMap((p) => (p.render ? [p.render] : []));
  const csp = [
    "default-src 'none'",
    `script-src ${scripts.map((s) => `'sha256-${sha256(s.text)}'`).join(' ')}`,
    // Plot writes a <style> into each SVG and style attributes on its elements.
    "style-src 'unsafe-inline'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

  const sections = doc.sections.map((s, i) => ({ ...s, anchor: s.id ?? `${slug(s.title)}-${i + 1}` }));
  const nav = sections.length > 1 ? `<nav aria-label="Sections"><ol>${sections.map((s) => `<li><a href="#${escapeHtml(s.anchor)}">${escapeHtml(s.title)}</a></li>`).join('')}</ol></nav>` : '';
  const meta = (doc.meta ?? []).map(([k, v]) => `<span><b>${escapeHtml(k)}</b> ${escapeHtml(v)}</span>`).join('');
  const v = doc.verdict;
  const body = [
    `<header><h1>${escapeHtml(doc.title)}</h1>${meta ? `<p class="meta">${meta}</p>` : ''}</header>`,
    `<main>`,
    `<section class="verdict" aria-labelledby="verdict-title"><h2 id="verdict-title">${escapeHtml(v.title ?? 'Verdict')}</h2>`,
    v.summary ? `<p class="summary${v.tone ? ` tone-${v.tone}` : ''}">${escapeHtml(v.summary)}</p>` : '',
    blocksHtml(v.blocks, prepared, styles),
    `</section>`,
    nav,
    ...sections.map((s) => `<section id="${escapeHtml(s.anchor)}"><h2>${escapeHtml(s.title)}</h2>${s.intro ? `<p class="intro">${escapeHtml(s.intro)}</p>` : ''}\n${blocksHtml(s.blocks, prepared, styles)}\n</section>`),
    `</main>`,
    `<footer>${(doc.footer ?? []).map((f) => `<p>${escapeHtml(f)}</p>`).join('')}<p>Self-contained page: it makes no network request. Charts drawn with ${assets.scripts.map((s) => escapeHtml(`${s.name} ${s.version}`)).join(' and ')} (ISC licence), inlined.</p></footer>`,
  ].filter((l) => l !== '');

  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${escapeHtml(doc.title)}</title>`,
    `<style>${PAGE_CSS}</style>`,
    '</head>',
    '<body>',
    ...body,
    `<script type="application/json" id="bench-charts">${scriptJson(drawn)}</script>`,
    ...scripts.map((s) => `<script>${s.text}</script>`),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * Colours: Okabe & Ito's colour-blind-safe palette (2008), lightened for the
 * dark scheme; print always uses the light one. Series colours reach the SVG
 * through `color` and Plot's `currentColor`, so a scheme change needs no redraw.
 */
const PAGE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1b1f24; --muted: #5b6470; --line: #d5d9de; --panel: #f5f7f9;
  --good: #0a7a45; --bad: #b3261e; --warn: #8a5a00;
  --s0: #0072b2; --s1: #d55e00; --s2: #009e73; --s3: #cc79a7; --s4: #b07800; --s5: #3f8fc0; --s6: #6b6b6b; --s7: #8c564b;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15181c; --fg: #e6e9ed; --muted: #a2abb6; --line: #3a4048; --panel: #1e2227;
    --good: #5fd39a; --bad: #ff8a80; --warn: #f2c14e;
    --s0: #5ab4f0; --s1: #ff9a5c; --s2: #3fd6a8; --s3: #eea2d0; --s4: #f2c14e; --s5: #a6d8f7; --s6: #b5b5b5; --s7: #d3a99a;
  }
  /* A light colour at low opacity on a dark ground reads as mud: bands and spans need more. */
  .plot .band { fill-opacity: 0.26; }
  .plot .span, .plot .zone { fill-opacity: 0.14; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 16px; }
h1 { font-size: 1.45rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 16px 0 6px; }
.meta { color: var(--muted); margin: 0 0 8px; font-size: 0.9rem; display: flex; flex-wrap: wrap; gap: 4px 18px; }
.meta b { font-weight: 600; color: var(--fg); }
.verdict { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 4px 16px 12px; margin-top: 8px; }
.verdict h2 { border: 0; margin-top: 10px; }
.summary { font-size: 1.05rem; font-weight: 600; margin: 0 0 10px; }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 16px; list-style: none; padding: 0; margin: 14px 0 0; font-size: 0.9rem; }
a { color: var(--s0); }
.table-wrap { overflow-x: auto; margin: 8px 0; }
table { border-collapse: collapse; font-size: 0.86rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; white-space: nowrap; }
thead th { border-bottom: 2px solid var(--line); font-weight: 600; white-space: normal; vertical-align: bottom; }
tbody th { font-weight: 600; }
.num { text-align: right; }
.tone-good { color: var(--good); font-weight: 600; }
.tone-bad { color: var(--bad); font-weight: 700; }
.tone-warn { color: var(--warn); font-weight: 600; }
.tone-muted { color: var(--muted); }
.footnote, .hint, .intro, .chart-caption, .chart-notes, .chart-marks { color: var(--muted); font-size: 0.88rem; }
.footnote { margin: 2px 0; }
.hint { font-weight: normal; }
ul.items { padding-left: 20px; }
ul.items li { margin: 4px 0; }
dl.pairs { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 6px 0; font-size: 0.9rem; }
dl.pairs dt { font-weight: 600; }
dl.pairs dd { margin: 0; overflow-wrap: anywhere; }
details { margin: 6px 0; }
summary { cursor: pointer; color: var(--muted); }
.pairs-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(400px, 1fr)); gap: 0 32px; align-items: start; }
.chart-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 12px 28px; margin: 8px 0; }
figure.chart { margin: 8px 0; min-width: 0; break-inside: avoid; page-break-inside: avoid; }
figcaption { margin-bottom: 4px; }
.chart-title { font-weight: 650; }
.legend { display: flex; flex-wrap: wrap; gap: 2px 14px; list-style: none; padding: 0; margin: 2px 0 0; font-size: 0.85rem; }
.legend li { display: flex; align-items: center; gap: 4px; }
.plot { min-height: 60px; }
.plot svg { display: block; max-width: 100%; height: auto; }
.plot.empty { color: var(--muted); font-style: italic; padding: 20px 0; }
.chart-notes, .chart-marks { margin: 4px 0; padding-left: 18px; }
.s0 { color: var(--s0); } .s1 { color: var(--s1); } .s2 { color: var(--s2); } .s3 { color: var(--s3); }
.s4 { color: var(--s4); } .s5 { color: var(--s5); } .s6 { color: var(--s6); } .s7 { color: var(--s7); }
.plot .span, .plot .zone { color: var(--muted); }
.plot .rule { color: var(--muted); }
.plot .rule-bound { color: var(--bad); }
.plot .plain { color: var(--fg); }
.plot .tone-good { color: var(--good); } .plot .tone-bad { color: var(--bad); } .plot .tone-warn { color: var(--warn); }
.plot text { paint-order: stroke; stroke: var(--bg); stroke-width: 3px; stroke-linejoin: round; }
.plot .direct-label text, .plot .verdict text { font-weight: 650; }
.plot .span-label text, .plot .rule-label text { font-size: 11px; }
footer { color: var(--muted); font-size: 0.82rem; margin-top: 28px; padding-bottom: 24px; }
@media print {
  :root {
    --bg: #ffffff; --fg: #000000; --muted: #444444; --line: #bbbbbb; --panel: #ffffff;
    --good: #0a6a3c; --bad: #a00000; --warn: #6b4500;
    --s0: #0072b2; --s1: #d55e00; --s2: #009e73; --s3: #cc79a7; --s4: #b07800; --s5: #3f8fc0; --s6: #6b6b6b; --s7: #8c564b;
  }
  body { font-size: 11pt; }
  nav, details.data, noscript { display: none; }
  header, main, footer { max-width: none; padding: 0; }
  .verdict { border: 1px solid #999; }
  .chart-grid { grid-template-columns: 1fr; }
  h2 { break-after: avoid; page-break-after: avoid; }
  th, td { white-space: normal; }
}
`;
