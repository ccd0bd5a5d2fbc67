import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runtimeChoice, type ChoiceTable } from '../../core/choice.js';
import { compareResults } from '../../core/compare.js';
import { choiceDocument, compareDocument, shortVerdict } from '../../report/compare/html.js';
import { decisionFromDecisions, decisionVerdict, outcomeWords } from '../../report/decision.js';
import { getFormat } from '../../report/format.js';
import { caseTables, htmlErrorPage, htmlFormat, runDocument } from '../../report/html.js';
import { checkChart, type ChartSpec } from '../../report/html/charts.js';
import { documentCharts, renderHtmlPage, type Block, type HtmlDocument, type TableBlock } from '../../report/html/page.js';
import { SPECTRUM_PERCENTILES } from '../../report/html/spectrum.js';
import { formatCell, textRows } from '../../report/units.js';
import { buildView } from '../../report/view.js';
import { BROADCAST_CASE, CEILING_CASE, VOICE_CASE, comparisonForHtml, richResult } from '../helpers/html-results.js';
import { FIXTURE_RUNTIMES, IDLE_CASE, OPEN_CASE, loadFixture } from '../helpers/make-fixture.js';
import { syntheticResult } from '../helpers/synthetic.js';

/** A tiny stand-in for the inlined library: these tests need neither d3 nor a browser. */
const FAKE_ASSETS = { scripts: [{ name: 'fake-plot', version: '0.0.0', text: 'window.Plot = {};' }] };

const fixture = loadFixture();
const rich = richResult();
const { comparison, head } = comparisonForHtml();

const docs: [string, HtmlDocument][] = [
  ['run (fixture)', runDocument(fixture)],
  ['run (ceiling, voice, broadcast, gaps)', runDocument(rich)],
  ['compare', compareDocument(comparison)],
  ['choose', choiceDocument(runtimeChoice(head))],
];

function sectionCharts(doc: HtmlDocument, title: string): ChartSpec[] {
  const section = doc.sections.find((s) => s.title === title);
  assert.ok(section, `section "${title}" present`);
  const charts = (blocks: readonly Block[]): ChartSpec[] => blocks.flatMap((b) => (b.type === 'chart' ? [b.chart] : b.type === 'details' ? charts(b.blocks) : []));
  return charts(section.blocks);
}

const byId = (charts: readonly ChartSpec[], suffix: string) => {
  const c = charts.find((x) => x.id.endsWith(suffix));
  assert.ok(c, `chart …${suffix} among ${charts.map((x) => x.id).join(', ')}`);
  return c;
};

const tables = (blocks: readonly Block[]): TableBlock[] => blocks.flatMap((b) => (b.type === 'table' ? [b] : b.type === 'details' ? tables(b.blocks) : []));
const cellText = (c: TableBlock['rows'][number][number]) => (typeof c === 'string' ? c : c.text);

describe('every HTML document', () => {
  for (const [name, doc] of docs) {
    test(`${name}: every chart is drawable whole: no value dropped, no empty series, no NaN`, () => {
      const charts = documentCharts(doc);
      assert.ok(charts.length > 0);
      assert.equal(new Set(charts.map((c) => c.id)).size, charts.length, 'chart ids are unique');
      for (const spec of charts) {
        const checked = checkChart(spec);
        assert.ok(spec.series.length > 0, `${spec.id}: has series`);
        assert.equal(checked.series.length, spec.series.length, `${spec.id}: no series left out (${(checked.notes ?? []).join('; ')})`);
        for (const [i, s] of spec.series.entries()) {
          assert.ok(s.points.length > 0, `${spec.id}: ${s.name} has points`);
          assert.equal(checked.series[i]!.points.length, s.points.length, `${spec.id}: ${s.name}: every point drawable`);
          for (const [x, y] of s.points) assert.ok(Number.isFinite(y) && (typeof x === 'string' || Number.isFinite(x)), `${spec.id}: ${s.name}: ${x}, ${y}`);
        }
        assert.ok(spec.x.label && spec.y.label, `${spec.id}: axes labelled`);
      }
    });

    test(`${name}: renders one page, the verdict before every section`, () => {
      const html = renderHtmlPage(doc, FAKE_ASSETS);
      const verdict = html.indexOf('<section class="verdict"');
      assert.ok(verdict > 0);
      for (const s of doc.sections) assert.ok(html.indexOf(`<section id="${s.id}"`) > verdict, s.title);
      assert.doesNotMatch(html.slice(html.indexOf('id="bench-charts"')), /\b(NaN|null|Infinity)\b/);
      assert.equal((html.match(/<figure class="chart"/g) ?? []).length, documentCharts(doc).length);
    });
  }
});

