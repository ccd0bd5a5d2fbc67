import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBenchError } from '../../base/errors.js';
import { collectCommand, formatResultBlock, formatSegmentResult, parseResultBlocks, segmentResultsFrom } from '../../k8s/collect.js';

const result = (i: number) => ({ schemaVersion: 1, segment: i, latencyEncoded: 'HISTFAAAAC14nJNpmSzMwMDAxAABzFCaEUoz2X+AsgA3swK/', delivery: { sent: 10 * i, lost: 0 } });

/** A pod's log: noise around the block, as `bench load` prints progress and warnings too. */
const podLog = (i: number, n: number) => `connecting 0/250\nwarning: something\n${formatSegmentResult({ index: i, count: n }, result(i))}bye\n`;

/** What `kubectl logs --prefix [--timestamps]` prints for several pods: every line prefixed, pods' lines interleaved. */
function kubectlLogs(logs: string[], timestamps: boolean): string {
  const perPod = logs.map((log, i) => log.trimEnd().split('\n').map((l) => `[pod/bench-load-${i}-x/load] ${timestamps ? `2026-01-01T12:00:0${i}.123456789Z ` : ''}${l}`));
  const out: string[] = [];
  for (let k = 0; perPod.some((p) => k < p.length); k++) for (const p of perPod) if (k < p.length) out.push(p[k]!);
  return out.join('\n') + '\n';
}

function invalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(isBenchError(e) && e.code === 'E_INVALID_RESULT', String(e));
    assert.match([e.message, ...e.details].join('\n'), pattern);
    return true;
  });
}

describe('result blocks in pod logs', () => {
  test('a block is two marker lines around one JSON line, and parses back among other output', () => {
    const block = formatSegmentResult({ index: 2, count: 4 }, result(2));
    assert.equal(block.split('\n').length, 4, 'begin, JSON, end, and the final newline');
    assert.match(block, /^=== bench:segment-result 2\/4 ===\n\{.*\}\n=== bench:end segment-result 2\/4 ===\n$/);
    assert.deepEqual(parseResultBlocks(podLog(2, 4)), [{ kind: 'segment-result', label: '2/4', payload: result(2), source: '' }]);
    assert.deepEqual(parseResultBlocks(podLog(2, 4).replace(/\n/g, '\r\n'))[0]!.payload, result(2), 'CRLF');
    assert.deepEqual(parseResultBlocks(formatResultBlock('server-sample', 'bench-chat-bun', { cpuUs: 5 })), [
      { kind: 'server-sample', label: 'bench-chat-bun', payload: { cpuUs: 5 }, source: '' },
    ]);
    assert.deepEqual(parseResultBlocks('no result here\n'), []);
  });

  test('segmentResultsFrom reads the segments of a run from interleaved kubectl logs, with and without timestamps, in index order', () => {
    const logs = [3, 0, 2, 1].map((i) => podLog(i, 4));
    for (const timestamps of [false, true]) {
      const combined = kubectlLogs(logs, timestamps);
      assert.deepEqual(segmentResultsFrom(combined, 4), [0, 1, 2, 3].map(result));
      assert.equal(parseResultBlocks(combined)[0]!.source, 'pod/bench-load-0-x/load');
    }
    assert.deepEqual(segmentResultsFrom(podLog(0, 1), 1), [result(0)], 'one pod, no prefix');
  });

  test('refuses a run with a segment missing, twice, or of another N, naming each', () => {
    invalid(() => segmentResultsFrom(kubectlLogs([podLog(0, 4), podLog(1, 4), podLog(3, 4)], false), 4), /no result for segment 2\/4/);
    invalid(() => segmentResultsFrom(kubectlLogs([podLog(0, 2), podLog(0, 2), podLog(1, 2)], false), 2), /segment 0\/2 appears twice \(pod\/bench-load-0-x\/load and pod\/bench-load-1-x\/load\)/);
    invalid(() => segmentResultsFrom(kubectlLogs([podLog(0, 2), podLog(1, 3)], false), 2), /segment 1\/3 is one of 3, not of 2[\s\S]*no result for segment 1\/2/);
    invalid(() => segmentResultsFrom('', 3), /no result for segments 0\/3, 1\/3, 2\/3/);
  });

  test('refuses cut, corrupt and wrapped blocks', () => {
    const block = formatSegmentResult({ index: 0, count: 1 }, result(0));
    invalid(() => parseResultBlocks(block.split('\n').slice(0, 2).join('\n')), /has no end marker/);
    invalid(() => parseResultBlocks(block.replace('"schemaVersion"', 'schemaVersion')), /is not JSON/);
    invalid(() => parseResultBlocks(block.replace('{', '{\n')), /has 2 lines, not one JSON line/);
    invalid(() => parseResultBlocks(block.replace('end segment-result 0/1', 'end segment-result 1/2')), /ends with/);
    invalid(() => parseResultBlocks(block.replace('\n{', '\n=== bench:segment-result 0/1 ===\n{')), /a second/);
  });
});

describe('collectCommand', () => {
  test('selects the run’s load pods (or its sampler) by label, prefixed and in full', () => {
    assert.deepEqual(collectCommand({ namespace: 'bench', name: 'bench-chat-bun', segments: 8 }), [
      'kubectl',
      'logs',
      '--namespace',
      'bench',
      '--selector',
      'app.kubernetes.io/instance=bench-chat-bun,app.kubernetes.io/component=load',
      '--container',
      'load',
      '--prefix',
      '--tail=-1',
      '--max-log-requests=8',
    ]);
    const server = collectCommand({ namespace: 'b', name: 'n', segments: 2, component: 'server' });
    assert.equal(server[server.indexOf('--container') + 1], 'sampler');
    assert.ok(server.includes('--max-log-requests=5'));
  });
});
