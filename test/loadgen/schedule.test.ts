import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  behindUs,
  createSchedule,
  createSender,
  defaultTickPolicy,
  epochClockUs,
  finishSender,
  tick,
  type Sender,
} from '../../loadgen/schedule.js';

// A realistic epoch-µs origin, so precision is tested where it will be used.
const START_US = 1_750_000_000_000_000;

/** A clock that only moves when the test says so. */
function fakeClock(startUs: number): { nowUs: number; read: () => number } {
  const c = { nowUs: startUs, read: () => c.nowUs };
  return c;
}

/** Ticks every `stepUs` from the clock's time up to `untilUs` inclusive; returns all handed-out times. */
function runUntil(sender: Sender, clock: { nowUs: number }, untilUs: number, stepUs: number): number[] {
  const out: number[] = [];
  for (;;) {
    const n = tick(sender, clock.nowUs);
    for (let i = 0; i < n; i++) out.push(sender.dueUs[i]!);
    if (clock.nowUs >= untilUs) break;
    clock.nowUs = Math.min(untilUs, clock.nowUs + stepUs);
  }
  return out;
}

const NO_DROP = { lateThresholdUs: 1_000, maxCatchUpPerTick: 1_000_000, dropAfterUs: Infinity };

describe('schedule', () => {
  test('one interval is 1e6 / ratePerSec µs (aggregate rate, not per connection)', () => {
    assert.equal(createSchedule({ ratePerSec: 1000, arrivals: 'constant', startUs: 0 }).meanIntervalUs, 1000);
    assert.equal(createSchedule({ ratePerSec: 10_000, arrivals: 'poisson', startUs: 0 }).meanIntervalUs, 100);
    assert.equal(createSchedule({ ratePerSec: 0.5, arrivals: 'constant', startUs: 0 }).meanIntervalUs, 2_000_000);
    const s = createSchedule({ ratePerSec: 4, arrivals: 'constant', startUs: 10 });
    assert.deepEqual([s.next(), s.next(), s.next(), s.next()], [250_010, 500_010, 750_010, 1_000_010]);
  });

  test('constant: 10,000 msg/s over exactly 1 s of fake time gives 10,000 intended sends', () => {
    for (const stepUs of [1, 37, 100, 1_000, 1_000_000]) {
      const clock = fakeClock(START_US);
      const sender = createSender(
        createSchedule({ ratePerSec: 10_000, arrivals: 'constant', startUs: START_US }),
        NO_DROP,
        clock.read,
      );
      const times = runUntil(sender, clock, START_US + 1_000_000, stepUs);
      assert.equal(times.length, 10_000, `step ${stepUs} µs`);
      assert.deepEqual(
        { ...sender.counters, maxLagUs: 0 },
        { intended: 10_000, sent: 10_000, late: stepUs > 1_000 ? sender.counters.late : 0, dropped: 0, maxLagUs: 0 },
      );
      assert.equal(times[0], START_US + 100);
      assert.equal(times[9_999], START_US + 1_000_000);
      for (let i = 1; i < times.length; i++) assert.equal(times[i]! - times[i - 1]!, 100);
    }
  });

  test('constant: slot times do not drift over many intervals at awkward rates', () => {
    const s = createSchedule({ ratePerSec: 3, arrivals: 'constant', startUs: START_US });
    let last = 0;
    for (let k = 1; k <= 3 * 3600; k++) last = s.next();
    assert.equal(last, START_US + 3_600_000_000);
  });

  test('poisson: 10,000 msg/s over 1 s gives 10,000 ± 3σ sends, deterministically per seed', () => {
    const counts: number[] = [];
    for (const seed of [1, 2, 3, 1]) {
      const clock = fakeClock(START_US);
      const sender = createSender(
        createSchedule({ ratePerSec: 10_000, arrivals: 'poisson', startUs: START_US, seed }),
        NO_DROP,
        clock.read,
      );
      const times = runUntil(sender, clock, START_US + 1_000_000, 250);
      // Count ~ Poisson(10,000): σ = 100.
      assert.ok(Math.abs(times.length - 10_000) <= 300, `seed ${seed}: ${times.length}`);
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!);
      counts.push(times.length);
    }
    assert.equal(counts[3], counts[0], 'same seed, same count');
    assert.ok(new Set(counts.slice(0, 3)).size > 1, 'different seeds, different streams');
  });

  test('poisson: inter-arrival times are exponential with mean 1e6 / rate', () => {
    const s = createSchedule({ ratePerSec: 2_000, arrivals: 'poisson', startUs: 0, seed: 9 });
    const n = 200_000;
    let prev = 0;
    let sum = 0;
    let above = 0;
    for (let i = 0; i < n; i++) {
      const t = s.next();
      const d = t - prev;
      sum += d;
      if (d > 500) above++; // P(X > mean) = e^-1
      prev = t;
    }
    assert.ok(Math.abs(sum / n - 500) < 500 * 0.01, `mean ${sum / n}`);
    assert.ok(Math.abs(above / n - Math.exp(-1)) < 0.005, `tail ${above / n}`);
  });

  test('a stalled loop (clock jumps 50 ms) counts late and dropped sends exactly', () => {
    const clock = fakeClock(START_US);
    const sender = createSender(
      createSchedule({ ratePerSec: 10_000, arrivals: 'constant', startUs: START_US }),
      { lateThresholdUs: 1_000, maxCatchUpPerTick: 10_000, dropAfterUs: 20_000 },
      clock.read,
    );
    const t0 = START_US + 10_000;
    runUntil(sender, clock, t0, 100);
    assert.deepEqual(sender.counters, { intended: 100, sent: 100, late: 0, dropped: 0, maxLagUs: 0 });

    clock.nowUs = t0 + 50_000;
    const n = tick(sender, clock.read());
    // Due: t0+100 .. t0+50,000 (500 slots). Dropped: lag > 20 ms, i.e. t0+100 .. t0+29,900 (299).
    // Sent: t0+30,000 .. t0+50,000 (201), of which late (lag > 1 ms): t0+30,000 .. t0+48,900 (190).
    assert.equal(n, 201);
    assert.equal(sender.dueUs[0], t0 + 30_000);
    assert.equal(sender.dueUs[200], t0 + 50_000);
    assert.deepEqual(sender.counters, { intended: 600, sent: 301, late: 190, dropped: 299, maxLagUs: 20_000 });
    assert.equal(behindUs(sender, clock.nowUs), 0);
  });

  test('maxCatchUpPerTick bounds the burst after a stall; the backlog drains on later ticks', () => {
    const clock = fakeClock(START_US);
    const sender = createSender(
      createSchedule({ ratePerSec: 10_000, arrivals: 'constant', startUs: START_US }),
      { lateThresholdUs: 1_000, maxCatchUpPerTick: 50, dropAfterUs: 20_000 },
      clock.read,
    );
    clock.nowUs = START_US + 50_000;
    assert.equal(tick(sender, clock.nowUs), 50);
    // 299 dropped (START+100 .. START+29,900), 50 sent (START+30,000 .. START+34,900), all late.
    assert.deepEqual(sender.counters, { intended: 349, sent: 50, late: 50, dropped: 299, maxLagUs: 20_000 });
    assert.equal(behindUs(sender, clock.nowUs), 15_000);

    // Ticking every 100 µs: one new slot per tick, up to 50 sent, so the backlog shrinks by 49 per tick.
    let ticks = 0;
    while (behindUs(sender, clock.nowUs) > 0) {
      clock.nowUs += 100;
      tick(sender, clock.nowUs);
      ticks++;
    }
    assert.equal(ticks, 4); // 151 owed + 1 new per tick: 151 → 102 → 53 → 4 → 0
    const c = sender.counters;
    assert.equal(c.sent + c.dropped, c.intended);
    assert.equal(c.intended, 504);
    assert.equal(c.dropped, 299);
  });

  test('finishSender counts everything still owed as dropped, so sent + dropped = intended', () => {
    const clock = fakeClock(START_US);
    const sender = createSender(
      createSchedule({ ratePerSec: 10_000, arrivals: 'constant', startUs: START_US }),
      { lateThresholdUs: 1_000, maxCatchUpPerTick: 10, dropAfterUs: Infinity },
      clock.read,
    );
    clock.nowUs = START_US + 1_000_000;
    assert.equal(tick(sender, clock.nowUs), 10);
    finishSender(sender, clock.nowUs);
    assert.deepEqual(
      { intended: sender.counters.intended, sent: sender.counters.sent, dropped: sender.counters.dropped },
      { intended: 10_000, sent: 10, dropped: 9_990 },
    );
  });

  test('tick hands out nothing before the first slot and never reads the clock itself', () => {
    let reads = 0;
    const sender = createSender(
      createSchedule({ ratePerSec: 1_000, arrivals: 'constant', startUs: 0 }),
      undefined,
      () => ++reads,
    );
    assert.equal(tick(sender, 999), 0);
    assert.equal(tick(sender, 1_000), 1);
    assert.equal(reads, 0);
    assert.equal(sender.counters.intended, 1);
  });

  test('defaults and validation', () => {
    assert.deepEqual(defaultTickPolicy(10_000), { lateThresholdUs: 1_000, maxCatchUpPerTick: 100, dropAfterUs: 1_000_000 });
    assert.equal(defaultTickPolicy(10).maxCatchUpPerTick, 64);
    assert.equal(createSender(createSchedule({ ratePerSec: 10_000, arrivals: 'constant', startUs: 0 })).dueUs.length, 100);
    assert.throws(() => createSchedule({ ratePerSec: 0, arrivals: 'constant', startUs: 0 }), RangeError);
    assert.throws(() => createSchedule({ ratePerSec: NaN, arrivals: 'constant', startUs: 0 }), RangeError);
    assert.throws(() => createSchedule({ ratePerSec: 1, arrivals: 'burst' as 'constant', startUs: 0 }), RangeError);
    assert.throws(() => createSchedule({ ratePerSec: 1, arrivals: 'constant', startUs: NaN }), RangeError);
    const s = createSchedule({ ratePerSec: 1, arrivals: 'constant', startUs: 0 });
    assert.throws(() => createSender(s, { lateThresholdUs: 1, maxCatchUpPerTick: 0, dropAfterUs: 1 }), RangeError);
    assert.throws(() => createSender(s, { lateThresholdUs: -1, maxCatchUpPerTick: 1, dropAfterUs: 1 }), RangeError);
    assert.throws(() => createSender(s, { lateThresholdUs: 1, maxCatchUpPerTick: 1, dropAfterUs: NaN }), RangeError);
  });

  test('epochClockUs is microseconds since the Unix epoch', () => {
    const us = epochClockUs();
    assert.ok(Math.abs(us / 1000 - Date.now()) < 1_000, `${us} µs vs ${Date.now()} ms`);
  });
});

