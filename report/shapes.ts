// The real-shape sections of the reports: the voice relay (time to first
// reply chunk, the relay's share of it, jitter, cost per relayed message),
// fan-out (delivery to every member and to the last one), slow consumers (what each server's backpressure policy did), and the two
// gaps side by side — the synthetic echo gap and the real-shape gap, each as
// a ratio to the reference runtime. Laid out as CaseViews, so the table and
// Markdown formats render them like any case.

import type { CellMetrics, CellResult, RunResult, SummaryRow } from '../schema/result.js';
import { median } from '../stats/descriptive.js';
import { isNonEmpty } from '../stats/errors.js';
import { formatBytes, formatCount } from './units.js';
import { stackCostViews } from './stacks.js';
import { fig, type CaseView, type ColumnView, type Figure, type Unit, type ViewCell } from './view.js';

const MISSING = '–';

/** Scenarios whose cost per message is the synthetic figure of the two-gap table (the text twins run when a Socket.IO stack is in the run). */
export const SYNTHETIC_SCENARIOS = ['echo', 'echo-rate', 'echo-text', 'echo-rate-text'];

function completed(cells: readonly CellResult[], caseName: string, runtime: string): CellMetrics[] {
  return cells
    .filter((c) => c.case === caseName && c.runtime === runtime && c.status === 'completed' && c.metrics)
    .sort((a, b) => a.repetition - b.repetition)
    .map((c) => c.metrics!);
}

/** Median of the finite values (absent ones skipped), or undefined when there is none. */
function medianValue(values: (number | null | undefined)[]): number | undefined {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return isNonEmpty(xs) ? median(xs) : undefined;
}

function med(values: (number | null | undefined)[], unit: Unit, opts: Omit<Figure, 'value' | 'unit'> = {}): Figure | undefined {
  const m = medianValue(values);
  return m === undefined ? undefined : fig(m, unit, opts);
}

function runtimesOf(cells: readonly CellResult[], caseName: string): string[] {
  return [...new Set(cells.filter((c) => c.case === caseName).map((c) => c.runtime))];
}

function toView(name: string, scenario: string, subtitle: string, columns: ColumnView[], raw: Record<string, ViewCell | undefined>[], footnotes: string[]): CaseView {
  const used = columns.filter((c) => raw.some((r) => r[c.id] !== undefined));
  return { name, scenario, subtitle, columns: used, rows: raw.map((r) => used.map((c) => r[c.id] ?? MISSING)), footnotes };
}

// ---- voice relay ----------------------------------------------------------

const VOICE_COLUMNS: ColumnView[] = [
  { id: 'runtime', header: ['runtime'], align: 'left', group: 'runtime' },
  { id: 'first50', header: ['first chunk', 'p50'], align: 'right', group: 'traffic' },
  { id: 'first99', header: ['', 'p99'], align: 'right', group: 'traffic' },
  { id: 'relay50', header: ['relay adds', 'p50'], align: 'right', group: 'traffic' },
  { id: 'relay99', header: ['', 'p99'], align: 'right', group: 'traffic' },
  { id: 'jitter99', header: ['jitter', 'p99'], align: 'right', group: 'traffic' },
  { id: 'cpu', header: ['CPU µs/', 'relayed'], align: 'right', group: 'server' },
  { id: 'session', header: ['bytes/', 'session'], align: 'right', group: 'server' },
  { id: 'turns', header: ['turns', 'done'], align: 'right', group: 'health' },
  { id: 'replies', header: ['replies', 'lost/bad'], align: 'right', group: 'health' },
  { id: 'client', header: ['upstream', 'client'], align: 'left', group: 'health' },
  { id: 'upCpu', header: ['upstream', 'CPU'], align: 'right', group: 'health' },
];

function hasVoice(result: RunResult): boolean {
  return result.cells.some((c) => c.metrics?.voice !== undefined);
}

