import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { markdownFormat, mdEscape } from '../../report/markdown.js';
import { tableFormat } from '../../report/table.js';
import { IDLE_CASE, OPEN_CASE, loadFixture } from '../helpers/make-fixture.js';

const fixture = loadFixture();
const md = markdownFormat.render(fixture);
const lines = md.split('\n');

/** Splits a Markdown table row on unescaped pipes and unescapes the cells. */
function mdCells(line: string): string[] {
  return line
    .slice(2, -2)
    .split(/(?<!\\) \| /)
    .map((c) => c.replace(/\\(.)/g, '$1'));
}

/** The body rows of the Markdown table under `## <case>`. */
function mdRows(caseName: string): string[][] {
  const start = lines.indexOf(`## ${mdEscape(caseName)}`);
  assert.ok(start >= 0, caseName);
  const header = lines.findIndex((l, i) => i > start && l.startsWith('| '));
  const rows: string[][] = [];
  for (let i = header + 2; lines[i]?.startsWith('| '); i++) rows.push(mdCells(lines[i]!));
  return rows;
}

/** The body rows of the terminal tables of a case, runtime column first, split tables joined. */
function tableRows(caseName: string): string[][] {
  const text = tableFormat.render(fixture).split('\n');
  const start = text.findIndex((l) => l.startsWith(`${caseName}  (`));
  const out = new Map<string, string[]>();
  let inBody = false;
  for (let i = start + 1; i < text.length && text[i] !== ''; i++) {
    const l = text[i]!;
    if (l.startsWith('├')) inBody = true;
    else if (l.startsWith('└')) inBody = false;
    else if (inBody && l.startsWith('│')) {
      const cells = l.split('│').slice(1, -1).map((c) => c.trim());
      const prev = out.get(cells[0]!);
      out.set(cells[0]!, prev ? [...prev, ...cells.slice(1)] : cells);
    }
  }
  return [...out.values()];
}

describe('markdown report', () => {
  test('has a title, a heading per case, and warnings and failed cells sections', () => {
    assert.equal(lines[0], '# bench 0.1.0 — nightly');
    for (const h of [`## ${OPEN_CASE}`, `## ${IDLE_CASE}`, '## Warnings (8)', '## Errored or skipped cells (2)']) assert.ok(lines.includes(h), h);
  });

  test('has well-formed tables: pipes at both ends, an alignment row, the same cell count on every row', () => {
    const blocks: string[][] = [];
    let current: string[] = [];
    for (const l of lines) {
      if (l.startsWith('|')) current.push(l);
      else if (current.length > 0) (blocks.push(current), (current = []));
    }
    assert.ok(blocks.length >= 6);
    for (const block of blocks) {
      assert.match(block[1]!, /^\| (:---|---:)( \| (:---|---:))* \|$/);
      const width = mdCells(block[0]!).length;
      for (const row of block) {
        assert.ok(row.endsWith(' |'), row);
        assert.equal(mdCells(row).length, width, row);
      }
    }
  });

  test('shows the same figures as the terminal table, row by row', () => {
    for (const c of [OPEN_CASE, IDLE_CASE]) assert.deepEqual(mdRows(c), tableRows(c));
  });

  test('keeps the lower bound marked', () => {
    const uws = mdRows(OPEN_CASE).find((r) => r[0] === 'node-uws')!;
    assert.match(uws[1]!, /^≥ 50\.0k ±\S+ \*$/);
    assert.ok(md.includes('\\* lower bound'));
  });

  test('folds environment and parity into a details block', () => {
    const open = lines.indexOf('<details>');
    const close = lines.indexOf('</details>');
    assert.ok(open > 0 && close > open);
    const inside = lines.slice(open, close).join('\n');
    for (const s of ['**Environment**', 'AMD EPYC 7B13', '**Parity (effective server settings)**', '| maxPayloadBytes | 16777216 (16.0 MiB) — identical on all servers |']) {
      assert.ok(inside.includes(s), s);
    }
  });

  test('lists warnings with their code and hint', () => {
    const spread = lines.findIndex((l) => l.startsWith(`- **high-spread** · ${OPEN_CASE} · deno: p99 latency varies`));
    assert.ok(spread > 0);
    assert.match(lines[spread + 1]!, /^ {2}_hint: run more repetitions/);
  });

  test("shows the errored cell's code, message and details in a code block", () => {
    const i = lines.findIndex((l) => l.startsWith('- `idle/deno/2` errored: **`E_SERVER_EXITED`** the deno server exited'));
    assert.ok(i > 0);
    assert.equal(lines[i + 1], '  ```text');
    assert.equal(lines[i + 2], '  last stderr lines of the server:');
  });
});

describe('mdEscape', () => {
  test('escapes what GitHub reads as markup', () => {
    assert.equal(mdEscape('a|b *c* _d_ <e> `f` [g] \\'), 'a\\|b \\*c\\* \\_d\\_ \\<e\\> \\`f\\` \\[g\\] \\\\');
  });
  test('leaves plain text alone', () => assert.equal(mdEscape('812k ±3.1% 1.07× 850 µs'), '812k ±3.1% 1.07× 850 µs'));
});
