import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { isBenchError } from '../../base/errors.js';
import { canCreateNamespaces, createHosts, creatorPidOf, listNamespaces, removeStaleNamespaces, type HostNetwork } from '../../core/netns.js';

// Its own prefix, so the test never touches the namespaces of a real simulation running beside it.
const PREFIX = 'benchtest';
const can = await canCreateNamespaces();
const skip = can.ok ? false : `network namespaces cannot be made here: ${can.reason}`;
const node = process.execPath;

const rootLinks = () =>
  execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0])
    .filter(Boolean)
    .sort();

/** Reads JSON lines from a child's stdout, resolving once `n` have arrived. */
function jsonLines(child: ChildProcess, n: number): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const got: Record<string, unknown>[] = [];
    let buf = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        got.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
        if (got.length === n) resolve(got);
      }
    });
    child.once('exit', (code) => got.length < n && reject(new Error(`exited (${code}) after ${got.length} of ${n} lines: ${err}`)));
  });
}

// A TCP echo server: one JSON line with its port, then one per connection with the peer's address.
const ECHO_SERVER = `const net = require('net');
const s = net.createServer((c) => { console.log(JSON.stringify({ from: c.remoteAddress })); c.pipe(c); });
s.listen(0, process.argv[1], () => console.log(JSON.stringify({ port: s.address().port })));`;
// A client: sends its message, prints what came back and the address it connected from.
const ECHO_CLIENT = `const net = require('net');
const [host, port, msg] = process.argv.slice(1);
const c = net.connect({ host, port: Number(port) }, () => c.write(msg));
let got = '';
c.on('data', (d) => { got += d; if (got.length >= msg.length) { console.log(JSON.stringify({ echoed: got, local: c.localAddress })); c.end(); } });`;

