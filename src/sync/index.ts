// Block sync: catching up from peers before (and, when fallen behind, instead of) consensus.
export { BlockSync, DEFAULT_BLOCK_SYNC, type BlockSyncOptions, type BlockSyncModules } from './block-sync.js';
export { RangeScheduler, type SchedulerOptions, type RangeRequest } from './scheduler.js';
export { SyncError, type SyncErrorKind } from './errors.js';
export type { SyncBlock, PeerStatus, SyncNetwork, ConsensusControl, SyncLogger, BlockSyncMetrics } from './interface.js';
