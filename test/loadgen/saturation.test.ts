import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { busiestLoadgenCpuPct, judgeLoadgen, type LoadgenSample } from '../../loadgen/saturation.js';
import { describeSaturationReason } from '../../report/warnings.js';

const w = (o: Partial<LoadgenSample>): LoadgenSample => ({ worker: 0, cpus: '1', cpuUs: 500_000, windowMs: 1000, eventLoopDelayP99Us: 100, spinWait: false, ...o });

describe('judgeLoadgen: the one saturation verdict', () => {
  test('two workers on one CPU at ~50% each are a full core, not two half-idle workers', () => {
    // Judging each worker alone (the old runLoad rule) called this 50% and left the cell unflagged.
    const v = judgeLoadgen([w({ worker: 0, cpuUs: 480_000 }), w({ worker: 1, cpuUs: 470_000 })]);
    assert.equal(v.saturated, true);
    assert.deepEqual(v.reasons, [{ kind: 'cpu', cpus: '1', workers: [0, 1], pct: 95 }]);
  });

  test('workers on CPUs of their own are judged one CPU list at a time', () => {
    assert.equal(judgeLoadgen([w({ worker: 0, cpus: '1', cpuUs: 480_000 }), w({ worker: 1, cpus: '2', cpuUs: 470_000 })]).saturated, false);
  });

  test('a shared list of two CPUs holds two busy workers', () => {
    const v = judgeLoadgen([w({ worker: 0, cpus: '1-2', cpuUs: 950_000 }), w({ worker: 1, cpus: '1-2', cpuUs: 950_000 })]);
    assert.deepEqual(v.reasons, [{ kind: 'cpu', cpus: '1-2', workers: [0, 1], pct: 95 }]);
  });

  test('an unpinned worker is judged alone against one core', () => {
    assert.deepEqual(judgeLoadgen([w({ cpus: null, cpuUs: 920_000 })]).reasons, [{ kind: 'cpu', cpus: null, workers: [0], pct: 92 }]);
  });

  test('event-loop delay and the schedule decide too; a spin-waiting worker only by its schedule', () => {
    assert.deepEqual(judgeLoadgen([w({ eventLoopDelayP99Us: 25_000 })]).reasons, [{ kind: 'loop-delay', worker: 0, p99Us: 25_000 }]);
    assert.equal(judgeLoadgen([w({ spinWait: true, cpuUs: 1_000_000, schedule: { sent: 1000, late: 5, dropped: 0 } })]).saturated, false);
    assert.equal(judgeLoadgen([w({ spinWait: true, cpuUs: 1_000_000, schedule: { sent: 1000, late: 50, dropped: 0 } })]).reasons[0]!.kind, 'schedule');
    assert.equal(judgeLoadgen([w({ spinWait: true, schedule: { sent: 1000, late: 0, dropped: 1 } })]).saturated, true);
    assert.equal(judgeLoadgen([]).saturated, false);
  });

  test('the busiest CPU list, and the words for each reason', () => {
    assert.equal(busiestLoadgenCpuPct([w({ cpuUs: 300_000 }), w({ worker: 1, cpuUs: 300_000 }), w({ worker: 2, cpus: '2', cpuUs: 700_000 })]), 70);
    assert.match(describeSaturationReason({ kind: 'cpu', cpus: '1', workers: [0, 1], pct: 95 }), /CPU 1 at 95% \(workers 0, 1\)/);
    assert.match(describeSaturationReason({ kind: 'schedule', worker: 2, sent: 1000, late: 50, dropped: 3 }), /worker 2 .*5\.0% of sends late, 3 dropped/);
  });
});
