// The multi-host simulation of issue 16, which CI runs (as root; elsewhere it skips and says why): three load
// segments as separate processes, each in a network namespace of its own with its own address, each running
// the command line the rendered Indexed Job gives its pods (JOB_COMPLETION_INDEX set, expanded by a shell),
// against one node-ws server (`bench serve`, the server pod's command line) in a fourth namespace with the pod's
// sampler beside it (`bench sample`); their results merged with `bench merge` and compared with one process
// running the same scenario case against the same server.
//
// What must hold, exactly: sent, expected and received of the merged result are the single process's. The
// scenario is a broadcast whose publishers live in two of the three segments, in two rooms, so that every
// segment receives messages published in another one (the third publishes nothing: everything it hears is
// accounted only at the merge), and each delivery must be counted once. The single process runs three workers,
// which split the connections exactly as the three segments do (10 each), so its schedules are the segments'
// (constant arrivals: a message count that does not depend on timing); its counts are exact whatever the load
// on this machine. Time: about 17 s, most of it the agreed start (6 s ahead, for the server and three CLIs
// to start and connect on a busy machine) and the two 2-second loads.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { runCli } from '../../cli/index.js';
import { bufferIo } from '../../cli/io.js';
import { currentHost } from '../../core/host.js';
import { canCreateNamespaces, createHosts, type HostNetwork } from '../../core/netns.js';
import { projectRoot } from '../../core/paths.js';
import type { ManagedProcess } from '../../core/process.js';
import { validateScenario } from '../../core/scenario.js';
import type { SegmentResult } from '../../core/segment-result.js';
import { parseResultBlocks } from '../../k8s/collect.js';
import { PATHS, renderManifests } from '../../k8s/render.js';
import type { LoadPlan, LoadResult } from '../../loadgen/types.js';
import type { RunResult } from '../../schema/result.js';

const can = await canCreateNamespaces();
const skip = can.ok ? false : `the multi-host simulation needs network namespaces, which cannot be made here: ${can.reason}`;
if (skip) process.stderr.write(`# skipped: ${skip}\n`);

const SEGMENTS = 3;
const SCENARIO = {
  name: 'sim-broadcast',
  description: 'Three load segments against one server: 30 connections in two rooms, publishers 0–14 at a constant 2.33 msg/s each.',
  route: '/broadcast',
  connections: 30,
  warmupSec: 0.5,
  durationSec: 1.5,
  load: { model: 'broadcast', publishers: 15, ratePerSecPerPublisher: 2.33, rooms: 2, arrivals: 'constant' },
  message: { kind: 'binary', size: { type: 'fixed', bytes: 64 } },
};

/** Collects a managed process's stdout, and resolves with it when the process has exited, or rejects after `ms`. */
function outputOf(p: ManagedProcess, ms: number, what: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  p.child.stdout!.setEncoding('utf8');
  p.child.stdout!.on('data', (s: string) => (stdout += s));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms: ${p.stderrTail()}`)), ms);
    void p.exited.then((r) => {
      clearTimeout(timer);
      resolve({ code: r.code, stdout, stderr: p.stderrTail() });
    });
  });
}

/** The first line of a process's stdout, within `ms`. */
function firstLine(p: ManagedProcess, ms: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no line within ${ms} ms: ${p.stderrTail()}`)), ms);
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      p.child.stdout!.off('data', onData);
      // Keep draining: a full pipe would block the server.
      p.child.stdout!.resume();
      resolve(buf.slice(0, nl));
    };
    p.child.stdout!.on('data', onData);
    void p.exited.then((r) => reject(new Error(`${what} exited (${r.code ?? r.signal}) before its first line: ${p.stderrTail()}`)));
  });
}

