import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ProcSample } from '../../core/sampler.js';
import { decodeHistogram, mergeHistograms, summarizeHistogram } from '../../loadgen/histogram.js';
import { CHART_KINDS, ChartSpecError, checkChart, type ChartSpec } from '../../report/html/charts.js';
import { drawCharts, type WindowLike } from '../../report/html/client.js';
import { compareDistributions, plateauChart, ratioBars, repetitionDots } from '../../report/html/figures.js';
import { assignStyles, dataTable, layoutChart, spreadLabels, type Layer, type RenderChart } from '../../report/html/layout.js';
import { documentCharts, escapeHtml, renderHtmlPage, scriptJson } from '../../report/html/page.js';
import { percentileSpectrum, SPECTRUM_PERCENTILES } from '../../report/html/spectrum.js';
import { linearAxis, logAxis, percentileAxis, percentileToX, tickLabel, xToPercentile } from '../../report/html/ticks.js';
import { caseTimelines, cellsByRuntime, cpuPctSeries, deliveredSeries, interpolate, rssSeries, type TimelineCell } from '../../report/html/timeline.js';
import { ceilingMetrics } from '../helpers/ceiling-cells.js';
import { fixtureDocument, handMadeDocument, HOSTILE } from '../helpers/html-documents.js';
import { FIXTURE_RUNTIMES, IDLE_CASE, OPEN_CASE, loadFixture } from '../helpers/make-fixture.js';

const fixture = loadFixture();

/** A tiny stand-in for the inlined library, so these tests need neither d3 nor a browser. */
const FAKE_ASSETS = { scripts: [{ name: 'fake-plot', version: '0.0.0', text: 'window.Plot = {};' }] };

const base: ChartSpec = {
  id: 'c1',
  kind: 'timeline',
  title: 't',
  x: { label: 'time', unit: 's', scale: 'linear' },
  y: { label: 'RSS', unit: 'bytes', scale: 'linear' },
  series: [{ name: 'bun', points: [[0, 1], [1, 2]] }],
};

/** Every number in a JSON value (to check no NaN/Infinity became null or slipped through). */
function numbersIn(v: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) for (const x of v) numbersIn(x, out);
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) numbersIn(x, out);
  else if (typeof v === 'number' || v === null) out.push(v);
  return out;
}

function chartsJson(html: string): RenderChart[] {
  const m = /<script type="application\/json" id="bench-charts">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'chart data script present');
  return JSON.parse(m[1]!) as RenderChart[];
}

describe('axis ticks', () => {
  test('a linear axis picks one display unit and whole steps', () => {
    const a = linearAxis(0, 49_987, 'msgs/s', 'delivered');
    assert.equal(a.title, 'delivered (k msgs/s)');
    assert.deepEqual(a.labels, ['0', '10', '20', '30', '40', '50']);
    assert.deepEqual(a.domain, [0, 50_000]);
    const r = linearAxis(0, 52 * 1024 * 1024, 'bytes', 'RSS');
    assert.equal(r.title, 'RSS (MiB)');
    assert.equal(r.labels[r.labels.length - 1], '60');
    assert.equal(linearAxis(0, 45_000, 'connections', 'open connections').title, 'open connections (thousands)');
  });

  test('a flat linear range still gets a span', () => {
    const a = linearAxis(5, 5, '%', 'CPU');
    assert.ok(a.domain[0] < 5 && a.domain[1] > 5);
  });

  const logCases: { lo: number; hi: number; unit: Parameters<typeof logAxis>[2]; labels: string[] }[] = [
    { lo: 200, hi: 48_000, unit: 'µs', labels: ['200 µs', '500 µs', '1 ms', '2 ms', '5 ms', '10 ms', '20 ms', '50 ms'] },
    { lo: 130, hi: 40_000, unit: 'µs', labels: ['100 µs', '500 µs', '1 ms', '5 ms', '10 ms', '50 ms'] },
    { lo: 150, hi: 2_500_000, unit: 'µs', labels: ['100 µs', '1 ms', '10 ms', '100 ms', '1 s'] },
    { lo: 0.3, hi: 1.6, unit: '×', labels: ['0.2×', '0.5×', '1×', '2×'] },
  ];
  for (const c of logCases) {
    test(`a log axis over ${c.lo}–${c.hi} ${c.unit} is labelled ${c.labels.join(', ')}`, () => {
      const a = logAxis(c.lo, c.hi, c.unit, 'v');
      assert.deepEqual(a.labels, c.labels);
      assert.ok(a.domain[0] <= c.lo && a.domain[1] >= c.hi);
    });
  }

  test('the percentile axis is 1/(1 − p) with ticks 50% … 99.99%', () => {
    assert.equal(percentileToX(50), 2);
    assert.ok(Math.abs(percentileToX(99.9) - 1000) < 1e-6);
    assert.ok(Math.abs(xToPercentile(percentileToX(99.99)) - 99.99) < 1e-9);
    const a = percentileAxis(50, 99.99);
    assert.deepEqual(a.labels, ['50%', '90%', '99%', '99.9%', '99.99%']);
    assert.equal(a.type, 'log');
    assert.deepEqual(percentileAxis(50, 99.9).labels, ['50%', '90%', '99%', '99.9%']);
  });

  const labelCases: [number, Parameters<typeof tickLabel>[1], string][] = [
    [1000, 'µs', '1 ms'],
    [2500, 'µs', '2.5 ms'],
    [500, 'µs', '500 µs'],
    [1_000_000, 'µs', '1 s'],
    [4 * 1024, 'bytes', '4 KiB'],
    [20_000, 'msgs/s', '20k'],
    [50, '%', '50%'],
    [0.5, '×', '0.5×'],
  ];
  for (const [v, unit, text] of labelCases) test(`tick ${v} ${unit} reads ${text}`, () => assert.equal(tickLabel(v, unit), text));
});