describe('the run report from the stored fixture', () => {
  const doc = docs[0]![1];
  const view = buildView(fixture);

  test('opens with the decision: a line per case and a table with every runtime of every case, ranked', () => {
    assert.equal(doc.verdict.summary, `${OPEN_CASE}: undecided · ${IDLE_CASE}: undecided`);
    const [list, table] = doc.verdict.blocks as [Extract<Block, { type: 'list' }>, TableBlock];
    assert.deepEqual(list.items.map((i) => i.label), [`${OPEN_CASE}:`, `${IDLE_CASE}:`]);
    // The run's own decision (core/decide.ts), as the terminal ends in it: at a fixed rate every runtime carried,
    // ranked on server CPU per message, whatever the load generator's lateness; the fixture repeats one CPU figure
    // per runtime, so those pairs cannot be judged, and says so.
    assert.match(list.items[0]!.text, /bun: no spread between repetitions to judge by/);
    assert.equal(table.rows.length, 8);
    assert.deepEqual(table.rows.map((r) => cellText(r[0]!)), [OPEN_CASE, 'by server CPU/msg ↓', '', '', IDLE_CASE, 'by bytes/conn ↓', '', '']);
    assert.deepEqual(table.rows.slice(0, 4).map((r) => cellText(r[1]!)), ['node-uws', 'bun', 'deno', 'node-ws']);
    assert.equal(cellText(table.rows[0]![2]!), 'best');
    assert.equal(cellText(table.rows[0]![4]!), '1× (best)');
    assert.equal(cellText(table.rows[1]![2]!), 'undecided: no spread between repetitions to judge by');
    // Idle: memory per connection from the slopes, bun behind node-uws with its interval, deno with one repetition undecided.
    assert.equal(cellText(table.rows[5]![2]!), 'behind');
    assert.match(cellText(table.rows[5]![4]!), /^1\.\d\d× \(1\.\d\d–\d\.\d\d×\)$/);
    assert.equal(cellText(table.rows[6]![2]!), 'undecided: too few repetitions (3 each at least)');
    assert.equal(table.columns.map((c) => c.header).join(' | '), 'case, ranked by | runtime | standing | figure | ratio to best (99.2% interval) | CPU µs/msg | bytes/conn | peak RSS | n');
  });

  test('then environment and parity, warnings grouped by kind with the failed cells first, then one section per workload', () => {
    assert.deepEqual(doc.sections.map((s) => s.title), ['Environment and parity', 'Warnings (8) and failed cells (2)', OPEN_CASE, IDLE_CASE]);
    const env = doc.sections[0]!.blocks.filter((b) => b.type === 'pairs').map((b) => (b.type === 'pairs' ? b.title : ''));
    assert.deepEqual(env, ['Machine', 'Runtimes', 'Parity: effective server settings', 'Settings']);
    const lists = doc.sections[1]!.blocks.flatMap((b) => (b.type === 'list' ? [b] : []));
    assert.equal(lists[0]!.title, 'errored or skipped cells (2)');
    const codes = lists.slice(1).map((l) => l.title!.replace(/ \(\d+\)$/, ''));
    assert.deepEqual(codes, [...new Set(view.warnings.map((w) => w.code))]);
    assert.equal(lists.slice(1).reduce((n, l) => n + l.items.length, 0), view.warnings.length);
  });

  test("a workload's table is the view's, cell for cell, as the terminal and Markdown print it", () => {
    const [table] = tables(doc.sections[2]!.blocks);
    const c = view.cases.find((x) => x.name === OPEN_CASE)!;
    assert.deepEqual(table!.rows.map((r) => r.map(cellText)), textRows(c.rows));
    const bound = table!.rows.flat().find((x) => typeof x !== 'string' && x.text.startsWith('≥'));
    assert.ok(bound && typeof bound !== 'string' && bound.tone === 'warn', 'a bound is marked');
  });

  test('open loop: ratio to the best, the percentile spectrum, repetitions as dots, and three timelines', () => {
    const charts = sectionCharts(doc, OPEN_CASE);
    assert.deepEqual(
      charts.map((c) => c.kind),
      ['bars-interval', 'percentile-spectrum', 'dots', 'timeline', 'timeline', 'timeline'],
    );
    const ratio = byId(charts, '-ratio');
    assert.deepEqual(ratio.x.categories, ['bun', 'deno', 'node-ws']);
    // The fixture repeats one CPU figure per runtime: no spread, so no interval to draw as a whisker.
    assert.ok(ratio.series.every((s) => s.points.length === 1 && s.band === undefined));
    const spectrum = byId(charts, '-spectrum');
    assert.deepEqual(spectrum.series.map((s) => s.name), [...FIXTURE_RUNTIMES]);
    for (const s of spectrum.series) {
      assert.equal(s.points.length, SPECTRUM_PERCENTILES.length, `${s.name}: p50 … p99.99`);
      assert.equal(s.band?.length, SPECTRUM_PERCENTILES.length, `${s.name}: a band over 3 repetitions`);
    }
    // The ranked figure is server CPU per message here: one dots chart, not a second of the same figure.
    const cpuDots = byId(charts, '-dots');
    assert.equal(cpuDots.y.unit, 'µs/msg');
    for (const s of cpuDots.series) {
      const row = fixture.summary.find((r) => r.case === OPEN_CASE && r.runtime === s.name)!;
      assert.deepEqual(s.points.map(([, v]) => v), row.serverCpuUsPerMsg!.values);
      assert.deepEqual(s.center, [[s.name, row.serverCpuUsPerMsg!.median]]);
    }
    const [msgs, cpu, rss] = [byId(charts, '-t-msgs'), byId(charts, '-t-cpu'), byId(charts, '-t-rss')];
    for (const c of [msgs, cpu, rss]) assert.equal(c.series.length, 4, c.id);
    assert.ok(msgs.series.every((s) => s.points.length === 5), 'one point per second of the 5 s window');
    // /proc every 250 ms from the sampler's start (2.31 s before the window) to 0.25 s after it.
    assert.ok(cpu.series.every((s) => s.points.length >= 28 && s.points.some(([x]) => Number(x) < 0) && s.points.some(([x]) => Number(x) > 4.5)));
    const bun = cpu.series.find((s) => s.name === 'bun')!;
    const inWindow = bun.points.filter(([x]) => Number(x) > 0.25 && Number(x) <= 4.75).map(([, y]) => y);
    const utilPct = fixture.cells.find((c) => c.id === `${OPEN_CASE}/bun/2`)!.metrics!.serverCpuUtilPct;
    assert.ok(inWindow.every((y) => Math.abs(y - utilPct) < utilPct * 0.1), `CPU in the window near the cell's ${utilPct}%: ${inWindow.join(', ')}`);
  });

  test('idle: no latency to draw, so no spectrum and no delivered msgs/s; memory per connection as dots', () => {
    const charts = sectionCharts(doc, IDLE_CASE);
    assert.deepEqual(charts.map((c) => c.id.replace(/^w\d+-idle-/, '')), ['ratio', 'dots', 't-cpu', 't-rss']);
    const dots = byId(charts, '-dots');
    assert.equal(dots.y.unit, 'bytes');
    assert.deepEqual(dots.series.map((s) => s.points.length), [3, 3, 3, 1], 'deno: 1 of 3 completed');
  });

  test('a one-second window: no delivered msgs/s timeline (one point per runtime shows nothing over time)', () => {
    const short = structuredClone(fixture);
    for (const c of short.cells) if (c.raw) c.raw.timeline = c.raw.timeline.slice(0, 1);
    const ids = sectionCharts(runDocument(short), OPEN_CASE).map((c) => c.id);
    assert.ok(!ids.some((id) => id.endsWith('-t-msgs')), ids.join(', '));
    assert.ok(ids.some((id) => id.endsWith('-t-cpu')));
  });

  test('is the registered html format, pure, and a page of its own', () => {
    assert.equal(getFormat('html'), htmlFormat);
    const before = JSON.stringify(fixture);
    const a = renderHtmlPage(runDocument(fixture), FAKE_ASSETS);
    assert.equal(a, renderHtmlPage(runDocument(fixture), FAKE_ASSETS));
    assert.equal(JSON.stringify(fixture), before);
  });
});

