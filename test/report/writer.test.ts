import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RUN_REPORT_FILES, writeAtomic, writeRunReports } from '../../report/writer.js';
import { csvFormat } from '../../report/csv.js';
import { markdownFormat } from '../../report/markdown.js';
import { htmlFormat } from '../../report/html.js';
import { loadFixture } from '../helpers/make-fixture.js';

const root = await mkdtemp(path.join(os.tmpdir(), 'bench-writer-'));
after(() => rm(root, { recursive: true, force: true }));

describe('writeAtomic', () => {
  test('writes the text and leaves no temp file', async () => {
    const dir = await mkdtemp(path.join(root, 'a-'));
    const file = path.join(dir, 'out.txt');
    await writeAtomic(file, 'héllo\n');
    assert.equal(await readFile(file, 'utf8'), 'héllo\n');
    assert.deepEqual(await readdir(dir), ['out.txt']);
  });

  test('replaces existing content whole', async () => {
    const dir = await mkdtemp(path.join(root, 'b-'));
    const file = path.join(dir, 'out.txt');
    await writeFile(file, 'old content that is longer than the new one');
    await writeAtomic(file, 'new');
    assert.equal(await readFile(file, 'utf8'), 'new');
    assert.deepEqual(await readdir(dir), ['out.txt']);
  });

  test('overlapping writes of one path end with one of them, and no temp file', async () => {
    const dir = await mkdtemp(path.join(root, 'c-'));
    const file = path.join(dir, 'out.txt');
    await Promise.all(['one', 'two', 'three'].map((t) => writeAtomic(file, t)));
    assert.ok(['one', 'two', 'three'].includes(await readFile(file, 'utf8')));
    assert.deepEqual(await readdir(dir), ['out.txt']);
  });

  test('on failure rejects, removes its temp file and leaves the target alone', async () => {
    const dir = await mkdtemp(path.join(root, 'd-'));
    const target = path.join(dir, 'a-directory');
    await mkdir(target);
    await writeFile(path.join(target, 'keep'), 'x');
    await assert.rejects(writeAtomic(target, 'text'));
    assert.deepEqual(await readdir(dir), ['a-directory']);
    assert.deepEqual(await readdir(target), ['keep']);
  });
});

describe('writeRunReports', () => {
  test('creates the directory and writes result.json, report.md, results.csv and report.html', async () => {
    const dir = path.join(root, 'e', 'nested', 'run');
    const fixture = loadFixture();
    const written = await writeRunReports(dir, fixture);
    assert.deepEqual(written, ['result.json', 'report.md', 'results.csv', 'report.html'].map((f) => path.join(dir, f)));
    assert.deepEqual((await readdir(dir)).sort(), ['report.html', 'report.md', 'result.json', 'results.csv']);
    assert.deepEqual(JSON.parse(await readFile(path.join(dir, RUN_REPORT_FILES.json), 'utf8')), fixture);
    assert.equal(await readFile(path.join(dir, RUN_REPORT_FILES.markdown), 'utf8'), markdownFormat.render(fixture));
    assert.equal(await readFile(path.join(dir, RUN_REPORT_FILES.csv), 'utf8'), csvFormat.render(fixture));
    assert.equal(await readFile(path.join(dir, RUN_REPORT_FILES.html), 'utf8'), htmlFormat.render(fixture));
  });

  test('rewrites the files of an earlier call', async () => {
    const dir = path.join(root, 'f');
    const fixture = loadFixture();
    await writeRunReports(dir, { ...fixture, status: 'running' });
    await writeRunReports(dir, fixture);
    assert.equal(JSON.parse(await readFile(path.join(dir, 'result.json'), 'utf8')).status, 'completed');
    assert.deepEqual((await readdir(dir)).sort(), ['report.html', 'report.md', 'result.json', 'results.csv']);
  });
});

describe('writeRunReports and a report that cannot be rendered', () => {
  test('writes a page saying so, with the error, and still writes the others: a report never stops a run', async () => {
    const dir = path.join(root, 'g');
    const fixture = loadFixture();
    // Rendering throws only on a bug or a corrupt result: here a raw histogram that is not an encoding.
    const broken = structuredClone(fixture);
    broken.cells[0]!.raw!.latencyEncoded = 'not a histogram';
    const written = await writeRunReports(dir, broken);
    assert.equal(written.length, 4);
    const html = await readFile(path.join(dir, RUN_REPORT_FILES.html), 'utf8');
    assert.match(html, /This HTML report could not be rendered/);
    assert.match(html, /result\.json/);
    assert.doesNotMatch(html, /<script/);
    assert.deepEqual(JSON.parse(await readFile(path.join(dir, RUN_REPORT_FILES.json), 'utf8')), broken);
  });
});