describe('checkChart', () => {
  test('drops non-finite values and values a log axis cannot show, with a note per series', () => {
    const c = checkChart({
      ...base,
      y: { label: 'latency', unit: 'µs', scale: 'log' },
      series: [
        { name: 'bun', points: [[0, 1], [1, Number.NaN], [2, Number.POSITIVE_INFINITY], [3, 0], [4, 5]], band: [[0, 2, 1]] },
        { name: 'deno', points: [[0, Number.NaN]] },
      ],
    });
    assert.equal(c.series.length, 1);
    assert.deepEqual(c.series[0]!.points, [[0, 1], [4, 5]]);
    assert.equal(c.series[0]!.band, undefined);
    assert.match(c.notes!.join('\n'), /bun: left out 2 × y not a finite number, 1 × y not positive on a log axis, 1 × band low above high/);
    assert.match(c.notes!.join('\n'), /deno: no drawable points .*left out/);
  });

  test('drops percentiles outside (0, 100) and marks that cannot be placed', () => {
    const c = checkChart({
      ...base,
      kind: 'percentile-spectrum',
      x: { label: 'percentile', unit: 'percentile', scale: 'percentile' },
      y: { label: 'latency', unit: 'µs', scale: 'log' },
      series: [{ name: 'bun', points: [[50, 100], [100, 900], [99.9, 800]] }],
      marks: { rules: [{ axis: 'y', value: -1, label: 'bad bound' }], annotations: [{ at: [99.9, 800], text: 'x', series: 'nobody' }] },
    });
    assert.deepEqual(c.series[0]!.points, [[50, 100], [99.9, 800]]);
    assert.equal(c.marks!.rules!.length, 0);
    assert.equal(c.marks!.annotations!.length, 0);
    assert.equal(c.notes!.length, 3);
  });

  const structural: [string, Partial<ChartSpec>, RegExp][] = [
    ['an id that is not [a-z0-9-]', { id: 'Bad Id' }, /id: must match/],
    ['an unknown kind', { kind: 'pie' as ChartSpec['kind'] }, /kind: must be one of/],
    ['an x scale the kind does not take', { kind: 'dots' }, /a dots chart takes category/],
    ['a category y axis', { y: { label: 'y', unit: 'category', scale: 'category', categories: ['a'] } }, /y.scale: must be linear or log/],
    ['duplicate series names', { series: [{ name: 'a', points: [[0, 1]] }, { name: 'a', points: [[1, 1]] }] }, /duplicate series "a"/],
    ['a string x on a numeric axis', { series: [{ name: 'a', points: [['x', 1]] }] }, /expected a number/],
    ['a fit on a timeline', { series: [{ name: 'a', points: [[0, 1]], fit: { slope: 1, intercept: 0, r2: 1 } }] }, /only a scatter-fit chart draws fits/],
  ];
  for (const [what, patch, pattern] of structural) {
    test(`throws E_INVALID_CHART for ${what}`, () => {
      assert.throws(
        () => checkChart({ ...base, ...patch }),
        (e: unknown) => e instanceof ChartSpecError && e.code === 'E_INVALID_CHART' && e.problems.some((p) => pattern.test(p)),
      );
    });
  }

  test('a category value that is not a listed category is a structural error', () => {
    const spec = repetitionDots({ id: 'd', title: 'd', y: { label: 'p99', unit: 'µs', scale: 'log' }, rows: [{ name: 'bun', values: [1, 2] }] });
    spec.series[0]!.points.push(['deno', 3]);
    assert.throws(() => checkChart(spec), /"deno" is not one of x.categories/);
  });
});