describe('the run report with ceilings, real shapes and the two gaps', () => {
  const doc = docs[1]![1];

  test('a ceiling: its table, plateau curves of p99, CPU and RSS with the SLO drawn and each stop marked, and the memory fit', () => {
    const section = doc.sections.find((s) => s.title === CEILING_CASE)!;
    assert.match(tables(section.blocks)[0]!.caption!, /^connection ceiling: ceiling — SLO: heartbeat p99 ≤ 50 ms/);
    const charts = sectionCharts(doc, CEILING_CASE);
    assert.deepEqual(charts.map((c) => c.kind), ['plateau', 'plateau', 'plateau', 'scatter-fit']);
    const p99 = byId(charts, '-plateau-p99');
    assert.deepEqual(p99.series.map((s) => s.name), ['bun', 'node-ws', 'deno']);
    assert.deepEqual(p99.marks!.rules!.map((r) => [r.value, r.kind, r.label]), [[50_000, 'bound', 'SLO: p99 ≤ 50 ms']]);
    assert.deepEqual(p99.marks!.annotations!.map((a) => `${a.series}: ${a.text}`), ['bun: stopped: open-file limit', 'node-ws: stopped: latency', 'deno: stopped: open-file limit']);
    // deno exited at 20,044 and held none: its last point is where it aimed, not at 0.
    const deno = p99.series.find((s) => s.name === 'deno')!;
    assert.deepEqual(deno.points.map(([x]) => x), [2400, 4800, 7200, 9600, 12_000, 14_400, 16_800, 19_200, 20_044]);
    assert.ok(p99.notes!.some((n) => /bun: repetition \d of 2 drawn/.test(n)));
    assert.equal(byId(charts, '-plateau-cpu').marks!.rules![0]!.value, 95);
    const memory = byId(charts, '-memory');
    for (const s of memory.series) assert.ok(s.fit && s.fit.r2 > 0.99 && s.fit.slope > 0 && s.points.length >= 7, s.name);
  });

  test('a table wider than the page is cut between its column groups, the runtime repeated, every column once', () => {
    const view = buildView(rich).ceilings![0]!;
    const parts = caseTables(view, 'c');
    assert.equal(parts.length, 2, 'traffic and server in one, the projections in another');
    assert.ok(parts.every((t) => t.columns[0]!.header === 'runtime'));
    assert.deepEqual(parts.flatMap((t) => t.columns.slice(1).map((c) => c.header)), view.columns.slice(1).map((c) => c.header.filter((h) => h !== '').join(' ').replace(/\/ /g, '/')));
    assert.deepEqual([parts[0]!.caption, parts[1]!.caption], ['c', undefined]);
    assert.deepEqual([parts[0]!.footnotes, parts[1]!.footnotes], [undefined, view.footnotes]);
    assert.equal(caseTables(buildView(fixture).cases[0]!).length, 1, 'the 13 columns of an echo case fit');
  });

  test('voice: the relay table first, the first-chunk spectrum and what the relay adds, by percentile', () => {
    const section = doc.sections.find((s) => s.title === VOICE_CASE)!;
    assert.equal(tables(section.blocks)[0]!.caption, `${VOICE_CASE} — relay — voice relay through the simulated upstream · medians over repetitions`);
    const charts = sectionCharts(doc, VOICE_CASE);
    const first = byId(charts, '-spectrum');
    assert.match(first.title, /first reply chunk/);
    assert.equal(first.series.length, 4);
    const relay = byId(charts, '-relay');
    assert.equal(relay.kind, 'percentile-spectrum');
    // 240 turns per repetition: p50, p90 and p99 are supported, p99.9 is not.
    assert.deepEqual(relay.series.map((s) => s.points.map(([p]) => p)), Array(4).fill([50, 90, 99]));
    assert.ok(relay.series.every((s) => s.band?.length === 3));
    const bun = rich.cells.filter((c) => c.case === VOICE_CASE && c.runtime === 'bun').map((c) => c.metrics!.voice!.relayOverheadUs.p50Us).sort((a, b) => a - b);
    assert.deepEqual(relay.series[0]!.points[0], [50, bun[1]]);
  });

  test('fan-out: delivery to every member and to the last member, by percentile', () => {
    const charts = sectionCharts(doc, BROADCAST_CASE);
    assert.match(byId(charts, '-spectrum').title, /delivery latency/);
    const last = byId(charts, '-last-member');
    assert.equal(last.series.length, 4);
    assert.ok(last.series.every((s) => s.points.length > 20));
    const fanout = tables(doc.sections.find((s) => s.title === BROADCAST_CASE)!.blocks)[0]!;
    assert.match(fanout.caption!, /fan-out/);
  });

  test('the two gaps: every figure of the gap table as a ratio to the reference', () => {
    const view = buildView(rich).shapes.find((s) => s.scenario === 'gaps')!;
    const chart = sectionCharts(doc, view.name)[0]!;
    assert.equal(chart.kind, 'bars-interval');
    assert.deepEqual(chart.x.categories, ['bun', 'node-uws', 'deno']);
    assert.equal(chart.series.length, 3);
    const col = view.columns.findIndex((c) => c.id.startsWith('syn:'));
    const ref = view.rows.find((r) => String(r[0]).endsWith('(ref)'))![col]!;
    const bun = view.rows.find((r) => r[0] === 'bun')![col]!;
    assert.ok(typeof ref !== 'string' && typeof bun !== 'string');
    assert.ok(Math.abs((chart.series[0]!.points[0]![1] as number) - bun.value / ref.value) < 1e-12);
    assert.match(formatCell(bun), /\(0\.\d\d×\)$/, 'the table says the same ratio');
  });

  test('stepped idle runs: memory per connection as points and a fit', () => {
    const memory = byId(sectionCharts(doc, IDLE_CASE), '-memory');
    assert.equal(memory.kind, 'scatter-fit');
    assert.deepEqual(memory.series.map((s) => s.points.length), [5, 5, 5, 5]);
  });
});

