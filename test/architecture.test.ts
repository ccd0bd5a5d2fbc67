// The layering, checked against the code: each top-level folder's README states
// once, on its `May import:` line, which other folders (or single files) its
// code may import; this test reads those lines and every relative import.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { projectRoot } from '../core/paths.js';

/** Folders whose README must state its imports (scripts/ and test/ may import anything). */
const LAYERED = ['base', 'schema', 'stats', 'servers', 'upstream', 'loadgen', 'core', 'report', 'cli', 'k8s'];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The allowed targets of a folder: folder prefixes ("core/") and single files ("servers/settings.ts"). */
export function allowedImports(readme: string): string[] | undefined {
  const line = readme.split('\n').find((l) => l.startsWith('May import:'));
  if (line === undefined) return undefined;
  const rest = line.slice('May import:'.length).trim();
  if (/^nothing\b/i.test(rest)) return [];
  return [...rest.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

/** Relative import specifiers of a file, resolved to project paths with .ts (e.g. "base/errors.ts"). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)) {
    const spec = m[1] ?? m[2]!;
    const abs = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
    out.push(path.relative(projectRoot, abs).split(path.sep).join('/'));
  }
  return out;
}

describe('the layering', () => {
  for (const folder of LAYERED) {
    test(`${folder}/ imports only what its README allows`, () => {
      const readmePath = path.join(projectRoot, folder, 'README.md');
      assert.ok(existsSync(readmePath), `${folder}/README.md is missing`);
      const allowed = allowedImports(readFileSync(readmePath, 'utf8'));
      assert.ok(allowed !== undefined, `${folder}/README.md has no "May import:" line`);
      const violations: string[] = [];
      for (const file of tsFiles(path.join(projectRoot, folder))) {
        for (const target of importsOf(file)) {
          if (target.startsWith(`${folder}/`)) continue;
          const ok = allowed.some((a) => (a.endsWith('/') ? target.startsWith(a) : target === a));
          if (!ok) violations.push(`${path.relative(projectRoot, file)} imports ${target}`);
        }
      }
      assert.deepEqual(violations, [], `allowed: ${allowed.join(', ') || 'nothing'}`);
    });
  }

  test('the README line parser reads folders, files and "nothing"', () => {
    assert.deepEqual(allowedImports('x\nMay import: `base/`, `core/a.ts` (why)\n'), ['base/', 'core/a.ts']);
    assert.deepEqual(allowedImports('May import: nothing outside `servers/`.'), []);
    assert.equal(allowedImports('no rule here'), undefined);
  });
});
