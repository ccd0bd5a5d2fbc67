import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DeliveryAccounting,
  recordDelivery,
  StreamState,
  sumDeliveryTotals,
  type DeliveryTotals,
} from '../../loadgen/accounting.js';

interface Delivery {
  seq: number;
  ok: boolean;
}

/**
 * A damaged stream of seq 0..n-1: every 10th dropped, some duplicated right
 * away, some adjacent pairs swapped, every 97th delivery corrupted. The rules
 * are chosen not to overlap so the expected counts can be stated directly.
 */
function damagedStream(n: number): Delivery[] {
  const seqs: number[] = [];
  for (let s = 0; s < n; s++) {
    if (s % 10 === 0) continue; // lost
    seqs.push(s);
    if (s % 37 === 1) seqs.push(s); // duplicated
  }
  // Swap (5, 6), (55, 56), ...: each 5 arrives after its 6, so it is out of order.
  for (let i = 0; i + 1 < seqs.length; i++) {
    if (seqs[i]! % 50 === 5 && seqs[i + 1] === seqs[i]! + 1) {
      [seqs[i], seqs[i + 1]] = [seqs[i + 1]!, seqs[i]!];
      i++;
    }
  }
  return seqs.map((seq, i) => ({ seq, ok: i % 97 !== 96 }));
}

function expectedDamage(n: number): { lost: number; duplicated: number; outOfOrder: number } {
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  for (let s = 0; s < n; s++) {
    if (s % 10 === 0) lost++;
    else if (s % 37 === 1) duplicated++;
    if (s % 50 === 5 && s + 1 < n) outOfOrder++;
  }
  return { lost, duplicated, outOfOrder };
}

const ZERO: DeliveryTotals = {
  expected: 0, received: 0, lost: 0, duplicated: 0, outOfOrder: 0, corrupted: 0,
  beyondWindow: 0, unexpected: 0, unattributable: 0, streamsWithLoss: 0,
};

describe('accounting', () => {
  test('a damaged echo stream gives exact counts', () => {
    const n = 1000;
    const deliveries = damagedStream(n);
    const acc = new DeliveryAccounting();
    for (const d of deliveries) acc.record(7, 7, d.seq, d.ok);
    const e = expectedDamage(n);
    assert.deepEqual(acc.finish(new Map([[7, n]])), {
      ...ZERO,
      expected: n,
      received: deliveries.length,
      lost: e.lost,
      duplicated: e.duplicated,
      outOfOrder: e.outOfOrder,
      corrupted: Math.floor(deliveries.length / 97),
      streamsWithLoss: 1,
    });
    // Sanity on the fixture itself: 100 lost, 25 duplicated (27 numbers ≡ 1 mod 37, 2 of them lost), 20 swapped.
    assert.deepEqual(e, { lost: 100, duplicated: 25, outOfOrder: 20 });
  });

  test('a perfect stream has no loss, duplicates or reordering', () => {
    const acc = new DeliveryAccounting();
    for (let s = 0; s < 5000; s++) acc.record(1, 1, s, true);
    assert.deepEqual(acc.finish(new Map([[1, 5000]])), { ...ZERO, expected: 5000, received: 5000 });
  });

  test('echo: many connections, each its own stream, interleaved', () => {
    const acc = new DeliveryAccounting();
    const n = 600;
    const streams = [0, 1, 2, 3].map(() => damagedStream(n));
    const longest = Math.max(...streams.map((s) => s.length));
    for (let i = 0; i < longest; i++) {
      streams.forEach((st, conn) => {
        const d = st[i];
        if (d) acc.record(conn, conn, d.seq, d.ok);
      });
    }
    const e = expectedDamage(n);
    const t = acc.finish(new Map([[0, n], [1, n], [2, n], [3, n]]));
    assert.equal(t.expected, 4 * n);
    assert.equal(t.lost, 4 * e.lost);
    assert.equal(t.duplicated, 4 * e.duplicated);
    assert.equal(t.outOfOrder, 4 * e.outOfOrder);
    assert.equal(t.unexpected, 0);
    assert.equal(t.streamsWithLoss, 4);
  });

  test('broadcast: each receiver gets every publisher stream; loss is per (publisher, receiver)', () => {
    const acc = new DeliveryAccounting();
    const publishers = [10, 11];
    const receivers = [10, 11, 20, 21]; // publishers receive their own messages too
    const sent = 300;
    for (let seq = 0; seq < sent; seq++) {
      for (const p of publishers) {
        for (const r of receivers) {
          if (r === 21 && p === 11 && seq >= 250) continue; // receiver 21 misses the last 50 from 11
          acc.record(p, r, seq, true);
        }
      }
    }
    acc.record(99, 20, 0, true); // from a connection that never published: misrouted
    const t = acc.finish(new Map(publishers.map((p) => [p, sent])), () => receivers);
    assert.deepEqual(t, {
      ...ZERO,
      expected: 2 * 4 * sent,
      received: 2 * 4 * sent - 50 + 1,
      lost: 50,
      unexpected: 1,
      streamsWithLoss: 1,
    });
  });

  test('a stream that never arrived is lost in full; arrivals beyond what was sent are unexpected', () => {
    const acc = new DeliveryAccounting();
    for (let s = 0; s < 12; s++) acc.record(1, 1, s, true);
    const t = acc.finish(new Map([[1, 10], [2, 5]]));
    assert.equal(t.lost, 5);
    assert.equal(t.unexpected, 2);
    assert.equal(t.streamsWithLoss, 1);
  });

  test('duplicates are found across wraps of the window; arrivals beyond it are flagged, not guessed', () => {
    const s = new StreamState(1, 1, 32);
    for (let seq = 0; seq < 100; seq++) recordDelivery(s, seq, true);
    recordDelivery(s, 99, true); // duplicate of the highest
    recordDelivery(s, 68, true); // duplicate, 31 behind: inside the window
    recordDelivery(s, 67, true); // 32 behind: outside
    assert.equal(s.duplicated, 2);
    assert.equal(s.beyondWindow, 1);
    // A gap, then the missing numbers arrive late within the window: out of order, not duplicates.
    recordDelivery(s, 120, true);
    for (let seq = 100; seq < 120; seq++) recordDelivery(s, seq, true);
    assert.equal(s.outOfOrder, 20);
    assert.equal(s.duplicated, 2);
    // A gap larger than the window clears it: old bits must not pass for new numbers.
    recordDelivery(s, 1000, true);
    recordDelivery(s, 1000 - 31, true);
    assert.equal(s.duplicated, 2);
    assert.equal(s.outOfOrder, 21);
  });

  test('sequence numbers up to 2^32 − 1 work', () => {
    const acc = new DeliveryAccounting();
    const top = 2 ** 32 - 1;
    for (let seq = top - 100; seq <= top; seq++) acc.record(3, 3, seq, true);
    acc.record(3, 3, top, true);
    acc.record(3, 3, top - 1, true);
    const st = acc.stream(3, 3);
    assert.equal(st.highestSeq, top);
    assert.equal(st.duplicated, 2);
    assert.equal(st.outOfOrder, 0);
  });

  test('unreadable headers are unattributable and still received', () => {
    const acc = new DeliveryAccounting();
    acc.record(-1, 5, 3, false);
    acc.record(5, 5, -1, true);
    acc.record(5, 5, 0, true);
    const t = acc.finish(new Map([[5, 1]]));
    assert.equal(t.received, 3);
    assert.equal(t.unattributable, 2);
    assert.equal(t.corrupted, 1);
    assert.equal(t.lost, 0);
  });

  test('totals from several workers sum; finish does not change the state', () => {
    const a = new DeliveryAccounting();
    const b = new DeliveryAccounting();
    for (let s = 0; s < 10; s += 2) a.record(1, 1, s, true);
    for (let s = 0; s < 10; s++) b.record(2, 2, s, s !== 4);
    const ta = a.finish(new Map([[1, 10]]));
    assert.deepEqual(a.finish(new Map([[1, 10]])), ta);
    const sum = sumDeliveryTotals([ta, b.finish(new Map([[2, 10]]))]);
    assert.deepEqual(sum, { ...ZERO, expected: 20, received: 15, lost: 5, corrupted: 1, streamsWithLoss: 1 });
  });

  test('the window size must be a power of two of at least 32', () => {
    assert.throws(() => new DeliveryAccounting(100), RangeError);
    assert.throws(() => new DeliveryAccounting(16), RangeError);
    assert.equal(new DeliveryAccounting(64).stream(1, 2).seen.length, 2);
  });
});

