// The runtime-choice table (`bench choose`) for a terminal and as Markdown: the decision `bench run` ends in
// (report/verdict.ts), for a stored result or several pooled, under the machine and runtimes it rests on.

import type { ChoiceTable } from '../../core/choice.js';
import { decisionFromDecisions } from '../decision.js';
import { decisionMarkdownLines, mdEscape } from '../markdown.js';
import { wrap } from '../text.js';
import { decisionTextLines } from '../verdict.js';
import type { ChoiceFormat } from './format.js';
import { buildChoiceView } from './view.js';

/** Marker of a runtime-choice comment, distinct from the comparison's. */
export const CHOICE_MARKER = '<!-- bench-choice -->';

/** How the verdicts were reached, one line each (the same words as the run's HTML page). */
const methodOf = (t: ChoiceTable): string[] => decisionFromDecisions(t.cases.map((c) => c.decision)).method;

export const choiceTableFormat: ChoiceFormat = {
  name: 'table',
  extension: 'txt',
  render(t: ChoiceTable): string {
    const v = buildChoiceView(t);
    const body = decisionTextLines(v.decision, v.answers).slice(1);
    const out = [v.title, ...v.meta.flatMap((m) => wrap(m, 120, '    ', '  ')), '', ...body, 'Method', ...methodOf(t).flatMap((l) => wrap(l, 120, '    ', '  '))];
    return `${out.join('\n')}\n`;
  },
};

export const choiceMarkdownFormat: ChoiceFormat = {
  name: 'markdown',
  extension: 'md',
  render(t: ChoiceTable): string {
    const v = buildChoiceView(t);
    const out = [CHOICE_MARKER, `### ${mdEscape(v.title)}`, '', ...v.meta.map((m) => `${mdEscape(m)}  `), '', ...decisionMarkdownLines(v.decision, v.answers, '####')];
    out.push(`<sub>${methodOf(t).map(mdEscape).join(' · ')}</sub>`);
    return `${out.join('\n')}\n`;
  },
};
