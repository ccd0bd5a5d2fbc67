import { textRows } from '../../report/units.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult } from '../../schema/result.js';
import { summarizeCells } from '../../core/summarize.js';
import { MISSING, buildView, summaryOf } from '../../report/view.js';
import { OPEN_CASE, loadFixture } from '../helpers/make-fixture.js';

const fixture = loadFixture();

function openRows(r: RunResult): Map<string, Record<string, string>> {
  const c = buildView(r).cases.find((x) => x.name === OPEN_CASE)!;
  return new Map(textRows(c.rows).map((row) => [row[0]!, Object.fromEntries(c.columns.map((col, i) => [col.id, row[i]!]))]));
}

/** The fixture with lower-bound flags set per runtime of the open case, summary recomputed. */
function withLowerBounds(runtimes: string[]): RunResult {
  const r: RunResult = structuredClone(fixture);
  for (const c of r.cells) if (c.case === OPEN_CASE && c.metrics) c.metrics.throughputIsLowerBound = runtimes.includes(c.runtime);
  r.summary = summarizeCells(r.cells, r.settings.referenceRuntime);
  return r;
}

describe('report view', () => {
  const ratioCases: { name: string; bound: string[]; expected: Record<string, string> }[] = [
    { name: 'exact over exact is a plain ratio', bound: [], expected: { bun: '1.07×', 'node-uws': '1.07×' } },
    { name: 'a lower bound over the reference is a lower bound', bound: ['bun'], expected: { bun: '≥ 1.07×', 'node-uws': '1.07×' } },
    { name: 'over a lower-bound reference is an upper bound', bound: ['node-ws'], expected: { bun: '≤ 1.07×', 'node-ws': 'ref' } },
    { name: 'two lower bounds give no ratio', bound: ['node-ws', 'bun'], expected: { bun: '?', deno: '≤ 1.07×' } },
  ];
  for (const c of ratioCases) {
    test(`×ref: ${c.name}`, () => {
      const rows = openRows(withLowerBounds(c.bound));
      for (const [rt, text] of Object.entries(c.expected)) assert.equal(rows.get(rt)!['ratio'], text, rt);
    });
  }

  test('a runtime with no completed repetition shows dashes, not zeros', () => {
    const r: RunResult = structuredClone(fixture);
    for (const c of r.cells) {
      if (c.case === OPEN_CASE && c.runtime === 'deno') {
        c.status = 'errored';
        delete c.metrics;
        c.error = { code: 'E_SERVER_EXITED', message: 'crashed', details: [] };
      }
    }
    r.summary = [];
    const deno = openRows(r).get('deno (0/3)')!;
    assert.equal(deno['msgsPerSec'], MISSING);
    assert.equal(deno['p99'], MISSING);
    assert.equal(deno['errors'], MISSING);
  });

  test('uses the stored summary, and computes one when there is none', () => {
    assert.equal(summaryOf(fixture), fixture.summary);
    assert.deepEqual(summaryOf({ ...fixture, summary: [] }), fixture.summary);
  });

  test('lists the warnings of every row in summary order', () => {
    const v = buildView(fixture);
    assert.deepEqual(
      v.warnings.map((w) => `${w.where}:${w.code}`),
      fixture.summary.flatMap((r) => r.warnings.map((w) => `${r.case} · ${r.runtime}:${w.code}`)),
    );
  });

  test('reports when no server reported settings, and recorded differences', () => {
    const r: RunResult = { ...fixture, parity: { manifests: {}, differences: ['maxPayloadBytes: bun=1, deno=2'] } };
    assert.deepEqual(buildView(r).parity, [
      ['(none)', 'no server reported its effective settings'],
      ['recorded difference', 'maxPayloadBytes: bun=1, deno=2'],
    ]);
    const r2: RunResult = { ...fixture, parity: { ...fixture.parity, differences: ['autoPing: contract=false, deno=true'] } };
    assert.deepEqual(buildView(r2).parity.at(-1), ['recorded difference', 'autoPing: contract=false, deno=true']);
  });
});

describe('groupWarnings', () => {
  test('lists a warning shared by rows once, with the rows (or "every row")', async () => {
    const { groupWarnings } = await import('../../report/view.js');
    const w = { code: 'single-run' as const, of: 1 };
    const other = { code: 'rss-growing' as const, growthPct: 12 };
    const row = (c: string, r: string, ws: (typeof w | typeof other)[]) =>
      ({ case: c, scenario: c, runtime: r, completed: 1, errored: 0, throughputIsLowerBound: false, ratioToReference: {}, warnings: ws });
    const out = groupWarnings([row('echo', 'bun', [w, other]), row('echo', 'deno', [w]), row('idle', 'bun', [w, other])]);
    assert.deepEqual(out.map((x) => [x.code, x.where]), [
      ['single-run', 'every row (3)'],
      ['rss-growing', 'echo · bun, idle · bun'],
    ]);
  });
});

describe('views carry numbers with units', () => {
  test('a case row holds figures, which a chart can use as they are; the text is made at the edge', async () => {
    const { isFigure } = await import('../../report/view.js');
    const { formatCell } = await import('../../report/units.js');
    const c = buildView(fixture).cases.find((x) => x.name === OPEN_CASE)!;
    const i = c.columns.findIndex((col) => col.id === 'p99');
    const cell = c.rows[0]![i]!;
    assert.ok(isFigure(cell));
    assert.equal(cell.unit, 'µs');
    assert.equal(cell.value, fixture.summary.find((r) => r.case === OPEN_CASE && r.runtime === c.rows[0]![0])!.latencyP99Us!.median);
    assert.match(formatCell(cell), /^\d[\d.]* (µs|ms)$/);
  });
});

describe('closed-loop latency is labelled as such', () => {
  test("a closed loop's latency column says closed-loop, with Little's law in a footnote; an open loop's does not", async () => {
    const { syntheticResult } = await import('../helpers/synthetic.js');
    const v = buildView(syntheticResult({ cases: ['echo', 'echo-rate@10000/s'] }));
    const closed = v.cases.find((c) => c.name === 'echo')!;
    const open = v.cases.find((c) => c.name === 'echo-rate@10000/s')!;
    assert.deepEqual(closed.columns.find((c) => c.id === 'p50')?.header, ['closed-loop', 'latency p50']);
    assert.ok(closed.footnotes.some((f) => /Little's law/.test(f)));
    assert.deepEqual(open.columns.find((c) => c.id === 'p50')?.header, ['latency', 'p50']);
    assert.ok(!open.footnotes.some((f) => /Little's law/.test(f)));
  });
});
