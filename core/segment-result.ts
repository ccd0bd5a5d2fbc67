import { BenchError } from '../base/errors.js';
import { isObject } from '../base/validate.js';
import type { WorkerResult } from '../loadgen/ipc.js';
import type { SegmentClock } from '../loadgen/segment-run.js';
import { formatSegment, parseSegment, type Segment, type SegmentShare } from '../loadgen/segment.js';
import type { LoadPlan, LoadResult } from '../loadgen/types.js';
import type { KernelLimit } from '../schema/result.js';
import type { LoadHostFacts } from './kernel-limits.js';
import { expandCases, validateScenario, type Scenario, type ScenarioCase } from './scenario.js';

/**
 * The file one load segment writes (`bench load --segment I/N`, printed between markers by k8s/collect.ts or
 * written with --out) and `bench merge` reads: everything the merge needs to add N segments up exactly
 * (core/merge.ts), and what it records about each segment (its host, kernel limits and clock). Versioned on
 * its own: it is a transport between machines of one run, not a stored result.
 */
export const SEGMENT_RESULT_VERSION = 1;
export const SEGMENT_RESULT_KIND = 'bench-segment-result';

export interface SegmentResult {
  schemaVersion: typeof SEGMENT_RESULT_VERSION;
  kind: typeof SEGMENT_RESULT_KIND;
  tool: { name: 'bench'; version: string };
  commandLine: string[];
  segment: Segment;
  /** The scenario as run (validated; its quick preset, if any, already applied by whoever chose it). */
  scenario: Scenario;
  /** The case of the scenario this segment ran. */
  case: string;
  /** The server: its name in reports (the runtime, or --server-label) and the URL the segment connected to. */
  server: { label: string; url: string };
  /** The scenario's seed; the segment ran on segmentSeed(seed, segment), in `plan.seed`. */
  seed: number;
  plan: LoadPlan;
  share: SegmentShare;
  host: LoadHostFacts;
  kernel: KernelLimit[];
  clock: SegmentClock;
  /** The segment's own figures (what it printed); a broadcast's delivery here lacks other segments' publishers. */
  load: LoadResult;
  /** Its workers' raw results: what the merge adds up. */
  workers: WorkerResult[];
  /** Sent counts of its senders that other segments hear. */
  sentBySender: [number, number][];
}

function invalid(name: string, problems: string[]): BenchError {
  return new BenchError('E_INVALID_RESULT', `${name} is not a bench segment result`, {
    details: problems,
    hint: 'segment results come from `bench load --segment I/N` (its --out file, or the block it prints: `bench k8s collect` reads those)',
  });
}

/**
 * Checks a parsed segment result field by field (the parts the merge reads), with field paths in the
 * problems, and gives it back typed with its scenario case.
 * @throws BenchError E_INVALID_RESULT listing every problem
 */
