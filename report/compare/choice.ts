// The runtime-choice table (`bench choose`) for a terminal and as Markdown:
// per case the runtimes ranked, ratio to the best with its CI, the standing,
// and the costs beside the speed.

import type { ChoiceTable } from '../../core/choice.js';
import { mdEscape } from '../markdown.js';
import { wrap } from '../table.js';
import type { ChoiceFormat } from './format.js';
import { alignColumns } from './text.js';
import { buildChoiceView, CHOICE_COLUMNS } from './view.js';

/** Marker of a runtime-choice comment, distinct from the comparison's. */
export const CHOICE_MARKER = '<!-- bench-choice -->';

const ALIGN = ['right', 'left', 'right', 'right', 'left', 'left', 'right', 'right', 'right', 'right'] as const;

export const choiceTableFormat: ChoiceFormat = {
  name: 'table',
  extension: 'txt',
  render(t: ChoiceTable): string {
    const v = buildChoiceView(t);
    const out = [v.title, ...v.meta.flatMap((m) => wrap(m, 120, '    ', '  ')), ''];
    if (v.cases.length === 0) out.push('No completed cells.', '');
    for (const c of v.cases) out.push(c.title, ...wrap(c.verdict, 120, '    ', '  '), ...alignColumns(CHOICE_COLUMNS, c.rows, ALIGN, '    '), '');
    out.push('Legend', ...v.legend.flatMap((l) => wrap(l, 120, '    ', '  ')));
    return `${out.join('\n')}\n`;
  },
};

export const choiceMarkdownFormat: ChoiceFormat = {
  name: 'markdown',
  extension: 'md',
  render(t: ChoiceTable): string {
    const v = buildChoiceView(t);
    const line = (cells: readonly string[]) => `| ${cells.map(mdEscape).join(' | ')} |`;
    const out = [CHOICE_MARKER, `### ${mdEscape(v.title)}`, '', ...v.meta.map((m) => `${mdEscape(m)}  `), ''];
    if (v.cases.length === 0) out.push('No completed cells.', '');
    for (const c of v.cases) {
      out.push(
        `#### ${mdEscape(c.title)}`,
        '',
        `**${mdEscape(c.verdict)}**`,
        '',
        line(CHOICE_COLUMNS),
        `|${ALIGN.map((a) => (a === 'right' ? ' ---: ' : ' :--- ')).join('|')}|`,
        ...c.rows.map(line),
        '',
      );
    }
    out.push(`<sub>${v.legend.map(mdEscape).join(' · ')}</sub>`);
    return `${out.join('\n')}\n`;
  },
};
