// The comparison as JSON: the `Comparison` itself, every row with its figures,
// p-values and verdict, for bots and later tools.

import type { Comparison } from '../../core/compare.js';
import type { ChoiceTable } from '../../core/choice.js';
import type { ChoiceFormat, ComparisonFormat } from './format.js';

export const compareJsonFormat: ComparisonFormat = {
  name: 'json',
  extension: 'json',
  render: (c: Comparison) => `${JSON.stringify(c, null, 2)}\n`,
};

export const choiceJsonFormat: ChoiceFormat = {
  name: 'json',
  extension: 'json',
  render: (t: ChoiceTable) => `${JSON.stringify(t, null, 2)}\n`,
};
