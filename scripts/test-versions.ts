// npm run test:versions: the conformance suite (test/servers/conformance.test.ts) on the oldest and the newest
// supported line of every runtime (catalog.ts SUPPORTED_LINES), each server on its version's binary:
//
//   npm run test:versions                           # bun@1.3 bun@1.4 node-ws@20 node-ws@26 node-uws@20 node-uws@22 deno@2.8 deno@2.9
//   npm run test:versions -- bun@1.3.14 node-ws@25  # other versions
//
// Missing versions are installed into bench's cache with npm first (BENCH_CACHE_DIR, else ~/.cache/bench): this
// is why it is not part of `npm test`, which never downloads. Lines resolve to their newest release on the
// registry. Exit code: the test run's, or 2 (a bad request) / 3 (an install failed) before it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchError, ExitCode, formatError } from '../base/errors.js';
import { projectRoot } from '../core/paths.js';
import { cacheRootFrom } from '../core/runtime-versions/cache.js';
import { SUPPORTED_LINES } from '../core/runtime-versions/catalog.js';
import { currentPlatformFacts } from '../core/runtime-versions/host-facts.js';
import { labelRequest, resolveRunRuntimes, serverBinaries } from '../core/runtime-versions/labels.js';
import { execRunner, npmClient } from '../core/runtime-versions/npm.js';
import { BARE_RUNTIME_IDS, isBareRuntimeId, parseRuntimeLabels, registryIdOf } from '../core/runtimes.js';

const asked = process.argv.slice(2);
const items = asked.length > 0 ? asked : BARE_RUNTIME_IDS.flatMap((id) => [`${id}@${SUPPORTED_LINES[id].oldest}`, `${id}@${SUPPORTED_LINES[id].newest}`]);
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-test-versions-'));
let code: number = ExitCode.ok;
try {
  const labels = parseRuntimeLabels(items);
  const stack = labels.find((l) => !isBareRuntimeId(registryIdOf(l)));
  if (stack) throw new BenchError('E_USAGE', `${stack}: the conformance suite runs the bare runtimes only`, { hint: `bare runtimes: ${BARE_RUNTIME_IDS.join(', ')}` });
  const runs = await resolveRunRuntimes(labels.map((l) => labelRequest(l, 'pinned')), {
    npm: npmClient(),
    runner: execRunner,
    facts: currentPlatformFacts(),
    cacheRoot: cacheRootFrom(process.env, os.homedir()),
    projectRoot,
    systemNodePath: process.execPath,
    install: true,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const binaries = serverBinaries(runs);
  const file = path.join(dir, 'runtimes.json');
  writeFileSync(file, JSON.stringify(runs.map((r) => ({ label: r.label, binary: binaries[r.label] }))));
  for (const r of runs) process.stderr.write(`${r.label}: ${r.resolved.binaryPath}\n`);
  const test = spawnSync(process.execPath, ['--test', '--test-concurrency=1', path.join(projectRoot, 'dist', 'test', 'servers', 'conformance.test.js')], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_CONFORMANCE_RUNTIMES: file },
  });
  code = test.status ?? ExitCode.runFailed;
} catch (e) {
  if (!(e instanceof BenchError)) throw e;
  process.stderr.write(formatError(e));
  code = e.exitCode;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
