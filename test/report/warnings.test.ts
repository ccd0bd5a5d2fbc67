import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeWarning } from '../../report/warnings.js';
import type { WarningCode } from '../../schema/result.js';
import { SAMPLE_WARNINGS } from '../helpers/warnings.js';

/** For every warning code: what its words must say, from the sample's figures (test/helpers/warnings.ts). */
const SAYS: Record<WarningCode, RegExp[]> = {
  'loadgen-bound': [/CPU 1 at 97% \(workers 0, 1\)/],
  'rate-missed': [/target 50,000 msg\/s/, /sent 49,990 msg\/s/, /received 28,400 msg\/s/, /120 of 249,950 sends late, 0 dropped/],
  'rss-growing': [/grew 23%/],
  'delivery-errors': [/lost 12, duplicated 3, corrupted 1, out of order 2, misdelivered 7/, /4 connections closed by the server \(close codes: 1 × 1006 \(no close frame\), 3 × 1009\)/, /5 failed connects/],
  'upstream-bound': [/86% of a core/, /dropped 9 reply chunks/],
  'parity-unknown': [/did not report its settings/],
  'server-unobserved': [/port 40123/, /pid 4242/],
  'server-cpu-unpinned': [/2 of 11 server threads are not confined to CPUs 0/],
  'clock-offset': [/load segments 0 and 2 differ by about 1\.25 ms/, /more than the 0\.05 ms/],
  'server-killed': [/SIGTERM for 2\.0 s/],
  'rss-unsettled': [/±1% over 500 ms at 12,000 connections \(timeout 3000 ms\)/],
  'high-spread': [/msgs\/s varies ±14\.2% \(MAD\/median\) over 5 repetitions/],
  'single-run': [/only 1 completed repetition of 3/],
};

describe('the words of every warning', () => {
  for (const [code, patterns] of Object.entries(SAYS) as [WarningCode, RegExp[]][]) {
    test(`${code}: the message carries the figures it is about, and a hint`, () => {
      const { message, hint } = describeWarning(SAMPLE_WARNINGS[code]);
      for (const p of patterns) assert.match(message, p);
      assert.ok(hint.length > 10, 'a hint that says what to change');
    });
  }

  test('a clock offset is worded by what was measured: between segments, a stepped wall clock, a late start', () => {
    const w = SAMPLE_WARNINGS['clock-offset'];
    assert.match(describeWarning(w).hint, /synchronise the load machines' clocks/);
    assert.match(describeWarning({ ...w, basis: 'wall-step', offsetMs: 12, boundMs: 10 }).message, /segment 2's wall clock moved 12\.00 ms against its monotonic clock/);
    const late = describeWarning({ ...w, basis: 'late-start', offsetMs: -300, boundMs: 10 });
    assert.match(late.message, /segment 2 was ready 300 ms after the agreed start/);
    assert.match(late.hint, /more time before --start-at/);
    assert.match(describeWarning({ code: 'server-unobserved', reason: 'remote' }).message, /merged from load segments: the server ran on another machine/);
  });

  test('repetitions are said after the message', () => {
    assert.match(describeWarning({ ...SAMPLE_WARNINGS['rss-growing'], repetitions: { count: 2, of: 5 } }).message, /\(in 2 of 5 repetitions\)$/);
  });

  test('a missed rate blames the part the figures point at, never the other', () => {
    const w = SAMPLE_WARNINGS['rate-missed'];
    assert.match(describeWarning({ ...w, part: 'server' }).hint, /generator kept its schedule/);
    assert.doesNotMatch(describeWarning({ ...w, part: 'server' }).hint, /load generator could not/);
    assert.match(describeWarning({ ...w, part: 'loadgen' }).hint, /load generator could not keep its schedule/);
    assert.doesNotMatch(describeWarning({ ...w, part: 'loadgen' }).hint, /server did not carry/);
    assert.match(describeWarning({ ...w, part: 'server-reads' }).hint, /server stopped reading/);
    // A relay's replies are not its sends: no "received" figure where none was expected.
    assert.doesNotMatch(describeWarning({ ...w, receivedPerSec: null }).message, /received/);
  });
});