function voiceViews(result: RunResult): CaseView[] {
  const cases = [...new Set(result.cells.filter((c) => c.metrics?.voice).map((c) => c.case))];
  return cases.map((name) => {
    const runtimes = runtimesOf(result.cells, name);
    const raw = runtimes.map((runtime) => {
      const ms = completed(result.cells, name, runtime).filter((m) => m.voice);
      const vs = ms.map((m) => m.voice!);
      const sum = (get: (v: (typeof vs)[number]) => number) => vs.reduce((a, v) => a + get(v), 0);
      const cell = result.cells.find((c) => c.case === name && c.runtime === runtime && c.server?.relay);
      const relay = cell?.server?.relay;
      const lost = Math.max(0, sum((v) => v.repliesExpected) - sum((v) => v.repliesReceived));
      return {
        runtime,
        first50: med(vs.map((v) => v.firstChunkUs.p50Us), 'µs'),
        first99: med(vs.map((v) => v.firstChunkUs.p99Us), 'µs'),
        relay50: med(vs.map((v) => v.relayOverheadUs.p50Us), 'µs'),
        relay99: med(vs.map((v) => v.relayOverheadUs.p99Us), 'µs'),
        jitter99: med(vs.map((v) => v.jitterUs.p99Us), 'µs'),
        cpu: med(vs.map((v) => v.serverCpuUsPerRelayedMsg), 'µs/msg'),
        session: med(vs.map((v) => v.bytesPerSession), 'bytes'),
        turns: vs.length > 0 ? `${formatCount(sum((v) => v.turnsCompleted))}/${formatCount(sum((v) => v.turnsTriggered))}` : undefined,
        replies: vs.length > 0 ? `${formatCount(lost)}/${formatCount(sum((v) => v.repliesCorrupted))}` : undefined,
        client: relay ? `${relay.upstreamClient} ${relay.upstreamClientVersion}` : undefined,
        upCpu: med(vs.map((v) => v.upstream?.cpuUtilPct), '%'),
      };
    });
    return toView(`${name} — relay`, name, `voice relay through the simulated upstream · medians over repetitions`, VOICE_COLUMNS, raw, [
      'first chunk: response.create → first reply chunk at the client (the upstream\'s think time included); relay adds: both relay legs, trigger → upstream plus first chunk → client, from the upstream\'s timestamps; jitter: |arrival gap − upstream send gap| between consecutive chunks',
      'CPU µs/relayed: server CPU per message relayed in either direction; bytes/session: server RSS per session (client socket + upstream socket); turns done: response.done received / turns triggered; replies lost/bad: missing / wrong session, turn or audio',
      'upstream client: the library of the server\'s upstream leg (it differs by runtime by design, servers/CONTRACT.md); upstream CPU: the simulated upstream\'s own CPU over the window, % of one core',
    ]);
  });
}

// ---- fan-out --------------------------------------------------------------

const FANOUT_COLUMNS: ColumnView[] = [
  { id: 'runtime', header: ['runtime'], align: 'left', group: 'runtime' },
  { id: 'deliveries', header: ['deliveries/s'], align: 'right', group: 'traffic' },
  { id: 'p50', header: ['delivery', 'p50'], align: 'right', group: 'traffic' },
  { id: 'p99', header: ['', 'p99'], align: 'right', group: 'traffic' },
  { id: 'last50', header: ['last member', 'p50'], align: 'right', group: 'traffic' },
  { id: 'last99', header: ['', 'p99'], align: 'right', group: 'traffic' },
  { id: 'last99ratio', header: ['', '×ref'], align: 'right', group: 'traffic' },
  { id: 'rss', header: ['peak', 'RSS'], align: 'right', group: 'server' },
  { id: 'rssRatio', header: ['', '×ref'], align: 'right', group: 'server' },
  { id: 'cpu', header: ['CPU µs/', 'delivery'], align: 'right', group: 'server' },
  { id: 'churn', header: ['left/', 'rejoined'], align: 'right', group: 'health' },
  { id: 'lost', header: ['lost'], align: 'right', group: 'health' },
];

/**
 * Fan-out cases (every broadcast case): delivery latency to every member, the
 * time until the last member of a room has a message, memory, and churn — the
 * figures a dashboard or chat team compares, each with its ratio to the reference.
 */
