// broadcast_tx_commit waits for its tx to be committed: a waiter per tx hash, resolved when a
// block containing the tx is applied. Registered before CheckTx, so a fast block can't be missed.
//
// Cheap per tx, since every broadcast_tx_commit makes one: a map from hash to waiter (a block's
// txs are looked up, never scanned against the waiters), and one timer for all of them instead of
// one each — waiters are kept in deadline order, which with one configured timeout is arrival
// order, so expiry only ever looks at the front.
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

export interface TxWait {
  /** The committed tx, or undefined after the timeout or cancel(). */
  readonly promise: Promise<CommittedTx | undefined>;
  cancel(): void;
}

class Waiter implements TxWait {
  readonly promise: Promise<CommittedTx | undefined>;
  private resolveFn: ((c: CommittedTx | undefined) => void) | null = null;
  /** Another waiter for the same tx (the same tx broadcast twice at once; rare). */
  next: Waiter | null = null;

  constructor(
    private readonly owner: TxWaiters,
    readonly key: string,
    readonly deadline: number,
  ) {
    this.promise = new Promise((resolve) => (this.resolveFn = resolve));
  }

  get settled(): boolean {
    return this.resolveFn === null;
  }

  settle(c: CommittedTx | undefined): void {
    const resolve = this.resolveFn;
    if (resolve === null) return;
    this.resolveFn = null;
    resolve(c);
  }

  cancel(): void {
    this.owner.remove(this);
    this.settle(undefined);
  }
}

const NEVER: TxWait = { promise: Promise.resolve(undefined), cancel: () => {} };

export class TxWaiters {
  /** Waiters by tx hash (uppercase hex), each with its chain of same-hash waiters. */
  private readonly waiting = new Map<string, Waiter>();
  private count = 0;
  /** Waiters by deadline (settled ones are skipped lazily), from `head` on. */
  private queue: Waiter[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  /** Resolves with the committed tx, or undefined after `timeoutMs`. `hashHex`: as toHex() spells it. */
  wait(hashHex: string, timeoutMs: number): TxWait {
    if (this.count >= MAX_TX_WAITERS) return NEVER;
    const key = hashHex;
    const w = new Waiter(this, key, Date.now() + timeoutMs);
    const first = this.waiting.get(key);
    if (first === undefined) this.waiting.set(key, w);
    else {
      let last = first;
      while (last.next !== null) last = last.next;
      last.next = w;
    }
    this.count++;
    this.enqueue(w);
    return w;
  }

  blockApplied(a: AppliedBlock): void {
    if (this.waiting.size === 0) return;
    const txs = a.block.data.txs;
    for (let index = 0; index < txs.length; index++) {
      const key = toHex(txHash(txs[index]!));
      let w: Waiter | null = this.waiting.get(key) ?? null;
      if (w === null) continue;
      this.waiting.delete(key);
      const committed: CommittedTx = { height: a.block.header.height, index, result: a.response.txResults[index]! };
      for (; w !== null; w = w.next) {
        this.count--;
        w.settle(committed);
      }
    }
    this.tidy();
  }

  /** Unlinks `w` from the map (its queue slot is dropped lazily, by tidy()). */
  remove(w: Waiter): void {
    if (w.settled) return;
    let prev: Waiter | null = null;
    for (let cur = this.waiting.get(w.key) ?? null; cur !== null; prev = cur, cur = cur.next) {
      if (cur !== w) continue;
      if (prev !== null) prev.next = cur.next;
      else if (cur.next !== null) this.waiting.set(w.key, cur.next);
      else this.waiting.delete(w.key);
      this.count--;
      return;
    }
  }

  private enqueue(w: Waiter): void {
    const q = this.queue;
    let i = q.length;
    // arrival order is deadline order unless timeouts differ between calls
    while (i > this.head && q[i - 1]!.deadline > w.deadline) i--;
    if (i === q.length) q.push(w);
    else q.splice(i, 0, w);
    if (w.deadline < this.timerAt) this.arm(w.deadline);
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, at - Date.now()));
    // the server's socket keeps the process alive while it serves; waiters alone must not
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = Date.now();
    const q = this.queue;
    while (this.head < q.length) {
      const w = q[this.head]!;
      if (!w.settled && w.deadline > now) break;
      this.head++;
      if (!w.settled) w.cancel();
    }
    this.tidy();
  }

  /**
   * Drops settled waiters from the queue (they hold their results), in amortised O(1) per waiter:
   * the front as it settles, the rest once they outnumber the live ones; then re-arms the timer
   * for the first live deadline, or clears it when nobody waits.
   */
  private tidy(): void {
    let q = this.queue;
    while (this.head < q.length && q[this.head]!.settled) this.head++;
    if (this.head === q.length) {
      this.queue = q = [];
      this.head = 0;
    } else if (q.length - this.head > 2 * this.count + 1024) {
      this.queue = q = q.slice(this.head).filter((w) => !w.settled);
      this.head = 0;
    }
    const next = q[this.head];
    if (next === undefined) {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
    } else if (next.deadline !== this.timerAt) this.arm(next.deadline);
  }
}
