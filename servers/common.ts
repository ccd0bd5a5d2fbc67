/**
 * Pure helpers shared by the four servers. This module runs unchanged on Node,
 * Bun and Deno, so it touches no runtime object (no `process`, `Bun`, `Deno`,
 * no `node:` imports): each server passes in what it read from its runtime.
 */
import {
  BACKPRESSURE_LIMIT_BYTES,
  DEFAULT_ROOM,
  SHUTDOWN_GRACE_MS,
  type ReadyLine,
  type RelayInfo,
  type StackReadyLine,
} from './settings.js';

/** The routes of the contract (see servers/CONTRACT.md). */
export const HEALTH_PATH = '/health';
export const ECHO_PATH = '/echo';
export const BROADCAST_PATH = '/broadcast';
export const RELAY_PATH = '/relay';

export type Route = 'health' | 'echo' | 'broadcast' | 'relay' | 'unknown';

/** Routes by exact path; the query string must already be stripped. */
export function routeOf(pathname: string): Route {
  switch (pathname) {
    case HEALTH_PATH:
      return 'health';
    case ECHO_PATH:
      return 'echo';
    case BROADCAST_PATH:
      return 'broadcast';
    case RELAY_PATH:
      return 'relay';
    default:
      return 'unknown';
  }
}

/** `room` from a raw query string (with or without the leading `?`); absent or empty means DEFAULT_ROOM. */
export function roomFromQuery(query: string): string {
  const room = new URLSearchParams(query).get('room');
  return room === null || room === '' ? DEFAULT_ROOM : room;
}

/** `session` from a raw query string; absent means the empty string. */
export function sessionFromQuery(query: string): string {
  return new URLSearchParams(query).get('session') ?? '';
}

/** Status codes and bodies, stated once so that the four servers answer alike. */
export const HTTP_OK = 200;
export const HTTP_NOT_FOUND = 404;
export const HTTP_UPGRADE_REQUIRED = 426;
/** A /relay upgrade on a server started without UPSTREAM_URL. */
export const HTTP_SERVICE_UNAVAILABLE = 503;
export const HEALTH_BODY = 'ok';
export const NOT_FOUND_BODY = 'not found';
export const UPGRADE_REQUIRED_BODY = 'upgrade required';
export const SERVICE_UNAVAILABLE_BODY = 'no upstream';

/** WebSocket close codes the servers send themselves (RFC 6455 section 7.4.1). */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_MESSAGE_TOO_BIG = 1009;
export const CLOSE_INTERNAL_ERROR = 1011;

/**
 * The code a relay closes its client with when the upstream leg ends: 1000
 * when the upstream closed normally with 1000, 1011 for anything else (another
 * code, 1001 from an upstream shutting down, an error, a dropped connection,
 * a leg that never opened).
 */
export function relayCloseCodeFor(upstreamCode: number): number {
  return upstreamCode === CLOSE_NORMAL ? CLOSE_NORMAL : CLOSE_INTERNAL_ERROR;
}

/**
 * Parses UPSTREAM_URL: undefined or empty means no upstream (null); anything
 * else must be a ws: or wss: URL, or this throws with a one-line message.
 */
export function upstreamUrlFromEnv(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`UPSTREAM_URL must be a ws:// or wss:// URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new Error(`UPSTREAM_URL must be a ws:// or wss:// URL, got ${JSON.stringify(value)}`);
  }
  return url.href;
}

/**
 * The size a relay counts for a client message queued while its upstream leg
 * is still connecting: bytes for binary, UTF-16 code units for text (equal to
 * bytes for ASCII, such as JSON events; it avoids encoding just to measure).
 */
export function queuedSize(data: string | ArrayBuffer | ArrayBufferView): number {
  return typeof data === 'string' ? data.length : data.byteLength;
}

/** The upstream URL of one session: UPSTREAM_URL with its `session` query parameter set to the client's. */
export function upstreamUrlFor(upstreamUrl: string, session: string): string {
  const url = new URL(upstreamUrl);
  url.searchParams.set('session', session);
  return url.href;
}

/** The ready line's `relay` section. */
export function relayInfo(upstreamUrl: string | null, client: RelayInfo['upstreamClient'], clientVersion: string, connectTimeoutMs: number): RelayInfo {
  return { upstreamUrl, upstreamClient: client, upstreamClientVersion: clientVersion, connectTimeoutMs };
}

