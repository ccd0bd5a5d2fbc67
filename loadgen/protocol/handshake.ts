/**
 * The client side of the HTTP/1.1 upgrade (RFC 6455 §4.1): the request, and
 * an incremental parser of the response that checks it and hands every byte
 * after the header's blank line on to the frame parser.
 *
 * No extension and no subprotocol is offered, so permessage-deflate stays off
 * whatever the server's default; a response that accepts one anyway fails.
 */
import { createHash, randomBytes } from 'node:crypto';

/** The GUID appended to the key before hashing (RFC 6455 §1.3). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Largest response header accepted, in bytes. */
export const MAX_RESPONSE_HEADER_BYTES = 16 * 1024;

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64 (24 characters). */
export function createHandshakeKey(): string {
  return randomBytes(16).toString('base64');
}

/** The Sec-WebSocket-Accept value a server must answer for `key`: base64(SHA-1(key + GUID)). */
export function computeAcceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

export interface UpgradeRequestOptions {
  host: string;
  port: number;
  /** Request target; default '/'. */
  path?: string;
  /** Sec-WebSocket-Key, from {@link createHandshakeKey}. */
  key: string;
  /** Extra request headers (e.g. Origin). Names and values must not contain CR/LF. */
  headers?: Readonly<Record<string, string>>;
}

/** The upgrade request bytes. */
export function buildUpgradeRequest(options: UpgradeRequestOptions): Buffer {
  const path = options.path ?? '/';
  const host = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
  let req =
    `GET ${path} HTTP/1.1\r\n` +
    `Host: ${host}:${options.port}\r\n` +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${options.key}\r\n` +
    'Sec-WebSocket-Version: 13\r\n';
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (/[\r\n:]/.test(name) || /[\r\n]/.test(value)) throw new RangeError(`invalid header ${JSON.stringify(name)}`);
    req += `${name}: ${value}\r\n`;
  }
  if (/[\s]/.test(path)) throw new RangeError(`invalid request path ${JSON.stringify(path)}`);
  return Buffer.from(req + '\r\n', 'latin1');
}

/**
 * Why a response was refused, as stable strings:
 * - `handshake-rejected`: a well-formed response with a status other than 101.
 * - `protocol`: a 101 (or unparseable) response that breaks RFC 6455; `detail` says how.
 */
export type HandshakeFailure =
  | { ok: false; kind: 'handshake-rejected'; status: number; message: string }
  | { ok: false; kind: 'protocol'; detail: HandshakeProtocolDetail; message: string };

export type HandshakeProtocolDetail =
  | 'malformed-response'
  | 'header-too-large'
  | 'bad-upgrade-header'
  | 'bad-connection-header'
  | 'bad-accept'
  | 'unsolicited-extension'
  | 'unsolicited-subprotocol';

export interface HandshakeSuccess {
  ok: true;
  /** Response headers, names lower-cased. */
  headers: Record<string, string>;
  /**
   * Bytes received after the header's blank line: the first frames. Owned by
   * the caller: a view of the parser's own copy, never of an input chunk.
   */
  rest: Buffer;
}

export type HandshakeResult = HandshakeSuccess | HandshakeFailure;

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/**
 * Accumulates response bytes until the header is complete. Chunks are copied,
 * so the caller may reuse its read buffer.
 */
export class HandshakeResponseParser {
  private readonly expectedAccept: string;
  private buf: Buffer = Buffer.alloc(0);
  private result: HandshakeResult | null = null;

  /** `key` is the Sec-WebSocket-Key that was sent. */
  constructor(key: string) {
    this.expectedAccept = computeAcceptKey(key);
  }

  /** Feeds `chunk[start, end)`; returns the result once decided, else null (need more). */
  push(chunk: Buffer, start = 0, end = chunk.length): HandshakeResult | null {
    if (this.result !== null) return this.result;
    const searchFrom = Math.max(0, this.buf.length - 3);
    this.buf = Buffer.concat([this.buf, chunk.subarray(start, end)]);
    const at = this.buf.indexOf(CRLFCRLF, searchFrom);
    if (at < 0) {
      if (this.buf.length > MAX_RESPONSE_HEADER_BYTES) {
        this.result = protocolFailure('header-too-large', `response header exceeds ${MAX_RESPONSE_HEADER_BYTES} bytes`);
      }
      return this.result;
    }
    if (at > MAX_RESPONSE_HEADER_BYTES) {
      this.result = protocolFailure('header-too-large', `response header exceeds ${MAX_RESPONSE_HEADER_BYTES} bytes`);
      return this.result;
    }
    const head = this.buf.toString('latin1', 0, at);
    const rest = this.buf.subarray(at + 4);
    this.result = this.check(head, rest);
    this.buf = Buffer.alloc(0);
    return this.result;
  }

  private check(head: string, rest: Buffer): HandshakeResult {
    const lines = head.split('\r\n');
    const statusLine = lines[0] ?? '';
    const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
    if (m === null) return protocolFailure('malformed-response', `malformed status line ${JSON.stringify(statusLine.slice(0, 80))}`);
    const status = Number(m[1]);
    if (status !== 101) {
      return { ok: false, kind: 'handshake-rejected', status, message: `handshake rejected with status ${status}` };
    }
    const headers: Record<string, string> = {};
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) return protocolFailure('malformed-response', `malformed header line ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    if ((headers['upgrade'] ?? '').toLowerCase() !== 'websocket') {
      return protocolFailure('bad-upgrade-header', `Upgrade header is ${JSON.stringify(headers['upgrade'] ?? null)}`);
    }
    const connection = (headers['connection'] ?? '').toLowerCase().split(',').map((t) => t.trim());
    if (!connection.includes('upgrade')) {
      return protocolFailure('bad-connection-header', `Connection header is ${JSON.stringify(headers['connection'] ?? null)}`);
    }
    if (headers['sec-websocket-accept'] !== this.expectedAccept) {
      return protocolFailure('bad-accept', `Sec-WebSocket-Accept ${JSON.stringify(headers['sec-websocket-accept'] ?? null)} does not match the key`);
    }
    if (headers['sec-websocket-extensions'] !== undefined) {
      return protocolFailure('unsolicited-extension', `server accepted an extension that was not offered: ${headers['sec-websocket-extensions']}`);
    }
    if (headers['sec-websocket-protocol'] !== undefined) {
      return protocolFailure('unsolicited-subprotocol', `server chose a subprotocol that was not offered: ${headers['sec-websocket-protocol']}`);
    }
    return { ok: true, headers, rest };
  }
}

function protocolFailure(detail: HandshakeProtocolDetail, message: string): HandshakeFailure {
  return { ok: false, kind: 'protocol', detail, message };
}
