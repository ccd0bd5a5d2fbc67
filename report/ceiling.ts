// The connection-ceiling section of the reports: one table per ceiling case,
// one row per runtime (repetitions aggregated), with the cause of each stop
// and what each server did at its open-file limit written out below. Laid out
// as a CaseView so the table and Markdown formats render it like any case.

import type { CeilingCause, CeilingMetrics, CeilingPlateau, CellResult, ErrorKind, FdLimitBehaviour, PlateauVerdict, RunResult } from '../schema/result.js';
import { describeSaturationReason } from './warnings.js';
import { summarize } from '../stats/descriptive.js';
import { isNonEmpty } from '../stats/errors.js';
import { fig, type CaseView, type ColumnView, type Figure, type Unit, type ViewCell } from './view.js';

const MISSING = '–';

const count = (n: number) => Math.round(n).toLocaleString('en-US');

function errorList(errors: Partial<Record<ErrorKind, number>>): string {
  const parts = Object.entries(errors)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([k, n]) => `${count(n!)} ${k}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/** What a server did at its open-file limit, in words, from the plateau where it happened. */
export function describeFdBehaviour(b: FdLimitBehaviour, v: PlateauVerdict, p: CeilingPlateau | undefined): string {
  const errs = p ? errorList(p.errors) : 'none';
  switch (b) {
    case 'exited':
      return `exited${v.serverExit ? ` (${v.serverExit})` : ''}${v.serverSaid ? `: "${v.serverSaid}"` : ''}, dropping every connection${p ? ` (${count(p.connections + p.drops)} open)` : ''}`;
    case 'closes-extra':
      return `kept running and closed connections beyond the limit at once (${errs})`;
    case 'spins':
      return `kept running but left connections beyond the limit unanswered (${errs}) and used ${(p?.idleCpuPct ?? 0).toFixed(0)}% CPU with no traffic`;
    case 'stalls':
      return `kept running but left connections beyond the limit unanswered (${errs})`;
  }
}

/**
 * A plateau's verdict in words, with the figures that broke the bound: "met the SLO", "heartbeat p99 62.3 ms
 * is above the bound of 50 ms", "the server's open-file limit (20000): at 20,064 connections it exited …".
 */
export function describeVerdict(p: CeilingPlateau, c: Pick<CeilingMetrics, 'slo' | 'openFileLimit'>): string {
  const v = p.verdict;
  const slo = c.slo;
  if (v.ok) return 'met the SLO';
  switch (v.cause) {
    case 'fd-limit':
      return `the server's open-file limit (${c.openFileLimit ?? 'unknown'}): at ${count(p.targetConnections)} connections it ${v.atFdLimit ? describeFdBehaviour(v.atFdLimit, v, p) : 'failed'}`;
    case 'crash':
      return `the server exited${v.serverExit ? ` (${v.serverExit})` : ''} at ${count(p.targetConnections)} connections${v.serverSaid ? `: "${v.serverSaid}"` : ''}`;
    case 'loadgen-ports':
      return `the load generator ran out of source ports (${count(v.failedConnects ?? 0)} connects failed with EADDRNOTAVAIL/EADDRINUSE)`;
    case 'loadgen-fds':
      return `the load generator ran out of file descriptors (${count(v.failedConnects ?? 0)} connects failed with EMFILE/ENFILE)`;
    case 'memory':
      return `server RSS ${((p.rssBytes ?? 0) / 1024 / 1024).toFixed(0)} MiB is above the memory budget of ${slo.memoryBudgetMiB} MiB`;
    case 'errors': {
      const broken: string[] = [];
      if (v.broken?.includes('connects')) broken.push(`${count(p.connectFailed)} of ${count(p.connectAttempted)} connects failed (${errorList(p.errors)})`);
      if (v.broken?.includes('drops')) broken.push(`the server dropped ${count(p.drops)} open connections`);
      if (v.broken?.includes('heartbeats')) broken.push(`${count(p.heartbeatsLost)} of ${count(p.heartbeatsSent)} heartbeats got no reply`);
      return `${broken.join('; ')}: above the error bound of ${slo.maxErrorRatio * 100}%`;
    }
    case 'latency':
      return `heartbeat p99 ${((p.p99Us ?? 0) / 1000).toFixed(1)} ms is above the bound of ${slo.heartbeatP99Ms} ms`;
    case 'loadgen-saturated':
      return `heartbeat p99 ${((p.p99Us ?? 0) / 1000).toFixed(1)} ms is above the bound of ${slo.heartbeatP99Ms} ms, but the load generator fell behind (${(v.loadgenReasons ?? []).map(describeSaturationReason).join('; ')}): this machine's limit, not the server's`;
    case 'cpu':
      return `server CPU ${(p.cpuPct ?? 0).toFixed(0)}% during the heartbeats is at the bound of ${slo.maxServerCpuPct}%`;
    default:
      return `stopped (${v.cause ?? 'unknown'})`;
  }
}

