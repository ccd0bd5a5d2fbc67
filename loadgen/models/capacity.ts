import { checkNumber, checkObject, checkString, isObject, quote, type Problems } from '../../base/validate.js';
import type { CapacityDimension, CapacitySlo } from '../../schema/result.js';
import { parseLatency } from '../../upstream/latency.js';
import type { BroadcastModel, CapacityModel, OpenModel, VoiceModel } from '../types.js';
import { broadcast } from './broadcast.js';
import type { LoadModelDef } from './model.js';
import { open } from './open.js';
import { maxThinkMs, voice } from './voice.js';

/**
 * Capacity at an SLO: the question a team brings ("how many of our sessions does one core carry within our
 * latency target?") as a stepped search over one dimension of a fixed-rate workload. The workload is written as
 * any open-loop, broadcast or voice scenario's `load` (under `load.workload`), at the scenario's `connections`;
 * each level of the search scales it (workloadAt) and runs as a fresh load on the same server process, judged
 * against the SLO (core/capacity.ts). A model of its own, not a block inside each workload's `load`: the cell
 * runs plateau by plateau instead of one load, it ranks runtimes by another rule (`capacity-slo`), and the three
 * workload models stay as they are.
 */
const description =
  'capacity: raise a fixed-rate workload (msg/s, connections, voice sessions, room members) level by level, each a fresh load judged against an SLO, bisecting between the last good and first bad level; reports the capacity per server core, what broke first, the cost there and projections';

/** Workload models a capacity search can scale, with the dimensions each has (the first is the default). */
export const CAPACITY_DIMENSIONS: Record<CapacityModel['workload']['model'], readonly CapacityDimension[]> = {
  // The aggregate rate is what an echo service is sized by; connections (each at a fixed rate) is the other view.
  open: ['rate', 'connections'],
  // Members: rooms keep their size and share of publishers, so the capacity is in members and adds up over servers.
  broadcast: ['members'],
  voice: ['sessions'],
};

/** The unit of a level, for reports: msg/s, connections, sessions, members. */
export function unitOf(d: CapacityDimension): string {
  return d === 'rate' ? 'msg/s' : d;
}

/** Most levels one search steps through (each is a plateau of seconds). */
export const MAX_LEVELS = 100;
/** The scenario rules' bound on connections (core/scenario.ts MAX_CONNECTIONS); loadgen/ may not import core/. */
const MAX_LEVEL_CONNECTIONS = 1_000_000;
const MAX_LEVEL_RATE = 10_000_000;

/**
 * Defaults a user recognises, each overridable under `load.slo`: the latency bound is the workload's own figure
 * (an echo is one hop on loopback, 10 ms is 20–50× its unloaded p99; fan-out delivery ≤ 50 ms and the last
 * member ≤ 100 ms; the relay's share of a voice turn ≤ 20 ms, a frame, and the first audio within the think
 * time's longest plus 200 ms); 0.1% loss (the ceiling's error bound); server CPU below 90% of its CPUs (above it a
 * busier second has nowhere to go); no memory budget.
 */
export function defaultSlo(w: CapacityModel['workload']): CapacitySlo {
  const common = { maxLossRatio: 0.001, maxServerCpuPct: 90, memoryBudgetMiB: null };
  switch (w.model) {
    case 'open':
      return { latencyP99Ms: 10, firstChunkP99Ms: null, lastMemberP99Ms: null, ...common };
    case 'broadcast':
      return { latencyP99Ms: 50, firstChunkP99Ms: null, lastMemberP99Ms: 100, ...common };
    case 'voice': {
      const spec = parseLatency(w.upstream.latency);
      const think = typeof spec === 'string' ? 800 : maxThinkMs(spec);
      return { latencyP99Ms: 20, firstChunkP99Ms: Math.round(think + 200), lastMemberP99Ms: null, ...common };
    }
  }
}

/** Bisection steps by default: two halve the gap between the last good and the first bad level twice. */
export const DEFAULT_BISECT_STEPS = 2;

