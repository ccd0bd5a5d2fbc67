/**
 * Minimal ambient types for the `Bun` and `Deno` globals that servers/bun.ts,
 * servers/bun-socketio.ts and servers/deno.ts use. The project depends on neither bun-types nor Deno's
 * lib, so only the members those two files call are declared, with the
 * signatures documented by each runtime. Both globals are `| undefined`
 * because this declaration is visible to code that runs on Node, where they
 * do not exist; each server checks for its runtime before using it.
 */

/** Bun.serve's per-server WebSocket handler and settings (bun.sh/reference/bun/WebSocketHandler). */
interface BunWebSocketHandler<T> {
  open?(ws: BunServerWebSocket<T>): void;
  /** Text arrives as a string, binary as a Buffer (the default binaryType "nodebuffer"). */
  message(ws: BunServerWebSocket<T>, message: string | Uint8Array): void;
  close?(ws: BunServerWebSocket<T>, code: number, reason: string): void;
  /** Bytes; Bun's default is 16 MiB. */
  maxPayloadLength?: number;
  /** Bytes buffered per connection beyond which send() drops and returns 0; 0 = no limit. */
  backpressureLimit?: number;
  closeOnBackpressureLimit?: boolean;
  /** Seconds; 0 disables. Bun's default is 120. */
  idleTimeout?: number;
  perMessageDeflate?: boolean;
  /** Whether Bun sends pings to keep idleTimeout's connections alive; default true. */
  sendPings?: boolean;
  /** Whether ws.publish() (per socket) also delivers to the sender; server.publish() always does. */
  publishToSelf?: boolean;
}

interface BunServerWebSocket<T> {
  readonly data: T;
  /** Returns bytes sent, -1 when queued under backpressure, 0 when dropped. */
  send(data: string | ArrayBufferView | ArrayBuffer, compress?: boolean): number;
  subscribe(topic: string): void;
  close(code?: number, reason?: string): void;
}

interface BunServer {
  readonly hostname: string;
  readonly port: number;
  /** False when the request is not a valid WebSocket upgrade; then the handler must answer it. */
  upgrade<T>(request: Request, options?: { data?: T }): boolean;
  /** Delivers to every subscriber of the topic, the sender included. */
  publish(topic: string, data: string | ArrayBufferView | ArrayBuffer, compress?: boolean): number;
  /** Stops listening; with true, also closes active connections. */
  stop(closeActiveConnections?: boolean): Promise<void>;
}

interface BunServeOptions<T> {
  hostname: string;
  port: number;
  /** undefined after a successful upgrade; a Promise where the answer is asynchronous (bun-socketio's engine). */
  fetch(request: Request, server: BunServer): Response | undefined | Promise<Response | undefined>;
  websocket: BunWebSocketHandler<T>;
}

interface BunGlobal {
  readonly version: string;
  serve<T>(options: BunServeOptions<T>): BunServer;
}

/** Deno.serve's server handle (docs.deno.com/api/deno/~/Deno.HttpServer). */
interface DenoHttpServer {
  /** Stops accepting and resolves once in-flight requests are done. */
  shutdown(): Promise<void>;
}

interface DenoServeOptions {
  hostname: string;
  port: number;
  onListen?(addr: { hostname: string; port: number }): void;
}

interface DenoGlobal {
  readonly version: { readonly deno: string };
  readonly pid: number;
  readonly env: { get(key: string): string | undefined };
  exit(code?: number): never;
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  serve(options: DenoServeOptions, handler: (request: Request) => Response): DenoHttpServer;
  /** idleTimeout in seconds, 0 disables (Deno's default is 120). There is no max-payload option. */
  upgradeWebSocket(request: Request, options?: { idleTimeout?: number }): { socket: WebSocket; response: Response };
}

declare var Bun: BunGlobal | undefined;
declare var Deno: DenoGlobal | undefined;