/** Why a search stopped, in words (the first bad plateau's verdict, or how it ended without one). */
export function describeStop(c: CeilingMetrics): string {
  const bad = c.plateaus.find((p) => !p.ok && !p.bisection);
  if (bad) return describeVerdict(bad, c);
  const s = c.stop;
  switch (s.cause) {
    case 'crash':
      return `the server exited${s.serverExit ? ` (${s.serverExit})` : ''}${s.serverSaid ? `: "${s.serverSaid}"` : ''}`;
    case 'fd-margin':
      return `stopped ${count(c.stopShortOfFdLimitBy)} connections short of the server's open-file limit (${c.openFileLimit}) as asked (stopShortOfFdLimitBy), at ${count(c.lastGoodConnections)} connections within the SLO`;
    case 'max-connections':
      return `every plateau up to the scenario's maximum of ${count(c.maxConnections)} connections met the SLO`;
    case 'fd-limit':
      return `the server's open-file limit (${c.openFileLimit ?? 'unknown'})${s.atFdLimit ? `: it ${describeFdBehaviour(s.atFdLimit, s, undefined)}` : ''}`;
    default:
      return `stopped by ${s.cause ? CAUSE_LABELS[s.cause] : 'an unknown cause'}`;
  }
}

/** The headline of a search: the ceiling as a number only when it is the runtime's own. */
export function headline(c: CeilingMetrics): string {
  if (c.ceilingConnections !== null) return `${count(c.ceilingConnections)} connections`;
  switch (c.cause) {
    case 'fd-limit':
      return `not reached: stopped by the open-file limit ${c.openFileLimit ?? '(unknown)'}`;
    case 'fd-margin':
      return `not reached: stopped ${count(c.stopShortOfFdLimitBy)} short of the open-file limit ${c.openFileLimit ?? '(unknown)'}`;
    case 'loadgen-ports':
      return "not reached: stopped by the load generator's source ports";
    case 'loadgen-fds':
      return "not reached: stopped by the load generator's open-file limit";
    case 'loadgen-saturated':
      return 'not reached: the load generator could not keep up on this machine';
    case 'max-connections':
      return `not reached: within the SLO at the scenario's maximum of ${count(c.maxConnections)} connections`;
    default:
      return `${count(c.lastGoodConnections)} connections`;
  }
}

/** Short names of the causes, for the table; the footnotes give them in full. */
export const CAUSE_LABELS: Record<CeilingCause, string> = {
  latency: 'heartbeat p99',
  errors: 'errors',
  memory: 'memory budget',
  cpu: 'server CPU',
  crash: 'crash',
  'fd-limit': 'open-file limit',
  'fd-margin': 'open-file margin',
  'loadgen-ports': 'loadgen ports',
  'loadgen-fds': 'loadgen fds',
  'loadgen-saturated': 'load generator',
  'max-connections': 'scenario max',
};

const COLUMNS: ColumnView[] = [
  { id: 'runtime', header: ['runtime'], align: 'left', group: 'runtime' },
  { id: 'ceiling', header: ['ceiling'], align: 'left', group: 'traffic' },
  { id: 'limit', header: ['limit'], align: 'left', group: 'traffic' },
  { id: 'stop', header: ['stopped by'], align: 'left', group: 'traffic' },
  { id: 'held', header: ['held', 'in SLO'], align: 'right', group: 'traffic' },
  { id: 'p99', header: ['p99 at', 'held'], align: 'right', group: 'traffic' },
  { id: 'opened', header: ['opened', 'in'], align: 'right', group: 'traffic' },
  { id: 'search', header: ['search'], align: 'right', group: 'traffic' },
  { id: 'idle', header: ['bytes/conn', 'idle'], align: 'right', group: 'server' },
  { id: 'active', header: ['bytes/conn', 'active'], align: 'right', group: 'server' },
  { id: 'r2', header: ['fit', 'R²'], align: 'right', group: 'server' },
  { id: 'kernel', header: ['kernel/', 'socket'], align: 'right', group: 'server' },
  { id: 'gib1', header: ['proj.', '1 GiB'], align: 'right', group: 'health' },
  { id: 'gib4', header: ['proj.', '4 GiB'], align: 'right', group: 'health' },
  { id: 'gib16', header: ['proj.', '16 GiB'], align: 'right', group: 'health' },
];

function medianFigure(values: number[], unit: Unit, opts: { spread?: boolean; approx?: boolean } = {}): Figure | undefined {
  if (!isNonEmpty(values)) return undefined;
  const s = summarize(values);
  return fig(s.median, unit, { ...(opts.spread && s.n > 1 && s.madPct !== null ? { spreadPct: s.madPct } : {}), ...(opts.approx ? { approx: true } : {}) });
}