function fanoutViews(result: RunResult): CaseView[] {
  const ref = result.settings.referenceRuntime;
  const cases = [...new Set(result.cells.filter((c) => c.metrics?.lastRecipientUs).map((c) => c.case))];
  return cases.map((name) => {
    const runtimes = runtimesOf(result.cells, name);
    const medianOf = (runtime: string, get: (m: CellMetrics) => number | null | undefined) => medianValue(completed(result.cells, name, runtime).map(get));
    const last99 = (m: CellMetrics) => (m.lastRecipientUs && m.lastRecipientUs.count > 0 ? m.lastRecipientUs.p99Us : null);
    const refLast = medianOf(ref, last99);
    const refRss = medianOf(ref, (m) => m.rssPeakBytes);
    const ratio = (v: number | undefined, r: number | undefined, isRef: boolean): ViewCell | undefined =>
      v === undefined ? undefined : isRef ? 'ref' : r ? fig(v / r, '×') : undefined;
    const raw = runtimes.map((runtime) => {
      const ms = completed(result.cells, name, runtime);
      const isRef = runtime === ref;
      const l99 = medianOf(runtime, last99);
      const rss = medianOf(runtime, (m) => m.rssPeakBytes);
      const churn = ms.filter((m) => m.churn);
      return {
        runtime,
        deliveries: med(ms.map((m) => m.msgsPerSec), 'count'),
        p50: med(ms.map((m) => (m.latencyUs.count > 0 ? m.latencyUs.p50Us : null)), 'µs'),
        p99: med(ms.map((m) => (m.latencyUs.count > 0 ? m.latencyUs.p99Us : null)), 'µs'),
        last50: med(ms.map((m) => (m.lastRecipientUs && m.lastRecipientUs.count > 0 ? m.lastRecipientUs.p50Us : null)), 'µs'),
        last99: l99 === undefined ? undefined : fig(l99, 'µs'),
        last99ratio: ratio(l99, refLast, isRef),
        rss: rss === undefined ? undefined : fig(rss, 'bytes'),
        rssRatio: ratio(rss, refRss, isRef),
        cpu: med(ms.map((m) => m.serverCpuUsPerMsg), 'µs/msg'),
        churn: churn.length > 0 ? `${formatCount(churn.reduce((a, m) => a + m.churn!.leaves, 0))}/${formatCount(churn.reduce((a, m) => a + m.churn!.rejoins, 0))}` : undefined,
        lost: ms.length > 0 ? fig(ms.reduce((a, m) => a + m.delivery.lost, 0), 'count') : undefined,
      };
    });
    return toView(`${name} — fan-out`, name, `delivery to every member and to the last member of a room · medians over repetitions · ×ref against ${ref}`, FANOUT_COLUMNS, raw, [
      'delivery: publish (intended send time) → arrival at each member; last member: publish → arrival at the last member of its room; deliveries/s counts every member\'s copy',
      'left/rejoined: subscribers that left and rejoined during the run (summed over repetitions), checked inside each membership; lost: missing deliveries, summed',
    ]);
  });
}

// ---- slow consumers -------------------------------------------------------

const SLOW_COLUMNS: ColumnView[] = [
  { id: 'runtime', header: ['runtime'], align: 'left', group: 'runtime' },
  { id: 'outcome', header: ['policy', 'seen'], align: 'left', group: 'traffic' },
  { id: 'got', header: ['slow got', '% of owed'], align: 'right', group: 'traffic' },
  { id: 'missing', header: ['missing'], align: 'right', group: 'traffic' },
  { id: 'closed', header: ['closed'], align: 'right', group: 'traffic' },
  { id: 'growth', header: ['RSS', 'growth'], align: 'right', group: 'server' },
  { id: 'peakGrowth', header: ['RSS peak', 'growth'], align: 'right', group: 'server' },
  { id: 'fastP99', header: ['fast', 'p99'], align: 'right', group: 'health' },
  { id: 'fastErrors', header: ['fast', 'lost'], align: 'right', group: 'health' },
];

