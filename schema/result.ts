import type { ParityManifest, RelayInfo, StackManifest, StackSettings } from '../servers/settings.js';

/**
 * The result file of `bench run`: versioned, self-describing (tool, revision,
 * command line, environment, settings), and holding every repetition's raw
 * figures and encoded histograms, so that reports and comparisons can be
 * recomputed from it alone. Bump RESULT_SCHEMA_VERSION on any incompatible change.
 */
export const RESULT_SCHEMA_VERSION = 3;

export type CellStatus = 'pending' | 'running' | 'completed' | 'errored' | 'skipped';

/**
 * A measurement-quality problem as data: its code and the figures it is about. Reports word it
 * (report/warnings.ts), so the words always agree with the numbers and can change without measuring again.
 * A summary row's warning also says in how many of its repetitions it was raised (`repetitions`).
 */
export type Warning = WarningData & { repetitions?: { count: number; of: number } };

export type WarningData =
  /** The load generator limited the window (`reasons`); at a ceiling: the connection counts where it fell behind. */
  | { code: 'loadgen-bound'; reasons: SaturationReason[]; atConnections?: number[] }
  /**
   * A scheduled load missed its rate. `part` names which part fell short: `server` (the generator kept its
   * schedule, replies fell short), `loadgen` (the generator was busy), `server-reads` (sends left late while the
   * generator was not busy: the server stopped reading and the sockets filled).
   */
  | { code: 'rate-missed'; targetPerSec: number; sentPerSec: number; receivedPerSec: number | null; sent: number; late: number; dropped: number; held?: number; part: 'server' | 'loadgen' | 'server-reads' }
  /** Server RSS grew by `growthPct`% during the window and was still rising. */
  | { code: 'rss-growing'; growthPct: number }
  /**
   * Messages lost, duplicated, corrupted, out of order or delivered where they were not owed, connections the
   * server closed (with the close codes seen; 1006: no close frame) and connects that failed.
   */
  | {
      code: 'delivery-errors';
      lost: number;
      duplicated: number;
      corrupted: number;
      outOfOrder: number;
      misdelivered: number;
      closedByServer: number;
      failedConnects: number;
      closeCodes: Record<string, number>;
      /** A stepped idle run: the connection count where connections were lost. */
      atConnections?: number;
    }
  /** The simulated upstream was busy (`cpuPct` of a core) or dropped reply chunks. */
  | { code: 'upstream-bound'; cpuPct: number; chunksDropped: number }
  /** A user's server printed no ready line: its settings are unchecked. */
  | { code: 'parity-unknown' }
  /**
   * The server could not be observed: no pid (`no-pid`), no process of a command's group listened on `port`
   * (`no-listener`), or it ran on another machine than the load segments whose results were merged (`remote`).
   */
  | { code: 'server-unobserved'; reason: 'no-pid' | 'no-listener' | 'remote'; port?: number; pid?: number }
  /**
   * Load segments' clocks disagreed more than the figures can bear (`boundMs`): the offset estimated between
   * segment `from` and `segment` from their first arrivals of the same broadcast messages (`cross-segment`,
   * bound: a share of the latency p50), or a segment's wall clock moved against its monotonic clock during its
   * run (`wall-step`), or a segment was ready only after the agreed start (`late-start`, its warmup shortened);
   * those two bound by a share of the window.
   */
  | { code: 'clock-offset'; basis: 'cross-segment' | 'wall-step' | 'late-start'; segment: number; from?: number; offsetMs: number; boundMs: number }
  /** The server was not confined to its CPUs: not pinned, not started by bench, or `stray` of `threads` threads outside `cpus`. */
  | { code: 'server-cpu-unpinned'; reason: 'not-pinned' | 'not-started' | 'stray-threads'; stray?: number; threads?: number; cpus?: string }
  /** The server ignored SIGTERM for `graceMs` and was killed. */
  | { code: 'server-killed'; graceMs: number }
  /** A plateau's server RSS did not settle within ±tolerancePct over windowMs before timeoutMs. */
  | { code: 'rss-unsettled'; connections: number; tolerancePct: number; windowMs: number; timeoutMs: number }
  /** Summary rows: the repetitions spread more than HIGH_SPREAD_PCT (MAD/median). */
  | { code: 'high-spread'; spreads: { figure: 'msgs/s' | 'p99 latency'; madPct: number }[]; n: number }
  /** Summary rows: one repetition completed (of `of`): no spread, no verdict. */
  | { code: 'single-run'; of: number };

export type WarningCode = WarningData['code'];

export interface ServerInfo {
  pid: number;
  runtime: string;
  runtimeVersion: string;
  library: string;
  libraryVersion: string;
  /** Executable as read from /proc/<pid>/exe. */
  exe: string;
  /** The effective settings it reported; null for a user's server that printed no ready line. */
  settings: ParityManifest | null;
  /** CPU list every thread was confined to (null when not pinned). */
  cpus: string | null;
  startupMs: number;
  /** Voice cells: how the server's /relay route reached the upstream (its client library differs by runtime, by design). */
  relay?: RelayInfo;
  /** A Socket.IO stack's framework, engine, WebSocket library and Engine.IO settings, from its ready line (servers/CONTRACT.md, "Stacks"). */
  stack?: StackManifest;
}

