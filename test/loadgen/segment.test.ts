import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBenchError } from '../../base/errors.js';
import { mulberry32 } from '../../stats/random.js';
import {
  MAX_SEGMENTS,
  SegmentError,
  formatSegment,
  intersect,
  parseSegment,
  parseStartAt,
  remotePublishers,
  roomMembers,
  segmentOfId,
  segmentRange,
  segmentSeed,
  segmentShare,
  type IdRange,
  type Segment,
  type SegmentablePlan,
} from '../../loadgen/segment.js';
import type { BroadcastModel } from '../../loadgen/types.js';

const segs = (n: number): Segment[] => Array.from({ length: n }, (_, index) => ({ index, count: n }));
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Every (total, n) pair the properties are checked on: all small ones, then large and awkward totals. */
function pairs(): [number, number][] {
  const out: [number, number][] = [];
  for (let total = 1; total <= 64; total++) for (let n = 1; n <= total; n++) out.push([total, n]);
  for (const total of [97, 1000, 19_999, 20_000, 123_457, 500_000, 1_000_000]) {
    for (const n of [1, 2, 3, 4, 7, 16, 33, 64, 97]) if (n <= total) out.push([total, n]);
  }
  return out;
}

function refusal(fn: () => unknown): SegmentError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SegmentError, `expected a SegmentError, got ${String(e)}`);
    assert.equal(e.code, 'E_INVALID_SEGMENT');
    return e;
  }
  assert.fail('expected E_INVALID_SEGMENT');
}

describe('parseSegment', () => {
  test('reads I/N, 0-based like JOB_COMPLETION_INDEX, and formats it back', () => {
    for (const [text, index, count] of [
      ['0/1', 0, 1],
      ['0/4', 0, 4],
      ['3/4', 3, 4],
      ['99999/100000', 99_999, 100_000],
    ] as const) {
      assert.deepEqual(parseSegment(text), { index, count });
      assert.equal(formatSegment({ index, count }), text);
    }
  });

  test('refuses each bad form with a stable reason and the flag in the message', () => {
    const table: [string, SegmentError['reason']][] = [
      ['', 'syntax'],
      ['4', 'syntax'],
      ['1/', 'syntax'],
      ['/4', 'syntax'],
      [' 1/4', 'syntax'],
      ['1/4 ', 'syntax'],
      ['-1/4', 'syntax'],
      ['+1/4', 'syntax'],
      ['1.0/4', 'syntax'],
      ['01/4', 'syntax'],
      ['1/04', 'syntax'],
      ['1/4/8', 'syntax'],
      ['1:4', 'syntax'],
      ['0/0', 'count-range'],
      ['4/4', 'index-range'],
      ['1/1', 'index-range'],
      ['7/3', 'index-range'],
      [`0/${MAX_SEGMENTS + 1}`, 'too-many-segments'],
      ['$(JOB_COMPLETION_INDEX)/4', 'unexpanded'],
      ['$JOB_COMPLETION_INDEX/4', 'unexpanded'],
    ];
    for (const [text, reason] of table) {
      const e = refusal(() => parseSegment(text));
      assert.equal(e.reason, reason, `"${text}"`);
      assert.match(e.message, /^--segment: /, `"${text}" names the flag`);
      assert.ok(e.hint, `"${text}" has a hint`);
      assert.equal(e.exitCode, 2);
    }
    assert.match(refusal(() => parseSegment('4/4', '--seg')).message, /^--seg: .*0-based: 0 to 3/);
  });
});

