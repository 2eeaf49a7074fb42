// A FIFO stand-in for the mempool: what execution needs of one (MempoolPort), nothing more.
import { toHex, type ExecTxResult } from '../../src/codec/index.js';
import type { MempoolPort } from '../../src/execution/index.js';

export class TestMempool implements MempoolPort {
  txs: Uint8Array[] = [];
  reapMaxBytesMaxGas(): Uint8Array[] {
    return [...this.txs];
  }
  update(_h: number, committed: readonly Uint8Array[], _r: readonly ExecTxResult[]): void {
    const done = new Set(committed.map(toHex));
    this.txs = this.txs.filter((t) => !done.has(toHex(t)));
  }
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }
}