/** Voice-agent figures (`/relay` through the simulated upstream), from turns triggered in the measured window. */
export interface VoiceMetrics {
  /** response.create → first reply chunk, as the client sees it (think time included). */
  firstChunkUs: HistogramSummary;
  /** What the relay's two legs added to the first chunk: relay in (trigger → upstream) + relay out (first chunk → client), from the upstream's timestamps. */
  relayOverheadUs: HistogramSummary;
  /** |inter-arrival gap − upstream inter-send gap| between consecutive chunks of a turn. */
  jitterUs: HistogramSummary;
  turnsTriggered: number;
  turnsCompleted: number;
  audioEventsSent: number;
  controlEventsSent: number;
  repliesExpected: number;
  repliesReceived: number;
  repliesCorrupted: number;
  /** Messages the server relayed in the window, both directions (client → upstream and upstream → client). */
  relayedMsgs: number;
  /** Server CPU µs per relayed message (also the cell's serverCpuUsPerMsg). */
  serverCpuUsPerRelayedMsg: number | null;
  /** (Server RSS at the window's start − baseline) / sessions: a session is a client socket plus its upstream socket. */
  bytesPerSession: number | null;
  /** The simulated upstream over the window: its own CPU (to show it was not the limit) and what it counted. */
  upstream?: {
    pid: number;
    cpus: string | null;
    cpuUtilPct: number;
    eventsReceived: number;
    chunksSent: number;
    chunksDropped: number;
  };
}

/** What a broadcast's slow subscribers met, and what it cost the server. */
export interface SlowConsumerMetrics extends SlowConsumerResult {
  /** What the server's policy did to them: dropped messages, closed them, or buffered everything (nothing missing). */
  outcome: 'drops' | 'closes' | 'buffers';
  /** Server RSS at the window's end minus at its start (growth while the slow consumers fell behind). */
  rssGrowthBytes: number;
  /** Server peak RSS minus RSS at the window's start. */
  rssPeakGrowthBytes: number;
}

/** Figures of one cell (one runtime × case × repetition). Units are in the names. */
export interface CellMetrics {
  /** Median of the 1-second buckets of received messages in the measured window. */
  msgsPerSec: number;
  /** Same, of sent messages. */
  sentMsgsPerSec: number;
  /** True when the load generator limited this cell: the rate is a lower bound of the server's capacity. */
  throughputIsLowerBound: boolean;
  latencyUs: HistogramSummary;
  connectUs: HistogramSummary;
  lastRecipientUs?: HistogramSummary;
  /** Server CPU time (user + system) per received message, µs, measured window only. */
  serverCpuUsPerMsg: number | null;
  /** Server CPU time over the window as % of one core. */
  serverCpuUtilPct: number;
  /** Messages per server CPU-second: work per unit of CPU. */
  msgsPerServerCpuSec: number | null;
  rssBaselineBytes: number;
  rssPeakBytes: number;
  rssEndBytes: number;
  /** (RSS after connecting − baseline) / connections. */
  bytesPerConnection: number | null;
  serverThreads: number;
  serverFds: number;
  errors: Partial<Record<ErrorKind, number>>;
  delivery: DeliveryCounts;
  openLoop?: OpenLoopCounts;
  loadgen: { workers: WorkerStats[]; saturation: SaturationVerdict };
  /** HTTP scenarios (autocannon): requests per second and non-2xx responses. */
  http?: { requestsPerSec: number; non2xx: number };
  /** Ceiling scenarios: the search, its stop and the plateau series (core/ceiling.ts). */
  ceiling?: CeilingMetrics;
  /** Capacity scenarios: the most load that met the SLO, per core, what broke first, the cost there (core/capacity.ts). */
  capacity?: CapacityMetrics;
  /** Idle scenarios opened in steps: memory per connection as a fit over the plateaus (`bytesPerConnection` is its slope). */
  memory?: MemoryPerConnection;
  /** Voice-agent scenarios: the relay's figures. */
  voice?: VoiceMetrics;
  /** Broadcast scenarios with slow consumers. */
  slowConsumers?: SlowConsumerMetrics;
  /** Broadcast scenarios with join and leave during the run. */
  churn?: { leaves: number; rejoins: number; failedRejoins: number };
  /**
   * Fixed-rate models: whether the server carried the offered load (delivered ≥ 99% of what the schedule sent,
   * every turn answered): where it did not, its CPU per message is not comparable (an overloaded server batches).
   */
  sustained?: boolean;
}

/**
 * Why a ceiling search stopped. Runtime limits: `latency`, `errors`, `memory`, `cpu`, `crash`. Environment
 * limits: `fd-limit` (the server's open-file limit), `fd-margin` (stopped short of it on request),
 * `loadgen-ports`, `loadgen-fds`, `loadgen-saturated` (this machine's load generator fell behind).
 * `max-connections`: the search reached the scenario's maximum within the SLO.
 */
export type CeilingCause =
  | 'latency'
  | 'errors'
  | 'memory'
  | 'cpu'
  | 'crash'
  | 'fd-limit'
  | 'fd-margin'
  | 'loadgen-ports'
  | 'loadgen-fds'
  | 'loadgen-saturated'
  | 'max-connections';

/** Whose limit stopped the search: the runtime's own, the environment's (it has not shown its ceiling), or none. */
export type LimitClass = 'runtime' | 'environment' | 'none';

/** How a server behaved at its open-file limit, as observed. */
export type FdLimitBehaviour = 'exited' | 'closes-extra' | 'spins' | 'stalls';

