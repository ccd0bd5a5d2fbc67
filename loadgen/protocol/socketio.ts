/**
 * Engine.IO v4 and Socket.IO v5 as a layer over the raw client
 * (RawWebSocket), for the Socket.IO stacks (servers/CONTRACT.md, "Stacks").
 * Not a second client: the WebSocket connection, its batching and its zero-copy
 * receive stay RawWebSocket's; this file only says which text frames to send
 * and what the received ones are.
 *
 * Specs: Engine.IO protocol v4 (socketio/socket.io docs/engine.io-protocol/v4-current.md)
 * and Socket.IO protocol v5 (docs/socket.io-protocol/v5-current.md), as
 * socket.io 4.8 / engine.io 6.6 implement them. Over the WebSocket transport
 * every Engine.IO packet is one WebSocket message; a Socket.IO packet is the
 * payload of an Engine.IO `message` packet (type `4`). The frames a session sees:
 *
 *   server  0{"sid":"…","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":16777216}
 *                                              Engine.IO open, the first frame after the HTTP 101
 *   client  40/echo,                          Socket.IO CONNECT to namespace /echo (no auth payload)
 *   server  40/echo,{"sid":"…"}               its acknowledgement (44/echo,{"message":…} = CONNECT_ERROR)
 *   client  42/echo,["message",<payload>]     an EVENT named "message" with one argument
 *   server  42/echo,["message",<payload>]     the echo (or a room broadcast), same layout
 *   server  2        client  3                Engine.IO heartbeat: ping, answered with pong
 *   either  41/echo,                          Socket.IO DISCONNECT from the namespace
 *   server  1                                 Engine.IO close (the session ends)
 *
 * For namespace "/" the namespace part and its comma are left out (`40`,
 * `42["message",…]`), as the spec's encoding says.
 *
 * The payload is a JSON object (payload.ts's text kind, template.ts's json
 * kind) embedded as a JSON value, not as an escaped string. Socket.IO parses it
 * and writes it again with JSON.stringify; those payloads are already in
 * JSON.stringify's form (no whitespace, keys in insertion order, strings
 * escaped the same way), so the server's frame carries the same bytes. An event
 * message is therefore a fixed prefix, the payload and a fixed suffix:
 *
 *   [0, p)          prefix  `42/echo,["message",`   (p = 19 for /echo; `42["message",` for "/")
 *   [p, p + n)      payload, n bytes, patched in place per send by the payload's codec
 *   [p + n, p + n + 1)  suffix `]`
 *
 * so the whole frame is built and masked once, and per send only the codec's
 * header fields are patched, at payload offset p (mask phase p); a reply is
 * recognised by comparing its first p bytes and its last byte, and its payload
 * is [start + p, end - 1), checked byte for byte by the codec.
 *
 * Binary: not supported. Socket.IO sends binary arguments as attachments (a
 * `451-…` BINARY_EVENT text frame, then one binary frame per attachment); a
 * session that receives one, or any binary frame, fails with
 * `binary-unsupported`, and buildEvent refuses a payload that is not a JSON
 * object or array. Acknowledgements (`43…`, event ids) are not used.
 *
 * Hot path: classify() and SocketIoSession.receive() read bytes in place and
 * allocate nothing for events, pings and pongs; only the handshake frames
 * (open, connect ack, connect error) are decoded with JSON.parse.
 */
import { Opcode, PrebuiltFrame, type DataOpcode } from './frame.js';

/** Engine.IO v4 packet types: the first character of every frame. */
export const EnginePacket = {
  Open: 0x30, // '0'
  Close: 0x31, // '1'
  Ping: 0x32, // '2'
  Pong: 0x33, // '3'
  Message: 0x34, // '4'
  Upgrade: 0x35, // '5'
  Noop: 0x36, // '6'
} as const;

/** Socket.IO v5 packet types: the character after an Engine.IO message's `4`. */
export const SocketIoPacket = {
  Connect: 0x30, // '0'
  Disconnect: 0x31, // '1'
  Event: 0x32, // '2'
  Ack: 0x33, // '3'
  ConnectError: 0x34, // '4'
  BinaryEvent: 0x35, // '5'
  BinaryAck: 0x36, // '6'
} as const;

