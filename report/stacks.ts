// What the Socket.IO stacks cost, beside what the runtime changes: for each
// case of a run with stacks in it, the ratio of one runtime's median to
// another's for the pairs that differ by one thing only (servers/CONTRACT.md,
// "Stacks"):
//
// - the Socket.IO layer on one runtime and WebSocket library: a stack over its
//   bare counterpart (node-socketio ÷ node-ws, node-socketio-uws ÷ node-uws,
//   bun-socketio ÷ bun, from core/runtimes.ts's `bare`);
// - the runtime (or the engine's WebSocket library) under the same stack:
//   bun-socketio ÷ node-socketio, node-socketio-uws ÷ node-socketio, and, for
//   reference, the same change without Socket.IO (bun ÷ node-ws);
// - the move a Node + Socket.IO team weighs: bare Bun ÷ node-socketio.
//
// One view per pair that ran, one row per case; figures are ratios (unit ×)
// of medians over repetitions, from the summary. Also the parity section's
// lines for the stacks' own Engine.IO settings. Laid out as CaseViews, so the
// table, Markdown and HTML formats show them like any other section.

import { RUNTIMES, STACK_IDS, type RuntimeId } from '../core/runtimes.js';
import type { Aggregate, ParityState, RunResult, SummaryRow } from '../schema/result.js';
import { fig, type CaseView, type ColumnView, type Pair, type ViewCell } from './view.js';

const MISSING = '–';

/** A pair of runtimes whose ratio isolates one change: `of` ÷ `over`. */
export interface StackPair {
  of: RuntimeId;
  over: RuntimeId;
  /** What differs between the two, in words: the row's label. */
  change: string;
}

const LIBRARY: Record<string, string> = { 'node-ws': 'Node + ws', 'node-uws': 'Node + uWebSockets.js', bun: 'Bun' };

/** Every pair the view may show, in order: the layer's cost per runtime, then what the runtime changes. */
export const STACK_PAIRS: readonly StackPair[] = [
  ...STACK_IDS.map((s) => ({ of: s, over: RUNTIMES[s].bare!, change: `Socket.IO layer on ${LIBRARY[RUNTIMES[s].bare!] ?? RUNTIMES[s].bare}` })),
  { of: 'bun-socketio', over: 'node-socketio', change: 'Bun instead of Node, under Socket.IO' },
  { of: 'node-socketio-uws', over: 'node-socketio', change: 'uWebSockets.js instead of ws, under Socket.IO on Node' },
  { of: 'bun', over: 'node-ws', change: 'Bun instead of Node, bare (for reference)' },
  { of: 'bun', over: 'node-socketio', change: 'from Node + Socket.IO to bare Bun' },
];

const COLUMNS: ColumnView[] = [
  { id: 'case', header: ['case'], align: 'left', group: 'runtime' },
  { id: 'p50', header: ['latency', 'p50'], align: 'right', group: 'traffic' },
  { id: 'p99', header: ['', 'p99'], align: 'right', group: 'traffic' },
  { id: 'cpu', header: ['CPU', 'µs/msg'], align: 'right', group: 'server' },
  { id: 'rss', header: ['peak', 'RSS'], align: 'right', group: 'server' },
  { id: 'conn', header: ['bytes/', 'conn'], align: 'right', group: 'server' },
];

/** Whether the run has a Socket.IO stack among its runtimes (a stored result may predate them). */
export function hasStacks(result: RunResult): boolean {
  return result.settings.runtimes.some((r) => (STACK_IDS as readonly string[]).includes(r));
}

function ratio(of: Aggregate | undefined, over: Aggregate | undefined): ViewCell | undefined {
  if (of === undefined || over === undefined || !(over.median > 0)) return undefined;
  return fig(of.median / over.median, '×');
}

/**
 * One view per pair of STACK_PAIRS that ran (both runtimes with a completed summary row in some case), one
 * row per such case: the ratios of latency p50 and p99, server CPU per message, peak RSS and bytes per
 * connection, each `of`'s median over `over`'s. The footnotes that explain them come with the first view.
 * Empty when the run has no stack.
 */
export function stackCostViews(result: RunResult, summary: readonly SummaryRow[]): CaseView[] {
  if (!hasStacks(result)) return [];
  const cases = [...new Set(summary.map((r) => r.case))];
  const rowOf = (c: string, runtime: string) => summary.find((r) => r.case === c && r.runtime === runtime && r.completed > 0);
  const views: CaseView[] = [];
  for (const p of STACK_PAIRS) {
    const raw: Record<string, ViewCell | undefined>[] = [];
    for (const c of cases) {
      const a = rowOf(c, p.of);
      const b = rowOf(c, p.over);
      if (!a || !b) continue;
      raw.push({
        case: c,
        p50: ratio(a.latencyP50Us, b.latencyP50Us),
        p99: ratio(a.latencyP99Us, b.latencyP99Us),
        cpu: ratio(a.serverCpuUsPerMsg, b.serverCpuUsPerMsg),
        rss: ratio(a.rssPeakBytes, b.rssPeakBytes),
        conn: ratio(a.bytesPerConnection, b.bytesPerConnection),
      });
    }
    if (raw.length === 0) continue;
    const columns = COLUMNS.filter((c) => raw.some((r) => r[c.id] !== undefined));
    views.push({
      name: `Socket.IO: ${p.of} ÷ ${p.over}`,
      scenario: 'stacks',
      subtitle: `${p.change} · ${p.of}'s median over ${p.over}'s, per case`,
      columns,
      rows: raw.map((r) => columns.map((c) => r[c.id] ?? MISSING)),
      footnotes: [],
    });
  }
  const first = views[0];
  if (first) {
    const reps = result.settings.repeat;
    first.footnotes.push(
      'what Socket.IO costs, and what the runtime changes: each figure is the first runtime\'s median over the second\'s, 1.25× = 25% more (latency, CPU, memory), 0.80× = 20% less; the figures themselves are in the cases\' tables',
      'a stack and its bare counterpart run on the same runtime, WebSocket library and WebSocket settings (servers/CONTRACT.md, "Stacks"), so their ratio is what Socket.IO adds, its heartbeat included; latency is each case\'s own (echo round trip, delivery to every member, first reply chunk)',
      ...(reps < 5 ? [`${reps} repetition${reps === 1 ? '' : 's'} per runtime: no ratio here is tested for significance (run with --repeat 5 or more and \`bench compare\` for intervals)`] : []),
    );
  }
  return views;
}

/**
 * The parity section's lines for the stacks' Engine.IO settings (`stack.<setting>`), as parityLines words
 * the WebSocket settings: the common value on every stack, or the differences; then which stacks were
 * compared. Empty without a stack.
 */
export function stackParityLines(result: RunResult): Pair[] {
  const stacks = Object.entries(result.parity.stacks ?? {});
  if (stacks.length === 0) return [];
  const keys = [...new Set(stacks.flatMap(([, s]) => Object.keys(s)))] as (keyof NonNullable<ParityState['stacks']>[string])[];
  const lines: Pair[] = keys.map((key) => {
    const values = stacks.map(([label, s]) => [label, JSON.stringify(s[key])] as const);
    const first = values[0]![1];
    if (values.every(([, v]) => v === first)) return [`stack.${key}`, `${first} — identical on all stacks`];
    return [`stack.${key}`, `DIFFERS: ${values.map(([l, v]) => `${l}=${v}`).join(', ')}`];
  });
  lines.push(['stack.*', `Engine.IO settings of ${stacks.map(([label]) => label).join(', ')}, compared among the stacks only: a bare server has no Engine.IO session`]);
  return lines;
}
