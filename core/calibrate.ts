// `bench calibrate`: the A/A noise floor. One runtime runs 2N repetitions,
// interleaved with itself by the orchestrator (repetition-major order); the
// odd repetitions form group A and the even ones group B. Both groups ran the
// same build on the same machine at alternating moments, so every difference
// between them is noise, and its size per metric is the smallest change a
// threshold can sensibly ask `bench compare` to see. Pure: no I/O.

import { isNonEmpty, madScaled, median } from '../stats/index.js';
import { compareResults, DEFAULT_ALPHA, type Comparison, type NoiseFloor } from './compare.js';
import { METRICS, type MetricId } from './compare-metrics.js';
import { BenchError } from '../base/errors.js';
import type { RunResult } from '../schema/result.js';
import { summarizeCells } from './summarize.js';
import { checkObject, isObject, type Problems } from '../base/validate.js';

export const CALIBRATION_VERSION = 1;

/** One case × metric of the A/A run. */
export interface CalibrationRow {
  case: string;
  metric: MetricId;
  /** Repetitions in group A and group B. */
  nA: number;
  nB: number;
  /** Median of all 2N repetitions. */
  median: number;
  /** Robust per-repetition spread: 1.4826 × MAD / |median| of all 2N repetitions, %. */
  spreadPct: number;
  /** Hodges–Lehmann shift B − A in % of A's median (should be about 0). */
  shiftPct: number;
  /** Its 95% CI, % of A's median. */
  lowPct: number;
  highPct: number;
  /** max(spreadPct, |shiftPct|): the noise floor of this case and metric, %. */
  noisePct: number;
  /** The A/A verdict: anything but unchanged or suspect means the machine drifted. */
  verdict: string;
}

export interface Calibration {
  kind: 'bench-calibration';
  version: typeof CALIBRATION_VERSION;
  runtime: string;
  /** Repetitions per group (the run had twice as many). */
  repeatPerGroup: number;
  method: 'odd-even-repetitions';
  createdAt: string;
  environment: { cpuModel: string; logicalCpus: number; kernel: string };
  /** Largest noise floor over the cases, per metric, %. */
  floorPct: Partial<Record<MetricId, number>>;
  /** Per case, per metric, %. */
  perCase: Record<string, Partial<Record<MetricId, number>>>;
  rows: CalibrationRow[];
  /** A/A rows called regression or improvement: with a stable machine, none. */
  falseChanges: number;
}

/**
 * Splits an A/A result into its two groups: odd repetitions → A, even → B,
 * renumbered 1…N within each group, summaries recomputed. Labels get `#A` and
 * `#B`.
 */
export function splitAA(result: RunResult): { a: RunResult; b: RunResult } {
  const group = (odd: boolean, tag: string): RunResult => {
    const cells = result.cells
      .filter((c) => (c.repetition % 2 === 1) === odd)
      .map((c) => {
        const repetition = odd ? (c.repetition + 1) / 2 : c.repetition / 2;
        return { ...c, repetition, id: `${c.case}/${c.runtime}/${repetition}` };
      });
    return {
      ...result,
      label: `${result.label}#${tag}`,
      settings: { ...result.settings, repeat: Math.ceil(result.settings.repeat / 2) },
      cells,
      summary: summarizeCells(cells, result.settings.referenceRuntime),
    };
  };
  return { a: group(true, 'A'), b: group(false, 'B') };
}

/**
 * The noise floor from an A/A result of one runtime (see the module comment).
 * Per case and metric: max(robust spread of all repetitions, |HL shift B − A|),
 * in % of the median; per metric the largest over the cases.
 * @throws BenchError E_USAGE when the result holds more than one runtime or fewer than 2 repetitions
 */