/** Engine.IO protocol revision sent as `EIO`. */
export const ENGINE_IO_PROTOCOL = 4;
/** Socket.IO's default handshake path. */
export const DEFAULT_SOCKETIO_PATH = '/socket.io/';
/** The event name the stacks use (servers/common.ts STACK_EVENT). */
export const DEFAULT_EVENT = 'message';

/** The client's answer to a server ping: Engine.IO pong, `3`. */
export const PONG_PACKET: Buffer = Buffer.from('3', 'latin1');
/** Engine.IO close, `1`: asks the server to end the session (the WebSocket close does the same). */
export const CLOSE_PACKET: Buffer = Buffer.from('1', 'latin1');

const CHAR_COMMA = 0x2c;
const CHAR_OPEN_BRACE = 0x7b;
const CHAR_OPEN_BRACKET = 0x5b;
const CHAR_CLOSE_BRACKET = 0x5d;

/**
 * The request path of a WebSocket-only Engine.IO session:
 * `/socket.io/?EIO=4&transport=websocket`, then `query` (e.g. `{ room: 'a' }`
 * for a stack's /broadcast, `{ session: 's1' }` for its /relay) URL-encoded.
 */
export function socketIoRequestPath(query: Readonly<Record<string, string>> = {}, basePath = DEFAULT_SOCKETIO_PATH): string {
  const params = new URLSearchParams({ EIO: String(ENGINE_IO_PROTOCOL), transport: 'websocket' });
  for (const [key, value] of Object.entries(query)) params.append(key, value);
  return `${basePath}?${params.toString()}`;
}

/**
 * A bare route path as the load generator uses it (`/echo`,
 * `/broadcast?room=r1`, `/relay?session=s1`) mapped onto a Socket.IO stack
 * (servers/CONTRACT.md, "Stacks"): the route becomes the namespace and its
 * query goes into the Engine.IO handshake's, where the stacks read `room` and
 * `session`. `requestPath` is what RawWebSocket connects to.
 */
export function socketIoTarget(routePath: string, basePath = DEFAULT_SOCKETIO_PATH): { namespace: string; requestPath: string } {
  const url = new URL(routePath, 'http://localhost');
  const params = new URLSearchParams({ EIO: String(ENGINE_IO_PROTOCOL), transport: 'websocket' });
  for (const [key, value] of url.searchParams) params.append(key, value);
  return { namespace: url.pathname, requestPath: `${basePath}?${params.toString()}` };
}

/** What a received text frame is; classify() returns one of these numbers. */
export const PacketKind = {
  /** Engine.IO open (`0{…}`); `out` is the JSON after the `0`. */
  Open: 1,
  /** Engine.IO close (`1`). */
  Close: 2,
  /** Engine.IO ping (`2`, or `2<data>`); `out` is the data (empty for a heartbeat). */
  Ping: 3,
  /** Engine.IO pong (`3…`). */
  Pong: 4,
  /** Socket.IO CONNECT acknowledgement for this namespace (`40/ns,{…}`); `out` is the JSON object. */
  Connect: 5,
  /** Socket.IO CONNECT_ERROR for this namespace (`44/ns,{…}`); `out` is the JSON. */
  ConnectError: 6,
  /** Socket.IO DISCONNECT of this namespace (`41/ns,`). */
  Disconnect: 7,
  /** This namespace's event with this name and the exact prefix and suffix; `out` is the payload. */
  Event: 8,
  /** Another event of this namespace (another name, an ack id, several arguments); `out` is everything after `42/ns,`. */
  OtherEvent: 9,
  /** A Socket.IO BINARY_EVENT or BINARY_ACK (`45…`, `46…`): attachments follow in binary frames. Unsupported. */
  Binary: 10,
  /** Anything else: another namespace, an ACK, noop, upgrade, an empty or unknown frame. */
  Other: 11,
} as const;
export type PacketKind = (typeof PacketKind)[keyof typeof PacketKind];

/** A byte range [start, end) of the buffer passed to classify(); reused, so nothing is allocated per frame. */
export interface ByteRange {
  start: number;
  end: number;
}

/** True when buf[start, end) begins with every byte of `prefix`. */
function startsWith(buf: Buffer, start: number, end: number, prefix: Buffer): boolean {
  const n = prefix.length;
  if (end - start < n) return false;
  for (let i = 0; i < n; i++) if (buf[start + i] !== prefix[i]) return false;
  return true;
}

