// The mempool: CheckTx admission with limits and a seen-cache, FIFO reaping by proto size and
// gas, removal and recheck after each committed block.
export { Mempool, type CheckTxResult, type TxInfo, type TxKey } from './mempool.js';
export { MempoolError, MempoolUsageError, type RejectReason } from './errors.js';
export {
  mempoolOptionsFromConfig,
  DEFAULT_MEMPOOL_SIZE,
  DEFAULT_MAX_TXS_BYTES,
  DEFAULT_MAX_TX_BYTES,
  DEFAULT_CACHE_SIZE,
  DEFAULT_MAX_WAITING_CHECKS,
  type MempoolOptions,
  type BlockLimits,
  type MempoolModules,
  type MempoolLogger,
  type MempoolMetrics,
} from './options.js';
export { protoTxSize } from './size.js';
