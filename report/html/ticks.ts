// Axis domains, ticks and tick labels from a unit, computed here rather than
// by the charting library so that an axis says "12 ms" exactly the way the
// tables say it (report/units.ts), and so that tests can check them in Node.

import { formatBytes, formatCount, formatPct, formatRate, formatRatio, formatUs, sig3 } from '../units.js';
import type { Unit } from './charts.js';

/** A numeric axis as drawn: domain, tick positions and their labels, the axis title. */
export interface AxisTicks {
  /** `log` also for the percentile axis, whose values are already 1/(1 − p). */
  type: 'linear' | 'log';
  domain: [number, number];
  ticks: number[];
  labels: string[];
  /** The axis title with its unit: `RSS (MiB)`, `latency (log scale)`, `percentile`. */
  title: string;
}

/** A display unit for a linear axis: values are divided by `divisor` and the title says `name`. */
interface DisplayUnit {
  divisor: number;
  name: string;
}

const trim = (x: number): string => String(Number(x.toPrecision(6)));

/** The prefix a whole linear axis is shown in, chosen from its largest magnitude. */
function displayUnit(unit: Unit, maxAbs: number): DisplayUnit {
  const pick = (base: number, names: readonly string[]): DisplayUnit => {
    let i = 0;
    while (i < names.length - 1 && maxAbs >= base ** (i + 1)) i++;
    return { divisor: base ** i, name: names[i]! };
  };
  switch (unit) {
    case 'µs':
      return pick(1000, ['µs', 'ms', 's']);
    case 'bytes':
      return pick(1024, ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']);
    case 'msgs/s':
      return pick(1000, ['msgs/s', 'k msgs/s', 'M msgs/s']);
    case 'connections':
    case 'count':
      return pick(1000, ['', 'thousands', 'millions']);
    case '%':
      return { divisor: 1, name: '%' };
    case '×':
      return { divisor: 1, name: 'ratio, ×' };
    default:
      return { divisor: 1, name: unit };
  }
}

/** The 1-2-5 step that cuts `span` into about `count` intervals. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const f = raw / magnitude;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * magnitude;
}

/** Decimals needed to write multiples of `step` exactly. */
function decimalsOf(step: number): number {
  const text = trim(step);
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/**
 * A linear axis over [lo, hi] (stored units), extended outward to whole
 * steps, with about `count` ticks in the display unit chosen for the axis
 * (`RSS (MiB)` with ticks `40`, `45`, `50`). `lo` = `hi` gets a span around the value.
 */
export function linearAxis(lo: number, hi: number, unit: Unit, label: string, count = 5): AxisTicks {
  const du = displayUnit(unit, Math.max(Math.abs(lo), Math.abs(hi)));
  let a = lo / du.divisor;
  let b = hi / du.divisor;
  if (a === b) {
    const pad = a === 0 ? 1 : Math.abs(a) * 0.1;
    a -= a === 0 ? 0 : pad;
    b += pad;
  }
  const step = niceStep(b - a, count);
  const start = Math.floor(a / step + 1e-9) * step;
  const end = Math.ceil(b / step - 1e-9) * step;
  const decimals = decimalsOf(step);
  const ticks: number[] = [];
  const labels: string[] = [];
  for (let i = 0; start + i * step <= end + step * 1e-9; i++) {
    const v = Number((start + i * step).toFixed(decimals));
    ticks.push(v * du.divisor);
    labels.push(formatCount(Number(v.toFixed(decimals))));
  }
  return { type: 'linear', domain: [start * du.divisor, end * du.divisor], ticks, labels, title: du.name === '' ? label : `${label} (${du.name})` };
}

/** A tick label that carries its own unit, for log axes whose ticks span prefixes: `200 µs`, `1 ms`, `2 KiB`, `0.5×`. */
export function tickLabel(v: number, unit: Unit): string {
  // The report formatters pad to 3 significant digits (1.00 ms); a tick is exact, so trailing zeros go.
  const bare = (s: string) => s.replace(/(\.\d*?)0+(?=\D|$)/, '$1').replace(/\.(?=\D|$)/, '');
  switch (unit) {
    case 'µs':
      return bare(formatUs(v));
    case 'µs/msg':
      return `${bare(sig3(v))} µs`;
    case 'bytes':
      return bare(formatBytes(v));
    case 'msgs/s':
    case 'connections':
    case 'count':
      return bare(formatRate(v));
    case '%':
      return bare(formatPct(v));
    case '×':
      return `${trim(v)}×`;
    case 's':
      return `${trim(v)} s`;
    default:
      return trim(v);
  }
}

/** Candidate log ticks between lo and hi: 1-2-5 per decade, or 1-2-4-8 per power of 1024 for bytes. */
function logCandidates(lo: number, hi: number, unit: Unit): number[] {
  const out: number[] = [];
  if (unit === 'bytes') {
    for (let e = Math.floor(Math.log2(lo)); e <= Math.ceil(Math.log2(hi)); e++) out.push(2 ** e);
    return out;
  }
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) out.push(Number((m * 10 ** e).toPrecision(12)));
  }
  return out;
}