describe('segmentRange: contiguous, disjoint, covering, balanced', () => {
  test('over every (total, n) pair: ranges in order cover [0, total), sizes differ by at most one', () => {
    for (const [total, n] of pairs()) {
      const ranges = segs(n).map((s) => segmentRange(total, s));
      let next = 0;
      for (const r of ranges) {
        assert.equal(r.first, next, `total ${total} n ${n}: contiguous`);
        next += r.count;
      }
      assert.equal(next, total, `total ${total} n ${n}: covers`);
      const sizes = ranges.map((r) => r.count);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `total ${total} n ${n}: balanced`);
      assert.ok(Math.min(...sizes) >= 1, `total ${total} n ${n}: none empty`);
    }
  });

  test('segmentOfId is its inverse: every id belongs to exactly the segment whose range holds it', () => {
    for (const [total, n] of pairs()) {
      const ranges = segs(n).map((s) => segmentRange(total, s));
      const ids = total <= 2000 ? Array.from({ length: total }, (_, i) => i) : ranges.flatMap((r) => [r.first, r.first + r.count - 1]);
      for (const id of ids) {
        const j = segmentOfId(id, total, n);
        const r = ranges[j]!;
        assert.ok(id >= r.first && id < r.first + r.count, `total ${total} n ${n} id ${id} → ${j}`);
      }
    }
    assert.throws(() => segmentOfId(10, 10, 2), RangeError);
  });

  test('known splits', () => {
    assert.deepEqual(segs(4).map((s) => segmentRange(10, s)), [
      { first: 0, count: 3 },
      { first: 3, count: 3 },
      { first: 6, count: 2 },
      { first: 8, count: 2 },
    ]);
    assert.deepEqual(segmentRange(20_000, { index: 3, count: 4 }), { first: 15_000, count: 5_000 });
  });
});

describe('segmentSeed', () => {
  test('one segment keeps the seed; the segments of one seed all differ and stay 32-bit', () => {
    for (const seed of [0, 1, 2, 42, 0xffffffff, 2 ** 32 + 5]) {
      assert.equal(segmentSeed(seed, { index: 0, count: 1 }), seed);
      for (const n of [2, 3, 16, 1000]) {
        const seeds = segs(n).map((s) => segmentSeed(seed, s));
        assert.equal(new Set(seeds).size, n, `seed ${seed} n ${n}: distinct`);
        for (const x of seeds) assert.ok(Number.isInteger(x) && x >= 0 && x < 2 ** 32);
        assert.deepEqual(seeds, segs(n).map((s) => segmentSeed(seed, s)), 'deterministic');
      }
    }
    // The index, not the count, decides the seed: segment 1 of 4 and of 8 draw alike, different from seed 2's.
    assert.equal(segmentSeed(1, { index: 1, count: 4 }), segmentSeed(1, { index: 1, count: 8 }));
    assert.notEqual(segmentSeed(1, { index: 1, count: 4 }), segmentSeed(2, { index: 1, count: 4 }));
  });
});