describe('spreadLabels', () => {
  const cases: { name: string; ys: number[]; expected: number[] }[] = [
    { name: 'leaves labels that do not touch', ys: [10, 50, 90], expected: [10, 50, 90] },
    { name: 'pushes a crowded label down', ys: [50, 52], expected: [50, 64] },
    { name: 'keeps the input order of equal labels', ys: [40, 40, 40], expected: [40, 54, 68] },
    { name: 'moves up from the bottom bound', ys: [95, 96], expected: [86, 100] },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(spreadLabels(c.ys, 14, 0, 107), c.expected));

  test('never leaves two labels closer than their heights', () => {
    const ys = [100, 101, 99, 250, 102, 30, 31];
    const heights = [14, 28, 14, 14, 14, 14, 28];
    const out = spreadLabels(ys, heights, 0, 400);
    const boxes = out.map((y, i) => [y - heights[i]! / 2, y + heights[i]! / 2] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < boxes.length; i++) assert.ok(boxes[i]![0] >= boxes[i - 1]![1] - 1e-9, `label ${i} overlaps`);
  });
});

describe('percentileSpectrum from the fixture', () => {
  const byRt = cellsByRuntime(fixture.cells, OPEN_CASE, FIXTURE_RUNTIMES);
  const spec = percentileSpectrum({ id: 'open', title: 'open', series: byRt.map((r) => ({ name: r.runtime, encoded: r.cells.map((c) => c.raw!.latencyEncoded) })) });

  test('one series per runtime, one point per percentile, a band over the 3 repetitions', () => {
    assert.deepEqual(spec.series.map((s) => s.name), [...FIXTURE_RUNTIMES]);
    for (const s of spec.series) {
      assert.deepEqual(s.points.map(([p]) => p), [...SPECTRUM_PERCENTILES]);
      assert.equal(s.band!.length, s.points.length);
    }
  });

  test('the line is the merged histogram: non-decreasing, inside the band, its p99 the merged p99', () => {
    for (const s of spec.series) {
      const cells = byRt.find((r) => r.runtime === s.name)!.cells;
      const merged = summarizeHistogram(mergeHistograms(cells.map((c) => decodeHistogram(c.raw!.latencyEncoded))));
      assert.equal(s.points.find(([p]) => p === 99)![1], merged.p99Us);
      s.points.forEach(([p, v], i) => {
        if (i > 0) assert.ok(v >= s.points[i - 1]![1], `${s.name} non-decreasing at p${p}`);
        const [, lo, hi] = s.band![i]!;
        assert.ok(lo <= v && v <= hi, `${s.name} p${p}: ${lo} ≤ ${v} ≤ ${hi}`);
      });
    }
  });

  test('an idle case (empty histograms) leaves every runtime out, with a note each', () => {
    const idle = percentileSpectrum({ id: 'idle', title: 'idle', series: cellsByRuntime(fixture.cells, IDLE_CASE, FIXTURE_RUNTIMES).map((r) => ({ name: r.runtime, encoded: r.cells.map((c) => c.raw!.latencyEncoded) })) });
    assert.equal(idle.series.length, 0);
    assert.equal(idle.notes!.length, 4);
  });

  test('percentiles the data cannot support are not drawn', () => {
    const one = byRt[0]!.cells[0]!.raw!.latencyEncoded;
    const n = Number(decodeHistogram(one).hdr.totalCount);
    const s = percentileSpectrum({ id: 'x', title: 'x', series: [{ name: 'bun', encoded: [one] }], percentiles: [50, 99, 99.99, 99.999] });
    const drawn = s.series[0]!.points.map(([p]) => p);
    for (const p of drawn) assert.ok(n * (1 - Number(p) / 100) >= 1 - 1e-9);
    assert.ok(!drawn.includes(99.999));
    assert.equal(s.series[0]!.band, undefined, 'one repetition: no band');
    assert.match(s.notes!.join(' '), /drawn up to/);
  });
});

