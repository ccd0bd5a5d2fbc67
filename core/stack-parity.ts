/**
 * The Socket.IO stacks' part of a ready line and of the parity check
 * (servers/CONTRACT.md, "Stacks"):
 *
 * - `parseStackManifest` checks a ready line's `stack` field by field, for
 *   launcher.ts's parseReadyLine, which checks the rest.
 * - `verifyStack` is core/cell.ts's check of a stack: its identity against its
 *   registry entry, its Engine.IO settings recorded and compared (below).
 * - `assertStackParity` is the stack half of the parity rule: the WebSocket
 *   settings (`settings`) of every server are compared by parity.ts as ever,
 *   stacks included, since a stack reports the ParityManifest of the WebSocket
 *   layer under its engine; the Engine.IO settings (`stack.settings`) are
 *   compared only among the servers that have them, and with STACK_SETTINGS.
 *   A bare server has no Engine.IO session to configure, so stack against
 *   bare is never refused for them: what Socket.IO adds (its heartbeat
 *   included) is what such a comparison measures.
 */
import { BenchError } from '../base/errors.js';
import type { ParityState } from '../schema/result.js';
import { STACK_SETTINGS, type StackManifest, type StackSettings } from '../servers/settings.js';
import type { ServerProtocol } from './runtimes.js';
import { describeDifferences, diffManifests, type ParityDifference } from './parity.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const ENGINES: readonly StackManifest['engine'][] = ['engine.io', '@socket.io/bun-engine'];
const WEBSOCKET_LIBRARIES: readonly StackManifest['websocketLibrary'][] = ['ws', 'uWebSockets.js', 'bun'];
const BACKPRESSURE: readonly StackManifest['backpressure'][] = ['library', 'by-hand'];

/**
 * A ready line's `stack` value, checked field by field: the typed manifest, or
 * the problems, each naming its field (`stack.settings.pingIntervalMs (a
 * number)`), for an E_SERVER_BAD_READY_LINE. A NaN the server printed (JSON
 * null) for a setting it could not read back is a problem here: a stack that
 * cannot say its heartbeat is not comparable.
 */
export function parseStackManifest(v: unknown): { stack: StackManifest } | { problems: string[] } {
  if (!isRecord(v)) return { problems: ['stack (an object)'] };
  const problems: string[] = [];
  const str = (k: string): string => (typeof v[k] === 'string' ? (v[k] as string) : (problems.push(`stack.${k} (a string)`), ''));
  const oneOf = <T extends string>(k: string, allowed: readonly T[]): T => {
    const x = v[k];
    if (typeof x === 'string' && (allowed as readonly string[]).includes(x)) return x as T;
    problems.push(`stack.${k} (one of ${allowed.join(', ')})`);
    return allowed[0]!;
  };
  if (v['framework'] !== 'socket.io') problems.push('stack.framework ("socket.io")');
  const frameworkVersion = str('frameworkVersion');
  const engine = oneOf('engine', ENGINES);
  const engineVersion = str('engineVersion');
  const websocketLibrary = oneOf('websocketLibrary', WEBSOCKET_LIBRARIES);
  const websocketLibraryVersion = str('websocketLibraryVersion');
  const backpressure = oneOf('backpressure', BACKPRESSURE);
  const s = v['settings'];
  let settings: StackSettings = STACK_SETTINGS;
  if (!isRecord(s)) problems.push('stack.settings (an object)');
  else {
    const num = (k: keyof StackSettings) => (typeof s[k] === 'number' ? (s[k] as number) : (problems.push(`stack.settings.${k} (a number)`), 0));
    const bool = (k: keyof StackSettings) => (typeof s[k] === 'boolean' ? (s[k] as boolean) : (problems.push(`stack.settings.${k} (true or false)`), false));
    const transports = s['transports'];
    if (!Array.isArray(transports) || !transports.every((t) => typeof t === 'string')) problems.push('stack.settings.transports (an array of strings)');
    settings = {
      path: typeof s['path'] === 'string' ? s['path'] : (problems.push('stack.settings.path (a string)'), ''),
      transports: Array.isArray(transports) ? transports.filter((t): t is string => typeof t === 'string') : [],
      pingIntervalMs: num('pingIntervalMs'),
      pingTimeoutMs: num('pingTimeoutMs'),
      maxHttpBufferSizeBytes: num('maxHttpBufferSizeBytes'),
      perMessageDeflate: bool('perMessageDeflate'),
      connectionStateRecovery: bool('connectionStateRecovery'),
    };
  }
  if (problems.length > 0) return { problems };
  return {
    stack: { framework: 'socket.io', frameworkVersion, engine, engineVersion, websocketLibrary, websocketLibraryVersion, backpressure, settings },
  };
}