describe('accounting of partial memberships (broadcast churn)', () => {
  test('a member that joined and left is owed only what lies between the first and last number it received', () => {
    const acc = new DeliveryAccounting();
    // Receiver 20 was a member while publisher 1 sent 40..79: it got 40..79 except 50 and 60, 70 twice, 45 after 46.
    for (let s = 40; s < 80; s++) {
      if (s === 50 || s === 60 || s === 45) continue;
      acc.record(1, 20, s, true);
      if (s === 46) acc.record(1, 20, 45, true);
      if (s === 70) acc.record(1, 20, 70, true);
    }
    // Publisher 2 was heard from not at all while the member was in the room.
    const t = acc.finish(new Map([[1, 100], [2, 100]]), () => [20], (r) => r === 20);
    assert.deepEqual(t, { ...ZERO, expected: 40, received: 39, lost: 2, duplicated: 1, outOfOrder: 1, streamsWithLoss: 1 });
  });

  test('the lowest number counts even when it arrives late, and numbers beyond what was sent are unexpected', () => {
    const acc = new DeliveryAccounting();
    for (const s of [11, 10, 12, 13]) acc.record(3, 30, s, true);
    // The sender reports 13 sent (0..12): 13 was never sent.
    const t = acc.finish(new Map([[3, 13]]), () => [30], () => true);
    assert.deepEqual(t, { ...ZERO, expected: 3, received: 4, outOfOrder: 1, unexpected: 1 });
  });

  test('members that stayed the whole run keep the exact accounting beside partial ones', () => {
    const acc = new DeliveryAccounting();
    for (let s = 1; s < 10; s++) acc.record(1, 5, s, true); // whole-run member that missed 0
    for (let s = 3; s < 6; s++) acc.record(1, 6, s, true); // partial member
    const t = acc.finish(new Map([[1, 10]]), () => [5, 6], (r) => r === 6);
    assert.deepEqual(t, { ...ZERO, expected: 13, received: 12, lost: 1, streamsWithLoss: 1 });
  });

  test('recordDelivery keeps the lowest number seen', () => {
    const s = new StreamState(1, 2, 1024);
    assert.equal(s.lowestSeq, -1);
    for (const seq of [7, 9, 8, 5, 5]) recordDelivery(s, seq, true);
    assert.equal(s.lowestSeq, 5);
  });
});
