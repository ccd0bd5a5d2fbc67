// Which part of the machine an open loop's shortfall belongs to (core/metrics.ts offeredInFull): a throughput
// the generator limited is a lower bound, never a server's rate "carried".
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { offeredInFull } from '../../core/metrics.js';
import type { OpenLoopCounts, SaturationReason } from '../../schema/result.js';

const counts = (o: Partial<OpenLoopCounts> = {}): OpenLoopCounts => ({ targetPerSec: 200, intended: 200, sent: 200, late: 0, dropped: 0, ...o });
const load = (openLoop: OpenLoopCounts, reasons: SaturationReason[] = [], heldByServer?: SaturationReason[]) => ({
  openLoop,
  saturation: { saturated: reasons.length > 0, reasons, ...(heldByServer ? { heldByServer } : {}) },
});

describe('offeredInFull', () => {
  test('every send on time: offered in full', () => {
    assert.equal(offeredInFull(load(counts())), true);
  });

  test('sends dropped, too few sent, or a generator at full CPU: not offered in full', () => {
    assert.equal(offeredInFull(load(counts({ dropped: 1 }), [{ kind: 'schedule', worker: 0, sent: 199, late: 0, dropped: 1 }])), false);
    assert.equal(offeredInFull(load(counts({ sent: 190 }))), false);
    assert.equal(offeredInFull(load(counts(), [{ kind: 'cpu', cpus: '1', workers: [0], pct: 99 }])), false);
  });

  test("sends the generator's own stall made late carry their replies past the window: not offered in full", () => {
    // Seen: 54 of 200 sends late after a ~70 ms stall, 189 replies in the window.
    assert.equal(offeredInFull(load(counts({ late: 54 }), [{ kind: 'schedule', worker: 0, sent: 200, late: 54, dropped: 0 }])), false);
  });

  test('lateness the server caused (sockets it stopped reading) is not the generator\'s: offered in full, the shortfall the server\'s', () => {
    const held: SaturationReason = { kind: 'schedule', worker: 0, sent: 200, late: 54, dropped: 0, held: 120 };
    assert.equal(offeredInFull(load(counts({ late: 54, held: 120 }), [], [held])), true);
  });
});