describe('bursts', () => {
  /** Every slot with intended time ≤ endUs: [time, arrival] pairs in the order the schedule hands them out. */
  function slotsUntil(s: ReturnType<typeof createSchedule>, endUs: number): [number, number][] {
    const out: [number, number][] = [];
    while (s.peekUs() <= endUs) {
      const t = s.next();
      out.push([t, s.lastArrival]);
    }
    return out;
  }

  test('probability 1: every arrival is `messages` messages gapMs apart, the first at the arrival, all of one arrival', () => {
    const s = createSchedule({ ratePerSec: 10, arrivals: 'constant', startUs: 0, burst: { probability: 1, messages: 3, gapMs: 10 } });
    const slots = slotsUntil(s, 1_000_000);
    // Arrivals at 100, 200, ..., 1000 ms; the last burst's followers (1010, 1020 ms) fall after the end.
    assert.equal(slots.length, 10 * 3 - 2);
    assert.deepEqual(slots.slice(0, 4), [[100_000, 0], [110_000, 0], [120_000, 0], [200_000, 1]]);
    assert.equal(s.ratePerSec, 30, 'the mean message rate is arrivals × messages');
  });

  test('probability 0 and messages 1 give the base schedule unchanged', () => {
    const base = slotsUntil(createSchedule({ ratePerSec: 50, arrivals: 'poisson', startUs: 0, seed: 7 }), 2_000_000);
    for (const burst of [{ probability: 0, messages: 5, gapMs: 1 }, { probability: 1, messages: 1, gapMs: 1 }]) {
      assert.deepEqual(slotsUntil(createSchedule({ ratePerSec: 50, arrivals: 'poisson', startUs: 0, seed: 7, burst }), 2_000_000), base);
    }
  });

  test('overlapping bursts: times never decrease, each burst keeps its gap and its arrival, and the count adds up', () => {
    // Bursts span 4 × 30 ms, arrivals come every ~10 ms: several bursts are in progress at once.
    const burst = { probability: 0.5, messages: 5, gapMs: 30 };
    const s = createSchedule({ ratePerSec: 100, arrivals: 'poisson', startUs: 0, seed: 3, burst });
    const slots = slotsUntil(s, 10_000_000);
    const byArrival = new Map<number, number[]>();
    let prev = -Infinity;
    for (const [t, a] of slots) {
      assert.ok(t >= prev, `time went back from ${prev} to ${t}`);
      prev = t;
      byArrival.set(a, [...(byArrival.get(a) ?? []), t]);
    }
    const arrivals = [...byArrival.keys()].sort((x, y) => x - y);
    assert.deepEqual(arrivals, arrivals.map((_, i) => i), 'arrivals are numbered 0, 1, 2, ... in order');
    let bursts = 0;
    for (const [a, times] of byArrival) {
      if (times.length === 1) continue;
      bursts++;
      // Only a burst that began within 120 ms of the end may be cut short.
      if (times.length < 5) assert.ok(times[0]! > 10_000_000 - 120_000, `arrival ${a} has ${times.length} messages`);
      for (let i = 1; i < times.length; i++) assert.ok(Math.abs(times[i]! - times[i - 1]! - 30_000) < 1e-6);
    }
    const cut = [...byArrival.values()].reduce((n, ts) => n + (ts.length > 1 ? 5 - ts.length : 0), 0);
    assert.equal(slots.length, arrivals.length + 4 * bursts - cut);
    // Seeded: about half of ~1000 arrivals burst; the exact number is fixed by the seed.
    assert.ok(bursts > 400 && bursts < 600, `${bursts} bursts of ${arrivals.length} arrivals`);
  });

  test('the sender hands out each due message with its arrival, for one sender per burst', () => {
    const clock = fakeClock(START_US);
    const sender = createSender(
      createSchedule({ ratePerSec: 4, arrivals: 'constant', startUs: START_US, burst: { probability: 1, messages: 2, gapMs: 0 } }),
      undefined,
      clock.read,
    );
    clock.nowUs = START_US + 500_000;
    const n = tick(sender, clock.nowUs);
    assert.equal(n, 4);
    assert.deepEqual([...sender.dueArrival.subarray(0, n)], [0, 0, 1, 1]);
    assert.deepEqual([...sender.dueUs.subarray(0, n)].map((t) => t - START_US), [250_000, 250_000, 500_000, 500_000]);
  });

  test('refuses a burst out of range', () => {
    for (const burst of [{ probability: 1.5, messages: 2, gapMs: 1 }, { probability: 1, messages: 0, gapMs: 1 }, { probability: 1, messages: 2, gapMs: -1 }]) {
      assert.throws(() => createSchedule({ ratePerSec: 1, arrivals: 'constant', startUs: 0, burst }), RangeError);
    }
  });
});
