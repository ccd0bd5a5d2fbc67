import { describeWarning } from '../../report/warnings.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult } from '../../schema/result.js';
import { TABLE_WIDTH, tableFormat, wrap } from '../../report/table.js';
import { FIXTURE_RUNTIMES, IDLE_CASE, OPEN_CASE, loadFixture } from '../helpers/make-fixture.js';

const fixture = loadFixture();
const text = tableFormat.render(fixture);
const lines = text.split('\n');

/** The lines of one case's section: from its title to the next blank line after its tables. */
function section(caseName: string): string[] {
  const start = lines.findIndex((l) => l.startsWith(`${caseName}  (`));
  assert.ok(start >= 0, `no section for ${caseName}`);
  const end = lines.findIndex((l, i) => i > start && l === '');
  return lines.slice(start, end);
}

/** Body rows of the section's tables, runtime → every cell after the runtime column, across split tables. */
function rowsOf(caseName: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const bodyRow = /^│ (\S+)/;
  let inBody = false;
  for (const l of section(caseName)) {
    if (l.startsWith('├')) inBody = true;
    else if (l.startsWith('└')) inBody = false;
    else if (inBody && bodyRow.test(l)) {
      const cells = l.split('│').slice(1, -1).map((c) => c.trim());
      const runtime = cells[0]!.split(' ')[0]!;
      out.set(runtime, [...(out.get(runtime) ?? []), ...cells.slice(1)]);
    }
  }
  return out;
}

describe('table report', () => {
  test('names every case and every runtime in each case', () => {
    for (const c of [OPEN_CASE, IDLE_CASE]) assert.deepEqual([...rowsOf(c).keys()], [...FIXTURE_RUNTIMES]);
  });

  test('prints the lower-bound throughput with ≥ and a footnote mark, never bare', () => {
    const uws = rowsOf(OPEN_CASE).get('node-uws')!;
    assert.match(uws[0]!, /^≥ 50\.0k ±\S+ \*$/);
    assert.equal(uws[1], '≥ 1.07×');
    assert.ok(section(OPEN_CASE).some((l) => l.startsWith('  * lower bound')));
    for (const rt of ['bun', 'node-ws', 'deno']) assert.doesNotMatch(rowsOf(OPEN_CASE).get(rt)![0]!, /≥|\*/);
  });

  test('shows the reference as "ref" and the others as ratios of medians', () => {
    const rows = rowsOf(OPEN_CASE);
    assert.equal(rows.get('node-ws')![1], 'ref');
    assert.equal(rows.get('bun')![1], '1.07×');
  });

  test('prints latency in human units for the open-loop case and drops the empty columns of the idle case', () => {
    const bun = rowsOf(OPEN_CASE).get('bun')!;
    assert.deepEqual(bun.slice(2, 6), ['182 µs', '595 µs', '825 µs', '1.13 ms']);
    const idle = section(IDLE_CASE).join('\n');
    for (const gone of ['msgs/s', '×ref', 'p99', 'latency', 'µs/msg']) assert.ok(!idle.includes(gone), gone);
    assert.deepEqual(rowsOf(IDLE_CASE).get('bun'), ['44.3 MiB', '3.11 KiB', '0', '1.0%']);
  });

  test('marks a runtime with failed repetitions by how many completed', () => {
    assert.ok(section(IDLE_CASE).some((l) => l.startsWith('│ deno (1/3) ')));
  });

  test('shows delivery problems and "0" when clean, and the saturated generator', () => {
    const rows = rowsOf(OPEN_CASE);
    assert.equal(rows.get('node-ws')!.at(-2), '2 err, 12 lost');
    assert.equal(rows.get('bun')!.at(-2), '0');
    assert.equal(rows.get('node-uws')!.at(-1), 'spin sat');
  });

  test('has a header block with tool, revision, environment and settings', () => {
    for (const expected of [
      'bench 0.1.0, git 552ac61d0e4f',
      'AMD EPYC 7B13, 2 logical CPUs',
      'Linux 6.8.0-1019-gcp',
      '7.77 GiB',
      '1,048,576 per process',
      '32768–60999',
      'Node + ws 20.20.2, library 8.23.0',
      'Deno.serve 2.9.6',
      'Bun.serve 1.4.5',
    ]) {
      assert.ok(text.includes(expected), expected);
    }
    for (const [k, v] of [['repeat', '3'], ['seed', '42'], ['server CPUs', '0'], ['load generator CPUs', '1']]) {
      assert.match(text, new RegExp(`^  ${k} +${v}$`, 'm'));
    }
  });

  test('prints one parity line per setting, identical on all servers', () => {
    for (const key of Object.keys(fixture.parity.manifests['bun']!)) {
      assert.match(text, new RegExp(`^  ${key} +.* — identical on all servers$`, 'm'), key);
    }
  });

  test('names the servers and values of a setting that differs', () => {
    const r: RunResult = structuredClone(fixture);
    r.parity.manifests['deno'] = { ...r.parity.manifests['deno']!, idleTimeoutSec: 120 };
    const out = tableFormat.render(r);
    assert.match(out, /^ {2}idleTimeoutSec +DIFFERS: bun=0, node-ws=0, node-uws=0, deno=120$/m);
  });

  test('lists every warning as a typed line with its hint', () => {
    for (const row of fixture.summary) {
      for (const w of row.warnings) {
        const i = lines.findIndex((l) => l.startsWith(`  [${w.code}] ${row.case} · ${row.runtime}: `));
        assert.ok(i >= 0, `${w.code} for ${row.runtime}`);
        const hintLine = lines.slice(i).find((l) => l.startsWith('      hint: '));
        assert.ok(hintLine?.includes(describeWarning(w).hint.split(' ')[0]!), w.code);
      }
    }
  });

  test("prints the errored cell's reason and error details, and the skipped one", () => {
    assert.match(text, /^ {2}idle\/deno\/2 {2}errored: E_SERVER_EXITED: the deno server exited with signal SIGKILL/m);
    for (const d of fixture.cells.find((c) => c.id === 'idle/deno/2')!.error!.details) assert.ok(lines.includes(`      | ${d}`), d);
    assert.match(text, /^ {2}idle\/deno\/3 {2}skipped: not run$/m);
  });

  test('fits in 120 columns and carries no colour codes', () => {
    for (const l of lines) assert.ok([...l].length <= TABLE_WIDTH, `${[...l].length}: ${l}`);
    assert.ok(!text.includes('\u001b['));
  });

  test('is the same when the summary must be recomputed from the cells', () => {
    assert.equal(tableFormat.render({ ...fixture, summary: [] }), text);
  });

  test('says so when there are no results yet', () => {
    const out = tableFormat.render({ ...fixture, status: 'running', cells: [], summary: [] });
    assert.match(out, /No results yet\./);
    assert.ok(out.endsWith('\n'));
  });
});

describe('wrap', () => {
  test('breaks between words within the width, with indents', () => {
    assert.deepEqual(wrap('aa bb cc dd', 8, '  ', '> '), ['> aa bb', '  cc dd']);
  });
  test('keeps a word longer than the width whole', () => {
    assert.deepEqual(wrap('abcdefghij k', 5, ''), ['abcdefghij', 'k']);
  });
});
