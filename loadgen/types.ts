import type { CapacityDimension, CapacitySlo, DeliveryCounts, ErrorKind, HistogramSummary, LoadClient, OpenLoopCounts, SaturationVerdict, SlowConsumerResult, TimelineBucket, WorkerStats } from '../schema/result.js';
export type { DeliveryCounts, ErrorKind, LoadClient, OpenLoopCounts, SaturationVerdict, SlowConsumerResult, TimelineBucket, WorkerStats };

/**
 * What a server speaks on top of RFC 6455: bare WebSocket messages, or Socket.IO v5 over Engine.IO v4 (the
 * stacks, servers/CONTRACT.md "Stacks"), which the load generator then speaks too (loadgen/protocol/socketio.ts).
 */
export type ServerProtocol = 'websocket' | 'socket.io';

/**
 * The load generator's library API types: what the orchestrator asks for (a
 * LoadPlan) and what comes back (a LoadResult). Plans are plain data so they
 * can be sent to worker processes over IPC.
 */

export type MessageKind = 'binary' | 'text';

export type SizeSpec =
  | { type: 'fixed'; bytes: number }
  | { type: 'uniform'; minBytes: number; maxBytes: number }
  | { type: 'lognormal'; medianBytes: number; sigma: number; minBytes?: number; maxBytes?: number }
  | { type: 'weighted'; choices: { bytes: number; weight: number }[] };

/**
 * What a WebSocket model sends. `binary` and `text` are the synthetic payloads of payload.ts (sized by `size`);
 * `json` is a JSON template with generated fields (loadgen/template.ts), sent as text: its size is the
 * template's own, or follows `size` when the template has a `{{pad}}` field.
 */
export type MessageShape =
  | { kind: MessageKind; size: SizeSpec }
  | { kind: 'json'; template: Record<string, unknown>; size?: SizeSpec };

/** Closed loop: each connection keeps `depth` messages in flight; measures capacity, not latency. */
export interface ClosedModel {
  model: 'closed';
  /** Messages in flight per connection (pipelining depth), ≥ 1. */
  depth: number;
}

/** Open loop: an aggregate rate over all connections; latency from the intended send time. */
export interface OpenModel {
  model: 'open';
  /** Aggregate messages per second over all connections. */
  ratePerSec: number;
  arrivals: 'constant' | 'poisson';
}

/** Broadcast: publishers send at a rate into rooms; every member (publisher included) receives. */
export interface BroadcastModel {
  model: 'broadcast';
  /** Connections that publish; they also receive (publish-to-self is on). */
  publishers: number;
  /** Messages per second per publisher. */
  ratePerSecPerPublisher: number;
  /** Connections are spread over this many rooms round-robin. */
  rooms: number;
  /** How publish times are spread: evenly (default) or as a Poisson process. */
  arrivals?: 'constant' | 'poisson';
  /**
   * Bursts (chat): each scheduled arrival is, with `probability`, a burst of `messages` messages from the
   * same publisher `gapMs` apart instead of one message. The rate counts arrivals, not messages.
   */
  burst?: { probability: number; messages: number; gapMs: number };
  /**
   * Join and leave during the run (dashboard): subscribers (never publishers) leave at this aggregate rate
   * and rejoin as a new connection after `rejoinAfterMs`. Their deliveries are checked inside each
   * membership (gaps count as lost); messages at the edges of a membership are not counted either way.
   */
  churn?: { leavesPerSec: number; rejoinAfterMs: number };
  /**
   * Slow consumers: this many subscribers (never publishers) read at most `readBytesPerSec` during the
   * window, then read freely in the drain, so what the server dropped, buffered or closed is counted
   * exactly. They are reported apart (`LoadResult.slowConsumers`) and not in `delivery`.
   */
  slowConsumers?: { count: number; readBytesPerSec: number };
}

/**
 * Voice agent (route /relay): each connection is a session that streams one audio event (the scenario's
 * `message`, a JSON template) every `frameIntervalMs` on an open-loop schedule, and after every
 * `framesPerTurn` audio events a `{"type":"response.create","turn_id":…}` control event. The server relays
 * both to the simulated upstream, whose reply chunks it relays back; the model measures the time to the
 * first chunk, the relay's share of it, and the jitter between chunks.
 */
