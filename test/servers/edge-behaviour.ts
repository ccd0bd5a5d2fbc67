/**
 * What each server does when a client breaks the protocol, as the suite
 * asserts it. The contract's answer is a close frame with a specific code;
 * where a library cannot be configured to send it, the row says what it does
 * instead, and servers/CONTRACT.md ("Documented differences") says why. A
 * change in any library's behaviour fails the suite, so this table and the
 * document cannot silently go stale.
 */
import { compareVersions } from '../../core/runtime-versions/request.js';
import type { BareRuntimeId } from '../../core/runtimes.js';

export type EdgeOutcome =
  /** A close frame with this code, then the TCP connection ends. */
  | { kind: 'close'; code: number }
  /** The TCP connection ends without a close frame (a ws client reports 1006). */
  | { kind: 'drop' }
  /** The offending frame is processed as if it were valid. */
  | { kind: 'accept' }
  /** Nothing is sent and the connection stays open: the frame was misparsed and the server waits for bytes that never come. */
  | { kind: 'stall' };

export interface EdgeBehaviour {
  /** A 16 MiB + 1 byte binary message from a ws client, sent in one frame. */
  oversize: EdgeOutcome;
  /** A text frame whose payload is not UTF-8 (0xC3 0x28). */
  invalidUtf8: EdgeOutcome;
  /** A text frame "hello" without the client mask RFC 6455 requires. */
  unmasked: EdgeOutcome;
}

export const CONTRACT_EDGES: EdgeBehaviour = {
  oversize: { kind: 'close', code: 1009 },
  invalidUtf8: { kind: 'close', code: 1007 },
  unmasked: { kind: 'close', code: 1002 },
};

export const EDGE_BEHAVIOUR: Record<BareRuntimeId, EdgeBehaviour> = {
  'node-ws': CONTRACT_EDGES,
  bun: CONTRACT_EDGES,
  'node-uws': {
    // uWebSockets.js v20 closes the socket on these errors without writing a close frame.
    oversize: { kind: 'drop' },
    invalidUtf8: { kind: 'drop' },
    // It does not check the MASK bit: it takes "hell" as the masking key and waits for 5 payload bytes.
    unmasked: { kind: 'stall' },
  },
  deno: {
    // Deno has no max-payload option; servers/deno.ts enforces the contract's limit itself.
    oversize: { kind: 'close', code: 1009 },
    invalidUtf8: { kind: 'drop' },
    unmasked: { kind: 'accept' },
  },
};

/**
 * Bun before 1.4 (seen on 1.3.14; 1.4 sends the contract's codes): ends the TCP connection without a close frame
 * on an oversize message and on invalid UTF-8, and neither answers nor closes after an unmasked frame.
 */
const BUN_BEFORE_1_4: EdgeBehaviour = { oversize: { kind: 'drop' }, invalidUtf8: { kind: 'drop' }, unmasked: { kind: 'stall' } };

/**
 * The behaviour of `id` at `version` (the runtime's own version; undefined: the project's default): EDGE_BEHAVIOUR,
 * except where a version behaves otherwise (`npm run test:versions` runs the suite on older lines).
 */
export function edgeBehaviourFor(id: BareRuntimeId, version?: string): EdgeBehaviour {
  if (id === 'bun' && version !== undefined && compareVersions(version, '1.4.0') < 0) return BUN_BEFORE_1_4;
  return EDGE_BEHAVIOUR[id];
}
