import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { currentHost } from '../../core/host.js';
import type { Problems } from '../../base/validate.js';
import type { WorkerBeatReport, WorkerStepReport } from '../../loadgen/ceiling.js';
import { mergeBeatReports, mergeStepReports, openCeilingSession } from '../../loadgen/ceiling-run.js';
import { createLatencyHistogram, encodeHistogram, recordUs } from '../../loadgen/histogram.js';
import { CEILING_DEFAULTS, ceiling, describeCeiling } from '../../loadgen/models/ceiling.js';

const validate = ceiling.validate;
import type { CeilingModel, LoadPlan } from '../../loadgen/types.js';

describe('ceiling model: validation', () => {
  const check = (raw: Record<string, unknown>) => {
    const problems: Problems = [];
    return { models: validate({ model: 'ceiling', ...raw }, 'load', problems), problems };
  };

  test('fills every default around the required steps', () => {
    const { models, problems } = check({ steps: 5 });
    assert.deepEqual(problems, []);
    assert.deepEqual(models, [{ model: 'ceiling', steps: 5, ...CEILING_DEFAULTS }]);
  });

  test('takes a null heartbeat (memory only) and a null memory budget', () => {
    const { models, problems } = check({ steps: 2, heartbeat: null, slo: { memoryBudgetMiB: null, heartbeatP99Ms: 20 } });
    assert.deepEqual(problems, []);
    assert.equal(models[0]!.heartbeat, null);
    assert.equal(models[0]!.slo.memoryBudgetMiB, null);
    assert.equal(models[0]!.slo.heartbeatP99Ms, 20);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['steps missing', {}, /^load\.steps: is required$/],
    ['steps not whole', { steps: 2.5 }, /^load\.steps: must be a whole number/],
    ['unknown key', { steps: 2, stepz: 1 }, /^load\.stepz: unknown key/],
    ['unknown heartbeat kind', { steps: 2, heartbeat: { kind: 'poke' } }, /^load\.heartbeat\.kind: must be one of "echo", "ping"/],
    ['a ping payload above 125 bytes', { steps: 2, heartbeat: { kind: 'ping', bytes: 200 } }, /^load\.heartbeat\.bytes: must be at most 125/],
    ['a heartbeat too small to carry its send time', { steps: 2, heartbeat: { bytes: 8 } }, /^load\.heartbeat\.bytes: must be at least 16/],
    ['an error ratio above 1', { steps: 2, slo: { maxErrorRatio: 2 } }, /^load\.slo\.maxErrorRatio: must be at most 1/],
    ['an unknown SLO key', { steps: 2, slo: { p99: 1 } }, /^load\.slo\.p99: unknown key/],
    ['a settle timeout shorter than its window', { steps: 2, settle: { windowMs: 1000, timeoutMs: 500 } }, /^load\.settle\.timeoutMs: must be at least settle\.windowMs \(1000\)/],
    ['a negative margin', { steps: 2, stopShortOfFdLimitBy: -5 }, /^load\.stopShortOfFdLimitBy: must be at least 0/],
    ['too many source addresses', { steps: 2, sourceAddresses: 300 }, /^load\.sourceAddresses: must be at most 250/],
  ];
  for (const [what, raw, re] of bad) {
    test(`names the field: ${what}`, () => {
      const { models, problems } = check(raw);
      assert.deepEqual(models, []);
      assert.ok(problems.some((p) => re.test(p)), JSON.stringify(problems));
    });
  }

  test('describes itself in one line', () => {
    assert.equal(
      describeCeiling({ model: 'ceiling', steps: 10, ...CEILING_DEFAULTS }),
      '10 steps, echo heartbeat of 16 B every 1000 ms per connection; SLO: heartbeat p99 ≤ 50 ms, errors ≤ 0.1%, server CPU < 95%',
    );
  });
});

describe('ceiling session: merging worker reports', () => {
  const hist = (...us: number[]) => {
    const h = createLatencyHistogram();
    for (const v of us) recordUs(h, v);
    return encodeHistogram(h);
  };
  const step = (o: Partial<WorkerStepReport>): WorkerStepReport => ({
    worker: 0, open: 0, attempted: 0, opened: 0, failed: 0, closedByUs: 0, errors: {}, errnos: {}, drops: 0, connectMs: 0, connectEncoded: hist(), aborted: false, ...o,
  });
  const beat = (o: Partial<WorkerBeatReport>): WorkerBeatReport => ({
    worker: 0, open: 0, sent: 0, received: 0, scheduled: 0, late: 0, dropped: 0, maxLagUs: 0, latencyEncoded: hist(), drops: 0, errors: {}, errnos: {}, cpuUs: 0, windowMs: 1000, eventLoopDelayP99Us: 100, eventLoopDelayMaxUs: 200, ...o,
  });

  test('steps: counts add up, the slowest worker sets the time, histograms merge', () => {
    const m = mergeStepReports(300, [
      step({ worker: 0, open: 150, attempted: 150, opened: 150, connectMs: 40, connectEncoded: hist(100, 200), errnos: { EMFILE: 1 } }),
      step({ worker: 1, open: 148, attempted: 150, opened: 148, failed: 2, errors: { timeout: 2 }, connectMs: 90, connectEncoded: hist(300), aborted: true, errnos: { EMFILE: 2 } }),
    ]);
    assert.equal(m.open, 298);
    assert.equal(m.failed, 2);
    assert.equal(m.connectMs, 90);
    assert.equal(m.connect.count, 3);
    assert.deepEqual(m.errors, { timeout: 2 });
    assert.deepEqual(m.errnos, { EMFILE: 3 });
    assert.equal(m.aborted, true);
  });

  test('beats: lost = sent − received; saturated when behind schedule or when workers sharing a CPU use it up', () => {
    const ok = mergeBeatReports([beat({ worker: 0, sent: 1000, received: 990, late: 5, cpuUs: 300_000, latencyEncoded: hist(500, 900) }), beat({ worker: 1, sent: 1000, received: 1000, cpuUs: 300_000 })], () => '1');
    assert.equal(ok.lost, 10);
    assert.equal(ok.latency.count, 2);
    assert.equal(ok.saturation.saturated, false);
    assert.equal(Math.round(ok.loadgenCpuPct), 60);
    const late = mergeBeatReports([beat({ sent: 1000, received: 1000, scheduled: 1000, late: 50 })], () => '1');
    assert.deepEqual(late.saturation.reasons[0], { kind: 'schedule', worker: 0, sent: 1000, late: 50, dropped: 0 });
    const cpu = mergeBeatReports([beat({ worker: 0, cpuUs: 500_000 }), beat({ worker: 1, cpuUs: 450_000 })], () => '1');
    assert.deepEqual(cpu.saturation.reasons[0], { kind: 'cpu', cpus: '1', workers: [0, 1], pct: 95 });
    const apart = mergeBeatReports([beat({ worker: 0, cpuUs: 500_000 }), beat({ worker: 1, cpuUs: 450_000 })], (w) => String(w + 1));
    assert.equal(apart.saturation.saturated, false, 'workers on their own CPUs are judged one by one');
  });
});

describe('ceiling session against a server', () => {
  let wss: WebSocketServer;
  let url: string;
  before(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    wss.on('connection', (ws) => ws.on('message', (d, binary) => ws.send(d, { binary })));
    await new Promise((r) => wss.once('listening', r));
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/echo`;
  });
  after(() => new Promise((r) => wss.close(r)));

  const plan = (load: Partial<CeilingModel> = {}): LoadPlan => ({
    url,
    connections: 300,
    load: { model: 'ceiling', steps: 3, ...CEILING_DEFAULTS, heartbeat: { kind: 'echo', intervalMs: 100, bytes: 32 }, ...load },
    message: { kind: 'binary', size: { type: 'fixed', bytes: 16 } },
    warmupMs: 0,
    durationMs: 500,
    drainTimeoutMs: 500,
    connect: { maxInFlight: 32, timeoutMs: 3000 },
    workers: 2,
    client: 'raw',
    seed: 1,
  });

  for (const kind of ['echo', 'ping'] as const) {
    test(`opens, holds, beats (${kind}) and closes connections over two workers`, async () => {
      const s = await openCeilingSession(plan({ heartbeat: { kind, intervalMs: 100, bytes: 32 } }), { nodePath: currentHost().nodePath, maxConnectionsPerWorker: 150 });
      try {
        assert.equal(s.workers, 2);
        assert.equal(s.capacity, 300);
        const up = await s.step(250);
        assert.equal(up.open, 250);
        assert.equal(up.opened, 250);
        assert.equal(up.connect.count, 250);
        assert.equal(wss.clients.size, 250);
        const b = await s.beat(100, 500);
        // 250 connections, one heartbeat per 100 ms each, over 500 ms: about 1,250 in the window, all back.
        assert.ok(b.sent >= 1100 && b.sent <= 1300, String(b.sent));
        assert.equal(b.received, b.sent);
        assert.equal(b.lost, 0);
        assert.equal(b.latency.count, b.sent);
        assert.equal(b.open, 250);
        const down = await s.step(100);
        assert.equal(down.closedByUs, 150);
        assert.equal(down.open, 100);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(wss.clients.size, 100, 'the server saw the closed connections go');
        await assert.rejects(s.step(301), /holds at most 300/);
      } finally {
        await s.close();
      }
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(wss.clients.size, 0, 'closing the session drops every connection');
    });
  }

  test('counts connections the server drops', async () => {
    const s = await openCeilingSession(plan(), { nodePath: currentHost().nodePath });
    try {
      await s.step(50);
      let n = 0;
      for (const c of wss.clients) if (n++ < 10) c.terminate();
      const b = await s.beat(0, 300);
      assert.equal(b.drops, 10);
      assert.equal(b.open, 40);
    } finally {
      await s.close();
    }
  });
});