/** A shell word: single-quoted, except the Job's $(JOB_COMPLETION_INDEX), which a pod's kubelet expands and here the shell does. */
function shellWord(a: string): string {
  if (a.includes('$(JOB_COMPLETION_INDEX)')) return `"${a.replace('$(JOB_COMPLETION_INDEX)', '$JOB_COMPLETION_INDEX')}"`;
  return `'${a.replace(/'/g, `'\\''`)}'`;
}

describe('multi-host simulation: 3 load segments in their own network namespaces, merged, equal one process', { skip }, () => {
  let net: HostNetwork | undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-sim-'));
  // Every path: the namespaces go with every process still inside them (destroy stops the managed ones first).
  after(async () => {
    await net?.destroy(500);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the merged counts equal the single process\'s, every broadcast delivery across segments counted once', { timeout: 60_000 }, async () => {
    const scenarioFile = path.join(dir, 'scenario.json');
    writeFileSync(scenarioFile, JSON.stringify(SCENARIO));
    const { scenario } = validateScenario(SCENARIO, scenarioFile);
    assert.ok(scenario);

    net = await createHosts(1 + SEGMENTS, { prefix: 'benchsim' });
    const [serverHost, ...loadHosts] = net.hosts as [HostNetwork['hosts'][0], ...HostNetwork['hosts']];
    const env = { ...process.env, NO_COLOR: '1' };

    // Every command line from the rendered objects themselves: the server pod's server and sampler, the Job's load.
    // Rendered twice: the server's command first, then (once it listens, which takes seconds on a busy machine) the
    // sampler's and the Job's with an agreed start far enough ahead for three segments to start and connect.
    const render = (startAtMs: number) => renderManifests({ scenario, runtime: 'node-ws', segments: SEGMENTS, image: 'bench:sim', startAtMs, load: { cpus: 1 } });
    let objects = render(Date.now() + 60_000);
    let pod = objects.find((o) => o.kind === 'Pod') as Pod;
    const readyFile = path.join(dir, 'server-ready.json');
    const local = (cmd: string[]) => cmd.map((a) => (a === 'node' ? process.execPath : a === PATHS.readyFile ? readyFile : a === PATHS.scenarioFile ? scenarioFile : a));
    const container = (name: string) => pod.spec!.containers.find((c) => c.name === name)!.command!;

    // The server: node-ws from the registry, started by `bench serve` (bench's launcher) in its own namespace,
    // its ready line also in the file its sampler reads; the sampler beside it, as the pod's sidecar.
    const [serveFile, ...serveArgs] = local(container('server'));
    const serve = serverHost.exec(serveFile!, serveArgs, { env, label: 'bench serve', cwd: projectRoot });
    const ready = JSON.parse(await firstLine(serve, 20_000, 'bench serve')) as { port: number };
    const target = `ws://${serverHost.address}:${ready.port}`;
    objects = render(Math.ceil((Date.now() + 8000) / 1000) * 1000);
    pod = objects.find((o) => o.kind === 'Pod') as Pod;
    const job = objects.find((o) => o.kind === 'Job') as Job;
    const [sampleFile, ...sampleArgs] = local(container('sampler'));
    const sampler = outputOf(serverHost.exec(sampleFile!, [...sampleArgs, '--drain', '0.5s'], { env, label: 'bench sample', cwd: projectRoot }), 40_000, 'bench sample');

    const podCommand = job.spec!.template.spec!.containers.find((c) => c.name === 'load')!.command!;
    const argv = local(podCommand).map((a) => (a.startsWith('ws://') ? target : a));
    assert.ok(argv.includes(`$(JOB_COMPLETION_INDEX)/${SEGMENTS}`));
    const line = `exec ${argv.map(shellWord).join(' ')}`;
    const segments = loadHosts.map((h, i) =>
      outputOf(h.exec('sh', ['-c', line], { env: { ...env, JOB_COMPLETION_INDEX: String(i) }, label: `segment ${i}`, cwd: projectRoot }), 40_000, `segment ${i}`),
    );
    const outs = await Promise.all(segments);
    const files: string[] = [];
    const results: SegmentResult[] = [];
    outs.forEach((o, i) => {
      assert.equal(o.code, 0, `segment ${i}: ${o.stderr}`);
      const blocks = parseResultBlocks(o.stdout).filter((b) => b.kind === 'segment-result');
      assert.equal(blocks.length, 1, `segment ${i} printed one result block`);
      assert.equal(blocks[0]!.label, `${i}/${SEGMENTS}`);
      results.push(blocks[0]!.payload as SegmentResult);
      files.push(path.join(dir, `segment-${i}.json`));
      writeFileSync(files[i]!, JSON.stringify(blocks[0]!.payload));
    });
    // Each segment opened its own ids from its own namespace, and the third heard only others' publishers.
    assert.deepEqual(results.map((r) => [r.share.connections.first, r.share.connections.count, r.load.connectionsOpened]), [[0, 10, 10], [10, 10, 10], [20, 10, 10]]);
    assert.deepEqual(results.map((r) => r.share.publishers.count), [10, 5, 0]);
    assert.equal(results[2]!.load.delivery.sent, 0);
    assert.equal(results[2]!.load.delivery.expected, 0, 'segment 2 could not know what others sent: all it heard was deferred');
    assert.ok(results[2]!.load.delivery.received > 0);

    const sampled = await sampler;
    assert.equal(sampled.code, 0, sampled.stderr);
    const serverBlock = parseResultBlocks(sampled.stdout).find((x) => x.kind === 'server-sample');
    assert.ok(serverBlock, 'the sampler printed its block');
    writeFileSync(path.join(dir, 'server-sample.json'), JSON.stringify(serverBlock.payload));

    const b = bufferIo(['merge', ...files, '--server-sample', path.join(dir, 'server-sample.json'), '--out', path.join(dir, 'merged')], currentHost());
    const code = await runCli(b.io);
    assert.equal(code, 0, b.out.stderr);
    const merged = JSON.parse(readFileSync(path.join(dir, 'merged', 'result.json'), 'utf8')) as RunResult;
    const cell = merged.cells[0]!;
    assert.equal(merged.status, 'completed');
    assert.equal(cell.runtime, 'node-ws');
    // The server's side from its sampler: the runtime it reported, its CPU over the agreed window.
    assert.equal(cell.server!.library, 'ws');
    assert.ok(cell.metrics!.serverCpuUsPerMsg! > 0);
    assert.ok(!cell.warnings.some((w) => w.code === 'server-unobserved'));

    // The same scenario case from one process (three workers: the segments' split) against the same server.
    const single = loadHosts[0]!.exec(process.execPath, [path.join(projectRoot, 'dist', 'cli', 'main.js'), 'load', '--scenario', scenarioFile, '--target', target, '--workers', String(SEGMENTS), '--json'], {
      env,
      label: 'single process',
      cwd: projectRoot,
    });
    const one = await outputOf(single, 30_000, 'the single process');
    assert.equal(one.code, 0, one.stderr);
    const { result: whole } = JSON.parse(one.stdout) as { plan: LoadPlan; result: LoadResult };

    const d = cell.metrics!.delivery;
    const counts = (x: typeof d) => ({ sent: x.sent, expected: x.expected, received: x.received, lost: x.lost, duplicated: x.duplicated, misdelivered: x.misdelivered });
    assert.deepEqual(counts(d), counts(whole.delivery));
    assert.ok(d.sent > 0);
    assert.equal(d.expected, 15 * d.sent, 'every message owed once to each of the 15 members of its room');
    assert.equal(d.received, d.expected);
    assert.equal(cell.metrics!.latencyUs.count, whole.latency.count, 'the same deliveries in the window');
    assert.equal(cell.metrics!.lastRecipientUs!.count, whole.lastRecipient!.count, 'the same messages in the window');
    assert.equal(cell.raw!.timeline.reduce((a, t) => a + t.sentMsgs, 0), whole.timeline.reduce((a, t) => a + t.sentMsgs, 0));
    assert.equal(merged.segments!.count, SEGMENTS);
    assert.ok(merged.segments!.offsets.length > 0, 'clock offsets estimated between segments whose messages crossed');
  });
});