/**
 * One namespace's packets as bytes, built once: the CONNECT and DISCONNECT
 * packets to send, the fixed prefix and suffix of its event messages, and
 * classify() for the text frames a session of this namespace receives.
 *
 * The namespace must start with `/` and, as the default parser requires,
 * contain no comma; the event name must be a non-empty string.
 */
export class SocketIoNamespace {
  readonly namespace: string;
  readonly event: string;
  /** `40/ns,` (`40` for "/"): joins the namespace, without an auth payload. */
  readonly connectPacket: Buffer;
  /** `41/ns,` (`41` for "/"): leaves the namespace. */
  readonly disconnectPacket: Buffer;
  /** `42/ns,["<event>",`: everything before the payload of an event message. */
  readonly eventPrefix: Buffer;
  /** `]`: everything after it. */
  readonly eventSuffix: Buffer;
  /** `40/ns,`, `44/ns,`, `42/ns,`: packet heads for this namespace. */
  private readonly connectHead: Buffer;
  private readonly connectErrorHead: Buffer;
  private readonly eventHead: Buffer;

  /** @throws RangeError on a namespace without a leading `/` or with a comma, or an empty event name */
  constructor(namespace: string, event: string = DEFAULT_EVENT) {
    if (!namespace.startsWith('/') || namespace.includes(',')) {
      throw new RangeError(`a Socket.IO namespace starts with "/" and has no comma, got ${JSON.stringify(namespace)}`);
    }
    if (event === '') throw new RangeError('a Socket.IO event name must not be empty');
    this.namespace = namespace;
    this.event = event;
    // The default parser writes the namespace only when it is not "/", followed by a comma.
    const ns = namespace === '/' ? '' : `${namespace},`;
    this.connectPacket = Buffer.from(`40${ns}`, 'utf8');
    this.disconnectPacket = Buffer.from(`41${ns}`, 'utf8');
    this.eventPrefix = Buffer.from(`42${ns}[${JSON.stringify(event)},`, 'utf8');
    this.eventSuffix = Buffer.from(']', 'latin1');
    this.connectHead = this.connectPacket;
    this.connectErrorHead = Buffer.from(`44${ns}`, 'utf8');
    this.eventHead = Buffer.from(`42${ns}`, 'utf8');
  }

  /** Where a payload starts in an event message: the prefix's length, bytes (also its mask phase in a frame). */
  get payloadOffset(): number {
    return this.eventPrefix.length;
  }

  /** Bytes of an event message (one WebSocket text message) carrying a payload of `payloadBytes`. */
  eventBytes(payloadBytes: number): number {
    return this.eventPrefix.length + payloadBytes + this.eventSuffix.length;
  }

  /**
   * An event message for `payload`: prefix, payload, suffix. Allocates: build
   * once per template, then patch the payload in place at payloadOffset.
   * @throws RangeError unless the payload starts with `{` or `[` (a JSON object
   *   or array; binary payloads would need attachments, which are not supported)
   */
  buildEvent(payload: Buffer): Buffer {
    const first = payload[0];
    if (first !== CHAR_OPEN_BRACE && first !== CHAR_OPEN_BRACKET) {
      throw new RangeError('a Socket.IO event payload must be a JSON object or array (text or json messages; binary attachments are not supported)');
    }
    return Buffer.concat([this.eventPrefix, payload, this.eventSuffix]);
  }