/** One plateau of a ceiling search (or of a stepped idle run): what the server and the heartbeats showed there. */
export interface CeilingPlateau {
  /** Connections the step aimed at, and connections open at the end of the plateau. */
  targetConnections: number;
  connections: number;
  /** True for a plateau of the bisection (reached by closing connections from the first bad plateau). */
  bisection: boolean;
  /** Settled server RSS with no traffic, bytes; null when the server could not be observed. */
  rssIdleBytes: number | null;
  rssIdleSettled: boolean;
  /** Settled server RSS during the heartbeats, bytes (= rssIdleBytes without heartbeats). */
  rssBytes: number | null;
  rssSettled: boolean;
  /** Heartbeat round trips in the measured window, µs; null without heartbeats. */
  p50Us: number | null;
  p99Us: number | null;
  maxUs: number | null;
  heartbeatsSent: number;
  heartbeatsLost: number;
  connectAttempted: number;
  connectFailed: number;
  /** Client-side errors of the step and the plateau (failed connects and drops, by kind). */
  errors: Partial<Record<ErrorKind, number>>;
  /** Open connections the server closed or reset during the plateau. */
  drops: number;
  /** Server CPU during the heartbeats, and while idle (settling), % of one core; null when unobserved. */
  cpuPct: number | null;
  idleCpuPct: number | null;
  fds: number | null;
  threads: number | null;
  /** Kernel TCP buffer memory of the whole machine (/proc/net/sockstat), bytes. */
  kernelTcpMemBytes: number | null;
  /** Kernel slab objects in use on the whole machine (/proc/slabinfo, root only), bytes: where sockets themselves live. */
  kernelSlabBytes: number | null;
  /** Time the step took to open (or close) its connections, ms. */
  connectMs: number;
  /** The load generator fell behind during the heartbeats (its latency is then partly its own). */
  loadgenSaturated: boolean;
  /** Whether the plateau met the SLO (= verdict.ok). */
  ok: boolean;
  /** Why not, as data; reports word it (report/ceiling.ts). */
  verdict: PlateauVerdict;
}

/**
 * A plateau's verdict as data: whether it met the SLO and, if not, the cause, whose limit it was, and what
 * the words need beyond the plateau's own figures. Reports word it (report/ceiling.ts); stored results keep
 * no prose, so the wording can change without measuring again.
 */
export interface PlateauVerdict {
  ok: boolean;
  cause?: CeilingCause;
  limitClass?: LimitClass;
  /** `errors`: which error bounds broke (failed connects, dropped connections, heartbeats without a reply). */
  broken?: ('connects' | 'drops' | 'heartbeats')[];
  /** `crash`, `fd-limit`: how the server ended ("code 1", "SIGSEGV"), when it did. */
  serverExit?: string;
  /** `crash`, `fd-limit`: the server's last relevant stderr line (its own words, escape codes removed). */
  serverSaid?: string;
  /** `fd-limit`: what the server did at its open-file limit. */
  atFdLimit?: FdLimitBehaviour;
  /** `loadgen-ports`, `loadgen-fds`: connects that failed with those errnos. */
  failedConnects?: number;
  /** `loadgen-saturated`: why the load generator fell behind. */
  loadgenReasons?: SaturationReason[];
}

/** A least-squares line of settled RSS (bytes) against open connections over the plateaus (stats linearRegression). */
export interface MemoryFit {
  bytesPerConnection: number;
  interceptBytes: number;
  r2: number;
  n: number;
  /** The fitted points: [connections, bytes]. */
  points: [number, number][];
}

/** Memory per connection: fits idle and with heartbeats, kernel socket memory beside them, and projections. */
export interface MemoryPerConnection {
  idle: MemoryFit | null;
  active: MemoryFit | null;
  /**
   * Kernel memory per socket, which RSS does not include, as slopes against connections of machine-wide figures,
   * halved (on loopback every connection is two sockets): TCP buffer pages (/proc/net/sockstat; about 0 for idle
   * sockets) and slab objects (/proc/slabinfo, readable by root only: the sockets themselves). Null when unmeasured.
   */
  kernel: { buffersBytesPerSocket: number | null; slabBytesPerSocket: number | null; slabR2: number | null };
  /**
   * Projections, labelled as such: connections a server process could hold within `budgetBytes` of RSS,
   * (budget − fitted intercept) ÷ bytes per connection, from the `basis` fit. Kernel socket memory not included.
   */
  projections: { budgetBytes: number; connections: number; basis: 'active' | 'idle' }[];
}

/** A ceiling search: where it stopped, why, whose limit it was, the plateau series and memory per connection. */
export interface CeilingMetrics {
  /** The last plateau that met the SLO when the runtime's own limit stopped the search; null when not reached. */
  ceilingConnections: number | null;
  /** Most connections held within the SLO, whatever stopped the search. */
  lastGoodConnections: number;
  /** Connections of the first plateau that broke the SLO (null when none did). */
  firstBadConnections: number | null;
  /** True when `ceilingConnections` is from bisection, or interpolated between plateaus for a memory budget. */
  refined: 'bisection' | 'interpolated' | null;
  cause: CeilingCause;
  limitClass: LimitClass;
  /** Why the search stopped, as data: the first bad plateau's verdict, or how it ended without one. */
  stop: PlateauVerdict;
  /** The server's open-file limit (soft RLIMIT_NOFILE from /proc), null when unknown. */
  openFileLimit: number | null;
  /** The scenario's maximum (its `connections`), and the requested margin to the open-file limit. */
  maxConnections: number;
  stopShortOfFdLimitBy: number;
  /** The SLO as applied. */
  slo: { heartbeatP99Ms: number; maxErrorRatio: number; memoryBudgetMiB: number | null; maxServerCpuPct: number };
  plateaus: CeilingPlateau[];
  memory: MemoryPerConnection;
  /** Wall time of the whole search, ms. */
  searchMs: number;
}

