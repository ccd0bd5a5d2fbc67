import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BenchError } from '../../base/errors.js';
import { FORMATS, FORMAT_NAMES, getFormat } from '../../report/format.js';
import { loadFixture } from '../helpers/make-fixture.js';

describe('report format registry', () => {
  test('knows table, json, markdown, csv and html', () => assert.deepEqual(FORMAT_NAMES, ['table', 'json', 'markdown', 'csv', 'html']));

  for (const [name, extension] of [['table', 'txt'], ['json', 'json'], ['markdown', 'md'], ['csv', 'csv'], ['html', 'html']] as const) {
    test(`${name} is found by name, has extension .${extension} and renders the fixture`, () => {
      const f = getFormat(name);
      assert.equal(f.name, name);
      assert.equal(f.extension, extension);
      const out = f.render(loadFixture());
      assert.ok(out.length > 0 && out.endsWith('\n'));
    });
  }

  test('rendering is pure: same input, same output, input untouched', () => {
    const fixture = loadFixture();
    const before = JSON.stringify(fixture);
    for (const f of FORMATS) assert.equal(f.render(fixture), f.render(fixture), f.name);
    assert.equal(JSON.stringify(fixture), before);
  });

  test('an unknown name is E_USAGE listing the valid names', () => {
    assert.throws(
      () => getFormat('xml'),
      (e: unknown) => {
        assert.ok(e instanceof BenchError);
        assert.equal(e.code, 'E_USAGE');
        assert.equal(e.exitCode, 2);
        for (const name of FORMAT_NAMES) assert.ok(e.message.includes(name), name);
        assert.match(e.message, /"xml"/);
        return true;
      },
    );
  });

  test('names are exact (no case folding)', () => assert.throws(() => getFormat('JSON'), { code: 'E_USAGE' }));
});
