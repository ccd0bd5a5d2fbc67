// The charting library the page inlines: the published, minified UMD files of
// d3 and Observable Plot from the installed (pinned) packages. Reading them is
// the one file access of report/html besides the writer's: a dependency's
// file, not the result, so the rendering stays a function of its input.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** One inlined script: the package it comes from and its text. */
export interface ChartScript {
  name: string;
  version: string;
  /** The file's text; must not contain `</script` or `<!--` (checked by `renderHtmlPage`). */
  text: string;
}

/** What `renderHtmlPage` inlines before its own script: d3, then Plot (Plot's UMD reads the global `d3`). */
export interface ChartAssets {
  scripts: ChartScript[];
}

const require = createRequire(import.meta.url);

/** The directory of an installed package: walks up from its resolved entry to its package.json. */
function packageDir(name: string): string {
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === name) return dir;
    } catch {
      // no package.json here: keep walking up
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`report/html: cannot find the installed package ${name}`);
    dir = up;
  }
}

function load(name: string, file: string): ChartScript {
  const dir = packageDir(name);
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  return { name, version, text: readFileSync(path.join(dir, file), 'utf8') };
}

let cached: ChartAssets | undefined;

/**
 * d3 (`dist/d3.min.js`) and Observable Plot (`dist/plot.umd.min.js`), read
 * once per process (about 490 KB together) and cached.
 * @throws Error when a package is not installed (run `npm ci`)
 */
export function chartAssets(): ChartAssets {
  cached ??= { scripts: [load('d3', 'dist/d3.min.js'), load('@observablehq/plot', 'dist/plot.umd.min.js')] };
  return cached;
}
