import { textRows } from '../../report/units.js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fitMemory } from '../../core/ceiling.js';
import type { RunResult } from '../../schema/result.js';
import { ceilingViews, hasCeilings } from '../../report/ceiling.js';
import { CSV_COLUMNS, csvFormat } from '../../report/csv.js';
import { markdownFormat } from '../../report/markdown.js';
import { tableFormat } from '../../report/table.js';
import { ceilingResult } from '../helpers/ceiling-cells.js';
import { loadFixture } from '../helpers/make-fixture.js';

const base = loadFixture();
const result: RunResult = ceilingResult(base);

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
