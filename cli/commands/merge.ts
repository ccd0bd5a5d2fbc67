import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BenchError, ExitCode } from '../../base/errors.js';
import { MAX_JSON_FILE_BYTES, parseJsonText } from '../../base/json.js';
import { quote } from '../../base/validate.js';
import { mergeSegmentResults } from '../../core/merge.js';
import type { RunResult } from '../../schema/result.js';
import { tableFormat } from '../../report/table.js';
import { writeRunReports } from '../../report/writer.js';
import { prepareOutDir, throwFindings } from '../checks.js';
import type { Io } from '../io.js';
import { toolVersion } from '../version.js';

/** A segment result's (or a server sample's) parsed JSON; exit 2 naming the file when it cannot be read. */
function readSegmentFile(file: string, cwd: string): unknown {
  const p = path.resolve(cwd, file);
  let text: string;
  try {
    // Segment results carry every worker's encoded histograms: the bound of a result file.
    if (statSync(p).size > 4 * MAX_JSON_FILE_BYTES) throw new Error(`larger than ${(4 * MAX_JSON_FILE_BYTES) / 2 ** 20} MiB`);
    text = readFileSync(p, 'utf8');
  } catch (e) {
    throw new BenchError('E_INVALID_RESULT', `cannot read segment result ${quote(p, 200)}: ${(e as Error).message}`, { hint: 'give the files `bench load --segment I/N --out FILE` wrote' });
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw new BenchError('E_INVALID_RESULT', `cannot read segment result ${quote(p, 200)}: ${parsed.problem}`);
  return parsed.value;
}

/**
 * Writes a merged result like a `bench run` result folder, prints its table on stderr (and its JSON with
 * --json); exit 3 when the merged run lost, broke or refused anything (as `bench run`), else 0.
 */
export async function writeMerged(result: RunResult, outDir: string, opts: Record<string, unknown>, io: Io): Promise<number> {
  const dir = path.resolve(io.cwd, outDir);
  throwFindings(await prepareOutDir(dir));
  await writeRunReports(dir, result);
  io.stderr.write(tableFormat.render(result));
  io.stderr.write(`merged ${result.segments?.count ?? 0} segments into ${path.join(dir, 'result.json')}\n`);
  if (opts['json']) io.stdout.write(JSON.stringify(result, null, 2) + '\n');
  return result.status === 'failed' ? ExitCode.runFailed : ExitCode.ok;
}

/** `bench merge SEGMENT_RESULTS… --out DIR` (core/merge.ts). */
export async function mergeCommand(opts: Record<string, unknown>, args: string[], io: Io): Promise<number> {
  const inputs = args.map((file) => ({ name: file, raw: readSegmentFile(file, io.cwd) }));
  const serverFile = opts['serverSample'];
  const result = mergeSegmentResults(inputs, {
    toolVersion: toolVersion(),
    commandLine: ['bench', ...io.argv],
    ...(typeof opts['label'] === 'string' ? { label: opts['label'] } : {}),
    ...(typeof serverFile === 'string' ? { server: { name: serverFile, raw: readSegmentFile(serverFile, io.cwd) } } : {}),
  });
  return writeMerged(result, String(opts['out']), opts, io);
}