export function parseSegmentResult(raw: unknown, name: string): { result: SegmentResult; scenarioCase: ScenarioCase } {
  const problems: string[] = [];
  if (!isObject(raw)) throw invalid(name, ['(top level): must be an object']);
  if (raw['kind'] !== SEGMENT_RESULT_KIND) problems.push(`kind: must be "${SEGMENT_RESULT_KIND}", got ${JSON.stringify(raw['kind'])}`);
  if (raw['schemaVersion'] !== SEGMENT_RESULT_VERSION) problems.push(`schemaVersion: must be ${SEGMENT_RESULT_VERSION}, got ${JSON.stringify(raw['schemaVersion'])}`);
  if (problems.length > 0) throw invalid(name, problems);
  let segment: Segment | undefined;
  const seg = raw['segment'];
  if (!isObject(seg) || typeof seg['index'] !== 'number' || typeof seg['count'] !== 'number') problems.push('segment: must be { index, count }');
  else {
    try {
      segment = parseSegment(`${seg['index']}/${seg['count']}`, 'segment');
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  let scenarioCase: ScenarioCase | undefined;
  if (!isObject(raw['scenario'])) problems.push('scenario: must be an object');
  else {
    const { source: _source, ...file } = raw['scenario'] as Record<string, unknown>;
    const v = validateScenario(file, `${name}: scenario`);
    if (!v.scenario) problems.push(...v.problems.map((p) => `scenario: ${p}`));
    else {
      scenarioCase = expandCases(v.scenario).find((c) => c.name === raw['case']);
      if (!scenarioCase) problems.push(`case: ${JSON.stringify(raw['case'])} is not a case of scenario ${v.scenario.name}`);
    }
  }
  const server = raw['server'];
  if (!isObject(server) || typeof server['label'] !== 'string' || typeof server['url'] !== 'string') problems.push('server: must be { label, url }');
  if (typeof raw['seed'] !== 'number') problems.push('seed: must be a number');
  const plan = raw['plan'];
  if (!isObject(plan) || !isObject(plan['segment']) || typeof plan['connections'] !== 'number' || typeof plan['warmupMs'] !== 'number' || typeof plan['durationMs'] !== 'number') {
    problems.push('plan: must be the segment\'s load plan (connections, warmupMs, durationMs, segment)');
  } else if (segment && ((plan['segment'] as Record<string, unknown>)['index'] !== segment.index || (plan['segment'] as Record<string, unknown>)['count'] !== segment.count)) {
    problems.push(`plan.segment: is not segment ${formatSegment(segment)}`);
  }
  if (!isObject(raw['share'])) problems.push('share: must be an object');
  if (!isObject(raw['host']) || typeof (raw['host'] as Record<string, unknown>)['hostname'] !== 'string') problems.push('host: must be an object with a hostname');
  if (!Array.isArray(raw['kernel'])) problems.push('kernel: must be a list');
  const clock = raw['clock'];
  if (!isObject(clock)) problems.push('clock: must be an object');
  else for (const k of ['startAtMs', 'connectedAtMs', 'readyMarginMs', 'wallMinusMonotonicMs', 'wallMinusMonotonicEndMs', 'wallStepMs']) {
    if (typeof clock[k] !== 'number') problems.push(`clock.${k}: must be a number`);
  }
  if (!isObject(raw['load']) || !isObject((raw['load'] as Record<string, unknown>)['saturation'])) problems.push('load: must be the segment\'s load result');
  const workers = raw['workers'];
  if (!Array.isArray(workers) || workers.length === 0) problems.push('workers: must be a non-empty list of worker results');
  else {
    workers.forEach((w, i) => {
      const at = `workers[${i}]`;
      if (!isObject(w)) return void problems.push(`${at}: must be an object`);
      for (const k of ['latencyEncoded', 'connectEncoded']) if (typeof w[k] !== 'string') problems.push(`${at}.${k}: must be an encoded histogram`);
      for (const k of ['worker', 'connections', 'opened', 'failed', 'cpuUs', 'measuredMs']) if (typeof w[k] !== 'number') problems.push(`${at}.${k}: must be a number`);
      if (!Array.isArray(w['timeline'])) problems.push(`${at}.timeline: must be a list`);
      if (!isObject(w['delivery'])) problems.push(`${at}.delivery: must be an object`);
      if (w['deferred'] !== undefined && !Array.isArray(w['deferred'])) problems.push(`${at}.deferred: must be a list`);
    });
  }
  const sent = raw['sentBySender'];
  if (!Array.isArray(sent) || !sent.every((e) => Array.isArray(e) && e.length === 2 && e.every((x) => Number.isInteger(x) && (x as number) >= 0))) {
    problems.push('sentBySender: must be a list of [connection id, messages]');
  }
  if (problems.length > 0 || !scenarioCase) throw invalid(name, problems);
  const checked: unknown = raw;
  return { result: checked as SegmentResult, scenarioCase };
}
