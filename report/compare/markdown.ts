// The comparison as a pull-request comment: a stable marker (so a bot edits
// one comment instead of adding more), a one-line summary with the settings
// and noise floor, the changed rows, the rest folded in <details>, and never
// more than GitHub's 65,536 characters: rows that do not fit are left out,
// unchanged ones first, with a note saying how many.

import type { Comparison } from '../../core/compare.js';
import { mdEscape } from '../markdown.js';
import type { ComparisonFormat } from './format.js';
import { buildCompareView, COMPARE_COLUMNS, compareCells, type CompareRowView, type CompareView } from './view.js';

/** First line of every comparison comment: what a bot searches for to update its one comment. */
export const COMMENT_MARKER = '<!-- bench-compare -->';

/** GitHub's limit on an issue or pull-request comment body, in characters. */
export const MAX_COMMENT_CHARS = 65_536;

/** Lists in the header (differences, notes) are cut after this many items. */
const MAX_LIST_ITEMS = 25;

function mdTable(header: readonly string[], rows: string[][]): string[] {
  const line = (cells: readonly string[]) => `| ${cells.map(mdEscape).join(' | ')} |`;
  return [line(header), `|${header.map((_, i) => (i >= 3 && i <= 7 && i !== 6 ? ' ---: ' : ' :--- ')).join('|')}|`, ...rows.map(line)];
}

function rowsTable(rows: CompareRowView[]): string[] {
  return mdTable(['case', ...COMPARE_COLUMNS], rows.map((r) => [r.case, ...compareCells(r)]));
}

function list(items: readonly string[], prefix = '- '): string[] {
  const shown = items.slice(0, MAX_LIST_ITEMS).map((i) => `${prefix}${mdEscape(i)}`);
  if (items.length > MAX_LIST_ITEMS) shown.push(`${prefix}… and ${items.length - MAX_LIST_ITEMS} more (see \`bench compare --format json\`)`);
  return shown;
}

/** The one-line summary under the marker: counts, repetitions, α, thresholds and noise floor. */
export function summaryLine(v: CompareView): string {
  return `**bench compare${v.upgrades.length > 0 ? ' (upgrade)' : ''}: ${mdEscape(v.counts)}** · ${v.settings.map(mdEscape).join(' · ')}`;
}

function build(v: CompareView, keepChanged: number, keepUnchanged: number, maxChars: number): string {
  const out: string[] = [COMMENT_MARKER, summaryLine(v), '', `**base** ${mdEscape(v.base)}  `, `**head** ${mdEscape(v.head)}`, ''];
  if (v.upgrades.length > 0) {
    out.push('> [!NOTE]', '> **Upgrade comparison**: the same runtimes on other versions (head against base):', ...list(v.upgrades, '> - '), '');
  }
  if (v.forced.length > 0) {
    out.push('> [!WARNING]', '> **Forced** (`--force`): compared despite these differences:', ...list(v.forced, '> - '), '');
  }
  if (v.warnings.length > 0) out.push(...list(v.warnings.map((w) => `warning: ${w}`)), '');
  if (v.notes.length > 0) out.push(...list(v.notes.map((n) => `note: ${n}`)), '');
  out.push(`#### Changed or suspect (${v.changed.length})`, '');
  if (v.changed.length === 0) out.push('No regressions, improvements or suspect rows.', '');
  else out.push(...rowsTable(v.changed.slice(0, keepChanged)), '');
  if (v.unchanged.length > 0) {
    out.push('<details>', `<summary>Unchanged (${v.unchanged.length})</summary>`, '');
    if (keepUnchanged > 0) out.push(...rowsTable(v.unchanged.slice(0, keepUnchanged)), '');
    out.push('</details>', '');
  }
  const omitted = v.changed.length - keepChanged + v.unchanged.length - keepUnchanged;
  if (omitted > 0) {
    out.push(
      `_${omitted} of ${v.changed.length + v.unchanged.length} rows are not shown (${v.changed.length - keepChanged} changed, ${v.unchanged.length - keepUnchanged} unchanged): ` +
        `a comment holds at most ${maxChars.toLocaleString('en-US')} characters. Every row is in \`bench compare --format json\`._`,
      '',
    );
  }
  out.push('<details>', '<summary>How to read this</summary>', '', ...v.legend.map((l) => `- ${mdEscape(l)}`), '', '</details>');
  return `${out.join('\n')}\n`;
}

/** Largest k in [0, max] with fits(k), given fits(0); fits is monotone (fewer rows, shorter text). */
function largestFitting(max: number, fits: (k: number) => boolean): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The comment text, at most `maxChars` UTF-16 code units (which GitHub's
 * character count never exceeds). Unchanged rows are dropped first, then
 * changed rows from the end (improvements before suspects before
 * regressions, which come first).
 */
export function renderCompareMarkdown(c: Comparison, maxChars = MAX_COMMENT_CHARS): string {
  const v = buildCompareView(c);
  const fits = (text: string) => text.length <= maxChars;
  const nc = v.changed.length;
  const nu = v.unchanged.length;
  const full = build(v, nc, nu, maxChars);
  if (fits(full)) return full;
  if (fits(build(v, nc, 0, maxChars))) {
    return build(v, nc, largestFitting(nu, (k) => fits(build(v, nc, k, maxChars))), maxChars);
  }
  if (fits(build(v, 0, 0, maxChars))) {
    return build(v, largestFitting(nc, (k) => fits(build(v, k, 0, maxChars))), 0, maxChars);
  }
  // The header alone is too long (a tiny cap): cut the text and say so.
  const note = '\n\n_(cut: the comment limit was reached)_\n';
  return build(v, 0, 0, maxChars).slice(0, Math.max(0, maxChars - note.length)) + note;
}

export const compareMarkdownFormat: ComparisonFormat = {
  name: 'markdown',
  extension: 'md',
  render: (c: Comparison) => renderCompareMarkdown(c),
};
