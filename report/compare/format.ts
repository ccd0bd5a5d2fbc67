// Registries of the comparison and runtime-choice formats by name (the same
// pattern as report/format.ts): each format is a pure function of its input.

import type { Comparison } from '../../core/compare.js';
import type { ChoiceTable } from '../../core/choice.js';
import { BenchError } from '../../base/errors.js';
import { choiceMarkdownFormat, choiceTableFormat } from './choice.js';
import { choiceJsonFormat, compareJsonFormat } from './json.js';
import { compareMarkdownFormat } from './markdown.js';
import { compareTableFormat } from './table.js';
import { choiceHtmlFormat, compareHtmlFormat } from './html.js';

export interface ComparisonFormat {
  name: string;
  extension: string;
  /** The whole comparison as text, ending with a newline; no I/O. */
  render(c: Comparison): string;
}

export interface ChoiceFormat {
  name: string;
  extension: string;
  render(t: ChoiceTable): string;
}

export const COMPARISON_FORMATS: readonly ComparisonFormat[] = [compareTableFormat, compareJsonFormat, compareMarkdownFormat, compareHtmlFormat];
export const CHOICE_FORMATS: readonly ChoiceFormat[] = [choiceTableFormat, choiceJsonFormat, choiceMarkdownFormat, choiceHtmlFormat];
export const COMPARISON_FORMAT_NAMES: readonly string[] = COMPARISON_FORMATS.map((f) => f.name);
export const CHOICE_FORMAT_NAMES: readonly string[] = CHOICE_FORMATS.map((f) => f.name);

function pick<T extends { name: string }>(list: readonly T[], name: string): T {
  const f = list.find((x) => x.name === name);
  if (f) return f;
  const names = list.map((x) => x.name).join(', ');
  throw new BenchError('E_USAGE', `unknown format "${name}"; valid formats: ${names}`, { hint: `choose one of: ${names}` });
}

/** @throws BenchError E_USAGE for an unknown name, listing the valid ones */
export const getComparisonFormat = (name: string): ComparisonFormat => pick(COMPARISON_FORMATS, name);
/** @throws BenchError E_USAGE for an unknown name, listing the valid ones */
export const getChoiceFormat = (name: string): ChoiceFormat => pick(CHOICE_FORMATS, name);
