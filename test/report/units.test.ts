import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatCount, formatPct, formatRate, formatRatio, formatUs, sig3 } from '../../report/units.js';

function table(fn: (x: number) => string, cases: [number, string][]): void {
  for (const [input, expected] of cases) test(`${input} → ${expected}`, () => assert.equal(fn(input), expected));
}

describe('sig3', () => table(sig3, [[0, '0'], [812.4, '812'], [81.24, '81.2'], [8.124, '8.12'], [0.8124, '0.812'], [9.996, '10.0'], [999.6, '1000'], [-12.34, '-12.3']]));

describe('formatRate', () =>
  table(formatRate, [[0, '0'], [12.5, '12.5'], [950, '950'], [999.6, '1.00k'], [81_240, '81.2k'], [812_345, '812k'], [999_600, '1.00M'], [1_234_567, '1.23M']]));

describe('formatUs', () =>
  table(formatUs, [[1, '1.00 µs'], [850, '850 µs'], [999.4, '999 µs'], [999.6, '1.00 ms'], [12_345, '12.3 ms'], [1_200_000, '1.20 s'], [61_000_000, '61.0 s']]));

describe('formatBytes', () =>
  table(formatBytes, [[0, '0 B'], [512, '512 B'], [1000, '0.977 KiB'], [12_595, '12.3 KiB'], [49_348_608, '47.1 MiB'], [8_341_323_776, '7.77 GiB']]));

describe('formatPct', () => table(formatPct, [[0, '0%'], [0.016, '0.0%'], [3.14, '3.1%'], [9.94, '9.9%'], [9.96, '10%'], [97.4, '97%'], [100, '100%']]));

describe('formatRatio', () => table(formatRatio, [[1, '1.00×'], [0.523, '0.52×'], [2.1, '2.10×'], [12.34, '12.3×']]));

describe('formatCount', () => table(formatCount, [[0, '0'], [999, '999'], [1000, '1,000'], [1_048_576, '1,048,576'], [-12_345, '-12,345'], [1234.5, '1,234.5']]));
