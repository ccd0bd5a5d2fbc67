/**
 * The two things outside bench that resolving a runtime version talks to: npm (the registry's listing, and
 * `npm install` into the cache) and the installed binaries themselves (`--version`). Both sit behind small
 * interfaces so that tests pass fakes and run without a network; these are the real ones.
 */
import { execFile } from 'node:child_process';
import { BenchError } from '../../base/errors.js';

/** npm, as bench uses it. */
export interface NpmClient {
  /**
   * Every version the registry lists for `pkg` (`npm view <pkg> versions --json`), in the registry's order.
   * @throws BenchError E_REGISTRY_UNAVAILABLE when npm cannot answer (no network, unknown package, timeout).
   */
  versions(pkg: string): Promise<string[]>;
  /**
   * Installs exact `specs` (`name@x.y.z`) into `prefix`/node_modules, running no install scripts and writing
   * nothing outside `prefix` except npm's own download cache.
   * @throws BenchError E_RUNTIME_INSTALL_FAILED with npm's last stderr lines.
   */
  install(prefix: string, specs: readonly string[]): Promise<void>;
}

/** Runs an installed binary and returns its stdout (used for `--version` and Node's ABI). */
export interface BinaryRunner {
  /** @throws Error when the binary cannot run or exits non-zero. */
  run(binary: string, args: readonly string[]): Promise<string>;
}

interface ExecResult {
  stdout: string;
  stderr: string;
}

function exec(command: string, args: readonly string[], timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout: String(stdout), stderr: String(stderr) }));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function tail(text: string, lines = 8): string[] {
  return text.trimEnd().split('\n').filter((l) => l.trim() !== '').slice(-lines);
}

/**
 * The npm arguments of one cache install. Each flag has a reason: `--no-save`/`--no-package-lock` leave no
 * package.json or lock file to maintain (npm still writes node_modules/.package-lock.json, whose `integrity` the
 * cache records); `--ignore-scripts` because the platform packages need none and npm 11 blocks unapproved ones;
 * `--prefer-offline` so that a version already in npm's download cache installs without the network.
 */
export function npmInstallArgs(prefix: string, specs: readonly string[]): string[] {
  return ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', '--loglevel=error', ...specs];
}

/** Parses `npm view <pkg> versions --json`: an array, or a bare string when there is one version. */
export function parseVersionsJson(stdout: string): string[] {
  const v: unknown = JSON.parse(stdout);
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new Error(`unexpected npm view output: ${stdout.slice(0, 200)}`);
}

/**
 * The npm on PATH. Registry look-ups time out after `viewTimeoutMs` (30 s: one packument), installs after
 * `installTimeoutMs` (10 min: a Node tarball is ~50 MB).
 */
export function npmClient(opts: { command?: string; viewTimeoutMs?: number; installTimeoutMs?: number } = {}): NpmClient {
  const command = opts.command ?? 'npm';
  return {
    async versions(pkg) {
      try {
        return parseVersionsJson((await exec(command, ['view', pkg, 'versions', '--json'], opts.viewTimeoutMs ?? 30_000)).stdout);
      } catch (e) {
        const err = e as Error & { stderr?: string; killed?: boolean };
        throw new BenchError('E_REGISTRY_UNAVAILABLE', `npm could not list the versions of ${pkg}${err.killed ? ' (timed out)' : ''}`, {
          details: tail(err.stderr ?? err.message),
          hint: 'check that npm reaches its registry (`npm ping`); an exact version that is already cached needs no registry',
          cause: e,
        });
      }
    },
    async install(prefix, specs) {
      try {
        await exec(command, npmInstallArgs(prefix, specs), opts.installTimeoutMs ?? 600_000);
      } catch (e) {
        const err = e as Error & { stderr?: string; killed?: boolean };
        throw new BenchError('E_RUNTIME_INSTALL_FAILED', `npm install ${specs.join(' ')} failed${err.killed ? ' (timed out)' : ''}`, {
          details: tail(err.stderr ?? err.message),
          hint: 'check that npm reaches its registry (`npm ping`) and that the cache folder is writable (BENCH_CACHE_DIR)',
          cause: e,
        });
      }
    },
  };
}

/** Runs binaries with a 15 s limit (a cold `deno --version` from a slow disk takes well under that). */
export const execRunner: BinaryRunner = {
  async run(binary, args) {
    return (await exec(binary, args, 15_000)).stdout;
  },
};
