import { BenchError } from '../base/errors.js';
import { formatSegment, parseSegment, type Segment } from '../loadgen/segment.js';

/**
 * How a pod hands its result back: one JSON line between two marker lines on its stdout, read back from the
 * pod's log (`kubectl logs`). Pure: formatting and parsing only; `collectCommand` gives the kubectl argv.
 *
 *     === bench:segment-result 2/4 ===
 *     {"schemaVersion":1,…}
 *     === bench:end segment-result 2/4 ===
 *
 * Why the log and not a shared volume: the load pods run on different nodes (anti-affinity), so a volume they
 * all write would have to be ReadWriteMany (NFS, CephFS, …), which many clusters lack; an emptyDir disappears
 * with its pod. A finished Job's pods and their logs stay until the Job is deleted, need no storage and no
 * permission beyond `kubectl logs`, and the kubelet keeps the container log (up to containerLogMaxSize,
 * 10 MiB by default: the result is one line of encoded histograms, far below it). Everything else the
 * process prints (progress, warnings) may surround the block.
 *
 * The parser accepts what `kubectl logs` adds in front of each line: `--prefix` (`[pod/NAME/CONTAINER] `) and
 * `--timestamps` (an RFC 3339 time and a space). Lines of several pods may interleave (`kubectl logs -l …`):
 * blocks are assembled per prefix.
 */

/** What a block carries: a load segment's result, or the server sampler's. */
export type BlockKind = 'segment-result' | 'server-sample';

/** The marker lines and the JSON between them, ending in a newline: print it on stdout as one write. */
export function formatResultBlock(kind: BlockKind, label: string, payload: unknown): string {
  if (/\s/.test(label) || label.length === 0) throw new Error(`a block label has no spaces and is not empty, got "${label}"`);
  const json = JSON.stringify(payload);
  return `=== bench:${kind} ${label} ===\n${json}\n=== bench:end ${kind} ${label} ===\n`;
}

/** A load segment's result block, labelled `I/N`. */
export function formatSegmentResult(segment: Segment, result: unknown): string {
  return formatResultBlock('segment-result', formatSegment(segment), result);
}

export interface ResultBlock {
  kind: BlockKind;
  label: string;
  payload: unknown;
  /** The `kubectl logs --prefix` of its lines (`pod/NAME/CONTAINER`), or "" without one. */
  source: string;
}

// An optional "[pod/…/…] " prefix, then an optional RFC 3339 timestamp, then the line itself.
const LINE = /^(?:\[([^\]]*)\] )?(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}) )?(.*)$/;
const BEGIN = /^=== bench:(segment-result|server-sample) (\S+) ===$/;
const END = /^=== bench:end (segment-result|server-sample) (\S+) ===$/;

function invalid(message: string, hint: string): BenchError {
  return new BenchError('E_INVALID_RESULT', message, { hint });
}

/**
 * Every complete block in a log, in the order their end markers appear.
 * @throws BenchError E_INVALID_RESULT for a block that is not one JSON line (corrupt), an end marker that does
 *   not match its begin, or a block still open at the end of the log (cut off: the pod is still running, or
 *   the log was rotated or truncated)
 */
export function parseResultBlocks(log: string): ResultBlock[] {
  const open = new Map<string, { kind: BlockKind; label: string; lines: string[] }>();
  const out: ResultBlock[] = [];
  for (const raw of log.split('\n')) {
    const m = LINE.exec(raw.replace(/\r$/, ''))!;
    const source = m[1] ?? '';
    const line = m[2]!;
    const b = BEGIN.exec(line);
    if (b) {
      if (open.has(source)) throw invalid(`${where(source)}a second "${line}" before the first block ended`, 'each block is written in one go; was the log interleaved without --prefix?');
      open.set(source, { kind: b[1] as BlockKind, label: b[2]!, lines: [] });
      continue;
    }
    const cur = open.get(source);
    if (!cur) continue;
    const e = END.exec(line);
    if (e) {
      if (e[1] !== cur.kind || e[2] !== cur.label) throw invalid(`${where(source)}block "${cur.kind} ${cur.label}" ends with "${line}"`, 'the log is corrupt');
      open.delete(source);
      if (cur.lines.length !== 1) throw invalid(`${where(source)}block "${cur.kind} ${cur.label}" has ${cur.lines.length} lines, not one JSON line`, 'the log is corrupt or was wrapped');
      let payload: unknown;
      try {
        payload = JSON.parse(cur.lines[0]!);
      } catch (err) {
        throw invalid(`${where(source)}block "${cur.kind} ${cur.label}" is not JSON: ${(err as Error).message}`, 'the log is corrupt or truncated');
      }
      out.push({ kind: cur.kind, label: cur.label, payload, source });
      continue;
    }
    cur.lines.push(line);
  }
  for (const [source, cur] of open) {
    throw invalid(`${where(source)}block "${cur.kind} ${cur.label}" has no end marker`, 'the pod may still be running, or its log was rotated; wait for the Job to complete, then collect again');
  }
  return out;
}

function where(source: string): string {
  return source ? `${source}: ` : '';
}

/**
 * The N segment results of one run from the (combined) logs of its load pods, ordered by segment index.
 * @throws BenchError E_INVALID_RESULT when a segment is missing (it failed, or its pod is gone), appears twice,
 *   or was run as a part of another number of segments
 */
export function segmentResultsFrom(log: string, segments: number): unknown[] {
  const byIndex = new Map<number, ResultBlock>();
  const problems: string[] = [];
  for (const b of parseResultBlocks(log)) {
    if (b.kind !== 'segment-result') continue;
    let s: Segment;
    try {
      s = parseSegment(b.label, 'segment label');
    } catch (e) {
      problems.push(`${where(b.source)}${(e as Error).message}`);
      continue;
    }
    if (s.count !== segments) problems.push(`${where(b.source)}segment ${b.label} is one of ${s.count}, not of ${segments}`);
    else if (byIndex.has(s.index)) problems.push(`segment ${b.label} appears twice (${byIndex.get(s.index)!.source || 'log'} and ${b.source || 'log'})`);
    else byIndex.set(s.index, b);
  }
  const missing = Array.from({ length: segments }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) problems.push(`no result for segment${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${segments}`).join(', ')}`);
  if (problems.length > 0) {
    throw new BenchError('E_INVALID_RESULT', `the load pods' logs do not hold the ${segments} segment results`, {
      details: problems,
      hint: 'a segment without a result failed: `kubectl describe job` and its pod log say why; a merged result needs every segment',
    });
  }
  return Array.from({ length: segments }, (_, i) => byIndex.get(i)!.payload);
}

/**
 * The kubectl argv that prints every load pod's log of a run, each line prefixed with its pod, in full.
 * Selected by the labels render.ts puts on the pods, so it needs no knowledge of pod names.
 */
export function collectCommand(o: { namespace: string; name: string; segments: number; component?: 'load' | 'server' }): string[] {
  const component = o.component ?? 'load';
  return [
    'kubectl',
    'logs',
    '--namespace',
    o.namespace,
    '--selector',
    `app.kubernetes.io/instance=${o.name},app.kubernetes.io/component=${component}`,
    '--container',
    component === 'load' ? 'load' : 'sampler',
    '--prefix',
    '--tail=-1',
    `--max-log-requests=${Math.max(5, o.segments)}`,
  ];
}