function ceilingCell(list: CeilingMetrics[]): ViewCell {
  const runtime = list.filter((c) => c.ceilingConnections !== null).map((c) => c.ceilingConnections!);
  if (runtime.length === list.length && isNonEmpty(runtime)) {
    const s = summarize(runtime);
    const refined = list.some((c) => c.refined === 'interpolated') ? '(interpolated)' : list.some((c) => c.refined === 'bisection') ? '(bisected)' : undefined;
    return fig(Math.round(s.median), 'count', { ...(s.n > 1 ? { range: [s.min, s.max] as [number, number] } : {}), ...(refined ? { note: refined } : {}) });
  }
  const lines = list.map(headline);
  const distinct = [...new Set(lines)];
  return distinct.length === 1 ? distinct[0]! : distinct.map((d) => `${d} (${lines.filter((l) => l === d).length}/${list.length})`).join('; ');
}

function distinctText(values: string[]): string {
  const distinct = [...new Set(values)];
  return distinct.length === 1 ? distinct[0]! : distinct.map((d) => `${d} (${values.filter((v) => v === d).length}/${values.length})`).join(', ');
}

function kernelText(c: CeilingMetrics): number | undefined {
  const k = c.memory.kernel;
  if (k.slabBytesPerSocket === null && k.buffersBytesPerSocket === null) return undefined;
  return Math.max(0, k.slabBytesPerSocket ?? 0) + Math.max(0, k.buffersBytesPerSocket ?? 0);
}

/** The ceiling of a case's cells with a ceiling, one row per runtime. Empty when the result has none. */
export function ceilingViews(result: RunResult): CaseView[] {
  const withCeiling = result.cells.filter((c) => c.status === 'completed' && c.metrics?.ceiling);
  const caseNames = [...new Set(withCeiling.map((c) => c.case))];
  return caseNames.map((name) => {
    const cells = withCeiling.filter((c) => c.case === name);
    const runtimes = [...new Set(result.cells.filter((c) => c.case === name).map((c) => c.runtime))];
    const footnotes: string[] = [];
    const rows: Record<string, ViewCell | undefined>[] = runtimes.map((runtime) => {
      const mine: CellResult[] = cells.filter((c) => c.runtime === runtime).sort((a, b) => a.repetition - b.repetition);
      const list = mine.map((c) => c.metrics!.ceiling!);
      const total = result.cells.filter((c) => c.case === name && c.runtime === runtime).length;
      if (list.length === 0) return { runtime: `${runtime} (0/${total})` };
      // One line per runtime and cause: the first repetition's words, and how many repetitions stopped the same way.
      for (const cause of new Set(list.map((c) => c.cause))) {
        const same = list.filter((c) => c.cause === cause);
        footnotes.push(`${runtime}: ${describeStop(same[0]!)}${list.length > 1 ? ` (${same.length} of ${list.length} repetitions stopped by this cause${same.length > 1 ? '; the first one quoted' : ''})` : ''}`);
      }
      // What the server did at its open-file limit, unless the cause above already says it.
      for (const c of list.filter((x) => x.stop.atFdLimit && x.cause !== 'fd-limit')) {
        const at = c.plateaus.find((p) => p.verdict.atFdLimit);
        const line = `${runtime} at its open-file limit: ${describeFdBehaviour(c.stop.atFdLimit!, c.stop, at)}`;
        if (!footnotes.includes(line)) footnotes.push(line);
      }
      const held = list.map((c) => c.plateaus.filter((p) => p.ok && !p.bisection).at(-1)).filter((p) => p !== undefined);
      const proj = (i: number) => medianFigure(list.map((c) => c.memory.projections[i]?.connections).filter((v): v is number => v !== undefined), 'connections', { approx: true });
      const r2 = list.map((c) => c.memory.idle?.r2).filter((v): v is number => v !== undefined);
      return {
        runtime: list.length < total ? `${runtime} (${list.length}/${total})` : runtime,
        ceiling: ceilingCell(list),
        limit: distinctText(list.map((c) => c.limitClass)),
        stop: distinctText(list.map((c) => CAUSE_LABELS[c.cause])),
        held: medianFigure(list.map((c) => c.lastGoodConnections), 'count'),
        p99: medianFigure(held.map((p) => p.p99Us).filter((v): v is number => v !== null), 'µs'),
        // Step time spent opening the connections held in the SLO (the settling and heartbeats excluded), and the whole search.
        opened: medianFigure(list.map((c) => c.plateaus.filter((p) => !p.bisection && p.connections <= c.lastGoodConnections).reduce((a, p) => a + p.connectMs, 0) / 1000), 's'),
        search: medianFigure(list.map((c) => c.searchMs / 1000), 's'),
        idle: medianFigure(list.map((c) => c.memory.idle?.bytesPerConnection).filter((v): v is number => v !== undefined), 'bytes', { spread: true }),
        active: medianFigure(list.map((c) => c.memory.active?.bytesPerConnection).filter((v): v is number => v !== undefined), 'bytes', { spread: true }),
        r2: isNonEmpty(r2) ? Math.min(...r2).toFixed(3) : undefined,
        kernel: medianFigure(list.map(kernelText).filter((v): v is number => v !== undefined), 'bytes'),
        gib1: proj(0),
        gib4: proj(1),
        gib16: proj(2),
      };
    });
    const columns = COLUMNS.filter((c) => rows.some((r) => r[c.id] !== undefined));
    const first = cells[0]!.metrics!.ceiling!;
    const s = first.slo;
    const slo = [`heartbeat p99 ≤ ${s.heartbeatP99Ms} ms`, `errors ≤ ${s.maxErrorRatio * 100}%`, ...(s.memoryBudgetMiB !== null ? [`RSS ≤ ${s.memoryBudgetMiB} MiB`] : []), `server CPU < ${s.maxServerCpuPct}%`].join(', ');
    footnotes.push(
      'ceiling: the last plateau that met the SLO, printed only when the runtime\'s own limit (latency, errors, memory budget, CPU, crash) stopped the search; "not reached" means the environment (open-file limit, load generator, this machine) stopped it first, so the runtime has not shown its ceiling there',
      'opened in: time the steps took to open the connections held in the SLO (settling and heartbeats excluded); search: the whole search, median over repetitions',
      'bytes/conn: slope of a least-squares fit of settled server RSS against open connections over the plateaus that met the SLO, idle and with heartbeats (± MAD/median over repetitions); fit R²: the lowest of the idle fits',
      'kernel/socket: kernel memory RSS does not include, per socket: slab objects (/proc/slabinfo) plus TCP buffers (/proc/net/sockstat), machine-wide slopes halved (client and server sockets on loopback)',
      'proj.: projections, not measurements: connections a server process could hold in 1, 4 or 16 GiB of RSS, (budget − fitted intercept) ÷ bytes per connection with heartbeats; kernel memory not included',
    );
    return {
      name: `connection ceiling: ${name}`,
      scenario: cells[0]!.scenario,
      subtitle: `SLO: ${slo} · ${result.settings.repeat} repetition${result.settings.repeat === 1 ? '' : 's'} per runtime · plateaus in the JSON (metrics.ceiling.plateaus)`,
      columns,
      rows: rows.map((r) => columns.map((c) => r[c.id] ?? MISSING)),
      footnotes,
    };
  });
}