describe('network namespaces: several hosts on one machine', { skip }, () => {
  let net: HostNetwork | undefined;
  after(() => net?.destroy());

  test('three hosts: clients in two reach an echo server in the third from their own addresses, and destroy leaves nothing', async () => {
    const linksBefore = rootLinks();
    net = await createHosts(3, { prefix: PREFIX });
    const [h0, h1, h2] = net.hosts as [HostNetwork['hosts'][0], HostNetwork['hosts'][0], HostNetwork['hosts'][0]];
    assert.deepEqual(net.hosts.map((h) => h.address), ['10.77.0.1', '10.77.0.2', '10.77.0.3']);
    const names = await listNamespaces();
    for (const h of net.hosts) assert.ok(names.includes(h.name), `${h.name} exists`);
    assert.ok(names.includes(net.switchName));
    // Nothing of the simulation is in the root namespace.
    assert.deepEqual(rootLinks(), linksBefore);

    // What a segment needs inside its namespace: loopback up, the wide port range, the server's address routable.
    const ports = await h1.run('cat', ['/proc/sys/net/ipv4/ip_local_port_range']);
    assert.deepEqual(ports.stdout.trim().split(/\s+/), ['1024', '65535']);
    const lo = await h1.run('ip', ['-o', 'link', 'show', 'lo']);
    assert.match(lo.stdout, /UP/);
    const route = await h2.run('ip', ['-o', 'route', 'get', h0.address]);
    assert.match(route.stdout, new RegExp(`${h0.address.replace(/\./g, '\\.')} dev eth0 src ${h2.address.replace(/\./g, '\\.')}`));

    // Managed processes (core/process.ts): their own process group, known to the watchdog.
    const server = h0.exec(node, ['-e', ECHO_SERVER, h0.address], { env: process.env }).child;
    const serverLines = jsonLines(server, 3);
    const { port } = (await jsonLines(server, 1))[0] as { port: number };
    const clients = [h1, h2].map((h) => h.exec(node, ['-e', ECHO_CLIENT, h0.address, String(port), `hello from ${h.name}`], { env: process.env }).child);
    const replies = await Promise.all(clients.map((c) => jsonLines(c, 1).then((l) => l[0]!)));
    assert.deepEqual(replies, [
      { echoed: `hello from ${h1.name}`, local: h1.address },
      { echoed: `hello from ${h2.name}`, local: h2.address },
    ]);
    // Checked server-side: two connections, from the two clients' own addresses.
    const froms = (await serverLines).slice(1).map((l) => l['from']);
    assert.deepEqual([...froms].sort(), [h1.address, h2.address].sort());

    const serverPid = server.pid!;
    await net.destroy();
    await net.destroy(); // idempotent
    assert.equal(existsSync(`/proc/${serverPid}`), false, 'the server process is gone');
    const left = (await listNamespaces()).filter((n) => n.startsWith(net!.runId));
    assert.deepEqual(left, [], 'no namespace left');
    assert.deepEqual(rootLinks(), linksBefore, 'no interface left in the root namespace');
    assert.throws(() => h0.exec(node, ['-e', '0'], { env: process.env }), (e) => isBenchError(e) && e.code === 'E_NETNS');
  });

  test('what runs inside a host is a managed process: the leader of its own group, which destroy stops with everything it forked', async () => {
    const n = await createHosts(1, { prefix: PREFIX });
    try {
      // A shell that forks a sleeper and prints its pid: the fork stays in the shell's process group.
      const p = n.hosts[0]!.exec('sh', ['-c', 'sleep 30 & echo $!; wait'], { env: process.env, label: 'forking shell' });
      const pid = await new Promise<number>((resolve) => {
        let buf = '';
        p.child.stdout!.on('data', (d: Buffer) => {
          buf += d.toString();
          if (buf.includes('\n')) resolve(Number(buf.trim()));
        });
      });
      const pgrp = (id: number) => Number(readFileSync(`/proc/${id}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]);
      assert.equal(pgrp(p.pid), p.pid, 'the leader of its own group');
      assert.equal(pgrp(pid), p.pid, 'its fork is in that group');
      await n.destroy(300);
      // Gone, or dead and waiting for init to reap it (its parent went with it): polled, for at most 2 s.
      const running = () => {
        try {
          return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 100 && running(); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(running(), false, 'the fork is gone');
    } finally {
      await n.destroy();
    }
  });

  test("removeStaleNamespaces removes a dead run's namespaces (and what runs inside) and leaves a live run's alone", async () => {
    const dead = spawnSync('true').pid; // a pid that has just exited
    const stale = `${PREFIX}-${dead}-zz-h0`;
    const live = `${PREFIX}-${process.pid}-zz-h0`;
    execFileSync('ip', ['netns', 'add', stale]);
    execFileSync('ip', ['netns', 'add', live]);
    try {
      assert.equal(creatorPidOf(stale, PREFIX), dead);
      assert.equal(creatorPidOf('bench-1-a-h0', PREFIX), undefined, 'another prefix is not ours');
      const removed = await removeStaleNamespaces(PREFIX);
      assert.ok(removed.includes(stale));
      assert.ok(!removed.includes(live));
      const names = await listNamespaces();
      assert.ok(!names.includes(stale) && names.includes(live));
    } finally {
      spawnSync('ip', ['netns', 'del', stale]);
      spawnSync('ip', ['netns', 'del', live]);
    }
  });

  test('refuses bad arguments with E_NETNS before touching anything', async () => {
    for (const [n, opts] of [
      [0, {}],
      [255, {}],
      [2, { prefix: 'Bad-Prefix' }],
      [2, { subnet: '10.77.0.0/16' }],
      [2, { subnet: '10.300.0.0/24' }],
    ] as const) {
      await assert.rejects(createHosts(n, opts), (e) => isBenchError(e) && e.code === 'E_NETNS');
    }
  });
});

test('canCreateNamespaces gives a reason whenever it says no', () => {
  assert.ok(can.ok || can.reason.length > 0);
  if (!can.ok) process.stderr.write(`# skipped network namespace tests: ${can.reason}\n`);
});
