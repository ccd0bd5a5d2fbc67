import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HIGHEST_US,
  LOWEST_US,
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeHistograms,
  recordUs,
  summarizeHistogram,
  type LatencyHistogram,
} from '../../loadgen/histogram.js';

// Deterministic spread of latencies from 1 µs to ~40 s, heavy-tailed like real ones.
function sampleValuesUs(n: number): number[] {
  let x = 12345;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const u = x / 2 ** 32;
    out.push(Math.floor(1 + Math.exp(u * Math.log(40_000_000))));
  }
  return out;
}

function histogramOf(values: readonly number[]): LatencyHistogram {
  const h = createLatencyHistogram();
  for (const v of values) recordUs(h, v);
  return h;
}

describe('histogram', () => {
  test('an empty histogram summarizes to zeros', () => {
    const s = summarizeHistogram(createLatencyHistogram());
    assert.deepEqual(s, {
      count: 0, minUs: 0, meanUs: 0, p50Us: 0, p90Us: 0, p99Us: 0, p999Us: 0, maxUs: 0,
      belowRangeCount: 0, aboveRangeCount: 0, invalidCount: 0,
    });
  });

  test('small values are exact and percentiles follow the recorded data', () => {
    const h = createLatencyHistogram();
    for (let v = 1; v <= 1000; v++) recordUs(h, v);
    const s = summarizeHistogram(h);
    assert.equal(s.count, 1000);
    assert.equal(s.minUs, 1);
    assert.equal(s.maxUs, 1000);
    assert.equal(s.p50Us, 500);
    assert.equal(s.p90Us, 900);
    assert.equal(s.p99Us, 990);
    assert.equal(s.p999Us, 999);
    assert.equal(s.meanUs, 500.5);
  });

  test('fractional microseconds round to the nearest µs', () => {
    const h = createLatencyHistogram();
    recordUs(h, 10.4);
    recordUs(h, 10.6);
    const s = summarizeHistogram(h);
    assert.equal(s.minUs, 10);
    assert.equal(s.maxUs, 11);
  });

  test('out-of-range values are clamped and counted, NaN is counted and skipped', () => {
    const h = createLatencyHistogram();
    recordUs(h, 0);
    recordUs(h, -5);
    recordUs(h, 0.2);
    recordUs(h, HIGHEST_US + 1);
    recordUs(h, Infinity);
    recordUs(h, NaN);
    recordUs(h, 100);
    const s = summarizeHistogram(h);
    assert.equal(s.count, 6);
    assert.equal(s.belowRangeCount, 3);
    assert.equal(s.aboveRangeCount, 2);
    assert.equal(s.invalidCount, 1);
    assert.equal(s.minUs, LOWEST_US);
    assert.ok(s.maxUs >= HIGHEST_US && s.maxUs <= HIGHEST_US * 1.001, `max ${s.maxUs}`);
  });

  test('merging histograms of a split equals one histogram of all values', () => {
    const values = sampleValuesUs(20_000);
    const whole = histogramOf(values);
    for (const parts of [1, 2, 3, 7]) {
      const split: number[][] = Array.from({ length: parts }, () => []);
      values.forEach((v, i) => split[i % parts]!.push(v));
      const merged = mergeHistograms(split.map(histogramOf));
      assert.deepEqual(summarizeHistogram(merged), summarizeHistogram(whole), `${parts} parts`);
      for (const p of [0, 10, 25, 50, 75, 95, 99.99, 100]) {
        assert.equal(merged.hdr.getValueAtPercentile(p), whole.hdr.getValueAtPercentile(p), `p${p}, ${parts} parts`);
      }
    }
  });

  test('merging does not modify the inputs and sums the range counters', () => {
    const a = histogramOf([5, 6, -1]);
    const b = histogramOf([HIGHEST_US * 2, NaN]);
    const before = summarizeHistogram(a);
    const m = summarizeHistogram(mergeHistograms([a, b]));
    assert.deepEqual(summarizeHistogram(a), before);
    assert.equal(m.count, 4);
    assert.equal(m.belowRangeCount, 1);
    assert.equal(m.aboveRangeCount, 1);
    assert.equal(m.invalidCount, 1);
    assert.equal(summarizeHistogram(mergeHistograms([])).count, 0);
  });

  test('encode then decode is exact', () => {
    const h = histogramOf([...sampleValuesUs(5000), -3, HIGHEST_US + 10, NaN]);
    const encoded = encodeHistogram(h);
    assert.match(encoded, /^bench-hdr1:1:1:1:HISTF/);
    const d = decodeHistogram(encoded);
    assert.deepEqual(summarizeHistogram(d), summarizeHistogram(h));
    for (let p = 0; p <= 100; p += 0.5) {
      assert.equal(d.hdr.getValueAtPercentile(p), h.hdr.getValueAtPercentile(p), `p${p}`);
    }
    // Re-encoding the decoded histogram gives the same string: nothing drifted.
    assert.equal(encodeHistogram(d), encoded);
  });

  test('decoded histograms merge like live ones (the worker → coordinator path)', () => {
    const values = sampleValuesUs(9000);
    const parts = [values.slice(0, 3000), values.slice(3000, 6000), values.slice(6000)];
    const merged = mergeHistograms(parts.map((p) => decodeHistogram(encodeHistogram(histogramOf(p)))));
    assert.deepEqual(summarizeHistogram(merged), summarizeHistogram(histogramOf(values)));
  });

  test('decode accepts a bare standard HdrHistogram string and rejects garbage', () => {
    const h = histogramOf([1, 2, 3]);
    const bare = encodeHistogram(h).split(':')[4]!;
    assert.equal(summarizeHistogram(decodeHistogram(bare)).count, 3);
    assert.throws(() => decodeHistogram('nonsense'), TypeError);
    assert.throws(() => decodeHistogram('bench-hdr1:x:0:0:' + bare), TypeError);
    assert.throws(() => decodeHistogram('bench-hdr1:0:0:' + bare), TypeError);
  });
});

describe('LatencyRecorder', () => {
  test('flushing gives exactly the histogram that recordUs gives, counters included', async () => {
    const { LatencyRecorder } = await import('../../loadgen/histogram.js');
    const direct = createLatencyHistogram();
    const viaRecorder = createLatencyHistogram();
    const rec = new LatencyRecorder();
    const values = [0, -5, 0.4, 1, 1.5, 2047, 2048, 2049, 4095, 4096, 123_456.7, 59_999_999, 60_000_000, 70_000_000, Infinity, NaN];
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      values.push((x % 1_000_000) * (i % 7 === 0 ? 50 : 1) + (x % 1000) / 1000);
    }
    for (const v of values) {
      recordUs(direct, v);
      rec.record(v);
    }
    rec.flushInto(viaRecorder);
    assert.equal(encodeHistogram(viaRecorder), encodeHistogram(direct));
    assert.deepEqual(summarizeHistogram(viaRecorder), summarizeHistogram(direct));
    rec.flushInto(viaRecorder);
    assert.equal(viaRecorder.hdr.totalCount, direct.hdr.totalCount, 'a flush clears the recorder');
  });
});
