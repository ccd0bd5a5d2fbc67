// Plain aligned columns for the terminal reports of compare and choose:
// no borders, two spaces between columns, so a comparison fits 120 columns.

/** Display width: code points (µ, Δ, ±, ≥ are one column each). */
export function widthOf(s: string): number {
  return [...s].length;
}

/** Header and rows padded into columns; `align` per column, default left. */
export function alignColumns(header: readonly string[], rows: readonly string[][], align: readonly ('left' | 'right')[] = [], indent = '  '): string[] {
  const widths = header.map((h, i) => Math.max(widthOf(h), ...rows.map((r) => widthOf(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - widthOf(c)));
        return align[i] === 'right' ? pad + c : i === cells.length - 1 ? c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
