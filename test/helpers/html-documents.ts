// Two HtmlDocuments the HTML tests render: one made by hand that holds every
// chart kind (with hostile strings, a NaN and an empty chart), and one built
// from the stored fixture with the pure helpers, so real encoded histograms,
// timelines and /proc samples are drawn. Deterministic: no clock, no random.

import type { CeilingMetrics, CeilingPlateau, RunResult } from '../../schema/result.js';
import type { ChartSpec } from '../../report/html/charts.js';
import { compareDistributions, memoryFitChart, plateauChart, ratioBars, repetitionDots } from '../../report/html/figures.js';
import type { Block, HtmlDocument, TextCell } from '../../report/html/page.js';
import { percentileSpectrum } from '../../report/html/spectrum.js';
import { caseTimelines, cellsByRuntime } from '../../report/html/timeline.js';
import { formatBytes, formatRate, formatRatio, formatUs } from '../../report/units.js';
import { IDLE_CASE, OPEN_CASE } from './make-fixture.js';

/** Text that must come out escaped everywhere: it would close the data script or open a comment. */
export const HOSTILE = '</script><script>window.pwned=1</script><!-- & "quotes" \'single\' \u2028';

const RUNTIMES = ['bun', 'node-ws', 'node-uws', 'deno'] as const;

/** A smooth, deterministic latency curve for runtime r at percentile p (µs). */
function latencyAt(r: number, p: number, scale: number): number {
  const tail = 1 / (1 - p / 100);
  return Math.round([180, 7_900, 140, 260][r]! * scale * (1 + 0.35 * Math.log2(tail) ** 1.6));
}

function plateau(connections: number, p99Us: number | null, cpuPct: number, rssBytes: number, ok: boolean): CeilingPlateau {
  return {
    targetConnections: connections,
    connections,
    bisection: false,
    rssIdleBytes: rssBytes,
    rssIdleSettled: true,
    rssBytes,
    rssSettled: true,
    p50Us: p99Us === null ? null : p99Us / 3,
    p99Us,
    maxUs: p99Us === null ? null : p99Us * 2,
    heartbeatsSent: connections,
    heartbeatsLost: 0,
    connectAttempted: connections,
    connectFailed: 0,
    errors: {},
    drops: 0,
    cpuPct,
    idleCpuPct: 1,
    fds: connections + 20,
    threads: 7,
    kernelTcpMemBytes: null,
    kernelSlabBytes: null,
    connectMs: 100,
    loadgenSaturated: false,
    ok,
    verdict: ok ? { ok: true } : { ok: false, cause: 'latency', limitClass: 'runtime' },
  };
}

function ceiling(bytesPerConn: number, baseBytes: number, steps: number, breakAt: number | null, cause: CeilingMetrics['cause']): CeilingMetrics {
  const plateaus: CeilingPlateau[] = [];
  for (let i = 1; i <= steps; i++) {
    const c = i * 5_000;
    const bad = breakAt !== null && i >= breakAt;
    plateaus.push(plateau(c, bad ? 62_000 + i * 1_000 : 900 + i * i * 180, Math.min(99, 8 + i * 9), baseBytes + bytesPerConn * c, !bad));
  }
  const points = plateaus.map((p): [number, number] => [p.connections, p.rssBytes!]);
  return {
    ceilingConnections: breakAt === null ? null : (breakAt - 1) * 5_000,
    lastGoodConnections: (breakAt === null ? steps : breakAt - 1) * 5_000,
    firstBadConnections: breakAt === null ? null : breakAt * 5_000,
    refined: null,
    cause,
    limitClass: breakAt === null ? 'environment' : 'runtime',
    stop: breakAt === null ? { ok: false, cause, limitClass: 'environment' } : { ok: false, cause: 'latency', limitClass: 'runtime' },
    openFileLimit: 1_048_576,
    maxConnections: steps * 5_000,
    stopShortOfFdLimitBy: 0,
    slo: { heartbeatP99Ms: 50, maxErrorRatio: 0.001, memoryBudgetMiB: null, maxServerCpuPct: 90 },
    plateaus,
    memory: {
      idle: null,
      active: { bytesPerConnection: bytesPerConn, interceptBytes: baseBytes, r2: 0.9987, n: points.length, points: points.map(([c, b], i) => [c, b + ((i % 3) - 1) * 180_000]) },
      kernel: { buffersBytesPerSocket: null, slabBytesPerSocket: null, slabR2: null },
      projections: [],
    },
    searchMs: 60_000,
  };
}

