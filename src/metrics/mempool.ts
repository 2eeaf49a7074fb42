// Mempool metrics under CometBFT 0.38's names (mempool_*), fed through the mempool's own
// MempoolMetrics hooks so that the mempool does not depend on prom-client.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { MempoolMetrics, RejectReason } from '../mempool/index.js';
import { guarded, isAmount } from './guard.js';
import type { MetricsLogger } from './options.js';

/** Tx sizes from a few bytes to the 1 MiB default max_tx_bytes, by powers of 4. */
const TX_SIZE_BUCKETS = [16, 64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576];

export function promMempoolMetrics(namespace: string, registry: Registry, logger: MetricsLogger): Required<MempoolMetrics> {
  const n = (name: string): string => `${namespace}_mempool_${name}`;
  const registers = [registry];
  const size = new Gauge({ name: n('size'), help: 'Number of uncommitted transactions in the mempool.', registers });
  const sizeBytes = new Gauge({ name: n('size_bytes'), help: 'Total size of the uncommitted transactions in the mempool, in bytes.', registers });
  const txSize = new Histogram({ name: n('tx_size_bytes'), help: 'Sizes of the transactions added to the mempool, in bytes.', buckets: TX_SIZE_BUCKETS, registers });
  // the reason is the mempool's closed RejectReason set, so the label is bounded
  const rejected = new Counter<'reason'>({ name: n('rejected_txs'), help: 'Transactions refused for a mempool reason (full, too large, in cache …), by reason.', labelNames: ['reason'], registers });
  // no label for the app's code: its values are the app's choice and unbounded
  const failed = new Counter({ name: n('failed_txs'), help: "Transactions the app's CheckTx rejected.", registers });
  const evicted = new Counter({ name: n('evicted_txs'), help: 'Transactions evicted by a recheck after a block.', registers });
  const recheck = new Counter({ name: n('recheck_times'), help: 'CheckTx calls made to recheck transactions after a block.', registers });
  return {
    size: guarded(logger, 'mempool.size', (txs: number, bytes: number) => {
      if (isAmount(txs)) size.set(txs);
      if (isAmount(bytes)) sizeBytes.set(bytes);
    }),
    txAdded: guarded(logger, 'mempool.txAdded', (bytes: number) => {
      if (isAmount(bytes)) txSize.observe(bytes);
    }),
    txRejected: guarded(logger, 'mempool.txRejected', (reason: RejectReason) => rejected.labels(reason).inc()),
    txFailed: guarded(logger, 'mempool.txFailed', (_code: number) => failed.inc()),
    txEvicted: guarded(logger, 'mempool.txEvicted', () => evicted.inc()),
    rechecked: guarded(logger, 'mempool.rechecked', () => recheck.inc()),
  };
}
