/**
 * The server contract's settings: one definition that every server imports, so
 * that no runtime can drift from the others by a typo. See servers/CONTRACT.md.
 *
 * Every server reads these, applies them with its runtime's public API, and
 * reports what it applied (read back from the running server where the API
 * allows) in its ready line. The orchestrator compares those reports, not these
 * constants, so a server that silently ignores a setting is caught.
 */

/** Largest accepted message, in bytes; a larger one closes the connection with 1009. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/**
 * Backpressure: a send is attempted only while the bytes already buffered for
 * that connection are at most this limit; a message sent when the buffer is
 * already above the limit is dropped for that recipient and the connection
 * stays open. This is uWebSockets.js's check (`maxBackpressure`, not
 * `closeOnBackpressureLimit`), which Bun shares; Node+ws and Deno apply it by
 * hand with `bufferedAmount`.
 */
export const BACKPRESSURE_LIMIT_BYTES = 1024 * 1024;
export const BACKPRESSURE_POLICY = 'drop' as const;

/** Idle timeout in seconds; 0 = never close an idle connection (ws has no idle timeout at all). */
export const IDLE_TIMEOUT_SEC = 0;

/** The room a /broadcast connection joins when the URL names none. */
export const DEFAULT_ROOM = 'default';

/**
 * How long a /relay session waits for its upstream leg (UPSTREAM_URL) to open
 * before closing the client with 1011.
 */
export const RELAY_CONNECT_TIMEOUT_MS = 5000;

/** Grace period for SIGTERM/SIGINT: the server must have exited by then. */
export const SHUTDOWN_GRACE_MS = 2000;

/** The effective settings a server reports; equal manifests are the precondition of any comparison. */
export interface ParityManifest {
  maxPayloadBytes: number;
  perMessageDeflate: boolean;
  idleTimeoutSec: number;
  backpressureLimitBytes: number;
  backpressurePolicy: 'drop';
  publishToSelf: boolean;
  autoPing: boolean;
}

/**
 * What a server reports about its /relay route (servers/CONTRACT.md). Not part
 * of ParityManifest: `upstreamUrl` depends on how the server was started, and
 * the client library is one of the differences being compared.
 */
export interface RelayInfo {
  /** UPSTREAM_URL as normalised by URL (for example a trailing `/` added); null when unset (then /relay upgrades get 503). */
  upstreamUrl: string | null;
  /** The WebSocket client used for the upstream leg: `ws` (Node servers), `bun` or `deno` (their global WebSocket). */
  upstreamClient: 'ws' | 'bun' | 'deno';
  upstreamClientVersion: string;
  /** RELAY_CONNECT_TIMEOUT_MS, as applied. */
  connectTimeoutMs: number;
}

/** The one JSON line a server prints to stdout once it listens. */
export interface ReadyLine {
  event: 'ready';
  runtime: string;
  runtimeVersion: string;
  library: string;
  libraryVersion: string;
  pid: number;
  host: string;
  port: number;
  settings: ParityManifest;
  /** Present on the four contract servers; a user's own server (`--server-cmd`) may have no relay route. */
  relay?: RelayInfo;
  /** Present on a stack (StackReadyLine): the framework and its own settings. */
  stack?: StackManifest;
}

/** The settings every server is asked to apply. */
export const CONTRACT_SETTINGS: ParityManifest = {
  maxPayloadBytes: MAX_PAYLOAD_BYTES,
  perMessageDeflate: false,
  idleTimeoutSec: IDLE_TIMEOUT_SEC,
  backpressureLimitBytes: BACKPRESSURE_LIMIT_BYTES,
  backpressurePolicy: BACKPRESSURE_POLICY,
  publishToSelf: true,
  autoPing: false,
};

/**
 * Stacks: a framework on top of a runtime's WebSockets (servers/CONTRACT.md,
 * "Stacks"). Socket.IO is the one stack so far: Engine.IO v4 sessions over
 * the WebSocket transport only, Socket.IO v5 packets inside them.
 *
 * A stack server reports the ParityManifest of the WebSocket layer underneath
 * (the same `settings` as a bare server, and equal to CONTRACT_SETTINGS) plus
 * a StackManifest with the framework's own settings. `settings` is compared
 * against every server; `stack.settings` only between stacks, since a bare
 * server has no Engine.IO session to configure.
 */

/** The Engine.IO handshake path Socket.IO listens on (Socket.IO's default, with the trailing slash it normalises to). */
export const SOCKETIO_PATH = '/socket.io/';

/**
 * Engine.IO heartbeat: the server sends a ping packet (`2`, a text frame) every
 * this many ms and closes a session whose pong (`3`) has not come within
 * SOCKETIO_PING_TIMEOUT_MS. Socket.IO's defaults, kept: the heartbeat is part
 * of what a Socket.IO session costs (a timer per session, two tiny frames per
 * 25 s), and a team runs it on. It is not a WebSocket ping frame, so the
 * ParityManifest's `autoPing: false` still holds underneath.
 */
export const SOCKETIO_PING_INTERVAL_MS = 25_000;
export const SOCKETIO_PING_TIMEOUT_MS = 20_000;

/** The Engine.IO settings every Socket.IO stack is asked to apply (values in StackSettings). */
export interface StackSettings {
  /** Engine.IO path, with its trailing slash. */
  path: string;
  /** Transports the engine accepts: only `websocket` (no HTTP long-polling, no upgrade). */
  transports: string[];
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /**
   * `maxHttpBufferSize`: the largest Engine.IO packet, bytes, which over the
   * WebSocket transport is the largest WebSocket message (so an event's JSON
   * payload can be at most this minus its packet prefix and suffix).
   */
  maxHttpBufferSizeBytes: number;
  /** Engine.IO's permessage-deflate option (the WebSocket layer's is in the ParityManifest). */
  perMessageDeflate: boolean;
  /** Socket.IO's connection state recovery (missed-packet replay on reconnect). */
  connectionStateRecovery: boolean;
}

/** The stack's identity and settings, printed in a stack server's ready line as `stack`. */
export interface StackManifest {
  framework: 'socket.io';
  frameworkVersion: string;
  /** The Engine.IO server under Socket.IO: `engine.io` (Node, on ws or uWebSockets.js) or `@socket.io/bun-engine`. */
  engine: 'engine.io' | '@socket.io/bun-engine';
  engineVersion: string;
  /** The WebSocket server library under the engine, with its version. */
  websocketLibrary: 'ws' | 'uWebSockets.js' | 'bun';
  websocketLibraryVersion: string;
  /**
   * How the contract's backpressure rule is applied: `library` when the
   * WebSocket library drops above the limit itself (uWebSockets.js
   * `maxBackpressure`, Bun `backpressureLimit`), `by-hand` when the server
   * checks each recipient's buffered bytes before sending (ws, like node-ws).
   */
  backpressure: 'library' | 'by-hand';
  /** Read back from the running server where its API allows (see each server file). */
  settings: StackSettings;
}

/** A stack server's ready line: a ReadyLine (library `socket.io`) with the stack's manifest. */
export interface StackReadyLine extends ReadyLine {
  stack: StackManifest;
}

/** The Engine.IO settings every stack is asked to apply. */
export const STACK_SETTINGS: StackSettings = {
  path: SOCKETIO_PATH,
  transports: ['websocket'],
  pingIntervalMs: SOCKETIO_PING_INTERVAL_MS,
  pingTimeoutMs: SOCKETIO_PING_TIMEOUT_MS,
  maxHttpBufferSizeBytes: MAX_PAYLOAD_BYTES,
  perMessageDeflate: false,
  connectionStateRecovery: false,
};
