import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { isBenchError } from '../../base/errors.js';
import { mergeSegmentResults } from '../../core/merge.js';
import { parseServerSample, sampleServer, SERVER_SAMPLE_KIND, SERVER_SAMPLE_VERSION, type ServerSample } from '../../core/server-sample.js';
import type { ProcSample } from '../../schema/result.js';
import { CONTRACT_SETTINGS } from '../../servers/settings.js';
import { FAKE_START_AT_MS, fakeSegmentResults } from '../helpers/segment-results.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-server-sample-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const readyLine = (pid: number) => ({ event: 'ready', runtime: 'node', runtimeVersion: '20.0.0', library: 'ws', libraryVersion: '8.23.0', pid, host: '0.0.0.0', port: 9001, settings: CONTRACT_SETTINGS });

describe('sampleServer: the server read from /proc at the agreed phase edges', () => {
  test('waits for the ready file, then reads at the start, the window\'s edges and after the drain, in order', async () => {
    const file = path.join(dir, 'ready.json');
    // The ready file appears after the sampler began waiting for it.
    setTimeout(() => writeFileSync(file, JSON.stringify(readyLine(process.pid)) + '\n'), 100);
    const startAtMs = Date.now() + 400;
    const s = await sampleServer({ readyFile: file, startAtMs, warmupMs: 100, durationMs: 300, intervalMs: 50, drainMs: 50 });
    assert.equal(s.ready.pid, process.pid);
    const { baseline, connected, measureStart, measureEnd, end, all } = s.phases;
    const order = [baseline, connected, measureStart, measureEnd, end].map((x) => x.tMs);
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'the edges in order');
    assert.ok(all.length >= 5, `${all.length} readings`);
    assert.ok(measureEnd.cpuUserUs + measureEnd.cpuSystemUs >= measureStart.cpuUserUs + measureStart.cpuSystemUs, 'CPU time only grows');
    assert.deepEqual(parseServerSample(JSON.parse(JSON.stringify(s)), 'x'), JSON.parse(JSON.stringify(s)));
  });

  test('no ready line by the start: E_SERVER_NOT_READY', async () => {
    await assert.rejects(
      sampleServer({ readyFile: path.join(dir, 'never.json'), startAtMs: Date.now() + 200, warmupMs: 0, durationMs: 500, intervalMs: 100 }),
      (e) => isBenchError(e) && e.code === 'E_SERVER_NOT_READY' && /never\.json/.test(e.message),
    );
  });

  test('parseServerSample names what is missing', () => {
    assert.throws(
      () => parseServerSample({ kind: SERVER_SAMPLE_KIND, schemaVersion: SERVER_SAMPLE_VERSION, ready: { event: 'ready' }, phases: {} }, 'f.json'),
      (e) => isBenchError(e) && e.code === 'E_INVALID_RESULT' && e.details.some((d) => /^ready: /.test(d)) && e.details.some((d) => /^phases\.baseline: /.test(d)) && e.details.some((d) => /^startAtMs: /.test(d)),
    );
  });
});

describe('mergeSegmentResults with the server sample', () => {
  const reading = (tMs: number, cpuUs: number, rssBytes: number): ProcSample => ({ tMs, cpuUserUs: cpuUs, cpuSystemUs: 0, rssBytes, peakRssBytes: rssBytes, threads: 7, fds: 40, kernelTcpMemBytes: 0 });
  const sample = (startAtMs = FAKE_START_AT_MS): ServerSample => {
    const phases = {
      baseline: reading(0, 100_000, 50e6),
      connected: reading(900, 150_000, 52e6),
      measureStart: reading(2000, 200_000, 53e6),
      measureEnd: reading(3000, 380_000, 54e6),
      end: reading(5000, 400_000, 53e6),
      all: [] as ProcSample[],
    };
    phases.all = [phases.baseline, phases.connected, phases.measureStart, phases.measureEnd, phases.end];
    return { schemaVersion: SERVER_SAMPLE_VERSION, kind: SERVER_SAMPLE_KIND, ready: readyLine(4242) as ServerSample['ready'], startAtMs, warmupMs: 1000, durationMs: 1000, phases };
  };
  const segs = () => fakeSegmentResults({ connections: 12, publishers: 6, rooms: 2, segments: 3, sentPerPublisher: 5 }).map((raw, i) => ({ name: `s${i}`, raw: raw as unknown }));
  const OPTS = { toolVersion: '0.1.0', commandLine: ['bench', 'merge'] };

  test("the server's CPU per message and memory come from its readings; the server is recorded, not unobserved", () => {
    const r = mergeSegmentResults(segs(), { ...OPTS, server: { name: 'server.json', raw: JSON.parse(JSON.stringify(sample())) } });
    const cell = r.cells[0]!;
    // 180,000 µs of server CPU over the window for 180 deliveries received in it.
    assert.equal(cell.metrics!.serverCpuUsPerMsg, 1000);
    assert.equal(cell.metrics!.rssPeakBytes, 54e6);
    assert.equal(cell.metrics!.serverFds, 40);
    assert.equal(cell.server!.pid, 4242);
    assert.equal(cell.server!.library, 'ws');
    assert.ok(!cell.warnings.some((w) => w.code === 'server-unobserved'));
    assert.deepEqual(r.parity.manifests['node-ws'], CONTRACT_SETTINGS);
    assert.equal(cell.raw!.samples.length, 5);
  });

  test('a sample of another run (another start) is refused', () => {
    assert.throws(
      () => mergeSegmentResults(segs(), { ...OPTS, server: { name: 'server.json', raw: JSON.parse(JSON.stringify(sample(FAKE_START_AT_MS + 60_000))) } }),
      (e) => isBenchError(e) && e.code === 'E_INVALID_RESULT' && /server\.json sampled a run that started at/.test(e.message),
    );
  });
});
