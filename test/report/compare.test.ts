import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runtimeChoice } from '../../core/choice.js';
import { compareResults, type Comparison } from '../../core/compare.js';
import { choiceMarkdownFormat, choiceTableFormat, CHOICE_MARKER } from '../../report/compare/choice.js';
import { CHOICE_FORMAT_NAMES, COMPARISON_FORMAT_NAMES, getChoiceFormat, getComparisonFormat } from '../../report/compare/format.js';
import { compareJsonFormat } from '../../report/compare/json.js';
import { COMMENT_MARKER, MAX_COMMENT_CHARS, renderCompareMarkdown } from '../../report/compare/markdown.js';
import { compareTableFormat } from '../../report/compare/table.js';
import { signedPct } from '../../report/compare/view.js';
import { BenchError } from '../../base/errors.js';
import { syntheticResult } from '../helpers/synthetic.js';

const base = syntheticResult({ seed: 11, label: 'main' });
const head = syntheticResult({ seed: 12, label: 'pr', factors: { bun: { serverCpuUsPerMsg: 1.1 } } });
const comparison = compareResults(base, head);
const md = renderCompareMarkdown(comparison);
const lines = md.split('\n');

/** Cells of a Markdown table row (no escaped pipes in these tests). */
const cells = (line: string) => line.slice(2, -2).split(' | ');

describe('compare Markdown (pull-request comment)', () => {
  test('starts with the stable marker, then a one-line summary with counts, repetitions, thresholds and noise floor', () => {
    assert.equal(lines[0], COMMENT_MARKER);
    assert.match(lines[1]!, /^\*\*bench compare: 1 regression, 0 improvements, 0 suspect, 1 unchanged\*\* · /);
    assert.match(lines[1]!, /repetitions: 10 base vs 10 head · α 0\.05 after Holm over 2 primary rows/);
    assert.match(lines[1]!, /secondary rows \(informative, never gate\): 0 worse, 0 better, 0 suspect, 14 unchanged/);
    assert.match(lines[1]!, /minimum effect \(the whole CI must reach it\): msgs\/s 5%, p50 5%, p99 10%, p99\.9 20%, CPU\/msg 5%, peak RSS 10%, RSS end 10%, bytes\/conn 10%/);
    assert.match(lines[1]!, /noise floor: not calibrated/);
  });

  test('lists the changed rows first and folds the unchanged ones in <details>', () => {
    const changed = lines.indexOf('#### Changed or suspect (1)');
    const details = lines.indexOf('<summary>Unchanged (15)</summary>');
    assert.ok(changed > 0 && details > changed);
    const regression = cells(lines[changed + 4]!);
    assert.deepEqual(regression.slice(0, 3), ['echo', 'bun', 'CPU/msg ↓ \\[primary\\]']);
    assert.equal(regression[8], 'REGRESSION');
    assert.match(regression[5]!, /^\+\d+(\.\d)?%$/);
    assert.match(regression[6]!, /^\\\[\+\d+(\.\d)?%, \+\d+(\.\d)?%\\\]$/);
    const unchangedRows = lines.slice(details).filter((l) => l.startsWith('| echo |'));
    assert.equal(unchangedRows.length, 15);
    assert.ok(unchangedRows.every((l) => /\| ~( \(significant, within ±\d+%\))? \|$/.test(l)), unchangedRows.join('\n'));
  });

  test('shows forced differences in the header', () => {
    const other = syntheticResult({ seed: 12 });
    other.environment.kernel = 'Linux 9.9';
    const text = renderCompareMarkdown(compareResults(base, other, { force: true }));
    assert.match(text, /> \*\*Forced\*\* \(`--force`\): compared despite these differences:\n> - environment\.kernel: base "Linux 6\.8\.0-1019-gcp", head "Linux 9\.9"/);
  });

  test('a huge comparison stays under 65,536 characters, keeps the regressions and says what it left out', () => {
    const many: Comparison = { ...comparison, rows: [] };
    for (let i = 0; i < 800; i++) many.rows.push(...comparison.rows.map((r) => ({ ...r, case: `scenario-with-a-long-name-${i}@100000/s` })));
    many.counts = { regression: 800, improvement: 0, suspect: 0, unchanged: 800 * 15 };
    const text = renderCompareMarkdown(many);
    assert.ok(text.length <= MAX_COMMENT_CHARS, String(text.length));
    assert.ok(text.length > MAX_COMMENT_CHARS - 2000, 'fills the space it has');
    assert.equal(text.split('\n')[0], COMMENT_MARKER);
    assert.match(text, /_\d+ of 12800 rows are not shown \(\d+ changed, 12000 unchanged\): a comment holds at most 65,536 characters/);
    assert.ok(text.includes('| scenario-with-a-long-name-0@100000/s | bun | CPU/msg ↓ \\[primary\\] |'));
    assert.ok(text.trimEnd().endsWith('</details>'), 'the legend closes the comment');
  });

  test('a small cap drops unchanged rows before changed ones', () => {
    const full = renderCompareMarkdown(comparison);
    const cap = full.length - 300;
    const text = renderCompareMarkdown(comparison, cap);
    assert.ok(text.length <= cap);
    assert.ok(text.includes('| REGRESSION |'));
    assert.match(text, /rows are not shown \(0 changed, \d+ unchanged\)/);
  });
});