// ---- capacity at an SLO (core/capacity.ts) ----

/**
 * Why a capacity search stopped. The runtime's limits: `latency` (a latency bound of the SLO), `loss` (messages
 * lost, connects refused, connections closed beyond the loss bound), `cpu` (server CPU at its bound), `memory`
 * (RSS above the budget), `crash`. This machine's: `loadgen` (the load generator fell behind), `upstream` (the
 * simulated model service of a voice workload was busy). `max-level`: every level met the SLO.
 */
export type CapacityCause = 'latency' | 'loss' | 'cpu' | 'memory' | 'crash' | 'loadgen' | 'upstream' | 'max-level';

/** What a capacity search's load level counts: an aggregate rate, connections, voice sessions or room members. */
export type CapacityDimension = 'rate' | 'connections' | 'sessions' | 'members';

/** The service level every plateau of a capacity search must meet (loadgen/models/capacity.ts has the defaults). */
export interface CapacitySlo {
  /**
   * Bound on the workload's own latency p99, ms: the echo round trip (open loop), the delivery to every member
   * (broadcast), the relay's share of the first reply chunk (voice).
   */
  latencyP99Ms: number;
  /** Voice: bound on the time to the first reply chunk p99 (think time included), ms; null: none. */
  firstChunkP99Ms: number | null;
  /** Broadcast: bound on the time until the last member of a room has a message, p99, ms; null: none. */
  lastMemberP99Ms: number | null;
  /** Bound on lost (and corrupted or misdelivered) messages ÷ owed, on failed connects ÷ connections, and on connections the server closed ÷ connections, each as a fraction. */
  maxLossRatio: number;
  /** Bound on server CPU over the window, % of the CPUs it may use. */
  maxServerCpuPct: number;
  /** Bound on server RSS at the end of the window, MiB; null: no budget. */
  memoryBudgetMiB: number | null;
}

/** A capacity plateau's verdict as data; reports word it (report/capacity.ts). */
export interface CapacityVerdict {
  ok: boolean;
  cause?: CapacityCause;
  limitClass?: LimitClass;
  /** `latency`: which bounds broke: the workload's latency, the voice first chunk, the broadcast last member. */
  latency?: ('latency' | 'firstChunk' | 'lastMember')[];
  /** `loss`: which ratios broke: messages, connects, connections the server closed. */
  loss?: ('messages' | 'connects' | 'closes')[];
  /** `crash`: how the server ended ("code 1", "SIGSEGV") and its last stderr line, when known. */
  serverExit?: string;
  serverSaid?: string;
  /** `loadgen`: why the load generator fell behind (loadgen/saturation.ts). */
  loadgenReasons?: SaturationReason[];
  /**
   * `loadgen` on a plateau that met the SLO: the level held, but the generator was saturated at it, so no higher
   * level could be offered (the plateau counts as good and the search ends there).
   */
  lastLevel?: boolean;
  /**
   * Percentile bounds left unjudged at this plateau: their histogram held fewer than `minSamples` samples (a p99
   * from fewer than 100 is the sample maximum: loadgen/models/capacity.ts MIN_SAMPLES_FOR_P99), even with the
   * plateau lengthened to its cap. Never a breach; absent when every bound had its samples.
   */
  tooFewSamples?: { bound: 'latency' | 'firstChunk' | 'lastMember'; samples: number; minSamples: number }[];
}

/** One plateau of a capacity search: a fresh load at one level on the same server process, judged. */
export interface CapacityPlateau {
  /** The level the plateau ran at (its dimension's unit), and the connections it opened / asked for. */
  level: number;
  bisection: boolean;
  connections: number;
  opened: number;
  /** Messages per second the load offered (the schedule's target: sends, or publishes), sent, and received. */
  offeredPerSec: number;
  sentPerSec: number;
  msgsPerSec: number;
  /** The workload's latency (the SLO's latencyP99Ms figure), µs; null when nothing was measured. */
  latencyP50Us: number | null;
  latencyP99Us: number | null;
  /** Voice: first reply chunk p99; broadcast: last member p99, µs; null otherwise. */
  firstChunkP99Us: number | null;
  lastMemberP99Us: number | null;
  /** Messages owed in the window and how many were lost, corrupted or misdelivered. */
  expected: number;
  lost: number;
  faulty: number;
  failedConnects: number;
  closedByServer: number;
  /** Server CPU over the window, % of one core; per received (voice: relayed) message, µs. */
  serverCpuPct: number | null;
  serverCpuUsPerMsg: number | null;
  /** Server RSS at the end of the window (the load still on), bytes. */
  rssBytes: number | null;
  loadgenSaturated: boolean;
  /** The busiest load-generator CPU list, % of its CPUs (spin-waiting workers excluded). */
  loadgenCpuPct: number | null;
  /** Voice: the simulated upstream's CPU over the window (% of one core) and reply chunks it dropped. */
  upstreamCpuPct: number | null;
  upstreamChunksDropped: number | null;
  ok: boolean;
  verdict: CapacityVerdict;
  /** The measured window, s, when lengthened past the scenario's durationSec so each percentile bound gets its samples (loadgen/models/capacity.ts plateauDurationSec). */
  durationSec?: number;
}

