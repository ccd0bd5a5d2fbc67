// What every WebSocket load model does inside a worker process, written once:
// the connections and their transport, the connect pacer, the shared clock's
// phases (warmup, measured window, drain), the open-loop send loop, the
// timeline and latency recorders, delivery accounting, the worker's own CPU and
// event-loop delay, and the result it reports. A load model (loadgen/models/)
// subclasses WsSession and adds only what is its own: how it starts sending,
// what it does with a message that arrives, when its drain is over, and its
// part of the result. One subclass is loaded per worker process, so the hot
// path's calls stay monomorphic.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DeliveryAccounting, recordDelivery, type DeliveryTotals, type StreamState } from './accounting.js';
import { codecFor, type PayloadCodec } from './codec.js';
import { createLatencyHistogram, encodeHistogram, LatencyRecorder, recordUs } from './histogram.js';
import type { FromWorker, ToWorker, WorkerResult } from './ipc.js';
import type { PayloadHeader } from './payload.js';
import { atEpochUs, createSchedule, createSender, defaultTickPolicy, epochClockUs, finishSender, tick, type BurstOptions, type SendCounters, type Sender } from './schedule.js';
import { prebuildTemplates, type TemplatePool } from './shapes.js';
import { createTransport, type Transport, type TransportConn } from './transport.js';
import type { ErrorKind, LoadPlan, TimelineBucket } from './types.js';

export type Init = Extract<ToWorker, { type: 'init' }>;
export type Post = (m: FromWorker) => void;

/** What a worker runs for a model; worker.ts hands it the coordinator's messages. */
export interface Runner {
  start(startAtUs: number): void;
  finish(sentBySender: [number, number][]): void;
  stop(): void;
  /** A model's own messages (the ceiling's step and beat). */
  onCommand?(m: ToWorker): void;
}

/** Late threshold of a timer-driven (non-spinning) open-loop worker: timers have 1 ms granularity. */
export const TIMER_LATE_THRESHOLD_US = 2_000;

/** Per-connection state; the transport owns the socket. */
export interface Conn {
  id: number;
  room: number;
  publisher: boolean;
  /** Next sequence number this connection sends. */
  seq: number;
  /** Echo: messages sent and not yet received back. */
  inFlight: number;
  open: boolean;
  t: TransportConn | undefined;
  /** Delivery accounting of this connection's own messages coming back (echo), looked up once. */
  own?: StreamState;
  /** Broadcast: a slow consumer (reads at a limited rate, accounted apart; see broadcast-shapes.ts). */
  slow?: boolean;
  /** Broadcast churn: a member for part of the run only (it left, or it rejoined), checked inside its membership. */
  partial?: boolean;
  /** The error that came before the server's close of this connection; the close counts it, once. */
  failKind?: ErrorKind;
}

/** The part of a worker's result that depends on the model (its delivery view, its extra figures). */
export type ModelResult = Partial<Pick<WorkerResult, 'delivery' | 'latencyEncoded' | 'openLoop' | 'lastRecipient' | 'slowConsumers' | 'churn' | 'voice' | 'deferred'>>;