const KEYS = ['model', 'workload', 'dimension', 'levels', 'bisectSteps', 'slo', 'projectFor', 'quick'];

/**
 * The levels of a search: a list (increasing), or `{ from, to, step }` (equal steps) or `{ from, to, factor }`
 * (each level `factor` times the last), `to` always included. Whole numbers for the connection dimensions.
 * Problems are pushed under `path`; returns the levels or undefined.
 */
export function expandLevels(raw: unknown, path: string, problems: Problems, integer: boolean): number[] | undefined {
  const max = integer ? MAX_LEVEL_CONNECTIONS : MAX_LEVEL_RATE;
  const before = problems.length;
  let levels: number[] = [];
  if (Array.isArray(raw)) {
    if (raw.length === 0 || raw.length > MAX_LEVELS) {
      problems.push(`${path}: must list 1 to ${MAX_LEVELS} levels, got ${raw.length}`);
      return undefined;
    }
    raw.forEach((v, i) => {
      const n = checkNumber(v, `${path}[${i}]`, problems, { min: 1, max, integer });
      if (n !== undefined) levels.push(n);
    });
    if (problems.length > before) return undefined;
    for (let i = 1; i < levels.length; i++) {
      if (levels[i]! <= levels[i - 1]!) {
        problems.push(`${path}[${i}]: levels must increase, got ${levels[i]} after ${levels[i - 1]}`);
        return undefined;
      }
    }
    return levels;
  }
  const o = checkObject(raw, path, problems, ['from', 'to', 'step', 'factor'], ['from', 'to']);
  if (!o) {
    if (!isObject(raw)) problems.push(`${path}: a list of levels or { "from", "to", "step" | "factor" }, e.g. { "from": 10, "to": 160, "factor": 2 }`);
    return undefined;
  }
  const from = checkNumber(o['from'], `${path}.from`, problems, { min: 1, max, integer });
  const to = checkNumber(o['to'], `${path}.to`, problems, { min: 1, max, integer });
  const step = checkNumber(o['step'], `${path}.step`, problems, { min: integer ? 1 : 0.001, max, integer });
  const factor = checkNumber(o['factor'], `${path}.factor`, problems, { min: 1.01, max: 100 });
  if ((o['step'] === undefined) === (o['factor'] === undefined)) problems.push(`${path}: give exactly one of step (equal steps) and factor (each level factor × the last)`);
  if (from !== undefined && to !== undefined && to < from) problems.push(`${path}.to: must be at least from (${from}), got ${to}`);
  if (problems.length > before || from === undefined || to === undefined) return undefined;
  levels = [];
  for (let x = from; x < to && levels.length <= MAX_LEVELS; x = step !== undefined ? x + step : x * factor!) {
    const v = integer ? Math.round(x) : Number(x.toPrecision(6));
    if (levels.at(-1) !== v) levels.push(v);
  }
  if (levels.at(-1) !== to) levels.push(to);
  if (levels.length > MAX_LEVELS) {
    problems.push(`${path}: makes more than ${MAX_LEVELS} levels from ${from} to ${to}; take a larger ${step !== undefined ? 'step' : 'factor'}`);
    return undefined;
  }
  return levels;
}