/**
 * The contract's backpressure rule for servers that apply it by hand (Node+ws,
 * Deno): attempt a send only while the recipient's buffered bytes are at most
 * the limit, as uWebSockets.js does for `maxBackpressure`.
 */
export function mayBufferMore(bufferedBytes: number): boolean {
  return bufferedBytes <= BACKPRESSURE_LIMIT_BYTES;
}

/**
 * When the shutdown fallback fires: early enough that the process is gone
 * before an orchestrator waiting SHUTDOWN_GRACE_MS gives up on it.
 */
export const SHUTDOWN_FALLBACK_MS = Math.floor(SHUTDOWN_GRACE_MS * 0.75);

export interface ListenAddress {
  host: string;
  /** 0 asks the OS for an ephemeral port. */
  port: number;
}

export const DEFAULT_HOST = '127.0.0.1';

/** Parses PORT and HOST from the environment; throws with a one-line message on a bad PORT. */
export function listenAddressFromEnv(port: string | undefined, host: string | undefined): ListenAddress {
  const portText = port === undefined || port === '' ? '0' : port;
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(port)}`);
  }
  return { host: host === undefined || host === '' ? DEFAULT_HOST : host, port: Number(portText) };
}

/** The ready line as one JSON text without a newline; the caller writes it to stdout once. */
export function formatReadyLine(fields: Omit<ReadyLine, 'event'>): string {
  const line: ReadyLine = { event: 'ready', ...fields };
  return JSON.stringify(line);
}

/** A message for stderr from anything thrown. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// --- Stacks (servers/CONTRACT.md, "Stacks") ---

/**
 * The one Socket.IO event a stack's namespaces carry, both ways: Socket.IO's
 * own `socket.send()` name, so `send(x)` and `emit('message', x)` are the same
 * packet. One JSON argument: `42/echo,["message",{...}]`.
 */
export const STACK_EVENT = 'message';

/**
 * The event a stack's /relay namespace emits once, just before it disconnects
 * the client, when the upstream leg ended: its one argument is the close code
 * the bare relays would close the WebSocket with (relayCloseCodeFor: 1000 or
 * 1011), since Socket.IO's DISCONNECT packet carries no code.
 */
export const RELAY_CLOSE_EVENT = 'close';

/** Socket.IO's CONNECT_ERROR message for /relay on a stack started without UPSTREAM_URL (the bare servers answer 503). */
export const NO_UPSTREAM_MESSAGE = SERVICE_UNAVAILABLE_BODY;

/**
 * Engine.IO's parsed handshake query (`socket.handshake.query`): engine.io on
 * ws parses repeated keys into arrays, the other engines keep one value.
 */
export type HandshakeQuery = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The first value of `key` in a handshake query, as URLSearchParams.get would give it from the raw query. */
export function handshakeQueryValue(query: HandshakeQuery, key: string): string | undefined {
  const value = query[key];
  return typeof value === 'string' ? value : value?.[0];
}

/** `room` of a stack's /broadcast connection, from the Engine.IO handshake query; absent or empty means DEFAULT_ROOM (as roomFromQuery). */
export function roomFromHandshake(query: HandshakeQuery): string {
  const room = handshakeQueryValue(query, 'room');
  return room === undefined || room === '' ? DEFAULT_ROOM : room;
}

/** `session` of a stack's /relay connection, from the Engine.IO handshake query; absent means the empty string (as sessionFromQuery). */
export function sessionFromHandshake(query: HandshakeQuery): string {
  return handshakeQueryValue(query, 'session') ?? '';
}

/**
 * What a stack's relay sends upstream for one client `message` event: its
 * argument's bytes when binary (a Socket.IO binary attachment), otherwise the
 * argument as JSON text, which for a JSON value received from a JSON.stringify
 * writer (the load generator, the upstream) is the same bytes it arrived as.
 * undefined (an event without an argument) sends nothing.
 */
export function relayOutbound(data: unknown): string | Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (data === undefined) return undefined;
  return JSON.stringify(data);
}

/**
 * The `message` event argument a stack's relay emits for one upstream text
 * message: the parsed JSON value, so Socket.IO writes it back as the same
 * bytes inside its packet (`42/relay,["message",<text>]`) rather than as an
 * escaped string; text that is not JSON goes as a string.
 */
export function relayInbound(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A stack server's ready line (a ReadyLine plus `stack`) as one JSON text without a newline. */
export function formatStackReadyLine(fields: Omit<StackReadyLine, 'event'>): string {
  const line: StackReadyLine = { event: 'ready', ...fields };
  return JSON.stringify(line);
}