export abstract class WsSession implements Runner {
  readonly plan: LoadPlan;
  readonly init: Init;
  readonly post: Post;
  readonly conns: Conn[] = [];
  readonly transport: Transport;
  /** Builds, patches and checks the plan's messages; one codec class per worker keeps its calls monomorphic. */
  readonly codec: PayloadCodec;
  readonly pool: TemplatePool;
  readonly latency = createLatencyHistogram();
  /** Hot-path recording; folded into `latency` when the worker reports. */
  readonly latencyRec = new LatencyRecorder();
  /** Records what falls outside the window (warmup, drain) and is thrown away. */
  readonly scratchRec = new LatencyRecorder();
  readonly connectHist = createLatencyHistogram();
  readonly accounting = new DeliveryAccounting();
  readonly errors: Partial<Record<ErrorKind, number>> = {};
  /** Connections the server closed, by close code: each connection once (1006: no close frame). */
  readonly closeCodes: Record<string, number> = {};
  readonly header: PayloadHeader = { connId: 0, seq: 0, tUs: 0 };
  timeline: TimelineBucket[] = [];
  readonly scratchBucket: TimelineBucket = { second: -1, sentMsgs: 0, receivedMsgs: 0, sentBytes: 0, receivedBytes: 0 };
  opened = 0;
  failed = 0;
  connectPhaseMs = 0;
  startAtUs = 0;
  measureStartUs = 0;
  measureEndUs = 0;
  /** True from the start until the window's end; then the drain. */
  sending = false;
  recvSinceProgress = 0;
  lastRecvAtUs = 0;
  /** Arrival time of the chunk being parsed: every message in one read arrived together. */
  readAtUs = 0;
  phase: 'connecting' | 'warmup' | 'measure' | 'drain' = 'connecting';
  cpuAtStart: NodeJS.CpuUsage | undefined;
  cpuUs = 0;
  measuredMs = 0;
  readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  sender: Sender | undefined;
  /** The schedule's counters when the window opened (warmup sends are not the window's). */
  private scheduleAtStart: SendCounters | undefined;
  /** Sends of the window written onto a backed-up socket (see OpenLoopCounts.held). */
  private heldSends = 0;
  /** Ends scheduled sending at the window's end (set by runSchedule). */
  endSchedule: (() => void) | undefined;
  rr = 0;
  tplSlot = 0;

  constructor(init: Init, post: Post) {
    this.init = init;
    this.plan = init.plan;
    this.post = post;
    this.codec = codecFor(this.plan.message);
    this.pool = prebuildTemplates(this.plan.message, 256, this.plan.seed + init.worker, this.codec);
    this.transport = createTransport(this.plan.client, {
      onRead: () => {
        this.readAtUs = epochClockUs();
      },
      onMessage: (c, buf, start, end) => this.onMessage(c, buf, start, end),
      onClose: (c, code, byUs) => this.onClose(c, code, byUs),
      onError: (c, kind) => this.onError(c, kind),
    }, this.plan.protocol);
  }

  // ---- what a model adds ------------------------------------------------------

  /** A whole message arrived on `c` (its payload is buf[start, end), valid during the call only). The hot path. */
  abstract onMessage(c: Conn, buf: Buffer, start: number, end: number): void;
  /** Warmup begins: start sending. */
  abstract begin(): void;
  /** Whether the drain is over (everything owed has arrived), polled every 10 ms until the drain timeout. */
  abstract drained(): boolean;
  /** This model's part of the result, after the global sent counts arrived. */
  abstract modelResult(sent: Map<number, number>): ModelResult;
  /** The URL path (and query) connection `c` opens. */
  pathFor(_c: Conn, url: URL): string {
    return url.pathname + url.search;
  }
  /** Per-connection setup before connecting (rooms, publishers, slow consumers). */
  setupConn(_c: Conn): void {}
  /** A connection opened (slow consumers start their read limit here). */
  onOpen(_c: Conn): void {}
  /** Called when the window ends, before the drain (churn stops, slow consumers read freely). */
  endWindow(): void {}

  // ---- shared machinery --------------------------------------------------------