function validateSlo(raw: unknown, path: string, problems: Problems, w: CapacityModel['workload']): CapacitySlo {
  const slo = defaultSlo(w);
  if (raw === undefined) return slo;
  const keys = ['latencyP99Ms', 'maxLossRatio', 'maxServerCpuPct', 'memoryBudgetMiB', ...(w.model === 'voice' ? ['firstChunkP99Ms'] : []), ...(w.model === 'broadcast' ? ['lastMemberP99Ms'] : [])];
  const o = checkObject(raw, path, problems, keys);
  if (!o) return slo;
  const ms = (k: 'latencyP99Ms' | 'firstChunkP99Ms' | 'lastMemberP99Ms') => checkNumber(o[k], `${path}.${k}`, problems, { min: 0.001, max: 600_000 });
  slo.latencyP99Ms = ms('latencyP99Ms') ?? slo.latencyP99Ms;
  // null turns a secondary bound or the memory budget off.
  if (o['firstChunkP99Ms'] !== undefined) slo.firstChunkP99Ms = o['firstChunkP99Ms'] === null ? null : (ms('firstChunkP99Ms') ?? slo.firstChunkP99Ms);
  if (o['lastMemberP99Ms'] !== undefined) slo.lastMemberP99Ms = o['lastMemberP99Ms'] === null ? null : (ms('lastMemberP99Ms') ?? slo.lastMemberP99Ms);
  slo.maxLossRatio = checkNumber(o['maxLossRatio'], `${path}.maxLossRatio`, problems, { min: 0, max: 1 }) ?? slo.maxLossRatio;
  slo.maxServerCpuPct = checkNumber(o['maxServerCpuPct'], `${path}.maxServerCpuPct`, problems, { min: 1, max: 100 }) ?? slo.maxServerCpuPct;
  if (o['memoryBudgetMiB'] !== undefined && o['memoryBudgetMiB'] !== null) {
    slo.memoryBudgetMiB = checkNumber(o['memoryBudgetMiB'], `${path}.memoryBudgetMiB`, problems, { min: 1, max: 16 * 1024 * 1024 }) ?? slo.memoryBudgetMiB;
  }
  return slo;
}

/** The workload under `load.workload`, validated by its own model (problems under that path). */
function validateWorkload(raw: unknown, path: string, problems: Problems, dimension: unknown, levels: unknown): CapacityModel['workload'] | undefined {
  if (!isObject(raw)) {
    problems.push(`${path}: must be an object with a "model" field (open, broadcast or voice), as a scenario's load`);
    return undefined;
  }
  if (raw['model'] === undefined) problems.push(`${path}.model: is required (one of ${Object.keys(CAPACITY_DIMENSIONS).join(', ')})`);
  const name = checkString(raw['model'], `${path}.model`, problems, Object.keys(CAPACITY_DIMENSIONS));
  if (name === undefined) return undefined;
  const before = problems.length;
  // Its keys are the workload model's to check (unknown ones named under this path).
  const inner: Record<string, unknown> = { ...raw };
  if (name === 'open' && inner['ratesPerSec'] === undefined && dimension !== 'connections') {
    // The rate dimension's levels are the rates: the reference rate is only there to satisfy the open model.
    const first = Array.isArray(levels) ? levels[0] : isObject(levels) ? levels['from'] : undefined;
    inner['ratesPerSec'] = [typeof first === 'number' && first >= 1 ? first : 1];
  }
  const models = (name === 'open' ? open : name === 'broadcast' ? broadcast : voice).validate(inner, path, problems);
  if (problems.length > before || models.length === 0) return undefined;
  if (models.length > 1) {
    problems.push(`${path}.ratesPerSec: a capacity search takes one reference rate (the load at the scenario's connections), got ${models.length}`);
    return undefined;
  }
  const w = models[0] as OpenModel | BroadcastModel | VoiceModel;
  if (w.model === 'broadcast' && w.slowConsumers) {
    problems.push(`${path}.slowConsumers: not in a capacity search: what slow consumers lose is the slow-consumer scenario's subject, not a bound to search under`);
    return undefined;
  }
  return w;
}