  /**
   * What the text frame buf[start, end) is, for a session of this namespace;
   * `out` receives the range the kind's comment names (left as is for kinds
   * without one). Reads bytes in place, allocates nothing.
   */
  classify(buf: Buffer, start: number, end: number, out: ByteRange): PacketKind {
    if (end <= start) return PacketKind.Other;
    switch (buf[start]) {
      case EnginePacket.Message:
        break;
      case EnginePacket.Ping:
        out.start = start + 1;
        out.end = end;
        return PacketKind.Ping;
      case EnginePacket.Open:
        out.start = start + 1;
        out.end = end;
        return PacketKind.Open;
      case EnginePacket.Close:
        return PacketKind.Close;
      case EnginePacket.Pong:
        return PacketKind.Pong;
      default:
        return PacketKind.Other;
    }
    if (end - start < 2) return PacketKind.Other;
    switch (buf[start + 1]) {
      case SocketIoPacket.Event: {
        const prefix = this.eventPrefix;
        if (startsWith(buf, start, end, prefix) && end - start > prefix.length && buf[end - 1] === CHAR_CLOSE_BRACKET) {
          out.start = start + prefix.length;
          out.end = end - 1;
          return PacketKind.Event;
        }
        if (!this.inNamespace(buf, start, end, this.eventHead)) return PacketKind.Other;
        out.start = start + this.eventHead.length;
        out.end = end;
        return PacketKind.OtherEvent;
      }
      case SocketIoPacket.Connect:
        if (!this.inNamespace(buf, start, end, this.connectHead)) return PacketKind.Other;
        out.start = start + this.connectHead.length;
        out.end = end;
        return PacketKind.Connect;
      case SocketIoPacket.ConnectError:
        if (!this.inNamespace(buf, start, end, this.connectErrorHead)) return PacketKind.Other;
        out.start = start + this.connectErrorHead.length;
        out.end = end;
        return PacketKind.ConnectError;
      case SocketIoPacket.Disconnect:
        return end - start === this.disconnectPacket.length && startsWith(buf, start, end, this.disconnectPacket)
          ? PacketKind.Disconnect
          : PacketKind.Other;
      case SocketIoPacket.BinaryEvent:
      case SocketIoPacket.BinaryAck:
        return PacketKind.Binary;
      default:
        return PacketKind.Other;
    }
  }

  /**
   * Whether a packet starting with `head` (`4x/ns,` or `4x`) belongs to this
   * namespace: for "/", the next byte must not start another namespace.
   */
  private inNamespace(buf: Buffer, start: number, end: number, head: Buffer): boolean {
    if (!startsWith(buf, start, end, head)) return false;
    if (this.namespace !== '/') return true;
    return end - start === head.length || buf[start + head.length] !== 0x2f; // '/'
  }
}

/**
 * What the caller of SocketIoSession.receive() must do next. Exactly one per
 * received frame.
 */
export const SessionAction = {
  /** Nothing (a pong, noop, a frame of another namespace). */
  None: 0,
  /** Send `session.reply` as a text message now (the CONNECT packet after the open, a pong after a ping). */
  Reply: 1,
  /** The namespace accepted the connection: the session is usable (`sid`, `namespaceSid`, heartbeat figures are set). */
  Connected: 2,
  /** An event of this namespace and name: its payload is buf[session.payload.start, session.payload.end). */
  Event: 3,
  /**
   * Another event of this namespace, e.g. a stack relay's `close`: the JSON
   * array after `42/ns,` is buf[session.payload.start, session.payload.end)
   * (parseEventPacket reads it, allocating).
   */
  OtherEvent: 4,
  /** A frame a connected session does not expect (another packet type, a malformed event): count it, as a corrupted message. */
  Unexpected: 5,
  /** The server ended the session (`closeReason`); expect the WebSocket close next. */
  Closed: 6,
  /** The session failed (`error`, `errorMessage`); close the WebSocket. */
  Failed: 7,
} as const;
export type SessionAction = (typeof SessionAction)[keyof typeof SessionAction];

export type SessionState = 'opening' | 'connecting' | 'connected' | 'closed' | 'failed';

/**
 * Why a session failed, as stable strings:
 * - `malformed-open`: the first frame is not an Engine.IO open packet with a
 *   string `sid` and numeric `pingInterval` and `pingTimeout`.
 * - `unexpected-packet`: a packet the handshake does not allow at this point
 *   (an event before the namespace is joined, a second open, a binary frame
 *   before the open).
 * - `connect-error`: the server refused the namespace (CONNECT_ERROR);
 *   `errorMessage` is its message, e.g. "Invalid namespace".
 * - `binary-unsupported`: a BINARY_EVENT / BINARY_ACK or a binary WebSocket
 *   frame (Socket.IO attachments), which this layer does not decode.
 */
export type SessionError = 'malformed-open' | 'unexpected-packet' | 'connect-error' | 'binary-unsupported';

/**
 * How the server ended a session: `disconnect` (Socket.IO DISCONNECT of the
 * namespace: `socket.disconnect()`), `engine-close` (Engine.IO close packet).
 */
export type SessionCloseReason = 'disconnect' | 'engine-close';

