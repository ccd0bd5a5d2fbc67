// What `bench run` adds around a cell with a simulated upstream (voice): the
// relay's equivalence check and the upstream's counters. The upstream's
// configuration and the drain are the voice model's (loadgen/models/voice.ts).
import http from 'node:http';
import type { UpstreamStats } from '../upstream/config.js';
import { RELAY_CONNECT_TIMEOUT_MS, type RelayInfo } from '../servers/settings.js';

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
