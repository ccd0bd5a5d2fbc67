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

describe('the Socket.IO cost views', () => {
  const summary = [
    row('node-ws', 18, 600, 3000, 80e6),
    row('node-socketio', 36, 900, 4500, 120e6),
    row('bun', 9, 480, 3000, 40e6),
    row('bun-socketio', 18, 720, 6000, 60e6),
    { ...row('node-ws', 0, 0, 0, 50e6, 7000), case: 'idle', scenario: 'idle', serverCpuUsPerMsg: undefined, latencyP50Us: undefined, latencyP99Us: undefined },
    { ...row('node-socketio', 0, 0, 0, 75e6, 21000), case: 'idle', scenario: 'idle', serverCpuUsPerMsg: undefined, latencyP50Us: undefined, latencyP99Us: undefined },
  ];
  const runtimes = ['node-ws', 'node-socketio', 'bun', 'bun-socketio'];

  test('a run without a stack has none', () => {
    assert.deepEqual(stackCostViews(resultOf(['node-ws', 'bun']), summary), []);
  });

  test('one view per pair that ran, in order, one row per case, each figure the first median over the second', () => {
    const views = stackCostViews(resultOf(runtimes), summary);
    assert.deepEqual(views.map((v) => v.name.replace('Socket.IO: ', '')), ['node-socketio ÷ node-ws', 'bun-socketio ÷ bun', 'bun-socketio ÷ node-socketio', 'bun ÷ node-ws', 'bun ÷ node-socketio']);
    assert.deepEqual(views.map((v) => v.subtitle.split(' · ')[0]), [
      'Socket.IO layer on Node + ws',
      'Socket.IO layer on Bun',
      'Bun instead of Node, under Socket.IO',
      'Bun instead of Node, bare (for reference)',
      'from Node + Socket.IO to bare Bun',
    ]);
    const [layer, , runtime] = views;
    assert.deepEqual(layer!.columns.map((c) => c.id), ['case', 'p50', 'p99', 'cpu', 'rss', 'conn']);
    assert.deepEqual(textRows(layer!.rows), [
      ['dashboard', '1.50×', '1.50×', '2.00×', '1.50×', '–'],
      ['idle', '–', '–', '–', '1.50×', '3.00×'],
    ]);
    // Only dashboard has both stacks: the idle case has no row, and no row has bytes per connection.
    assert.deepEqual(runtime!.columns.map((c) => c.id), ['case', 'p50', 'p99', 'cpu', 'rss']);
    assert.deepEqual(textRows(runtime!.rows), [['dashboard', '0.80×', '1.33×', '0.50×', '0.50×']]);
  });

  test('a side without a completed repetition leaves its pair out', () => {
    const views = stackCostViews(resultOf(runtimes), summary.map((r) => (r.runtime === 'bun-socketio' ? { ...r, completed: 0 } : r)));
    assert.deepEqual(views.map((v) => v.name), ['Socket.IO: node-socketio ÷ node-ws', 'Socket.IO: bun ÷ node-ws', 'Socket.IO: bun ÷ node-socketio']);
  });

  test('the first view explains the ratios, and says when the repetitions are too few for significance', () => {
    const [few, second] = stackCostViews(resultOf(runtimes, 3), summary);
    const [many] = stackCostViews(resultOf(runtimes, 5), summary);
    assert.ok(few!.footnotes.some((f) => f.startsWith('3 repetitions per runtime: no ratio here is tested')));
    assert.ok(!many!.footnotes.some((f) => f.includes('no ratio here is tested')));
    assert.deepEqual(second!.footnotes, []);
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
      for (const pair of ['node-socketio ÷ node-ws', 'bun-socketio ÷ bun', 'bun-socketio ÷ node-socketio']) assert.ok(text.includes(pair), `${format.name}: ${pair}`);
      for (const name of [OPEN_CASE, IDLE_CASE]) assert.ok(text.includes(name));
      assert.match(text, /stack\.pingIntervalMs/);
    });
  }
});
