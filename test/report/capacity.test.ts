import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CapacityMetrics, RunResult } from '../../schema/result.js';
import { capacityHeadline, capacityViews, describeCapacityStop, describeLift, hasCapacity } from '../../report/capacity.js';
import { markdownFormat } from '../../report/markdown.js';
import { tableFormat } from '../../report/table.js';
import { textRows } from '../../report/units.js';
import { capacityCell, capacityPlateau, voiceCapacity } from '../helpers/capacity-cells.js';
import { loadFixture } from '../helpers/make-fixture.js';

const cpu = { kind: 'cpu' as const, cpus: '1', workers: [0], pct: 97 };

/** bun: the relay share broke at 160 sessions (bisected to 120); node-ws: the load generator's limit at 80; deno: every level held. */
const bun = voiceCapacity({
  good: [20, 40, 80],
  bad: capacityPlateau(160, { verdict: { ok: false, cause: 'latency', limitClass: 'runtime', latency: ['latency'] }, latencyP99Us: 31_200 }),
  capacity: 120,
  perCore: 120,
  refined: 'bisection',
});
const nodeWs = voiceCapacity({
  good: [20, 40],
  bad: capacityPlateau(80, { verdict: { ok: true, cause: 'loadgen', limitClass: 'environment', loadgenReasons: [cpu], lastLevel: true } }),
  capacity: 80,
  perCore: 80,
  limit: { part: 'loadgen', cpus: '1', shared: false },
});
const deno = voiceCapacity({ good: [20, 40, 80, 160, 320], capacity: 320, perCore: 320 });
const upstream: CapacityMetrics = voiceCapacity({
  good: [20, 40],
  bad: capacityPlateau(80, { verdict: { ok: false, cause: 'upstream', limitClass: 'environment' }, upstreamCpuPct: 93, upstreamChunksDropped: 12 }),
  limit: { part: 'upstream', cpus: '1', shared: true },
});

const base = loadFixture();
const result: RunResult = {
  ...base,
  cells: [...base.cells, capacityCell('bun', 1, bun), capacityCell('node-ws', 1, nodeWs), capacityCell('deno', 1, deno)],
};

describe('capacity in words', () => {
  test('the headline: the figure when the server stopped the search, a bound (≥) with whose limit when not', () => {
    assert.equal(capacityHeadline(bun), '120 sessions (120 sessions per core)');
    assert.equal(capacityHeadline(nodeWs), "≥ 80 sessions (80 sessions per core): the load generator's limit here");
    assert.equal(capacityHeadline(deno), '≥ 320 sessions (320 sessions per core): every level met the SLO');
    assert.equal(capacityHeadline(upstream), "≥ 40 sessions (40 sessions per core): the simulated upstream's limit here");
    assert.equal(capacityHeadline({ ...bun, capacity: null, perCore: null }), 'below the first level (20 sessions): latency');
    assert.equal(capacityHeadline({ ...nodeWs, capacity: null, perCore: null, cause: 'loadgen', limitClass: 'environment' }), 'not measured: the load generator was the limit at the first level (20 sessions)');
  });

  test('what broke first, with the figure and the bound', () => {
    assert.equal(describeCapacityStop(bun), "the relay's share of the first chunk p99 31.2 ms is above the bound of 20 ms at 160 sessions");
    assert.equal(describeCapacityStop(deno), 'every level up to 320 sessions met the SLO: the server carries at least that; raise load.levels to find where it stops');
  });

  test("which part of the machine stopped a lower bound, and what would lift it", () => {
    assert.equal(describeLift(bun), undefined);
    const gen = describeCapacityStop(nodeWs);
    assert.match(gen, /at 80 sessions the SLO held, but the load generator fell behind \(load-generator CPU 1 at 97%/);
    assert.match(gen, /the load generator \(CPUs 1\) was the limit, so the server's capacity is at least this: more CPUs for the generator \(--loadgen-cpus/);
    const up = describeCapacityStop(upstream);
    assert.match(up, /the simulated upstream was busy at 80 sessions \(CPU 93% of a core, 12 reply chunks dropped\)/);
    assert.match(up, /the simulated upstream \(on the load generator's CPUs 1\) was the limit/);
  });
});

describe('the capacity section', () => {
  test('appears only when a result has capacity cells', () => {
    assert.equal(hasCapacity(base), false);
    assert.deepEqual(capacityViews(base), []);
    assert.ok(!markdownFormat.render(base).includes('capacity at the SLO'));
  });

  const [view] = capacityViews(result);
  const col = (id: string) => view!.columns.findIndex((c) => c.header.join(' ') === id);
  const row = (runtime: string) => textRows(view!.rows).find((r) => r[0] === runtime)!;

  test('one row per runtime: the capacity (≥ for a bound), per core, what broke first, the cost there and projections', () => {
    assert.equal(view!.name, 'capacity at the SLO: voice-agent-capacity');
    assert.equal(view!.scenario, 'voice-agent-capacity');
    assert.deepEqual(textRows(view!.rows).map((r) => r[0]), ['bun', 'node-ws', 'deno']);
    assert.equal(row('bun')[col('capacity')], '120 (bisected)');
    assert.equal(row('node-ws')[col('capacity')], '≥ 80');
    assert.equal(row('bun')[col('broke first')], 'latency');
    assert.equal(row('node-ws')[col('broke first')], 'load generator');
    assert.equal(row('deno')[col('broke first')], 'levels ran out');
    assert.equal(row('node-ws')[col('limit')], 'environment');
    // 200 kB per session over the plateaus: the slope, and ≈5.4k sessions per GiB.
    assert.equal(row('bun')[col('bytes/ unit')], '195 KiB');
    assert.equal(row('bun')[col('proj. per GiB')], '≈5.37k');
    assert.equal(row('bun')[col('proj. servers')], '≈834');
    assert.match(view!.subtitle, /SLO: relay share p99 ≤ 20 ms, first chunk p99 ≤ 1000 ms, loss ≤ 0\.1%, server CPU < 90%/);
  });

  test('the footnotes say why each stopped and label the projections', () => {
    const notes = view!.footnotes.join('\n');
    assert.match(notes, /^bun: the relay's share of the first chunk p99 31\.2 ms is above the bound of 20 ms at 160 sessions$/m);
    assert.match(notes, /^node-ws: at 80 sessions the SLO held/m);
    assert.match(notes, /proj\. servers: a projection, not a measurement: servers like this one \(1 CPU each\) for 100,000 sessions/);
  });

  test('the table and Markdown reports show it', () => {
    assert.match(tableFormat.render(result), /capacity at the SLO: voice-agent-capacity/);
    assert.match(markdownFormat.render(result), /capacity at the SLO: voice-agent-capacity/);
  });
});

describe('the capacity columns of the CSV', () => {
  test('appear only with capacity cells, one value per cell', async () => {
    const { csvFormat, CSV_COLUMNS } = await import('../../report/csv.js');
    assert.equal(csvFormat.render(base).split('\r\n')[0]!.split(',').length, CSV_COLUMNS.length);
    const lines = csvFormat.render(result).split('\r\n');
    const header = lines[0]!.split(',');
    const at = header.indexOf('capacity');
    assert.ok(at > 0);
    const bunLine = lines.find((l) => l.startsWith('voice-agent-capacity,voice-agent-capacity,bun,1,'))!;
    assert.equal(bunLine.split(',')[at], '120');
    assert.equal(bunLine.split(',')[header.indexOf('capacityCause')], 'latency');
  });
});
