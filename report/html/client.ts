// The script the HTML page runs: it reads the charts' drawing instructions
// (layout.ts) from the page's JSON and hands each layer to Observable Plot.
// It decides nothing a reader sees as a number or a word: that is done in
// Node, where it is tested.
//
// page.ts inlines `drawCharts.toString()`, so the function must stay
// self-contained: no imports used at run time (type imports are erased), no
// reference to anything outside its own body. The types below describe the
// little of the DOM and of Plot it uses (tsconfig has no DOM library).

import type { Layer, RenderAxis, RenderChart } from './layout.js';

type Options = Record<string, unknown>;
type MarkFn = (data: readonly unknown[], options: Options) => unknown;

/** The part of Observable Plot's API the page uses. */
export interface PlotApi {
  plot(options: Options): ElementLike;
  areaY: MarkFn;
  line: MarkFn;
  dot: MarkFn;
  ruleX: MarkFn;
  ruleY: MarkFn;
  rect: MarkFn;
  text: MarkFn;
  axisX: MarkFn;
  axisY: MarkFn;
  gridX: MarkFn;
  gridY: MarkFn;
}

export interface ElementLike {
  textContent: string | null;
  clientWidth: number;
  open?: boolean;
  replaceChildren(...nodes: unknown[]): void;
  setAttribute(name: string, value: string): void;
  addEventListener(type: string, listener: () => void): void;
  querySelector(selector: string): ElementLike | null;
  querySelectorAll(selector: string): { forEach(f: (e: ElementLike) => void): void };
}

export interface WindowLike {
  Plot?: PlotApi;
  document: ElementLike & { getElementById(id: string): ElementLike | null; createElement(tag: string): ElementLike };
  addEventListener(type: string, listener: () => void): void;
  matchMedia(query: string): { addEventListener(type: string, listener: () => void): void };
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  console: { error(...args: unknown[]): void };
}

/**
 * Draws every chart of the page: reads `<script id="bench-charts"
 * type="application/json">` (an array of RenderChart), draws each into
 * `#chart-<id> .plot` at the container's width, redraws when the width
 * changes, and opens `details.print-open` before printing. A chart that fails
 * is replaced by its error text and logged with console.error (the browser
 * test fails on it); the data table under it stays readable either way.
 */