/** Capacity at an SLO: where the search stopped, why, what the load cost there, and projections labelled as such. */
export interface CapacityMetrics {
  workload: 'open' | 'broadcast' | 'voice';
  dimension: CapacityDimension;
  /**
   * The last level that met the SLO (the bisection's, or interpolated to the memory budget, when `refined`);
   * null when even the first level broke it.
   */
  capacity: number | null;
  /** True when not the server but this machine (load generator, upstream) or the end of the levels stopped the search: the server carries at least `capacity`. */
  lowerBound: boolean;
  refined: 'bisection' | 'interpolated' | null;
  /** capacity ÷ serverCpus, when the server was pinned (null when unpinned: its cores are unknown). */
  perCore: number | null;
  /** CPUs the server was pinned to (its taskset list's size), or the CPUs it could use when unpinned. */
  serverCpus: number;
  serverPinned: boolean;
  /** The last stepped level that met the SLO, and the first that did not. */
  lastGood: number | null;
  firstBad: number | null;
  cause: CapacityCause;
  limitClass: LimitClass;
  /** The verdict that stopped the search, with the level it was taken at (null: the levels ran out). */
  stop: CapacityVerdict & { level: number | null };
  /** `loadgen` and `upstream`: which part of the machine was the limit, on which CPUs (shared: the upstream ran on the load generator's). */
  limit?: { part: 'loadgen' | 'upstream'; cpus: string | null; shared: boolean };
  /** The figures at capacity (the plateau at `capacity`, or the last good one). */
  atCapacity: { level: number; msgsPerSec: number; serverCpuUsPerMsg: number | null; serverCpuPct: number | null; latencyP99Us: number | null; rssBytes: number | null } | null;
  /**
   * Memory per unit (connection, session, member): the slope of server RSS over the good stepped plateaus, only
   * with at least 3 of them and a positive slope; `unitsPerGiB`, a projection: 1 GiB ÷ that slope. Null for the
   * rate dimension (its connections do not change).
   */
  memory: { fit: MemoryFit | null; bytesPerUnit: number | null; unitsPerGiB: number | null };
  /** Projections, labelled as such: servers like this one (and cores) needed for `for` units (`--for`, or the scenario's `projectFor`). */
  projection: { for: number; serversNeeded: number; coresNeeded: number | null } | null;
  slo: CapacitySlo;
  levels: number[];
  bisectSteps: number;
  plateaus: CapacityPlateau[];
  searchMs: number;
}

export interface CellResult {
  /** Stable id: `<scenario case>/<runtime>/<repetition>`. */
  id: string;
  scenario: string;
  /** The scenario case, e.g. `echo-rate@10000` (= scenario name when it has one case). */
  case: string;
  runtime: string;
  repetition: number;
  /** Position in the (seeded, interleaved) execution order. */
  order: number;
  status: CellStatus;
  startedAt?: string;
  durationMs?: number;
  error?: { code: string; message: string; details: string[] };
  server?: ServerInfo;
  metrics?: CellMetrics;
  warnings: Warning[];
  raw?: {
    latencyEncoded: string;
    connectEncoded: string;
    lastRecipientEncoded?: string;
    timeline: TimelineBucket[];
    /** /proc samples of the server (every 250 ms). */
    samples: ProcSample[];
    /** Phase boundaries on the sampler's clock, ms. */
    phasesMs: { connectedAt: number; measureStart: number; measureEnd: number };
  };
}

/** Median and spread of one metric over a case × runtime's completed repetitions. */
export interface Aggregate {
  n: number;
  median: number;
  min: number;
  max: number;
  /** Median absolute deviation / median, %. null when n < 2. */
  madPct: number | null;
  values: number[];
}

export interface SummaryRow {
  case: string;
  scenario: string;
  runtime: string;
  completed: number;
  errored: number;
  msgsPerSec?: Aggregate;
  latencyP50Us?: Aggregate;
  latencyP99Us?: Aggregate;
  latencyP999Us?: Aggregate;
  latencyMaxUs?: Aggregate;
  serverCpuUsPerMsg?: Aggregate;
  rssPeakBytes?: Aggregate;
  /** Server RSS after the drain, with its clients gone: memory the server keeps. */
  rssEndBytes?: Aggregate;
  bytesPerConnection?: Aggregate;
  /** Voice cases: what the relay added to the first reply chunk (relay in + relay out), p50 and p99. */
  relayOverheadP50Us?: Aggregate;
  relayOverheadP99Us?: Aggregate;
  /** Capacity cases: the capacity at the SLO per server core (core/capacity.ts). */
  capacityPerCore?: Aggregate;
  /** True when any repetition was load-generator-bound. */
  throughputIsLowerBound: boolean;
  /** Ratio of this runtime's median to the reference runtime's, per metric (e.g. 2.1 = 2.1× the reference). */
  ratioToReference: Partial<Record<'msgsPerSec' | 'latencyP50Us' | 'latencyP99Us' | 'serverCpuUsPerMsg' | 'rssPeakBytes', number>>;
  warnings: Warning[];
}

export interface RunSettings {
  runtimes: string[];
  /** Scenario definitions as run (after --quick and flag overrides). */
  scenarios: unknown[];
  repeat: number;
  seed: number;
  quick: boolean;
  serverCpus: string | null;
  loadgenCpus: string | null;
  /** The simulated upstream's CPUs (voice scenarios): its own CPU where there is one, else the load generator's. Absent in runs without voice. */
  upstreamCpus?: string | null;
  referenceRuntime: string;
  client: LoadClient;
  /** A budgeted run: its time budget, ms; repetitions were added round by round until every pair was settled or the budget was spent. */
  budgetMs?: number;
  /** The sequential test's settings of a budgeted run (alpha, the most looks, the spending function). */
  decision?: DecisionSettings;
  /** Capacity scenarios: the units (sessions, members, msg/s) the projections are made for (`--for`); else each scenario's own. */
  capacityFor?: number;
}

