import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { plainProgress, progressRenderer } from '../../cli/progress.js';
import type { RunEvent } from '../../core/run.js';
import type { CellResult } from '../../schema/result.js';
import { cell, warning } from '../helpers/cells.js';

function sink(isTTY: boolean) {
  const out = { text: '', isTTY, write: (s: string) => void (out.text += s) };
  return out;
}

/** The events of cells run one after another: start, a lifecycle step and a progress report, end. */
function events(cells: { cell: CellResult; total: number }[]): RunEvent[] {
  return cells.flatMap(({ cell: c, total }, index): RunEvent[] => [
    { type: 'cell-start', cell: c, index, total },
    { type: 'lifecycle', cellId: c.id, step: 'ready' },
    { type: 'progress', cellId: c.id, progress: { phase: 'measure', connectionsOpen: 32, recvPerSec: 1234, elapsedMs: 500 } },
    { type: 'cell-end', cell: c, index, total },
  ]);
}

const fixedRun = (): { cell: CellResult; total: number }[] => [
  { cell: { ...cell({ case: 'echo-rate@10000/s', runtime: 'bun', repetition: 2, metrics: { msgsPerSec: 9998.4 } }), durationMs: 2100 }, total: 4 },
  { cell: { ...cell({ case: 'echo-rate@10000/s', runtime: 'deno', repetition: 2, status: 'errored' }), durationMs: 400 }, total: 4 },
  { cell: { ...cell({ case: 'idle', runtime: 'node-ws', repetition: 2, metrics: { msgsPerSec: 0 }, warnings: [warning('rss-growing'), warning('server-killed')] }), durationMs: 5000 }, total: 4 },
  { cell: { ...cell({ case: 'idle', runtime: 'bun', repetition: 2, status: 'skipped' }), error: { code: 'E_INTERRUPTED', message: 'interrupted', details: [] } }, total: 4 },
];

describe('progress on a stream that is not a terminal', () => {
  test('one plain line per finished cell: position, cell, outcome, rate; no carriage return or escape code', () => {
    const out = sink(false);
    const on = progressRenderer(out);
    for (const e of events(fixedRun())) on(e);
    assert.equal(
      out.text,
      [
        '[1/4] echo-rate@10000/s · bun · rep 2 · done in 2.1 s · 9,998 msg/s',
        '[2/4] echo-rate@10000/s · deno · rep 2 · errored after 0.4 s: E_SERVER_EXITED server exited',
        '[3/4] idle · node-ws · rep 2 · done in 5.0 s · 2 warnings',
        '[4/4] idle · bun · rep 2 · skipped (interrupted)',
        '',
      ].join('\n'),
    );
    assert.doesNotMatch(out.text, /[\r\x1b]/);
  });

  test('a budgeted run: a line per round (time used of the budget, cells done), cells numbered without a total', () => {
    const out = sink(false);
    let now = 1_000;
    const on = plainProgress(out, { budgetMs: 180_000, clockMs: () => now });
    const round = (r: number, total: number) => ['bun', 'node-ws'].map((rt) => ({ cell: { ...cell({ case: 'echo', runtime: rt, repetition: r, metrics: { msgsPerSec: 50_000 } }), durationMs: 3000 }, total }));
    const evs = events([...round(1, 2), ...round(2, 4)]);
    for (const e of evs) {
      on(e);
      if (e.type === 'cell-end') now += 30_000;
    }
    const lines = out.text.split('\n');
    assert.match(lines[0]!, /^round 1 · 0:00 of the 3:00 budget used · 0 cells done \(each workload's pairs are looked at after every round from round 3; /);
    assert.deepEqual(lines.slice(1), [
      '[1, round 1] echo · bun · done in 3.0 s · 50,000 msg/s',
      '[2, round 1] echo · node-ws · done in 3.0 s · 50,000 msg/s',
      'round 2 · 1:00 of the 3:00 budget used · 2 cells done',
      '[3, round 2] echo · bun · done in 3.0 s · 50,000 msg/s',
      '[4, round 2] echo · node-ws · done in 3.0 s · 50,000 msg/s',
      '',
    ]);
    assert.doesNotMatch(out.text, /[\r\x1b]/);
  });

  test('a budgeted run: a line per look at a workload, saying how many runtime pairs are settled and when it stops', () => {
    const out = sink(false);
    const on = plainProgress(out, { budgetMs: 180_000, clockMs: () => 0 });
    on({ type: 'look', case: 'echo-rate@10000/s', look: 1, maxLooks: 6, settledPairs: 4, pairs: 6, settled: false });
    on({ type: 'look', case: 'idle', look: 2, maxLooks: 6, settledPairs: 1, pairs: 1, settled: true });
    assert.equal(out.text, 'look 1 of 6 · echo-rate@10000/s: 4 of 6 runtime pairs settled\nlook 2 of 6 · idle: 1 of 1 runtime pair settled: no more cells\n');
  });
});

describe('progress on a terminal', () => {
  test('a budgeted run shows the pairs settled so far over every workload, and time against the budget', () => {
    const out = sink(true);
    let now = 0;
    const on = progressRenderer(out, { budgetMs: 180_000, clockMs: () => now });
    on(events(fixedRun())[0]!);
    now = 61_000;
    on({ type: 'look', case: 'echo', look: 1, maxLooks: 6, settledPairs: 2, pairs: 6, settled: false });
    on({ type: 'look', case: 'idle', look: 1, maxLooks: 6, settledPairs: 1, pairs: 1, settled: true });
    // A later look replaces the workload's earlier count.
    on({ type: 'look', case: 'echo', look: 2, maxLooks: 6, settledPairs: 5, pairs: 6, settled: false });
    const last = out.text.split('\r\x1b[2K').pop()!;
    // The cell's number and round (the last cell is not known in advance), its step in words, the looks, the budget.
    assert.match(last, /^\[1, round 2\] echo-rate@10000\/s · bun · starting the server · 6\/7 pairs settled · 1:01 of 3:00$/);
  });

  test('rewrites one line in place and clears it after the last cell', () => {
    const out = sink(true);
    const on = progressRenderer(out, { clockMs: () => 0 });
    for (const e of events(fixedRun())) on(e);
    assert.ok(out.text.startsWith('\r\x1b[2K[1/4] echo-rate@10000/s · bun · rep 2 · starting'));
    assert.ok(out.text.endsWith('\r\x1b[2K'));
    assert.doesNotMatch(out.text, /\n/);
  });
});
