// What `bench run` shows while it measures, on stderr. A person at a terminal
// gets one line rewritten in place; anything else (CI logs, `| tee`) gets
// plain lines, one per finished cell and, in a budgeted run, one per round and
// one per look at a workload (how many of its runtime pairs are settled):
// with no carriage returns or escape codes, and never silent for the minutes
// between "results: …" and the decision.

import { FIRST_LOOK_ROUND } from '../core/budget.js';
import type { LifecycleStep, RunEvent } from '../core/run.js';
import type { LoadProgress } from '../loadgen/types.js';
import type { CellResult } from '../schema/result.js';
import type { TextOut } from './io.js';

export interface ProgressOptions {
  /** The run's time budget, ms; absent for fixed repetitions (cells then count up to a known total). */
  budgetMs?: number;
  /** Wall clock, ms (default Date.now; tests inject one). */
  clockMs?: () => number;
}

/** m:ss */
export function fmtClock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** How a finished cell ended, in a few words: `done in 2.1 s · 9,998 msg/s`, `errored after 0.4 s: E_… message`. */
function outcomeWords(cell: CellResult): string {
  const took = `${((cell.durationMs ?? 0) / 1000).toFixed(1)} s`;
  if (cell.status === 'skipped') return cell.error?.code === 'E_INTERRUPTED' ? 'skipped (interrupted)' : 'skipped';
  if (cell.status === 'errored') return `errored after ${took}: ${cell.error ? `${cell.error.code} ${cell.error.message}` : 'no error recorded'}`;
  const m = cell.metrics;
  // An idle or ceiling cell carries no message rate: nothing to show rather than "0 msg/s".
  const rate = m && m.msgsPerSec > 0 ? ` · ${m.throughputIsLowerBound ? '≥ ' : ''}${Math.round(m.msgsPerSec).toLocaleString('en-US')} msg/s` : '';
  const warnings = cell.warnings.length > 0 ? ` · ${cell.warnings.length} warning${cell.warnings.length === 1 ? '' : 's'}` : '';
  return `done in ${took}${rate}${warnings}`;
}

/**
 * Plain progress for a stream that is not a terminal: per finished cell
 * `[3/8] echo · bun · rep 1 · done in 2.1 s · 9,998 msg/s` (a budgeted run, whose last cell is not known in
 * advance: `[12, round 3] echo · bun · done in …`), and at the start of each round of a budgeted run
 * `round 3 · 1:12 of the 3:00 budget used · 8 cells done`, and after each look at a workload
 * `look 2 of 6 · echo-rate@10000/s: 4 of 6 runtime pairs settled` (`… settled: no more cells` when all are).
 */
export function plainProgress(out: TextOut, opts: ProgressOptions = {}): (e: RunEvent) => void {
  const clock = opts.clockMs ?? Date.now;
  const t0 = clock();
  let round = 0;
  let done = 0;
  return (e: RunEvent) => {
    if (e.type === 'cell-start' && opts.budgetMs !== undefined && e.cell.repetition !== round) {
      round = e.cell.repetition;
      const note =
        round === 1 ? ` (each workload's pairs are looked at after every round from round ${FIRST_LOOK_ROUND}; a settled workload gets no more cells)` : '';
      out.write(`round ${round} · ${fmtClock(clock() - t0)} of the ${fmtClock(opts.budgetMs)} budget used · ${done} cell${done === 1 ? '' : 's'} done${note}\n`);
    } else if (e.type === 'look') {
      out.write(`look ${e.look} of ${e.maxLooks} · ${e.case}: ${e.settledPairs} of ${e.pairs} runtime pair${e.pairs === 1 ? '' : 's'} settled${e.settled ? ': no more cells' : ''}\n`);
    } else if (e.type === 'cell-end') {
      done++;
      const c = e.cell;
      const where = opts.budgetMs !== undefined ? `[${e.index + 1}, round ${c.repetition}] ${c.case} · ${c.runtime}` : `[${e.index + 1}/${e.total}] ${c.case} · ${c.runtime} · rep ${c.repetition}`;
      out.write(`${where} · ${outcomeWords(c)}\n`);
    }
  };
}

