// The mempool: txs that passed the app's CheckTx, in arrival order, waiting to be proposed.
// CometBFT's CListMempool restated: size/bytes limits, an LRU seen-cache of tx hashes, reaping by
// proto size and gas, removal of committed txs, and recheck of the rest after every block.
//
// Concurrency (one event loop, so the only interleaving points are awaits):
// - Every app call the mempool makes, and consensus's lock()…unlock() section, run one at a
//   time behind one mutex (`gate`, FIFO, with consensus going ahead of queued CheckTx calls). A
//   CheckTx therefore never straddles a block commit, and
//   the limit/cache checks and the insertion around it are atomic with respect to update().
// - update() requires the lock; it removes committed txs synchronously and returns. The recheck
//   runs afterwards, one tx per turn of the gate, so consensus can take the lock again between
//   two recheck calls (a commit is never delayed by more than one CheckTx). A newer update()
//   abandons a recheck that has not finished: its answers would be about an older state.
// - Reap vs recheck: reaps never wait. They return the longest FIFO prefix of txs already checked
//   against the latest committed state: txs still waiting for their recheck are never proposed,
//   and the prefix keeps the pool's order (skipping a pending tx could propose a later tx of the
//   same sender without the earlier one). While a recheck runs, the verified txs are exactly a
//   prefix, because rechecks go in FIFO order and new CheckTx calls wait for the recheck to end —
//   which also keeps the app seeing Recheck calls before the New ones, as in CometBFT.
import { CODE_OK, CheckTxType, type Application, type ResponseCheckTx } from '../abci/index.js';
import { toHex } from '../codec/index.js';
import { txHash, txHashOnce } from '../types/index.js';
import { TxCache } from './cache.js';
import {
  MempoolError,
  MempoolUsageError,
  alreadyInCache,
  busy,
  emptyTx,
  mempoolFull,
  postcheckFailed,
  precheckFailed,
  stopped,
  txTooLarge,
} from './errors.js';
import { AsyncMutex, type Release } from './lock.js';
import {
  checkBlockLimits,
  resolveOptions,
  type BlockLimits,
  type MempoolLogger,
  type MempoolMetrics,
  type MempoolModules,
  type MempoolOptions,
  type ResolvedMempoolOptions,
} from './options.js';
import { protoTxSize } from './size.js';

/** The app's answer to a new tx, with the tx's hash (what broadcast_tx_sync returns). */
export type CheckTxResult = ResponseCheckTx & { readonly hash: Uint8Array };

export interface TxInfo {
  /** The peer the tx came from; absent for RPC. Gossip never sends a tx back to its senders. */
  readonly sender?: string;
}

/** A tx by its SHA-256 hash: the bytes, or their hex (either case). */
export type TxKey = Uint8Array | string;

interface Entry {
  readonly tx: Uint8Array;
  readonly key: string;
  readonly protoSize: number;
  /** From the first CheckTx, as in CometBFT (a recheck does not change it). */
  readonly gasWanted: bigint;
  /** Peers it came from; null until one is known (most txs have at most one sender). */
  senders: Senders;
  /** Checked against the state after the last committed block (false while waiting for recheck). */
  verified: boolean;
}

/**
 * The peers a tx came from: one (a string, the common case: no Set allocated per tx), several,
 * or none known yet.
 */
type Senders = string | Set<string> | null;

function withSender(senders: Senders, peer: string): Senders {
  if (senders === null || senders === peer) return peer;
  if (typeof senders === 'string') return new Set([senders, peer]);
  senders.add(peer);
  return senders;
}

interface RecheckRun {
  readonly generation: number;
  readonly height: number;
  readonly done: Promise<void>;
  readonly finish: () => void;
}

const silent: MempoolLogger = { debug: () => {}, info: () => {}, warn: () => {} };

