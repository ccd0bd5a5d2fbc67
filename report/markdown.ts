// The report as GitHub-flavoured Markdown, for a PR comment or a file: the
// decision first, as the terminal ends a run with it (both from
// report/verdict.ts buildDecisionView), then the same figures as the terminal
// table (both come from view.ts), with the environment and parity folded into
// a <details> block.

import { answerLines } from './answer.js';
import { formatCell } from './units.js';
import type { RunResult } from '../schema/result.js';
import type { ReportFormat } from './format.js';
import { decisionsOf } from '../core/choice.js';
import { buildDecisionView, type DecisionView } from './verdict.js';
import { buildView, type CaseView, type Pair } from './view.js';

/** Escapes what GitHub would read as markup in running text (emphasis, links, HTML, code, table pipes). */
export function mdEscape(text: string): string {
  return text.replace(/[\\`*_[\]<>|]/g, (c) => `\\${c}`);
}

function mdTable(header: string[], align: ('left' | 'right')[], rows: string[][]): string[] {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(header.map(mdEscape)),
    line(align.map((a) => (a === 'right' ? '---:' : ':---'))),
    ...rows.map((r) => line(r.map(mdEscape))),
  ];
}

function caseSection(c: CaseView): string[] {
  return [
    `## ${mdEscape(c.name)}`,
    '',
    `_${mdEscape(c.subtitle)}_`,
    '',
    ...mdTable(
      // Stacked header lines read as one: "bytes/" + "conn" is "bytes/conn".
      c.columns.map((col) => col.header.filter((h) => h !== '').join(' ').replace(/\/ /g, '/')),
      c.columns.map((col) => col.align),
      c.rows.map((r) => r.map(formatCell)),
    ),
    '',
    ...c.footnotes.flatMap((f) => [mdEscape(f), '']),
  ];
}

/**
 * The decision section: the terminal's decision (report/verdict.ts renderDecisionText) in Markdown, from the same
 * view, so the two cannot disagree: the headline, what to pick per workload, one table per workload (runtime,
 * the ranked figure, ratio to the best with its 95% interval, verdict, costs) with the other pairs under it, and
 * the warnings by kind counted in cells. A result without stored decisions is decided as the terminal decides it
 * (verdict.ts decisionsOf).
 */
export function decisionSection(result: RunResult): string[] {
  return ['## Decision', '', ...decisionMarkdownLines(buildDecisionView(result), answerLines(decisionsOf(result)), '###')];
}

/** A decision view in Markdown (the body of `decisionSection`, and `bench choose --format markdown`), each workload under a `heading` of its level. */
export function decisionMarkdownLines(v: DecisionView, answers: readonly string[], heading: string): string[] {
  const out: string[] = [`**${mdEscape(v.headline)}**`, ''];
  if (answers.length > 0) out.push('What to pick, per workload:', '', ...answers.map((a) => `- ${mdEscape(a)}`), '');
  if (v.cases.length === 0) out.push('Nothing to rank: no completed cell of a ranked workload.', '');
  for (const c of v.cases) {
    out.push(`${heading} ${mdEscape(c.name)} (${mdEscape(c.status)})`, '', `_${mdEscape(c.rankedOn)}_`, '');
    out.push(...mdTable(c.columns.map((x) => x.header), c.columns.map((x) => x.align), c.rows.map((r) => r.map(formatCell))), '');
    if (c.notes.length > 0) out.push(...c.notes.map((n) => `- ${mdEscape(n)}`), '');
  }
  if (v.warnings.length > 0) {
    out.push('**Warnings by kind** (cells that raised each; every warning in full under Warnings below)', '');
    for (const w of v.warnings) out.push(`- **${w.code}** ${w.cells} cell${w.cells === 1 ? '' : 's'}: e.g. ${mdEscape(w.example)}`);
    out.push('');
  }
  return out;
}

function pairTable(title: string, list: Pair[]): string[] {
  return [`**${title}**`, '', ...mdTable(['', ''], ['left', 'left'], list), ''];
}

/** GitHub-flavoured Markdown: heading, the decision, a table per case, warnings, failed cells, then details. */
export const markdownFormat: ReportFormat = {
  name: 'markdown',
  extension: 'md',
  render(result: RunResult): string {
    const v = buildView(result);
    const out: string[] = [`# ${mdEscape(v.title)}`, ''];
    out.push(v.meta.map(([k, val]) => `**${k}**: ${mdEscape(val)}`).join('  \n'), '');
    out.push(...decisionSection(result));
    if (v.cases.length === 0) out.push('No results yet.', '');
    for (const c of v.cases) out.push(...caseSection(c));
    for (const c of v.ceilings ?? []) out.push(...caseSection(c));
    for (const c of v.shapes) out.push(...caseSection(c));
    if (v.cases.length > 0) out.push(`<sub>${v.legend.map(mdEscape).join(' · ')}</sub>`, '');
    if (v.warnings.length > 0) {
      // Counted as listed: distinct messages over the workload × runtime rows (the decision above counts cells per kind).
      out.push(`## Warnings (${v.warnings.length} distinct, each with the workload · runtime rows it concerns)`, '');
      for (const w of v.warnings) {
        out.push(`- **${w.code}** · ${mdEscape(w.where)}: ${mdEscape(w.message)}  `, `  _hint: ${mdEscape(w.hint)}_`);
      }
      out.push('');
    }
    if (v.failedCells.length > 0) {
      out.push(`## Errored or skipped cells (${v.failedCells.length})`, '');
      for (const f of v.failedCells) {
        out.push(`- \`${f.id}\` ${f.status}: ${f.code ? `**\`${f.code}\`** ` : ''}${mdEscape(f.message)}`);
        if (f.details.length > 0) {
          // A fence longer than any backtick run in the details, so they cannot close it.
          const longest = Math.max(2, ...f.details.map((d) => Math.max(0, ...(d.match(/`+/g) ?? []).map((m) => m.length))));
          const fence = '`'.repeat(longest + 1);
          out.push(`  ${fence}text`, ...f.details.map((d) => `  ${d}`), `  ${fence}`);
        }
      }
      out.push('');
    }
    out.push('<details>', '<summary>Environment, parity and settings</summary>', '');
    out.push(...pairTable('Environment', v.environment), ...pairTable('Runtimes', v.runtimes));
    out.push(...pairTable('Parity (effective server settings)', v.parity), ...pairTable('Settings', v.settings));
    out.push('</details>');
    return `${out.join('\n')}\n`;
  },
};
