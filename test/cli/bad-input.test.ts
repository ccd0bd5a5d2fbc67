// The bad-input battery: a table of malformed and hostile invocations over every flag of every command and
// every scenario field (types, ranges, unknown keys, wrong shapes, empty strings, huge values, negative
// numbers, NaN and Infinity spelled out, unicode, very long strings) plus bad result, thresholds and
// calibration files. Each row runs the CLI in-process and must be refused before anything starts: exit 2,
// the field named on stderr, no stack trace, a bounded stderr, nothing on stdout, no process spawned.
import '../helpers/system-node.js';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { runCli } from '../../cli/index.js';
import { bufferIo } from '../../cli/io.js';
import { currentHost } from '../../core/host.js';
import { liveChildren, liveServers, liveUpstreams, stopAllServers } from '../../core/launcher.js';
import { validateScenario } from '../../core/scenario.js';
import { FIXTURE_PATH } from '../helpers/make-fixture.js';

const host = currentHost();
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-bad-input-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
/** Where a row's run would write, were it not refused (it must stay empty). */
const out = path.join(tmp, 'results');
/** The stderr of any refusal stays below this. */
const MAX_STDERR_BYTES = 20 * 1024;
/** A row still running after this was not refused: it is interrupted and fails (no absolute time is asserted otherwise). */
const GUARD_MS = 30_000;

let fileNo = 0;
/** Writes `text` to a fresh file under the temp folder and returns its path. */
function file(text: string, ext = '.json'): string {
  const p = path.join(tmp, `f${fileNo++}${ext}`);
  writeFileSync(p, text);
  return p;
}

type Json = Record<string, unknown>;
const clone = (v: Json): Json => JSON.parse(JSON.stringify(v)) as Json;

/** Valid scenarios of every model, small; each row breaks one thing. */
const BASES: Record<string, Json> = {
  closed: { name: 'bad', description: 'd', route: '/echo', connections: 4, warmupSec: 0, durationSec: 1, load: { model: 'closed', depth: 1 }, message: { kind: 'binary', size: { type: 'fixed', bytes: 64 } } },
  open: { name: 'bad', description: 'd', route: '/echo', connections: 4, durationSec: 1, load: { model: 'open', ratesPerSec: [100] }, message: { kind: 'binary', size: { type: 'fixed', bytes: 64 } } },
  broadcast: { name: 'bad', description: 'd', route: '/broadcast', connections: 10, durationSec: 1, load: { model: 'broadcast', publishers: 2, ratePerSecPerPublisher: 10, rooms: 1 }, message: { kind: 'text', size: { type: 'fixed', bytes: 128 } } },
  idle: { name: 'bad', description: 'd', route: '/echo', connections: 4, durationSec: 1, load: { model: 'idle' } },
  http: { name: 'bad', description: 'd', route: '/health', connections: 4, durationSec: 1, load: { model: 'http' } },
  ceiling: { name: 'bad', description: 'd', route: '/echo', connections: 100, durationSec: 1, load: { model: 'ceiling', steps: 2 } },
  voice: {
    name: 'bad',
    description: 'd',
    route: '/relay',
    connections: 2,
    durationSec: 1,
    load: { model: 'voice' },
    message: { kind: 'json', template: { type: 'input_audio_buffer.append', event_id: '{{id}}', sent_at_us: '{{sentAtUs}}', audio: '{{base64:64}}' } },
  },
};

/** A scenario file: the model's base, changed by `edit`. */
function scenario(model: keyof typeof BASES, edit: (s: Json) => void): string {
  const s = clone(BASES[model]!);
  edit(s);
  return file(JSON.stringify(s));
}

const load = (s: Json) => s['load'] as Json;
const run = (...flags: string[]) => ['run', '--runtime', 'node-ws', '--scenario', 'echo', '--quick', '--out', out, ...flags];
const runScenario = (p: string) => ['run', '--runtime', 'node-ws', '--scenario', p, '--out', out];
const calibrate = (...flags: string[]) => ['calibrate', '--runtime', 'node-ws', '--scenario', 'echo', '--out', out, ...flags];
const loadCmd = (...flags: string[]) => ['load', '--url', 'ws://127.0.0.1:9/echo', ...flags];
const long = (n: number, c = 'x') => c.repeat(n);

interface Row {
  name: string;
  argv: () => string[];
  /** What stderr must name: the flag, or the field path. */
  field: string | RegExp;
}

