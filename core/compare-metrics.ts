// The metrics `bench compare`, `bench choose` and `bench calibrate` judge, with
// their direction (is more better?) and the minimum effect a change must
// exceed to count, and the strict parsing of user thresholds (flags and a
// JSON file). Pure: no I/O.

import { BenchError } from '../base/errors.js';
import type { SummaryRow } from '../schema/result.js';
import { checkObject, isObject, join, quote, type Problems } from '../base/validate.js';

/** The compared metrics: the keys of `SummaryRow` aggregates they come from. */
export type MetricId =
  | 'msgsPerSec'
  | 'latencyP50Us'
  | 'latencyP99Us'
  | 'latencyP999Us'
  | 'serverCpuUsPerMsg'
  | 'rssPeakBytes'
  | 'rssEndBytes'
  | 'bytesPerConnection'
  | 'relayOverheadP50Us'
  | 'relayOverheadP99Us'
  | 'capacityPerCore';

export interface MetricDef {
  id: MetricId;
  /** Short name accepted by `--threshold` and the thresholds file beside the id. */
  alias: string;
  /** Human label in reports. */
  label: string;
  /** `count`: a capacity, in its search's unit (sessions, members, connections, msg/s) per server core. */
  unit: 'msgs/s' | 'µs' | 'µs/msg' | 'bytes' | 'count';
  /** Which way is better: more messages per second, less of everything else. */
  better: 'higher' | 'lower';
  /** Default minimum effect, % of the base median, a change must exceed (with its whole CI) to count. */
  defaultThresholdPct: number;
  /** True when a load-generator-bound repetition makes this figure the client's rather than the server's. */
  clientBound: boolean;
}

/**
 * In report order. Defaults: 5% for throughput, p50 and server CPU per message
 * (the steadiest figures); 10% for p99, peak RSS and bytes per connection;
 * 20% for p99.9, which rests on one sample in a thousand and moves most
 * between identical runs. The relay's share of a voice turn: 10% at p50, 20%
 * at p99 (hundreds of samples per repetition, not hundreds of thousands).
 * Capacity per core: 10%, about one bisection step of a search that doubles
 * its levels and bisects twice (a capacity moves in steps, not smoothly).
 */
export const METRICS: readonly MetricDef[] = [
  { id: 'msgsPerSec', alias: 'msgs', label: 'msgs/s', unit: 'msgs/s', better: 'higher', defaultThresholdPct: 5, clientBound: true },
  { id: 'latencyP50Us', alias: 'p50', label: 'p50 latency', unit: 'µs', better: 'lower', defaultThresholdPct: 5, clientBound: true },
  { id: 'latencyP99Us', alias: 'p99', label: 'p99 latency', unit: 'µs', better: 'lower', defaultThresholdPct: 10, clientBound: true },
  { id: 'latencyP999Us', alias: 'p999', label: 'p99.9 latency', unit: 'µs', better: 'lower', defaultThresholdPct: 20, clientBound: true },
  { id: 'serverCpuUsPerMsg', alias: 'cpu', label: 'server CPU/msg', unit: 'µs/msg', better: 'lower', defaultThresholdPct: 5, clientBound: false },
  { id: 'rssPeakBytes', alias: 'rss', label: 'peak RSS', unit: 'bytes', better: 'lower', defaultThresholdPct: 10, clientBound: false },
  { id: 'rssEndBytes', alias: 'rss-end', label: 'RSS after drain', unit: 'bytes', better: 'lower', defaultThresholdPct: 10, clientBound: false },
  { id: 'bytesPerConnection', alias: 'conn-bytes', label: 'bytes/conn', unit: 'bytes', better: 'lower', defaultThresholdPct: 10, clientBound: false },
  // Voice relay: the server's share of the first-chunk time, which a 200–800 ms think time would hide in p50 latency.
  { id: 'relayOverheadP50Us', alias: 'relay', label: 'relay adds p50', unit: 'µs', better: 'lower', defaultThresholdPct: 10, clientBound: true },
  { id: 'relayOverheadP99Us', alias: 'relay-p99', label: 'relay adds p99', unit: 'µs', better: 'lower', defaultThresholdPct: 20, clientBound: true },
  // Capacity at the SLO (core/capacity.ts): where the load generator stopped the search, it is the client's bound.
  { id: 'capacityPerCore', alias: 'capacity', label: 'capacity/core', unit: 'count', better: 'higher', defaultThresholdPct: 10, clientBound: true },
];

export function metricDef(id: MetricId): MetricDef {
  return METRICS.find((m) => m.id === id)!;
}

/** The metric named by its id or alias (`p99`, `latencyP99Us`), or undefined. */
export function findMetric(name: string): MetricDef | undefined {
  return METRICS.find((m) => m.id === name || m.alias === name);
}

/** The repetitions' values of a metric in a summary row (repetition order), or undefined when absent. */
export function metricValues(row: SummaryRow, id: MetricId): number[] | undefined {
  return row[id]?.values;
}

