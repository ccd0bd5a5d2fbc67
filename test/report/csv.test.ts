import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult } from '../../schema/result.js';
import { CSV_COLUMNS, csvField, csvFormat } from '../../report/csv.js';
import { ERRORED_CELL, LOWER_BOUND_CELL, OPEN_CASE, loadFixture } from '../helpers/make-fixture.js';

/** A strict RFC 4180 parser: CRLF records, quoted fields with "" escapes; throws on malformed input. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), (i += 2);
      else if (ch === '"') (quoted = false), i++;
      else (field += ch), i++;
      continue;
    }
    if (ch === '"') {
      if (field !== '') throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
    } else if (ch === ',') (record.push(field), (field = ''), i++);
    else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      (record = []), (field = ''), (i += 2);
    } else if (ch === '\n' || ch === '\r') throw new Error(`bare line break at ${i}`);
    else (field += ch), i++;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || record.length > 0) throw new Error('last record not terminated by CRLF');
  return records;
}

const fixture = loadFixture();
const records = parseCsv(csvFormat.render(fixture));
const header = records[0]!;
const byId = new Map(records.slice(1).map((r) => [`${r[0]}/${r[2]}/${r[3]}`, Object.fromEntries(header.map((h, i) => [h, r[i]!]))]));

describe('csv report', () => {
  test('has the header row with the documented columns', () => {
    assert.deepEqual(header, [
      'case', 'scenario', 'runtime', 'repetition', 'status', 'msgsPerSec', 'lowerBound',
      'latencyP50Us', 'latencyP90Us', 'latencyP99Us', 'latencyP999Us', 'latencyMaxUs', 'connectP50Us',
      'serverCpuUsPerMsg', 'serverCpuUtilPct', 'rssBaselineBytes', 'rssPeakBytes', 'rssEndBytes', 'bytesPerConnection',
      'errors', 'lost', 'duplicated', 'corrupted', 'outOfOrder', 'loadgenCpuPctMax', 'saturated', 'warnings',
      'errorCode', 'errorMessage',
    ]);
    assert.deepEqual(header, CSV_COLUMNS.map((c) => c.name));
  });

  test('parses back to one row per cell, every row as wide as the header', () => {
    assert.equal(records.length, 1 + fixture.cells.length);
    for (const r of records) assert.equal(r.length, header.length);
    assert.deepEqual([...byId.keys()], fixture.cells.map((c) => c.id));
  });

  test('keeps raw numbers, not rounded ones', () => {
    const cell = fixture.cells.find((c) => c.id === `${OPEN_CASE}/bun/1`)!;
    const row = byId.get(cell.id)!;
    assert.equal(Number(row['msgsPerSec']), cell.metrics!.msgsPerSec);
    assert.equal(Number(row['latencyP99Us']), cell.metrics!.latencyUs.p99Us);
    assert.equal(Number(row['rssPeakBytes']), cell.metrics!.rssPeakBytes);
    assert.equal(row['lowerBound'], 'false');
    assert.equal(row['warnings'], 'server-killed');
  });

  test('flags the lower-bound cell and its saturated generator', () => {
    const row = byId.get(LOWER_BOUND_CELL)!;
    assert.equal(row['lowerBound'], 'true');
    assert.equal(row['saturated'], 'true');
    assert.equal(row['warnings'], 'loadgen-bound');
  });

  test('sums errors and shows delivery problems; joins warning codes with ;', () => {
    const row = byId.get(`${OPEN_CASE}/node-ws/3`)!;
    assert.equal(row['errors'], '2');
    assert.equal(row['lost'], '12');
    assert.equal(row['warnings'], 'rate-missed;delivery-errors');
  });

  test('leaves latency empty for idle cells and metrics empty for the errored cell', () => {
    const idle = byId.get('idle/bun/1')!;
    assert.equal(idle['latencyP50Us'], '');
    assert.notEqual(idle['connectP50Us'], '');
    assert.equal(idle['msgsPerSec'], '0');
    const errored = byId.get(ERRORED_CELL)!;
    assert.equal(errored['status'], 'errored');
    assert.equal(errored['msgsPerSec'], '');
    assert.equal(errored['errorCode'], 'E_SERVER_EXITED');
    assert.match(errored['errorMessage']!, /^the deno server exited/);
  });

  test('quotes commas, quotes and line breaks so they round-trip', () => {
    const r: RunResult = structuredClone(fixture);
    const message = 'bad "frame", then\r\nclose 1002\nbye';
    r.cells[0]!.error = { code: 'E_LOADGEN_FAILED', message, details: [] };
    const row = parseCsv(csvFormat.render(r))[1]!;
    assert.equal(row[header.indexOf('errorMessage')], message);
  });
});

describe('csvField', () => {
  const cases: [Parameters<typeof csvField>[0], string][] = [
    [undefined, ''],
    [null, ''],
    [0, '0'],
    [false, 'false'],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
  ];
  for (const [input, expected] of cases) test(`${JSON.stringify(input)} → ${expected}`, () => assert.equal(csvField(input), expected));
});