/** Every chart kind, hostile strings in titles, names and notes, one NaN, one empty chart. */
export function handMadeDocument(): HtmlDocument {
  const spectrum: ChartSpec = {
    id: 'hand-spectrum',
    kind: 'percentile-spectrum',
    title: 'echo-rate@50000/s: latency by percentile',
    caption: 'Line: repetitions merged; band: lowest to highest repetition. Lower is better.',
    x: { label: 'percentile', unit: 'percentile', scale: 'percentile' },
    y: { label: 'latency', unit: 'µs', scale: 'log' },
    series: RUNTIMES.map((name, r) => {
      const ps = [50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99];
      return {
        name,
        points: ps.map((p): [number, number] => [p, latencyAt(r, p, 1)]),
        band: ps.map((p): [number, number, number] => [p, latencyAt(r, p, 0.85), latencyAt(r, p, 1.2)]),
      };
    }),
  };
  const seconds = Array.from({ length: 30 }, (_, i) => i + 0.5);
  const timeline: ChartSpec = {
    id: 'hand-timeline',
    kind: 'timeline',
    title: 'echo-rate@50000/s: delivered messages per second',
    caption: 'Median of 3 repetitions; band: lowest to highest. One NaN second is left out.',
    x: { label: 'time since the measured window began', unit: 's', scale: 'linear' },
    y: { label: 'delivered', unit: 'msgs/s', scale: 'linear' },
    series: RUNTIMES.map((name, r) => ({
      name,
      points: seconds.map((s): [number, number] => [s, r === 1 && s === 12.5 ? Number.NaN : [49_980, 46_800, 49_990, 49_950][r]! - (r === 1 && s > 20 ? 6_000 : 0) + ((s * 37 * (r + 1)) % 40)]),
      band: seconds.map((s): [number, number, number] => [s, [49_900, 45_900, 49_930, 49_880][r]! - (r === 1 && s > 20 ? 6_000 : 0), 50_010]),
    })),
  };
  const cpu: ChartSpec = {
    id: 'hand-cpu',
    kind: 'timeline',
    title: 'echo-rate@50000/s: server CPU',
    x: { label: 'time since the measured window began', unit: 's', scale: 'linear' },
    y: { label: 'server CPU', unit: '%', scale: 'linear' },
    series: RUNTIMES.map((name, r) => ({
      name,
      points: Array.from({ length: 40 }, (_, i): [number, number] => [i * 0.25 - 2, i < 8 ? 5 + i : [47, 99, 31, 58][r]! - ((i * 7) % 5)]),
    })),
    marks: { spans: [{ axis: 'x', from: 0, to: 7.75, label: 'measured window' }] },
  };
  const dots = repetitionDots({
    id: 'hand-dots',
    title: 'echo-rate@50000/s: p99 latency per repetition',
    y: { label: 'p99 latency', unit: 'µs', scale: 'log' },
    rows: [
      { name: 'bun', values: [932, 586, 595] },
      { name: 'node-ws', values: [22_191, 23_807, 22_303] },
      { name: 'node-uws', values: [432, 446, 416] },
      { name: 'deno', values: [857, 2_357, 1_111] },
    ],
  });
  const ceilings = [
    { name: 'bun', ceiling: ceiling(3_180, 40e6, 9, 9, 'latency') },
    { name: 'node-ws', ceiling: ceiling(10_240, 48e6, 5, 5, 'latency') },
    { name: 'node-uws', ceiling: ceiling(2_450, 44e6, 10, null, 'fd-limit') },
    { name: 'deno', ceiling: ceiling(6_630, 52e6, 7, 7, 'latency') },
  ];
  const plateauP99 = plateauChart({ id: 'hand-plateau-p99', title: 'connection ceiling: heartbeat p99 per plateau', metric: 'p99', runtimes: ceilings });
  const plateauCpu = plateauChart({ id: 'hand-plateau-cpu', title: 'connection ceiling: server CPU per plateau', metric: 'cpu', runtimes: ceilings });
  const memory = memoryFitChart({ id: 'hand-memory', title: 'memory per connection', runtimes: ceilings.map((c) => ({ name: c.name, fit: c.ceiling.memory.active })) });
  const gaps = ratioBars({
    id: 'hand-gaps',
    title: 'two gaps: CPU per message, ratio to node-ws',
    label: 'server CPU µs/msg',
    categories: [...RUNTIMES],
    reference: 'node-ws',
    series: [
      { name: 'synthetic echo', values: [{ category: 'bun', ratio: 0.47, low: 0.43, high: 0.52 }, { category: 'node-uws', ratio: 0.31, low: 0.29, high: 0.34 }, { category: 'deno', ratio: 0.59, low: 0.52, high: 0.66 }] },
      { name: 'voice relay', values: [{ category: 'bun', ratio: 0.71, low: 0.64, high: 0.8 }, { category: 'node-uws', ratio: 0.77, low: 0.7, high: 0.85 }, { category: 'deno', ratio: 1.4, low: 1.22, high: 1.6 }] },
    ],
  });
  const compare = compareDistributions({
    id: 'hand-compare',
    title: 'echo-rate@50000/s: p99 latency, base against head',
    y: { label: 'p99 latency', unit: 'µs', scale: 'log' },
    rows: [
      { category: 'bun', base: [590, 601, 588, 612, 597], head: [688, 702, 676, 699, 711], shiftPct: { low: 12.1, high: 19.4 }, thresholdPct: 10, verdict: 'REGRESSION +16%', kind: 'regression' },
      { category: 'node-ws', base: [22_100, 22_900, 23_300, 22_500, 22_700], head: [22_400, 22_600, 23_100, 22_300, 22_800], shiftPct: { low: -3.1, high: 2.2 }, thresholdPct: 10, verdict: 'unchanged', kind: 'unchanged' },
      { category: 'deno', base: [857, 2_357, 1_111], head: [900, 1_000], shiftPct: { low: -40, high: 60 }, thresholdPct: 10, verdict: 'suspect: too few reps', kind: 'suspect' },
    ],
  });
  const hostile: ChartSpec = {
    id: 'hand-hostile',
    kind: 'dots',
    title: `hostile text ${HOSTILE}`,
    caption: HOSTILE,
    x: { label: 'runtime', unit: 'category', scale: 'category', categories: [HOSTILE, 'bun'] },
    y: { label: 'msgs/s', unit: 'msgs/s', scale: 'linear' },
    series: [
      { name: HOSTILE, points: [[HOSTILE, 41_000], [HOSTILE, 42_500]], center: [[HOSTILE, 41_750]] },
      { name: 'bun', points: [['bun', 49_000], ['bun', Number.POSITIVE_INFINITY]], center: [['bun', 49_000]] },
    ],
    notes: [HOSTILE],
  };
  const empty: ChartSpec = {
    id: 'hand-empty',
    kind: 'timeline',
    title: 'a chart whose only series has no drawable value',
    x: { label: 'time', unit: 's', scale: 'linear' },
    y: { label: 'RSS', unit: 'bytes', scale: 'linear' },
    series: [{ name: 'deno', points: [[0, Number.NaN]] }],
  };
  const chart = (c: ChartSpec): Block => ({ type: 'chart', chart: c });
  const verdictRows: TextCell[][] = [
    ['echo-rate@50000/s', { text: 'node-uws', tone: 'good' }, 'p99 latency', '0.02× [0.02, 0.03]', '6.10 µs/msg', '20.5 KiB'],
    ['idle', { text: 'undecided: too few repetitions', tone: 'warn' }, 'bytes/conn', '–', '–', '2.39 KiB'],
    ['broadcast', { text: 'tie: bun, node-uws', tone: 'muted' }, 'msgs/s', '1.02× [0.98, 1.05]', '0.51 µs/msg', '8.2 KiB'],
  ];
  return {
    title: `bench 0.1.0 — hand-made report with every chart kind ${HOSTILE}`,
    meta: [
      ['tool', 'bench 0.1.0, git 552ac61d0e4f'],
      ['run', '"nightly" completed'],
      ['started', '2026-11-24T07:00:00Z'],
    ],
    verdict: {
      summary: '1 regression (bun p99 +16%), 1 suspect, 1 unchanged — node-uws wins echo-rate at 50k msgs/s on p99 latency.',
      tone: 'bad',
      blocks: [
        {
          type: 'table',
          caption: 'Runtime choice',
          columns: [{ header: 'case' }, { header: 'winner' }, { header: 'ranked by' }, { header: 'ratio to best, 95% CI', align: 'right' }, { header: 'CPU/msg', align: 'right' }, { header: 'bytes/conn', align: 'right' }],
          rows: verdictRows,
          footnotes: ['tie: not significantly different from the best (Mann–Whitney U, Holm within the case)'],
        },
        chart(compare),
      ],
    },
    sections: [
      { title: 'echo-rate@50000/s', intro: 'Open loop at 50,000 msgs/s, 100 connections, 3 repetitions per runtime.', blocks: [chart(spectrum), chart(dots), chart(timeline), chart(cpu)] },
      { title: 'Connection ceiling', blocks: [chart(plateauP99), chart(plateauCpu), chart(memory)] },
      { title: 'Synthetic against real shape', blocks: [chart(gaps)] },
      {
        title: 'Warnings and edge cases',
        blocks: [
          {
            type: 'list',
            title: 'loadgen-bound (1)',
            items: [{ label: 'echo-rate@50000/s · node-uws', text: 'load generator could not keep its schedule: msgs/s is a lower bound', hint: 'give the load generator more CPUs', tone: 'warn' }],
          },
          { type: 'list', title: 'hostile', items: [{ label: HOSTILE, text: HOSTILE, hint: HOSTILE }] },
          chart(hostile),
          chart(empty),
          {
            type: 'details',
            summary: 'Environment and parity',
            print: true,
            blocks: [{ type: 'pairs', title: 'Environment', pairs: [['CPU', 'AMD EPYC 7B13, 2 logical CPUs'], ['kernel', 'Linux 6.8.0'], ['note', HOSTILE]] }],
          },
        ],
      },
    ],
    groups: [...RUNTIMES],
    footer: ['msgs/s: median over completed repetitions ± MAD/median'],
  };
}

