// The capacity section of the reports: one table per capacity case, one row per
// runtime (repetitions aggregated): the capacity at the SLO and per server core,
// what broke first, the figures at capacity, memory per unit and projections;
// below it, each stop in words and, where this machine rather than the server
// stopped the search, which part of it and what would lift it. Words are made
// here from the stored data (report/ceiling.ts does the same for ceilings), so
// they can change without measuring again. Laid out as a CaseView, so the
// table, Markdown and HTML formats render it like any case.

import { describeSlo, MAX_PLATEAU_SEC, unitOf } from '../loadgen/models/index.js';
import type { CapacityCause, CapacityMetrics, CapacityPlateau, CellResult, RunResult } from '../schema/result.js';
import { summarize } from '../stats/descriptive.js';
import { isNonEmpty } from '../stats/errors.js';
import { formatBytes, formatCount, formatPct, formatRate, formatUs } from './units.js';
import { fig, type CaseView, type ColumnView, type Figure, type Unit, type ViewCell } from './view.js';
import { describeSaturationReason } from './warnings.js';

const MISSING = '–';

/** A level in its unit: `1,900 sessions`, `12.5k msg/s`. */
export function levelText(n: number, c: Pick<CapacityMetrics, 'dimension'>): string {
  return c.dimension === 'rate' ? `${formatRate(n)} msg/s` : `${formatCount(Math.round(n))} ${unitOf(c.dimension)}`;
}

/** The workload's own latency figure, as the SLO names it. */
function latencyName(c: Pick<CapacityMetrics, 'workload'>): string {
  return c.workload === 'voice' ? "the relay's share of the first chunk" : c.workload === 'broadcast' ? 'delivery' : 'echo';
}

/** Short names of the causes, for the table; the footnotes give them in full. */
export const CAPACITY_CAUSE_LABELS: Record<CapacityCause, string> = {
  latency: 'latency',
  loss: 'loss',
  cpu: 'server CPU',
  memory: 'memory budget',
  crash: 'crash',
  loadgen: 'load generator',
  upstream: 'simulated upstream',
  'max-level': 'levels ran out',
};

/** A percentile bound's figure by name, as the SLO names it. */
function boundName(b: NonNullable<CapacityPlateau['verdict']['tooFewSamples']>[number]['bound'], c: Pick<CapacityMetrics, 'workload'>): string {
  return b === 'latency' ? latencyName(c) : b === 'firstChunk' ? 'first reply chunk' : 'last member';
}

/**
 * The bounds a plateau left unjudged for too few samples, in words ("first reply chunk p99 from 60 samples
 * (fewer than 100): not judged"); undefined when every bound was judged.
 */
export function describeTooFewSamples(p: CapacityPlateau, c: Pick<CapacityMetrics, 'workload'>): string | undefined {
  const few = p.verdict.tooFewSamples;
  if (!few || few.length === 0) return undefined;
  return few.map((f) => `${boundName(f.bound, c)} p99 from ${formatCount(f.samples)} samples (fewer than ${formatCount(f.minSamples)}): not judged`).join('; ');
}

/**
 * A plateau's verdict in words, with the figures that broke the bound: "met the SLO", "relay share p99 31.2 ms
 * is above the bound of 20 ms at 80 sessions", "the server exited (code 3) at 60 connections"; bounds left
 * unjudged for too few samples follow ("met the SLO; first reply chunk p99 from 60 samples (fewer than 100): not judged").
 */
export function describeCapacityVerdict(p: CapacityPlateau, c: CapacityMetrics): string {
  const words = verdictWords(p, c);
  const few = describeTooFewSamples(p, c);
  return few ? `${words}; ${few}` : words;
}