export function calibrate(result: RunResult, now: string = result.finishedAt ?? result.startedAt): Calibration {
  const runtimes = [...new Set(result.cells.map((c) => c.runtime))];
  if (runtimes.length !== 1) throw new BenchError('E_USAGE', `an A/A calibration needs exactly one runtime, got ${runtimes.length} (${runtimes.join(', ')})`);
  if (result.settings.repeat < 2) throw new BenchError('E_USAGE', 'an A/A calibration needs at least 2 repetitions (one per group)');
  const { a, b } = splitAA(result);
  const comparison: Comparison = compareResults(a, b, { alpha: DEFAULT_ALPHA, force: true, names: { base: 'A', head: 'B' } });
  const all = summarizeCells(result.cells, result.settings.referenceRuntime);
  const rows: CalibrationRow[] = [];
  const perCase: Calibration['perCase'] = {};
  const floorPct: Calibration['floorPct'] = {};
  for (const r of comparison.rows) {
    const values = all.find((s) => s.case === r.case)?.[r.metric]?.values ?? [];
    if (!isNonEmpty(values) || r.shift === null) continue;
    const med = median(values);
    if (!(Math.abs(med) > 0)) continue;
    const spreadPct = (madScaled(values) / Math.abs(med)) * 100;
    const noisePct = Math.max(spreadPct, Math.abs(r.shift.pct));
    rows.push({
      case: r.case,
      metric: r.metric,
      nA: r.base.n,
      nB: r.head.n,
      median: med,
      spreadPct,
      shiftPct: r.shift.pct,
      lowPct: r.shift.lowPct,
      highPct: r.shift.highPct,
      noisePct,
      verdict: r.verdict,
    });
    (perCase[r.case] ??= {})[r.metric] = noisePct;
    floorPct[r.metric] = Math.max(floorPct[r.metric] ?? 0, noisePct);
  }
  return {
    kind: 'bench-calibration',
    version: CALIBRATION_VERSION,
    runtime: runtimes[0]!,
    repeatPerGroup: Math.floor(result.settings.repeat / 2),
    method: 'odd-even-repetitions',
    createdAt: now,
    environment: { cpuModel: result.environment.cpuModel, logicalCpus: result.environment.logicalCpus, kernel: result.environment.kernel },
    floorPct,
    perCase,
    rows,
    falseChanges: comparison.counts.regression + comparison.counts.improvement,
  };
}

/** The part of a calibration `bench compare` uses. */
export function noiseFloorOf(c: Calibration, source: string): NoiseFloor {
  return { source, floorPct: { ...c.floorPct }, perCase: structuredClone(c.perCase) };
}

function checkPctMap(v: unknown, path: string, problems: Problems): void {
  if (!isObject(v)) {
    problems.push(`${path}: must be an object of metric: pct`);
    return;
  }
  for (const [k, x] of Object.entries(v)) {
    if (!METRICS.some((m) => m.id === k)) problems.push(`${path}.${k}: unknown metric`);
    else if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) problems.push(`${path}.${k}: must be a percentage ≥ 0, got ${JSON.stringify(x)}`);
  }
}

/**
 * Checks a stored calibration (kind, version, floor and per-case maps).
 * @throws BenchError E_INVALID_CALIBRATION listing every problem with its field path
 */
export function validateCalibration(raw: unknown, source: string): Calibration {
  const problems: Problems = [];
  const o = checkObject(
    raw,
    '',
    problems,
    ['kind', 'version', 'runtime', 'repeatPerGroup', 'method', 'createdAt', 'environment', 'floorPct', 'perCase', 'rows', 'falseChanges'],
    ['kind', 'version', 'floorPct', 'perCase'],
  );
  if (o) {
    if (o['kind'] !== undefined && o['kind'] !== 'bench-calibration') problems.push(`kind: must be "bench-calibration", got ${JSON.stringify(o['kind'])}`);
    if (o['version'] !== undefined && o['version'] !== CALIBRATION_VERSION) problems.push(`version: must be ${CALIBRATION_VERSION}, got ${JSON.stringify(o['version'])}`);
    if (o['floorPct'] !== undefined) checkPctMap(o['floorPct'], 'floorPct', problems);
    if (o['perCase'] !== undefined) {
      if (!isObject(o['perCase'])) problems.push('perCase: must be an object of case: { metric: pct }');
      else for (const [k, v] of Object.entries(o['perCase'])) checkPctMap(v, `perCase.${k}`, problems);
    }
  }
  if (problems.length > 0) {
    throw new BenchError('E_INVALID_CALIBRATION', `${source} is not a calibration from \`bench calibrate\``, {
      details: problems,
      hint: 'give the calibration.json that `bench calibrate` writes (or its folder)',
    });
  }
  return raw as Calibration;
}
