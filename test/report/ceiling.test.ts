import { textRows } from '../../report/units.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fitMemory, memoryPerConnection } from '../../core/ceiling.js';
import type { CeilingMetrics, CeilingPlateau, CellResult, PlateauVerdict, RunResult } from '../../schema/result.js';
import { ceilingViews, hasCeilings } from '../../report/ceiling.js';
import { CSV_COLUMNS, csvFormat } from '../../report/csv.js';
import { markdownFormat } from '../../report/markdown.js';
import { tableFormat } from '../../report/table.js';
import { cell } from '../helpers/cells.js';
import { loadFixture } from '../helpers/make-fixture.js';

function plateau(connections: number, bytesPerConn: number, ok = true): CeilingPlateau {
  return {
    targetConnections: connections,
    connections,
    bisection: false,
    rssIdleBytes: 40e6 + bytesPerConn * connections,
    rssIdleSettled: true,
    rssBytes: 40e6 + 1.1 * bytesPerConn * connections,
    rssSettled: true,
    p50Us: 700,
    p99Us: ok ? 4000 : 90_000,
    maxUs: 9000,
    heartbeatsSent: connections,
    heartbeatsLost: 0,
    connectAttempted: 2400,
    connectFailed: 0,
    errors: {},
    drops: 0,
    cpuPct: 20,
    idleCpuPct: 0,
    fds: connections + 20,
    threads: 5,
    kernelTcpMemBytes: 400_000,
    kernelSlabBytes: 1e8 + 9000 * connections,
    connectMs: 300,
    loadgenSaturated: false,
    ok,
    verdict: ok ? { ok: true } : { ok: false, cause: 'latency', limitClass: 'runtime' },
  };
}

/** A ceiling search's metrics: good plateaus up to `upTo`, then the bad plateau `bad` (its figures and verdict). */
function ceiling(o: Partial<CeilingMetrics> & { bytesPerConn: number; upTo: number; bad: Partial<CeilingPlateau> & { verdict: PlateauVerdict } }): CeilingMetrics {
  const { bad, ...rest } = o;
  const good = [2400, 4800, 7200, 9600, 12_000, 14_400, 16_800, 19_200].filter((n) => n <= o.upTo).map((n) => plateau(n, o.bytesPerConn));
  const badPlateau: CeilingPlateau = { ...plateau(bad.targetConnections ?? 20_044, o.bytesPerConn, false), ...bad, ok: false };
  const plateaus = [...good, badPlateau];
  return {
    ceilingConnections: null,
    lastGoodConnections: good.at(-1)!.connections,
    firstBadConnections: badPlateau.targetConnections,
    refined: null,
    cause: bad.verdict.cause!,
    limitClass: bad.verdict.limitClass!,
    stop: bad.verdict,
    openFileLimit: 20_000,
    maxConnections: 24_000,
    stopShortOfFdLimitBy: 0,
    slo: { heartbeatP99Ms: 50, maxErrorRatio: 0.001, memoryBudgetMiB: null, maxServerCpuPct: 95 },
    plateaus,
    memory: memoryPerConnection(plateaus),
    searchMs: 30_000,
    ...rest,
  };
}

function ceilingCell(runtime: string, repetition: number, c: CeilingMetrics): CellResult {
  return cell({ case: 'ceiling', runtime, repetition, metrics: { msgsPerSec: 0, ceiling: c } });
}

/** At 20,044 connections, the step past the open-file limit: 64 connects timed out while the server spun. */
const spins = { targetConnections: 20_044, connections: 19_200, connectAttempted: 844, connectFailed: 64, errors: { timeout: 64 }, idleCpuPct: 99, verdict: { ok: false, cause: 'fd-limit', limitClass: 'environment', atFdLimit: 'spins' } } as const;
const base = loadFixture();
const result: RunResult = {
  ...base,
  cells: [
    ...base.cells,
    ceilingCell('bun', 1, ceiling({ bytesPerConn: 1300, upTo: 19_200, bad: { ...spins, errors: { ...spins.errors }, verdict: { ...spins.verdict } } })),
    ceilingCell('bun', 2, ceiling({ bytesPerConn: 1340, upTo: 19_200, bad: { ...spins, errors: { ...spins.errors }, verdict: { ...spins.verdict } } })),
    ceilingCell(
      'node-ws',
      1,
      ceiling({ bytesPerConn: 7000, upTo: 16_800, ceilingConnections: 16_800, bad: { targetConnections: 19_200, connections: 19_200, p99Us: 83_900, verdict: { ok: false, cause: 'latency', limitClass: 'runtime' } } }),
    ),
    ceilingCell(
      'deno',
      1,
      ceiling({
        bytesPerConn: 20_000,
        upTo: 19_200,
        bad: {
          targetConnections: 20_044,
          connections: 0,
          drops: 19_200,
          verdict: { ok: false, cause: 'fd-limit', limitClass: 'environment', atFdLimit: 'exited', serverExit: 'code 1', serverSaid: 'Too many open files (os error 24)' },
        },
      }),
    ),
  ],
};