export interface VoiceModel {
  model: 'voice';
  /** Gap between a session's audio events, ms (20 = one 20 ms frame per event). */
  frameIntervalMs: number;
  /** Audio events per turn; then the session sends response.create (it keeps streaming meanwhile). */
  framesPerTurn: number;
  /** The simulated upstream's settings, as in upstream/config.ts (latency as `uniform:200:800` etc.). */
  upstream: { latency: string; chunks: number; chunkIntervalMs: number; chunkAudioBytes: number; seed: number };
}

/** Idle: open the connections and hold them; nothing is sent (memory per connection). */
export interface IdleModel {
  model: 'idle';
  /**
   * Open the connections in this many equal steps, each held until the server's RSS settles, so bytes per
   * connection is the slope of a least-squares fit (core/ceiling.ts). 1 or absent: all at once, one plateau.
   */
  steps?: number;
}

/**
 * Ceiling search: open connections in equal steps up to the scenario's `connections`, hold each plateau (RSS
 * settles idle, then heartbeats on every connection), and stop at the first plateau that breaks the SLO.
 * Run by core/ceiling.ts with the load generator's ceiling session (loadgen/ceiling-run.ts), not by runLoad.
 */
export interface CeilingModel {
  model: 'ceiling';
  /** Equal steps from 0 to the scenario's `connections`; each step ends in a plateau. */
  steps: number;
  /** Light traffic at each plateau: every connection sends one `bytes`-byte message per `intervalMs`; null: none (memory only). */
  heartbeat: { kind: 'echo' | 'ping'; intervalMs: number; bytes: number } | null;
  /** The service level a plateau must meet; the first plateau that breaks any bound ends the search. */
  slo: {
    /** Heartbeat round-trip p99 bound, ms. */
    heartbeatP99Ms: number;
    /** Bound on failed connects / attempted connects, and on lost heartbeats / sent heartbeats (each), as a fraction. */
    maxErrorRatio: number;
    /** Settled server RSS bound, MiB; null: no memory budget. */
    memoryBudgetMiB: number | null;
    /** Server CPU bound over the heartbeat window, % of the CPUs the server may use. */
    maxServerCpuPct: number;
  };
  /** When RSS counts as settled at a plateau: within ±tolerancePct for windowMs, or timeoutMs with a warning. */
  settle: { tolerancePct: number; windowMs: number; timeoutMs: number };
  /** Bisection steps between the last good and the first bad plateau (0: none). */
  bisectSteps: number;
  /** Stop this many connections short of the server's open-file limit instead of running into it (0: run into it). */
  stopShortOfFdLimitBy: number;
  /** Spread the load generator's connections over this many source addresses 127.0.0.2… (1: do not bind). */
  sourceAddresses: number;
}

/**
 * Capacity at an SLO: a fixed-rate workload (open loop, broadcast, voice) run at rising levels of one dimension,
 * each plateau a fresh load on the same server, judged against the SLO, with bisection between the last good
 * and the first bad level. Run by core/capacity.ts, plateau by plateau through runLoad; never sent to a worker
 * (each plateau's plan carries the workload at its level).
 */
export interface CapacityModel {
  model: 'capacity';
  /** The load at the scenario's `connections` (the reference the levels scale from). */
  workload: OpenModel | BroadcastModel | VoiceModel;
  /**
   * What a level counts: `rate` (open loop: the aggregate msg/s, connections fixed), `connections` (open loop:
   * connections, each at the reference's rate per connection), `sessions` (voice), `members` (broadcast: room
   * members, rooms of the reference's size with its share of publishers).
   */
  dimension: CapacityDimension;
  /** The levels to step through, increasing. */
  levels: number[];
  /** Bisection steps between the last good and the first bad level (0: none). */
  bisectSteps: number;
  slo: CapacitySlo;
  /** Units to project servers for (the scenario's; `--for` wins); null: none. */
  projectFor: number | null;
}

/** Plain HTTP against /health, driven by autocannon (keep-alive connections, optional pipelining). */
export interface HttpModel {
  model: 'http';
  /** Requests in flight per connection. */
  pipelining: number;
}

export type LoadModel = ClosedModel | OpenModel | BroadcastModel | IdleModel | HttpModel | CeilingModel | VoiceModel | CapacityModel;