describe('timelines', () => {
  const sample = (tMs: number, cpuUs: number, rssBytes: number): ProcSample => ({
    tMs,
    cpuUserUs: cpuUs * 0.75,
    cpuSystemUs: cpuUs * 0.25,
    rssBytes,
    peakRssBytes: rssBytes,
    threads: 1,
    fds: 1,
    kernelTcpMemBytes: 0,
  });
  const cell: TimelineCell = {
    timeline: [0, 1, 2].map((second) => ({ second, sentMsgs: 100, receivedMsgs: 90 + second, sentBytes: 0, receivedBytes: 0 })),
    // Half a core for the first 500 ms, then a full core; RSS grows 1 MiB per 250 ms.
    samples: [sample(1000, 0, 10e6), sample(1250, 125_000, 11e6), sample(1500, 250_000, 12e6), sample(1750, 500_000, 13e6), sample(2000, 750_000, 14e6)],
    phasesMs: { connectedAt: 500, measureStart: 1500, measureEnd: 2000 },
  };

  test('CPU % is the CPU time per 250 ms step, on a grid aligned to the measured window', () => {
    assert.deepEqual(cpuPctSeries(cell), [[-0.25, 50], [0, 50], [0.25, 100], [0.5, 100]]);
  });

  test('RSS is interpolated on the same grid', () => {
    assert.deepEqual(rssSeries(cell), [[-0.5, 10e6], [-0.25, 11e6], [0, 12e6], [0.25, 13e6], [0.5, 14e6]]);
    assert.equal(interpolate([0, 1], [0, 10], 0.25), 2.5);
    assert.equal(interpolate([0, 1], [0, 10], 2), undefined);
  });

  test('delivered msgs/s: one point per 1-s bucket at its middle', () => {
    assert.deepEqual(deliveredSeries(cell), [[0.5, 90], [1.5, 91], [2.5, 92]]);
  });

  test('from the fixture: three charts, one series per runtime, medians with a band over repetitions', () => {
    const byRt = cellsByRuntime(fixture.cells, OPEN_CASE, FIXTURE_RUNTIMES);
    const charts = caseTimelines({ idPrefix: 'open', series: byRt.map((r) => ({ name: r.runtime, cells: r.cells.map((c) => c.raw!) })) });
    assert.deepEqual(charts.map((c) => c.id), ['open-msgs', 'open-cpu', 'open-rss']);
    const msgs = charts[0]!;
    for (const s of msgs.series) {
      const cells = byRt.find((r) => r.runtime === s.name)!.cells;
      assert.equal(s.points.length, 5);
      s.points.forEach(([x, y], i) => {
        const values = cells.map((c) => c.raw!.timeline[i]!.receivedMsgs).sort((a, b) => a - b);
        assert.equal(x, i + 0.5);
        assert.equal(y, values[1]);
        assert.deepEqual(s.band![i], [i + 0.5, values[0], values[2]]);
      });
    }
    for (const c of charts) for (const s of c.series) for (const [, y] of s.points) assert.ok(Number.isFinite(y) && y >= 0);
    assert.deepEqual(charts[1]!.marks!.spans![0], { axis: 'x', from: 0, to: 5, label: 'measured window' });
  });

  test('a runtime with no completed cell is left out with a note', () => {
    const byRt = cellsByRuntime(fixture.cells, IDLE_CASE, FIXTURE_RUNTIMES);
    const charts = caseTimelines({ idPrefix: 'idle', series: [...byRt.map((r) => ({ name: r.runtime, cells: r.cells.map((c) => c.raw!) })), { name: 'ghost', cells: [] }] });
    assert.deepEqual(charts.map((c) => c.id), ['idle-cpu', 'idle-rss'], 'nothing delivered: no msgs/s chart');
    assert.equal(charts[1]!.series.length, 4);
    assert.match(charts[1]!.notes!.join(' '), /ghost: no data \(no completed repetition\)/);
  });
});

