import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonFormat } from '../../report/json.js';
import { loadFixture } from '../helpers/make-fixture.js';

describe('json report', () => {
  const fixture = loadFixture();
  const text = jsonFormat.render(fixture);

  test('round-trips to the same result', () => assert.deepEqual(JSON.parse(text), fixture));

  test('keeps the stored key order, indented by 2 spaces, ending with a newline', () => {
    assert.equal(text, `${JSON.stringify(fixture, null, 2)}\n`);
    assert.ok(text.startsWith('{\n  "schemaVersion": 3,\n  "tool": {\n    "name": "bench"'));
  });
});
