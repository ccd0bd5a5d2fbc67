import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { summarizeCells } from '../../core/summarize.js';
import { markdownFormat } from '../../report/markdown.js';
import { STACK_PAIRS, stackCostViews, stackParityLines } from '../../report/stacks.js';
import { tableFormat } from '../../report/table.js';
import { textRows } from '../../report/units.js';
import type { Aggregate, RunResult, SummaryRow } from '../../schema/result.js';
import { STACK_SETTINGS } from '../../servers/settings.js';
import { IDLE_CASE, OPEN_CASE, loadFixture } from '../helpers/make-fixture.js';

const agg = (median: number): Aggregate => ({ median, madPct: 0, min: median, max: median, n: 3, values: [median, median, median] });

/** A summary row with the figures the stack view reads. */
function row(runtime: string, cpu: number, p50: number, p99: number, rss: number, conn?: number): SummaryRow {
  return {
    case: 'dashboard',
    scenario: 'dashboard',
    runtime,
    completed: 3,
    errored: 0,
    serverCpuUsPerMsg: agg(cpu),
    latencyP50Us: agg(p50),
    latencyP99Us: agg(p99),
    rssPeakBytes: agg(rss),
    ...(conn !== undefined ? { bytesPerConnection: agg(conn) } : {}),
    throughputIsLowerBound: false,
    ratioToReference: {},
    warnings: [],
  };
}

function resultOf(runtimes: string[], repeat = 3): RunResult {
  const r = structuredClone(loadFixture());
  r.settings.runtimes = runtimes;
  r.settings.repeat = repeat;
  return r;
}

describe('the Socket.IO cost view', () => {
  const summary = [
    row('node-ws', 18, 600, 3000, 80e6),
    row('node-socketio', 36, 900, 4500, 120e6),
    row('bun', 9, 480, 3000, 40e6),
    row('bun-socketio', 18, 720, 6000, 60e6),
  ];

  test('a run without a stack has none', () => {
    assert.deepEqual(stackCostViews(resultOf(['node-ws', 'bun']), summary), []);
  });

  test('one row per pair whose two runtimes ran, in order, each figure the first median over the second', () => {
    const [view, ...rest] = stackCostViews(resultOf(['node-ws', 'node-socketio', 'bun', 'bun-socketio']), summary);
    assert.equal(rest.length, 0);
    assert.equal(view!.name, 'dashboard — Socket.IO costs');
    // No row has bytes per connection: the column is left out.
    assert.deepEqual(view!.columns.map((c) => c.id), ['pair', 'change', 'p50', 'p99', 'cpu', 'rss']);
    assert.deepEqual(textRows(view!.rows), [
      ['node-socketio ÷ node-ws', 'Socket.IO layer on Node + ws', '1.50×', '1.50×', '2.00×', '1.50×'],
      ['bun-socketio ÷ bun', 'Socket.IO layer on Bun', '1.50×', '2.00×', '2.00×', '1.50×'],
      ['bun-socketio ÷ node-socketio', 'Bun instead of Node, under Socket.IO', '0.80×', '1.33×', '0.50×', '0.50×'],
      ['bun ÷ node-ws', 'Bun instead of Node, bare (for reference)', '0.80×', '1.00×', '0.50×', '0.50×'],
      ['bun ÷ node-socketio', 'Node + Socket.IO to bare Bun', '0.53×', '0.67×', '0.25×', '0.33×'],
    ]);
  });

  test('a pair with a side that has no completed repetition, or a figure missing on one side, leaves its cells out', () => {
    const partial = [row('node-ws', 18, 600, 3000, 80e6, 7000), { ...row('node-socketio', 36, 900, 4500, 120e6, 21000) }, { ...row('bun-socketio', 18, 720, 6000, 60e6), completed: 0 }];
    const [view] = stackCostViews(resultOf(['node-ws', 'node-socketio', 'bun-socketio']), partial);
    assert.deepEqual(textRows(view!.rows), [['node-socketio ÷ node-ws', 'Socket.IO layer on Node + ws', '1.50×', '1.50×', '2.00×', '1.50×', '3.00×']]);
  });

  test('says when the repetitions are too few for significance', () => {
    const [few] = stackCostViews(resultOf(['node-ws', 'node-socketio'], 3), summary);
    const [many] = stackCostViews(resultOf(['node-ws', 'node-socketio'], 5), summary);
    assert.ok(few!.footnotes.some((f) => f.startsWith('3 repetitions per runtime: no ratio here is tested')));
    assert.ok(!many!.footnotes.some((f) => f.includes('no ratio here is tested')));
  });

  test('every stack has its layer pair, from the registry', () => {
    assert.deepEqual(
      STACK_PAIRS.filter((p) => p.change.startsWith('Socket.IO layer')).map((p) => `${p.of}/${p.over}`),
      ['node-socketio/node-ws', 'node-socketio-uws/node-uws', 'bun-socketio/bun'],
    );
  });
});

describe('the stacks in the parity section', () => {
  test('the common Engine.IO settings, or each stack\'s where they differ; nothing without stacks', () => {
    const r = resultOf(['node-socketio', 'bun-socketio']);
    assert.deepEqual(stackParityLines(r), []);
    r.parity.stacks = { 'node-socketio': STACK_SETTINGS, 'bun-socketio': STACK_SETTINGS };
    const lines = new Map(stackParityLines(r));
    assert.equal(lines.get('stack.pingIntervalMs'), '25000 — identical on all stacks');
    assert.equal(lines.get('stack.transports'), '["websocket"] — identical on all stacks');
    assert.equal(lines.get('stack.*'), 'Engine.IO settings of node-socketio, bun-socketio, compared among the stacks only: a bare server has no Engine.IO session');
    r.parity.stacks = { 'node-socketio': STACK_SETTINGS, 'bun-socketio': { ...STACK_SETTINGS, pingTimeoutMs: 800 } };
    assert.equal(new Map(stackParityLines(r)).get('stack.pingTimeoutMs'), 'DIFFERS: node-socketio=20000, bun-socketio=800');
  });
});

describe('a stored run with stacks, rendered', () => {
  // The fixture's node-uws and deno cells relabelled as two stacks: the formats only read labels and figures.
  const r = structuredClone(loadFixture());
  const as: Record<string, string> = { 'node-uws': 'node-socketio', deno: 'bun-socketio' };
  for (const c of r.cells) {
    const to = as[c.runtime];
    if (to) {
      c.runtime = to;
      c.id = c.id.replace(/\/(node-uws|deno)\//, `/${to}/`);
    }
  }
  r.settings.runtimes = r.settings.runtimes.map((x) => as[x] ?? x);
  r.parity.stacks = { 'node-socketio': STACK_SETTINGS, 'bun-socketio': STACK_SETTINGS };
  r.summary = summarizeCells(r.cells, r.settings.referenceRuntime);

  for (const format of [tableFormat, markdownFormat]) {
    test(`${format.name}: the stacks beside the bare runtimes, their costs per case, their settings`, () => {
      const text = format.render(r);
      for (const name of [OPEN_CASE, IDLE_CASE]) assert.ok(text.includes(`${name} — Socket.IO costs`), `${format.name}: ${name}`);
      assert.match(text, /node-socketio ÷ node-ws/);
      assert.match(text, /bun-socketio ÷ node-socketio/);
      assert.match(text, /stack\.pingIntervalMs/);
    });
  }
});