/**
 * One client session of one namespace, as a state machine the connection code
 * drives: feed it every WebSocket message with receive() and do what the
 * returned SessionAction says.
 *
 *   opening ──open packet──▶ connecting (Reply: the CONNECT packet)
 *   connecting ──CONNECT ack──▶ connected (Connected)
 *   connecting ──CONNECT_ERROR──▶ failed (Failed: connect-error)
 *   any open state ──ping──▶ same state (Reply: pong)
 *   connected ──event──▶ connected (Event / OtherEvent)
 *   connected ──DISCONNECT or close packet──▶ closed (Closed)
 *   anything not allowed ──▶ failed (Failed)
 *
 * Timeouts are the caller's: nothing here reads a clock. One object per
 * connection; receive() allocates nothing once connected.
 */
export class SocketIoSession {
  readonly ns: SocketIoNamespace;
  state: SessionState = 'opening';
  /** The bytes to send for a Reply action (a shared buffer: send it, do not keep or change it). */
  reply: Buffer = PONG_PACKET;
  /** Event or OtherEvent: where its bytes are in the buffer given to receive(). */
  readonly payload: ByteRange = { start: 0, end: 0 };
  /** Engine.IO session id, from the open packet. */
  sid = '';
  /** The namespace's socket id, from the CONNECT acknowledgement. */
  namespaceSid = '';
  /** Heartbeat from the open packet: the server pings every pingIntervalMs and waits pingTimeoutMs for the pong. */
  pingIntervalMs = 0;
  pingTimeoutMs = 0;
  /** The server's largest accepted packet (its maxHttpBufferSize), from the open packet; 0 when it sent none. */
  maxPayloadBytes = 0;
  /** Server pings answered. */
  pings = 0;
  error: SessionError | undefined;
  errorMessage = '';
  closeReason: SessionCloseReason | undefined;

  constructor(ns: SocketIoNamespace) {
    this.ns = ns;
  }

  /**
   * Takes one WebSocket message, buf[start, end) (a view valid during the
   * call, as RawWebSocket hands it), and says what to do. After Failed or
   * Closed every further message returns None.
   */
  receive(opcode: DataOpcode, buf: Buffer, start: number, end: number): SessionAction {
    const state = this.state;
    if (state === 'failed' || state === 'closed') return SessionAction.None;
    if (opcode === Opcode.Binary) {
      return this.fail('binary-unsupported', 'a binary frame arrived (Socket.IO binary attachments are not supported)');
    }
    const kind = this.ns.classify(buf, start, end, this.payload);
    if (state === 'connected') {
      // The hot path first.
      if (kind === PacketKind.Event) return SessionAction.Event;
      if (kind === PacketKind.Ping) return this.pong(buf);
      if (kind === PacketKind.OtherEvent) return SessionAction.OtherEvent;
      if (kind === PacketKind.Disconnect) return this.close('disconnect');
      if (kind === PacketKind.Close) return this.close('engine-close');
      if (kind === PacketKind.Binary) return this.fail('binary-unsupported', 'a binary event arrived (Socket.IO binary attachments are not supported)');
      if (kind === PacketKind.Pong || kind === PacketKind.Connect) return SessionAction.None;
      return SessionAction.Unexpected;
    }
    if (kind === PacketKind.Ping) return this.pong(buf);
    if (state === 'opening') {
      if (kind !== PacketKind.Open) return this.fail('unexpected-packet', `expected the Engine.IO open packet, got ${describeFrame(buf, start, end)}`);
      return this.open(buf.toString('utf8', this.payload.start, this.payload.end));
    }
    // connecting
    if (kind === PacketKind.Connect) return this.connected(buf.toString('utf8', this.payload.start, this.payload.end));
    if (kind === PacketKind.ConnectError) {
      const message = messageOf(buf.toString('utf8', this.payload.start, this.payload.end));
      return this.fail('connect-error', `the server refused namespace ${this.ns.namespace}: ${message}`);
    }
    if (kind === PacketKind.Close) return this.close('engine-close');
    if (kind === PacketKind.Other || kind === PacketKind.Pong) return SessionAction.None;
    return this.fail('unexpected-packet', `expected the CONNECT acknowledgement of ${this.ns.namespace}, got ${describeFrame(buf, start, end)}`);
  }

  private pong(buf: Buffer): SessionAction {
    this.pings++;
    const range = this.payload;
    // A heartbeat ping has no data; anything else (the upgrade's "2probe") is answered with the same data.
    this.reply = range.end === range.start ? PONG_PACKET : Buffer.concat([PONG_PACKET, buf.subarray(range.start, range.end)]);
    return SessionAction.Reply;
  }

