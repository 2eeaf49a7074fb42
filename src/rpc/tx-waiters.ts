// broadcast_tx_commit waits for its tx to be committed: a waiter per tx hash, resolved when a
// block containing the tx is applied. Registered before CheckTx, so a fast block can't be missed.
import { toHex, type ExecTxResult } from '../codec/index.js';
import type { AppliedBlock } from '../execution/index.js';
import { txHash } from '../types/index.js';

export interface CommittedTx {
  readonly height: number;
  readonly index: number;
  readonly result: ExecTxResult;
}

/** Bound on concurrent waiters (each is one broadcast_tx_commit in flight). */
export const MAX_TX_WAITERS = 10_000;

export class TxWaiters {
  private readonly waiting = new Map<string, ((c: CommittedTx) => void)[]>();
  private count = 0;

  /** Resolves with the committed tx, or undefined after `timeoutMs`. */
  wait(hash: Uint8Array, timeoutMs: number): { promise: Promise<CommittedTx | undefined>; cancel: () => void } {
    const key = toHex(hash);
    let cancel = (): void => {};
    const promise = new Promise<CommittedTx | undefined>((resolve) => {
      if (this.count >= MAX_TX_WAITERS) return resolve(undefined);
      const list = this.waiting.get(key) ?? [];
      const done = (c: CommittedTx | undefined): void => {
        clearTimeout(timer);
        const l = this.waiting.get(key);
        if (l) {
          const i = l.indexOf(onCommit);
          if (i >= 0) {
            l.splice(i, 1);
            this.count--;
          }
          if (l.length === 0) this.waiting.delete(key);
        }
        resolve(c);
      };
      const onCommit = (c: CommittedTx): void => done(c);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      cancel = () => done(undefined);
      list.push(onCommit);
      this.count++;
      this.waiting.set(key, list);
    });
    return { promise, cancel };
  }

  blockApplied(a: AppliedBlock): void {
    if (this.waiting.size === 0) return;
    a.block.data.txs.forEach((tx, index) => {
      const l = this.waiting.get(toHex(txHash(tx)));
      if (!l) return;
      for (const fn of [...l]) fn({ height: a.block.header.height, index, result: a.response.txResults[index]! });
    });
  }
}
