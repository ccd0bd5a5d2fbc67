// The HTML report in a real browser: Debian's chromium (apt, never a browser
// download) driven by playwright-core. Each page — a hand-made document with
// every chart kind, and the real formats' pages: a run (the stored fixture),
// a run with a ceiling, voice, fan-out and the two gaps, a comparison and a
// runtime choice — is written to disk and opened from there; the test fails
// on any console error, page error or request other than the file itself,
// checks that every chart drew marks, that no two direct labels overlap and
// that the verdict is read in the first screen, and saves screenshots (first
// screen, light, and for some dark and print) under test-output/html/ for a
// person to look at. One browser for the whole file.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { projectRoot } from '../../core/paths.js';
import { checkChart } from '../../report/html/charts.js';
import { documentCharts, renderHtmlPage, type HtmlDocument } from '../../report/html/page.js';
import { runtimeChoice } from '../../core/choice.js';
import { choiceDocument, compareDocument } from '../../report/compare/html.js';
import { runDocument } from '../../report/html.js';
import { handMadeDocument } from '../helpers/html-documents.js';
import { comparisonForHtml, richResult } from '../helpers/html-results.js';
import { loadFixture } from '../helpers/make-fixture.js';

/** Debian's chromium; `.ci/run` installs it with apt-get where it can. */
export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots and the rendered pages, git-ignored. */
export const OUTPUT_DIR = path.join(projectRoot, 'test-output', 'html');

const VIEWPORT = { width: 1280, height: 900 };

// The functions passed to page.evaluate run in the browser; tsconfig has no DOM
// library, so these declare just the little of it they use.
interface El {
  id: string;
  textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { top: number; bottom: number; left: number; right: number; width: number; height: number };
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El>;
}
declare const document: { querySelector(selector: string): El | null; querySelectorAll(selector: string): ArrayLike<El> };
declare const window: { Plot: { plot: () => never }; dispatchEvent(event: unknown): void };
declare const Event: new (type: string) => unknown;

const skip = existsSync(CHROMIUM)
  ? false
  : `chromium is not installed at ${CHROMIUM}: install it as root with \`apt-get install -y chromium\` (.ci/run does so where apt-get is available); playwright-core never downloads a browser`;

const KINDS_WITH_LINES = new Set(['percentile-spectrum', 'timeline', 'plateau']);

interface Visit {
  page: Page;
  problems: string[];
}

