import '../helpers/system-node.js';
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import { commandKey, COMMANDS } from '../../cli/options.js';
import { RUNTIME_IDS } from '../../core/runtimes.js';
import { runBench } from '../helpers/cli.js';

const cli = (argv: string[]) => runBench(argv);

describe('bench list runtimes', () => {
  test('lists every runtime id with whether it is usable', async () => {
    const r = await cli(['list', 'runtimes']);
    assert.equal(r.code, 0);
    for (const id of RUNTIME_IDS) assert.match(r.stdout, new RegExp(`\\b${id}\\b`));
  });

  test('--json prints one entry per runtime with usable and versions', async () => {
    const r = await cli(['list', 'runtimes', '--json']);
    assert.equal(r.code, 0);
    const rows = JSON.parse(r.stdout) as { id: string; usable: boolean; runtimeVersion?: string }[];
    assert.deepEqual(rows.map((x) => x.id), [...RUNTIME_IDS]);
    for (const row of rows) {
      assert.equal(typeof row.usable, 'boolean');
      if (row.usable) assert.match(row.runtimeVersion ?? '', /^\d+\.\d+\.\d+/);
    }
  });

  test('an unknown thing to list is bad input (exit 2)', async () => {
    const r = await cli(['list', 'planets']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /E_USAGE/);
  });
});

describe('flags and help come from one table', () => {
  for (const def of COMMANDS) {
    test(`${commandKey(def)} --help shows every option with its default and the examples`, async () => {
      const r = await cli([...commandKey(def).split(' '), '--help']);
      assert.equal(r.code, 0);
      // commander wraps long lines; compare with white space folded.
      const help = r.stdout.replace(/\s+/g, ' ');
      const fold = (t: string) => t.replace(/\s+/g, ' ');
      for (const o of def.options) {
        const long = /--[\w-]+/.exec(o.flags)?.[0];
        assert.ok(long && help.includes(long), `${def.name} --help lacks ${o.flags}`);
        assert.ok(help.includes(fold(o.description)), `${def.name} --help lacks the text of ${o.flags}`);
        if (o.defaultValue !== undefined && o.defaultValue !== false) {
          assert.ok(help.includes(`default: ${JSON.stringify(o.defaultValue)}`), `${def.name} --help lacks the default of ${o.flags}`);
        }
        for (const c of o.choices ?? []) assert.ok(help.includes(`"${c}"`), `${def.name} --help lacks choice ${c} of ${o.flags}`);
      }
      for (const ex of def.examples) assert.ok(help.includes(fold(ex)), `${def.name} --help lacks example ${ex}`);
    });
  }

  test('no arguments prints the help and exits 2, saying why with a code', async () => {
    const r = await cli([]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /Usage: bench/);
    assert.match(r.stderr, /^error\[E_USAGE\]: no command given\nhint: /);
  });
});

describe('bench serve: bad input', () => {
  test('an unknown runtime exits 2 with E_UNKNOWN_RUNTIME and lists the valid ids', async () => {
    const r = await cli(['serve', '--runtime', 'nodejs']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error\[E_UNKNOWN_RUNTIME\]/);
    for (const id of RUNTIME_IDS) assert.ok(r.stderr.includes(id));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for an expected error');
  });

  test('a port out of range names the flag and exits 2', async () => {
    const r = await cli(['serve', '--runtime', 'bun', '--port', '70000']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port: must be an integer from 0 to 65535/);
  });

  test('a port in use exits 2 with E_PORT_IN_USE naming the port, without starting a server', async () => {
    const blocker = net.createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await cli(['serve', '--runtime', 'node-ws', '--port', String(port)]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`error\\[E_PORT_IN_USE\\]: port ${port} on 127.0.0.1 is in use`));
    } finally {
      blocker.close();
    }
  });

  test('a missing --runtime is a usage error (exit 2)', async () => {
    const r = await cli(['serve']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--runtime/);
  });
});
