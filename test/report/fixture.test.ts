import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeCells } from '../../core/summarize.js';
import type { Warning } from '../../schema/result.js';
import { decodeHistogram, summarizeHistogram } from '../../loadgen/histogram.js';
import {
  ERRORED_CELL,
  FIXTURE_RUNTIMES,
  IDLE_CASE,
  LOWER_BOUND_CELL,
  OPEN_CASE,
  buildFixtureResult,
  loadFixture,
} from '../helpers/make-fixture.js';

// The reports' tests all read this fixture; these tests keep it honest.
describe('the run-result fixture', () => {
  const fixture = loadFixture();

  test('is what make-fixture builds (regenerate with node dist/test/helpers/make-fixture.js)', () => {
    assert.deepEqual(fixture, JSON.parse(JSON.stringify(buildFixtureResult())));
  });

  test('holds 2 cases × 4 runtimes × 3 repetitions', () => {
    assert.equal(fixture.cells.length, 24);
    for (const c of [OPEN_CASE, IDLE_CASE]) {
      for (const rt of FIXTURE_RUNTIMES) {
        assert.deepEqual(
          fixture.cells.filter((x) => x.case === c && x.runtime === rt).map((x) => x.repetition),
          [1, 2, 3],
        );
      }
    }
  });

  test("every completed cell's histograms decode to its stored summaries", () => {
    for (const c of fixture.cells.filter((x) => x.status === 'completed')) {
      assert.deepEqual(summarizeHistogram(decodeHistogram(c.raw!.latencyEncoded)), c.metrics!.latencyUs, c.id);
      assert.deepEqual(summarizeHistogram(decodeHistogram(c.raw!.connectEncoded)), c.metrics!.connectUs, c.id);
    }
  });

  test('has latency in the open-loop case and none in the idle case', () => {
    for (const c of fixture.cells.filter((x) => x.status === 'completed')) {
      if (c.case === OPEN_CASE) {
        assert.ok(c.metrics!.latencyUs.count > 0);
        assert.equal(c.metrics!.openLoop?.targetPerSec, 50_000);
      } else assert.equal(c.metrics!.latencyUs.count, 0);
    }
  });

  test('has one lower-bound cell and one errored cell with details', () => {
    assert.deepEqual(
      fixture.cells.filter((c) => c.metrics?.throughputIsLowerBound).map((c) => c.id),
      [LOWER_BOUND_CELL],
    );
    const errored = fixture.cells.filter((c) => c.status === 'errored');
    assert.deepEqual(
      errored.map((c) => c.id),
      [ERRORED_CELL],
    );
    assert.ok(errored[0]!.error!.details.length > 0);
  });

  test('raises every warning code at least once', () => {
    const all: Warning['code'][] = ['loadgen-bound', 'rate-missed', 'rss-growing', 'high-spread', 'single-run', 'delivery-errors', 'server-cpu-unpinned', 'server-killed'];
    const seen = new Set(fixture.summary.flatMap((r) => r.warnings.map((w) => w.code)));
    for (const code of all) assert.ok(seen.has(code), code);
  });

  test('stores the summary summarizeCells gives', () => {
    assert.deepEqual(fixture.summary, JSON.parse(JSON.stringify(summarizeCells(fixture.cells, fixture.settings.referenceRuntime))));
  });
});