function verdictWords(p: CapacityPlateau, c: CapacityMetrics): string {
  const v = p.verdict;
  const at = `at ${levelText(p.level, c)}`;
  const slo = c.slo;
  if (v.ok && !v.lastLevel) return 'met the SLO';
  switch (v.cause) {
    case 'crash':
      return `the server exited${v.serverExit ? ` (${v.serverExit})` : ''} ${at}${v.serverSaid ? `: "${v.serverSaid}"` : ''}`;
    case 'memory':
      return `server RSS ${formatBytes(p.rssBytes ?? 0)} ${at} is above the memory budget of ${slo.memoryBudgetMiB} MiB`;
    case 'cpu':
      return `server CPU ${formatPct(p.serverCpuPct ?? 0)} of one core ${at} is at the bound of ${slo.maxServerCpuPct}% of its ${c.serverCpus} CPU${c.serverCpus === 1 ? '' : 's'}`;
    case 'loss': {
      const parts: string[] = [];
      if (v.loss?.includes('messages')) parts.push(`${formatCount(p.lost + p.faulty)} of ${formatCount(p.expected)} messages lost${p.faulty > 0 ? ' or faulty' : ''} (${formatPct((100 * (p.lost + p.faulty)) / Math.max(1, p.expected))})`);
      if (v.loss?.includes('connects')) parts.push(`${formatCount(p.failedConnects)} of ${formatCount(p.connections)} connects failed`);
      if (v.loss?.includes('closes')) parts.push(`the server closed ${formatCount(p.closedByServer)} of ${formatCount(p.connections)} connections`);
      return `${parts.join('; ')} ${at}: above the loss bound of ${slo.maxLossRatio * 100}%`;
    }
    case 'latency': {
      const parts: string[] = [];
      if (v.latency?.includes('latency')) parts.push(`${latencyName(c)} p99 ${formatUs(p.latencyP99Us ?? 0)} is above the bound of ${slo.latencyP99Ms} ms`);
      if (v.latency?.includes('firstChunk')) parts.push(`first reply chunk p99 ${formatUs(p.firstChunkP99Us ?? 0)} is above the bound of ${slo.firstChunkP99Ms} ms`);
      if (v.latency?.includes('lastMember')) parts.push(`last member p99 ${formatUs(p.lastMemberP99Us ?? 0)} is above the bound of ${slo.lastMemberP99Ms} ms`);
      return `${parts.join('; ')} ${at}`;
    }
    case 'loadgen': {
      const why = (v.loadgenReasons ?? []).map(describeSaturationReason).join('; ');
      return v.lastLevel
        ? `${at} the SLO held, but the load generator fell behind (${why}): no higher level could be offered on this machine`
        : `the load generator fell behind ${at} (${why}): this machine's limit, not the server's`;
    }
    case 'upstream':
      return `the simulated upstream was busy ${at} (CPU ${formatPct(p.upstreamCpuPct ?? 0)} of a core${p.upstreamChunksDropped ? `, ${formatCount(p.upstreamChunksDropped)} reply chunks dropped` : ''}) when latency or loss broke: this machine's limit, not the server's`;
    default:
      return `stopped (${v.cause ?? 'unknown'})`;
  }
}

