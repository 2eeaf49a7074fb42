// Catch-up metrics: blocksync_syncing and statesync_syncing are CometBFT's; the progress gauges
// are Tally's (DESIGN: long work reports progress).
import { Gauge, type Registry } from 'prom-client';
import { guarded, isAmount } from './guard.js';
import type { SyncMetrics } from './interface.js';
import type { MetricsLogger } from './options.js';

export function promSyncMetrics(namespace: string, registry: Registry, logger: MetricsLogger): SyncMetrics {
  const registers = [registry];
  const blockSyncing = new Gauge({ name: `${namespace}_blocksync_syncing`, help: 'Either 0 (not block syncing) or 1 (syncing).', registers });
  const targetHeight = new Gauge({ name: `${namespace}_blocksync_target_height`, help: 'Best height reported by peers that block sync aims at.', registers });
  const syncedHeight = new Gauge({ name: `${namespace}_blocksync_synced_height`, help: 'Height of the last block applied by block sync.', registers });
  const stateSyncing = new Gauge({ name: `${namespace}_statesync_syncing`, help: 'Either 0 (not state syncing) or 1 (syncing).', registers });
  const chunksApplied = new Gauge({ name: `${namespace}_statesync_chunks_applied`, help: 'Chunks of the snapshot being restored that were applied.', registers });
  const chunks = new Gauge({ name: `${namespace}_statesync_snapshot_chunks`, help: 'Chunks in the snapshot being restored.', registers });
  return {
    blockSyncing: guarded(logger, 'sync.blockSyncing', (active: boolean) => blockSyncing.set(active ? 1 : 0)),
    blockSyncProgress: guarded(logger, 'sync.blockSyncProgress', (synced: number, target: number) => {
      if (isAmount(synced)) syncedHeight.set(synced);
      if (isAmount(target)) targetHeight.set(target);
    }),
    stateSyncing: guarded(logger, 'sync.stateSyncing', (active: boolean) => stateSyncing.set(active ? 1 : 0)),
    stateSyncChunks: guarded(logger, 'sync.stateSyncChunks', (applied: number, total: number) => {
      if (isAmount(applied)) chunksApplied.set(applied);
      if (isAmount(total)) chunks.set(total);
    }),
  };
}