type Value = string | number | boolean | null | undefined;

/** Columns appended to the CSV when a result has ceiling cells (empty for other cells). */
export const CEILING_CSV_COLUMNS: readonly { name: string; get: (c: CellResult) => Value }[] = [
  { name: 'ceilingConnections', get: (c) => c.metrics?.ceiling?.ceilingConnections },
  { name: 'ceilingSummary', get: (c) => (c.metrics?.ceiling ? headline(c.metrics.ceiling) : undefined) },
  { name: 'ceilingCause', get: (c) => c.metrics?.ceiling?.cause },
  { name: 'limitClass', get: (c) => c.metrics?.ceiling?.limitClass },
  { name: 'lastGoodConnections', get: (c) => c.metrics?.ceiling?.lastGoodConnections },
  { name: 'atFdLimit', get: (c) => c.metrics?.ceiling?.stop.atFdLimit },
  { name: 'bytesPerConnIdle', get: (c) => (c.metrics?.ceiling ?? c.metrics)?.memory?.idle?.bytesPerConnection },
  { name: 'bytesPerConnIdleR2', get: (c) => (c.metrics?.ceiling ?? c.metrics)?.memory?.idle?.r2 },
  { name: 'bytesPerConnActive', get: (c) => c.metrics?.ceiling?.memory.active?.bytesPerConnection },
  { name: 'kernelSlabBytesPerSocket', get: (c) => c.metrics?.ceiling?.memory.kernel.slabBytesPerSocket },
  { name: 'kernelBufferBytesPerSocket', get: (c) => c.metrics?.ceiling?.memory.kernel.buffersBytesPerSocket },
  ...[0, 1, 2].map((i) => ({ name: `projectedConnections${[1, 4, 16][i]}GiB`, get: (c: CellResult) => c.metrics?.ceiling?.memory.projections.find((p) => p.budgetBytes === [1, 4, 16][i]! * 1024 ** 3)?.connections })),
];

/** Whether the result has any cell with a ceiling (the section and the CSV columns appear only then). */
export function hasCeilings(result: RunResult): boolean {
  return result.cells.some((c) => c.metrics?.ceiling !== undefined);
}