/**
 * A log axis over [lo, hi] (both > 0), extended outward to the nearest
 * candidate ticks (1-2-5 per decade; powers of two for bytes), keeping at most
 * about `count` ticks (whole decades first, then 1-2-5), each labelled with
 * its own unit (`100 µs`, `1 ms`).
 */
export function logAxis(lo: number, hi: number, unit: Unit, label: string, count = 8): AxisTicks {
  let a = lo;
  let b = hi;
  if (a === b) {
    a /= 2;
    b *= 2;
  }
  const candidates = logCandidates(a, b, unit);
  const below = candidates.filter((c) => c <= a * (1 + 1e-9));
  const above = candidates.filter((c) => c >= b * (1 - 1e-9));
  const start = below.length > 0 ? below[below.length - 1]! : a;
  const end = above.length > 0 ? above[0]! : b;
  const inside = candidates.filter((c) => c >= start * (1 - 1e-9) && c <= end * (1 + 1e-9));
  // Fewest tiers first: every 1-2-5 tick, then 1 and 5 over up to three decades, then whole decades (every k-th).
  const isMajor =
    unit === 'bytes' ? (c: number) => Math.log2(c) % 2 === 0 : (c: number) => Math.abs(Math.log10(c) - Math.round(Math.log10(c))) < 1e-9;
  const isFive = (c: number) => unit !== 'bytes' && isMajor(c / 5);
  const majors = inside.filter(isMajor);
  const oneFive = inside.filter((c) => isMajor(c) || isFive(c));
  let ticks = inside;
  if (ticks.length > count) ticks = oneFive.length <= count && majors.length <= 3 ? oneFive : majors;
  for (let k = 2; ticks.length > count; k++) ticks = majors.filter((_, i) => i % k === 0);
  const unitName = unit === '×' ? 'ratio, log scale' : 'log scale';
  return { type: 'log', domain: [start, end], ticks, labels: ticks.map((t) => tickLabel(t, unit)), title: `${label} (${unitName})` };
}

/** x position on the spectrum's axis of percentile `p` (%): 1/(1 − p/100), so p50 → 2, p99 → 100, p99.99 → 10,000. */
export function percentileToX(p: number): number {
  return 1 / (1 - p / 100);
}

/** The percentile (%) at x on the spectrum's axis; the inverse of `percentileToX`. */
export function xToPercentile(x: number): number {
  return 100 * (1 - 1 / x);
}

/** A percentile as a label: 50%, 99.9%, 99.99%. */
export function percentileLabel(p: number): string {
  return `${trim(Number(p.toPrecision(10)))}%`;
}

/**
 * The percentile-spectrum axis (HdrHistogram's plot): 1/(1 − p) on a log
 * scale, ticks at 50%, 90%, 99%, 99.9%, … up to the highest percentile drawn.
 * Domain from the lowest percentile (at most 50%) to the next "nines".
 */
export function percentileAxis(lowestP: number, highestP: number, label = 'percentile'): AxisTicks {
  const lo = Math.min(percentileToX(Math.min(lowestP, 50)), 2);
  const hi = 10 ** Math.max(1, Math.ceil(Math.log10(percentileToX(highestP)) - 1e-9));
  const ticks = [2];
  for (let x = 10; x <= hi * (1 + 1e-9); x *= 10) ticks.push(x);
  return { type: 'log', domain: [lo, hi], ticks, labels: ticks.map((x) => percentileLabel(xToPercentile(x))), title: label };
}

/** A value as the tables print it, in its unit: `850 µs`, `47.1 MiB`, `812k msgs/s`, `3.1%`, `1.07×`, `p99.9`. */
export function formatValue(v: number, unit: Unit): string {
  switch (unit) {
    case 'µs':
      return formatUs(v);
    case 'µs/msg':
      return `${sig3(v)} µs`;
    case 'bytes':
      return formatBytes(v);
    case 'msgs/s':
      return `${formatRate(v)} msgs/s`;
    case '%':
      return formatPct(v);
    case '×':
      return formatRatio(v);
    case 's':
      return `${sig3(v)} s`;
    case 'connections':
      return `${formatCount(Math.round(v))} conn.`;
    case 'count':
      return formatCount(Math.round(v));
    case 'percentile':
      return percentileLabel(v);
    case 'category':
      return String(v);
  }
}