/**
 * The load generator's client: `raw` (bench's own, RFC 6455 and, for the Socket.IO stacks, Engine.IO v4 /
 * Socket.IO v5 over it), or a library as a cross-check: `ws` for bare servers, `socketio` (socket.io-client)
 * for the stacks.
 */
export type LoadClient = 'raw' | 'ws' | 'socketio';

/** Effective settings per runtime, from each server's ready line, and the differences found. */
export interface ParityState {
  manifests: Record<string, ParityManifest>;
  /** The Socket.IO stacks' Engine.IO settings (`stack.settings` of their ready lines), compared among the stacks only; absent without a stack. */
  stacks?: Record<string, StackSettings>;
  differences: string[];
}

/** Which look of a sequential comparison the decisions are (stats/sequential.ts); a fixed-repetition run is one look of one. */
export interface DecisionSettings {
  /** Family-wise two-sided error rate over every look and pair of a case. */
  alpha: number;
  look: number;
  maxLooks: number;
  spending: 'pocock' | 'obrien-fleming';
}

/** The figure a case ranks its runtimes on, and why that one is valid here (core/decide.ts primaryFigureOf). */
export interface PrimaryFigure {
  metric: 'msgsPerSec' | 'serverCpuUsPerMsg' | 'bytesPerConnection' | 'capacityPerCore';
  /**
   * `server-bound`: throughput, the server was the limit in every cell; `cpu-cost`: CPU per message, the load
   * generator or the server's CPU share did not make throughput the server's; `sustained-cost`: CPU per message
   * at a rate every runtime carried; `not-sustained`: the rate carried, some runtime did not carry the offered
   * rate; `memory-slope`: bytes per connection, a slope over plateaus; `capacity-slo`: the most load one server
   * core carried within the scenario's SLO (a capacity search).
   */
  why: 'server-bound' | 'cpu-cost' | 'sustained-cost' | 'not-sustained' | 'memory-slope' | 'capacity-slo';
}

/** Why a pair (or a runtime against the best) is not settled yet (stats/sequential.ts UndecidedReason). */
export type UndecidedReason = 'too-few-values' | 'no-spread' | 'covers-band' | 'crosses-band-edge';

/** One pair of runtimes of a case on its primary figure: `ratio` = geomean(b) / geomean(a) with its corrected interval. */
export interface PairDecision {
  a: string;
  b: string;
  verdict: 'different' | 'equivalent' | 'undecided';
  /** The better of the two, when different. */
  better?: string;
  ratio: number;
  /** The look's corrected interval of the ratio; null when no interval could be formed. */
  low: number | null;
  high: number | null;
  reason?: UndecidedReason;
}

/**
 * A runtime in a case's ranking: its primary figure, ratio to the best with the interval its verdict was taken on
 * (the case's `intervalLevel`; a result from before 2026-12-01 holds a 95% interval here), standing, costs.
 */
export interface RankedRuntime {
  runtime: string;
  n: number;
  median: number;
  values: number[];
  ratioToBest: number;
  low: number | null;
  high: number | null;
  /** Against the best: `behind` (different), `equivalent` (within the minimum effect), `undecided` (and why). */
  standing: 'best' | 'behind' | 'equivalent' | 'undecided';
  reason?: UndecidedReason;
  /** Medians of the cost figures: server CPU per message, bytes per connection (slopes only), peak RSS, RSS after the drain. */
  costs: Partial<Record<'serverCpuUsPerMsg' | 'bytesPerConnection' | 'rssPeakBytes' | 'rssEndBytes', number>>;
}

/** The decision of one case (workload): what the main job ends in. */
export interface CaseDecision {
  case: string;
  scenario: string;
  primary: PrimaryFigure;
  better: 'higher' | 'lower';
  /** The band within which two runtimes count as equivalent, % (the metric's minimum effect). */
  minEffectPct: number;
  /** Confidence level of this look's intervals, per pair (1 − the look's alpha over the case's pairs), e.g. 0.988. */
  intervalLevel?: number;
  ranking: RankedRuntime[];
  pairs: PairDecision[];
  /** Every pair different or equivalent. */
  settled: boolean;
  /** A budgeted run: the look this decision was taken at (0: the budget ran out before the first) of how many. */
  look?: number;
  maxLooks?: number;
}

/** How a budgeted run ended (core/budget.ts). */
export interface BudgetOutcomeData {
  rounds: number;
  /** The sequential test's K, fixed from the first round's cost. */
  maxLooks: number;
  /** Every case settled, the budget spent, the most looks taken, or interrupted. */
  stop: 'settled' | 'budget' | 'max-looks' | 'interrupted';
}

export interface RunResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  tool: { name: 'bench'; version: string; gitRevision: string | null; gitDirty: boolean | null };
  label: string;
  status: 'running' | 'completed' | 'interrupted' | 'failed';
  startedAt: string;
  finishedAt?: string;
  commandLine: string[];
  environment: Environment;
  settings: RunSettings;
  /** Effective settings per runtime, from each server's ready line, and the differences found. */
  parity: ParityState;
  cells: CellResult[];
  summary: SummaryRow[];
  /** Per case, the runtimes ranked and every pair decided (core/decide.ts), at the run's last look. */
  decisions?: CaseDecision[];
  /** A budgeted run: how many rounds it took and why it stopped. */
  budget?: BudgetOutcomeData;
  /** A result merged from load segments (`bench merge`): the segments and their clocks. */
  segments?: SegmentsInfo;
}