describe('the connection-ceiling section', () => {
  test('appears only when a result has ceiling cells', () => {
    assert.equal(hasCeilings(base), false);
    assert.equal(ceilingViews(base).length, 0);
    assert.ok(!tableFormat.render(base).includes('connection ceiling'));
    assert.ok(!markdownFormat.render(base).includes('connection ceiling'));
    assert.equal(csvFormat.render(base).split('\r\n')[0]!.split(',').length, CSV_COLUMNS.length);
  });

  const [view] = ceilingViews(result);
  const col = (id: string) => view!.columns.findIndex((c) => c.header.join(' ').includes(id));
  const row = (runtime: string) => textRows(view!.rows).find((r) => r[0] === runtime)!;

  test('one row per runtime; the open-file limit is "not reached", never the socket count the server got to', () => {
    assert.equal(view!.name, 'connection ceiling: ceiling');
    assert.deepEqual(textRows(view!.rows).map((r) => r[0]), ['bun', 'node-ws', 'deno']);
    assert.equal(row('bun')[col('ceiling')], 'not reached: stopped by the open-file limit 20000');
    assert.equal(row('bun')[col('limit')], 'environment');
    assert.equal(row('bun')[col('stopped by')], 'open-file limit');
    assert.equal(row('bun')[col('held')], '19,200');
    assert.equal(row('node-ws')[col('ceiling')], '16,800');
    assert.equal(row('node-ws')[col('limit')], 'runtime');
    assert.equal(row('node-ws')[col('stopped by')], 'heartbeat p99');
    // 7 plateaus of 300 ms each up to 16,800; the search took 30 s.
    assert.equal(row('node-ws')[col('opened')], '2.10 s');
    assert.equal(row('node-ws')[col('search')], '30.0 s');
    // The table wraps footnotes at 120 columns: compare with white space folded.
    const text = tableFormat.render(result).replace(/\s+/g, ' ');
    assert.ok(!/19,99\d|20,0\d\d connections\b(?! it)/.test(textRows(view!.rows).flat().join(' ')), 'no limit-bound count in the table cells');
    assert.match(text, /bun: the server's open-file limit \(20000\): at 20,044 connections it kept running but left connections beyond the limit unanswered \(64 timeout\) and used 99% CPU/);
    assert.match(text, /deno: the server's open-file limit \(20000\): .* exited \(code 1\): "Too many open files \(os error 24\)", dropping every connection/);
    assert.ok(!text.includes('at its open-file limit:'), 'the behaviour is said once, in the cause');
    assert.match(text, /node-ws: heartbeat p99 83\.9 ms is above the bound of 50 ms/);
  });

  test('memory per connection with its spread over repetitions, the fit R², kernel memory and labelled projections', () => {
    // bun: 1300 and 1340 B/conn over two repetitions: median 1320, MAD/median 20/1320 = 1.5%.
    assert.equal(row('bun')[col('bytes/conn idle')], '1.29 KiB ±1.5%');
    assert.equal(row('node-ws')[col('bytes/conn idle')], '6.84 KiB');
    assert.equal(row('node-ws')[col('bytes/conn active')], '7.52 KiB');
    assert.equal(row('node-ws')[col('fit R²')], '1.000');
    // 9000 B of slab per connection, halved: 4.39 KiB per socket.
    assert.equal(row('deno')[col('kernel/ socket')], '4.39 KiB');
    const fit = fitMemory(result.cells.find((c) => c.id === 'ceiling/node-ws/1')!.metrics!.ceiling!.memory.active!.points)!;
    assert.equal(row('node-ws')[col('proj. 1 GiB')], `≈${Math.floor((1024 ** 3 - fit.interceptBytes) / fit.bytesPerConnection / 1000)}k`);
    assert.ok(view!.footnotes.some((f) => f.startsWith('proj.: projections, not measurements')));
  });

  test('Markdown carries the same rows as the table', () => {
    const md = markdownFormat.render(result);
    assert.match(md, /^## connection ceiling: ceiling$/m);
    for (const r of textRows(view!.rows)) assert.ok(md.includes(`| ${r.join(' | ')} |`), r.join(' | '));
  });

  test('the CSV gets the ceiling columns, filled for ceiling cells only', () => {
    const lines = csvFormat.render(result).trimEnd().split('\r\n');
    const header = lines[0]!.split(',');
    assert.ok(header.length > CSV_COLUMNS.length);
    const at = (name: string) => header.indexOf(name);
    const bun = lines.find((l) => l.startsWith('ceiling,ceiling,bun,1,'))!.split(',');
    assert.equal(bun[at('ceilingConnections')], '');
    assert.equal(bun[at('ceilingCause')], 'fd-limit');
    assert.equal(bun[at('limitClass')], 'environment');
    assert.equal(bun[at('atFdLimit')], 'spins');
    assert.equal(bun[at('lastGoodConnections')], '19200');
    assert.equal(Math.round(Number(bun[at('bytesPerConnIdle')])), 1300);
    const nodeWs = lines.find((l) => l.startsWith('ceiling,ceiling,node-ws,1,'))!.split(',');
    assert.equal(nodeWs[at('ceilingConnections')], '16800');
    const echo = lines[1]!.split(',');
    assert.equal(echo[at('ceilingCause')], '');
  });
});
