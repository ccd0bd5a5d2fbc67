import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { isBenchError } from '../../base/errors.js';
import { CLOCK_BOUNDS, clockWarnings, mergeSegmentResults, worstSaturation } from '../../core/merge.js';
import { createLatencyHistogram, decodeHistogram, recordUs, summarizeHistogram } from '../../loadgen/histogram.js';
import type { RunResult, Warning } from '../../schema/result.js';
import { fakeSegmentResults, wholeTotals, type FakeBroadcast } from '../helpers/segment-results.js';
import { runBench } from '../helpers/cli.js';

const OPTS = { toolVersion: '0.1.0', commandLine: ['bench', 'merge'], now: () => new Date(Date.UTC(2026, 0, 1, 12, 1)) };
const inputs = (b: FakeBroadcast) => fakeSegmentResults(b).map((raw, i) => ({ name: `seg${i}.json`, raw: raw as unknown }));
const invalid = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (e) => isBenchError(e) && e.code === 'E_INVALID_RESULT' && (pattern.test(e.message) || e.details.some((d) => pattern.test(d))));

// 12 connections in 3 segments of 4, two rooms, publishers 0–5 (segments 0 and 1): every segment hears others' publishers.
const BASE: FakeBroadcast = { connections: 12, publishers: 6, rooms: 2, segments: 3, sentPerPublisher: 5 };

describe('mergeSegmentResults: N segments as one run', () => {
  test('delivery across segments equals one accounting of every receiver: a loss at a remote member counted once', () => {
    // Publisher 1 (segment 0) loses seq 2 at member 9 (segment 2); publisher 4 (segment 1) loses seq 0 at member 0 (segment 0).
    const b: FakeBroadcast = { ...BASE, lost: (s, r, q) => (s === 1 && r === 9 && q === 2) || (s === 4 && r === 0 && q === 0) };
    const result = mergeSegmentResults(inputs(b), OPTS);
    const d = result.cells[0]!.metrics!.delivery;
    const whole = wholeTotals(b);
    assert.equal(d.sent, 30);
    assert.equal(d.expected, whole.expected);
    assert.equal(d.expected, 30 * 6, 'each message owed to the 6 members of its room');
    assert.equal(d.lost, 2);
    assert.equal(d.lost, whole.lost);
    assert.equal(d.received, whole.received);
    assert.equal(d.misdelivered, 0);
    assert.equal(d.received + d.lost, d.expected);
    // A run that lost messages fails, as bench run does, and says so in its warnings.
    assert.equal(result.status, 'failed');
    assert.ok(result.cells[0]!.warnings.some((w) => w.code === 'delivery-errors'));
  });

  test('histograms are added: the merged latency is the histogram of every segment\'s values, exactly', () => {
    const segs = fakeSegmentResults(BASE);
    const result = mergeSegmentResults(segs.map((raw, i) => ({ name: `s${i}`, raw })), OPTS);
    const all = createLatencyHistogram();
    for (const s of segs) for (const w of s.workers) all.hdr.add(decodeHistogram(w.latencyEncoded).hdr);
    assert.deepEqual(result.cells[0]!.metrics!.latencyUs, summarizeHistogram(all));
    assert.equal(result.cells[0]!.metrics!.latencyUs.count, 30 * 6);
    // The time to the last recipient is per message over every segment: one value per message.
    assert.equal(result.cells[0]!.metrics!.lastRecipientUs!.count, 30);
    // Timelines are summed second by second.
    assert.equal(result.cells[0]!.raw!.timeline[0]!.receivedMsgs, 30 * 6);
    const h = createLatencyHistogram();
    recordUs(h, 1);
    assert.equal(summarizeHistogram(h).count, 1);
  });

  test('one completed cell of the case and server, the segments recorded, the server unobserved', () => {
    const result = mergeSegmentResults(inputs(BASE), OPTS);
    assert.equal(result.schemaVersion, 3);
    assert.equal(result.status, 'completed');
    assert.deepEqual(result.settings.runtimes, ['node-ws']);
    const cell = result.cells[0]!;
    assert.equal(cell.id, 'fake-broadcast/node-ws/1');
    assert.equal(cell.status, 'completed');
    assert.deepEqual(cell.warnings[0], { code: 'server-unobserved', reason: 'remote' });
    assert.equal(cell.metrics!.serverCpuUsPerMsg, null);
    assert.equal(cell.metrics!.loadgen.workers.length, 3);
    assert.deepEqual(cell.metrics!.loadgen.workers.map((w) => w.worker), [0, 1, 2], 'workers renumbered across segments');
    assert.equal(result.segments!.count, 3);
    assert.deepEqual(result.segments!.parts.map((p) => [p.index, p.firstConnId, p.connections, p.hostname]), [
      [0, 0, 4, 'load-0'],
      [1, 4, 4, 'load-1'],
      [2, 8, 4, 'load-2'],
    ]);
    assert.equal(result.environment.hostname, 'load-0,load-1,load-2');
    assert.equal(result.summary.length, 1);
  });

  test('the worst saturation verdict is kept, its workers renumbered', () => {
    const result = mergeSegmentResults(inputs({ ...BASE, saturated: [1] }), OPTS);
    const sat = result.cells[0]!.metrics!.loadgen.saturation;
    assert.equal(sat.saturated, true);
    assert.deepEqual(sat.reasons, [{ kind: 'cpu', cpus: '0', workers: [1], pct: 99 }]);
    assert.equal(result.cells[0]!.metrics!.throughputIsLowerBound, true);
    assert.deepEqual(worstSaturation([]), { saturated: false, reasons: [] });
  });

  test('clock offsets between segments are estimated from first arrivals of the same messages, and warned about', () => {
    // Segment 2's clock is 2 ms ahead: its deliveries of segment 0's messages look 2 ms slower.
    const result = mergeSegmentResults(inputs({ ...BASE, clockOffsetUs: (k) => (k === 2 ? 2000 : 0) }), OPTS);
    const offsets = result.segments!.offsets;
    const e02 = offsets.find((o) => o.from === 0 && o.to === 2)!;
    const e01 = offsets.find((o) => o.from === 0 && o.to === 1)!;
    // Up to the fan-out order (here the receiver's id, µs): within the estimate's own spread and a few µs.
    assert.ok(Math.abs(e02.offsetMs - 2) < 0.02, `0→2: ${e02.offsetMs}`);
    assert.ok(Math.abs(e01.offsetMs) < 0.02, `0→1: ${e01.offsetMs}`);
    assert.equal(e02.messages, 20, 'publishers 0–3 × 5 messages');
    const warned = result.cells[0]!.warnings.filter((w): w is Extract<Warning, { code: 'clock-offset' }> => w.code === 'clock-offset');
    assert.ok(warned.some((w) => w.basis === 'cross-segment' && w.segment === 2 && w.from === 0));
    assert.ok(!warned.some((w) => w.basis === 'cross-segment' && w.segment === 1 && w.from === 0));
  });

  test('clockWarnings: a late start or a stepped wall clock beyond 1% of the window, a cross-segment offset beyond 5% of p50 and its spread', () => {
    const parts = [
      { index: 0, readyMarginMs: 500, wallStepMs: 0 },
      { index: 1, readyMarginMs: -30, wallStepMs: 0 },
      { index: 2, readyMarginMs: 100, wallStepMs: 12 },
      { index: 3, readyMarginMs: -5, wallStepMs: -5 },
    ];
    const offsets = [
      { from: 0, to: 1, offsetMs: 0.07, spreadMs: 0.01, messages: 10 },
      { from: 0, to: 2, offsetMs: 0.04, spreadMs: 0.01, messages: 10 },
      // Beyond the bound but inside its own spread: the server's fan-out order, not a clock.
      { from: 0, to: 3, offsetMs: -0.3, spreadMs: 0.4, messages: 10 },
    ];
    const w = clockWarnings(parts, offsets, { latencyP50Us: 1000, windowMs: 1000 });
    assert.equal(CLOCK_BOUNDS.windowShare * 1000, 10);
    assert.deepEqual(
      w.map((x) => [x.code === 'clock-offset' ? x.basis : '', x.code === 'clock-offset' ? x.segment : -1]),
      [
        ['cross-segment', 1],
        ['late-start', 1],
        ['wall-step', 2],
      ],
    );
  });

  test('refuses a set that is not one run: a missing segment, a duplicate, another start, another case; and what is not a segment result', () => {
    const segs = fakeSegmentResults(BASE);
    const named = (list: unknown[]) => list.map((raw, i) => ({ name: `f${i}`, raw }));
    invalid(() => mergeSegmentResults(named([segs[0], segs[2]]), OPTS), /no result for segment 1\/3/);
    invalid(() => mergeSegmentResults(named([segs[0], segs[1], segs[1], segs[2]]), OPTS), /segment 1\/3 appears twice/);
    const other = fakeSegmentResults({ ...BASE, startAtMs: Date.UTC(2026, 0, 2) });
    invalid(() => mergeSegmentResults(named([segs[0], other[1], segs[2]]), OPTS), /--start-at/);
    invalid(() => mergeSegmentResults(named([{ ...segs[0], kind: 'something' }]), OPTS), /kind: must be "bench-segment-result"/);
    invalid(() => mergeSegmentResults(named([{ ...segs[0], workers: [] }]), OPTS), /workers: must be a non-empty list/);
    invalid(() => mergeSegmentResults(named([{ ...segs[0], case: 'nope' }]), OPTS), /case: "nope" is not a case/);
    assert.throws(() => mergeSegmentResults([], OPTS), (e) => isBenchError(e) && e.code === 'E_USAGE');
  });
});

