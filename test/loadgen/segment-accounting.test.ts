import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeliveryAccounting, resolveDeferred, sumDeliveryTotals, type DeferredStreams, type DeliveryTotals } from '../../loadgen/accounting.js';
import { segmentOfId, segmentRange } from '../../loadgen/segment.js';
import { mulberry32 } from '../../stats/random.js';

/**
 * Delivery accounting split over load segments is exact: a broadcast whose receivers live in N segments, each
 * accounting for its own receivers with only its own publishers' sent counts and deferring the others', adds up
 * (after resolveDeferred with every count) to exactly what one accounting of every receiver with every count
 * gives. Random broadcasts with losses, duplicates, misdeliveries, part-time members (churn) and silent publishers.
 */

interface Arrival {
  sender: number;
  receiver: number;
  seq: number;
  bodyOk: boolean;
}

interface Case {
  total: number;
  n: number;
  rooms: number;
  publishers: number;
  sent: Map<number, number>;
  partial: Set<number>;
  arrivals: Arrival[];
}

function randomCase(rand: () => number): Case {
  const total = 2 + Math.floor(rand() * 40);
  const n = 1 + Math.floor(rand() * Math.min(total, 6));
  const rooms = 1 + Math.floor(rand() * 4);
  const publishers = 1 + Math.floor(rand() * total);
  const sent = new Map<number, number>();
  // A publisher that sent nothing is absent, as the coordinator's counts leave it out.
  for (let s = 0; s < publishers; s++) {
    const k = Math.floor(rand() * 12);
    if (k > 0) sent.set(s, k);
  }
  const partial = new Set<number>();
  for (let r = publishers; r < total; r++) if (rand() < 0.2) partial.add(r);
  const arrivals: Arrival[] = [];
  for (const [s, k] of sent) {
    for (let r = 0; r < total; r++) {
      if (r % rooms !== s % rooms) continue;
      // A part-time member heard a slice of the stream.
      const lo = partial.has(r) ? Math.floor(rand() * (k + 2)) : 0;
      const hi = partial.has(r) ? lo + Math.floor(rand() * k) : k - 1;
      for (let q = lo; q <= Math.min(hi, k - 1); q++) {
        if (rand() < 0.1) continue; // lost
        arrivals.push({ sender: s, receiver: r, seq: q, bodyOk: rand() > 0.03 });
        if (rand() < 0.05) arrivals.push({ sender: s, receiver: r, seq: q, bodyOk: true }); // duplicated
      }
      // Beyond what was sent: unexpected.
      if (rand() < 0.03) arrivals.push({ sender: s, receiver: r, seq: k + 3, bodyOk: true });
    }
    // Misdelivered to another room's member.
    if (rooms > 1 && rand() < 0.3) arrivals.push({ sender: s, receiver: (s + 1) % total, seq: 0, bodyOk: true });
  }
  // From a connection that never published (not in the counts anywhere).
  if (publishers < total && rand() < 0.3) arrivals.push({ sender: publishers, receiver: 0, seq: 0, bodyOk: true });
  // Shuffled, so reordering is exercised too.
  for (let i = arrivals.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [arrivals[i], arrivals[j]] = [arrivals[j]!, arrivals[i]!];
  }
  return { total, n, rooms, publishers, sent, partial, arrivals };
}

const members = (c: Case, sender: number, range: { first: number; count: number }) => {
  const out: number[] = [];
  for (let r = range.first; r < range.first + range.count; r++) if (r % c.rooms === sender % c.rooms) out.push(r);
  return out;
};

function whole(c: Case): DeliveryTotals {
  const acc = new DeliveryAccounting(32);
  for (const a of c.arrivals) acc.record(a.sender, a.receiver, a.seq, a.bodyOk);
  return acc.finish(c.sent, (s) => members(c, s, { first: 0, count: c.total }), c.partial.size > 0 ? (r) => c.partial.has(r) : undefined);
}

