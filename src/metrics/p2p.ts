// Peer and gossip metrics. p2p_peers is CometBFT's name; gossip counters are by libp2p topic
// (Tally's p2p is libp2p, not CometBFT's channels), with Prometheus' _total suffix.
import { Counter, Gauge, type Registry } from 'prom-client';
import { BoundedLabel, guarded, isAmount } from './guard.js';
import type { P2PMetrics } from './interface.js';
import type { MetricsLogger } from './options.js';

/** Distinct topic / reason label values kept before further ones are counted as "other". */
export const MAX_LABEL_VALUES = 32;

export function promP2PMetrics(namespace: string, registry: Registry, logger: MetricsLogger): P2PMetrics {
  const n = (name: string): string => `${namespace}_p2p_${name}`;
  const registers = [registry];
  const peers = new Gauge({ name: n('peers'), help: 'Number of connected peers.', registers });
  const receivedMsgs = new Counter<'topic'>({ name: n('gossip_received_messages_total'), help: 'Gossip messages received, by topic.', labelNames: ['topic'], registers });
  const sentMsgs = new Counter<'topic'>({ name: n('gossip_sent_messages_total'), help: 'Gossip messages published, by topic.', labelNames: ['topic'], registers });
  const receivedBytes = new Counter<'topic'>({ name: n('gossip_received_bytes_total'), help: 'Bytes of gossip messages received, by topic.', labelNames: ['topic'], registers });
  const sentBytes = new Counter<'topic'>({ name: n('gossip_sent_bytes_total'), help: 'Bytes of gossip messages published, by topic.', labelNames: ['topic'], registers });
  const bans = new Counter<'reason'>({ name: n('peer_bans_total'), help: 'Peers disconnected and banned, by reason.', labelNames: ['reason'], registers });
  const topics = new BoundedLabel(MAX_LABEL_VALUES);
  const reasons = new BoundedLabel(MAX_LABEL_VALUES);
  return {
    peers: guarded(logger, 'p2p.peers', (count: number) => {
      if (isAmount(count)) peers.set(count);
    }),
    messageReceived: guarded(logger, 'p2p.messageReceived', (topic: string, bytes?: number) => {
      const t = topics.value(topic);
      receivedMsgs.labels(t).inc();
      if (isAmount(bytes)) receivedBytes.labels(t).inc(bytes);
    }),
    messageSent: guarded(logger, 'p2p.messageSent', (topic: string, bytes?: number) => {
      const t = topics.value(topic);
      sentMsgs.labels(t).inc();
      if (isAmount(bytes)) sentBytes.labels(t).inc(bytes);
    }),
    peerBanned: guarded(logger, 'p2p.peerBanned', (reason: string) => bans.labels(reasons.value(reason)).inc()),
  };
}
