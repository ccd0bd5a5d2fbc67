// Human number formatting shared by the table and Markdown reports, so both
// print the same figure the same way. Three significant digits throughout:
// more would suggest a precision repeated runs do not have.

/** `x` to 3 significant digits, without exponent: 812, 81.2, 8.12, 0.812. */
export function sig3(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const rounded = Number(x.toPrecision(3));
  if (rounded === 0) return '0';
  // Digits before the point of the rounded value (999.6 → 1000 → 4).
  const magnitude = Math.floor(Math.log10(Math.abs(rounded)) + 1e-12);
  return rounded.toFixed(Math.max(0, 2 - magnitude));
}

function scaled(x: number, base: number, units: readonly string[], sep: string): string {
  let i = 0;
  let v = x;
  // Move up a unit while the rounded value would need a 4th digit.
  while (i < units.length - 1 && Math.abs(Number(v.toPrecision(3))) >= 1000) {
    v /= base;
    i++;
  }
  return `${sig3(v)}${sep}${units[i]}`;
}

/** Messages (or requests) per second: `950`, `81.2k`, `812k`, `1.23M`. */
export function formatRate(msgsPerSec: number): string {
  return scaled(msgsPerSec, 1000, ['', 'k', 'M', 'G'], '');
}

/** A duration in µs: `850 µs` under 1 ms, `12.3 ms` under 1 s, `1.20 s` above. */
export function formatUs(us: number): string {
  return scaled(us, 1000, ['µs', 'ms', 's'], ' ');
}

/** Bytes in binary units: `512 B`, `12.3 KiB`, `118 MiB`, `7.77 GiB`. */
export function formatBytes(bytes: number): string {
  return scaled(bytes, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB'], ' ');
}

/** A percentage: one decimal under 10 (`3.1%`), whole above (`97%`). */
export function formatPct(pct: number): string {
  if (pct === 0) return '0%';
  return `${Math.abs(pct) < 9.95 ? pct.toFixed(1) : pct.toFixed(0)}%`;
}

/** A ratio to the reference: `0.52×`, `2.10×`, `12.3×`. */
export function formatRatio(ratio: number): string {
  return `${Math.abs(ratio) < 9.995 ? ratio.toFixed(2) : sig3(ratio)}×`;
}

/** An exact count with thousands separators: `1,048,576`. */
export function formatCount(n: number): string {
  const [int, frac] = String(n).split('.');
  const grouped = (int ?? '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

import type { Figure, Unit, ViewCell } from './view.js';

const BY_UNIT: Record<Unit, (x: number) => string> = {
  'msgs/s': formatRate,
  µs: formatUs,
  // The column header carries the unit: "CPU µs/msg".
  'µs/msg': sig3,
  bytes: formatBytes,
  '%': formatPct,
  '×': formatRatio,
  count: (x) => formatCount(Math.round(x)),
  // Large and estimated (projections): compact, 872k.
  connections: formatRate,
  s: (x) => formatUs(x * 1e6),
};

/** A figure as text: `≥ 812k ±3.1% *`, `≈1.30M`, `+5.5 MiB`, `16,800 (16,000–17,200) (bisected)`. */
export function formatFigure(f: Figure): string {
  const fmt = BY_UNIT[f.unit];
  const sign = f.signed ? (f.value < 0 ? '−' : '+') : f.value < 0 ? '-' : '';
  const body = `${f.bound === 'lower' ? '≥ ' : f.bound === 'upper' ? '≤ ' : ''}${f.approx ? '≈' : ''}${sign}${fmt(Math.abs(f.value))}`;
  const range = f.range && fmt(f.range[0]) !== fmt(f.range[1]) ? ` (${fmt(f.range[0])}–${fmt(f.range[1])})` : '';
  const spread = f.spreadPct !== undefined ? ` ±${formatPct(f.spreadPct)}` : '';
  return `${body}${range}${spread}${f.note ? ` ${f.note}` : ''}`;
}

/** A view cell as text: a figure formatted, words as they are. */
export function formatCell(c: ViewCell): string {
  return typeof c === 'string' ? c : formatFigure(c);
}

/** A case view's rows as the table and Markdown print them. */
export function textRows(rows: readonly (readonly ViewCell[])[]): string[][] {
  return rows.map((r) => r.map(formatCell));
}
