// One row per cell (runtime × case × repetition) for spreadsheets and
// scripts: raw numbers in the units their column names state, no rounding.

import type { CellResult, RunResult } from '../schema/result.js';
import { CAPACITY_CSV_COLUMNS, hasCapacity } from './capacity.js';
import { CEILING_CSV_COLUMNS, hasCeilings } from './ceiling.js';
import type { ReportFormat } from './format.js';

type Value = string | number | boolean | null | undefined;

/**
 * The columns, in order. Latency and connect columns are empty when the cell
 * recorded no latency (idle); every metric column is empty for a cell without
 * metrics (errored, skipped). `errors` is the total of the client error counts.
 */
export const CSV_COLUMNS: readonly { name: string; get: (c: CellResult) => Value }[] = [
  { name: 'case', get: (c) => c.case },
  { name: 'scenario', get: (c) => c.scenario },
  { name: 'runtime', get: (c) => c.runtime },
  { name: 'repetition', get: (c) => c.repetition },
  { name: 'status', get: (c) => c.status },
  { name: 'msgsPerSec', get: (c) => c.metrics?.msgsPerSec },
  { name: 'lowerBound', get: (c) => c.metrics?.throughputIsLowerBound },
  { name: 'latencyP50Us', get: (c) => latency(c)?.p50Us },
  { name: 'latencyP90Us', get: (c) => latency(c)?.p90Us },
  { name: 'latencyP99Us', get: (c) => latency(c)?.p99Us },
  { name: 'latencyP999Us', get: (c) => latency(c)?.p999Us },
  { name: 'latencyMaxUs', get: (c) => latency(c)?.maxUs },
  { name: 'connectP50Us', get: (c) => (c.metrics && c.metrics.connectUs.count > 0 ? c.metrics.connectUs.p50Us : undefined) },
  { name: 'serverCpuUsPerMsg', get: (c) => c.metrics?.serverCpuUsPerMsg },
  { name: 'serverCpuUtilPct', get: (c) => c.metrics?.serverCpuUtilPct },
  { name: 'rssBaselineBytes', get: (c) => c.metrics?.rssBaselineBytes },
  { name: 'rssPeakBytes', get: (c) => c.metrics?.rssPeakBytes },
  { name: 'rssEndBytes', get: (c) => c.metrics?.rssEndBytes },
  { name: 'bytesPerConnection', get: (c) => c.metrics?.bytesPerConnection },
  { name: 'errors', get: (c) => (c.metrics ? Object.values(c.metrics.errors).reduce((a, n) => a + (n ?? 0), 0) : undefined) },
  { name: 'lost', get: (c) => c.metrics?.delivery.lost },
  { name: 'duplicated', get: (c) => c.metrics?.delivery.duplicated },
  { name: 'corrupted', get: (c) => c.metrics?.delivery.corrupted },
  { name: 'outOfOrder', get: (c) => c.metrics?.delivery.outOfOrder },
  {
    name: 'loadgenCpuPctMax',
    get: (c) => {
      const pcts = c.metrics?.loadgen.workers.map((w) => w.cpuUtilPct) ?? [];
      return pcts.length > 0 ? Math.max(...pcts) : undefined;
    },
  },
  { name: 'saturated', get: (c) => c.metrics?.loadgen.saturation.saturated },
  { name: 'warnings', get: (c) => c.warnings.map((w) => w.code).join(';') },
  { name: 'errorCode', get: (c) => c.error?.code },
  { name: 'errorMessage', get: (c) => c.error?.message },
];

/** Voice-relay columns, present when some cell ran the voice model. */
export const VOICE_CSV_COLUMNS: readonly { name: string; get: (c: CellResult) => Value }[] = [
  { name: 'firstChunkP50Us', get: (c) => c.metrics?.voice?.firstChunkUs.p50Us },
  { name: 'firstChunkP99Us', get: (c) => c.metrics?.voice?.firstChunkUs.p99Us },
  { name: 'relayOverheadP50Us', get: (c) => c.metrics?.voice?.relayOverheadUs.p50Us },
  { name: 'relayOverheadP99Us', get: (c) => c.metrics?.voice?.relayOverheadUs.p99Us },
  { name: 'jitterP99Us', get: (c) => c.metrics?.voice?.jitterUs.p99Us },
  { name: 'serverCpuUsPerRelayedMsg', get: (c) => c.metrics?.voice?.serverCpuUsPerRelayedMsg },
  { name: 'bytesPerSession', get: (c) => c.metrics?.voice?.bytesPerSession },
  { name: 'turnsTriggered', get: (c) => c.metrics?.voice?.turnsTriggered },
  { name: 'turnsCompleted', get: (c) => c.metrics?.voice?.turnsCompleted },
  { name: 'repliesCorrupted', get: (c) => c.metrics?.voice?.repliesCorrupted },
  { name: 'upstreamClient', get: (c) => c.server?.relay?.upstreamClient },
  { name: 'upstreamCpuUtilPct', get: (c) => c.metrics?.voice?.upstream?.cpuUtilPct },
];

/** Slow-consumer columns, present when some cell had slow consumers. */
export const SLOW_CSV_COLUMNS: readonly { name: string; get: (c: CellResult) => Value }[] = [
  { name: 'slowOutcome', get: (c) => c.metrics?.slowConsumers?.outcome },
  { name: 'slowExpected', get: (c) => c.metrics?.slowConsumers?.expected },
  { name: 'slowReceived', get: (c) => c.metrics?.slowConsumers?.received },
  { name: 'slowClosedByServer', get: (c) => c.metrics?.slowConsumers?.closedByServer },
  { name: 'slowRssGrowthBytes', get: (c) => c.metrics?.slowConsumers?.rssGrowthBytes },
];

function latency(c: CellResult) {
  return c.metrics && c.metrics.latencyUs.count > 0 ? c.metrics.latencyUs : undefined;
}

/** RFC 4180: quote a field holding a comma, a quote, CR or LF, doubling the quotes. */
export function csvField(value: Value): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Header row, then one row per cell in stored order; CRLF line ends as RFC 4180 asks. */
export const csvFormat: ReportFormat = {
  name: 'csv',
  extension: 'csv',
  render(result: RunResult): string {
    // Ceiling columns only when some cell has a ceiling, so other results keep their columns.
    const columns = [
      ...CSV_COLUMNS,
      ...(hasCeilings(result) ? CEILING_CSV_COLUMNS : []),
      ...(hasCapacity(result) ? CAPACITY_CSV_COLUMNS : []),
      ...(result.cells.some((c) => c.metrics?.voice) ? VOICE_CSV_COLUMNS : []),
      ...(result.cells.some((c) => c.metrics?.slowConsumers) ? SLOW_CSV_COLUMNS : []),
    ];
    const lines = [columns.map((c) => csvField(c.name)).join(',')];
    for (const cell of result.cells) lines.push(columns.map((c) => csvField(c.get(cell))).join(','));
    return `${lines.join('\r\n')}\r\n`;
  },
};