export interface LoadPlan {
  /** ws://host:port/path of the server. */
  url: string;
  connections: number;
  load: LoadModel;
  message: MessageShape;
  warmupMs: number;
  durationMs: number;
  /** After the measured window: stop sending, wait up to this long for what is in flight, count the rest as lost. */
  drainTimeoutMs: number;
  /** Connect pacing: handshakes in flight at once (per worker), and an optional total rate. */
  connect: { maxInFlight: number; ratePerSec?: number; timeoutMs: number };
  /** Worker processes to spread connections over (default: the number of load-generator CPUs). */
  workers: number;
  /** CPUs for the workers (taskset list); worker i gets the i-th CPU of the list when there are enough. */
  cpus?: string;
  /** Which client implementation: our raw client, or a library as a cross-check (`ws` for `websocket`, `socketio` for `socket.io`). */
  client: LoadClient;
  /**
   * What the server speaks (default `websocket`). With `socket.io` every connection is an Engine.IO session on
   * `/socket.io/?EIO=4&transport=websocket` joined to the route as a namespace (its query in the handshake's),
   * open only once the namespace acknowledged it, and every message a `message` event.
   */
  protocol?: ServerProtocol;
  /**
   * Another process of the run (the simulated upstream of a voice case) shares the load generator's CPUs: workers
   * then never spin-wait for send times, which would take the CPU from it, and use timers instead.
   */
  cpusShared?: boolean;
  seed: number;
  /**
   * This plan is one segment of a scenario that several processes run at once (loadgen/segment.ts; built by
   * loadgen/segment-run.ts). `connections` above stays the scenario's total, so that every id keeps its global
   * role; this process opens `connections` ids from `firstConnId` on. A broadcast's receivers then defer the
   * streams of other segments' publishers to the merge (WorkerResult.deferred).
   */
  segment?: PlanSegment;
}

/** The segment part of a LoadPlan: which segment, and its global connection ids. */
export interface PlanSegment {
  /** 0-based, as JOB_COMPLETION_INDEX. */
  index: number;
  count: number;
  /** This segment's ids are [firstConnId, firstConnId + connections). */
  firstConnId: number;
  connections: number;
}







export interface LoadResult {
  /** Round-trip (echo) or delivery (broadcast) latency, µs, measured window only. */
  latency: HistogramSummary;
  latencyEncoded: string;
  /** Handshake time (TCP connect to 101), µs. */
  connect: HistogramSummary;
  connectEncoded: string;
  /** Broadcast only: time from publish to the last recipient, µs. */
  lastRecipient?: HistogramSummary;
  lastRecipientEncoded?: string;
  timeline: TimelineBucket[];
  connectionsOpened: number;
  connectionsFailed: number;
  /** Time to open all connections, ms. */
  connectPhaseMs: number;
  errors: Partial<Record<ErrorKind, number>>;
  /** Connections the server closed (or reset) while the load ran, by the close code seen; 1006: no close frame. Each connection once. */
  closes: { codes: Record<string, number> };
  delivery: DeliveryCounts;
  openLoop?: OpenLoopCounts;
  workers: WorkerStats[];
  saturation: SaturationVerdict;
  /** Length of the measured window actually achieved, ms. */
  measuredMs: number;
  /** Voice model only. */
  voice?: VoiceResult;
  /** Broadcast with slow consumers only. */
  slowConsumers?: SlowConsumerResult;
  /** Broadcast with churn only. */
  churn?: { leaves: number; rejoins: number; failedRejoins: number };
}

/** What the voice model measured (turns triggered inside the measured window). */
export interface VoiceResult {
  /** From a turn's response.create (its intended send time) to the arrival of its first reply chunk, µs. */
  firstChunk: HistogramSummary;
  firstChunkEncoded: string;
  /** The relay's share of the first-chunk time: relay in (trigger sent → upstream received it) + relay out (first chunk sent → received), µs. */
  relayOverhead: HistogramSummary;
  relayOverheadEncoded: string;
  /** Per consecutive chunk pair of a turn: |gap between arrivals − gap between the upstream's sends|, µs. */
  jitter: HistogramSummary;
  jitterEncoded: string;
  audioEventsSent: number;
  controlEventsSent: number;
  turnsTriggered: number;
  /** Turns whose response.done arrived. */
  turnsCompleted: number;
  /** Reply events owed for the triggered turns (chunks + response.done each). */
  repliesExpected: number;
  repliesReceived: number;
  /** Reply events for another session, an unknown turn, or with audio other than the upstream sends (cross-talk, corruption). */
  repliesCorrupted: number;
}


/** Progress events sent while a load runs (about once a second). */
export interface LoadProgress {
  phase: 'connecting' | 'warmup' | 'measure' | 'drain';
  connectionsOpen: number;
  /** Messages received in the last second, over all workers. */
  recvPerSec: number;
  elapsedMs: number;
}