function validate(raw: Record<string, unknown>, path: string, problems: Problems): CapacityModel[] {
  const before = problems.length;
  checkObject(raw, path, problems, KEYS, ['workload', 'levels']);
  const workload = raw['workload'] === undefined ? undefined : validateWorkload(raw['workload'], `${path}.workload`, problems, raw['dimension'], raw['levels']);
  if (!workload) return [];
  const allowed = CAPACITY_DIMENSIONS[workload.model];
  const dimension = (checkString(raw['dimension'], `${path}.dimension`, problems, allowed) ?? allowed[0]!) as CapacityDimension;
  if (raw['dimension'] !== undefined && typeof raw['dimension'] === 'string' && !allowed.includes(raw['dimension'] as CapacityDimension)) {
    // checkString already named the allowed values; say why the others are not.
    problems.push(`${path}.dimension: the ${workload.model} workload is searched over ${allowed.join(' or ')}`);
  }
  const integer = dimension !== 'rate';
  const levels = raw['levels'] === undefined ? undefined : expandLevels(raw['levels'], `${path}.levels`, problems, integer);
  const bisectSteps = checkNumber(raw['bisectSteps'], `${path}.bisectSteps`, problems, { integer: true, min: 0, max: 20 }) ?? DEFAULT_BISECT_STEPS;
  const slo = validateSlo(raw['slo'], `${path}.slo`, problems, workload);
  const projectFor = raw['projectFor'] === undefined || raw['projectFor'] === null ? null : (checkNumber(raw['projectFor'], `${path}.projectFor`, problems, { min: 1, max: 1e12 }) ?? null);
  if (raw['quick'] !== undefined) {
    const q = checkObject(raw['quick'], `${path}.quick`, problems, ['levels', 'bisectSteps']);
    if (q?.['levels'] !== undefined) expandLevels(q['levels'], `${path}.quick.levels`, problems, integer);
    if (q) checkNumber(q['bisectSteps'], `${path}.quick.bisectSteps`, problems, { integer: true, min: 0, max: 20 });
  }
  if (problems.length > before || !levels) return [];
  return [{ model: 'capacity', workload, dimension, levels, bisectSteps, slo, projectFor }];
}

/**
 * Problems with the reference (the workload at the scenario's connections): its own (a broadcast's publishers
 * within the connections), and for the members dimension a room of at least one member per publisher.
 */
function checkConnections(m: CapacityModel, connections: number, field: string): string[] {
  const w = m.workload;
  if (w.model === 'broadcast') {
    const own = (broadcast.checkConnections?.(w, connections, field) ?? []).map((p) => p.replace(/^load\./, 'load.workload.'));
    if (own.length > 0) return own;
    if (m.dimension === 'members' && connections / w.rooms < 1) {
      return [`load.workload.rooms: a room must have at least one member at ${field} (${connections}), got ${w.rooms} rooms`];
    }
  }
  if (m.dimension === 'connections' && w.model === 'open' && w.ratePerSec / connections > 1_000_000) {
    return [`load.workload.ratesPerSec: ${quote(w.ratePerSec)} msg/s over ${field} (${connections}) is more than 1,000,000 msg/s per connection`];
  }
  return [];
}

/**
 * The workload at one level, and the connections it opens, scaled from the reference (the workload at
 * `referenceConnections`, the scenario's): `rate` sets the aggregate rate on the reference's connections;
 * `connections` opens `level` connections at the reference's rate per connection; `sessions` opens `level`
 * voice sessions (each streams at its own fixed rate); `members` opens `level` members in rooms of the
 * reference's size (connections ÷ rooms) with its publishers per room, and scales churn with them. Pure.
 */
export function workloadAt(m: CapacityModel, level: number, referenceConnections: number): { model: OpenModel | BroadcastModel | VoiceModel; connections: number } {
  const w = m.workload;
  switch (m.dimension) {
    case 'rate':
      return { model: { ...(w as OpenModel), ratePerSec: level }, connections: referenceConnections };
    case 'connections':
      return { model: { ...(w as OpenModel), ratePerSec: ((w as OpenModel).ratePerSec * level) / referenceConnections }, connections: level };
    case 'sessions':
      return { model: w, connections: level };
    case 'members': {
      const b = w as BroadcastModel;
      const roomSize = referenceConnections / b.rooms;
      const rooms = Math.max(1, Math.round(level / roomSize));
      const publishers = Math.min(level, Math.max(1, Math.round((rooms * b.publishers) / b.rooms)));
      const scaled: BroadcastModel = { ...b, rooms, publishers };
      // Churn is a share of the members per second: with members gone from every room, it keeps its share.
      if (b.churn) {
        if (level - publishers >= 1) scaled.churn = { ...b.churn, leavesPerSec: (b.churn.leavesPerSec * level) / referenceConnections };
        else delete scaled.churn;
      }
      return { model: scaled, connections: level };
    }
  }
}