describe('figure helpers', () => {
  const doc = handMadeDocument();
  const byId = new Map(documentCharts(doc).map((c) => [c.id, c]));

  test('plateau: one series and one stop annotation per runtime, the SLO bound drawn once', () => {
    const p = byId.get('hand-plateau-p99')!;
    assert.equal(p.series.length, 4);
    assert.deepEqual(p.marks!.annotations!.map((a) => a.text), ['stopped: latency', 'stopped: latency', 'stopped: open-file limit', 'stopped: latency']);
    assert.deepEqual(p.marks!.rules, [{ axis: 'y', value: 50_000, label: 'SLO: p99 ≤ 50 ms', kind: 'bound' }]);
    // node-ws stops at its first bad plateau (25k), node-uws at its last (the open-file limit is not an SLO breach).
    assert.deepEqual(p.marks!.annotations![1]!.at[0], 25_000);
    assert.deepEqual(p.marks!.annotations![2]!.at[0], 50_000);
  });

  test('memory: points and a fit per runtime', () => {
    const m = byId.get('hand-memory')!;
    assert.equal(m.kind, 'scatter-fit');
    assert.deepEqual(m.series.map((s) => s.fit!.slope), [3_180, 10_240, 2_450, 6_630]);
  });

  test('compare: a minimum-effect zone per runtime, the shift interval on head, the verdict above', () => {
    const c = compareDistributions({
      id: 'cmp',
      title: 'cmp',
      y: { label: 'p99', unit: 'µs', scale: 'log' },
      rows: [{ category: 'bun', base: [100, 100, 100], head: [120, 121, 119], shiftPct: { low: 18, high: 22 }, thresholdPct: 10, verdict: 'REGRESSION +20%' }, { category: 'deno', base: [], head: [1], thresholdPct: 10, verdict: '–' }],
    });
    assert.deepEqual(c.x.categories, ['bun']);
    assert.deepEqual(c.marks!.spans, [{ axis: 'y', at: 'bun', from: 90, to: 110.00000000000001, label: '±10%' }]);
    assert.deepEqual(c.series[1]!.band, [['bun', 118, 122]]);
    assert.deepEqual(c.marks!.annotations, [{ at: ['bun', 122], text: 'REGRESSION +20%' }]);
    assert.match(c.notes!.join(), /deno: a side has no repetition/);
  });

  test('ratio bars: a log ratio axis with the reference as the 1× rule', () => {
    const r = ratioBars({ id: 'r', title: 'r', label: 'CPU', categories: ['a', 'b'], reference: 'b', series: [{ name: 's', values: [{ category: 'a', ratio: 0.5, low: 0.4, high: 0.6 }] }] });
    assert.equal(r.y.scale, 'log');
    assert.deepEqual(r.marks!.rules![0], { axis: 'y', value: 1, label: '1× = b', kind: 'reference' });
    assert.deepEqual(r.series[0]!.band, [['a', 0.4, 0.6]]);
  });

  test('plateau: a plateau that broke sits at the connections it aimed for, not at what it held after a crash', () => {
    const c = ceilingMetrics({
      bytesPerConn: 20_000,
      upTo: 19_200,
      bad: { targetConnections: 20_044, connections: 0, drops: 19_200, verdict: { ok: false, cause: 'fd-limit', limitClass: 'environment', atFdLimit: 'exited' } },
    });
    const last = c.plateaus[c.plateaus.length - 1]!;
    const chart = plateauChart({ id: 'crash', title: 'crash', metric: 'p99', runtimes: [{ name: 'deno', ceiling: c }] });
    const xs = chart.series[0]!.points.map(([x]) => x);
    assert.equal(xs[xs.length - 1], last.targetConnections);
    assert.ok(xs.every((x, i) => i === 0 || Number(x) > Number(xs[i - 1])), 'in connection order');
    assert.equal(chart.marks!.annotations![0]!.at[0], last.targetConnections);
  });

  test('the hand-made document covers every chart kind', () => {
    assert.deepEqual(new Set(documentCharts(doc).map((c) => c.kind)), new Set(CHART_KINDS));
  });
});