  private open(json: string): SessionAction {
    let data: unknown;
    try {
      data = JSON.parse(json);
    } catch {
      return this.fail('malformed-open', `the open packet's data is not JSON: ${shown(json)}`);
    }
    const fields = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    const { sid, pingInterval, pingTimeout, maxPayload } = fields;
    if (typeof sid !== 'string' || typeof pingInterval !== 'number' || typeof pingTimeout !== 'number') {
      return this.fail('malformed-open', `the open packet lacks sid, pingInterval or pingTimeout: ${shown(json)}`);
    }
    this.sid = sid;
    this.pingIntervalMs = pingInterval;
    this.pingTimeoutMs = pingTimeout;
    this.maxPayloadBytes = typeof maxPayload === 'number' ? maxPayload : 0;
    this.state = 'connecting';
    this.reply = this.ns.connectPacket;
    return SessionAction.Reply;
  }

  private connected(json: string): SessionAction {
    let data: unknown;
    try {
      data = JSON.parse(json);
    } catch {
      data = undefined;
    }
    const sid = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)['sid'] : undefined;
    if (typeof sid !== 'string') return this.fail('unexpected-packet', `the CONNECT acknowledgement carries no sid: ${shown(json)}`);
    this.namespaceSid = sid;
    this.state = 'connected';
    return SessionAction.Connected;
  }

  private close(reason: SessionCloseReason): SessionAction {
    this.state = 'closed';
    this.closeReason = reason;
    return SessionAction.Closed;
  }

  private fail(error: SessionError, message: string): SessionAction {
    this.state = 'failed';
    this.error = error;
    this.errorMessage = message;
    return SessionAction.Failed;
  }
}

/** The `message` of a CONNECT_ERROR's JSON data, or the raw text. */
function messageOf(json: string): string {
  try {
    const data: unknown = JSON.parse(json);
    if (typeof data === 'object' && data !== null && typeof (data as Record<string, unknown>)['message'] === 'string') {
      return (data as Record<string, string>)['message']!;
    }
  } catch {
    // not JSON: the text is the message
  }
  return json;
}

function shown(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

function describeFrame(buf: Buffer, start: number, end: number): string {
  return shown(buf.toString('utf8', start, Math.min(end, start + 80)));
}

/**
 * The name and arguments of an event packet's JSON array (the `out` range of
 * an OtherEvent, or of an Event widened back to the array), e.g. a stack
 * relay's `["close",1011]`. Allocates: for rare packets, not the hot path.
 * Returns undefined for an ack id, a non-array or an array without a string
 * name first.
 */
export function parseEventPacket(buf: Buffer, start: number, end: number): { name: string; args: unknown[] } | undefined {
  if (buf[start] !== CHAR_OPEN_BRACKET) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(buf.toString('utf8', start, end));
  } catch {
    return undefined;
  }
  if (!Array.isArray(data) || typeof data[0] !== 'string') return undefined;
  return { name: data[0], args: data.slice(1) };
}

/**
 * A masked client frame holding one event message, built once from a
 * payload template (PrebuiltFrame of ns.buildEvent(payload)), for the send
 * path: patch the payload's header with the codec, masked, at `payloadIndex`
 * with mask phase `keyPhase`, then hand `frame.frame` to RawWebSocket.sendFrame:
 *
 *   codec.writeHeaderMasked(f.frame.frame, f.payloadIndex, f.payloadBytes, connId, seq, tUs, maskKey, f.keyPhase)
 */
export class SocketIoEventFrame {
  readonly frame: PrebuiltFrame;
  /** Index of the payload's first byte inside `frame.frame`. */
  readonly payloadIndex: number;
  /** Index of the payload's first byte inside the WebSocket payload: the mask phase to patch with. */
  readonly keyPhase: number;
  readonly payloadBytes: number;

  /** @throws RangeError as SocketIoNamespace.buildEvent, or for a mask key that is not 4 bytes */
  constructor(ns: SocketIoNamespace, payload: Buffer, maskKey: Buffer) {
    this.frame = new PrebuiltFrame(Opcode.Text, ns.buildEvent(payload), maskKey);
    this.keyPhase = ns.payloadOffset;
    this.payloadIndex = this.frame.payloadOffset + ns.payloadOffset;
    this.payloadBytes = payload.length;
  }
}
