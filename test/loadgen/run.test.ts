import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { currentHost } from '../../core/host.js';
import { startServer, stopAllServers } from '../../core/launcher.js';
import { RUNTIME_IDS, isBareRuntimeId, probeRuntimes } from '../../core/runtimes.js';
import { mergeTimelines, runLoad } from '../../loadgen/run.js';
import { splitConnections } from '../../loadgen/pool.js';
import type { LoadPlan } from '../../loadgen/types.js';

const host = currentHost();
after(() => stopAllServers());

function plan(url: string, over: Partial<LoadPlan> = {}): LoadPlan {
  return {
    url,
    connections: 4,
    load: { model: 'closed', depth: 4 },
    message: { kind: 'binary', size: { type: 'fixed', bytes: 128 } },
    warmupMs: 200,
    durationMs: 1000,
    drainTimeoutMs: 1000,
    connect: { maxInFlight: 16, timeoutMs: 5000 },
    workers: 1,
    client: 'raw',
    seed: 1,
    ...over,
  };
}

describe('coordinator: pure parts', () => {
  test('splitConnections spreads evenly and never puts more than the cap in one worker', () => {
    assert.deepEqual(splitConnections(10, 3, 19_000), [4, 3, 3]);
    assert.deepEqual(splitConnections(40_000, 1, 19_000), [13334, 13333, 13333]);
    assert.deepEqual(splitConnections(0, 2, 19_000), [0, 0]);
  });

  test('mergeTimelines sums bucket by bucket', () => {
    const b = (second: number, n: number) => ({ second, sentMsgs: n, receivedMsgs: n, sentBytes: n, receivedBytes: n });
    assert.deepEqual(mergeTimelines([[b(0, 1), b(1, 2)], [b(1, 3), b(2, 4)]]), [b(0, 1), b(1, 5), b(2, 4)]);
  });
});

describe('delivery accounting against a misbehaving server', () => {
  // Per connection, message i (1-based): every 10th dropped, else every 7th sent twice, else every 13th corrupted.
  // The drain waits its whole timeout (dropped messages never come back), long enough that nothing else is lost on a busy machine.
  const counts = { received: 0, dropped: 0, duplicated: 0, corrupted: 0 };
  let wss: WebSocketServer;
  before(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', onConnection);
  });
  const onConnection = (ws: import('ws').WebSocket) => {
    let i = 0;
    ws.on('message', (data: Buffer, isBinary) => {
      i++;
      counts.received++;
      if (i % 10 === 0) {
        counts.dropped++;
        return;
      }
      if (i % 7 === 0) {
        counts.duplicated++;
        ws.send(data, { binary: isBinary });
      } else if (i % 13 === 0) {
        counts.corrupted++;
        data[data.length - 1] = data[data.length - 1]! ^ 0xff;
      }
      ws.send(data, { binary: isBinary });
    });
  };
  after(() => new Promise<void>((r) => wss.close(() => r())));

  for (const client of ['raw', 'ws'] as const) {
    test(`counts lost, duplicated and corrupted exactly (${client} client)`, async () => {
      counts.received = counts.dropped = counts.duplicated = counts.corrupted = 0;
      const port = (wss.address() as AddressInfo).port;
      const r = await runLoad(
        plan(`ws://127.0.0.1:${port}/echo`, { client, load: { model: 'open', ratePerSec: 2000, arrivals: 'constant' }, warmupMs: 0, durationMs: 600, drainTimeoutMs: 2000 }),
        { nodePath: host.nodePath },
      );
      const d = r.delivery;
      assert.ok(counts.received > 500, `the server saw ${counts.received} messages`);
      assert.equal(d.sent, counts.received, 'every sent message reached the server');
      assert.equal(d.lost, counts.dropped);
      assert.equal(d.duplicated, counts.duplicated);
      assert.equal(d.corrupted, counts.corrupted);
      assert.equal(d.outOfOrder, 0);
      assert.equal(d.received, counts.received - counts.dropped + counts.duplicated);
    });
  }
});

describe('a short real run against every runtime', async () => {
  const usable = (await probeRuntimes(host)).filter((s) => s.usable).map((s) => s.id);
  test('every runtime in the registry is usable here', () => assert.deepEqual(usable, [...RUNTIME_IDS]));
  // The bare servers speak plain WebSocket to both clients; the stacks have their own run (test/core/stacks-run.test.ts).
  // Half a second of window: what is checked is counts (zero errors, every member reached), not rates.
  const short = { warmupMs: 100, durationMs: 500 };
  for (const runtime of usable.filter(isBareRuntimeId)) {
    test(`${runtime}: echo and broadcast with zero delivery errors, raw and ws clients agreeing on the count`, async () => {
      const server = await startServer({ runtime, hostInfo: host });
      try {
        for (const client of ['raw', 'ws'] as const) {
          const r = await runLoad(plan(`ws://127.0.0.1:${server.port}/echo`, { client, ...short }), { nodePath: host.nodePath });
          const d = r.delivery;
          assert.ok(r.timeline.reduce((a, b) => a + b.receivedMsgs, 0) > 0, `${client}: nonzero throughput`);
          assert.deepEqual([d.lost, d.duplicated, d.corrupted, d.outOfOrder, d.expected], [0, 0, 0, 0, d.sent], `${client}: ${JSON.stringify(d)}`);
          assert.deepEqual(r.errors, {});
        }
        const b = await runLoad(
          plan(`ws://127.0.0.1:${server.port}/broadcast`, {
            connections: 12,
            load: { model: 'broadcast', publishers: 3, ratePerSecPerPublisher: 50, rooms: 2 },
            message: { kind: 'text', size: { type: 'fixed', bytes: 200 } },
            ...short,
          }),
          { nodePath: host.nodePath },
        );
        const d = b.delivery;
        assert.ok(d.sent > 0 && d.expected === d.sent * 6, `each message reaches the 6 members of its room: ${JSON.stringify(d)}`);
        assert.deepEqual([d.lost, d.duplicated, d.corrupted, d.outOfOrder], [0, 0, 0, 0]);
        assert.ok(b.lastRecipient && b.lastRecipient.count > 0);
      } finally {
        await server.stop();
      }
    });
  }
});