describe('bench merge, then bench report, choose and compare read the merged result', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-merge-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cli = (argv: string[]) => runBench(argv, { cwd: dir });

  test('writes a result folder every reader accepts', async () => {
    const files = fakeSegmentResults(BASE).map((s, i) => {
      const f = path.join(dir, `seg${i}.json`);
      writeFileSync(f, JSON.stringify(s));
      return `seg${i}.json`;
    });
    const merged = await cli(['merge', ...files, '--out', 'merged']);
    assert.equal(merged.code, 0, merged.stderr);
    const result = JSON.parse(readFileSync(path.join(dir, 'merged', 'result.json'), 'utf8')) as RunResult;
    assert.equal(result.segments!.count, 3);
    assert.equal(result.cells[0]!.metrics!.delivery.expected, 180);
    for (const argv of [['report', 'merged'], ['report', 'merged', '--format', 'markdown'], ['choose', 'merged'], ['compare', 'merged', 'merged']]) {
      const r = await cli(argv);
      assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
      assert.ok(r.stdout.length > 0, `${argv.join(' ')} printed something`);
    }
  });

  test('a file that is not a segment result exits 2 naming it', async () => {
    writeFileSync(path.join(dir, 'junk.json'), '{"schemaVersion":1}');
    const r = await cli(['merge', 'junk.json', '--out', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /E_INVALID_RESULT.*junk\.json/);
  });
});
