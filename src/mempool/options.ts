// Mempool configuration with CometBFT's defaults, and the collaborators it is given.
import type { Application } from '../abci/index.js';
import type { MempoolConfig } from '../config/index.js';
import { MempoolUsageError, type RejectReason } from './errors.js';

export interface MempoolOptions {
  /** Max txs in the pool (config `size`). */
  readonly size?: number;
  /** Max total raw bytes of the txs in the pool (config `max_txs_bytes`). */
  readonly maxTxsBytes?: number;
  /** Max raw bytes of one tx (config `max_tx_bytes`). */
  readonly maxTxBytes?: number;
  /** Hashes remembered by the seen-cache; 0 disables it (config `cache_size`). */
  readonly cacheSize?: number;
  /** Re-run CheckTx on the remaining txs after every block (config `recheck`). */
  readonly recheck?: boolean;
  /** Keep txs the app rejected in the seen-cache, so they are not checked again (CometBFT's keep-invalid-txs-in-cache). */
  readonly keepInvalidTxsInCache?: boolean;
  /** CheckTx calls allowed to wait for their turn (behind consensus or a recheck) before new ones are refused as busy. */
  readonly maxWaitingChecks?: number;
  /** The last committed height when the mempool is created (update() must then be called with higher ones). */
  readonly height?: number;
  /** The block's limits, to refuse txs that could never be included; update() may replace them. */
  readonly blockLimits?: BlockLimits;
}

/**
 * What a tx must satisfy to fit a block at all (CometBFT's TxPreCheck / TxPostCheck). Without
 * them a tx wanting more gas than a block allows would sit at the head of the FIFO and stop
 * every reap behind it.
 */
export interface BlockLimits {
  /** Max proto size of one tx in the block's Data (MaxDataBytesNoEvidence); -1 = no limit. */
  readonly maxDataBytes: number;
  /** The block's max gas (consensus param block.max_gas); -1 = no limit. */
  readonly maxGas: bigint;
}

export const DEFAULT_MEMPOOL_SIZE = 5000;
export const DEFAULT_MAX_TXS_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_TX_BYTES = 1024 * 1024;
export const DEFAULT_CACHE_SIZE = 10_000;
export const DEFAULT_MAX_WAITING_CHECKS = 10_000;

export interface ResolvedMempoolOptions {
  readonly size: number;
  readonly maxTxsBytes: number;
  readonly maxTxBytes: number;
  readonly cacheSize: number;
  readonly recheck: boolean;
  readonly keepInvalidTxsInCache: boolean;
  readonly maxWaitingChecks: number;
  readonly height: number;
  readonly blockLimits: BlockLimits | undefined;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new MempoolUsageError(`mempool option ${name} must be a positive integer`, { [name]: v });
  return v;
}

function nonNegativeInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new MempoolUsageError(`mempool option ${name} must be a non-negative integer`, { [name]: v });
  return v;
}

export function checkBlockLimits(l: BlockLimits): BlockLimits {
  if (!Number.isSafeInteger(l.maxDataBytes) || l.maxDataBytes < -1) {
    throw new MempoolUsageError('block limit maxDataBytes must be -1 or a non-negative integer', { maxDataBytes: l.maxDataBytes });
  }
  if (l.maxGas < -1n) throw new MempoolUsageError('block limit maxGas must be -1 or non-negative', { maxGas: l.maxGas });
  return l;
}

export function resolveOptions(o: MempoolOptions): ResolvedMempoolOptions {
  const r: ResolvedMempoolOptions = {
    size: positiveInt('size', o.size ?? DEFAULT_MEMPOOL_SIZE),
    maxTxsBytes: positiveInt('maxTxsBytes', o.maxTxsBytes ?? DEFAULT_MAX_TXS_BYTES),
    maxTxBytes: positiveInt('maxTxBytes', o.maxTxBytes ?? DEFAULT_MAX_TX_BYTES),
    cacheSize: nonNegativeInt('cacheSize', o.cacheSize ?? DEFAULT_CACHE_SIZE),
    recheck: o.recheck ?? true,
    keepInvalidTxsInCache: o.keepInvalidTxsInCache ?? false,
    maxWaitingChecks: nonNegativeInt('maxWaitingChecks', o.maxWaitingChecks ?? DEFAULT_MAX_WAITING_CHECKS),
    height: nonNegativeInt('height', o.height ?? 0),
    blockLimits: o.blockLimits === undefined ? undefined : checkBlockLimits(o.blockLimits),
  };
  if (r.maxTxBytes > r.maxTxsBytes) {
    // such a tx could be accepted by size but never fit the pool
    throw new MempoolUsageError('mempool option maxTxBytes must not exceed maxTxsBytes', { maxTxBytes: r.maxTxBytes, maxTxsBytes: r.maxTxsBytes });
  }
  return r;
}

/** The options from config.toml's [mempool] section (`broadcast` belongs to the gossip layer). */
export function mempoolOptionsFromConfig(cfg: MempoolConfig, extra: Omit<MempoolOptions, 'size' | 'maxTxsBytes' | 'maxTxBytes' | 'cacheSize' | 'recheck' | 'keepInvalidTxsInCache'> = {}): MempoolOptions {
  return { ...extra, size: cfg.size, maxTxsBytes: cfg.maxTxsBytes, maxTxBytes: cfg.maxTxBytes, cacheSize: cfg.cacheSize, recheck: cfg.recheck, keepInvalidTxsInCache: cfg.keepInvalidTxsInCache };
}

/** Pino-shaped; a pino Logger fits. */
export interface MempoolLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Hooks for Prometheus metrics (CometBFT's mempool_* series); every hook is optional so the node
 * can wire prom-client without the mempool depending on it.
 */
export interface MempoolMetrics {
  /** The pool's size changed (mempool_size, mempool_size_bytes). */
  size?(txs: number, bytes: number): void;
  /** A tx was added (mempool_tx_size_bytes histogram). */
  txAdded?(bytes: number): void;
  /** A tx was refused before or after CheckTx for a mempool reason (mempool_rejected_txs). */
  txRejected?(reason: RejectReason): void;
  /** The app's CheckTx rejected a new tx (mempool_failed_txs). */
  txFailed?(code: number): void;
  /** A recheck evicted a tx (mempool_evicted_txs). */
  txEvicted?(): void;
  /** One recheck CheckTx ran (mempool_recheck_times). */
  rechecked?(): void;
}

export interface MempoolModules {
  /**
   * The app. Pass the node's shared SerializedApplication (abci's serialize()), so that mempool
   * calls queue behind consensus calls instead of re-entering the app; the mempool itself makes
   * one call at a time.
   */
  readonly app: Application;
  readonly logger?: MempoolLogger;
  readonly metrics?: MempoolMetrics;
}