export function drawCharts(win: WindowLike): void {
  const doc = win.document;
  const Plot = win.Plot;
  const source = doc.getElementById('bench-charts');
  if (!Plot || !source) {
    win.console.error('bench report: charting library or chart data missing');
    return;
  }
  const charts = JSON.parse(source.textContent ?? '[]') as RenderChart[];

  const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  // Tick labels come from the page's data: Plot's own log-axis formatter would blank some of them.
  const labelOf = (a: RenderAxis) => (d: number) => {
    const i = a.ticks.findIndex((t) => near(t, d));
    return i < 0 ? '' : a.labels[i];
  };
  const axisMarks = (c: RenderChart, category: boolean): unknown[] => [
    ...(category ? [] : [Plot.gridX(c.x.ticks, { strokeOpacity: 0.12 })]),
    Plot.gridY(c.y.ticks, { strokeOpacity: 0.12 }),
    Plot.axisX(c.x.ticks, { text: labelOf(c.x), label: c.x.title, labelAnchor: 'center', labelArrow: 'none' }),
    // The y title reads horizontally above the axis: no clipping, no head tilt.
    Plot.axisY(c.y.ticks, { text: labelOf(c.y), label: c.y.title, labelAnchor: 'top', labelArrow: 'none' }),
  ];
  type P2 = [number, number];
  type P3 = [number, number, number];
  type P4 = [number, number, number, number];
  const markOf = (L: Layer): unknown => {
    const base = { className: L.cls };
    switch (L.mark) {
      case 'area':
        return Plot.areaY(L.data, { ...base, x: (d: P3) => d[0], y1: (d: P3) => d[1], y2: (d: P3) => d[2], fill: 'currentColor', fillOpacity: L.fillOpacity, clip: true });
      case 'line':
        return Plot.line(L.data, { ...base, x: (d: P2) => d[0], y: (d: P2) => d[1], stroke: 'currentColor', strokeWidth: 2, strokeDasharray: L.dash === '' ? undefined : L.dash, clip: true });
      case 'dot':
        return Plot.dot(L.data, { ...base, x: (d: P2) => d[0], y: (d: P2) => d[1], symbol: L.symbol, r: L.cls.includes('ring') ? 8 : 4, stroke: 'currentColor', strokeWidth: 1.5, fill: L.filled ? 'currentColor' : 'none', clip: true });
      case 'hseg':
        return Plot.ruleY(L.data, { ...base, y: (d: P3) => d[2], x1: (d: P3) => d[0], x2: (d: P3) => d[1], stroke: 'currentColor', strokeWidth: L.cls.includes('cap') ? 2 : 3 });
      case 'vseg':
        return Plot.ruleX(L.data, { ...base, x: (d: P3) => d[0], y1: (d: P3) => d[1], y2: (d: P3) => d[2], stroke: 'currentColor', strokeWidth: 2.5 });
      case 'rect':
        return Plot.rect(L.data, {
          ...base,
          x1: (d: P4) => d[0],
          x2: (d: P4) => d[1],
          y1: (d: P4) => d[2],
          y2: (d: P4) => d[3],
          fill: 'currentColor',
          fillOpacity: L.fillOpacity,
          stroke: L.stroke ? 'currentColor' : 'none',
          strokeWidth: 1.5,
          clip: true,
        });
      case 'rule':
        return (L.axis === 'y' ? Plot.ruleY : Plot.ruleX)([L.value], { ...base, stroke: 'currentColor', strokeWidth: 1.5, strokeDasharray: L.dash === '' ? undefined : L.dash });
      case 'text':
        return Plot.text(L.data, {
          ...base,
          x: (d: [number, number, string]) => d[0],
          y: (d: [number, number, string]) => d[1],
          text: (d: [number, number, string]) => d[2],
          textAnchor: L.anchor,
          dx: L.dx,
          dy: L.dy,
          fill: 'currentColor',
          lineAnchor: 'middle',
        });
    }
  };

  const widths = new Map<string, number>();
  const draw = (c: RenderChart) => {
    const box = doc.querySelector(`#chart-${c.id} .plot`);
    if (!box) {
      win.console.error(`bench report: no container for chart ${c.id}`);
      return;
    }
    const width = Math.max(320, Math.floor(box.clientWidth));
    if (widths.get(c.id) === width) return;
    widths.set(c.id, width);
    try {
      const category = c.kind === 'dots' || c.kind === 'bars-interval' || c.kind === 'distributions';
      const svg = Plot.plot({
        width,
        height: c.height,
        marginTop: c.margin.top,
        marginRight: c.margin.right,
        marginBottom: c.margin.bottom,
        marginLeft: c.margin.left,
        style: { fontSize: '12px', background: 'transparent', overflow: 'visible' },
        ariaLabel: c.ariaLabel,
        x: { type: c.x.type, domain: c.x.domain, nice: false },
        y: { type: c.y.type, domain: c.y.domain, nice: false },
        marks: [...axisMarks(c, category), ...c.layers.map(markOf)],
      });
      svg.setAttribute('role', 'img');
      box.replaceChildren(svg);
    } catch (e) {
      widths.delete(c.id);
      box.textContent = `This chart could not be drawn (${String(e)}); its data table is below.`;
      win.console.error(`bench report: chart ${c.id}:`, e);
    }
  };
  const drawAll = () => charts.forEach(draw);
  drawAll();

  let pending: unknown;
  win.addEventListener('resize', () => {
    win.clearTimeout(pending);
    pending = win.setTimeout(drawAll, 150);
  });
  // A chart in a closed <details> has no width yet: draw it when opened.
  doc.querySelectorAll('details').forEach((d) => d.addEventListener('toggle', drawAll));
  // Printing shows what a reader would otherwise have to click open, and the
  // page's print layout has other widths: redraw at them (a chart drawn for the
  // screen and scaled down would print with tiny text).
  win.addEventListener('beforeprint', () => doc.querySelectorAll('details.print-open').forEach((d) => (d.open = true)));
  win.matchMedia('print').addEventListener('change', () => {
    doc.querySelectorAll('details.print-open').forEach((d) => (d.open = true));
    drawAll();
  });
}