const row = (name: string, argv: string[] | (() => string[]), field: string | RegExp): Row => ({ name, argv: typeof argv === 'function' ? argv : () => argv, field });
/** A scenario row: run with the file the edit makes; stderr names `field`. */
const sc = (name: string, model: keyof typeof BASES, field: string | RegExp, edit: (s: Json) => void): Row => row(`scenario ${model}: ${name}`, () => runScenario(scenario(model, edit)), field);
/** A scenario row from raw text. */
const scText = (name: string, field: string | RegExp, text: () => string): Row => row(`scenario file: ${name}`, () => runScenario(file(text())), field);

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const validScenarioText = () => JSON.stringify(BASES['closed']);
/** A result.json of the current schema, changed by `edit`. */
const result = (edit: (r: Json) => void) => {
  const r = JSON.parse(readFileSync(FIXTURE_PATH, 'utf8')) as Json;
  edit(r);
  const dir = path.join(tmp, `r${fileNo++}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'result.json'), JSON.stringify(r));
  return dir;
};

const ROWS: Row[] = [
  // ---- bench run: flags --------------------------------------------------------
  row('run --repeat 0', run('--repeat', '0'), '--repeat'),
  row('run --repeat -1', run('--repeat', '-1'), '--repeat'),
  row('run --repeat 1e9', run('--repeat', '1e9'), '--repeat'),
  row('run --repeat 1001', run('--repeat', '1001'), '--repeat'),
  row('run --repeat 1.5', run('--repeat', '1.5'), '--repeat'),
  row('run --repeat abc', run('--repeat', 'abc'), '--repeat'),
  row('run --repeat ""', run('--repeat', ''), '--repeat'),
  row('run --repeat NaN', run('--repeat', 'NaN'), '--repeat'),
  row('run --repeat Infinity', run('--repeat', 'Infinity'), '--repeat'),
  row('run --repeat 0x10', run('--repeat', '0x10'), '--repeat'),
  row('run --repeat in full-width digits', run('--repeat', '３'), '--repeat'),
  row('run --repeat 99999999999999999999', run('--repeat', '99999999999999999999'), '--repeat'),
  row('run --repeat without a value', ['run', '--repeat'], '--repeat'),
  row('run --warmup -1', run('--warmup', '-1'), '--warmup'),
  row('run --warmup 3601', run('--warmup', '3601'), '--warmup'),
  row('run --warmup 2h (an hour at most)', run('--warmup', '2h'), '--warmup'),
  row('run --warmup NaN', run('--warmup', 'NaN'), '--warmup'),
  row('run --duration 0', run('--duration', '0'), '--duration'),
  row('run --duration 1ms', run('--duration', '1ms'), '--duration'),
  row('run --duration 0.4', run('--duration', '0.4'), '--duration'),
  row('run --duration 99999999', run('--duration', '99999999'), '--duration'),
  row('run --duration 1441m', run('--duration', '1441m'), '--duration'),
  row('run --duration Infinity', run('--duration', 'Infinity'), '--duration'),
  row('run --duration ""', run('--duration', ''), '--duration'),
  row('run --duration 1e3', run('--duration', '1e3'), '--duration'),
  row('run --duration -5s', run('--duration', '-5s'), '--duration'),
  row('run --seed -1', run('--seed', '-1'), '--seed'),
  row('run --seed 2^32', run('--seed', '4294967296'), '--seed'),
  row('run --seed 1.5', run('--seed', '1.5'), '--seed'),
  row('run --server-cpus 7 (not on this machine)', run('--server-cpus', '7'), '--server-cpus'),
  row('run --loadgen-cpus 5 (not on this machine)', run('--loadgen-cpus', '5'), '--loadgen-cpus'),
  row('run --server-cpus 0 --loadgen-cpus 0 (shared)', run('--server-cpus', '0', '--loadgen-cpus', '0'), '--server-cpus/--loadgen-cpus'),
  row('run --server-cpus 0-1 (nothing left for the load generator)', run('--server-cpus', '0-1'), '--allow-shared-cpus'),
  row('run --loadgen-cpus 0-1 (nothing left for the server)', run('--loadgen-cpus', '0-1'), '--allow-shared-cpus'),
  row('run --server-cpus abc', run('--server-cpus', 'abc'), '--server-cpus'),
  row('run --server-cpus 1-0', run('--server-cpus', '1-0'), '--server-cpus'),
  row('run --server-cpus 99999', run('--server-cpus', '99999'), '--server-cpus'),
  row('run --server-cpus ""', run('--server-cpus', ''), '--server-cpus'),
  row('run --loadgen-cpus 0,,1', run('--loadgen-cpus', '0,,1'), '--loadgen-cpus'),
  row('run --loadgen-cpus 0-99999999999', run('--loadgen-cpus', '0-99999999999'), '--loadgen-cpus'),
  row('run --workers 0', run('--workers', '0'), '--workers'),
  row('run --workers 65', run('--workers', '65'), '--workers'),
  row('run --workers 1e2', run('--workers', '1e2'), '--workers'),
  row('run --client foo', run('--client', 'foo'), '--client'),
  row('run --client ""', run('--client', ''), '--client'),
  row('run --client 1 MB', run('--client', long(1_000_000)), '--client'),
  row('run --reference nodejs', run('--reference', 'nodejs'), '--reference'),
  row('run --reference ""', run('--reference', ''), '--reference'),
  row('run --out /dev/null/x', run('--out', '/dev/null/x'), '--out'),
  row('run --out under a regular file', () => run('--out', path.join(file('', '.txt'), 'x')), '--out'),
  row('run --out ""', run('--out', ''), '--out'),
  row('run --out of 5,000 characters', run('--out', long(5000, 'o')), '--out'),
  row('run --label ""', run('--label', ''), '--label'),
  row('run --label with a newline', run('--label', 'a\nb'), '--label'),
  row('run --label of 10,000 characters', run('--label', long(10_000)), '--label'),
  row('run --target ""', ['run', '--scenario', 'echo', '--target', '', '--out', out], '--target'),
  row('run --target not a URL', ['run', '--scenario', 'echo', '--target', 'not a url', '--out', out], '--target'),
  row('run --target http://', ['run', '--scenario', 'echo', '--target', 'http://127.0.0.1:1', '--out', out], '--target'),
  row('run --target without a port', ['run', '--scenario', 'echo', '--target', 'ws://127.0.0.1', '--out', out], '--target'),
  row('run --target port 0', ['run', '--scenario', 'echo', '--target', 'ws://127.0.0.1:0', '--out', out], '--target'),
  row('run --target-pid without --target', run('--target-pid', '5'), '--target-pid'),
  row('run --target-pid of no process', ['run', '--scenario', 'echo', '--target', 'ws://127.0.0.1:9', '--target-pid', '4194304', '--out', out], '--target-pid'),
  row('run --target-pid 0', run('--target-pid', '0'), '--target-pid'),
  row('run --target-pid abc', run('--target-pid', 'abc'), '--target-pid'),
  row('run --target-pid above PID_MAX_LIMIT', run('--target-pid', '4194305'), '--target-pid'),
  row('run --target with --server-cmd', ['run', '--scenario', 'echo', '--target', 'ws://127.0.0.1:9', '--server-cmd', 'node x.js', '--out', out], '--server-cmd'),
  row('run --server-cmd ""', ['run', '--scenario', 'echo', '--server-cmd', '', '--out', out], '--server-cmd'),
  row('run --server-cmd of spaces', ['run', '--scenario', 'echo', '--server-cmd', '   ', '--out', out], '--server-cmd'),
  row('run --server-cmd with a NUL', ['run', '--scenario', 'echo', '--server-cmd', 'node\u0000x', '--out', out], '--server-cmd'),
  row('run --server-cmd with --runtime', run('--server-cmd', 'node x.js'), '--runtime'),
  row('run --server-label ""', ['run', '--scenario', 'echo', '--server-cmd', 'node x.js', '--server-label', '', '--out', out], '--server-label'),
  row('run --server-label of 1,000 characters', ['run', '--scenario', 'echo', '--server-cmd', 'node x.js', '--server-label', long(1000), '--out', out], '--server-label'),
  row('run --format nope', run('--format', 'nope'), '--format'),
  row('run --format ""', run('--format', ''), '--format'),
  row('run --baseline missing', run('--baseline', path.join(tmp, 'missing')), 'no such file or folder'),
  row('run --baseline ""', run('--baseline', ''), '--baseline'),
  row('run --baseline not a result', () => run('--baseline', file('{"a":1}')), 'not a bench result'),
  row('run --runtime ""', ['run', '--runtime', '', '--out', out], '--runtime'),
  row('run --runtime ","', ['run', '--runtime', ',', '--out', out], '--runtime'),
  row('run --runtime nodejs', ['run', '--runtime', 'nodejs', '--out', out], 'unknown runtime "nodejs"'),
  row('run --runtime of 5,000 characters', ['run', '--runtime', long(5000), '--out', out], '--runtime'),
  row('run --runtime unicode', ['run', '--runtime', 'nöde-ws', '--out', out], 'unknown runtime'),
  row('run --scenario ""', ['run', '--runtime', 'node-ws', '--scenario', '', '--out', out], '--scenario'),
  row('run --scenario nope', ['run', '--runtime', 'node-ws', '--scenario', 'nope', '--out', out], 'unknown scenario "nope"'),
  row('run --scenario unicode', ['run', '--runtime', 'node-ws', '--scenario', 'échо', '--out', out], 'unknown scenario'),
  row('run --scenario missing file', ['run', '--runtime', 'node-ws', '--scenario', path.join(tmp, 'none.json'), '--out', out], 'cannot read scenario file'),
  row('run --scenario a folder', () => ['run', '--runtime', 'node-ws', '--scenario', tmp + '/', '--out', out], 'cannot read scenario file'),
  row('run --scenario of 5,000 characters', ['run', '--runtime', 'node-ws', '--scenario', long(5000), '--out', out], '--scenario'),
  row('run --quick --full', run('--full'), '--quick/--full'),
  row('run --allow-shared-cpus=yes', run('--allow-shared-cpus=yes'), '--allow-shared-cpus'),
  row('run --bogus', run('--bogus'), '--bogus'),
  row('run --bogus of 1 MB', run(`--${long(1_000_000)}`), 'unknown option'),
  row('run with an extra argument', run('extra'), 'too many arguments'),

  // ---- scenario files: the file itself -----------------------------------------
  scText('empty', 'not valid JSON', () => ''),
  scText('not JSON', 'not valid JSON', () => 'name: x'),
  scText('truncated', 'not valid JSON', () => validScenarioText().slice(0, -5)),
  scText('NaN spelled out', 'not valid JSON', () => validScenarioText().replace('"connections":4', '"connections":NaN')),
  scText('Infinity spelled out', 'not valid JSON', () => validScenarioText().replace('"connections":4', '"connections":Infinity')),
  scText('1e999 (parses to Infinity)', 'connections: must be a number, got Infinity', () => validScenarioText().replace('"connections":4', '"connections":1e999')),
  scText('a BOM before invalid content is read past and the content named', 'connections', () => `\uFEFF${validScenarioText().replace('"connections":4', '"connections":0')}`),
  scText('a BOM alone', 'not valid JSON', () => '\uFEFF'),
  scText('a 200,000-deep list in connections', /connections: nested more than 64 levels/, () => validScenarioText().replace('"connections":4', `"connections":${deep(200_000)}`)),
  scText('a 200,000-deep object at the top', /nested more than 64 levels/, () => '{"a":'.repeat(200_000) + '1' + '}'.repeat(200_000)),
  scText('a deep template', /message: nested more than 64 levels/, () => validScenarioText().replace('"message":{', `"message":{"template":${'{"a":'.repeat(100)}1${'}'.repeat(100)},`)),
  scText('a list at the top', '(top level): must be an object', () => '[]'),
  scText('a string at the top', '(top level): must be an object', () => '"echo"'),
  scText('a number at the top', '(top level): must be an object', () => '42'),
  scText('null at the top', '(top level): must be an object', () => 'null'),
  scText('a 10 MB invalid name', 'name: must be at most 64 characters', () => validScenarioText().replace('"name":"bad"', `"name":"${long(10_000_000, 'Z')}"`)),
  scText('an unknown key of 100,000 characters', 'unknown key', () => validScenarioText().replace('{', `{"${long(100_000, 'k')}":1,`)),

  // ---- scenario fields ------------------------------------------------------------
  sc('unknown top-level key', 'closed', 'conections: unknown key', (s) => void (s['conections'] = 4)),
  sc('name missing', 'closed', 'name: is required', (s) => void delete s['name']),
  sc('name ""', 'closed', 'name: must be a non-empty string', (s) => void (s['name'] = '')),
  sc('name 42', 'closed', 'name: must be a non-empty string', (s) => void (s['name'] = 42)),
  sc('name with spaces and capitals', 'closed', 'name: must be lower-case', (s) => void (s['name'] = 'My Scenario')),
  sc('name in unicode', 'closed', 'name: must be lower-case', (s) => void (s['name'] = 'échо')),
  sc('name of 65 characters', 'closed', 'name: must be at most 64 characters', (s) => void (s['name'] = long(65, 'a'))),
  sc('description missing', 'closed', 'description: is required', (s) => void delete s['description']),
  sc('description ""', 'closed', 'description: must be a non-empty string', (s) => void (s['description'] = '')),
  sc('description a list', 'closed', 'description: must be a non-empty string', (s) => void (s['description'] = ['a'])),
  sc('description of 5,000 characters', 'closed', 'description: must be at most 4000 characters', (s) => void (s['description'] = long(5000))),
  sc('route missing', 'closed', 'route: is required', (s) => void delete s['route']),
  sc('route /nope', 'closed', 'route: must be one of', (s) => void (s['route'] = '/nope')),
  sc('route ""', 'closed', 'route: must be a non-empty string', (s) => void (s['route'] = '')),
  sc('route of another model', 'closed', 'route: the closed model drives /echo', (s) => void (s['route'] = '/broadcast')),
  sc('connections missing', 'closed', 'connections: is required', (s) => void delete s['connections']),
  sc('connections 0', 'closed', 'connections: must be at least 1', (s) => void (s['connections'] = 0)),
  sc('connections -1', 'closed', 'connections: must be at least 1', (s) => void (s['connections'] = -1)),
  sc('connections 1.5', 'closed', 'connections: must be a whole number', (s) => void (s['connections'] = 1.5)),
  sc('connections "10"', 'closed', 'connections: must be a number, got "10"', (s) => void (s['connections'] = '10')),
  sc('connections "NaN"', 'closed', 'connections: must be a number, got "NaN"', (s) => void (s['connections'] = 'NaN')),
  sc('connections in full-width digits', 'closed', 'connections: must be a number', (s) => void (s['connections'] = '１０')),
  sc('connections null', 'closed', 'connections: must be a number, got null', (s) => void (s['connections'] = null)),
  sc('connections true', 'closed', 'connections: must be a number, got true', (s) => void (s['connections'] = true)),
  sc('connections []', 'closed', 'connections: must be a number, got []', (s) => void (s['connections'] = [])),
  sc('connections 1e7', 'closed', 'connections: must be at most 1000000', (s) => void (s['connections'] = 1e7)),
  sc('connections 1,000,000 against the open-file limit', 'closed', /connections: .*open files in the server/, (s) => void (s['connections'] = 1_000_000)),
  sc('connections 30,000 against the ephemeral ports', 'closed', /connections: .*local ports/, (s) => void (s['connections'] = 30_000)),
  sc('voice sessions hold two files each', 'voice', /connections: .*2 per connection/, (s) => void (s['connections'] = 15_000)),
  sc('warmupSec -1', 'closed', 'warmupSec: must be at least 0', (s) => void (s['warmupSec'] = -1)),
  sc('warmupSec 3601', 'closed', 'warmupSec: must be at most 3600', (s) => void (s['warmupSec'] = 3601)),
  sc('warmupSec "1"', 'closed', 'warmupSec: must be a number', (s) => void (s['warmupSec'] = '1')),
  sc('durationSec missing', 'closed', 'durationSec: is required', (s) => void delete s['durationSec']),
  sc('durationSec 0', 'closed', 'durationSec: must be at least 0.5', (s) => void (s['durationSec'] = 0)),
  sc('durationSec 0.1', 'closed', 'durationSec: must be at least 0.5', (s) => void (s['durationSec'] = 0.1)),
  sc('durationSec 86401', 'closed', 'durationSec: must be at most 86400', (s) => void (s['durationSec'] = 86401)),
  sc('durationSec 1e308', 'closed', 'durationSec: must be at most 86400', (s) => void (s['durationSec'] = 1e308)),
  sc('durationSec "5"', 'closed', 'durationSec: must be a number', (s) => void (s['durationSec'] = '5')),
  sc('default "yes"', 'closed', 'default: must be true or false', (s) => void (s['default'] = 'yes')),
  sc('load missing', 'closed', 'load: is required', (s) => void delete s['load']),
  sc('load "closed"', 'closed', 'load: must be an object', (s) => void (s['load'] = 'closed')),
  sc('load []', 'closed', 'load: must be an object', (s) => void (s['load'] = [])),
  sc('load {}', 'closed', 'load.model: is required', (s) => void (s['load'] = {})),
  sc('load.model nope', 'closed', 'load.model: must be one of', (s) => void (s['load'] = { model: 'nope' })),
  sc('load.model 42', 'closed', 'load.model: must be a non-empty string', (s) => void (s['load'] = { model: 42 })),
  sc('load unknown key', 'closed', 'load.dept: unknown key', (s) => void (load(s)['dept'] = 2)),
  sc('closed depth 0', 'closed', 'load.depth: must be at least 1', (s) => void (load(s)['depth'] = 0)),
  sc('closed depth 5000', 'closed', 'load.depth: must be at most 4096', (s) => void (load(s)['depth'] = 5000)),
  sc('closed depth 1.5', 'closed', 'load.depth: must be a whole number', (s) => void (load(s)['depth'] = 1.5)),
  sc('open ratesPerSec missing', 'open', 'load.ratesPerSec: is required', (s) => void delete load(s)['ratesPerSec']),
  sc('open ratesPerSec []', 'open', 'load.ratesPerSec: must be a non-empty list', (s) => void (load(s)['ratesPerSec'] = [])),
  sc('open ratesPerSec [0]', 'open', 'load.ratesPerSec[0]: must be at least 1', (s) => void (load(s)['ratesPerSec'] = [0])),
  sc('open ratesPerSec ["x"]', 'open', 'load.ratesPerSec[0]: must be a number', (s) => void (load(s)['ratesPerSec'] = ['x'])),
  sc('open rate 1e8', 'open', 'load.ratesPerSec[0]: must be at most 10000000', (s) => void (load(s)['ratesPerSec'] = [1e8])),
  sc('open 101 rates', 'open', 'load.ratesPerSec: must list at most 100 rates', (s) => void (load(s)['ratesPerSec'] = Array.from({ length: 101 }, (_, i) => i + 1))),
  sc('open arrivals sometimes', 'open', 'load.arrivals: must be one of', (s) => void (load(s)['arrivals'] = 'sometimes')),
  sc('broadcast publishers 0', 'broadcast', 'load.publishers: must be at least 1', (s) => void (load(s)['publishers'] = 0)),
  sc('broadcast publishers above connections', 'broadcast', 'load.publishers: must be at most connections', (s) => void (load(s)['publishers'] = 11)),
  sc('broadcast rate 0', 'broadcast', 'load.ratePerSecPerPublisher: must be at least 0.01', (s) => void (load(s)['ratePerSecPerPublisher'] = 0)),
  sc('broadcast rate 2e6', 'broadcast', 'load.ratePerSecPerPublisher: must be at most 1000000', (s) => void (load(s)['ratePerSecPerPublisher'] = 2e6)),
  sc('broadcast rooms 0', 'broadcast', 'load.rooms: must be at least 1', (s) => void (load(s)['rooms'] = 0)),
  sc('broadcast rooms 1e9', 'broadcast', 'load.rooms: must be at most 1000000', (s) => void (load(s)['rooms'] = 1e9)),
  sc('broadcast burst.probability 2', 'broadcast', 'load.burst.probability: must be at most 1', (s) => void (load(s)['burst'] = { probability: 2, messages: 1, gapMs: 1 })),
  sc('broadcast churn.leavesPerSec 0', 'broadcast', 'load.churn.leavesPerSec: must be greater than 0', (s) => void (load(s)['churn'] = { leavesPerSec: 0, rejoinAfterMs: 1 })),
  sc('broadcast slowConsumers.count 0', 'broadcast', 'load.slowConsumers.count: must be at least 1', (s) => void (load(s)['slowConsumers'] = { count: 0, readBytesPerSec: 1 })),
  sc('broadcast slowConsumers.readBytesPerSec 2^31', 'broadcast', 'load.slowConsumers.readBytesPerSec: must be at most', (s) => void (load(s)['slowConsumers'] = { count: 1, readBytesPerSec: 2 ** 31 })),
  sc('idle steps 0', 'idle', 'load.steps: must be at least 1', (s) => void (load(s)['steps'] = 0)),
  sc('idle steps 101', 'idle', 'load.steps: must be at most 100', (s) => void (load(s)['steps'] = 101)),
  sc('http pipelining 0', 'http', 'load.pipelining: must be at least 1', (s) => void (load(s)['pipelining'] = 0)),
  sc('http pipelining 2000', 'http', 'load.pipelining: must be at most 1024', (s) => void (load(s)['pipelining'] = 2000)),
  sc('ceiling steps 0', 'ceiling', 'load.steps: must be at least 1', (s) => void (load(s)['steps'] = 0)),
  sc('ceiling heartbeat.intervalMs 1', 'ceiling', 'load.heartbeat.intervalMs: must be at least 10', (s) => void (load(s)['heartbeat'] = { intervalMs: 1 })),
  sc('ceiling slo.heartbeatP99Ms 0', 'ceiling', 'load.slo.heartbeatP99Ms: must be at least', (s) => void (load(s)['slo'] = { heartbeatP99Ms: 0 })),
  sc('ceiling settle.windowMs 50', 'ceiling', 'load.settle.windowMs: must be at least 100', (s) => void (load(s)['settle'] = { windowMs: 50 })),
  sc('ceiling bisectSteps 21', 'ceiling', 'load.bisectSteps: must be at most 20', (s) => void (load(s)['bisectSteps'] = 21)),
  sc('ceiling sourceAddresses 251', 'ceiling', 'load.sourceAddresses: must be at most 250', (s) => void (load(s)['sourceAddresses'] = 251)),
  sc('ceiling stopShortOfFdLimitBy -1', 'ceiling', 'load.stopShortOfFdLimitBy: must be at least 0', (s) => void (load(s)['stopShortOfFdLimitBy'] = -1)),
  sc('voice frameIntervalMs 0', 'voice', 'load.frameIntervalMs: must be at least 1', (s) => void (load(s)['frameIntervalMs'] = 0)),
  sc('voice framesPerTurn 1e9', 'voice', 'load.framesPerTurn: must be at most 100000', (s) => void (load(s)['framesPerTurn'] = 1e9)),
  sc('voice upstream latency bogus', 'voice', 'load.upstream.latency', (s) => void (load(s)['upstream'] = { latency: 'bogus' })),
  sc('voice upstream unknown key', 'voice', 'load.upstream', (s) => void (load(s)['upstream'] = { latncy: 'fixed:1' })),
  sc('message missing', 'closed', 'message: is required', (s) => void delete s['message']),
  sc('message "binary"', 'closed', 'message: must be an object', (s) => void (s['message'] = 'binary')),
  sc('message.kind nope', 'closed', 'message.kind: must be one of', (s) => void ((s['message'] as Json)['kind'] = 'nope')),
  sc('message.size.type nope', 'closed', 'message.size.type: must be one of', (s) => void ((s['message'] as Json)['size'] = { type: 'nope' })),
  sc('message.size.bytes 0', 'closed', 'message.size.bytes', (s) => void ((s['message'] as Json)['size'] = { type: 'fixed', bytes: 0 })),
  sc('message.size.bytes 1e9', 'closed', 'message.size.bytes: must be at most', (s) => void ((s['message'] as Json)['size'] = { type: 'fixed', bytes: 1e9 })),
  sc('message.size.bytes "64"', 'closed', 'message.size.bytes: must be a number of bytes', (s) => void ((s['message'] as Json)['size'] = { type: 'fixed', bytes: '64' })),
  sc('message uniform max below min', 'closed', 'message.size.maxBytes: must be at least minBytes', (s) => void ((s['message'] as Json)['size'] = { type: 'uniform', minBytes: 100, maxBytes: 50 })),
  sc('message weighted choices []', 'closed', 'message.size.choices', (s) => void ((s['message'] as Json)['size'] = { type: 'weighted', choices: [] })),
  sc('message lognormal sigma -1', 'closed', 'message.size.sigma', (s) => void ((s['message'] as Json)['size'] = { type: 'lognormal', medianBytes: 100, sigma: -1 })),
  sc('message template without the accounting fields', 'closed', 'message.template', (s) => void (s['message'] = { kind: 'json', template: { a: 1 } })),
  sc('quick a list', 'closed', 'quick: must be an object', (s) => void (s['quick'] = [])),
  sc('quick.durationSec 0', 'closed', 'quick.durationSec: must be at least 0.5', (s) => void (s['quick'] = { durationSec: 0 })),
  sc('quick.warmupSec 4000', 'closed', 'quick.warmupSec: must be at most 3600', (s) => void (s['quick'] = { warmupSec: 4000 })),
  sc('quick.connections 2e6', 'closed', 'quick.connections: must be at most 1000000', (s) => void (s['quick'] = { connections: 2e6 })),
  sc('quick.ratesPerSec []', 'open', 'quick.ratesPerSec: must be a non-empty list', (s) => void (s['quick'] = { ratesPerSec: [] })),
  sc('quick unknown key', 'closed', 'quick.durationsec: unknown key', (s) => void (s['quick'] = { durationsec: 1 })),

  // ---- bench load ------------------------------------------------------------------
  row('load without --url', ['load'], '--url'),
  row('load --url ""', ['load', '--url', ''], '--url'),
  row('load --url not a URL', ['load', '--url', 'not a url'], '--url'),
  row('load --url http://', ['load', '--url', 'http://127.0.0.1:9/'], '--url'),
  row('load --url wss://', ['load', '--url', 'wss://127.0.0.1:9/'], '--url'),
  row('load --url port 0', ['load', '--url', 'ws://127.0.0.1:0/echo'], '--url'),
  row('load --url of 5,000 characters', ['load', '--url', `ws://${long(5000, 'a')}`], '--url'),
  row('load --connections 0', loadCmd('--connections', '0'), '--connections'),
  row('load --connections 10000000', loadCmd('--connections', '10000000'), '--connections'),
  row('load --connections 1000000 (ports)', loadCmd('--connections', '1000000'), '--connections'),
  row('load --connections 40000 (ports)', loadCmd('--connections', '40000'), '--connections'),
  row('load --connections 1e6', loadCmd('--connections', '1e6'), '--connections'),
  row('load --depth 0', loadCmd('--depth', '0'), '--depth'),
  row('load --depth 5000', loadCmd('--depth', '5000'), '--depth'),
  row('load --rate 0', loadCmd('--rate', '0'), '--rate'),
  row('load --rate 20000000', loadCmd('--rate', '20000000'), '--rate'),
  row('load --rate -5', loadCmd('--rate', '-5'), '--rate'),
  row('load --publishers 0', loadCmd('--publishers', '0'), '--publishers'),
  row('load --publishers without --rate', loadCmd('--publishers', '2'), '--publishers'),
  row('load --publishers above --connections', loadCmd('--publishers', '20', '--rate', '10', '--connections', '10'), '--publishers'),
  row('load --publishers with --rate 2000000', loadCmd('--publishers', '2', '--rate', '2000000'), '--rate'),
  row('load --arrivals sometimes', loadCmd('--arrivals', 'sometimes'), '--arrivals'),
  row('load --idle --rate 5', loadCmd('--idle', '--rate', '5'), '--idle'),
  row('load --size 15', loadCmd('--size', '15'), '--size'),
  row('load --size 100000000', loadCmd('--size', '100000000'), '--size'),
  row('load --size abc', loadCmd('--size', 'abc'), '--size'),
  row('load --warmup -1', loadCmd('--warmup', '-1'), '--warmup'),
  row('load --warmup 4000', loadCmd('--warmup', '4000'), '--warmup'),
  row('load --duration 0', loadCmd('--duration', '0'), '--duration'),
  row('load --duration 0.1', loadCmd('--duration', '0.1'), '--duration'),
  row('load --duration 100000', loadCmd('--duration', '100000'), '--duration'),
  row('load --workers 0', loadCmd('--workers', '0'), '--workers'),
  row('load --workers 65', loadCmd('--workers', '65'), '--workers'),
  row('load --cpus 5', loadCmd('--cpus', '5'), '--cpus'),
  row('load --cpus 3-1', loadCmd('--cpus', '3-1'), '--cpus'),
  row('load --cpus ""', loadCmd('--cpus', ''), '--cpus'),
  row('load --client x', loadCmd('--client', 'x'), '--client'),
  row('load --json=1', loadCmd('--json=1'), '--json'),

  // ---- bench serve -------------------------------------------------------------------
  row('serve without --runtime', ['serve'], '--runtime'),
  row('serve --runtime ""', ['serve', '--runtime', ''], '--runtime'),
  row('serve --runtime nodejs', ['serve', '--runtime', 'nodejs'], 'unknown runtime'),
  row('serve --runtime of 100 characters', ['serve', '--runtime', long(100)], '--runtime'),
  row('serve --port -1', ['serve', '--runtime', 'node-ws', '--port', '-1'], '--port'),
  row('serve --port 70000', ['serve', '--runtime', 'node-ws', '--port', '70000'], '--port'),
  row('serve --port abc', ['serve', '--runtime', 'node-ws', '--port', 'abc'], '--port'),
  row('serve --port ""', ['serve', '--runtime', 'node-ws', '--port', ''], '--port'),
  row('serve --host 999.1.1.1', ['serve', '--runtime', 'node-ws', '--host', '999.1.1.1'], '--host'),
  row('serve --host 10.9.9.9 (not this machine)', ['serve', '--runtime', 'node-ws', '--host', '10.9.9.9'], '--host'),
  row('serve --host example.com', ['serve', '--runtime', 'node-ws', '--host', 'example.com'], '--host'),
  row('serve --host ""', ['serve', '--runtime', 'node-ws', '--host', ''], '--host'),
  row('serve --host in full-width digits', ['serve', '--runtime', 'node-ws', '--host', '１２７.0.0.1'], '--host'),
  row('serve --host of 300 characters', ['serve', '--runtime', 'node-ws', '--host', long(300)], '--host'),
  row('serve --cpus 5', ['serve', '--runtime', 'node-ws', '--cpus', '5'], '--cpus'),
  row('serve --cpus abc', ['serve', '--runtime', 'node-ws', '--cpus', 'abc'], '--cpus'),

  // ---- bench doctor, list ------------------------------------------------------------------
  row('doctor --connections 0', ['doctor', '--connections', '0'], '--connections'),
  row('doctor --connections 10000000', ['doctor', '--connections', '10000000'], '--connections'),
  row('doctor --connections abc', ['doctor', '--connections', 'abc'], '--connections'),
  row('list planets', ['list', 'planets'], 'cannot list "planets"'),
  row('list without what', ['list'], "'what'"),
  row('list runtimes extra', ['list', 'runtimes', 'extra'], 'too many arguments'),
  row('list --json=yes', ['list', 'runtimes', '--json=yes'], '--json'),

  // ---- bench report ----------------------------------------------------------------------
  row('report without a result', ['report'], "'result'"),
  row('report a missing file', ['report', path.join(tmp, 'missing.json')], 'cannot read result'),
  row('report not JSON', () => ['report', file('not json')], 'not valid JSON'),
  row('report an empty file', () => ['report', file('')], 'not valid JSON'),
  row('report a BOM and garbage', () => ['report', file('\uFEFFgarbage')], 'not valid JSON'),
  row('report a 200,000-deep list', () => ['report', file(`{"cells":${deep(200_000)}}`)], 'cells: nested more than 64 levels'),
  row('report a list', () => ['report', file('[]')], '(top level): must be an object'),
  row('report another schema version', () => ['report', result((r) => void (r['schemaVersion'] = 999))], 'schemaVersion: must be'),
  row('report cells not a list', () => ['report', result((r) => void (r['cells'] = {}))], 'cells: must be a list'),
  row('report a folder without result.json', () => ['report', mkdtempSync(path.join(tmp, 'empty-'))], 'cannot read result'),
  row('report --format nope', ['report', FIXTURE_PATH, '--format', 'nope'], '--format'),

  // ---- bench compare, choose ------------------------------------------------------------
  row('compare without head', ['compare', FIXTURE_PATH], "'head'"),
  row('compare a missing base', ['compare', path.join(tmp, 'missing'), FIXTURE_PATH], 'no such file or folder'),
  row('compare a head that is not JSON', () => ['compare', FIXTURE_PATH, file('{')], 'not valid JSON'),
  row('compare a folder with no result', () => ['compare', mkdtempSync(path.join(tmp, 'none-')), FIXTURE_PATH], 'no result.json'),
  row('compare --format nope', ['compare', FIXTURE_PATH, FIXTURE_PATH, '--format', 'nope'], '--format'),
  row('compare --threshold ""', ['compare', FIXTURE_PATH, FIXTURE_PATH, '--threshold', ''], '--threshold'),
  row('compare --threshold p99', ['compare', FIXTURE_PATH, FIXTURE_PATH, '--threshold', 'p99'], '--threshold'),
  row('compare --threshold bogus=5', ['compare', FIXTURE_PATH, FIXTURE_PATH, '--threshold', 'bogus=5'], '--threshold'),
  row('compare --threshold p99=5000', ['compare', FIXTURE_PATH, FIXTURE_PATH, '--threshold', 'p99=5000'], '--threshold'),
  row('compare --threshold p99=-1', ['compare', FIXTURE_PATH, FIXTURE_PATH, '--threshold', 'p99=-1'], '--threshold'),
  row('compare --threshold of 1 MB', ['compare', FIXTURE_PATH, FIXTURE_PATH, '--threshold', long(1_000_000)], '--threshold'),
  row('compare --thresholds missing', ['compare', FIXTURE_PATH, FIXTURE_PATH, '--thresholds', path.join(tmp, 'none.json')], 'cannot read thresholds file'),
  row('compare --thresholds not JSON', () => ['compare', FIXTURE_PATH, FIXTURE_PATH, '--thresholds', file('{')], 'not valid JSON'),
  row('compare --thresholds 200,000 deep', () => ['compare', FIXTURE_PATH, FIXTURE_PATH, '--thresholds', file(`{"metrics":${deep(200_000)}}`)], 'metrics: nested more than 64 levels'),
  row('compare --thresholds unknown metric', () => ['compare', FIXTURE_PATH, FIXTURE_PATH, '--thresholds', file('{"metrics":{"bogus":1}}')], 'metrics.bogus'),
  row('compare --thresholds a list', () => ['compare', FIXTURE_PATH, FIXTURE_PATH, '--thresholds', file('[]')], 'E_INVALID_THRESHOLDS'),
  row('compare --thresholds ""', ['compare', FIXTURE_PATH, FIXTURE_PATH, '--thresholds', ''], '--thresholds'),
  row('compare --noise missing', ['compare', FIXTURE_PATH, FIXTURE_PATH, '--noise', path.join(tmp, 'none')], 'cannot read calibration'),
  row('compare --noise not a calibration', () => ['compare', FIXTURE_PATH, FIXTURE_PATH, '--noise', file('{"a":1}')], 'E_INVALID_CALIBRATION'),
  row('choose without a result', ['choose'], "'result'"),
  row('choose a missing file', ['choose', path.join(tmp, 'missing.json')], 'no such file or folder'),
  row('choose not JSON', () => ['choose', file('nope')], 'not valid JSON'),
  row('choose --format nope', ['choose', FIXTURE_PATH, '--format', 'nope'], '--format'),
  row('choose --seed -1', ['choose', FIXTURE_PATH, '--seed', '-1'], '--seed'),
  row('choose --seed 1.5', ['choose', FIXTURE_PATH, '--seed', '1.5'], '--seed'),
  row('choose --seed 99999999999', ['choose', FIXTURE_PATH, '--seed', '99999999999'], '--seed'),

  // ---- bench calibrate --------------------------------------------------------------------
  row('calibrate --repeat 1', calibrate('--repeat', '1'), '--repeat'),
  row('calibrate --repeat 501', calibrate('--repeat', '501'), '--repeat'),
  row('calibrate --repeat 1e9', calibrate('--repeat', '1e9'), '--repeat'),
  row('calibrate --runtime ""', ['calibrate', '--runtime', ''], '--runtime'),
  row('calibrate --runtime nodejs', ['calibrate', '--runtime', 'nodejs'], 'unknown runtime'),
  row('calibrate --duration 0', calibrate('--duration', '0'), '--duration'),
  row('calibrate --warmup 1e9', calibrate('--warmup', '1e9'), '--warmup'),
  row('calibrate --server-cpus 9', calibrate('--server-cpus', '9'), '--server-cpus'),
  row('calibrate --server-cpus 1 --loadgen-cpus 1', calibrate('--server-cpus', '1', '--loadgen-cpus', '1'), '--allow-shared-cpus'),
  row('calibrate --out /dev/null/x', calibrate('--out', '/dev/null/x'), '--out'),
  row('calibrate --workers 0', calibrate('--workers', '0'), '--workers'),
  row('calibrate --quick --full', calibrate('--quick', '--full'), '--quick/--full'),
  row('calibrate --scenario nope', ['calibrate', '--scenario', 'nope', '--out', out], 'unknown scenario'),
  row('calibrate --seed 1e3', calibrate('--seed', '1e3'), '--seed'),
  row('calibrate a scenario that needs more files than the limit', () => ['calibrate', '--scenario', scenario('closed', (s) => void (s['connections'] = 500_000)), '--out', out], 'open files in the server'),
];

/** Children of this test process that a refused command must never have started: servers, workers, the upstream, taskset, the watchdog. */
function spawnedChildren(): string[] {
  const found: string[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (/servers\/|loadgen\/worker|upstream\/model|taskset|watchdog/.test(cmd)) found.push(`${d}: ${cmd.slice(0, 120)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function cli(argv: string[]) {
  const b = bufferIo(argv, host, { ...process.env });
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<'guard'>((resolve) => (timer = setTimeout(() => resolve('guard'), GUARD_MS)));
  const code = await Promise.race([runCli(b.io), guard]);
  clearTimeout(timer);
  if (code === 'guard') {
    // Not refused: stop what it started, and fail the row.
    b.signal('SIGINT');
    await stopAllServers(0);
    return { code: -1, ...b.out };
  }
  return { code, ...b.out };
}

describe('the bad-input battery', () => {
  test(`has at least 140 rows (${ROWS.length}), each named once`, () => {
    assert.ok(ROWS.length >= 140, `${ROWS.length} rows`);
    assert.equal(new Set(ROWS.map((r) => r.name)).size, ROWS.length);
  });

  test('every base scenario of the table is valid, so each row breaks exactly what it says', () => {
    for (const [model, s] of Object.entries(BASES)) assert.deepEqual(validateScenario(s, `${model}.json`).problems, [], model);
  });

  for (const r of ROWS) {
    test(r.name, async () => {
      const argv = r.argv();
      const res = await cli(argv);
      const stderr = res.stderr;
      assert.notEqual(res.code, -1, `not refused: still running after ${GUARD_MS} ms\n${stderr.slice(0, 2000)}`);
      assert.equal(res.code, 2, `exit ${res.code}\n${stderr.slice(0, 2000)}`);
      if (typeof r.field === 'string') assert.ok(stderr.includes(r.field), `stderr does not name ${JSON.stringify(r.field)}:\n${stderr.slice(0, 2000)}`);
      else assert.match(stderr, r.field);
      // A stable code on every refusal, commander's own usage errors included (a script tells them apart by it).
      assert.match(stderr, /^error\[E_[A-Z_]+\]: /m, 'no error code');
      // And a hint: what to change, or where to read what is allowed.
      assert.match(stderr, /^\s*(hint|fix): /m, 'no hint');
      assert.doesNotMatch(stderr, /\n\s+at \S.*:\d+:\d+\)?\n/, 'a stack trace');
      assert.doesNotMatch(stderr, /unexpected error/i);
      assert.ok(Buffer.byteLength(stderr) < MAX_STDERR_BYTES, `stderr is ${Buffer.byteLength(stderr)} bytes`);
      assert.equal(res.stdout, '', 'nothing on stdout');
      assert.equal(liveChildren(), 0, 'a process was started');
      assert.equal(liveServers().length + liveUpstreams().length, 0, 'a server was started');
      assert.deepEqual(spawnedChildren(), [], 'a child process was started');
    });
  }

  test('nothing was written where the refused runs would have put their results', () => {
    let entries: string[] = [];
    try {
      entries = readdirSync(out);
    } catch {
      // never created: as it should be
    }
    assert.deepEqual(entries, []);
  });
});

describe('a partial result is accepted with a note, never silently', () => {
  for (const [status, words] of [
    ['running', /warning: .* is partial: its run never finished \(status "running"/],
    ['interrupted', /note: .* is partial: its run was interrupted/],
  ] as const) {
    for (const command of ['report', 'choose'] as const) {
      test(`${command} of a result left "${status}"`, async () => {
        const dir = result((r) => void (r['status'] = status));
        const res = await cli([command, dir]);
        assert.equal(res.code, 0, res.stderr);
        assert.match(res.stderr, words);
        assert.ok(res.stdout.length > 0);
      });
    }
  }

  test('a completed result gets no note', async () => {
    const res = await cli(['report', FIXTURE_PATH]);
    assert.equal(res.code, 0);
    assert.doesNotMatch(res.stderr, /partial/);
  });
});
