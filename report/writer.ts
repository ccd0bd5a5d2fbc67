// The only file in report/ that does I/O. Reports are rewritten after every
// cell (conventions, point 15), so each write must replace the old file whole
// or not at all: a crash or Ctrl-C mid-write must never leave half a file.

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RunResult } from '../schema/result.js';
import { csvFormat } from './csv.js';
import { htmlErrorPage, htmlFormat } from './html.js';
import { jsonFormat } from './json.js';
import { markdownFormat } from './markdown.js';

// Two overlapping writes of one path in this process must not share a temp file.
let sequence = 0;

/**
 * Writes `text` (UTF-8) to `filePath` atomically: to `<filePath>.tmp-<pid>-<n>`
 * in the same directory, flushed to disk, then renamed over `filePath`.
 * Readers see the old content or the new, never a mix; on failure the temp
 * file is removed and the old content is left as it was.
 */
export async function writeAtomic(filePath: string, text: string): Promise<void> {
  const tmp = `${filePath}.tmp-${process.pid}-${sequence++}`;
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, filePath);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** File names `writeRunReports` writes, by format. */
export const RUN_REPORT_FILES = { json: 'result.json', markdown: 'report.md', csv: 'results.csv', html: 'report.html' } as const;

/** The HTML report, or, when rendering throws (a bug), a page saying so: a report must never stop a run that is still measuring. */
function htmlReport(result: RunResult): string {
  try {
    return htmlFormat.render(result);
  } catch (e) {
    return htmlErrorPage(`${result.tool?.name ?? 'bench'} — ${result.label || 'run'}`, e);
  }
}

/**
 * Writes `result.json`, `report.md`, `results.csv` and `report.html` into
 * `dir` (created if missing), each atomically; the JSON first, since it is
 * the source the others can be rebuilt from. Returns the paths written.
 */
export async function writeRunReports(dir: string, result: RunResult): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  // Each rendered just before it is written, the result first: an interrupted run that must exit within 2 s keeps
  // its result.json even when the slower renderings (the HTML page) do not make it.
  const files: [string, () => string][] = [
    [RUN_REPORT_FILES.json, () => jsonFormat.render(result)],
    [RUN_REPORT_FILES.markdown, () => markdownFormat.render(result)],
    [RUN_REPORT_FILES.csv, () => csvFormat.render(result)],
    [RUN_REPORT_FILES.html, () => htmlReport(result)],
  ];
  const written: string[] = [];
  for (const [name, render] of files) {
    const file = path.join(dir, name);
    await writeAtomic(file, render());
    written.push(file);
  }
  return written;
}

/**
 * Writes `result.json` alone into `dir`, synchronously and atomically: for the last moment before bench must exit
 * (an interrupt's deadline, a second signal), when nothing asynchronous will run again. Returns the path written.
 */
export function writeResultSync(dir: string, result: RunResult): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, RUN_REPORT_FILES.json);
  const tmp = `${file}.tmp-${process.pid}-${sequence++}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, jsonFormat.render(result));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return file;
}