/** Which part of this machine stopped a search, and what would lift it; undefined when the server did. */
export function describeLift(c: CapacityMetrics): string | undefined {
  const l = c.limit;
  if (!l) return undefined;
  if (l.part === 'loadgen') {
    return `the load generator${l.cpus ? ` (CPUs ${l.cpus})` : ''} was the limit, so the server's capacity is at least this: more CPUs for the generator (--loadgen-cpus, a machine with more cores) or the load spread over machines (k8s/) would lift it`;
  }
  return `the simulated upstream${l.shared ? ` (on the load generator's CPUs ${l.cpus ?? '(unpinned)'})` : l.cpus ? ` (CPUs ${l.cpus})` : ''} was the limit, so the server's capacity is at least this: ${l.shared ? 'a machine with a CPU to spare, where bench gives the upstream a CPU of its own,' : 'more CPU for the upstream'} would lift it`;
}

/** Why a search stopped, in words: the stopping plateau's verdict, or how it ended without one, and what would lift a bound. */
export function describeCapacityStop(c: CapacityMetrics): string {
  const s = c.stop;
  let words: string;
  const p = s.level !== null ? (c.plateaus.find((x) => x.level === s.level && !x.bisection && (!x.ok || x.verdict.lastLevel)) ?? c.plateaus.find((x) => x.level === s.level)) : undefined;
  if (p) words = describeCapacityVerdict(p, c);
  else if (s.cause === 'max-level') words = `every level up to ${levelText(c.levels.at(-1)!, c)} met the SLO: the server carries at least that; raise load.levels to find where it stops`;
  else if (s.cause === 'crash') words = `the server exited${s.serverExit ? ` (${s.serverExit})` : ''}${s.serverSaid ? `: "${s.serverSaid}"` : ''}`;
  else words = `stopped by ${CAPACITY_CAUSE_LABELS[s.cause ?? 'crash']}`;
  const lift = describeLift(c);
  return lift ? `${words}; ${lift}` : words;
}

/** The headline of a search: "1,900 sessions (950 per core)", "≥ 1,900 sessions: the load generator's limit here". */
export function capacityHeadline(c: CapacityMetrics): string {
  if (c.capacity === null) {
    // This machine's limit at the first level says nothing of the server: not measured, rather than below it.
    return c.limitClass === 'environment'
      ? `not measured: the ${c.cause === 'loadgen' ? 'load generator' : 'simulated upstream'} was the limit at the first level (${levelText(c.levels[0]!, c)})`
      : `below the first level (${levelText(c.levels[0]!, c)}): ${CAPACITY_CAUSE_LABELS[c.cause]}`;
  }
  const perCore = c.perCore !== null ? ` (${levelText(c.perCore, c)} per core)` : '';
  if (!c.lowerBound) return `${levelText(c.capacity, c)}${perCore}`;
  const why = c.cause === 'loadgen' ? "the load generator's limit here" : c.cause === 'upstream' ? "the simulated upstream's limit here" : 'every level met the SLO';
  return `≥ ${levelText(c.capacity, c)}${perCore}: ${why}`;
}

const COLUMNS: ColumnView[] = [
  { id: 'runtime', header: ['runtime'], align: 'left', group: 'runtime' },
  { id: 'capacity', header: ['capacity'], align: 'right', group: 'traffic' },
  { id: 'perCore', header: ['per', 'core'], align: 'right', group: 'traffic' },
  { id: 'cause', header: ['broke', 'first'], align: 'left', group: 'traffic' },
  { id: 'limit', header: ['limit'], align: 'left', group: 'traffic' },
  { id: 'p99', header: ['p99 at', 'capacity'], align: 'right', group: 'traffic' },
  { id: 'msgs', header: ['msgs/s at', 'capacity'], align: 'right', group: 'traffic' },
  { id: 'cpu', header: ['server CPU', 'at capacity'], align: 'right', group: 'server' },
  { id: 'cpuPerMsg', header: ['CPU µs/msg', 'at capacity'], align: 'right', group: 'server' },
  { id: 'bytes', header: ['bytes/', 'unit'], align: 'right', group: 'server' },
  { id: 'perGiB', header: ['proj.', 'per GiB'], align: 'right', group: 'health' },
  { id: 'servers', header: ['proj.', 'servers'], align: 'right', group: 'health' },
  { id: 'search', header: ['search'], align: 'right', group: 'health' },
];

function medianFigure(values: number[], unit: Unit, opts: Omit<Figure, 'value' | 'unit'> & { spread?: boolean } = {}): Figure | undefined {
  if (!isNonEmpty(values)) return undefined;
  const s = summarize(values);
  const { spread, ...rest } = opts;
  return fig(s.median, unit, { ...rest, ...(spread && s.n > 1 && s.madPct !== null ? { spreadPct: s.madPct } : {}), ...(s.n > 1 && s.min !== s.max ? { range: [s.min, s.max] as [number, number] } : {}) });
}

function distinctText(values: string[]): string {
  const distinct = [...new Set(values)];
  return distinct.length === 1 ? distinct[0]! : distinct.map((d) => `${d} (${values.filter((v) => v === d).length}/${values.length})`).join(', ');
}

/** The capacity over repetitions: the median (and range), ≥ when any repetition was only a bound. */
function capacityCell(list: CapacityMetrics[], get: (c: CapacityMetrics) => number | null, o: { note: boolean } = { note: true }): ViewCell {
  const values = list.map(get).filter((v): v is number => v !== null);
  if (values.length < list.length) return distinctText(list.map(capacityHeadline));
  const unit: Unit = list[0]!.dimension === 'rate' ? 'msgs/s' : 'count';
  const refined = !o.note ? undefined : list.some((c) => c.refined === 'interpolated') ? '(interpolated)' : list.some((c) => c.refined === 'bisection') ? '(bisected)' : undefined;
  return medianFigure(values, unit, { ...(list.some((c) => c.lowerBound) ? { bound: 'lower' as const } : {}), ...(refined ? { note: refined } : {}) }) ?? MISSING;
}

/** One view per capacity case, one row per runtime. Empty when the result has none. */
export function capacityViews(result: RunResult): CaseView[] {
  const withCapacity = result.cells.filter((c) => c.status === 'completed' && c.metrics?.capacity);
  const caseNames = [...new Set(withCapacity.map((c) => c.case))];
  return caseNames.map((name) => {
    const cells = withCapacity.filter((c) => c.case === name);
    const first = cells[0]!.metrics!.capacity!;
    const runtimes = [...new Set(result.cells.filter((c) => c.case === name).map((c) => c.runtime))];
    const footnotes: string[] = [];
    const rows: Record<string, ViewCell | undefined>[] = runtimes.map((runtime) => {
      const mine: CellResult[] = cells.filter((c) => c.runtime === runtime).sort((a, b) => a.repetition - b.repetition);
      const list = mine.map((c) => c.metrics!.capacity!);
      const total = result.cells.filter((c) => c.case === name && c.runtime === runtime).length;
      if (list.length === 0) return { runtime: `${runtime} (0/${total})` };
      for (const cause of new Set(list.map((c) => c.cause))) {
        const same = list.filter((c) => c.cause === cause);
        footnotes.push(`${runtime}: ${describeCapacityStop(same[0]!)}${list.length > 1 ? ` (${same.length} of ${list.length} repetitions stopped by this cause${same.length > 1 ? '; the first one quoted' : ''})` : ''}`);
      }
      // A level whose p99 rested on too few samples held without that bound: the reader must know which.
      const unjudged = list.flatMap((c) => c.plateaus.filter((p) => p.verdict.tooFewSamples?.length).map((p) => ({ c, p })));
      if (unjudged.length > 0) {
        const { c, p } = unjudged[0]!;
        footnotes.push(`${runtime}: ${unjudged.length} plateau${unjudged.length === 1 ? '' : 's'} with a bound not judged for too few samples, even held for up to ${MAX_PLATEAU_SEC} s${unjudged.length > 1 ? ', the first quoted' : ''}: at ${levelText(p.level, c)}, ${describeTooFewSamples(p, c)}`);
      }
      const at = list.map((c) => c.atCapacity).filter((a) => a !== null);
      const num = (xs: (number | null | undefined)[]) => xs.filter((v): v is number => v !== null && v !== undefined);
      return {
        runtime: list.length < total ? `${runtime} (${list.length}/${total})` : runtime,
        capacity: capacityCell(list, (c) => c.capacity),
        perCore: list.every((c) => c.perCore !== null) ? capacityCell(list, (c) => c.perCore, { note: false }) : undefined,
        cause: distinctText(list.map((c) => CAPACITY_CAUSE_LABELS[c.cause])),
        limit: distinctText(list.map((c) => c.limitClass)),
        p99: medianFigure(num(at.map((a) => a.latencyP99Us)), 'µs'),
        msgs: medianFigure(at.map((a) => a.msgsPerSec), 'msgs/s'),
        cpu: medianFigure(num(at.map((a) => a.serverCpuPct)), '%'),
        cpuPerMsg: medianFigure(num(at.map((a) => a.serverCpuUsPerMsg)), 'µs/msg', { spread: true }),
        bytes: medianFigure(num(list.map((c) => c.memory.bytesPerUnit)), 'bytes', { spread: true }),
        perGiB: medianFigure(num(list.map((c) => c.memory.unitsPerGiB)), 'connections', { approx: true }),
        servers: medianFigure(num(list.map((c) => c.projection?.serversNeeded)), 'count', { approx: true }),
        search: medianFigure(list.map((c) => c.searchMs / 1000), 's'),
      };
    });
    const columns = COLUMNS.filter((c) => rows.some((r) => r[c.id] !== undefined));
    const unit = unitOf(first.dimension);
    const projectedFor = first.projection?.for;
    footnotes.push(
      `capacity: the last level (${unit}) that met the SLO, each level a fresh load held on the same server process; (bisected): found between the last good and the first bad level; ≥: a lower bound, because this machine (the load generator, the simulated upstream) or the end of the levels stopped the search, not the server`,
      `per core: capacity ÷ the CPUs the server was pinned to (${first.serverCpus}); at capacity: the figures of the plateau at capacity (p99: ${latencyName(first)}; server CPU: % of one core)`,
      ...(columns.some((c) => c.id === 'bytes')
        ? [`bytes/unit: server memory per ${unit.replace(/s$/, '')}, the slope of RSS over the plateaus that met the SLO (at least 3, positive, ± MAD/median over repetitions)`]
        : []),
      ...(columns.some((c) => c.id === 'perGiB') ? [`proj. per GiB: a projection, not a measurement: ${unit} per GiB of server RSS at that slope`] : []),
      ...(projectedFor !== undefined
        ? [`proj. servers: a projection, not a measurement: servers like this one (${first.serverCpus} CPU${first.serverCpus === 1 ? '' : 's'} each) for ${levelText(projectedFor, first)}, at the capacity measured here; a bound (≥) projects at most that many`]
        : []),
    );
    const reps = result.settings.repeat;
    return {
      name: `capacity at the SLO: ${name}`,
      scenario: name,
      subtitle: `SLO: ${describeSlo(first.slo, first.workload)} · levels ${levelText(first.levels[0]!, first)} to ${levelText(first.levels.at(-1)!, first)}${first.bisectSteps > 0 ? `, ${first.bisectSteps} bisection step${first.bisectSteps === 1 ? '' : 's'}` : ''} · ${reps} repetition${reps === 1 ? '' : 's'} per runtime · plateaus in the JSON (metrics.capacity.plateaus)`,
      columns,
      rows: rows.map((r) => columns.map((c) => r[c.id] ?? MISSING)),
      footnotes,
    };
  });
}

/** Whether the result has a cell with a capacity search (the section appears only then). */
export function hasCapacity(result: RunResult): boolean {
  return result.cells.some((c) => c.metrics?.capacity !== undefined);
}

type Value = string | number | boolean | null | undefined;

/** Columns appended to the CSV when a result has capacity cells (empty for other cells). */
export const CAPACITY_CSV_COLUMNS: readonly { name: string; get: (c: CellResult) => Value }[] = [
  { name: 'capacity', get: (c) => c.metrics?.capacity?.capacity },
  { name: 'capacityUnit', get: (c) => (c.metrics?.capacity ? unitOf(c.metrics.capacity.dimension) : undefined) },
  { name: 'capacityPerCore', get: (c) => c.metrics?.capacity?.perCore },
  { name: 'capacityLowerBound', get: (c) => c.metrics?.capacity?.lowerBound },
  { name: 'capacityCause', get: (c) => c.metrics?.capacity?.cause },
  { name: 'capacityLimitClass', get: (c) => c.metrics?.capacity?.limitClass },
  { name: 'capacitySummary', get: (c) => (c.metrics?.capacity ? capacityHeadline(c.metrics.capacity) : undefined) },
  { name: 'capacityCpuUsPerMsg', get: (c) => c.metrics?.capacity?.atCapacity?.serverCpuUsPerMsg },
  { name: 'capacityBytesPerUnit', get: (c) => c.metrics?.capacity?.memory.bytesPerUnit },
  { name: 'projectedUnitsPerGiB', get: (c) => c.metrics?.capacity?.memory.unitsPerGiB },
  { name: 'projectedServers', get: (c) => c.metrics?.capacity?.projection?.serversNeeded },
];
