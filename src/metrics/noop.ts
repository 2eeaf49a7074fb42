// Metrics switched off: the same surface, nothing collected, no port opened.
import { Registry } from 'prom-client';
import type { NodeMetrics } from './interface.js';

const nothing = (): void => {};

export function noopNodeMetrics(): NodeMetrics {
  const consensus = { recordState: nothing, onDecided: nothing, onEvent: nothing };
  return {
    enabled: false,
    registry: new Registry(),
    server: { start: async () => {}, stop: async () => {}, address: () => undefined },
    consensus,
    mempool: { size: nothing, txAdded: nothing, txRejected: nothing, txFailed: nothing, txEvicted: nothing, rechecked: nothing },
    p2p: { peers: nothing, messageReceived: nothing, messageSent: nothing, peerBanned: nothing },
    sync: { blockSyncing: nothing, blockSyncProgress: nothing, stateSyncing: nothing, stateSyncChunks: nothing },
    hooks: consensus,
    scrape: async () => '',
  };
}