/**
 * The stored fixture drawn with the pure helpers: per case, the spectrum from
 * each cell's `raw.latencyEncoded`, the three timelines from `raw.timeline`
 * and `raw.samples`, and the per-repetition dots from the summary's values.
 * The verdict and tables are plain text from the summary: a test document of
 * the page machinery; the run report itself is report/html.ts `runDocument`.
 */
export function fixtureDocument(result: RunResult): HtmlDocument {
  const runtimes = result.settings.runtimes;
  const rows = result.summary;
  const caseBlocks = (caseName: string): Block[] => {
    const byRt = cellsByRuntime(result.cells, caseName, runtimes);
    const id = caseName.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    const blocks: Block[] = [
      {
        type: 'chart',
        chart: percentileSpectrum({ id: `${id}-spectrum`, title: `${caseName}: latency by percentile`, series: byRt.map((r) => ({ name: r.runtime, encoded: r.cells.map((c) => c.raw!.latencyEncoded) })) }),
      },
    ];
    const caseRows = rows.filter((r) => r.case === caseName);
    if (caseRows.some((r) => r.latencyP99Us)) {
      blocks.push({
        type: 'chart',
        chart: repetitionDots({
          id: `${id}-p99-dots`,
          title: `${caseName}: p99 latency per repetition`,
          y: { label: 'p99 latency', unit: 'µs', scale: 'log' },
          rows: caseRows.map((r) => ({ name: r.runtime, values: r.latencyP99Us?.values ?? [], ...(r.latencyP99Us ? { median: r.latencyP99Us.median } : {}) })),
        }),
      });
    }
    if (caseRows.some((r) => r.bytesPerConnection) && !caseRows.some((r) => r.latencyP99Us)) {
      blocks.push({
        type: 'chart',
        chart: repetitionDots({
          id: `${id}-conn-dots`,
          title: `${caseName}: memory per connection per repetition`,
          y: { label: 'bytes per connection', unit: 'bytes', scale: 'linear' },
          rows: caseRows.map((r) => ({ name: r.runtime, values: r.bytesPerConnection?.values ?? [] })),
        }),
      });
    }
    const timelines = caseTimelines({ idPrefix: `${id}-t`, titlePrefix: `${caseName}: `, series: byRt.map((r) => ({ name: r.runtime, cells: r.cells.map((c) => c.raw!) })) });
    blocks.push(...timelines.map((c): Block => ({ type: 'chart', chart: c })));
    return blocks;
  };
  const table: Block = {
    type: 'table',
    caption: 'Medians over completed repetitions',
    columns: [{ header: 'case' }, { header: 'runtime' }, { header: 'msgs/s', align: 'right' }, { header: '×ref', align: 'right' }, { header: 'p99', align: 'right' }, { header: 'peak RSS', align: 'right' }],
    rows: rows.map((r) => [
      r.case,
      r.runtime,
      r.msgsPerSec ? `${r.throughputIsLowerBound ? '≥ ' : ''}${formatRate(r.msgsPerSec.median)}` : '–',
      r.ratioToReference.msgsPerSec !== undefined ? formatRatio(r.ratioToReference.msgsPerSec) : '–',
      r.latencyP99Us ? formatUs(r.latencyP99Us.median) : '–',
      r.rssPeakBytes ? formatBytes(r.rssPeakBytes.median) : '–',
    ]),
  };
  return {
    title: `${result.tool.name} ${result.tool.version} — ${result.label}`,
    meta: [
      ['run', result.status],
      ['started', result.startedAt],
      ['reference', result.settings.referenceRuntime],
    ],
    groups: [...runtimes],
    verdict: { summary: `${runtimes.length} runtimes, ${result.settings.repeat} repetitions each, ${OPEN_CASE} and ${IDLE_CASE}.`, blocks: [table] },
    sections: [OPEN_CASE, IDLE_CASE].map((c) => ({ title: c, blocks: caseBlocks(c) })),
  };
}
