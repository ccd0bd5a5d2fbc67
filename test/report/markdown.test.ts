import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { markdownFormat, mdEscape } from '../../report/markdown.js';
import { tableFormat } from '../../report/table.js';
import { buildDecisionView, renderDecisionText } from '../../report/verdict.js';
import { casesOfResult, decideAll } from '../../core/decide.js';
import type { RunResult } from '../../schema/result.js';
import { IDLE_CASE, OPEN_CASE, loadFixture } from '../helpers/make-fixture.js';
import { syntheticResult } from '../helpers/synthetic.js';

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

/** The body rows of the Markdown table under the line `heading` of `text`. */
function mdRowsUnder(text: string[], heading: string): string[][] {
  const start = text.indexOf(heading);
  assert.ok(start >= 0, heading);
  const header = text.findIndex((l, i) => i > start && l.startsWith('| '));
  const rows: string[][] = [];
  for (let i = header + 2; text[i]?.startsWith('| '); i++) rows.push(mdCells(text[i]!));
  return rows;
}

/** The body rows of the terminal decision's table for a case (renderDecisionText), by the line that opens it. */
function decisionTextRows(result: RunResult, caseName: string): string[][] {
  const text = renderDecisionText(result).split('\n');
  const start = text.findIndex((l) => l.startsWith(`${caseName}  (`));
  assert.ok(start >= 0, caseName);
  const rows: string[][] = [];
  let inBody = false;
  for (let i = start + 1; i < text.length && !text[i]!.startsWith('└'); i++) {
    const l = text[i]!;
    if (l.startsWith('├')) inBody = true;
    else if (inBody && l.startsWith('│')) {
      const cells = l.split('│').slice(1, -1).map((c) => c.trim());
      // A wrapped verdict goes on under its row with the first cell empty: one row, its text joined.
      if (cells[0] === '' && rows.length > 0) rows[rows.length - 1] = rows[rows.length - 1]!.map((c, k) => (cells[k] ? `${c} ${cells[k]}` : c));
      else rows.push(cells);
    }
  }
  return rows;
}

describe('markdown report', () => {
  test('has a title, a heading per case, and warnings and failed cells sections', () => {
    assert.equal(lines[0], '# bench 0.1.0 — nightly');
    for (const h of [`## ${OPEN_CASE}`, `## ${IDLE_CASE}`, '## Warnings (8 distinct, each with the workload · runtime rows it concerns)', '## Errored or skipped cells (2)']) {
      assert.ok(lines.includes(h), h);
    }
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

describe('markdown report: the decision first', () => {
  test('opens with the decision: its first section, before any per-workload table', () => {
    const sections = lines.filter((l) => l.startsWith('## '));
    assert.equal(sections[0], '## Decision');
    assert.ok(lines.indexOf('## Decision') < lines.indexOf(`## ${OPEN_CASE}`));
    // The terminal's headline, in the same words.
    const headline = /^Decision: (.*)$/m.exec(renderDecisionText(fixture))![1]!;
    assert.equal(lines[lines.indexOf('## Decision') + 2], `**${headline}**`);
  });

  test('a result without stored decisions (a fixed run): a row per runtime with the verdict the terminal shows', () => {
    assert.equal(fixture.decisions, undefined);
    const v = buildDecisionView(fixture);
    assert.deepEqual(v.cases.map((c) => c.name), [OPEN_CASE, IDLE_CASE]);
    for (const c of v.cases) {
      const rows = mdRowsUnder(lines, `### ${mdEscape(c.name)} (${c.status})`);
      assert.equal(rows.length, fixture.settings.runtimes.length, c.name);
      assert.deepEqual(rows, decisionTextRows(fixture, c.name), c.name);
    }
    const idle = mdRowsUnder(lines, `### ${IDLE_CASE} (3 of 6 pairs undecided)`);
    assert.deepEqual(
      idle.map((r) => [r[0], r[3]]),
      [
        ['node-uws (n=3)', 'best'],
        ['bun (n=3)', 'different'],
        ['deno', 'undecided: too few repetitions (3 each at least)'],
        ['node-ws (n=3)', 'different'],
      ],
    );
    assert.deepEqual(mdCells(lines[lines.indexOf(`### ${IDLE_CASE} (3 of 6 pairs undecided)`) + 4]!), ['runtime', 'bytes/conn', 'vs best (99.2% CI)', 'verdict', 'peak RSS', 'RSS after drain']);
    // The pairs between the others, under the table, as on the terminal.
    assert.ok(lines.includes('- bun vs node-ws: bun better, 3.22×'));
    assert.ok(lines.includes('- deno vs node-ws: undecided, too few repetitions (3 each at least)'));
  });

  test('a result with stored decisions renders those, as the terminal does', () => {
    const r = syntheticResult({ runtimes: ['bun', 'node-ws', 'deno'], repeat: 6, noise: 0.01, serverBound: true, factors: { 'node-ws': { msgsPerSec: 0.6 }, deno: { msgsPerSec: 0.995 } } });
    r.decisions = decideAll(r, casesOfResult(r));
    const text = markdownFormat.render(r).split('\n');
    const [c] = buildDecisionView(r).cases;
    const rows = mdRowsUnder(text, `### echo (${c!.status})`);
    assert.deepEqual(rows, decisionTextRows(r, 'echo'));
    assert.deepEqual(rows.map((x) => x[0]).sort(), ['bun (n=6)', 'deno (n=6)', 'node-ws (n=6)']);
    assert.equal(rows.find((x) => x[0] === 'node-ws (n=6)')![3], 'different');
    // Stored, not decided again: a changed stored verdict shows.
    const tampered: RunResult = { ...r, decisions: r.decisions.map((d) => ({ ...d, ranking: d.ranking.map((x) => (x.runtime === 'node-ws' ? { ...x, standing: 'undecided' as const, reason: 'covers-band' as const } : x)) })) };
    const row = mdRowsUnder(markdownFormat.render(tampered).split('\n'), `### echo (${buildDecisionView(tampered).cases[0]!.status})`).find((x) => x[0] === 'node-ws (n=6)')!;
    assert.equal(row[3], `undecided: too noisy: the interval spans both sides of ±${r.decisions[0]!.minEffectPct}%`);
  });

  test('counts warnings as the terminal does: by kind, in cells; the full list says it counts distinct messages', () => {
    const terminal = [...renderDecisionText(fixture).matchAll(/^ {2}\[([\w-]+)\] (\d+ cells?):/gm)].map((m) => `${m[1]} ${m[2]}`);
    const markdown = lines.flatMap((l) => /^- \*\*([\w-]+)\*\* (\d+ cells?): e\.g\. /.exec(l)?.slice(1, 3).join(' ') ?? []);
    assert.ok(terminal.length >= 5);
    assert.deepEqual(markdown, terminal);
  });
});

describe('mdEscape', () => {
  test('escapes what GitHub reads as markup', () => {
    assert.equal(mdEscape('a|b *c* _d_ <e> `f` [g] \\'), 'a\\|b \\*c\\* \\_d\\_ \\<e\\> \\`f\\` \\[g\\] \\\\');
  });
  test('leaves plain text alone', () => assert.equal(mdEscape('812k ±3.1% 1.07× 850 µs'), '812k ±3.1% 1.07× 850 µs'));
});