/** Minimum effects in %: per metric, and per scenario or scenario case (which wins over the metric's). */
export interface Thresholds {
  metrics: Partial<Record<MetricId, number>>;
  /** Keyed by scenario name (`echo-rate`) or case name (`echo-rate@10000/s`); a case entry wins over its scenario's. */
  scenarios: Record<string, Partial<Record<MetricId, number>>>;
}

export const EMPTY_THRESHOLDS: Thresholds = { metrics: {}, scenarios: {} };

/**
 * The minimum effect for a metric in a case, %: the case's override, else the
 * scenario's, else the metric's, else the metric's default.
 */
export function thresholdFor(t: Thresholds, metric: MetricId, scenario: string, caseName: string): number {
  return (
    t.scenarios[caseName]?.[metric] ??
    t.scenarios[scenario]?.[metric] ??
    t.metrics[metric] ??
    metricDef(metric).defaultThresholdPct
  );
}

/** One `--threshold` value, parsed: `[scope:]metric=pct`. */
export interface ThresholdOverride {
  scope?: string;
  metric: MetricId;
  pct: number;
}

const metricList = () => METRICS.map((m) => `${m.alias} (${m.id})`).join(', ');

function checkPct(v: unknown, path: string, problems: Problems): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v >= 1000) {
    problems.push(`${path}: must be a percentage from 0 to 999 (e.g. 5 for 5%), got ${quote(v)}`);
    return undefined;
  }
  return v;
}

/**
 * Parses `metric=pct` or `scope:metric=pct` (scope: a scenario or case name),
 * e.g. `p99=15`, `echo-rate:msgs=3`, `cpu=2.5%`.
 * @throws TypeError naming the flag, for the CLI parser to report (exit 2)
 */
export function parseThresholdOverride(text: string, flag = '--threshold'): ThresholdOverride {
  const m = /^(?:(.+):)?([\w-]+)=(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  if (!m) throw new TypeError(`${flag}: must be metric=pct or scenario:metric=pct (e.g. p99=15, echo-rate:msgs=3), got ${quote(text)}`);
  const def = findMetric(m[2]!);
  if (!def) throw new TypeError(`${flag}: unknown metric ${quote(m[2]!)} in ${quote(text)}; metrics: ${metricList()}`);
  const problems: Problems = [];
  const pct = checkPct(Number(m[3]), `${flag} ${text}`, problems);
  if (pct === undefined) throw new TypeError(problems[0]);
  return { ...(m[1] ? { scope: m[1] } : {}), metric: def.id, pct };
}

function checkMetricMap(v: unknown, path: string, problems: Problems): Partial<Record<MetricId, number>> {
  const out: Partial<Record<MetricId, number>> = {};
  if (!isObject(v)) {
    problems.push(`${path}: must be an object of metric: pct`);
    return out;
  }
  for (const [k, val] of Object.entries(v)) {
    const def = findMetric(k);
    if (!def) {
      problems.push(`${join(path, k)}: unknown metric (metrics: ${metricList()})`);
      continue;
    }
    const pct = checkPct(val, join(path, k), problems);
    if (pct !== undefined) out[def.id] = pct;
  }
  return out;
}

/**
 * Validates a thresholds file: `{ "metrics": { "p99": 15 }, "scenarios": { "echo-rate": { "msgs": 3 } } }`
 * (both keys optional; metrics by id or alias; values in %). Unknown keys and
 * bad values are all collected, each with its field path.
 * @throws BenchError E_INVALID_THRESHOLDS listing every problem
 */
export function validateThresholds(raw: unknown, source: string): Thresholds {
  const problems: Problems = [];
  const t: Thresholds = { metrics: {}, scenarios: {} };
  const obj = checkObject(raw, '', problems, ['metrics', 'scenarios']);
  if (obj) {
    if (obj['metrics'] !== undefined) t.metrics = checkMetricMap(obj['metrics'], 'metrics', problems);
    if (obj['scenarios'] !== undefined) {
      if (!isObject(obj['scenarios'])) problems.push('scenarios: must be an object of scenario name: { metric: pct }');
      else for (const [name, v] of Object.entries(obj['scenarios'])) t.scenarios[name] = checkMetricMap(v, join('scenarios', name), problems);
    }
  }
  if (problems.length > 0) {
    throw new BenchError('E_INVALID_THRESHOLDS', `${source}: invalid thresholds`, {
      details: problems,
      hint: 'example: { "metrics": { "p99": 15 }, "scenarios": { "echo-rate": { "msgs": 3 } } } (values in %)',
    });
  }
  return t;
}

/** Applies `--threshold` overrides on top of `base` (later ones win). Returns a new object. */
export function withOverrides(base: Thresholds, overrides: readonly ThresholdOverride[]): Thresholds {
  const t: Thresholds = { metrics: { ...base.metrics }, scenarios: Object.fromEntries(Object.entries(base.scenarios).map(([k, v]) => [k, { ...v }])) };
  for (const o of overrides) {
    if (o.scope === undefined) t.metrics[o.metric] = o.pct;
    else t.scenarios[o.scope] = { ...t.scenarios[o.scope], [o.metric]: o.pct };
  }
  return t;
}
