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