function slowViews(result: RunResult): CaseView[] {
  const cases = [...new Set(result.cells.filter((c) => c.metrics?.slowConsumers).map((c) => c.case))];
  return cases.map((name) => {
    const runtimes = runtimesOf(result.cells, name);
    let first: { count: number; readBytesPerSec: number } | undefined;
    const raw = runtimes.map((runtime) => {
      const ms = completed(result.cells, name, runtime).filter((m) => m.slowConsumers);
      const ss = ms.map((m) => m.slowConsumers!);
      first ??= ss[0];
      const outcomes = [...new Set(ss.map((s) => s.outcome))];
      const codes = [...new Set(ss.flatMap((s) => Object.keys(s.closeCodes)))];
      return {
        runtime,
        outcome: outcomes.length > 0 ? outcomes.join(', ') : undefined,
        got: med(ss.map((s) => (s.expected > 0 ? (s.received / s.expected) * 100 : null)), '%'),
        missing: med(ss.map((s) => s.missing), 'count'),
        closed: med(ss.map((s) => s.closedByServer), 'count', codes.length > 0 ? { note: `(${codes.join(',')})` } : {}),
        growth: med(ss.map((s) => s.rssGrowthBytes), 'bytes', { signed: true }),
        peakGrowth: med(ss.map((s) => s.rssPeakGrowthBytes), 'bytes', { signed: true }),
        fastP99: med(ms.map((m) => (m.latencyUs.count > 0 ? m.latencyUs.p99Us : null)), 'µs'),
        fastErrors: ms.length > 0 ? fig(ms.reduce((a, m) => a + m.delivery.lost, 0), 'count') : undefined,
      };
    });
    const who = first ? `${first.count} slow subscriber${first.count === 1 ? '' : 's'} reading ${formatBytes(first.readBytesPerSec)}/s` : 'slow subscribers';
    return toView(`${name} — backpressure`, name, `${who} · what each server did with what they could not take`, SLOW_COLUMNS, raw, [
      'policy seen: drops (messages skipped for a slow subscriber, connection kept), closes (the server closed it), buffers (everything arrived once it read freely: held in server or kernel buffers); slow got: share of what was published to them while connected',
      'RSS growth: server RSS at the window\'s end minus its start; fast p99, fast lost: delivery latency and losses of the other subscribers, which a good policy leaves untouched',
    ]);
  });
}

// ---- the two gaps ---------------------------------------------------------

const GAP_COLUMNS_HEAD: ColumnView[] = [{ id: 'runtime', header: ['runtime'], align: 'left', group: 'runtime' }];

function ratioCell(value: number | undefined, ratio: number | undefined, unit: Unit, isRef: boolean): Figure | undefined {
  if (value === undefined) return undefined;
  return fig(value, unit, { note: `(${isRef ? 'ref' : ratio === undefined ? '?' : `${ratio < 9.995 ? ratio.toFixed(2) : ratio.toPrecision(3)}×`})` });
}

/** The gap between the best and the worst runtime (largest / smallest figure), as "2.3×" from 1.5× on, else as "+4.1%" — what a reader would quote. */
export function gapText(values: number[]): string | undefined {
  const xs = values.filter((v) => v > 0);
  if (xs.length < 2) return undefined;
  const spread = Math.max(...xs) / Math.min(...xs);
  return spread >= 1.5 ? `${spread.toFixed(1)}×` : `${((spread - 1) * 100).toFixed(1)}%`;
}

/**
 * The synthetic gap (server CPU per echoed message) beside the real-shape gap
 * (time to the first reply chunk, and CPU per relayed message) for every
 * runtime, each as a ratio to the reference. Only when the run has both a
 * synthetic echo case and a voice case; otherwise undefined.
 */