describe('layout', () => {
  test('a line kind draws one line, one band and one direct label per series, and the axes cover the marks', () => {
    const spec = checkChart({
      ...base,
      kind: 'plateau',
      x: { label: 'open connections', unit: 'connections', scale: 'linear' },
      y: { label: 'p99', unit: 'µs', scale: 'log' },
      series: [
        { name: 'bun', points: [[1000, 500], [2000, 900]] },
        { name: 'deno', points: [[1000, 600], [2000, 70_000]] },
      ],
      marks: { rules: [{ axis: 'y', value: 50_000, label: 'SLO', kind: 'bound' }], annotations: [{ at: [2000, 70_000], text: 'stopped: latency', series: 'deno' }] },
    });
    const r = layoutChart(spec, assignStyles(['bun', 'deno']));
    const of = (mark: Layer['mark'], cls?: string) => r.layers.filter((l) => l.mark === mark && (cls === undefined || l.cls.includes(cls)));
    assert.equal(of('line').length, 2);
    assert.equal(of('text', 'direct-label').length, 2);
    // The stop is part of deno's label, not a second text.
    assert.deepEqual(of('text', 'direct-label').map((l) => (l.mark === 'text' ? l.data[0]![2] : '')), ['bun', 'deno\nstopped: latency']);
    assert.ok(r.y.domain[0] <= 500 && r.y.domain[1] >= 70_000);
    assert.equal(r.margin.right, 16 + 7.5 * 'stopped: latency'.length);
  });

  const texts = (r: RenderChart, cls: string) => r.layers.flatMap((l) => (l.mark === 'text' && l.cls.includes(cls) ? l.data.map((d) => d[2]) : []));

  test('a comparison labels head\'s median only, and a rate beside a mark has no unit (the axis says it)', () => {
    const spec = checkChart(
      compareDistributions({
        id: 'cmp',
        title: 'cmp',
        y: { label: 'delivered', unit: 'msgs/s', scale: 'linear', zero: false },
        rows: [
          { category: 'bun', base: [160_000, 161_000], head: [150_000, 151_000], thresholdPct: 5, verdict: '~' },
          { category: 'deno', base: [120_000, 121_000], head: [130_000, 131_000], thresholdPct: 5, verdict: '~' },
        ],
      }),
    );
    const r = layoutChart(spec, assignStyles(['base', 'head']));
    assert.deepEqual(texts(r, 'value-label'), ['151k', '131k']);
    const dots = layoutChart(checkChart(repetitionDots({ id: 'd', title: 'd', y: { label: 'delivered', unit: 'msgs/s', scale: 'linear' }, rows: [{ name: 'bun', values: [49_990, 50_010] }] })), assignStyles(['bun']));
    assert.deepEqual(texts(dots, 'value-label'), ['50.0k']);
  });

  test("a bar chart's reference rule is named in the y axis title, not on the bars' baseline", () => {
    const spec = checkChart(ratioBars({ id: 'r', title: 'r', label: 'p99 ÷ best', categories: ['a', 'b'], reference: 'c', series: [{ name: 's', values: [{ category: 'a', ratio: 1.4 }, { category: 'b', ratio: 3 }] }] }));
    const r = layoutChart(spec, assignStyles(['s']));
    assert.equal(r.y.title, 'p99 ÷ best (ratio, log scale) · 1× = c');
    assert.deepEqual(texts(r, 'rule-label'), []);
    assert.equal(r.layers.filter((l) => l.mark === 'rule').length, 1, 'the rule itself is still drawn');
  });

  test('a line of one point is drawn as a dot', () => {
    const r = layoutChart(checkChart({ ...base, series: [{ name: 'bun', points: [[0.5, 1]] }] }), assignStyles(['bun']));
    assert.deepEqual(r.layers.filter((l) => l.mark === 'dot').map((l) => (l.mark === 'dot' ? l.data : [])), [[[0.5, 1]]]);
  });

  test('the measured window is labelled at the bottom of its span', () => {
    const spec = checkChart({ ...base, marks: { spans: [{ axis: 'x', from: 0, to: 1, label: 'measured window' }] } });
    const r = layoutChart(spec, assignStyles(['bun']));
    const label = r.layers.find((l) => l.mark === 'text' && l.cls === 'span-label');
    assert.ok(label && label.mark === 'text');
    assert.equal(label.data[0]![1], r.y.domain[0]);
    assert.ok(label.dy < 0, 'inside the plot, above the x axis');
  });

  test('styles follow groups across charts: a runtime keeps its colour, dash and symbol', () => {
    const styles = assignStyles(['bun', 'node-ws']);
    assert.deepEqual(styles.get('bun'), { cls: 's0', dash: '', symbol: 'circle' });
    assert.deepEqual(styles.get('node-ws'), { cls: 's1', dash: '7,3', symbol: 'square' });
  });

  test('data table: lines sharing x pivot to one column per series, with the band as a range', () => {
    const spec = checkChart({
      ...base,
      series: [
        { name: 'bun', points: [[0, 1024], [1, 2048]], band: [[0, 1000, 1100], [1, 2000, 2100]] },
        { name: 'deno', points: [[0, 4096], [1, 8192]] },
      ],
    });
    const t = dataTable(spec);
    assert.deepEqual(t.head, ['time (s)', 'bun', 'bun range', 'deno']);
    assert.deepEqual(t.rows[0], ['0 s', '1.00 KiB', '0.977 KiB – 1.07 KiB', '4.00 KiB']);
  });
});