describe('the comparison report', () => {
  const doc = docs[2]![1];

  test('opens with the counts and the changed rows, the verdicts in words and tone', () => {
    // Counts of the primary rows (the figures each case declares); secondary rows are listed but never gate.
    assert.equal(doc.verdict.summary, '1 regression, 0 improvements, 0 suspect, 11 unchanged');
    assert.equal(doc.verdict.tone, 'bad');
    const table = tables(doc.verdict.blocks)[0]!;
    assert.equal(table.caption, 'Changed or suspect (8)');
    const verdicts = table.rows.map((r) => r[r.length - 1]!);
    assert.deepEqual(verdicts.slice(0, 2).map((v) => (typeof v === 'string' ? v : `${v.text} (${v.tone})`)), ['worse (secondary, does not gate) (muted)', 'REGRESSION (bad)']);
    assert.deepEqual(table.rows.slice(0, 2).map((r) => `${cellText(r[0]!)} ${cellText(r[1]!)} ${cellText(r[2]!)}`), ['echo bun p99 ↓', 'echo-rate@20000/s bun p99 ↓ [primary]']);
  });

  test('per case one chart per metric: per runtime base and head repetitions, the zone, the interval and the verdict', () => {
    assert.deepEqual(doc.sections.map((s) => s.title), ['echo', 'echo-rate@20000/s', 'How this was decided']);
    const charts = sectionCharts(doc, 'echo');
    const metrics = [...new Set(comparison.rows.filter((r) => r.case === 'echo').map((r) => r.metric))];
    assert.equal(charts.length, metrics.length);
    for (const c of charts) {
      assert.equal(c.kind, 'distributions');
      assert.deepEqual(c.series.map((s) => s.name), ['base', 'head']);
      assert.deepEqual(c.x.categories, ['bun', 'node-ws', 'node-uws', 'deno']);
      for (const s of c.series) assert.equal(s.points.length, 40, `${c.id} ${s.name}: 10 repetitions × 4 runtimes`);
      assert.equal(c.marks!.spans!.length, 4, 'a minimum-effect zone per runtime');
      assert.equal(c.marks!.annotations!.length, 4, 'a verdict per runtime');
    }
    const p99 = charts.find((c) => c.title === 'echo: p99 ↓')!;
    const bun = comparison.rows.find((r) => r.case === 'echo' && r.runtime === 'bun' && r.metric === 'latencyP99Us')!;
    assert.equal(p99.marks!.annotations![0]!.text, shortVerdict(bun));
    assert.match(shortVerdict(bun), /^REGRESSION \+1\d%$/);
    assert.equal(p99.marks!.annotations![0]!.tone, 'bad');
    const [lo, hi] = [bun.base.median * (1 - bun.thresholdPct / 100), bun.base.median * (1 + bun.thresholdPct / 100)];
    assert.deepEqual(p99.marks!.spans![0], { axis: 'y', at: 'bun', from: lo, to: hi, label: `±${bun.thresholdPct}%` });
    const band = p99.series[1]!.band!.find(([c]) => c === 'bun')!;
    assert.ok(band[1] > hi, 'a regression: the whole interval beyond the zone on the worse side');
  });

  test('a comparison with nothing changed says so', () => {
    const a = syntheticResult({ seed: 3 });
    const doc2 = compareDocument(compareResults(a, syntheticResult({ seed: 4 })));
    assert.deepEqual(doc2.verdict.blocks.find((b) => b.type === 'text'), { type: 'text', text: 'No regressions, improvements or suspect rows.', tone: 'good' });
  });
});