export function gapView(result: RunResult, summary: readonly SummaryRow[]): CaseView | undefined {
  const ref = result.settings.referenceRuntime;
  const synthetic = [...new Set(summary.filter((r) => SYNTHETIC_SCENARIOS.includes(r.scenario) && r.serverCpuUsPerMsg).map((r) => r.case))];
  const voiceCases = [...new Set(result.cells.filter((c) => c.metrics?.voice).map((c) => c.case))];
  if (synthetic.length === 0 || voiceCases.length === 0) return undefined;
  const columns: ColumnView[] = [...GAP_COLUMNS_HEAD];
  for (const c of synthetic) columns.push({ id: `syn:${c}`, header: [c, 'CPU µs/msg'], align: 'right', group: 'traffic' });
  for (const c of voiceCases) {
    columns.push({ id: `ttfc:${c}`, header: [c, 'first chunk p50'], align: 'right', group: 'server' });
    columns.push({ id: `relay:${c}`, header: ['', 'CPU µs/relayed'], align: 'right', group: 'server' });
  }
  const runtimes = [...new Set(summary.filter((r) => synthetic.includes(r.case) || voiceCases.includes(r.case)).map((r) => r.runtime))];
  const synValues = new Map<string, number[]>();
  const realValues = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, key: string, v: number | undefined) => {
    if (v !== undefined) m.set(key, [...(m.get(key) ?? []), v]);
  };
  const raw = runtimes.map((runtime) => {
    const isRef = runtime === ref;
    const row: Record<string, ViewCell | undefined> = { runtime: isRef ? `${runtime} (ref)` : runtime };
    for (const c of synthetic) {
      const r = summary.find((x) => x.case === c && x.runtime === runtime);
      const ratio = r?.ratioToReference.serverCpuUsPerMsg;
      push(synValues, c, r?.serverCpuUsPerMsg?.median);
      row[`syn:${c}`] = ratioCell(r?.serverCpuUsPerMsg?.median, ratio, 'µs/msg', isRef);
    }
    for (const c of voiceCases) {
      const r = summary.find((x) => x.case === c && x.runtime === runtime);
      const ttfc = r?.ratioToReference.latencyP50Us;
      push(realValues, c, r?.latencyP50Us?.median);
      row[`ttfc:${c}`] = ratioCell(r?.latencyP50Us?.median, ttfc, 'µs', isRef);
      row[`relay:${c}`] = ratioCell(r?.serverCpuUsPerMsg?.median, r?.ratioToReference.serverCpuUsPerMsg, 'µs/msg', isRef);
    }
    return row;
  });
  const gaps = (m: Map<string, number[]>) => [...m].map(([c, xs]) => `${gapText(xs) ?? 'n/a'} (${c})`).join(', ') || 'n/a';
  const footnotes = [
    `(×) ratio of medians to ${ref}: for CPU, the runtime's cost over the reference's (2.0× = twice the CPU per message); for the first chunk, its time over the reference's`,
    `synthetic gap, slowest over fastest runtime in CPU per echoed message: ${gaps(synValues)}; real-shape gap, slowest over fastest in time to first chunk: ${gaps(realValues)}`,
    'the real shape waits on the upstream\'s think time, so the runtime\'s share of what a user feels is small even where its CPU cost differs; CPU µs/relayed is what it costs in servers',
  ];
  const reps = result.settings.repeat;
  if (reps < 3) footnotes.push(`${reps} repetition${reps === 1 ? '' : 's'} per runtime: no difference here is tested for significance (run with --repeat 5 or more and \`bench compare\`)`);
  return toView('Two gaps: synthetic vs real shape', 'gaps', `per runtime, the synthetic echo figure beside the voice-relay figures, each with its ratio to ${ref}`, columns, raw, footnotes);
}

/**
 * Every real-shape section of a report, in order: the gap table first, then what the Socket.IO stacks cost
 * (report/stacks.ts, in runs with a stack), then the relay, fan-out and backpressure tables.
 */
export function shapeViews(result: RunResult, summary: readonly SummaryRow[]): CaseView[] {
  const gap = gapView(result, summary);
  return [...(gap ? [gap] : []), ...stackCostViews(result, summary), ...(hasVoice(result) ? voiceViews(result) : []), ...fanoutViews(result), ...slowViews(result)];
}