describe('compare table and JSON', () => {
  const table = compareTableFormat.render(comparison);

  test('the table opens with the counts and both sides, and fits 120 columns', () => {
    const t = table.split('\n');
    assert.equal(t[0], 'bench compare: 1 regression, 0 improvements, 0 suspect, 1 unchanged');
    assert.match(t[1]!, /^ {2}base {2}552ac61 "main"/);
    assert.match(t[2]!, /^ {2}head {2}552ac61 "pr"/);
    for (const l of t) assert.ok([...l].length <= 120, l);
    assert.ok(table.indexOf('Changed or suspect (1)') < table.indexOf('Unchanged (15)'));
    assert.match(table, /bun {6}CPU\/msg ↓ \[primary\] .* REGRESSION\n/);
  });

  test('the JSON is the comparison itself', () => {
    const back = JSON.parse(compareJsonFormat.render(comparison)) as Comparison;
    assert.equal(back.kind, 'bench-comparison');
    assert.deepEqual(back.counts, comparison.counts);
    assert.equal(back.rows.length, comparison.rows.length);
  });

  test('the registries know table, json, markdown and html and reject anything else', () => {
    assert.deepEqual(COMPARISON_FORMAT_NAMES, ['table', 'json', 'markdown', 'html']);
    assert.deepEqual(CHOICE_FORMAT_NAMES, ['table', 'json', 'markdown', 'html']);
    assert.equal(getComparisonFormat('markdown').render(comparison), md);
    assert.throws(() => getComparisonFormat('csv'), (e: unknown) => e instanceof BenchError && e.code === 'E_USAGE' && /table, json, markdown/.test(e.message));
    assert.throws(() => getChoiceFormat('csv'), (e: unknown) => e instanceof BenchError && e.code === 'E_USAGE');
  });

  test('signed percentages never show -0', () => {
    assert.equal(signedPct(-0.01), '0%');
    assert.equal(signedPct(3.14), '+3.1%');
    assert.equal(signedPct(-12.4), '-12%');
  });
});

describe('runtime-choice reports', () => {
  const t = runtimeChoice(syntheticResult({ runtimes: ['node-ws', 'bun'], seed: 5, serverBound: true, factors: { bun: { msgsPerSec: 1.5 } } }));

  test("Markdown has its own marker, what to pick, and the run's decision table per case with its costs", () => {
    const l = choiceMarkdownFormat.render(t).split('\n');
    assert.equal(l[0], CHOICE_MARKER);
    assert.ok(l.includes('- echo: bun'), 'what to pick');
    assert.ok(l.some((x) => x.startsWith('#### echo (settled')));
    const header = l.findIndex((x) => x.startsWith('| runtime | msgs/s | vs best (95% CI) | verdict |'));
    assert.ok(header > 0, 'the decision table');
    assert.match(l[header + 2]!, /^\| bun \(n=10\) \|.*\| best \|/);
    assert.match(l[header + 3]!, /^\| node-ws \(n=10\) \|.*\| different \|/);
  });

  test('the terminal table shows the same ranking and says how the verdicts were reached', () => {
    const text = choiceTableFormat.render(t);
    assert.match(text, /Decision: 1 of 1 runtime pairs settled \(different or equivalent\) · decided now at one look/);
    assert.match(text, /bun \(n=10\) .* best/);
    assert.match(text, /node-ws \(n=10\) .* different/);
    assert.match(text, /\nMethod\n/);
  });
});

describe('an upgrade comparison (one runtime on two versions)', () => {
  const before = syntheticResult({ seed: 21, runtimes: ['bun@1.3.14'] });
  const after = syntheticResult({ seed: 22, runtimes: ['bun@1.4.5'], factors: { 'bun@1.4.5': { msgsPerSec: 1.3 } } });
  before.environment.runtimes.push({ id: 'bun@1.3.14', label: 'Bun.serve', usable: true, runtimeVersion: '1.3.14', libraryVersion: '1.3.14' });
  after.environment.runtimes.push({ id: 'bun@1.4.5', label: 'Bun.serve', usable: true, runtimeVersion: '1.4.5', libraryVersion: '1.4.5' });
  const c = compareResults(before, after);

  test('says so in the header of the table and the comment, and labels rows with both versions', () => {
    const text = compareTableFormat.render(c);
    assert.match(text, /^bench compare \(upgrade\): /);
    assert.match(text, /\nUPGRADE comparison: the same runtimes on other versions \(head against base\):\n {2}- bun: 1\.3\.14 → 1\.4\.5 \(bun@1\.3\.14 → bun@1\.4\.5\)\n/);
    assert.match(text, / bun@1\.3\.14 → bun@1\.4\.5 +msgs\/s ↑ /);
    const comment = renderCompareMarkdown(c).split('\n');
    assert.match(comment[1]!, /^\*\*bench compare \(upgrade\): /);
    assert.ok(comment.includes('> **Upgrade comparison**: the same runtimes on other versions (head against base):'));
    assert.ok(comment.includes('> - bun: 1.3.14 → 1.4.5 (bun@1.3.14 → bun@1.4.5)'));
  });

  test('an ordinary comparison has no upgrade line', () => {
    assert.equal(comparison.upgrades, undefined);
    assert.doesNotMatch(compareTableFormat.render(comparison), /UPGRADE|\(upgrade\)/);
  });
});