  count(kind: ErrorKind): void {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  /**
   * The timeline bucket for a time: a real one inside the measured window, a scratch one outside it. Warmup
   * runs exactly the code the window runs, so the JIT has compiled it before measuring starts (otherwise
   * tier-up stalls of 1–2 ms land in the window's tail).
   */
  bucket(nowUs: number): TimelineBucket {
    if (nowUs < this.measureStartUs || nowUs >= this.measureEndUs) return this.scratchBucket;
    return this.timeline[Math.floor((nowUs - this.measureStartUs) / 1e6)] ?? this.scratchBucket;
  }

  /** Opens every connection with the connect pacer (`connect.maxInFlight` at once, optional rate), then reports `connected`. */
  async connectAll(): Promise<void> {
    const { plan, init } = this;
    const url = new URL(plan.url);
    for (let i = 0; i < init.connections; i++) {
      const c: Conn = { id: init.firstConnId + i, room: 0, publisher: false, seq: 0, inFlight: 0, open: false, t: undefined };
      this.setupConn(c);
      this.conns.push(c);
    }
    const t0 = performance.now();
    const maxInFlight = Math.max(1, plan.connect.maxInFlight);
    const ratePerSec = init.connectRatePerSec;
    let next = 0;
    let progressTimer = setInterval(() => this.progress(), 1000);
    const startOne = (c: Conn) =>
      new Promise<void>((resolve) => {
        const t = performance.now();
        this.transport.connect(c, url.hostname, Number(url.port), this.pathFor(c, url), plan.connect.timeoutMs, (err) => {
          if (err) {
            this.failed++;
            this.count(err);
          } else {
            this.opened++;
            c.open = true;
            // Inside the open event, so a read limit applies from the first read on.
            this.onOpen(c);
            recordUs(this.connectHist, (performance.now() - t) * 1000);
          }
          resolve();
        });
      });
    await new Promise<void>((resolve) => {
      let active = 0;
      const pump = () => {
        while (active < maxInFlight && next < this.conns.length) {
          if (ratePerSec) {
            const waitMs = (next / ratePerSec) * 1000 - (performance.now() - t0);
            if (waitMs > 1) {
              setTimeout(pump, waitMs);
              return;
            }
          }
          const c = this.conns[next++]!;
          active++;
          void startOne(c).then(() => {
            active--;
            if (next >= this.conns.length && active === 0) resolve();
            else pump();
          });
        }
        if (this.conns.length === 0) resolve();
      };
      pump();
    });
    clearInterval(progressTimer);
    this.connectPhaseMs = performance.now() - t0;
    this.post({ type: 'connected', opened: this.opened, failed: this.failed, errors: { ...this.errors }, connectPhaseMs: this.connectPhaseMs });
    progressTimer = setInterval(() => this.progress(), 1000);
    progressTimer.unref();
  }

  progress(): void {
    this.post({ type: 'progress', phase: this.phase, open: this.conns.reduce((a, c) => a + (c.open ? 1 : 0), 0), recvLastSec: this.recvSinceProgress });
    this.recvSinceProgress = 0;
  }

  /** Sends the next pre-built message on `c`, stamped with its intended send time `tUs`. */
  sendOn(c: Conn, tUs: number): void {
    const slot = this.tplSlot++ & 255;
    const tpl = this.pool.templates[slot]!;
    // Written behind bytes the kernel would not take: the server is not reading, so this send waits on it.
    if (tUs >= this.measureStartUs && this.transport.backedUp(c.t!)) this.heldSends++;
    this.transport.send(c.t!, this.codec, tpl, c.id, c.seq++, tUs);
    c.inFlight++;
    const b = this.bucket(tUs);
    b.sentMsgs++;
    b.sentBytes += tpl.length;
  }

  start(startAtUs: number): void {
    const { plan } = this;
    this.startAtUs = startAtUs;
    this.measureStartUs = startAtUs + plan.warmupMs * 1000;
    this.measureEndUs = this.measureStartUs + plan.durationMs * 1000;
    for (let second = 0; second < Math.ceil(plan.durationMs / 1000); second++) {
      this.timeline.push({ second, sentMsgs: 0, receivedMsgs: 0, sentBytes: 0, receivedBytes: 0 });
    }
    atEpochUs(startAtUs, () => {
      this.phase = 'warmup';
      this.sending = true;
      this.begin();
    });
    atEpochUs(this.measureStartUs, () => {
      this.phase = 'measure';
      // The schedule's counts are reported for the window alone, like every other figure.
      if (this.sender) this.scheduleAtStart = { ...this.sender.counters };
      this.cpuAtStart = process.cpuUsage();
      this.loopDelay.enable();
    });
    atEpochUs(this.measureEndUs, () => {
      const cpu = process.cpuUsage(this.cpuAtStart);
      this.cpuUs = cpu.user + cpu.system;
      this.measuredMs = plan.durationMs;
      this.loopDelay.disable();
      this.endSchedule?.();
      this.sending = false;
      this.phase = 'drain';
      this.endWindow();
      void this.drain();
    });
  }

  /**
   * Open-loop sending: messages leave on the schedule, round-robin over `targets`; late and dropped sends are
   * counted. With bursts (`ratePerSec` then counts arrivals) a burst's messages all go out on one target.
   */
  runSchedule(targets: Conn[], ratePerSec: number, arrivals: 'constant' | 'poisson', burst?: BurstOptions): void {
    if (targets.length === 0 || ratePerSec <= 0) return;
    const schedule = createSchedule({ ratePerSec, arrivals, startUs: this.startAtUs, seed: this.plan.seed + this.init.worker, ...(burst ? { burst } : {}) });
    // A worker that sleeps on timers (no spin-wait) wakes up to ~1 ms after a send was due by design: late means
    // beyond that, or every send would count as late and the verdict would blame the generator for its timers.
    const policy = { ...defaultTickPolicy(ratePerSec), ...(this.init.spinWait ? {} : { lateThresholdUs: TIMER_LATE_THRESHOLD_US }) };
    const sender = createSender(schedule, policy);
    const byArrival = burst !== undefined;
    this.sender = sender;
    let ended = false;
    const sendDue = (n: number) => {
      for (let i = 0; i < n; i++) {
        const c = byArrival ? targets[sender.dueArrival[i]! % targets.length]! : targets[this.rr++ % targets.length]!;
        if (c.open) this.sendOn(c, sender.dueUs[i]!);
      }
      if (n > 0) this.transport.flush();
    };
    // Closes the schedule at the window's end: sends what was due inside it (late if it is) and counts the rest
    // as dropped. Runs before the drain reports what was sent, so no send can follow that report.
    this.endSchedule = () => {
      if (ended) return;
      ended = true;
      sendDue(tick(sender, Math.min(epochClockUs(), this.measureEndUs)));
      finishSender(sender, this.measureEndUs);
    };
    const loop = () => {
      if (ended) return;
      const now = epochClockUs();
      if (!this.sending || now >= this.measureEndUs) {
        this.endSchedule!();
        return;
      }
      sendDue(tick(sender, now));
      // Timers have 1 ms granularity: sleep when the next send is far, spin through the event loop when it is near.
      const waitUs = sender.schedule.peekUs() - epochClockUs();
      if (waitUs > 1500 || !this.init.spinWait) setTimeout(loop, Math.max(0, Math.floor((waitUs - 1000) / 1000)));
      else setImmediate(loop);
    };
    loop();
  }

  /**
   * An echo arriving back on `c`: reads its header, checks its body byte for byte, accounts for it in its
   * stream, records its latency (from the intended send time; window only) and its bucket. Returns whether it
   * was the first arrival of one of `c`'s own messages, which frees a slot: a duplicate must not end the drain
   * early (a message still on the wire would be counted lost) or add a send to a closed loop.
   */
  receiveEcho(c: Conn, buf: Buffer, start: number, end: number): boolean {
    const nowUs = this.readAtUs;
    const size = end - start;
    this.recvSinceProgress++;
    this.lastRecvAtUs = nowUs;
    const h = this.codec.readHeader(buf, start, size, this.header);
    const bodyOk = this.codec.bodyMatches(buf, start, size);
    let freesSlot = false;
    if (h.connId === c.id && h.seq >= 0) {
      const own = (c.own ??= this.accounting.stream(c.id, c.id));
      const duplicatesBefore = own.duplicated;
      recordDelivery(own, h.seq, bodyOk);
      freesSlot = own.duplicated === duplicatesBefore;
    } else this.accounting.record(h.connId, c.id, h.seq, bodyOk);
    // Only a first, intact arrival of this connection's own message is a delivery: a duplicate, a corrupted or a
    // misrouted one is counted by the accounting, not in throughput or latency.
    if (freesSlot && bodyOk) {
      // Latency counts for messages sent inside the window; the rest go to the scratch recorder.
      const inWindow = h.tUs >= this.measureStartUs && h.tUs < this.measureEndUs;
      (inWindow ? this.latencyRec : this.scratchRec).record(nowUs - h.tUs);
      const b = this.bucket(nowUs);
      b.receivedMsgs++;
      b.receivedBytes += size;
    }
    if (freesSlot) c.inFlight--;
    return freesSlot;
  }

  /** An error on an open connection is held until its close, which counts it: one close, one error. */
  onError(c: Conn, kind: ErrorKind): void {
    if (c.open) c.failKind ??= kind;
    else this.count(kind);
  }

  onClose(c: Conn, code: number, byUs: boolean): void {
    const wasOpen = c.open;
    c.open = false;
    if (byUs || !wasOpen) return;
    this.count(c.failKind ?? (code === 1006 ? 'reset' : 'unexpected-close'));
    this.closeCodes[code] = (this.closeCodes[code] ?? 0) + 1;
  }

  /** The schedule's counts over the measured window, with the sends the server held back; undefined without a schedule. */
  windowSchedule(): { intended: number; sent: number; late: number; dropped: number; held: number } | undefined {
    const c = this.sender?.counters;
    if (!c) return undefined;
    const s = this.scheduleAtStart ?? { intended: 0, sent: 0, late: 0, dropped: 0, maxLagUs: 0 };
    return { intended: c.intended - s.intended, sent: c.sent - s.sent, late: c.late - s.late, dropped: c.dropped - s.dropped, held: this.heldSends };
  }

  /** The wire has been quiet for `quietMs` since the window's end or the last message. */
  quietFor(quietMs: number, lastUs = this.lastRecvAtUs): boolean {
    return epochClockUs() - Math.max(lastUs, this.measureEndUs) > quietMs * 1000;
  }

  async drain(): Promise<void> {
    const deadline = performance.now() + this.plan.drainTimeoutMs;
    while (performance.now() < deadline && !this.drained()) await new Promise((r) => setTimeout(r, 10));
    const sentBySender: [number, number][] = [];
    for (const c of this.conns) if (c.seq > 0) sentBySender.push([c.id, c.seq]);
    this.post({ type: 'drained', sentBySender });
  }

  /** Echo accounting: each connection is owed what it sent itself (this worker's senders only). */
  echoTotals(sent: Map<number, number>): DeliveryTotals {
    const first = this.init.firstConnId;
    const last = first + this.init.connections;
    return this.accounting.finish(new Map([...sent].filter(([id]) => id >= first && id < last)));
  }

  finish(sentBySenderAll: [number, number][]): void {
    const sent = new Map(sentBySenderAll);
    const model = this.modelResult(sent);
    this.latencyRec.flushInto(this.latency);
    let localSent = 0;
    for (const c of this.conns) localSent += c.seq;
    const ol = this.windowSchedule();
    const result: WorkerResult = {
      worker: this.init.worker,
      pid: process.pid,
      connections: this.init.connections,
      opened: this.opened,
      failed: this.failed,
      connectPhaseMs: this.connectPhaseMs,
      latencyEncoded: encodeHistogram(this.latency),
      connectEncoded: encodeHistogram(this.connectHist),
      timeline: this.timeline,
      errors: this.errors,
      closeCodes: this.closeCodes,
      delivery: { sent: localSent, expected: 0, received: 0, lost: 0, duplicated: 0, corrupted: 0, outOfOrder: 0, misdelivered: 0 },
      cpuUs: this.cpuUs,
      measuredMs: this.measuredMs,
      eventLoopDelayP99Us: nsToUs(this.loopDelay.percentile(99)),
      eventLoopDelayMaxUs: nsToUs(this.loopDelay.max),
      spinWait: this.init.spinWait && ol !== undefined,
      ...(ol ? { schedule: { sent: ol.sent, late: ol.late, dropped: ol.dropped, held: ol.held } } : {}),
      ...model,
    };
    for (const c of this.conns) if (c.t) this.transport.close(c.t);
    this.post({ type: 'result', result });
    setTimeout(() => process.exit(0), 300).unref();
  }

  stop(): void {
    for (const c of this.conns) if (c.t) this.transport.destroy(c.t);
    process.exit(0);
  }
}

/** Delivery counts of a worker from its accounting totals and its own sends. */
export function deliveryOf(sent: number, t: DeliveryTotals): WorkerResult['delivery'] {
  return { sent, expected: t.expected, received: t.received, lost: t.lost, duplicated: t.duplicated, corrupted: t.corrupted, outOfOrder: t.outOfOrder, misdelivered: t.unexpected };
}

function nsToUs(ns: number): number {
  return Number.isFinite(ns) ? ns / 1000 : 0;
}