describe('the HTML report in chromium', { skip }, () => {
  let context: BrowserContext;
  let userDataDir: string;
  const { comparison, head } = comparisonForHtml();
  const docs: [string, HtmlDocument][] = [
    ['hand-made', handMadeDocument()],
    ['run', runDocument(loadFixture())],
    ['ceiling', runDocument(richResult())],
    ['compare', compareDocument(comparison)],
    ['choose', choiceDocument(runtimeChoice(head))],
  ];
  /** Pages also shot in dark and print (each full page costs a second or two). */
  const ALL_SCHEMES = new Set(['hand-made', 'run']);
  const files = new Map<string, string>();

  before(async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    for (const [name, doc] of docs) {
      const file = path.join(OUTPUT_DIR, `${name}.html`);
      writeFileSync(file, renderHtmlPage(doc));
      files.set(name, file);
    }
    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-chromium-'));
    // A persistent context is how Playwright takes a --user-data-dir: a fresh one per run.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: VIEWPORT,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  after(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  /** Opens a rendered page from disk with every other request refused and recorded, every console error recorded. */
  async function visit(name: string): Promise<Visit> {
    const file = files.get(name)!;
    const url = pathToFileURL(file).href;
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`));
    await page.route('**/*', async (route) => {
      if (route.request().url() === url) return route.continue();
      problems.push(`request: ${route.request().url()}`);
      return route.abort();
    });
    await page.goto(url);
    const drawable = documentCharts(docs.find(([n]) => n === name)![1]).map(checkChart).filter((c) => c.series.length > 0).length;
    await page.waitForFunction((n) => document.querySelectorAll('figure.chart .plot svg').length === n, drawable, { timeout: 10_000 });
    return { page, problems };
  }

  for (const [name] of docs) {
    test(`${name}: draws every chart with no error and no request`, async () => {
      const { page, problems } = await visit(name);
      const specs = documentCharts(docs.find(([n]) => n === name)![1]).map(checkChart);
      const drawn = await page.evaluate(() =>
        Array.from(document.querySelectorAll('figure.chart')).map((f) => {
          const svg = f.querySelector('.plot svg');
          const box = svg?.getBoundingClientRect();
          // Marks are Plot's <g aria-label="…"> groups other than axes and grids.
          const marks = svg ? Array.from(svg.querySelectorAll('g[aria-label]')).filter((g) => !/axis|grid/.test(g.getAttribute('aria-label') ?? '')) : [];
          const count = (label: string, sel: string) => marks.filter((g) => g.getAttribute('aria-label') === label).reduce((n, g) => n + g.querySelectorAll(sel).length, 0);
          const labels = svg ? Array.from(svg.querySelectorAll('.direct-label text')).map((t) => t.getBoundingClientRect()) : [];
          return {
            id: f.id.replace(/^chart-/, ''),
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            shapes: marks.reduce((n, g) => n + g.querySelectorAll('path, circle, rect, line, text').length, 0),
            lines: count('line', 'path'),
            dots: count('dot', 'path, circle'),
            bars: count('rect', 'rect'),
            labels: labels.map((r) => ({ top: r.top, bottom: r.bottom, left: r.left, right: r.right })),
            ariaLabel: svg?.getAttribute('aria-label') ?? '',
          };
        }),
      );
      for (const spec of specs) {
        const d = drawn.find((x) => x.id === spec.id);
        assert.ok(d, `${spec.id}: figure present`);
        if (spec.series.length === 0) {
          assert.equal(d.width, 0, `${spec.id}: nothing drawn for an empty chart`);
          continue;
        }
        assert.ok(d.width > 300 && d.height > 150, `${spec.id}: svg ${d.width}×${d.height}`);
        assert.ok(d.shapes > 0, `${spec.id}: drew marks`);
        assert.ok(d.ariaLabel.startsWith(spec.title), `${spec.id}: accessible name`);
        const points = spec.series.reduce((n, s) => n + s.points.length, 0);
        if (KINDS_WITH_LINES.has(spec.kind)) {
          assert.equal(d.lines, spec.series.length, `${spec.id}: one line per series`);
          assert.equal(d.labels.length, spec.series.length, `${spec.id}: a direct label per line`);
        }
        if (spec.kind === 'dots' || spec.kind === 'distributions' || spec.kind === 'scatter-fit') assert.ok(d.dots >= points, `${spec.id}: ${d.dots} dots for ${points} points`);
        if (spec.kind === 'bars-interval') assert.ok(d.bars >= points, `${spec.id}: ${d.bars} bars for ${points} points`);
        // Direct labels must not overlap one another (1 px of tolerance for anti-aliasing).
        for (let i = 0; i < d.labels.length; i++) {
          for (let j = i + 1; j < d.labels.length; j++) {
            const a = d.labels[i]!;
            const b = d.labels[j]!;
            const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
            assert.ok(!overlap, `${spec.id}: direct labels ${i} and ${j} overlap`);
          }
        }
      }
      // The verdict is read without scrolling: its summary and the first row of its table lie in the first screen.
      const verdict = await page.evaluate(() => {
        const v = document.querySelector('.verdict');
        const bottom = (e: El | null | undefined) => e?.getBoundingClientRect().bottom ?? Number.POSITIVE_INFINITY;
        return { summary: bottom(v?.querySelector('.summary') ?? v), firstRow: bottom(v?.querySelector('tbody tr') ?? v?.querySelector('.summary')) };
      });
      assert.ok(verdict.summary < VIEWPORT.height && verdict.firstRow < VIEWPORT.height, `verdict at ${JSON.stringify(verdict)} px`);
      // Nothing wider than the page: tables and charts fit the 1280 px screen (a wide table scrolls inside its own box).
      const overflow = await page.evaluate(() => {
        const root = document.querySelector('main')!.getBoundingClientRect();
        return Array.from(document.querySelectorAll('figure.chart .plot svg')).filter((s) => s.getBoundingClientRect().right > root.right + 1).length;
      });
      assert.equal(overflow, 0, 'every chart inside the page');

      await page.screenshot({ path: path.join(OUTPUT_DIR, `${name}-first-screen.png`) });
      await page.screenshot({ path: path.join(OUTPUT_DIR, `${name}-light.png`), fullPage: true });
      if (ALL_SCHEMES.has(name)) {
        await page.emulateMedia({ colorScheme: 'dark' });
        await page.screenshot({ path: path.join(OUTPUT_DIR, `${name}-dark.png`), fullPage: true });
        await page.emulateMedia({ media: 'print', colorScheme: 'light' });
        await page.screenshot({ path: path.join(OUTPUT_DIR, `${name}-print.png`), fullPage: true });
      }
      await page.close();
      assert.deepEqual(problems, []);
    });
  }

  test('the page stays readable when a chart cannot be drawn: the error is shown and logged', async () => {
    const { page, problems } = await visit('run');
    await page.evaluate(() => {
      window.Plot.plot = () => {
        throw new Error('broken');
      };
      window.dispatchEvent(new Event('resize'));
    });
    await page.setViewportSize({ width: 1000, height: 900 });
    await page.waitForFunction(() => document.querySelector('figure.chart .plot')?.textContent?.includes('could not be drawn'), undefined, { timeout: 5_000 });
    await page.close();
    assert.ok(problems.some((p) => p.includes('broken')), 'the failure reaches the console');
  });
});