/**
 * Fewest samples a p99 is judged on. The histograms' p99 is HdrHistogram's nearest rank, the ⌈0.99·n⌉-th of n
 * samples (hdr-histogram-js getValueAtPercentile): for every n below 100 that is the n-th, the maximum, so one
 * 30–100 ms scheduling stall on a shared machine decides the level whatever the other samples say (seen at 20
 * voice sessions: p99 7, 36 and 72 ms over three repetitions, p50 0.5–1.3 ms). From 100 on, at least one sample
 * lies above it: one stall no longer decides. 100 is the floor, not a comfortable count (the sample maximum is a
 * 95% upper confidence bound of the true p99 only from 299 samples, 0.99^299 < 0.05), which is why plateaus are
 * lengthened to reach it rather than judged below it.
 */
export const MIN_SAMPLES_FOR_P99 = 100;
/**
 * The expected count a plateau is lengthened for: a quarter above the minimum, for a window's count below its
 * mean. A fixed schedule loses at most one event per source at the window's edge (with 20 sessions and 125
 * expected turns, at least 120 land; with the sources' phases spread, as many edge events fall in as out), and a
 * Poisson count of mean 125 is below 100 about 1% of the time. A window still short leaves its bound unjudged, never failed.
 */
export const SAMPLE_TARGET_MARGIN = 1.25;
/** Longest measured window a plateau is lengthened to, s: beyond it a level that cannot reach the minimum is left unjudged on that bound. */
export const MAX_PLATEAU_SEC = 30;

/** A percentile bound of the SLO, as the judge and the verdict name it. */
export type CapacityBound = 'latency' | 'firstChunk' | 'lastMember';

/**
 * Samples each percentile bound's histogram gains per second of window at one level (null: the workload has no
 * such figure): an open loop's echoes (its rate); a broadcast's deliveries (publishes × members per room, the
 * publisher included) and its last members (one per publish, bursts counted as their messages); a voice
 * workload's turns (one relay share and one first chunk per turn: sessions ÷ (frameIntervalMs × framesPerTurn)).
 * Pure.
 */
export function samplesPerSecAt(m: CapacityModel, level: number, referenceConnections: number): Record<CapacityBound, number | null> {
  const at = workloadAt(m, level, referenceConnections);
  const w = at.model;
  switch (w.model) {
    case 'open':
      return { latency: w.ratePerSec, firstChunk: null, lastMember: null };
    case 'broadcast': {
      const perArrival = w.burst ? 1 + w.burst.probability * (w.burst.messages - 1) : 1;
      const publishes = w.publishers * w.ratePerSecPerPublisher * perArrival;
      return { latency: publishes * (at.connections / w.rooms), firstChunk: null, lastMember: publishes };
    }
    case 'voice': {
      const turns = (at.connections * 1000) / (w.frameIntervalMs * w.framesPerTurn);
      return { latency: turns, firstChunk: turns, lastMember: null };
    }
  }
}

/** The SLO's bound on each percentile figure, ms (null: not bounded). */
function sloBound(slo: CapacitySlo, b: CapacityBound): number | null {
  return b === 'latency' ? slo.latencyP99Ms : b === 'firstChunk' ? slo.firstChunkP99Ms : slo.lastMemberP99Ms;
}

/**
 * The measured window a plateau at `level` is held for, s: the scenario's `durationSec`, lengthened when a bound
 * the SLO sets would gain fewer than MIN_SAMPLES_FOR_P99 × SAMPLE_TARGET_MARGIN samples in it (the sparsest
 * bound decides), to at most MAX_PLATEAU_SEC (never shortened; rounded up to 0.1 s). A level whose samples the
 * cap cannot reach is run at the cap, and its judge leaves that bound unjudged (core/capacity.ts). E.g. 20 voice
 * sessions at one turn a second: 125 ÷ 20 = 6.3 s instead of a quick 3 s. Pure.
 */
