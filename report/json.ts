// The machine-readable report: the RunResult itself, so that nothing is lost
// and every other report can be recomputed from it.

import type { RunResult } from '../schema/result.js';
import type { ReportFormat } from './format.js';

/** The result pretty-printed with 2 spaces, keys in the order they are stored; `JSON.parse` gives it back. */
export const jsonFormat: ReportFormat = {
  name: 'json',
  extension: 'json',
  render(result: RunResult): string {
    return `${JSON.stringify(result, null, 2)}\n`;
  },
};