/** How a result merged from load segments was made: each segment, and the clock offsets estimated between them. */
export interface SegmentsInfo {
  count: number;
  /** The agreed start of every segment's warmup (--start-at), epoch ms. */
  startAtMs: number;
  parts: SegmentInfo[];
  /** Offsets estimated between segments whose messages crossed (broadcast); empty when none did. */
  offsets: ClockOffsetEstimate[];
}

/** One load segment of a merged result. */
export interface SegmentInfo {
  index: number;
  hostname: string;
  /** Its global connection ids: [firstConnId, firstConnId + connections). */
  firstConnId: number;
  connections: number;
  workers: number;
  seed: number;
  /** Its wall clock (Date.now) minus its workers' monotonic epoch clock as it began, ms: what it corrected its start by. */
  wallMinusMonotonicMs: number;
  /** How much that difference moved until the window's end, ms (to a millisecond): the wall clock stepped or slewed meanwhile. */
  wallStepMs: number;
  /** The agreed start minus the wall-clock time its connections were all open, ms (negative: late, warmup shortened). */
  readyMarginMs: number;
  /** The kernel limits it checked before it started. */
  kernel: KernelLimit[];
}

/** A kernel limit a load segment checked before it started: what it needed, what the kernel allowed, the fix. */
export interface KernelLimit {
  /** `RLIMIT_NOFILE`, `net.ipv4.ip_local_port_range`, `net.netfilter.nf_conntrack_max`. */
  name: string;
  needed: number;
  /** What the kernel allows (open files, ports in the range, free conntrack entries); null where unreadable. */
  available: number | null;
  /** `refused`: the segment did not start; `warn`: it started, connections may be dropped. */
  status: 'ok' | 'warn' | 'refused' | 'unknown';
  fix?: string;
}

/**
 * The clock offset between two segments, estimated from broadcast messages published in `from` and heard in
 * `to`: the median over those messages of (first arrival in `to` − first arrival in `from`), each arrival read
 * on its own segment's clock, so ≈ clock(to) − clock(from), biased by the order in which the server sends to
 * members; `spreadMs` is the interquartile range of the differences: an offset inside it cannot be told from
 * that order (on one machine, with one clock, the estimates stay inside it).
 */
export interface ClockOffsetEstimate {
  from: number;
  to: number;
  offsetMs: number;
  spreadMs: number;
  messages: number;
}

// ---- leaf types, shared by the load generator (its wire results), the orchestrator and the reports ----

/** Percentile summary of a histogram, every value in microseconds. */
export interface HistogramSummary {
  /** Number of recorded values. When 0, every other field is 0. */
  count: number;
  /** Lowest recorded value (lowest value equivalent to it at 3 significant digits). */
  minUs: number;
  /** Mean of the recorded values, computed from the buckets. */
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  /** Highest recorded value (highest value equivalent to it at 3 significant digits). */
  maxUs: number;
  /** See `LatencyHistogram.belowRangeCount`. */
  belowRangeCount: number;
  /** See `LatencyHistogram.aboveRangeCount`; when non-zero the tail is understated. */
  aboveRangeCount: number;
  /** See `LatencyHistogram.invalidCount`. */
  invalidCount: number;
}

export type ErrorKind = 'refused' | 'reset' | 'timeout' | 'handshake-rejected' | 'protocol' | 'unexpected-close' | 'other';

export interface DeliveryCounts {
  /** Messages sent (echo: by every connection; broadcast: published). */
  sent: number;
  /** Messages expected by recipients (echo: = sent; broadcast: published × room members). */
  expected: number;
  received: number;
  lost: number;
  duplicated: number;
  corrupted: number;
  outOfOrder: number;
  /** Arrivals nobody was owed: another room's or session's message, or more than a sender sent. Kept out of throughput. */
  misdelivered: number;
}

export interface TimelineBucket {
  /** Second index from the start of the measured window (warmup excluded). */
  second: number;
  sentMsgs: number;
  receivedMsgs: number;
  sentBytes: number;
  receivedBytes: number;
}

/** A fixed-rate schedule's counts over the measured window (warmup excluded). */
export interface OpenLoopCounts {
  targetPerSec: number;
  intended: number;
  sent: number;
  /** Sends that left more than the late threshold after their intended time: the generator was busy. */
  late: number;
  /** Intended sends skipped because the generator was too far behind. */
  dropped: number;
  /**
   * Sends written onto a connection whose socket was backed up (the kernel's send queue full: the server had
   * stopped reading): their delay is the server's, and lateness around them is not the generator's limit.
   */
  held?: number;
}

export interface WorkerStats {
  worker: number;
  pid: number;
  cpus: string | null;
  connections: number;
  /** CPU time of the worker during the measured window. */
  cpuUs: number;
  /** cpuUs / window, as % of one core. */
  cpuUtilPct: number;
  eventLoopDelayP99Us: number;
  eventLoopDelayMaxUs: number;
  /** Open loop with spin-waiting: CPU is ~100% by design; saturation is judged by the schedule instead. */
  spinWait: boolean;
  /** Open loop: this worker's sends, late sends and dropped sends. */
  schedule?: { sent: number; late: number; dropped: number; held?: number };
}