export function plateauDurationSec(m: CapacityModel, level: number, referenceConnections: number, durationSec: number): number {
  const perSec = samplesPerSecAt(m, level, referenceConnections);
  const rates = (['latency', 'firstChunk', 'lastMember'] as const)
    .filter((b) => sloBound(m.slo, b) !== null)
    .map((b) => perSec[b])
    .filter((r): r is number => r !== null);
  if (rates.length === 0) return durationSec;
  const sparsest = Math.min(...rates);
  const neededSec = sparsest > 0 ? (MIN_SAMPLES_FOR_P99 * SAMPLE_TARGET_MARGIN) / sparsest : Infinity;
  if (neededSec <= durationSec) return durationSec;
  return Math.max(durationSec, Math.min(MAX_PLATEAU_SEC, Math.ceil(neededSec * 10 - 1e-9) / 10));
}

/** The SLO in words, for `describe` and the reports. */
export function describeSlo(s: CapacitySlo, w: CapacityModel['workload']['model']): string {
  const latency = w === 'voice' ? 'relay share p99' : w === 'broadcast' ? 'delivery p99' : 'echo p99';
  return [
    `${latency} ≤ ${s.latencyP99Ms} ms`,
    ...(s.firstChunkP99Ms !== null ? [`first chunk p99 ≤ ${s.firstChunkP99Ms} ms`] : []),
    ...(s.lastMemberP99Ms !== null ? [`last member p99 ≤ ${s.lastMemberP99Ms} ms`] : []),
    `loss ≤ ${s.maxLossRatio * 100}%`,
    `server CPU < ${s.maxServerCpuPct}%`,
    ...(s.memoryBudgetMiB !== null ? [`RSS ≤ ${s.memoryBudgetMiB} MiB`] : []),
  ].join(', ');
}

/** The workload's own model, by name, as the registry (index.ts) holds them. */
const INNER: { [K in CapacityModel['workload']['model']]: LoadModelDef<Extract<CapacityModel['workload'], { model: K }>> } = { open, broadcast, voice };
const innerDef = (m: CapacityModel): LoadModelDef<CapacityModel['workload']> => INNER[m.workload.model];

export const capacity: LoadModelDef<CapacityModel> = {
  name: 'capacity',
  description,
  routes: ['/echo', '/broadcast', '/relay'],
  // The workload's own rule applies (`workload` below); this is the loosest of them.
  message: 'any',
  validate,
  checkConnections,
  caseSuffix: () => '',
  /** A quick preset of its own under `load.quick` (fewer levels, fewer bisection steps). */
  applyQuick(load) {
    const q = load['quick'];
    if (!isObject(q)) return load;
    const { quick: _q, ...rest } = load;
    return { ...rest, ...(q['levels'] !== undefined ? { levels: q['levels'] } : {}), ...(q['bisectSteps'] !== undefined ? { bisectSteps: q['bisectSteps'] } : {}) };
  },
  primary: 'capacity-slo',
  runsAs: () => 'capacity',
  workload: (m) => m.workload,
  peakConnections: (m, connections) => (m.dimension === 'rate' ? connections : Math.max(...m.levels)),
  segmentable: () => false,
  upstream: (m) => innerDef(m).upstream?.(m.workload),
  drainTimeoutMs: (m) => innerDef(m).drainTimeoutMs(m.workload),
  createRunner() {
    // Each plateau's plan carries the workload at its level (core/capacity.ts): a capacity model never reaches a worker.
    throw new Error('a capacity search runs its workload level by level (core/capacity.ts); its plan is never sent to a worker');
  },
  describe: (m) =>
    `capacity over ${unitOf(m.dimension)}: ${m.levels.length} levels ${m.levels[0]}…${m.levels.at(-1)}${m.bisectSteps > 0 ? ` and ${m.bisectSteps} bisection steps` : ''} of ${innerDef(m).describe(m.workload)}; SLO: ${describeSlo(m.slo, m.workload.model)}`,
};
