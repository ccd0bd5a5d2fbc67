// The comparison for a terminal: the one-line counts, both sides, settings,
// then the changed rows and the unchanged ones, each grouped by case.

import type { Comparison } from '../../core/compare.js';
import { wrap } from '../table.js';
import type { ComparisonFormat } from './format.js';
import { alignColumns } from './text.js';
import { buildCompareView, byCase, COMPARE_COLUMNS, compareCells, type CompareRowView } from './view.js';

const WIDTH = 120;
const ALIGN = ['left', 'left', 'right', 'right', 'right', 'left', 'right', 'left'] as const;

function section(title: string, rows: CompareRowView[]): string[] {
  if (rows.length === 0) return [];
  const out = [title];
  for (const [caseName, list] of byCase(rows)) out.push(`  ${caseName}`, ...alignColumns(COMPARE_COLUMNS, list.map(compareCells), ALIGN, '    '));
  return [...out, ''];
}

/** Plain text (no colour codes), laid out for 120 columns. */
export const compareTableFormat: ComparisonFormat = {
  name: 'table',
  extension: 'txt',
  render(c: Comparison): string {
    const v = buildCompareView(c);
    const out = [`bench compare${v.upgrades.length > 0 ? ' (upgrade)' : ''}: ${v.counts}`, `  base  ${v.base}`, `  head  ${v.head}`];
    for (const s of v.settings) out.push(...wrap(s, WIDTH, '    ', '  '));
    out.push('');
    if (v.upgrades.length > 0) {
      out.push('UPGRADE comparison: the same runtimes on other versions (head against base):');
      for (const u of v.upgrades) out.push(...wrap(u, WIDTH, '      ', '  - '));
      out.push('');
    }
    if (v.forced.length > 0) {
      out.push('FORCED: compared despite these differences (--force):');
      for (const d of v.forced) out.push(...wrap(d, WIDTH, '      ', '  - '));
      out.push('');
    }
    for (const w of v.warnings) out.push(...wrap(w, WIDTH, '      ', 'warning: '));
    for (const n of v.notes) out.push(...wrap(n, WIDTH, '      ', 'note: '));
    if (v.warnings.length + v.notes.length > 0) out.push('');
    out.push(...section(`Changed or suspect (${v.changed.length})`, v.changed));
    if (v.changed.length === 0) out.push('No regressions, improvements or suspect rows.', '');
    out.push(...section(`Unchanged (${v.unchanged.length})`, v.unchanged));
    out.push('Legend');
    for (const l of v.legend) out.push(...wrap(l, WIDTH, '    ', '  '));
    return `${out.join('\n')}\n`;
  },
};
