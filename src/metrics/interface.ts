// What the node's subsystems report to metrics. Every method is cheap, never throws and never
// blocks, so callers on hot paths (consensus, mempool, gossip) need no guard of their own. The
// disabled implementation has the same surface and does nothing.
import type { Registry } from 'prom-client';
import type { ConsensusEvent, DecidedBlock } from '../consensus/engine.js';
import type { MempoolMetrics } from '../mempool/index.js';
import type { State } from '../store/index.js';

export interface ConsensusMetrics {
  /**
   * A state was loaded (at start, after the handshake) or produced by a block: validators, their
   * power, the height being decided and the latest block height.
   */
  recordState(state: State): void;
  /** A block was committed: CometBFT's per-block consensus metrics (engine hook `onDecided`). */
  onDecided(d: DecidedBlock): void;
  /** Round progress: the height gauge and step/round durations (engine hook `onEvent`). */
  onEvent(e: ConsensusEvent): void;
}

/** Gossip and peer management, reported by the p2p layer. */
export interface P2PMetrics {
  /** Connected peers now. */
  peers(count: number): void;
  /**
   * One gossip message received on `topic`. Pass the topic's kind ("txs", "votes",
   * "proposals" …), not the chain-scoped topic string; distinct values are capped.
   */
  messageReceived(topic: string, bytes?: number): void;
  /** One gossip message published on `topic` (same naming as messageReceived). */
  messageSent(topic: string, bytes?: number): void;
  /** A peer was disconnected and banned, for a short reason ("invalid_signature", "flood" …). */
  peerBanned(reason: string): void;
}

/** Catch-up progress, reported by block sync and state sync. */
export interface SyncMetrics {
  /** Block sync started (true) or switched to consensus (false). */
  blockSyncing(active: boolean): void;
  /** Block sync has applied `synced` and aims at the peers' best height `target`. */
  blockSyncProgress(synced: number, target: number): void;
  /** State sync started (true) or ended (false). */
  stateSyncing(active: boolean): void;
  /** State sync applied `applied` of the snapshot's `total` chunks. */
  stateSyncChunks(applied: number, total: number): void;
}

/** The Prometheus endpoint. */
export interface MetricsServer {
  /** Listens (no-op when disabled or when no address is configured). Rejects if the port cannot be opened. */
  start(): Promise<void>;
  /** Closes the listener and every open connection; safe to call twice. */
  stop(): Promise<void>;
  /** The bound address while listening (the real port when 0 was asked for). */
  address(): { readonly host: string; readonly port: number } | undefined;
}

/** The consensus engine's observer hooks, ready to pass in its modules. */
export interface ConsensusHooks {
  readonly onDecided: (d: DecidedBlock) => void;
  readonly onEvent: (e: ConsensusEvent) => void;
}

export interface NodeMetrics {
  readonly enabled: boolean;
  /** The node's metrics (empty when disabled); others may register theirs here. */
  readonly registry: Registry;
  readonly server: MetricsServer;
  readonly consensus: ConsensusMetrics;
  /** Pass as the mempool's `metrics` module. */
  readonly mempool: Required<MempoolMetrics>;
  readonly p2p: P2PMetrics;
  readonly sync: SyncMetrics;
  /** consensus.onDecided / consensus.onEvent, bound. */
  readonly hooks: ConsensusHooks;
  /** The text exposition GET /metrics serves, process metrics included ("" when disabled). */
  scrape(): Promise<string>;
}