/** A random valid broadcast for `total` connections (the bounds of core/scenario.ts membershipProblems). */
function randomBroadcast(total: number, rand: () => number): BroadcastModel {
  const publishers = 1 + Math.floor(rand() * total);
  const left = total - publishers;
  const slow = left > 0 && rand() < 0.5 ? Math.floor(rand() * left) : 0;
  const churn = left - slow >= 1 && rand() < 0.6;
  return {
    model: 'broadcast',
    publishers,
    ratePerSecPerPublisher: 0.5 + rand() * 100,
    rooms: 1 + Math.floor(rand() * 12),
    ...(slow > 0 ? { slowConsumers: { count: slow, readBytesPerSec: 1000 } } : {}),
    ...(churn ? { churn: { leavesPerSec: 0.1 + rand() * 50, rejoinAfterMs: 100 } } : {}),
  };
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const ids = (r: IdRange) => Array.from({ length: r.count }, (_, i) => r.first + i);

describe('segmentShare: the segments together are exactly the scenario', () => {
  test('open loop and connect rate: rates split by connections and add up to the aggregate', () => {
    for (const [total, n] of pairs()) {
      const plan: SegmentablePlan = { connections: total, seed: 7, load: { model: 'open', ratePerSec: 12_345.6, arrivals: 'poisson' }, connect: { ratePerSec: 999 } };
      const shares = segs(n).map((s) => segmentShare(plan, s));
      close(sum(shares.map((s) => s.sendRatePerSec!)), 12_345.6, `total ${total} n ${n} rate`);
      close(sum(shares.map((s) => s.connectRatePerSec!)), 999, `total ${total} n ${n} connect rate`);
      for (const s of shares) close(s.sendRatePerSec!, (12_345.6 * s.connections.count) / total, 'proportional to connections');
      assert.equal(sum(shares.map((s) => s.connections.count)), total);
      assert.ok(shares.every((s) => s.totalConnections === total && s.publishers.count === 0 && s.leavesPerSec === undefined));
    }
  });

  test('voice: one session per connection, audio events add up; closed and idle have no schedule', () => {
    const shares = segs(3).map((s) =>
      segmentShare({ connections: 100, seed: 1, load: { model: 'voice', frameIntervalMs: 20, framesPerTurn: 50, upstream: { latency: 'fixed:1', chunks: 1, chunkIntervalMs: 1, chunkAudioBytes: 1, seed: 1 } } }, s),
    );
    assert.deepEqual(shares.map((s) => s.connections.count), [34, 33, 33]);
    close(sum(shares.map((s) => s.sendRatePerSec!)), 100 * 50, 'audio events/s');
    for (const load of [{ model: 'closed', depth: 4 }, { model: 'idle' }, { model: 'http', pipelining: 1 }] as const) {
      assert.equal(segmentShare({ connections: 10, seed: 1, load }, { index: 1, count: 2 }).sendRatePerSec, undefined);
    }
  });

  test('broadcast over random scenarios: publishers, slow consumers and churnable subscribers sum exactly; rates add up; ids keep their global roles', () => {
    const rand = mulberry32(2024);
    for (const [total, n] of pairs()) {
      const load = randomBroadcast(total, rand);
      const plan: SegmentablePlan = { connections: total, seed: 3, load };
      const shares = segs(n).map((s) => segmentShare(plan, s));
      const P = load.publishers;
      const S = load.slowConsumers?.count ?? 0;
      assert.equal(sum(shares.map((s) => s.publishers.count)), P, `total ${total} n ${n} publishers`);
      assert.equal(sum(shares.map((s) => s.slowConsumers.count)), S, `total ${total} n ${n} slow`);
      assert.equal(sum(shares.map((s) => s.churnableSubscribers)), total - P - S, `total ${total} n ${n} churnable`);
      close(sum(shares.map((s) => s.sendRatePerSec!)), P * load.ratePerSecPerPublisher, `total ${total} n ${n} publish rate`);
      if (load.churn) close(sum(shares.map((s) => s.leavesPerSec!)), load.churn.leavesPerSec, `total ${total} n ${n} leaves`);
      else assert.ok(shares.every((s) => s.leavesPerSec === undefined));
      for (const s of shares) {
        // Inside the segment's own range, and the same roles the worker gives ids: id < publishers publishes, the last S read slowly.
        assert.deepEqual(intersect(s.publishers, s.connections), s.publishers);
        assert.deepEqual(intersect(s.slowConsumers, s.connections), s.slowConsumers);
        if (total <= 64) {
          for (const id of ids(s.connections)) {
            const isPub = id < P;
            const isSlow = id >= total - S && id >= P;
            assert.equal(id >= s.publishers.first && id < s.publishers.first + s.publishers.count, isPub, `id ${id} publisher`);
            assert.equal(id >= s.slowConsumers.first && id < s.slowConsumers.first + s.slowConsumers.count, isSlow, `id ${id} slow`);
          }
        }
      }
    }
  });

  test('refuses more segments than connections: a segment would open none', () => {
    const e = refusal(() => segmentShare({ connections: 3, seed: 1, load: { model: 'closed', depth: 1 } }, { index: 0, count: 4 }));
    assert.equal(e.reason, 'too-many-segments');
    assert.match(e.hint!, /at most 3 segments/);
  });
});

describe('remotePublishers and roomMembers: what a broadcast segment hears from the others', () => {
  test('own publishers plus the remote ones are exactly the global publishers, each once, owned by the segment that holds it', () => {
    const rand = mulberry32(99);
    for (const [total, n] of pairs()) {
      if (total > 20_000) continue;
      const load = randomBroadcast(total, rand);
      const plan: SegmentablePlan = { connections: total, seed: 1, load };
      for (const s of n <= 16 ? segs(n) : [segs(n)[0]!, segs(n)[n - 1]!]) {
        const own = segmentShare(plan, s).publishers;
        const remote = remotePublishers(plan, s);
        assert.ok(remote.every((r) => r.segment !== s.index && r.publishers.count > 0));
        assert.deepEqual(remote.map((r) => r.segment), [...remote.map((r) => r.segment)].sort((a, b) => a - b), 'in segment order');
        for (const r of remote) {
          assert.equal(segmentOfId(r.publishers.first, total, n), r.segment);
          assert.equal(segmentOfId(r.publishers.first + r.publishers.count - 1, total, n), r.segment);
        }
        assert.equal(own.count + sum(remote.map((r) => r.publishers.count)), load.publishers, `total ${total} n ${n} seg ${s.index}`);
      }
    }
  });

  test('not a broadcast, or a single segment: nothing remote', () => {
    assert.deepEqual(remotePublishers({ connections: 10, seed: 1, load: { model: 'closed', depth: 1 } }, { index: 0, count: 2 }), []);
    assert.deepEqual(remotePublishers({ connections: 10, seed: 1, load: { model: 'broadcast', publishers: 10, ratePerSecPerPublisher: 1, rooms: 2 } }, { index: 0, count: 1 }), []);
  });

  test('a known split: chat-like, 20 connections, 6 publishers, 4 segments', () => {
    const plan: SegmentablePlan = { connections: 20, seed: 1, load: { model: 'broadcast', publishers: 6, ratePerSecPerPublisher: 10, rooms: 3 } };
    assert.deepEqual(remotePublishers(plan, { index: 2, count: 4 }), [
      { segment: 0, publishers: { first: 0, count: 5 } },
      { segment: 1, publishers: { first: 5, count: 1 } },
    ]);
    assert.deepEqual(remotePublishers(plan, { index: 0, count: 4 }), [{ segment: 1, publishers: { first: 5, count: 1 } }]);
  });

  test('roomMembers counts id % rooms in a range, as a brute-force count does, and the segments add up to the room', () => {
    for (let total = 1; total <= 60; total++) {
      for (const rooms of [1, 2, 3, 7, 13, 100]) {
        for (let room = 0; room < Math.min(rooms, 14); room++) {
          const brute = (r: IdRange) => ids(r).filter((id) => id % rooms === room).length;
          for (const n of [1, 2, 3, 5, total]) {
            if (n > total) continue;
            const parts = segs(n).map((s) => segmentRange(total, s));
            for (const r of parts) assert.equal(roomMembers(r, rooms, room), brute(r), `total ${total} rooms ${rooms} room ${room}`);
            assert.equal(sum(parts.map((r) => roomMembers(r, rooms, room))), brute({ first: 0, count: total }));
          }
        }
      }
    }
    assert.equal(roomMembers({ first: 5, count: 0 }, 3, 1), 0);
  });
});

describe('parseStartAt', () => {
  test('reads epoch milliseconds and ISO times with a zone', () => {
    assert.equal(parseStartAt('1767225600000'), 1_767_225_600_000);
    assert.equal(parseStartAt('2026-01-01T00:00:00Z'), 1_767_225_600_000);
    assert.equal(parseStartAt('2026-01-01T01:00:00.250+01:00'), 1_767_225_600_250);
  });

  test('refuses seconds, zone-less times and other text, naming the flag', () => {
    for (const text of ['1767225600', '2026-01-01T00:00:00', 'soon', '', '-1', '1e12', '2026-13-01T00:00:00Z']) {
      try {
        parseStartAt(text);
        assert.fail(`"${text}" was accepted`);
      } catch (e) {
        assert.ok(isBenchError(e) && e.code === 'E_USAGE', `"${text}": ${String(e)}`);
        assert.match(e.message, /^--start-at: /);
      }
    }
  });
});
