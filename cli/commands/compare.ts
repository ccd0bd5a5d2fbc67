import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { noiseFloorOf, validateCalibration } from '../../core/calibrate.js';
import { runtimeChoice } from '../../core/choice.js';
import { compareResults, mergeResults, type Comparison, type CompareOptions } from '../../core/compare.js';
import { EMPTY_THRESHOLDS, validateThresholds, withOverrides, type ThresholdOverride } from '../../core/compare-metrics.js';
import { BenchError, ExitCode } from '../../base/errors.js';
import type { RunResult } from '../../schema/result.js';
import { getChoiceFormat, getComparisonFormat } from '../../report/compare/format.js';
import type { Io } from '../io.js';
import { partialResultNote, readResult } from './report.js';
import { parseJsonText } from '../../base/json.js';

/** One side of a comparison, and how many result files it merges. */
export interface Side {
  result: RunResult;
  runs: number;
  /** The results merged into `result`, in order of their start (one: the result itself). */
  parts: RunResult[];
}

/** result.json files in `dir` or in its sub-folders, up to two levels down. */
function findResultFiles(dir: string, depth = 2): string[] {
  const own = path.join(dir, 'result.json');
  if (existsSync(own)) return [own];
  if (depth === 0) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .flatMap((name) => findResultFiles(path.join(dir, name), depth - 1));
}

/**
 * A side of a comparison: a result.json, the folder holding one, or a folder
 * of result folders (for example one `bench run --repeat 1` per CI round),
 * merged in order of their start time.
 * @throws BenchError E_INVALID_RESULT when nothing readable is there; E_INCOMPARABLE when merged runs differ
 */
export function loadSide(arg: string, cwd: string): Side {
  const p = path.resolve(cwd, arg);
  if (!existsSync(p)) throw new BenchError('E_INVALID_RESULT', `no such file or folder: ${p}`, { hint: 'give a result.json written by `bench run`, its folder, or a folder of result folders' });
  if (!statSync(p).isDirectory()) {
    const result = readResult(p, cwd);
    return { result, runs: 1, parts: [result] };
  }
  const files = findResultFiles(p);
  if (files.length === 0) throw new BenchError('E_INVALID_RESULT', `no result.json in ${p} or its sub-folders`, { hint: 'give a result.json written by `bench run`, its folder, or a folder of result folders' });
  const parts = files
    .map((f) => ({ name: path.relative(cwd, f) || f, result: readResult(f, cwd) }))
    .sort((a, b) => a.result.startedAt.localeCompare(b.result.startedAt));
  return { result: mergeResults(parts), runs: parts.length, parts: parts.map((x) => x.result) };
}

/** What a thresholds or calibration file should be, for the hint under a refusal. */
const FILE_HINT = {
  E_INVALID_THRESHOLDS: 'give a JSON file such as { "metrics": { "p99": 15 }, "scenarios": { "echo-rate": { "msgs": 3 } } } (bench compare --help)',
  E_INVALID_CALIBRATION: 'give the calibration.json that `bench calibrate` wrote, or its folder',
} as const;

function readJson(file: string, cwd: string, code: 'E_INVALID_THRESHOLDS' | 'E_INVALID_CALIBRATION', what: string): { raw: unknown; path: string } {
  let p = path.resolve(cwd, file);
  if (code === 'E_INVALID_CALIBRATION' && existsSync(p) && statSync(p).isDirectory()) p = path.join(p, 'calibration.json');
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch (e) {
    throw new BenchError(code, `cannot read ${what} ${p}: ${(e as Error).message}`, { hint: FILE_HINT[code] });
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw new BenchError(code, `cannot read ${what} ${p}: ${parsed.problem}`, { hint: FILE_HINT[code] });
  return { raw: parsed.value, path: p };
}

/** The comparison options from the command's flags: thresholds (file, then --threshold), noise floor, force. */
export function compareOptionsFrom(opts: Record<string, unknown>, cwd: string): CompareOptions {
  let thresholds = EMPTY_THRESHOLDS;
  if (opts['thresholds']) {
    const { raw, path: p } = readJson(String(opts['thresholds']), cwd, 'E_INVALID_THRESHOLDS', 'thresholds file');
    thresholds = validateThresholds(raw, p);
  }
  thresholds = withOverrides(thresholds, (opts['threshold'] as ThresholdOverride[] | undefined) ?? []);
  const out: CompareOptions = { thresholds, force: opts['force'] === true };
  if (opts['noise']) {
    const { raw, path: p } = readJson(String(opts['noise']), cwd, 'E_INVALID_CALIBRATION', 'calibration');
    out.noise = noiseFloorOf(validateCalibration(raw, p), path.relative(cwd, p) || p);
  }
  return out;
}

/** Exit code of a finished comparison: 3 when a side's run did not complete, 10 for a regression with --fail-on-regression, else 0. */
export function comparisonExit(c: Comparison, failOnRegression: boolean, io: Io): number {
  const failed = (['base', 'head'] as const).filter((s) => c[s].status !== 'completed');
  if (failed.length > 0) {
    io.stderr.write(
      `bench compare: ${failed.map((s) => `${s} run ${c[s].status} (${c[s].erroredCells} errored cells)`).join('; ')}: exit ${ExitCode.runFailed}\n`,
    );
    return ExitCode.runFailed;
  }
  if (failOnRegression && c.counts.regression > 0) {
    io.stderr.write(`bench compare: ${c.counts.regression} regression${c.counts.regression === 1 ? '' : 's'} (--fail-on-regression): exit ${ExitCode.regression}\n`);
    return ExitCode.regression;
  }
  return ExitCode.ok;
}

export async function compareCommand(opts: Record<string, unknown>, args: string[], io: Io): Promise<number> {
  const format = getComparisonFormat(String(opts['format']));
  const options = compareOptionsFrom(opts, io.cwd);
  const base = loadSide(args[0]!, io.cwd);
  const head = loadSide(args[1]!, io.cwd);
  const c = compareResults(base.result, head.result, options, { base: base.runs, head: head.runs });
  io.stdout.write(format.render(c));
  if (format.name !== 'table') {
    const { regression, improvement, suspect, unchanged } = c.counts;
    io.stderr.write(`bench compare: ${regression} regression(s), ${improvement} improvement(s), ${suspect} suspect, ${unchanged} unchanged${c.forced ? ' (forced despite differences)' : ''}\n`);
  }
  return comparisonExit(c, opts['failOnRegression'] === true, io);
}

export async function chooseCommand(opts: Record<string, unknown>, args: string[], io: Io): Promise<number> {
  const format = getChoiceFormat(String(opts['format']));
  const side = loadSide(args[0]!, io.cwd);
  for (const [i, part] of side.parts.entries()) {
    const note = partialResultNote(part, side.parts.length === 1 ? args[0]! : `${args[0]!} (result ${i + 1} of ${side.parts.length}, ${part.label} at ${part.startedAt})`);
    if (note) io.stderr.write(note);
  }
  io.stdout.write(format.render(runtimeChoice(side.result, side.parts)));
  return ExitCode.ok;
}
