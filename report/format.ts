// The registry of output formats by name (conventions, point 13): the CLI
// asks for a format here and hands the rendered text to the writer.

import { BenchError } from '../base/errors.js';
import type { RunResult } from '../schema/result.js';
import { csvFormat } from './csv.js';
import { htmlFormat } from './html.js';
import { jsonFormat } from './json.js';
import { markdownFormat } from './markdown.js';
import { tableFormat } from './table.js';

/** One output format: pure, no I/O; the writer decides where the text goes. */
export interface ReportFormat {
  /** Registry name, as given on the command line. */
  name: string;
  /** File extension without the dot, for a file written in this format. */
  extension: string;
  /** The whole report as text, ending with a newline. */
  render(result: RunResult): string;
}

/** Every format, in the order `--help` lists them. */
export const FORMATS: readonly ReportFormat[] = [tableFormat, jsonFormat, markdownFormat, csvFormat, htmlFormat];

/** The valid format names: `table`, `json`, `markdown`, `csv`, `html`. */
export const FORMAT_NAMES: readonly string[] = FORMATS.map((f) => f.name);

/**
 * The format called `name`.
 * @throws BenchError E_USAGE for an unknown name, listing the valid ones
 */
export function getFormat(name: string): ReportFormat {
  const format = FORMATS.find((f) => f.name === name);
  if (format) return format;
  throw new BenchError('E_USAGE', `unknown report format "${name}"; valid formats: ${FORMAT_NAMES.join(', ')}`, {
    hint: `choose one of: ${FORMAT_NAMES.join(', ')}`,
  });
}
