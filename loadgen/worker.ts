// A load-generator worker process: holds its share of the connections, runs
// the load model on the coordinator's clock, and reports what it measured.
// Spawned only by loadgen/run.ts; talks to it over IPC (loadgen/ipc.ts).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DeliveryAccounting, recordDelivery, type StreamState } from './accounting.js';
import { createLatencyHistogram, encodeHistogram, LatencyRecorder, recordUs } from './histogram.js';
import type { FromWorker, ToWorker, WorkerResult } from './ipc.js';
import { codecFor, type PayloadCodec } from './codec.js';
import type { PayloadHeader } from './payload.js';
import { atEpochUs, createSchedule, createSender, defaultTickPolicy, epochClockUs, finishSender, tick, type BurstOptions, type Sender } from './schedule.js';

/** Late threshold of a timer-driven (non-spinning) open-loop worker: timers have 1 ms granularity. */
const TIMER_LATE_THRESHOLD_US = 2_000;
import { prebuildTemplates, type TemplatePool } from './shapes.js';
import { createTransport, type Transport, type TransportConn } from './transport.js';
import type { ErrorKind, LoadPlan, TimelineBucket } from './types.js';
import { createHttpRunner, type Runner } from './http.js';
import { createCeilingRunner } from './ceiling.js';
import { sessionIdOf, VoiceDriver } from './voice.js';
import { Churn, isSlowConsumerId, SlowConsumers } from './broadcast-shapes.js';

type Init = Extract<ToWorker, { type: 'init' }>;

function post(m: FromWorker) {
  if (process.connected) process.send!(m);
}

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
}

class Worker implements Runner {
  readonly plan: LoadPlan;
  readonly init: Init;
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
  readonly header: PayloadHeader = { connId: 0, seq: 0, tUs: 0 };
  /** Broadcast: per message key (connId·2^32 + seq) sent in the window, the latest delivery latency seen here. */
  readonly lastRecipient = new Map<number, { maxLatencyUs: number; deliveries: number }>();
  /** Broadcast with slow consumers / with churn (set up in connectAll / beginModel). */
  slow: SlowConsumers | undefined;
  churn: Churn | undefined;
  timeline: TimelineBucket[] = [];
  readonly scratchBucket: TimelineBucket = { second: -1, sentMsgs: 0, receivedMsgs: 0, sentBytes: 0, receivedBytes: 0 };
  opened = 0;
  failed = 0;
  connectPhaseMs = 0;
  startAtUs = 0;
  measureStartUs = 0;
  measureEndUs = 0;
  /** Sending stops here (= measureEndUs); then the drain. */
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
  /** Ends scheduled sending at the window's end (set by runSchedule). */
  endSchedule: (() => void) | undefined;
  rr = 0;
  tplSlot = 0;
  // Read once from the plan; the hot path compares booleans, not strings.
  readonly isBroadcast: boolean;
  readonly isClosed: boolean;
  /** Voice model: the sessions' turns and reply bookkeeping (loadgen/voice.ts). */
  readonly voice: VoiceDriver | undefined;

  constructor(init: Init) {
    this.init = init;
    this.plan = init.plan;
    this.isBroadcast = this.plan.load.model === 'broadcast';
    this.isClosed = this.plan.load.model === 'closed';
    this.voice = this.plan.load.model === 'voice' ? new VoiceDriver(this.plan.load, init.firstConnId, init.connections) : undefined;
    this.codec = codecFor(this.plan.message);
    this.pool = prebuildTemplates(this.plan.message, 256, this.plan.seed + init.worker, this.codec);
    this.transport = createTransport(this.plan.client, {
      onRead: () => {
        this.readAtUs = epochClockUs();
      },
      onMessage: (c, buf, start, end) => this.onMessage(c, buf, start, end),
      onClose: (c, code, byUs) => this.onClose(c, code, byUs),
      onError: (c, kind) => this.count(kind),
    });
  }

  count(kind: ErrorKind) {
    this.errors[kind] = (this.errors[kind] ?? 0) + 1;
  }

  /**
   * The timeline bucket for a time: a real one inside the measured window, a
   * scratch one outside it. Warmup runs exactly the code the window runs, so the
   * JIT has compiled it before measuring starts (otherwise tier-up stalls of
   * 1–2 ms land in the window's tail).
   */
  bucket(nowUs: number): TimelineBucket {
    if (nowUs < this.measureStartUs || nowUs >= this.measureEndUs) return this.scratchBucket;
    return this.timeline[Math.floor((nowUs - this.measureStartUs) / 1e6)] ?? this.scratchBucket;
  }

