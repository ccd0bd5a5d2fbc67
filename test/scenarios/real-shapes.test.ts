// Every real-shape scenario, shortened, through the CLI, as a user would run an
// edited copy of a built-in file: each cell must complete with zero delivery
// errors, and the report must put the synthetic and the real-shape gap side by
// side (with --verbose: the main job's terminal output leads with its decision
// and keeps the tables for --verbose).
// Every runtime runs the shapes whose server path is its own (the relay, rooms
// with churn, backpressure); one run feeds every check of the first block.
// Echo-rate and chat run on one runtime, beside the voice relay for the gap
// table: on the server they are the /echo and /broadcast paths that every
// runtime runs in test/cli/run.test.ts and test/loadgen/run.test.ts (and the
// dashboard here), and what is their own (open-loop arrivals, Poisson bursts)
// lives in the load generator.
import '../helpers/system-node.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
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

const echoRate = shortened('echo-rate', (s) => {
  s['connections'] = 20;
  s['load'].ratesPerSec = [2000];
});
const voice = shortened('voice-agent', (s) => {
  s['connections'] = 8;
  // Turns every 200 ms with short think times, so a short window holds several complete turns.
  s['load'].framesPerTurn = 10;
  s['load'].upstream = { ...s['load'].upstream, latency: 'uniform:50:150', chunks: 5 };
});
const everyRuntime = [
  voice,
  shortened('dashboard', (s) => {
    s['connections'] = 120;
    s['load'] = { ...s['load'], rooms: 4, publishers: 8, ratePerSecPerPublisher: 5, churn: { leavesPerSec: 10, rejoinAfterMs: 100 } };
  }),
  shortened('slow-consumer', () => {}),
];

const chat = shortened('chat', (s) => {
  s['connections'] = 40;
  s['load'].publishers = 40;
  s['load'].ratePerSecPerPublisher = 1;
});

/** `bench run` of `files` on `runtimes` (all when empty): a second of window after a quarter of warmup. */
async function run(files: string[], runtimes: string[] = []): Promise<{ code: number; result: RunResult; stderr: string }> {
  const runtimeArgs = runtimes.length > 0 ? ['--runtime', ...runtimes] : [];
  const b = bufferIo(['run', '--scenario', ...files, ...runtimeArgs, '--repeat', '1', '--warmup', '0.25', '--duration', '1', '--verbose', '--out', path.join(dir, 'results'), '--json'], host);
  const code = await runCli(b.io);
  assert.ok(b.out.stdout.length > 0, b.out.stderr.slice(-3000));
  return { code, result: JSON.parse(b.out.stdout) as RunResult, stderr: b.out.stderr };
}

function assertClean(r: { code: number; result: RunResult; stderr: string }): void {
  for (const c of r.result.cells) {
    assert.equal(c.status, 'completed', `${c.id}: ${c.error?.message} ${c.error?.details.join(' | ')}`);
    assert.deepEqual(deliveryOf(c), { lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0, errors: 0 }, c.id);
    assert.equal(c.metrics!.loadgen.workers.length > 0, true);
  }
  assert.equal(r.code, 0, r.stderr.slice(-3000));
}

function deliveryOf(c: CellResult) {
  const d = c.metrics!.delivery;
  return { lost: d.lost, duplicated: d.duplicated, corrupted: d.corrupted, outOfOrder: d.outOfOrder, errors: Object.values(c.metrics!.errors).reduce((a, n) => a + (n ?? 0), 0) };
}

describe('real message shapes on every runtime', () => {
  let r: Awaited<ReturnType<typeof run>>;
  before(async () => {
    r = await run(everyRuntime);
  });

  test('voice-agent, dashboard and slow-consumer complete on every runtime with zero delivery errors', () => {
    assert.equal(r.result.cells.length, BARE_RUNTIME_IDS.length * everyRuntime.length);
    assertClean(r);
    assert.equal(liveServers().length, 0);
    assert.equal(liveUpstreams().length, 0);
  });

  test('voice-agent: every turn answered through the relay, every reply intact', () => {
    const cells = r.result.cells.filter((x) => x.scenario === 'voice-agent');
    assert.equal(cells.length, BARE_RUNTIME_IDS.length);
    for (const c of cells) {
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
  });

  test('dashboard: subscribers leave and rejoin, and the time to the last subscriber is measured', () => {
    const cells = r.result.cells.filter((x) => x.scenario === 'dashboard');
    assert.equal(cells.length, BARE_RUNTIME_IDS.length);
    for (const c of cells) {
      assert.ok((c.metrics!.churn?.leaves ?? 0) > 0, `${c.id}: subscribers left and rejoined`);
      assert.ok(c.metrics!.lastRecipientUs && c.metrics!.lastRecipientUs.count > 0, `${c.id}: time to last subscriber`);
    }
  });

  test('slow-consumer: whatever each runtime does, the count adds up', () => {
    const cells = r.result.cells.filter((x) => x.scenario === 'slow-consumer');
    assert.equal(cells.length, BARE_RUNTIME_IDS.length);
    for (const c of cells) {
      const s = c.metrics!.slowConsumers!;
      assert.equal(s.received + s.missing, s.expected, `${c.id}: ${JSON.stringify(s)}`);
      assert.ok(['drops', 'closes', 'buffers'].includes(s.outcome));
    }
  });

  test('the report shows the relay and the backpressure', () => {
    assert.match(r.stderr, /voice-agent — relay/);
    assert.match(r.stderr, /slow-consumer — backpressure/);
  });
});

describe('echo-rate and chat beside the voice relay, on one runtime', () => {
  test('zero delivery errors, and the report puts both gaps side by side', async () => {
    const c = await run([echoRate, voice, chat], ['node-ws']);
    assert.deepEqual(c.result.cells.map((x) => [x.scenario, x.runtime]).sort(), [['chat', 'node-ws'], ['echo-rate', 'node-ws'], ['voice-agent', 'node-ws']]);
    assertClean(c);
    assert.match(c.stderr, /Two gaps: synthetic vs real shape/);
    assert.equal(liveServers().length, 0);
    assert.equal(liveUpstreams().length, 0);
  });
});
