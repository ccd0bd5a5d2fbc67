// The terminal report: header block, one compact table per case, then the
// warnings and the cells that failed. Colour is off here on purpose: the
// writer decides (TTY, NO_COLOR), so this text is the same everywhere.

import Table from 'cli-table3';
import type { RunResult } from '../schema/result.js';
import type { ReportFormat } from './format.js';
import { formatCell } from './units.js';
import { buildView, type CaseView, type Pair } from './view.js';

export { TABLE_WIDTH, wrap } from './text.js';
import { TABLE_WIDTH, wrap } from './text.js';
import { renderDecisionText } from './verdict.js';

function pairs(title: string, list: Pair[]): string[] {
  const keyWidth = Math.max(...list.map(([k]) => k.length));
  const out = [title];
  for (const [k, v] of list) out.push(...wrap(v, TABLE_WIDTH, ' '.repeat(keyWidth + 4), `  ${k.padEnd(keyWidth)}  `));
  return out;
}

function renderTable(c: CaseView, columnIndexes: number[]): string {
  const table = new Table({
    head: columnIndexes.map((i) => c.columns[i]!.header.join('\n')),
    colAligns: columnIndexes.map((i) => c.columns[i]!.align),
    // No colour codes in the text (the writer adds colour); compact: no rule between body rows.
    style: { head: [], border: [], compact: true },
  });
  for (const row of c.rows) table.push(columnIndexes.map((i) => (row[i] === undefined ? '' : formatCell(row[i]!))));
  return table.toString();
}

function widthOf(text: string): number {
  return Math.max(...text.split('\n').map((l) => [...l].length));
}

/**
 * The case as one table, or, when that would be wider than `TABLE_WIDTH`,
 * as consecutive tables over whole column groups (throughput and latency;
 * server resources and health), each repeating the runtime column so every
 * row reads on its own. A group too wide by itself still gets its own table.
 */
function caseTables(c: CaseView): string[] {
  const groups: number[][] = [];
  c.columns.forEach((col, i) => {
    if (i === 0) return;
    const last = groups[groups.length - 1];
    if (last && c.columns[last[0]!]!.group === col.group) last.push(i);
    else groups.push([i]);
  });
  // Packed from the last group backwards, so the leftover space goes to the
  // first (throughput and latency) table rather than leaving a stub at the end.
  const tables: string[] = [];
  let current: number[] = [];
  let rendered = renderTable(c, [0]);
  for (const g of groups.reverse()) {
    const attempt = renderTable(c, [0, ...g, ...current]);
    if (current.length > 0 && widthOf(attempt) > TABLE_WIDTH) {
      tables.unshift(rendered);
      current = [...g];
      rendered = renderTable(c, [0, ...g]);
    } else {
      current.unshift(...g);
      rendered = attempt;
    }
  }
  tables.unshift(rendered);
  return [`${c.name}  (${c.subtitle})`, ...tables, ...c.footnotes.flatMap((f) => wrap(f, TABLE_WIDTH, '  '))];
}

/** The human report for a terminal, plain text (no ANSI codes), laid out for 120 columns, ending in the decision. */
export const tableFormat: ReportFormat = {
  name: 'table',
  extension: 'txt',
  render(result: RunResult): string {
    const v = buildView(result);
    const out: string[] = [];
    out.push(v.title, ...pairs('', v.meta).slice(1), '');
    out.push(...pairs('Environment', v.environment), ...pairs('Runtimes', v.runtimes), '');
    out.push(...pairs('Parity (effective server settings)', v.parity), '');
    out.push(...pairs('Settings', v.settings), '');
    if (v.cases.length === 0) out.push('No results yet.', '');
    for (const c of v.cases) out.push(...caseTables(c), '');
    for (const c of v.ceilings ?? []) out.push(...caseTables(c), '');
    for (const c of v.shapes) out.push(...caseTables(c), '');
    if (v.cases.length > 0) out.push(...wrap(v.legend.join('; '), TABLE_WIDTH, '  ', 'Legend: '), '');
    if (v.warnings.length > 0) {
      out.push(`Warnings (${v.warnings.length})`);
      for (const w of v.warnings) {
        out.push(...wrap(`${w.where}: ${w.message}`, TABLE_WIDTH, '      ', `  [${w.code}] `));
        out.push(...wrap(`hint: ${w.hint}`, TABLE_WIDTH, '        ', '      '));
      }
      out.push('');
    }
    if (v.failedCells.length > 0) {
      out.push(`Errored or skipped cells (${v.failedCells.length})`);
      for (const f of v.failedCells) {
        out.push(...wrap(`${f.status}: ${f.code ? `${f.code}: ` : ''}${f.message}`, TABLE_WIDTH, '      ', `  ${f.id}  `));
        for (const d of f.details) out.push(`      | ${d}`);
      }
      out.push('');
    }
    // The decision last, as `bench run` ends: what a reader acts on is what they see when the output stops.
    return `${out.join('\n').replace(/\n+$/, '')}\n${renderDecisionText(result)}`;
  },
};
