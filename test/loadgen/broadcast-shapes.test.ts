import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { currentHost } from '../../core/host.js';
import { startServer, stopAllServers } from '../../core/launcher.js';
import { probeRuntimes, type RuntimeId } from '../../core/runtimes.js';
import { isSlowConsumerId, readSlice } from '../../loadgen/broadcast-shapes.js';
import { runLoad } from '../../loadgen/run.js';
import type { BroadcastModel, LoadPlan, LoadResult } from '../../loadgen/types.js';

const host = currentHost();
after(() => stopAllServers());

function plan(port: number, connections: number, load: BroadcastModel, over: Partial<LoadPlan> = {}): LoadPlan {
  return {
    url: `ws://127.0.0.1:${port}/broadcast`,
    connections,
    load,
    message: { kind: 'binary', size: { type: 'fixed', bytes: 200 } },
    warmupMs: 200,
    durationMs: 2000,
    drainTimeoutMs: 3000,
    connect: { maxInFlight: 16, timeoutMs: 5000 },
    workers: 2,
    client: 'raw',
    seed: 1,
    ...over,
  };
}

async function against(runtime: RuntimeId, fn: (port: number) => Promise<void>): Promise<void> {
  const server = await startServer({ runtime, port: 0, host: '127.0.0.1', hostInfo: host });
  try {
    await fn(server.port);
  } finally {
    await server.stop();
  }
}

function assertNoDeliveryErrors(r: LoadResult) {
  const d = r.delivery;
  assert.deepEqual({ lost: d.lost, duplicated: d.duplicated, outOfOrder: d.outOfOrder, corrupted: d.corrupted }, { lost: 0, duplicated: 0, outOfOrder: 0, corrupted: 0 }, JSON.stringify(d));
}

describe('broadcast shapes: pure parts', () => {
  test('slow consumers are the last ids, never publishers, one per room when there are as many rooms', () => {
    const p = plan(1, 12, { model: 'broadcast', publishers: 2, ratePerSecPerPublisher: 1, rooms: 3, slowConsumers: { count: 3, readBytesPerSec: 100 } });
    assert.deepEqual(Array.from({ length: 14 }, (_, id) => id).filter((id) => isSlowConsumerId(id, p.load as BroadcastModel, p.connections)), [9, 10, 11]);
    assert.deepEqual([9, 10, 11].map((id) => id % 3).sort(), [0, 1, 2]);
    assert.equal(isSlowConsumerId(9, { model: 'broadcast', publishers: 2, ratePerSecPerPublisher: 1, rooms: 3 }, p.connections), false);
  });

  test('a read slice grants about 50 ms of the rate, at least one byte', () => {
    assert.deepEqual(readSlice(8192), { sliceMs: (410 / 8192) * 1000, sliceBytes: 410 });
    assert.deepEqual(readSlice(4), { sliceMs: 250, sliceBytes: 1 });
  });
});

