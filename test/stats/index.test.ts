import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as stats from '../../stats/index.js';

// Compiled to dist/test/stats/, so the sources are three levels up.
const statsDir = fileURLToPath(new URL('../../../stats/', import.meta.url));

describe('stats/index', () => {
  test('re-exports the public functions', () => {
    const expected = [
      'StatsError', 'isNonEmpty',
      'median', 'quantile', 'mean', 'stddev', 'madRaw', 'madScaled', 'min', 'max', 'madPct', 'cvPct', 'summarize',
      'normalCdf', 'normalQuantile', 'tCdf', 'tQuantile',
      'mannWhitneyU', 'mannWhitneyExactPmf', 'mannWhitneyCriticalU',
      'hodgesLehmann', 'holmAdjust',
      'mulberry32', 'randomIndex', 'shuffle', 'seededShuffle',
      'linearRegression', 'settledValue', 'medianRatePerSec',
      'alphaSpent', 'lookAlpha', 'logRatioInterval', 'sequentialVerdict', 'expectedSettlingLook',
    ];
    for (const name of expected) {
      assert.equal(typeof (stats as Record<string, unknown>)[name], 'function', name);
    }
  });

  test('the module stays pure and self-contained', () => {
    const files = readdirSync(statsDir).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length >= 10, `found ${files.length} sources in ${statsDir}`);
    for (const file of files) {
      const source = readFileSync(statsDir + file, 'utf8');
      const code = source.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
      assert.doesNotMatch(code, /Math\.random|Date\.now|performance\.now|new Date|process\./, `${file}: impure call`);
      for (const [, spec] of code.matchAll(/from\s+'([^']+)'/g)) {
        assert.match(spec!, /^\.\/[\w-]+\.js$/, `${file}: imports '${spec}' from outside stats/`);
      }
    }
  });
});