/**
 * Every Engine.IO setting on which the stacks among `servers` differ from each
 * other or from STACK_SETTINGS (labelled `contract`); servers without a stack
 * (undefined: the bare ones) are left out. Empty when fewer than one stack.
 */
export function stackSettingsDifferences(servers: Readonly<Record<string, StackSettings | undefined>>): ParityDifference[] {
  const manifests: Record<string, Record<string, unknown>> = {};
  for (const [label, settings] of Object.entries(servers)) if (settings !== undefined) manifests[label] = { ...settings };
  if (Object.keys(manifests).length === 0) return [];
  return diffManifests({ contract: { ...STACK_SETTINGS }, ...manifests });
}

/** The differences as the refusal and the result's parity section word them: `stack.settings.<key>: …`. */
function describeStackDifferences(diffs: ParityDifference[]): string[] {
  return describeDifferences(diffs).map((line) => `stack.settings.${line}`);
}

function stackParityError(details: string[]): BenchError {
  return new BenchError('E_PARITY_MISMATCH', 'the Socket.IO stacks do not run with the same Engine.IO settings, so their figures are not comparable', {
    details,
    hint: 'start every stack without SOCKETIO_PING_INTERVAL_MS / SOCKETIO_PING_TIMEOUT_MS (servers/CONTRACT.md, "Stacks")',
  });
}

/**
 * Refuses (E_PARITY_MISMATCH) when the stacks among `servers` run with Engine.IO
 * settings that differ from each other or from STACK_SETTINGS, one line per
 * setting; bare servers (undefined) never cause a refusal here.
 */
export function assertStackParity(servers: Readonly<Record<string, StackSettings | undefined>>): void {
  const diffs = stackSettingsDifferences(servers);
  if (diffs.length > 0) throw stackParityError(describeStackDifferences(diffs));
}

/**
 * The stack half of a cell's checks (core/cell.ts verify), after the WebSocket settings were compared:
 * - identity: a registry server whose entry says `socket.io` must print a `stack` manifest, and one that
 *   says `websocket` must not (`expected` undefined: a --server-cmd server, not checked);
 * - parity: a stack's Engine.IO settings are recorded in `parity.stacks` under its label and compared with
 *   every other stack's of the run and with STACK_SETTINGS; a difference is recorded in
 *   `parity.differences` and refused. A bare server is never compared on them (what the stack adds,
 *   its heartbeat included, is what a stack-against-bare comparison measures).
 * @throws BenchError E_RUNTIME_MISMATCH (identity), E_PARITY_MISMATCH (settings)
 */
export function verifyStack(label: string, expected: ServerProtocol | undefined, stack: StackManifest | undefined, parity: ParityState): void {
  if (expected === 'socket.io' && stack === undefined) {
    throw new BenchError('E_RUNTIME_MISMATCH', `the ${label} server printed no stack manifest, but its registry entry says it speaks Socket.IO`, {
      hint: 'a stack server prints its `stack` in the ready line (servers/CONTRACT.md, "Stacks"); the server file and core/runtimes.ts disagree',
    });
  }
  if (expected === 'websocket' && stack !== undefined) {
    throw new BenchError('E_RUNTIME_MISMATCH', `the ${label} server printed a ${stack.framework} stack manifest, but its registry entry says it speaks bare WebSocket`, {
      hint: 'the server file and core/runtimes.ts disagree about the protocol',
    });
  }
  if (stack === undefined) return;
  const others = { ...parity.stacks };
  delete others[label];
  const diffs = stackSettingsDifferences({ ...others, [label]: stack.settings });
  parity.stacks = { ...parity.stacks, [label]: stack.settings };
  if (diffs.length > 0) {
    parity.differences = describeStackDifferences(diffs);
    throw stackParityError(parity.differences);
  }
}
