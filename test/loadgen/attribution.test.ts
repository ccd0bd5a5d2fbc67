// Lateness attributed to its cause: a send held back because the server
// stopped reading is the server's latency, a send that left late because the
// generator was starved is the generator's limit. Both planted for real: a
// server that stops reading its sockets, and a generator sharing its CPU with
// busy processes. No assertion on a time: only on which side is blamed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import os from 'node:os';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { currentHost } from '../../core/host.js';
import { runLoad } from '../../loadgen/run.js';
import { judgeLoadgen } from '../../loadgen/saturation.js';
import type { LoadPlan } from '../../loadgen/types.js';
import { rateMissedWarning } from '../../loadgen/models/common.js';

const host = currentHost();

function plan(url: string, over: Partial<LoadPlan>): LoadPlan {
  return {
    url,
    connections: 4,
    load: { model: 'open', ratePerSec: 2000, arrivals: 'constant' },
    message: { kind: 'binary', size: { type: 'fixed', bytes: 16 } },
    warmupMs: 200,
    durationMs: 1500,
    drainTimeoutMs: 300,
    connect: { maxInFlight: 16, timeoutMs: 5000 },
    workers: 1,
    client: 'raw',
    seed: 1,
    ...over,
  };
}

describe('judgeLoadgen: who is blamed for late sends', () => {
  const base = { worker: 0, cpus: '1', cpuUs: 100_000, windowMs: 1000, spinWait: true };
  test('late sends on sockets the server left backed up are the server’s, not a generator limit', () => {
    const v = judgeLoadgen([{ ...base, eventLoopDelayP99Us: 30_000, schedule: { sent: 1000, late: 400, dropped: 0, held: 300 } }]);
    assert.equal(v.saturated, false);
    assert.deepEqual(
      v.heldByServer?.map((r) => r.kind),
      ['schedule', 'loop-delay'],
    );
  });
  test('late sends with the sockets flowing are the generator’s limit', () => {
    const v = judgeLoadgen([{ ...base, eventLoopDelayP99Us: 30_000, schedule: { sent: 1000, late: 400, dropped: 0, held: 0 } }]);
    assert.equal(v.saturated, true);
    assert.deepEqual(
      v.reasons.map((r) => r.kind),
      ['schedule', 'loop-delay'],
    );
    assert.equal(v.heldByServer, undefined);
  });
  test('a busy generator CPU stays the generator’s limit even while the server holds sends back', () => {
    const v = judgeLoadgen([{ ...base, spinWait: false, cpuUs: 950_000, eventLoopDelayP99Us: 1000, schedule: { sent: 1000, late: 0, dropped: 0, held: 500 } }]);
    assert.equal(v.saturated, true);
    assert.deepEqual(
      v.reasons.map((r) => r.kind),
      ['cpu'],
    );
  });
});

describe('lateness against real processes', () => {
  let wss: WebSocketServer;
  let stopReading = false;
  before(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 1 << 20 });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws: WebSocket) => {
      let first = true;
      ws.on('message', (data: Buffer, isBinary) => {
        // The slow server: after its first message it stops reading, as an overloaded server does.
        if (stopReading && first) (ws as unknown as { _socket: Socket })._socket.pause();
        first = false;
        ws.send(data, { binary: isBinary });
      });
      ws.on('error', () => {});
    });
  });
  after(() => {
    for (const c of wss.clients) c.terminate();
    return new Promise<void>((r) => wss.close(() => r()));
  });
  const url = () => `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/echo`;

  test('a server that stops reading: its sends are counted as held, and the rate-missed part is the server', async () => {
    stopReading = true;
    // 64 KiB messages fill the loopback buffers within the warmup, so the window's sends queue behind them.
    const r = await runLoad(plan(url(), { message: { kind: 'binary', size: { type: 'fixed', bytes: 65_536 } }, load: { model: 'open', ratePerSec: 400, arrivals: 'constant' } }), {
      nodePath: host.nodePath,
    });
    const ol = r.openLoop!;
    assert.ok((ol.held ?? 0) > 0.5 * ol.sent, `held ${ol.held} of ${ol.sent} sends`);
    assert.ok(!r.saturation.reasons.some((x) => x.kind === 'schedule' || x.kind === 'loop-delay'), JSON.stringify(r.saturation));
    const w = rateMissedWarning(r, r.delivery.received, 1500, { echoes: true });
    assert.equal(w?.code, 'rate-missed');
    assert.equal(w?.code === 'rate-missed' && w.part, 'server-reads');
  });

  test('a generator starved of CPU: its late sends are its own limit, none held by the server', { skip: os.availableParallelism() < 2 }, async () => {
    stopReading = false;
    // Three busy processes on the generator's CPU, each bounded in time: the generator gets a quarter of it.
    const busy: ChildProcess[] = [];
    for (let i = 0; i < 3; i++) {
      busy.push(spawn('taskset', ['-c', '1', host.nodePath, '-e', 'const end = Date.now() + 8000; while (Date.now() < end);'], { stdio: 'ignore' }));
    }
    try {
      const r = await runLoad(plan(url(), { cpus: '1' }), { nodePath: host.nodePath });
      const ol = r.openLoop!;
      assert.equal(ol.held ?? 0, 0);
      assert.equal(r.saturation.saturated, true, JSON.stringify(r.saturation));
      assert.ok(r.saturation.reasons.some((x) => x.kind === 'schedule'));
      assert.equal(r.saturation.heldByServer, undefined);
    } finally {
      for (const b of busy) b.kill('SIGKILL');
    }
  });
});