/**
 * Why the load generator limited a window, as data (reports word it):
 * - `cpu`: the workers pinned to one CPU list (`cpus`; null: one unpinned worker) used `pct`% of its CPUs, summed;
 * - `loop-delay`: a worker's event loop stalled (p99 delay);
 * - `schedule`: a worker's scheduled sends left late (beyond 1%) or were skipped.
 */
export type SaturationReason =
  | { kind: 'cpu'; cpus: string | null; workers: number[]; pct: number }
  | { kind: 'loop-delay'; worker: number; p99Us: number }
  | { kind: 'schedule'; worker: number; sent: number; late: number; dropped: number; held?: number };

/** The load generator's verdict on a window (loadgen/saturation.ts judgeLoadgen). */
export interface SaturationVerdict {
  saturated: boolean;
  reasons: SaturationReason[];
  /**
   * Signs of a generator falling behind (late sends, event-loop delay) found while the server held its sends
   * back (its sockets backed up): the server's latency, not the generator's limit, so not in `reasons`.
   */
  heldByServer?: SaturationReason[];
}

/** What the slow subscribers of a broadcast got: counted after the drain, in which they read freely. */
export interface SlowConsumerResult {
  /** Slow consumers that opened. */
  count: number;
  readBytesPerSec: number;
  /** Messages published into the slow consumers' rooms while they were members, summed over slow consumers. */
  expected: number;
  /** Distinct messages received (duplicates aside), so received + missing = expected. */
  received: number;
  /** expected − received: what the server dropped for them (or lost when it closed them). */
  missing: number;
  /** Slow consumers the server closed (or reset) before the end. */
  closedByServer: number;
  /** Close codes seen on those, e.g. { "1008": 2 }. */
  closeCodes: Record<string, number>;
  /** Delivery latency of what they received, µs (large: it includes their own slowness). */
  latency: HistogramSummary;
}

/** One reading of a process from /proc. Times are cumulative since the process started. */
export interface ProcReading {
  /** CPU time from /proc/<pid>/stat, in clock ticks of 10 ms (threads that exited included). */
  cpuUserUs: number;
  cpuSystemUs: number;
  /**
   * CPU time of the live threads to the nanosecond (Σ /proc/<pid>/task/<tid>/schedstat), µs: what a window of
   * a second is measured with, where 10 ms ticks would be a 1–10% error. Absent when unreadable.
   */
  cpuPreciseUs?: number;
  rssBytes: number;
  /** VmHWM: the highest RSS the kernel has seen for this process. */
  peakRssBytes: number;
  threads: number;
  fds: number;
}

/** One sample of a server process; `tMs` is milliseconds since the sampler started. */
export interface ProcSample extends ProcReading {
  tMs: number;
  /** Kernel TCP memory of the whole machine at that moment. */
  kernelTcpMemBytes: number;
}

export interface Availability {
  usable: boolean;
  /** The runtime's own version (for node-ws/node-uws: Node's), when it could be read. */
  runtimeVersion?: string;
  /** The WebSocket library's version. */
  libraryVersion?: string;
  /** Why it cannot be used here, and what to do about it. */
  reason?: string;
  fix?: string;
}

export interface RuntimeStatus extends Availability {
  /** A registry id as probed, or in a run's environment block a run label (`bun`, `node-ws@24.22.3`, `bun#2`). */
  id: string;
  label: string;
  /** A run label's binaries as resolved before the run (issue 17); absent on probed entries and in older results. */
  resolved?: RuntimeResolution;
}

/**
 * How a run label was resolved to exact binaries (core/runtime-versions): recorded per label, so that a result
 * says which executable every server of that label ran (each was checked against it from /proc/<pid>/exe).
 */
export interface RuntimeResolution {
  /** The label as asked: `node-ws@24` (recorded as `node-ws@24.22.3`), `bun`. */
  request: string;
  /** The executable's runtime: node, bun or deno. */
  runtime: string;
  /** Where the binary came from: the project's node_modules, bench's cache, or the Node on PATH (`@system`). */
  source: 'project' | 'cache' | 'system';
  /** Absolute real path of the executable. */
  binaryPath: string;
  /** The npm package that carried the binary, and its tarball's integrity (absent for the Node on PATH). */
  package?: string;
  integrity?: string | null;
  /** Node's ABI (process.versions.modules). */
  abi?: string;
  /** The native WebSocket library's npm package (uws-pack for node-uws) and the upstream state it carries. */
  libraryPackage?: string;
  libraryUpstream?: string;
  /** What a reader should know (a line resolved from the cache because the registry did not answer). */
  notes?: string[];
}

/** Everything a result needs to be read later or compared fairly: the machine, its limits, and the runtimes. */
export interface Environment {
  hostname: string;
  cpuModel: string;
  logicalCpus: number;
  /** CPUs this process may run on (affinity), which pinning plans must respect. */
  allowedCpus: string;
  kernel: string;
  platform: string;
  arch: string;
  memoryBytes: number;
  /** Soft limit on open files per process (RLIMIT_NOFILE): the ceiling on sockets per process. */
  openFileLimit: number | null;
  ephemeralPortRange: [number, number] | null;
  cpuGovernor: string | null;
  /** The Node that runs bench itself and its load generator (the one on PATH: `node-ws@system`), not the servers': theirs are under `runtimes`. */
  nodeVersion: string;
  /** The runtimes this result ran (a run, a calibration), each as resolved and verified; `bench doctor` lists every one it probed. */
  runtimes: RuntimeStatus[];
  toolVersion: string;
  gitRevision: string | null;
  gitDirty: boolean | null;
}