describe('the decision', () => {
  const choice = (o: Parameters<typeof syntheticResult>[0]): ChoiceTable => runtimeChoice(syntheticResult({ serverBound: true, ...o }));
  const decisionOf = (t: ChoiceTable) => decisionFromDecisions(t.cases.map((c) => c.decision));
  const cases: { name: string; table: ChoiceTable; outcome: string; words: string }[] = [
    { name: 'one runtime significantly ahead', table: choice({ seed: 5, factors: { 'node-ws': { msgsPerSec: 0.7 } } }), outcome: 'winner', words: 'bun wins' },
    { name: 'two runtimes alike', table: choice({ seed: 5 }), outcome: 'equivalent', words: 'equivalent' },
    { name: 'one alike, one behind', table: choice({ seed: 5, runtimes: ['bun', 'deno', 'node-ws'], factors: { 'node-ws': { msgsPerSec: 0.7 } } }), outcome: 'tie', words: 'no winner (tie)' },
    { name: 'two repetitions', table: choice({ seed: 5, repeat: 2, factors: { 'node-ws': { msgsPerSec: 0.7 } } }), outcome: 'undecided', words: 'undecided' },
    { name: 'a single runtime', table: choice({ seed: 5, runtimes: ['bun'] }), outcome: 'single', words: 'only bun ran' },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.outcome}`, () => {
      const d = decisionOf(c.table).cases[0]!;
      assert.equal(d.outcome, c.outcome);
      assert.equal(outcomeWords(d), c.words);
      assert.equal(d.rows[0]!.figure.unit, 'msgs/s');
      assert.equal(d.rows[0]!.ratio?.value, 1);
    });
  }

  test('a winner is said in the summary and in its line, in the good tone', () => {
    const v = decisionVerdict(decisionOf(cases[0]!.table));
    assert.equal(v.summary, 'echo: bun wins');
    assert.equal(v.tone, 'good');
    const list = v.blocks[0]!;
    assert.ok(list.type === 'list' && list.items[0]!.tone === 'good' && list.items[0]!.text.startsWith('winner bun — '));
  });

  test('nothing to decide yet', () => {
    assert.deepEqual(decisionVerdict({ cases: [], method: [] }).blocks, []);
  });
});

describe('the runtime-choice report', () => {
  test('the decision first, then per case the ratio to the best with its interval', () => {
    const doc = docs[3]![1];
    const t = runtimeChoice(head);
    assert.equal(tables(doc.verdict.blocks)[0]!.rows.length, t.cases.reduce((n, c) => n + c.decision.ranking.length, 0));
    assert.deepEqual(doc.sections.map((s) => s.title), ['Ratio to the best, per case']);
    const all = sectionCharts(doc, 'Ratio to the best, per case');
    assert.equal(all.length, t.cases.length);
    const chart = all[0]!;
    assert.equal(chart.kind, 'bars-interval');
    const ranking = t.cases[0]!.decision.ranking;
    assert.deepEqual(chart.x.categories, ranking.slice(1).map((r) => r.runtime));
    for (const s of chart.series) {
      const row = ranking.find((r) => r.runtime === s.name)!;
      assert.deepEqual(s.points, [[s.name, row.ratioToBest]]);
      assert.deepEqual(s.band, [[s.name, row.low!, row.high!]]);
    }
  });
});

test('the error page names the error, escapes it, and runs no script', () => {
  const page = htmlErrorPage('bench — <run>', new TypeError('bad <input>'));
  assert.match(page, /TypeError: bad &lt;input&gt;/);
  assert.match(page, /<title>bench — &lt;run&gt;<\/title>/);
  assert.doesNotMatch(page, /<script/);
});
