// What block sync needs from the rest of the node. Ports, not classes, so tests pass fakes and
// sync/ imports nothing from node/ or p2p/'s host.
import type { Block, Commit, ExtendedCommit } from '../codec/index.js';
import type { State } from '../store/index.js';

/** A block with the commit its server saw for it (and the extended one, when it has it). */
export interface SyncBlock {
  readonly block: Block;
  readonly commit: Commit;
  readonly extendedCommit: ExtendedCommit | null;
}

/** A peer's stored heights. */
export interface PeerStatus {
  readonly base: number;
  readonly height: number;
}

/** The peers and the request/response protocols (NodeNetwork provides it over libp2p). */
export interface SyncNetwork {
  /** Connected peers now. */
  peers(): readonly string[];
  status(peer: string, signal: AbortSignal): Promise<PeerStatus>;
  /** Blocks `from` … in order, at most `count`; fewer (or none) when the peer has fewer. */
  blocks(peer: string, from: number, count: number, signal: AbortSignal): Promise<SyncBlock[]>;
}

/** The consensus engine, as block sync starts and stops it (ConsensusEngine fits). */
export interface ConsensusControl {
  /** Started and not stopped. */
  readonly running: boolean;
  /** The state after the last block consensus applied (defined once it was started). */
  readonly chainState: State;
  /** Starts (or restarts) consensus at the height after `state`'s last block. */
  start(state: State): Promise<void>;
  /** Stops consensus so block sync can apply blocks; start() may be called again. */
  stop(): Promise<void>;
}

/** Pino-shaped. */
export interface SyncLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The block-sync half of src/metrics' SyncMetrics. */
export interface BlockSyncMetrics {
  blockSyncing(active: boolean): void;
  blockSyncProgress(synced: number, target: number): void;
}