function segmented(c: Case): DeliveryTotals {
  const parts: DeliveryTotals[] = [];
  const deferred: DeferredStreams[] = [];
  for (let k = 0; k < c.n; k++) {
    const range = segmentRange(c.total, { index: k, count: c.n });
    const acc = new DeliveryAccounting(32);
    for (const a of c.arrivals) if (segmentOfId(a.receiver, c.total, c.n) === k) acc.record(a.sender, a.receiver, a.seq, a.bodyOk);
    const local = new Map([...c.sent].filter(([s]) => s >= range.first && s < range.first + range.count));
    const remote: number[] = [];
    for (let s = 0; s < c.publishers; s++) if (s < range.first || s >= range.first + range.count) remote.push(s);
    const recipientsOf = (s: number) => members(c, s, range);
    const isPartial = c.partial.size > 0 ? (r: number) => c.partial.has(r) : undefined;
    parts.push(acc.finish(local, recipientsOf, isPartial, remote));
    deferred.push(...acc.deferStreams(remote, recipientsOf, isPartial));
  }
  const sum = sumDeliveryTotals(parts);
  const r = resolveDeferred(deferred, c.sent);
  return { ...sum, expected: sum.expected + r.expected, lost: sum.lost + r.lost, unexpected: sum.unexpected + r.unexpected, streamsWithLoss: sum.streamsWithLoss + r.streamsWithLoss };
}

describe('delivery accounting over load segments', () => {
  test('segments with deferred streams, resolved with every count, equal one accounting of all receivers (random broadcasts)', () => {
    const rand = mulberry32(16);
    let withDeferred = 0;
    for (let trial = 0; trial < 400; trial++) {
      const c = randomCase(rand);
      if (c.n > 1) withDeferred++;
      assert.deepEqual(segmented(c), whole(c), `trial ${trial}: ${c.total} connections, ${c.n} segments, ${c.rooms} rooms, ${c.publishers} publishers`);
    }
    assert.ok(withDeferred > 200, 'most trials split the receivers');
  });

  test('a message published in segment 0 and lost at a member in segment 2 is one lost delivery, counted once', () => {
    // 6 connections in 3 segments of 2, one room, publisher 0 sends 3 messages; member 5 (segment 2) misses seq 1.
    const c: Case = { total: 6, n: 3, rooms: 1, publishers: 1, sent: new Map([[0, 3]]), partial: new Set(), arrivals: [] };
    for (let r = 0; r < 6; r++) for (let q = 0; q < 3; q++) if (!(r === 5 && q === 1)) c.arrivals.push({ sender: 0, receiver: r, seq: q, bodyOk: true });
    const t = segmented(c);
    assert.equal(t.expected, 18);
    assert.equal(t.lost, 1);
    assert.equal(t.streamsWithLoss, 1);
    assert.equal(t.unexpected, 0);
    assert.deepEqual(t, whole(c));
  });

  test('resolveDeferred: owed per member, part-time members inside what they heard, silent senders all unexpected', () => {
    const entries: DeferredStreams[] = [
      { sender: 1, received: 9, whole: [[0, 1], [3, 2], [4, 1]], partial: [[1, 2, 2, 1], [5, 9, 1, 1]] },
      { sender: 2, received: 4, whole: [[2, 2]], partial: [] },
    ];
    // Sender 1 sent 3: whole members owe 3 each (4 members: lost 3, unexpected 1); part-time [1,2] owes 2 (ok), [5,9] owes 0 (1 unexpected).
    // Sender 2 is not in the counts: its 4 arrivals are unexpected.
    assert.deepEqual(resolveDeferred(entries, new Map([[1, 3]])), { expected: 14, lost: 3, unexpected: 6, streamsWithLoss: 1 });
    assert.deepEqual(resolveDeferred([], new Map()), { expected: 0, lost: 0, unexpected: 0, streamsWithLoss: 0 });
  });
});
