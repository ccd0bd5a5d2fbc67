// What `bench run` adds around a voice-agent cell: the simulated upstream's
// configuration from the scenario, how long the drain must wait for replies,
// the relay's equivalence check, and the upstream's counters.
import http from 'node:http';
import type { AnyModel } from '../loadgen/models/index.js';
import type { VoiceModel } from '../loadgen/types.js';
import type { UpstreamConfig, UpstreamStats } from '../upstream/config.js';
import { parseLatency, MAX_LATENCY_MS, type LatencySpec } from '../upstream/latency.js';
import { RELAY_CONNECT_TIMEOUT_MS, type RelayInfo } from '../servers/settings.js';

/** The ordinary drain: what is in flight on loopback arrives well within it. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 2000;
/** Slow consumers read what the server buffered for them at full speed in the drain; megabytes take a moment. */
export const SLOW_CONSUMER_DRAIN_TIMEOUT_MS = 15_000;

/** The upstream's settings for a voice model (the scenario gives the latency as text, e.g. `uniform:200:800`). */
export function upstreamConfigOf(m: VoiceModel): Partial<UpstreamConfig> {
  const latency = parseLatency(m.upstream.latency);
  // The scenario validator already refused a bad latency; this only keeps the types honest.
  if (typeof latency === 'string') throw new Error(`load.upstream.latency: ${latency}`);
  return { latency, chunks: m.upstream.chunks, chunkIntervalMs: m.upstream.chunkIntervalMs, chunkAudioBytes: m.upstream.chunkAudioBytes, seed: m.upstream.seed };
}

/** The longest think time a latency distribution gives in practice (a log-normal's 99.99th percentile). */
export function maxThinkMs(spec: LatencySpec): number {
  switch (spec.kind) {
    case 'fixed':
      return spec.ms;
    case 'uniform':
      return spec.maxMs;
    case 'lognormal':
      return Math.min(MAX_LATENCY_MS, spec.medianMs * Math.exp(3.72 * spec.sigma));
  }
}

/**
 * How long a case's drain may wait after the window: a voice turn triggered at
 * the window's last moment is owed its whole reply (think time and burst), so
 * its drain covers that; slow consumers get time to read their backlog.
 */
export function drainTimeoutMsFor(m: AnyModel): number {
  if (m.model === 'voice') {
    const spec = parseLatency(m.upstream.latency);
    const think = typeof spec === 'string' ? MAX_LATENCY_MS : maxThinkMs(spec);
    return Math.ceil(think + m.upstream.chunks * m.upstream.chunkIntervalMs + DEFAULT_DRAIN_TIMEOUT_MS);
  }
  if (m.model === 'broadcast' && m.slowConsumers) return SLOW_CONSUMER_DRAIN_TIMEOUT_MS;
  return DEFAULT_DRAIN_TIMEOUT_MS;
}

/**
 * Why a server's relay is not the contract's, as sentences (empty: it is):
 * it must report its relay, relay to this cell's upstream, and wait the
 * contract's connect timeout. The client library is compared, not equalised.
 */
export function relayDifferences(label: string, relay: RelayInfo | undefined, upstreamUrl: string): string[] {
  if (!relay) return [`${label} reported no relay route in its ready line (servers/CONTRACT.md, "relay")`];
  const out: string[] = [];
  const normalise = (u: string) => new URL(u).href;
  if (relay.upstreamUrl === null || normalise(relay.upstreamUrl) !== normalise(upstreamUrl)) {
    out.push(`${label} relays to ${relay.upstreamUrl ?? 'no upstream'}, not to this cell's upstream ${upstreamUrl}`);
  }
  if (relay.connectTimeoutMs !== RELAY_CONNECT_TIMEOUT_MS) {
    out.push(`${label} waits ${relay.connectTimeoutMs} ms for its upstream leg, the contract ${RELAY_CONNECT_TIMEOUT_MS} ms`);
  }
  return out;
}

/** GET /stats on the upstream; undefined when it does not answer within 2 s (the figures are then left out). */
export function fetchUpstreamStats(host: string, port: number): Promise<UpstreamStats | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/stats', timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => (body += s));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(body) as UpstreamStats) : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}