describe('renderHtmlPage', () => {
  const hand = handMadeDocument();
  const handHtml = renderHtmlPage(hand, FAKE_ASSETS);
  const fixtureHtml = renderHtmlPage(fixtureDocument(fixture), FAKE_ASSETS);

  for (const [name, doc, html] of [
    ['hand-made', hand, handHtml],
    ['fixture', fixtureDocument(fixture), fixtureHtml],
  ] as const) {
    test(`${name}: every chart has a figure, and every drawable one its drawing with all its series and points`, () => {
      const specs = documentCharts(doc).map(checkChart);
      const drawn = chartsJson(html);
      for (const s of specs) {
        assert.ok(html.includes(`<figure class="chart" id="chart-${s.id}" data-kind="${s.kind}" data-series="${s.series.length}">`), s.id);
        const r = drawn.find((d) => d.id === s.id);
        if (s.series.length === 0) {
          assert.equal(r, undefined, `${s.id}: nothing to draw`);
          continue;
        }
        assert.ok(r, `${s.id} drawn`);
        const seriesLayers = r.layers.filter((l) => (l.mark === 'line' && !l.cls.includes('fit')) || (l.mark === 'dot' && !l.cls.includes('ring')) || (l.mark === 'rect' && l.cls.includes('bar')));
        assert.equal(seriesLayers.length, s.kind === 'plateau' ? 2 * s.series.length : s.series.length, `${s.id}: one layer per series`);
        const drawnPoints = seriesLayers.filter((l) => l.mark !== 'line' || s.kind !== 'plateau').reduce((n, l) => n + (l.mark === 'text' || l.mark === 'rule' ? 0 : l.data.length), 0);
        assert.equal(drawnPoints, s.series.reduce((n, x) => n + x.points.length, 0), `${s.id}: every point drawn`);
      }
      assert.equal(drawn.length, specs.filter((s) => s.series.length > 0).length);
    });

    test(`${name}: no NaN, Infinity or null in the chart data, no empty layer`, () => {
      const drawn = chartsJson(html);
      for (const n of numbersIn(drawn)) assert.ok(typeof n === 'number' && Number.isFinite(n), `found ${n}`);
      for (const c of drawn) for (const l of c.layers) if ('data' in l) assert.ok(l.data.length > 0, `${c.id}: empty ${l.mark} layer`);
    });

    test(`${name}: no request can leave the page: no URL outside the inlined library, a CSP of default-src 'none'`, () => {
      const withoutScripts = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '');
      assert.doesNotMatch(withoutScripts, /https?:\/\//);
      assert.doesNotMatch(withoutScripts, /\s(src|srcset|action|poster|data)\s*=|@import|url\(/i);
      for (const m of withoutScripts.matchAll(/\shref="([^"]*)"/g)) assert.match(m[1]!, /^#/, 'only in-page links');
      assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-/);
    });
  }

  test('the CSP allows exactly the inline scripts, by hash', () => {
    const csp = /script-src ([^;]*);/.exec(handHtml)![1]!;
    const scripts = [...handHtml.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`);
    assert.equal(scripts.length, 2);
    assert.equal(csp, scripts.join(' '));
  });

  test('hostile text is escaped everywhere and the data survives the JSON script', () => {
    assert.equal(handHtml.match(/<script\b/g)!.length, 3, 'only the page\'s own scripts');
    assert.equal(handHtml.match(/<\/script>/g)!.length, 3);
    assert.ok(!handHtml.includes('<!--'));
    assert.ok(!handHtml.includes('window.pwned=1</'));
    assert.ok(handHtml.includes(escapeHtml(HOSTILE)));
    const hostile = chartsJson(handHtml).find((c) => c.id === 'hand-hostile')!;
    assert.ok(hostile.x.labels.includes(HOSTILE), 'the category reaches the drawing unchanged');
    assert.match(handHtml, /bun: left out 1 × y not a finite number/);
  });

  test('scriptJson escapes what could end a script and reads back the same', () => {
    const value = { a: HOSTILE, b: '<!-- x -->', c: 'a\u2029b&c' };
    const text = scriptJson(value);
    assert.doesNotMatch(text, /[<>&\u2028\u2029]/);
    assert.deepEqual(JSON.parse(text), value);
  });

  test('the verdict comes before every section, and the empty chart says so', () => {
    const verdictAt = handHtml.indexOf('class="verdict"');
    assert.ok(verdictAt > 0 && verdictAt < handHtml.indexOf('<section id='));
    assert.match(handHtml, /<div class="plot empty">No data to draw\.<\/div>/);
  });

  test('a chart id used twice is refused', () => {
    const doc = handMadeDocument();
    doc.sections[0]!.blocks.push({ type: 'chart', chart: documentCharts(doc)[1]! });
    assert.throws(() => renderHtmlPage(doc, FAKE_ASSETS), /id: used by more than one chart/);
  });

  test('a library that would end its script early is refused', () => {
    assert.throws(() => renderHtmlPage(hand, { scripts: [{ name: 'x', version: '1', text: 'a="</script>"' }] }), /cannot be inlined/);
  });
});

describe('the page script', () => {
  test('is self-contained and hands every layer of every chart to Plot', () => {
    const html = renderHtmlPage(handMadeDocument(), FAKE_ASSETS);
    const charts = chartsJson(html);
    const calls: string[] = [];
    const errors: unknown[] = [];
    const mark = (name: string) => (data: readonly unknown[]) => {
      calls.push(name);
      return { name, n: data.length };
    };
    const el = (): WindowLike['document'] & Record<string, unknown> => {
      const e = {
        textContent: null as string | null,
        clientWidth: 600,
        replaceChildren: (...nodes: unknown[]) => void (e['children'] = nodes),
        setAttribute: () => undefined,
        querySelector: () => el(),
        querySelectorAll: () => ({ forEach: () => undefined }),
        addEventListener: () => undefined,
        getElementById: () => null,
        createElement: () => el(),
      } as WindowLike['document'] & Record<string, unknown>;
      return e;
    };
    const doc = el();
    doc.getElementById = (id: string) => (id === 'bench-charts' ? { ...el(), textContent: JSON.stringify(charts) } : null);
    const win: WindowLike = {
      document: doc,
      Plot: {
        plot: (o: Record<string, unknown>) => {
          calls.push(`plot:${(o['marks'] as unknown[]).length}`);
          return el();
        },
        areaY: mark('areaY'),
        line: mark('line'),
        dot: mark('dot'),
        ruleX: mark('ruleX'),
        ruleY: mark('ruleY'),
        rect: mark('rect'),
        text: mark('text'),
        axisX: mark('axisX'),
        axisY: mark('axisY'),
        gridX: mark('gridX'),
        gridY: mark('gridY'),
      },
      addEventListener: () => undefined,
      matchMedia: () => ({ addEventListener: () => undefined }),
      setTimeout: () => 0,
      clearTimeout: () => undefined,
      console: { error: (...a: unknown[]) => errors.push(a) },
    };
    // As the page runs it: from its source text, with nothing of this module in scope.
    const fn = new Function(`return ${drawCharts.toString()}`)() as typeof drawCharts;
    fn(win);
    assert.deepEqual(errors, []);
    const plots = calls.filter((c) => c.startsWith('plot:'));
    assert.equal(plots.length, charts.length);
    const layerCount = charts.reduce((n, c) => n + c.layers.length, 0);
    assert.equal(calls.filter((c) => !c.startsWith('plot:') && !/^(axis|grid)/.test(c)).length, layerCount);
  });
});
