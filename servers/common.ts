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
} from './settings.js';

/** The routes of the contract (see servers/CONTRACT.md). */
export const HEALTH_PATH = '/health';
export const ECHO_PATH = '/echo';
export const BROADCAST_PATH = '/broadcast';

export type Route = 'health' | 'echo' | 'broadcast' | 'unknown';

/** Routes by exact path; the query string must already be stripped. */
export function routeOf(pathname: string): Route {
  switch (pathname) {
    case HEALTH_PATH:
      return 'health';
    case ECHO_PATH:
      return 'echo';
    case BROADCAST_PATH:
      return 'broadcast';
    default:
      return 'unknown';
  }
}

/** `room` from a raw query string (with or without the leading `?`); absent or empty means DEFAULT_ROOM. */
export function roomFromQuery(query: string): string {
  const room = new URLSearchParams(query).get('room');
  return room === null || room === '' ? DEFAULT_ROOM : room;
}

/** Status codes and bodies, stated once so that the four servers answer alike. */
export const HTTP_OK = 200;
export const HTTP_NOT_FOUND = 404;
export const HTTP_UPGRADE_REQUIRED = 426;
export const HEALTH_BODY = 'ok';
export const NOT_FOUND_BODY = 'not found';
export const UPGRADE_REQUIRED_BODY = 'upgrade required';

/** WebSocket close codes the servers send themselves (RFC 6455 section 7.4.1). */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_MESSAGE_TOO_BIG = 1009;

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