  // ---- connect phase -------------------------------------------------------

  async connectAll(): Promise<void> {
    const { plan, init } = this;
    const url = new URL(plan.url);
    const rooms = plan.load.model === 'broadcast' ? plan.load.rooms : 1;
    const publishers = plan.load.model === 'broadcast' ? plan.load.publishers : 0;
    for (let i = 0; i < init.connections; i++) {
      const id = init.firstConnId + i;
      this.conns.push({ id, room: id % rooms, publisher: id < publishers, seq: 0, inFlight: 0, open: false, t: undefined });
    }
    if (plan.load.model === 'broadcast' && plan.load.slowConsumers) {
      this.slow = new SlowConsumers(plan.load.slowConsumers, this.transport);
      for (const c of this.conns) if (isSlowConsumerId(c.id, plan)) c.slow = true;
    }
    const t0 = performance.now();
    const maxInFlight = Math.max(1, plan.connect.maxInFlight);
    const ratePerSec = init.connectRatePerSec;
    let next = 0;
    let progressTimer = setInterval(() => this.progress(), 1000);
    const startOne = (c: Conn) =>
      new Promise<void>((resolve) => {
        const path =
          plan.load.model === 'broadcast'
            ? `${url.pathname}?room=r${c.room}`
            : plan.load.model === 'voice'
              ? // One relay session per connection; the server hands the session id on to the upstream, which writes it into every reply.
                `${url.pathname === '/' ? '/relay' : url.pathname}?session=${sessionIdOf(c.id)}`
              : url.pathname + url.search;
        const t = performance.now();
        this.transport.connect(c, url.hostname, Number(url.port), path, plan.connect.timeoutMs, (err) => {
          if (err) {
            this.failed++;
            this.count(err);
          } else {
            this.opened++;
            c.open = true;
            // Inside the open event, so the read limit applies from the first read on.
            if (c.slow) this.slow!.opened(c);
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
            const dueMs = (next / ratePerSec) * 1000;
            const waitMs = dueMs - (performance.now() - t0);
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
    post({ type: 'connected', opened: this.opened, failed: this.failed, errors: { ...this.errors }, connectPhaseMs: this.connectPhaseMs });
    progressTimer = setInterval(() => this.progress(), 1000);
    progressTimer.unref();
  }

  progress() {
    post({ type: 'progress', phase: this.phase, open: this.conns.reduce((a, c) => a + (c.open ? 1 : 0), 0), recvLastSec: this.recvSinceProgress });
    this.recvSinceProgress = 0;
  }

  // ---- sending ------------------------------------------------------------

  sendOn(c: Conn, tUs: number) {
    const slot = this.tplSlot++ & 255;
    const tpl = this.pool.templates[slot]!;
    this.transport.send(c.t!, this.codec, tpl, c.id, c.seq++, tUs);
    c.inFlight++;
    const b = this.bucket(tUs);
    b.sentMsgs++;
    b.sentBytes += tpl.length;
    const v = this.voice;
    if (v !== undefined) {
      // Every framesPerTurn-th audio event of a session ends a turn: its response.create leaves at the same intended time.
      const turn = v.afterAudio(c.id, c.seq, tUs, epochClockUs);
      if (turn > 0) {
        this.transport.send(c.t!, v.controlCodec, v.controlTemplate, c.id, turn, tUs);
        b.sentMsgs++;
        b.sentBytes += v.controlTemplate.length;
      }
    }
  }

  start(startAtUs: number) {
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
      this.beginModel();
    });
    atEpochUs(this.measureStartUs, () => {
      this.phase = 'measure';
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
      void this.drain();
    });
  }

  beginModel() {
    const m = this.plan.load;
    const open = this.conns.filter((c) => c.open);
    if (m.model === 'closed') {
      const now = epochClockUs();
      for (const c of open) for (let k = 0; k < m.depth; k++) this.sendOn(c, now);
      this.transport.flush();
    } else if (m.model === 'open') {
      // This worker's share of the aggregate rate, in proportion to its connections.
      const share = this.init.connections / this.plan.connections;
      this.runSchedule(open, m.ratePerSec * share, m.arrivals);
    } else if (m.model === 'voice') {
      this.voice!.setWindow(this.measureStartUs, this.measureEndUs);
      // Round-robin over the open sessions at this rate gives each one audio event per frameIntervalMs, staggered evenly.
      this.runSchedule(open, (open.length * 1000) / m.frameIntervalMs, 'constant');
    } else if (m.model === 'broadcast') {
      const pubs = open.filter((c) => c.publisher);
      if (pubs.length > 0) this.runSchedule(pubs, m.ratePerSecPerPublisher * pubs.length, m.arrivals ?? 'constant', m.burst);
      this.slow?.begin();
      if (m.churn) {
        // This worker's share of the leaves: its churnable subscribers over all workers'.
        let local = 0;
        for (const c of this.conns) if (!c.publisher && !c.slow) local++;
        const all = this.plan.connections - m.publishers - (m.slowConsumers?.count ?? 0);
        this.churn = new Churn(m.churn, this, all > 0 ? local / all : 0, this.plan.seed * 7919 + this.init.worker);
        this.churn.begin(this.startAtUs);
      }
    }
  }

  /**
   * Open-loop sending: messages leave on the schedule, round-robin over `targets`; late and dropped sends are
   * counted. With bursts (`ratePerSec` then counts arrivals) a burst's messages all go out on one target.
   */
  runSchedule(targets: Conn[], ratePerSec: number, arrivals: 'constant' | 'poisson', burst?: BurstOptions) {
    if (targets.length === 0 || ratePerSec <= 0) return;
    const schedule = createSchedule({ ratePerSec, arrivals, startUs: this.startAtUs, seed: this.plan.seed + this.init.worker, ...(burst ? { burst } : {}) });
    // A worker that sleeps on timers (no spin-wait) wakes up to ~1 ms after a send was due by design: late means
    // beyond that, or every send would count as late and the verdict would blame the generator for its timers.
    const policy = { ...defaultTickPolicy(ratePerSec), ...(this.init.spinWait ? {} : { lateThresholdUs: TIMER_LATE_THRESHOLD_US }) };
    const sender = createSender(schedule, policy);
    const byArrival = burst !== undefined;
    this.sender = sender;
    let ended = false;
    // Closes the schedule at the window's end: sends what was due inside it (late if it is) and counts the rest
    // as dropped. Runs before the drain reports what was sent, so no send can follow that report.
    const end = () => {
      if (ended) return;
      ended = true;
      const n = tick(sender, Math.min(epochClockUs(), this.measureEndUs));
      for (let i = 0; i < n; i++) {
        const c = byArrival ? targets[sender.dueArrival[i]! % targets.length]! : targets[this.rr++ % targets.length]!;
        if (c.open) this.sendOn(c, sender.dueUs[i]!);
      }
      if (n > 0) this.transport.flush();
      finishSender(sender, this.measureEndUs);
    };
    this.endSchedule = end;
    const loop = () => {
      if (ended) return;
      const now = epochClockUs();
      if (!this.sending || now >= this.measureEndUs) {
        end();
        return;
      }
      const n = tick(sender, now);
      for (let i = 0; i < n; i++) {
        const c = byArrival ? targets[sender.dueArrival[i]! % targets.length]! : targets[this.rr++ % targets.length]!;
        if (c.open) this.sendOn(c, sender.dueUs[i]!);
      }
      if (n > 0) this.transport.flush();
      // Timers have 1 ms granularity: sleep when the next send is far, spin through the event loop when it is near.
      const waitUs = sender.schedule.peekUs() - epochClockUs();
      if (waitUs > 1500 || !this.init.spinWait) setTimeout(loop, Math.max(0, Math.floor((waitUs - 1000) / 1000)));
      else setImmediate(loop);
    };
    loop();
  }

  // ---- receiving ----------------------------------------------------------

  onMessage(c: Conn, buf: Buffer, start: number, end: number) {
    const nowUs = this.readAtUs;
    const size = end - start;
    this.recvSinceProgress++;
    this.lastRecvAtUs = nowUs;
    if (this.voice !== undefined) {
      // Reply events from the upstream, not our messages coming back: the driver reads and times them.
      this.voice.onReply(c.id, buf, start, end, nowUs);
      const vb = this.bucket(nowUs);
      vb.receivedMsgs++;
      vb.receivedBytes += size;
      return;
    }
    const h = this.codec.readHeader(buf, start, size, this.header);
    const bodyOk = this.codec.bodyMatches(buf, start, size);
    if (c.slow) {
      // Reported apart: not in delivery, latency, the time to the last recipient or the timeline.
      this.slow!.received(c, h.connId, h.seq, bodyOk, nowUs, nowUs - h.tUs);
      return;
    }
    // Only the first arrival of this connection's own message frees its slot: a duplicate must not end the
    // drain early (a message still on the wire would be counted lost) or add a send to a closed loop.
    let freesSlot = false;
    if (h.connId === c.id && h.seq >= 0) {
      const own = (c.own ??= this.accounting.stream(c.id, c.id));
      const duplicatesBefore = own.duplicated;
      recordDelivery(own, h.seq, bodyOk);
      freesSlot = own.duplicated === duplicatesBefore;
    } else this.accounting.record(h.connId, c.id, h.seq, bodyOk);
    // Latency counts for messages sent inside the window; the rest go to the scratch recorder.
    const inWindow = h.tUs >= this.measureStartUs && h.tUs < this.measureEndUs;
    const latencyUs = nowUs - h.tUs;
    (inWindow ? this.latencyRec : this.scratchRec).record(latencyUs);
    if (this.isBroadcast && inWindow) this.noteDelivery(h.connId * 4294967296 + h.seq, latencyUs);
    const b = this.bucket(nowUs);
    b.receivedMsgs++;
    b.receivedBytes += size;
    if (this.isBroadcast || !freesSlot) return;
    c.inFlight--;
    // Closed loop: the reply frees a slot; send the next one at once.
    if (this.isClosed && this.sending && c.open) this.sendOn(c, nowUs);
  }

  /** Broadcast: the latest delivery of each message seen by this worker, for the time to the last recipient. */
  noteDelivery(key: number, latencyUs: number) {
    const e = this.lastRecipient.get(key);
    if (e) {
      e.deliveries++;
      if (latencyUs > e.maxLatencyUs) e.maxLatencyUs = latencyUs;
    } else this.lastRecipient.set(key, { maxLatencyUs: latencyUs, deliveries: 1 });
  }

  onClose(c: Conn, code: number, byUs: boolean) {
    c.open = false;
    if (c.slow) this.slow!.closed(code, byUs);
    if (!byUs) this.count(code === 1006 ? 'reset' : 'unexpected-close');
  }

  // ---- drain and report ---------------------------------------------------

  async drain() {
    const deadline = performance.now() + this.plan.drainTimeoutMs;
    const echo = this.plan.load.model === 'closed' || this.plan.load.model === 'open';
    // Broadcast: no more leaves or rejoins; slow consumers read freely to collect what the server kept for them.
    this.churn?.stop();
    this.slow?.release();
    while (performance.now() < deadline) {
      if (echo) {
        if (this.conns.every((c) => c.inFlight <= 0 || !c.open)) break;
      } else if (this.voice !== undefined) {
        // Every triggered turn is owed a response.done (even when chunks were dropped); a closed session owes nothing more.
        const v = this.voice;
        if (this.conns.every((c) => !c.open || v.pendingTurns(c.id) === 0)) break;
      } else if (
        epochClockUs() - Math.max(this.lastRecvAtUs, this.measureEndUs) > 200_000 &&
        (this.slow === undefined || epochClockUs() - Math.max(this.slow.lastRecvAtUs, this.measureEndUs) > 500_000)
      ) {
        // Broadcast and idle: nothing owed is known locally; stop when the wire has been quiet for 200 ms
        // (and the slow consumers, which read their backlog from the server's buffers now, for 500 ms).
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const sentBySender: [number, number][] = [];
    for (const c of this.conns) if (c.seq > 0) sentBySender.push([c.id, c.seq]);
    post({ type: 'drained', sentBySender });
  }

  finish(sentBySenderAll: [number, number][]) {
    const sent = new Map(sentBySenderAll);
    const m = this.plan.load;
    let totals;
    if (m.model === 'broadcast') {
      const membersByRoom = new Map<number, number[]>();
      const partial = new Set<number>();
      for (const c of this.conns) {
        if ((!c.open && c.t === undefined) || c.slow) continue;
        if (c.partial) partial.add(c.id);
        const list = membersByRoom.get(c.room) ?? [];
        list.push(c.id);
        membersByRoom.set(c.room, list);
      }
      totals = this.accounting.finish(
        sent,
        (sender) => membersByRoom.get(sender % m.rooms) ?? [],
        partial.size > 0 ? (receiver) => partial.has(receiver) : undefined,
      );
    } else {
      const local = new Map([...sent].filter(([id]) => id >= this.init.firstConnId && id < this.init.firstConnId + this.init.connections));
      totals = this.accounting.finish(local);
    }
    this.latencyRec.flushInto(this.latency);
    let localSent = 0;
    for (const c of this.conns) localSent += c.seq;
    const ol = this.sender?.counters;
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
      delivery: {
        sent: localSent,
        expected: totals.expected,
        received: totals.received,
        lost: totals.lost,
        duplicated: totals.duplicated,
        corrupted: totals.corrupted,
        outOfOrder: totals.outOfOrder,
      },
      cpuUs: this.cpuUs,
      measuredMs: this.measuredMs,
      eventLoopDelayP99Us: nsToUs(this.loopDelay.percentile(99)),
      eventLoopDelayMaxUs: nsToUs(this.loopDelay.max),
      spinWait: this.init.spinWait && ol !== undefined,
      ...(ol ? { schedule: { sent: ol.sent, late: ol.late, dropped: ol.dropped } } : {}),
    };
    if (this.voice !== undefined && m.model === 'voice') {
      const v = this.voice.result();
      result.voice = v;
      // The voice model's latency is the time to the first reply chunk; its deliveries are reply events.
      result.latencyEncoded = v.firstChunkEncoded;
      result.delivery = {
        sent: v.audioEventsSent + v.controlEventsSent,
        expected: v.repliesExpected,
        received: v.repliesReceived,
        lost: Math.max(0, v.repliesExpected - v.repliesReceived),
        duplicated: v.duplicated,
        corrupted: v.repliesCorrupted,
        outOfOrder: v.outOfOrder,
      };
      // The audio events are an open-loop schedule: what it could not send on time is reported like the open model's.
      if (this.sender) {
        result.openLoop = { targetPerSec: this.sender.schedule.ratePerSec, intended: ol!.intended, sent: ol!.sent, late: ol!.late, dropped: ol!.dropped };
      }
    }
    if (ol && m.model === 'open') {
      result.openLoop = { targetPerSec: m.ratePerSec * (this.init.connections / this.plan.connections), intended: ol.intended, sent: ol.sent, late: ol.late, dropped: ol.dropped };
    }
    if (m.model === 'broadcast') {
      result.lastRecipient = [...this.lastRecipient].map(([key, v]) => ({ key: String(key), ...v }));
      if (this.slow) result.slowConsumers = this.slow.result(sent, m.rooms);
      if (m.churn) result.churn = this.churn?.result() ?? { leaves: 0, rejoins: 0, failedRejoins: 0 };
    }
    for (const c of this.conns) if (c.t) this.transport.close(c.t);
    post({ type: 'result', result });
    setTimeout(() => process.exit(0), 300).unref();
  }

  stop() {
    for (const c of this.conns) if (c.t) this.transport.destroy(c.t);
    process.exit(0);
  }
}

function nsToUs(ns: number): number {
  return Number.isFinite(ns) ? ns / 1000 : 0;
}

let worker: Runner | undefined;
// The coordinator going away (crash, SIGKILL) must not leave workers behind.
process.on('disconnect', () => process.exit(0));
process.on('message', (m: ToWorker) => {
  try {
    if (m.type === 'init') {
      if (m.plan.load.model === 'http') {
        worker = createHttpRunner(m, post);
        return;
      }
      if (m.plan.load.model === 'ceiling') {
        worker = createCeilingRunner(m);
        return;
      }
      const w = new Worker(m);
      worker = w;
      void w.connectAll().catch((e: unknown) => post({ type: 'fatal', message: (e as Error).stack ?? String(e) }));
    } else if (m.type === 'start') worker?.start(m.startAtUs);
    else if (m.type === 'finish') worker?.finish(m.sentBySender);
    else if (m.type === 'stop') {
      if (worker) worker.stop();
      else process.exit(0);
    }
  } catch (e) {
    post({ type: 'fatal', message: (e as Error).stack ?? String(e) });
  }
});
