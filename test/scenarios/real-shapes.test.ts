// Every real-shape scenario, shortened, against every runtime through the
// CLI, as a user would run an edited copy of a built-in file: each cell must
// complete with zero delivery errors, and the report must put the synthetic
// and the real-shape gap side by side (with --verbose: the main job's terminal
// output leads with its decision and keeps the tables for --verbose).
import '../helpers/system-node.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../../cli/index.js';
import { bufferIo } from '../../cli/io.js';
import { currentHost } from '../../core/host.js';
import { liveServers, liveUpstreams } from '../../core/launcher.js';
import type { CellResult, RunResult } from '../../schema/result.js';
import { BARE_RUNTIME_IDS } from '../../core/runtimes.js';
import { SCENARIOS_DIR } from '../../core/scenario.js';

const host = currentHost();
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-shapes-'));

/** A built-in scenario with some fields replaced, written where the CLI can read it. */
function shortened(name: string, edit: (s: Record<string, any>) => void): string {
  const s = JSON.parse(readFileSync(path.join(SCENARIOS_DIR, `${name}.json`), 'utf8')) as Record<string, any>;
  delete s['quick'];
  edit(s);
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(s, null, 2));
  return file;
}

const files = [
  shortened('echo-rate', (s) => {
    s['connections'] = 20;
    s['load'].ratesPerSec = [2000];
  }),
  shortened('voice-agent', (s) => {
    s['connections'] = 8;
    // Turns every 200 ms with short think times, so a short window holds several complete turns.
    s['load'].framesPerTurn = 10;
    s['load'].upstream = { ...s['load'].upstream, latency: 'uniform:50:150', chunks: 5 };
  }),
  shortened('dashboard', (s) => {
    s['connections'] = 120;
    s['load'] = { ...s['load'], rooms: 4, publishers: 8, ratePerSecPerPublisher: 5, churn: { leavesPerSec: 10, rejoinAfterMs: 100 } };
  }),
  shortened('chat', (s) => {
    s['connections'] = 40;
    s['load'].publishers = 40;
    s['load'].ratePerSecPerPublisher = 1;
  }),
  shortened('slow-consumer', () => {}),
];

function deliveryOf(c: CellResult) {
  const d = c.metrics!.delivery;
  return { lost: d.lost, duplicated: d.duplicated, corrupted: d.corrupted, outOfOrder: d.outOfOrder, errors: Object.values(c.metrics!.errors).reduce((a, n) => a + (n ?? 0), 0) };
}

describe('real message shapes on every runtime', () => {
  test('voice-agent, dashboard, chat and slow-consumer run with zero delivery errors, and the report shows both gaps', async () => {
    const b = bufferIo(['run', '--scenario', ...files, '--repeat', '1', '--warmup', '0.5', '--duration', '1.5', '--verbose', '--out', path.join(dir, 'results'), '--json'], host);
    const code = await runCli(b.io);
    assert.ok(b.out.stdout.length > 0, b.out.stderr.slice(-3000));
    const result = JSON.parse(b.out.stdout) as RunResult;
    assert.equal(result.cells.length, BARE_RUNTIME_IDS.length * files.length);
    for (const c of result.cells) {
      assert.equal(c.status, 'completed', `${c.id}: ${c.error?.message} ${c.error?.details.join(' | ')}`);
      assert.deepEqual(deliveryOf(c), { lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0, errors: 0 }, c.id);
      assert.equal(c.metrics!.loadgen.workers.length > 0, true);
    }
    assert.equal(code, 0, b.out.stderr.slice(-3000));

    for (const c of result.cells.filter((x) => x.scenario === 'voice-agent')) {
      const v = c.metrics!.voice!;
      assert.ok(v.turnsCompleted > 0, `${c.id}: turns completed`);
      assert.equal(v.turnsCompleted, v.turnsTriggered, `${c.id}: every turn got its response.done`);
      assert.equal(v.repliesReceived, v.repliesExpected, c.id);
      assert.equal(v.repliesCorrupted, 0, c.id);
      // The think time is at least 50 ms: a first chunk sooner would mean the timing is wrong.
      assert.ok(v.firstChunkUs.p50Us >= 50_000, `${c.id}: first chunk ${v.firstChunkUs.p50Us} µs`);
      assert.ok(v.serverCpuUsPerRelayedMsg !== null && v.serverCpuUsPerRelayedMsg > 0);
      assert.equal(c.server?.relay?.upstreamUrl !== null, true);
    }
    for (const c of result.cells.filter((x) => x.scenario === 'dashboard')) {
      assert.ok((c.metrics!.churn?.leaves ?? 0) > 0, `${c.id}: subscribers left and rejoined`);
      assert.ok(c.metrics!.lastRecipientUs && c.metrics!.lastRecipientUs.count > 0, `${c.id}: time to last subscriber`);
    }
    for (const c of result.cells.filter((x) => x.scenario === 'slow-consumer')) {
      const s = c.metrics!.slowConsumers!;
      assert.equal(s.received + s.missing, s.expected, `${c.id}: ${JSON.stringify(s)}`);
      assert.ok(['drops', 'closes', 'buffers'].includes(s.outcome));
    }
    assert.match(b.out.stderr, /Two gaps: synthetic vs real shape/);
    assert.match(b.out.stderr, /voice-agent — relay/);
    assert.match(b.out.stderr, /slow-consumer — backpressure/);
    assert.equal(liveServers().length, 0);
    assert.equal(liveUpstreams().length, 0);
  });
});