/** A cell's step in a reader's words (core/run.ts LifecycleStep and the load's own phases). */
const STEP_WORDS: Record<LifecycleStep | LoadProgress['phase'], string> = {
  spawn: 'starting the server',
  ready: 'server listening',
  verified: 'server checked',
  baseline: 'reading the idle server',
  connected: 'connected',
  connecting: 'connecting',
  warmup: 'warming up',
  measure: 'measuring',
  'measure-end': 'measured',
  drain: 'draining',
  'drain-done': 'drained',
  stop: 'stopping the server',
  gone: 'server stopped',
};

/** Live progress on a TTY: one line rewritten in place. */
export function ttyProgress(out: TextOut, opts: ProgressOptions = {}): (e: RunEvent) => void {
  const clock = opts.clockMs ?? Date.now;
  const t0 = clock();
  let cell = '';
  let index = 0;
  let total = 0;
  let step: LifecycleStep | LoadProgress['phase'] = 'spawn';
  let round = 0;
  let rate = 0;
  let done = 0;
  let doneMs = 0;
  // A budgeted run's latest look per workload: runtime pairs settled of all.
  const looks = new Map<string, { settled: number; pairs: number }>();
  const draw = () => {
    const elapsed = clock() - t0;
    const left = done > 0 ? (doneMs / done) * (total - done) : 0;
    let settled = 0;
    let pairs = 0;
    for (const l of looks.values()) {
      settled += l.settled;
      pairs += l.pairs;
    }
    const looked = pairs > 0 ? ` · ${settled}/${pairs} pairs settled` : '';
    // A budgeted run does not know its last cell: elapsed against the budget instead of a guess of what is left.
    const time = opts.budgetMs !== undefined ? `${fmtClock(elapsed)} of ${fmtClock(opts.budgetMs)}` : `${fmtClock(elapsed)} elapsed${done ? ` · ~${fmtClock(left)} left` : ''}`;
    // A budgeted run does not know its last cell: the cell's number and round, not a growing "of".
    const where = opts.budgetMs !== undefined ? `[${index + 1}, round ${round}]` : `[${index + 1}/${total}]`;
    const line = `${where} ${cell} · ${STEP_WORDS[step] ?? step}${rate ? ` · ${Math.round(rate).toLocaleString('en-US')} msg/s` : ''}${looked} · ${time}`;
    out.write(`\r\x1b[2K${line.slice(0, 150)}`);
  };
  return (e: RunEvent) => {
    if (e.type === 'cell-start') {
      cell = opts.budgetMs !== undefined ? `${e.cell.case} · ${e.cell.runtime}` : `${e.cell.case} · ${e.cell.runtime} · rep ${e.cell.repetition}`;
      round = e.cell.repetition;
      index = e.index;
      total = e.total;
      rate = 0;
      step = 'spawn';
    } else if (e.type === 'look') looks.set(e.case, { settled: e.settledPairs, pairs: e.pairs });
    else if (e.type === 'lifecycle') step = e.step;
    else if (e.type === 'progress') {
      rate = e.progress.recvPerSec;
      step = e.progress.phase;
    } else if (e.type === 'cell-end') {
      done++;
      doneMs += e.cell.durationMs ?? 0;
      if (done === total) {
        out.write('\r\x1b[2K');
        return;
      }
    }
    draw();
  };
}

/** The progress a stream gets: rewritten in place on a terminal, plain lines anywhere else. */
export function progressRenderer(out: TextOut, opts: ProgressOptions = {}): (e: RunEvent) => void {
  return out.isTTY ? ttyProgress(out, opts) : plainProgress(out, opts);
}
