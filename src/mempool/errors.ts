// Typed mempool errors. A MempoolError is an expected rejection of one tx (the RPC turns it into
// a broadcast error, the gossip layer into a debug log); a MempoolUsageError is a caller bug
// (bad options, update without the lock) and should surface loudly.

/**
 * Why a tx was turned away without being added. CometBFT's four limits first, then:
 * precheck_failed / postcheck_failed — the tx cannot fit a block (its proto size exceeds the
 * block's max data bytes, or its gasWanted exceeds the block's max gas; CometBFT's
 * TxPreCheck/TxPostCheck); busy — too many CheckTx calls already waiting; stopped — the mempool
 * was stopped.
 */
export type RejectReason =
  | 'empty_tx'
  | 'tx_too_large'
  | 'mempool_full'
  | 'already_in_cache'
  | 'precheck_failed'
  | 'postcheck_failed'
  | 'busy'
  | 'stopped';

export class MempoolError extends Error {
  override readonly name = 'MempoolError';
  constructor(
    readonly reason: RejectReason,
    message: string,
    readonly context: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** The mempool was used against its contract; `context` says with which values. */
export class MempoolUsageError extends Error {
  override readonly name = 'MempoolUsageError';
  constructor(
    message: string,
    readonly context: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

// CometBFT's wording, so operators and clients that match on it see the same text.

export function txTooLarge(max: number, actual: number): MempoolError {
  return new MempoolError('tx_too_large', `Tx too large. Max size is ${max}, but got ${actual}`, { max, actual });
}

export function mempoolFull(numTxs: number, maxTxs: number, txsBytes: number, maxTxsBytes: number): MempoolError {
  return new MempoolError(
    'mempool_full',
    `mempool is full: number of txs ${numTxs} (max: ${maxTxs}), total txs bytes ${txsBytes} (max: ${maxTxsBytes})`,
    { numTxs, maxTxs, txsBytes, maxTxsBytes },
  );
}

export function alreadyInCache(hash: string): MempoolError {
  return new MempoolError('already_in_cache', 'tx already exists in cache', { hash });
}

export function emptyTx(): MempoolError {
  return new MempoolError('empty_tx', 'tx is empty');
}

export function precheckFailed(size: number, max: number): MempoolError {
  return new MempoolError('precheck_failed', `tx pre check: tx size is too big: ${size}, max: ${max}`, { size, max });
}

export function postcheckFailed(message: string, gasWanted: bigint, maxGas: bigint): MempoolError {
  return new MempoolError('postcheck_failed', `tx post check: ${message}`, { gasWanted, maxGas });
}

export function busy(waiting: number, max: number): MempoolError {
  return new MempoolError('busy', `mempool is busy: ${waiting} CheckTx calls waiting (max: ${max})`, { waiting, max });
}

export function stopped(): MempoolError {
  return new MempoolError('stopped', 'mempool is stopped');
}