function keyOf(hash: TxKey): string {
  return typeof hash === 'string' ? hash.toUpperCase() : toHex(hash);
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class Mempool {
  private readonly opts: ResolvedMempoolOptions;
  private readonly app: Application;
  private readonly log: MempoolLogger;
  private readonly metrics: MempoolMetrics;

  /** The FIFO: a Map iterates in insertion order and deletes in O(1). */
  private readonly entries = new Map<string, Entry>();
  private txsBytes = 0;
  private readonly cache: TxCache;
  private readonly gate = new AsyncMutex();
  private consensusRelease: Release | null = null;
  private lastHeight: number;
  private blockLimits: BlockLimits | undefined;
  private recheckRun: RecheckRun | null = null;
  private recheckGeneration = 0;
  private waitingChecks = 0;
  /**
   * The tx whose CheckTx is in flight (one at a time, behind the gate), with the peers that sent it
   * meanwhile: their copies are refused as duplicates, but they must not be sent it back either.
   */
  private checking: { readonly key: string; senders: Senders } | null = null;
  private readonly listeners = new Set<() => void>();
  /** One notification per height, like CometBFT's txsAvailable channel. */
  private notified = false;
  private isStopped = false;

  constructor(opts: MempoolOptions, modules: MempoolModules) {
    this.opts = resolveOptions(opts);
    this.app = modules.app;
    this.log = modules.logger ?? silent;
    this.metrics = modules.metrics ?? {};
    this.cache = new TxCache(this.opts.cacheSize);
    this.lastHeight = this.opts.height;
    this.blockLimits = this.opts.blockLimits;
  }

  // -------------------------------------------------------------------------------------------
  // Adding txs

  /**
   * Checks `tx` with the app and adds it if valid. Mempool limits, duplicates and unfit txs are
   * refused with a MempoolError; an app rejection (code ≠ 0) is a normal result, returned. An
   * exception from the app propagates (the tx is forgotten so it may be resubmitted).
   */
  async checkTx(tx: Uint8Array, info: TxInfo = {}): Promise<CheckTxResult> {
    if (this.isStopped) throw this.rejected(stopped());
    if (tx.length === 0) throw this.rejected(emptyTx());
    // before the fullness check: a tx that can never fit is told so, not to retry later
    if (tx.length > this.opts.maxTxBytes) throw this.rejected(txTooLarge(this.opts.maxTxBytes, tx.length));
    this.assertRoom(tx.length);
    // the caller's object is hashed (the RPC has usually hashed it already) but not cached: only
    // the copy below is kept, and a block on another node holds yet another copy
    const hash = txHashOnce(tx);
    const key = toHex(hash);
    // early duplicate answer, so a flood of copies does not queue (checked again below)
    if (this.cache.has(key) || this.entries.has(key)) throw this.duplicate(key, info.sender);
    if (this.waitingChecks >= this.opts.maxWaitingChecks) throw this.rejected(busy(this.waitingChecks, this.opts.maxWaitingChecks));
    const own = tx.slice(); // the caller may reuse its buffer

    // the common case, no recheck running and the gate free, takes it without a promise
    let release = this.recheckRun === null ? this.gate.tryAcquire() : null;
    if (release === null) {
      this.waitingChecks++;
      try {
        release = await this.turnForNewTx();
      } finally {
        this.waitingChecks--;
      }
    }
    try {
      return await this.checkNew(own, hash, key, info.sender);
    } finally {
      release();
    }
  }

  /** The gate, at a moment when no recheck is running. */
  private async turnForNewTx(): Promise<Release> {
    for (;;) {
      while (this.recheckRun !== null) await this.recheckRun.done;
      const release = await this.gate.acquire();
      if (this.recheckRun === null) return release;
      // an update() started a recheck while this call waited: let it go first
      release();
    }
  }

  private async checkNew(tx: Uint8Array, hash: Uint8Array, key: string, sender: string | undefined): Promise<CheckTxResult> {
    if (this.isStopped) throw this.rejected(stopped());
    // Exact, unlike CometBFT's check-before-and-after: only this method adds txs, and it holds the
    // gate until it has, so the pool cannot grow between this check and the insertion below.
    this.assertRoom(tx.length);
    const size = protoTxSize(tx.length);
    const pre = this.precheck(size);
    if (pre !== undefined) throw this.rejected(pre);
    const inPool = this.entries.has(key);
    if (!this.cache.push(key) || inPool) throw this.duplicate(key, sender);

    let res: ResponseCheckTx;
    const checking = (this.checking = { key, senders: sender ?? null });
    try {
      res = await this.app.checkTx({ tx, type: CheckTxType.New });
    } catch (e) {
      this.cache.remove(key);
      this.log.warn({ tx: key, err: errorMessage(e) }, 'CheckTx failed');
      throw e;
    } finally {
      this.checking = null;
    }
    const result: CheckTxResult = { ...res, hash };
    if (res.code !== CODE_OK) {
      if (!this.opts.keepInvalidTxsInCache) this.cache.remove(key); // it may become valid later
      this.metrics.txFailed?.(res.code);
      this.log.debug({ tx: key, code: res.code, codespace: res.codespace, log: res.log, sender }, 'rejected bad transaction');
      return result;
    }
    if (this.isStopped) {
      this.cache.remove(key);
      throw this.rejected(stopped());
    }
    const post = this.postcheck(res.gasWanted);
    if (post !== undefined) {
      if (!this.opts.keepInvalidTxsInCache) this.cache.remove(key);
      throw this.rejected(post);
    }
    const entry: Entry = {
      tx,
      key,
      protoSize: size,
      gasWanted: res.gasWanted,
      senders: checking.senders,
      verified: true,
    };
    this.entries.set(key, entry);
    this.txsBytes += tx.length;
    this.metrics.txAdded?.(tx.length);
    this.reportSize();
    this.log.debug({ tx: key, height: this.lastHeight, total: this.entries.size, sender }, 'added good transaction');
    this.notifyTxsAvailable();
    return result;
  }

  private assertRoom(txLength: number): void {
    if (this.entries.size >= this.opts.size || this.txsBytes + txLength > this.opts.maxTxsBytes) {
      throw this.rejected(mempoolFull(this.entries.size, this.opts.size, this.txsBytes, this.opts.maxTxsBytes));
    }
  }

  private duplicate(key: string, sender: string | undefined): MempoolError {
    // a tx may be in the cache but no longer in the pool (committed): record senders only for
    // pooled ones and the one being checked
    if (sender === undefined) return this.rejected(alreadyInCache(key));
    const entry = this.entries.get(key) ?? (this.checking?.key === key ? this.checking : undefined);
    if (entry !== undefined) entry.senders = withSender(entry.senders, sender);
    return this.rejected(alreadyInCache(key));
  }

  private precheck(protoSize: number): MempoolError | undefined {
    const max = this.blockLimits?.maxDataBytes ?? -1;
    return max !== -1 && protoSize > max ? precheckFailed(protoSize, max) : undefined;
  }

  private postcheck(gasWanted: bigint): MempoolError | undefined {
    const maxGas = this.blockLimits?.maxGas ?? -1n;
    if (maxGas === -1n) return undefined;
    if (gasWanted < 0n) return postcheckFailed(`gas wanted ${gasWanted} is negative`, gasWanted, maxGas);
    if (gasWanted > maxGas) return postcheckFailed(`gas wanted ${gasWanted} is greater than max gas ${maxGas}`, gasWanted, maxGas);
    return undefined;
  }

  private rejected(e: MempoolError): MempoolError {
    this.metrics.txRejected?.(e.reason);
    this.log.debug({ reason: e.reason, ...e.context }, e.message);
    return e;
  }

  // -------------------------------------------------------------------------------------------
  // Reaping

  /**
   * Txs for a proposal, in FIFO order, stopping at the first one that would take the total proto
   * size (as in the block's Data) past maxBytes or the total gasWanted past maxGas (-1: no limit),
   * or that still waits for its recheck. The arrays hold the pool's own buffers: do not modify.
   */
  reapMaxBytesMaxGas(maxBytes: number | bigint, maxGas: number | bigint): Uint8Array[] {
    const byteLimit = limitArg('maxBytes', maxBytes);
    const gasLimit = limitArg('maxGas', maxGas);
    const out: Uint8Array[] = [];
    let bytes = 0n;
    let gas = 0n;
    for (const e of this.entries.values()) {
      if (!e.verified) break;
      const nextBytes = bytes + BigInt(e.protoSize);
      if (byteLimit !== -1n && nextBytes > byteLimit) break;
      const nextGas = gas + e.gasWanted;
      if (gasLimit !== -1n && nextGas > gasLimit) break;
      bytes = nextBytes;
      gas = nextGas;
      out.push(e.tx);
    }
    return out;
  }

  /** Up to `max` txs (negative: all) in FIFO order, under the same recheck rule as reapMaxBytesMaxGas. */
  reapMaxTxs(max: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const e of this.entries.values()) {
      if (max >= 0 && out.length >= max) break;
      if (!e.verified) break;
      out.push(e.tx);
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // After a block

  /**
   * Waits for the mempool app call in flight (ahead of queued CheckTx calls), then keeps CheckTx
   * and recheck out until unlock(). Never call checkTx() while holding it: that would wait forever.
   */
  async lock(): Promise<void> {
    const release = await this.gate.acquire(true);
    this.consensusRelease = release;
  }

  unlock(): void {
    const release = this.consensusRelease;
    if (release === null) throw new MempoolUsageError('unlock() without lock()');
    this.consensusRelease = null;
    release();
  }

  async withLock<T>(fn: () => T | Promise<T>): Promise<T> {
    await this.lock();
    try {
      return await fn();
    } finally {
      this.unlock();
    }
  }

  /**
   * The block at `height` was committed with `committedTxs` and their results. Call with the lock
   * held. Removes those txs from the pool, remembers the valid ones in the cache (so they cannot
   * re-enter) and forgets the invalid ones (unless keepInvalidTxsInCache); then, if recheck is on,
   * starts rechecking the rest and returns without waiting for it (see idle()).
   */
  update(height: number, committedTxs: readonly Uint8Array[], txResults: readonly { readonly code: number }[], blockLimits?: BlockLimits): void {
    if (this.consensusRelease === null) throw new MempoolUsageError('update() requires the mempool lock', { height });
    if (!Number.isSafeInteger(height) || height <= this.lastHeight) {
      throw new MempoolUsageError('update() heights must increase', { height, lastHeight: this.lastHeight });
    }
    if (txResults.length !== committedTxs.length) {
      throw new MempoolUsageError('update() needs one result per committed tx', { txs: committedTxs.length, results: txResults.length });
    }
    if (blockLimits !== undefined) this.blockLimits = checkBlockLimits(blockLimits);
    this.lastHeight = height;
    this.notified = false;
    this.abandonRecheck();

    let removed = 0;
    for (let i = 0; i < committedTxs.length; i++) {
      // txHash: the block's validation (data_hash) has hashed these very objects
      const key = toHex(txHash(committedTxs[i]!));
      if (txResults[i]!.code === CODE_OK) this.cache.push(key);
      else if (!this.opts.keepInvalidTxsInCache) this.cache.remove(key);
      // note: a proposer may leave out valid txs; they simply stay in the pool
      if (this.removeEntry(key)) removed++;
    }
    this.reportSize();
    this.log.debug({ height, committed: committedTxs.length, removed, remaining: this.entries.size }, 'mempool updated');

    if (this.opts.recheck && this.entries.size > 0) this.startRecheck();
    else this.notifyTxsAvailable();
  }

  private startRecheck(): void {
    for (const e of this.entries.values()) e.verified = false;
    const generation = ++this.recheckGeneration;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const run: RecheckRun = { generation, height: this.lastHeight, done, finish };
    this.recheckRun = run;
    this.log.debug({ height: run.height, txs: this.entries.size }, 'recheck txs');
    const queue = [...this.entries.values()];
    this.recheckLoop(run, queue).catch((e: unknown) => this.log.warn({ height: run.height, err: errorMessage(e) }, 'recheck failed'));
  }

  private async recheckLoop(run: RecheckRun, queue: readonly Entry[]): Promise<void> {
    let evicted = 0;
    let release: Release | null = null;
    try {
      for (const entry of queue) {
        // The gate is kept from one tx to the next while nobody waits for it (no promise per tx);
        // whoever does — consensus above all — gets it after at most one CheckTx, as before.
        if (release !== null && this.gate.queued > 0) {
          release();
          release = null;
        }
        release ??= this.gate.tryAcquire() ?? (await this.gate.acquire());
        if (run.generation !== this.recheckGeneration) return;
        if (this.entries.get(entry.key) !== entry) continue; // removed meanwhile
        if (!(await this.recheckOne(run, entry))) evicted++;
      }
    } finally {
      release?.();
      if (run.generation === this.recheckGeneration) {
        this.recheckRun = null;
        run.finish();
        this.log.debug({ height: run.height, evicted, remaining: this.entries.size }, 'done rechecking txs');
        this.notifyTxsAvailable();
      }
    }
  }

  /** False if the tx was evicted. */
  private async recheckOne(run: RecheckRun, entry: Entry): Promise<boolean> {
    // the block limits may have shrunk with this block
    const pre = this.precheck(entry.protoSize);
    if (pre !== undefined) return this.evict(entry, pre.message);
    let res: ResponseCheckTx;
    try {
      res = await this.app.checkTx({ tx: entry.tx, type: CheckTxType.Recheck });
    } catch (e) {
      // unverifiable: drop it, and forget it so it can be resubmitted
      this.log.warn({ tx: entry.key, height: run.height, err: errorMessage(e) }, 'recheck CheckTx failed; dropping tx');
      this.removeEntry(entry.key);
      this.cache.remove(entry.key);
      this.reportSize();
      return false;
    }
    this.metrics.rechecked?.();
    // flushed or removed while the app was thinking
    if (run.generation !== this.recheckGeneration || this.entries.get(entry.key) !== entry) return true;
    if (res.code !== CODE_OK) return this.evict(entry, `code ${res.code}: ${res.log}`);
    const post = this.postcheck(res.gasWanted);
    if (post !== undefined) return this.evict(entry, post.message);
    entry.verified = true;
    return true;
  }

  private evict(entry: Entry, why: string): false {
    this.removeEntry(entry.key);
    if (!this.opts.keepInvalidTxsInCache) this.cache.remove(entry.key);
    this.metrics.txEvicted?.();
    this.reportSize();
    this.log.debug({ tx: entry.key, reason: why }, 'tx is no longer valid');
    return false;
  }

  private abandonRecheck(): void {
    const run = this.recheckRun;
    if (run === null) return;
    this.recheckGeneration++;
    this.recheckRun = null;
    run.finish();
    this.log.debug({ height: run.height }, 'recheck abandoned');
  }

  /** Resolves when no recheck is running (for tests, and for stop ordering). */
  async idle(): Promise<void> {
    while (this.recheckRun !== null) await this.recheckRun.done;
  }

  // -------------------------------------------------------------------------------------------
  // Inspection and maintenance

  size(): number {
    return this.entries.size;
  }

  /** Total raw bytes of the pooled txs (what max_txs_bytes limits). */
  sizeBytes(): number {
    return this.txsBytes;
  }

  /** The height of the last update() (or the initial height). */
  height(): number {
    return this.lastHeight;
  }

  has(hash: TxKey): boolean {
    return this.entries.has(keyOf(hash));
  }

  /** The peers a pooled tx was received from (empty if unknown or from RPC). */
  senders(hash: TxKey): readonly string[] {
    const senders = this.entries.get(keyOf(hash))?.senders ?? null;
    if (senders === null) return [];
    return typeof senders === 'string' ? [senders] : [...senders];
  }

  /** Up to `limit` pooled txs in FIFO order (all if absent or negative), for unconfirmed_txs. */
  txs(limit = -1): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const e of this.entries.values()) {
      if (limit >= 0 && out.length >= limit) break;
      out.push(e.tx);
    }
    return out;
  }

  /** Removes a pooled tx (it stays in the cache); false if it was not there. */
  removeTxByKey(hash: TxKey): boolean {
    const removed = this.removeEntry(keyOf(hash));
    if (removed) this.reportSize();
    return removed;
  }

  /** unsafe_flush_mempool: drops every tx and the cache, and abandons a running recheck. */
  flush(): void {
    this.abandonRecheck();
    this.entries.clear();
    this.txsBytes = 0;
    this.notified = false; // empty again: the next tx is news to whoever waits for txs
    this.cache.reset();
    this.reportSize();
    this.log.info({}, 'mempool flushed');
  }

  /**
   * `listener` runs when txs become available for a proposal, at most once per height (after
   * update(), or on the first tx added) — what consensus waits for when create_empty_blocks is
   * false. Returns a function that unsubscribes.
   */
  onTxAvailable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Refuses new txs, abandons the recheck, and waits for the app call in flight. */
  async stop(): Promise<void> {
    if (this.isStopped) return;
    this.isStopped = true;
    this.abandonRecheck();
    const release = await this.gate.acquire();
    release();
  }

  private removeEntry(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.txsBytes -= e.tx.length;
    return true;
  }

  private notifyTxsAvailable(): void {
    if (this.notified || this.entries.size === 0 || this.recheckRun !== null) return;
    this.notified = true;
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch (e) {
        this.log.warn({ err: errorMessage(e) }, 'txs-available listener failed');
      }
    }
  }

  private reportSize(): void {
    this.metrics.size?.(this.entries.size, this.txsBytes);
  }
}

function limitArg(name: string, v: number | bigint): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new MempoolUsageError(`${name} must be an integer`, { [name]: v });
  const b = BigInt(v);
  if (b < -1n) throw new MempoolUsageError(`${name} must be -1 (no limit) or non-negative`, { [name]: v });
  return b;
}