describe('broadcast shapes against node-ws', () => {
  test('chat: every connection publishes in bursts into one room; nothing lost, duplicated or reordered', async () => {
    await against('node-ws', async (port) => {
      const r = await runLoad(
        plan(port, 30, { model: 'broadcast', publishers: 30, ratePerSecPerPublisher: 2, rooms: 1, burst: { probability: 0.5, messages: 4, gapMs: 50 } }),
        { nodePath: host.nodePath },
      );
      assertNoDeliveryErrors(r);
      const d = r.delivery;
      assert.equal(d.expected, d.sent * 30, 'every message reaches all 30 members');
      // 30 publishers × 2 arrivals/s over warmup + window (2.2 s) = 132 arrivals, each of 1 or 4 messages.
      const arrivals = 132;
      const scheduled = r.workers.reduce((a, w) => a + (w.schedule?.sent ?? 0), 0);
      const dropped = r.workers.reduce((a, w) => a + (w.schedule?.dropped ?? 0), 0);
      // The schedule's counts are the measured window's (warmup excluded), a part of every message sent.
      assert.ok(scheduled > 0 && scheduled < d.sent, `${scheduled} scheduled in the window of ${d.sent} sent`);
      assert.equal(dropped, 0);
      assert.ok(d.sent > arrivals && d.sent <= arrivals * 4, `${d.sent} messages from ${arrivals} arrivals: bursts add messages, at most 4 each`);
      assert.equal(r.churn, undefined);
      assert.equal(r.slowConsumers, undefined);
    });
  });

  test('dashboard: subscribers leave and rejoin as new connections; every membership gets every message in it', async () => {
    await against('node-ws', async (port) => {
      const r = await runLoad(
        plan(port, 60, { model: 'broadcast', publishers: 6, ratePerSecPerPublisher: 20, rooms: 3, churn: { leavesPerSec: 10, rejoinAfterMs: 100 } }),
        { nodePath: host.nodePath },
      );
      assertNoDeliveryErrors(r);
      const c = r.churn!;
      assert.ok(c.leaves > 0 && c.rejoins > 0, JSON.stringify(c));
      assert.equal(c.failedRejoins, 0);
      assert.ok(c.rejoins <= c.leaves);
      assert.ok(r.delivery.expected > 0);
      assert.deepEqual(r.errors, {});
    });
  });

  test('slow consumers: fast members lose nothing; the server drops for the slow ones, and their count adds up', async () => {
    await against('node-ws', async (port) => {
      const r = await runSlow(port);
      assertNoDeliveryErrors(r);
      const s = r.slowConsumers!;
      assert.equal(s.count, 2);
      assert.equal(s.readBytesPerSec, 8192);
      assert.equal(s.expected, 2 * r.delivery.sent, 'each slow consumer is owed every message of the one room');
      assert.equal(s.received + s.missing, s.expected);
      assert.ok(s.missing > 0 || s.closedByServer > 0, JSON.stringify(s));
      // Fast members: the 10 others, every message each.
      assert.equal(r.delivery.expected, 10 * r.delivery.sent);
    });
  });
});

/**
 * 12 connections in one room, 2 publishers at 300/s of 4 KB each, 2 slow consumers reading 8 KiB/s, 3 s: long
 * enough that node-ws must drop or close for the slow ones. The count adds up over any window.
 */
function runSlow(port: number, durationMs = 3000): Promise<LoadResult> {
  return runLoad(
    plan(
      port,
      12,
      { model: 'broadcast', publishers: 2, ratePerSecPerPublisher: 300, rooms: 1, slowConsumers: { count: 2, readBytesPerSec: 8192 } },
      { message: { kind: 'binary', size: { type: 'fixed', bytes: 4096 } }, durationMs, drainTimeoutMs: 15_000 },
    ),
    { nodePath: host.nodePath },
  );
}

describe('slow consumers on the other runtimes: whatever each does, the count adds up', async () => {
  const usable = new Set((await probeRuntimes(host)).filter((s) => s.usable).map((s) => s.id));
  for (const runtime of ['bun', 'node-uws'] as const) {
    test(`${runtime}: received + missing = expected`, { skip: usable.has(runtime) ? false : `${runtime} is not usable here` }, async (t) => {
      await against(runtime, async (port) => {
        // A second of window: only the accounting is asserted (what each runtime does at the longer window of
        // the slow-consumer scenario is reported by test/scenarios/real-shapes.test.ts, on every runtime).
        const r = await runSlow(port, 1000);
        const s = r.slowConsumers!;
        assert.equal(s.count, 2);
        assert.equal(s.received + s.missing, s.expected);
        assert.equal(s.expected, 2 * r.delivery.sent);
        // What the runtime did is the finding, not an assertion: kept in the test's output.
        t.diagnostic(`slow consumers: ${JSON.stringify({ ...s, latency: { count: s.latency.count } })}; fast members: ${JSON.stringify(r.delivery)}`);
      });
    });
  }
});
