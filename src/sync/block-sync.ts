// Block sync: how a node that is behind (fresh from genesis, or back after downtime) catches up.
// It learns the peers' heights (status), fetches blocks with their commits from several peers at
// once (RangeScheduler), verifies each block's commit against the validators it has, applies the
// blocks in order through the executor — the store-then-apply path consensus takes for a
// decided block — and starts consensus once it is within one height of the best peer. While
// consensus runs it keeps watching the peers' heights; fallen more than `switchLag` heights
// behind, it stops consensus and syncs again (CometBFT only ever syncs once, at start).
//
// Verification: block H is checked with the commit the server saw for H (VerifyCommitLight
// against the validators of H, which the state has after H-1), and that commit must be for
// exactly this block (header hash and part-set header). The block is then validated against
// the state like any block (its last commit fully verified). Extended commits come along when
// vote extensions are on at H, and are required then: consensus at H+1 needs them to propose.
import { toHex, type BlockID } from '../codec/index.js';
import { nodeBackend } from '../crypto/index.js';
import { ExecutionError, nextHeight, validateBlockAgainstState, type BlockExecutor } from '../execution/index.js';
import type { BlockStore, State } from '../store/index.js';
import { CommitVerifyError, badVoteExtension, blockIdEquals, blockParts, headerHash, verifyCommitLight } from '../types/index.js';
import { SyncError } from './errors.js';
import type { BlockSyncMetrics, ConsensusControl, SyncBlock, SyncLogger, SyncNetwork } from './interface.js';
import { RangeScheduler } from './scheduler.js';

export interface BlockSyncOptions {
  readonly chainId: string;
  /** Sync before consensus and when fallen behind (false: consensus only). */
  readonly enabled: boolean;
  /** Blocks per range request. */
  readonly batchSize?: number;
  /** Range requests in flight to one peer. */
  readonly maxPendingPerPeer?: number;
  /** Blocks fetched ahead of the one being applied. */
  readonly maxAhead?: number;
  /** How often peers are asked for their status while syncing. */
  readonly statusIntervalMs?: number;
  /** How often peers are asked for their status while consensus runs. */
  readonly watchIntervalMs?: number;
  /** Heights behind the best peer, seen twice in a row, that send a node in consensus back to block sync. */
  readonly switchLag?: number;
  /** A whole status request. */
  readonly statusTimeoutMs?: number;
  /** A whole range request; then it is retried elsewhere. */
  readonly requestTimeoutMs?: number;
  /** Failed (or empty) range requests in a row after which a peer sits out for 10 s. */
  readonly maxPeerFailures?: number;
  /** How often progress is logged. */
  readonly progressIntervalMs?: number;
}

export interface BlockSyncModules {
  readonly network: SyncNetwork;
  readonly executor: BlockExecutor;
  readonly blockStore: BlockStore;
  readonly consensus: ConsensusControl;
  readonly logger: SyncLogger;
  readonly metrics?: BlockSyncMetrics;
  /** A peer served a block or commit that does not verify (peer scoring may ban it). */
  readonly onBadPeer?: (peer: string, reason: string) => void;
  /** Each state block sync reached (metrics). */
  readonly onApplied?: (state: State) => void;
  /** Block sync cannot go on (the app hash diverged, a store failed): the node must stop. */
  readonly onFatal?: (err: Error) => void;
}

export const DEFAULT_BLOCK_SYNC = {
  batchSize: 20,
  maxPendingPerPeer: 4,
  maxAhead: 600,
  statusIntervalMs: 1_000,
  watchIntervalMs: 2_000,
  switchLag: 3,
  statusTimeoutMs: 5_000,
  requestTimeoutMs: 15_000,
  maxPeerFailures: 3,
  progressIntervalMs: 5_000,
} as const;

const BAD_PEER_EXCLUSION_MS = 60_000;
/** …and peers that failed or answered nothing maxPeerFailures times in a row (slow, or lying about their height). */
const FLAKY_PEER_EXCLUSION_MS = 10_000;

type Settings = Required<Omit<BlockSyncOptions, 'chainId' | 'enabled'>>;

export class BlockSync {
  private readonly s: Settings;
  private current: State | undefined;
  private mode: 'idle' | 'sync' | 'consensus' = 'idle';
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private readonly abort = new AbortController();
  private readonly failures = new Map<string, number>();
  /** Peers that served a bad block, kept out of the sync set until this time (ms); CometBFT's is 60 s too. */
  private readonly excluded = new Map<string, number>();
  private syncs = 0;

  constructor(
    private readonly opts: BlockSyncOptions,
    private readonly m: BlockSyncModules,
  ) {
    this.s = { ...DEFAULT_BLOCK_SYNC, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as Settings;
  }

  /** True while blocks are being fetched and applied (consensus is not running). */
  get syncing(): boolean {
    return this.mode === 'sync';
  }

  /** The latest state: consensus's when it runs, else the one block sync reached. */
  get state(): State | undefined {
    return this.m.consensus.running ? this.m.consensus.chainState : this.current;
  }

  /** How many times block sync started (the first sync included). */
  get syncRuns(): number {
    return this.syncs;
  }

  /**
   * Starts from `state` (the handshake's). With sync disabled, consensus starts now; else it
   * starts once block sync caught up. Returns without waiting for that.
   */
  async start(state: State): Promise<void> {
    this.current = state;
    if (!this.opts.enabled) {
      this.mode = 'consensus';
      await this.m.consensus.start(state);
      return;
    }
    this.mode = 'sync';
    this.loop = this.run().catch((e: unknown) => this.fail(e));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
    if (this.mode === 'sync') this.m.metrics?.blockSyncing(false);
  }

  private fail(e: unknown): void {
    if (this.stopped) return;
    const err = e instanceof Error ? e : new Error(String(e));
    this.m.logger.error({ err: err.message, height: this.current?.lastBlockHeight }, 'block sync stopped');
    this.stopped = true;
    this.m.onFatal?.(err);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.mode === 'sync') {
        const state = await this.sync(this.current!);
        if (this.stopped) return;
        this.current = state;
        this.mode = 'consensus';
        await this.m.consensus.start(state);
      } else {
        await this.watch();
        if (this.stopped) return;
        await this.m.consensus.stop();
        this.current = this.m.consensus.chainState;
        this.mode = 'sync';
      }
    }
  }

  /** Resolves after `ms`, or sooner when woken (a response came, or stop). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /** Fetches, verifies and applies blocks until within one height of the best peer. */
  private async sync(from: State): Promise<State> {
    this.syncs++;
    let state = from;
    const sched = new RangeScheduler<SyncBlock>({ batchSize: this.s.batchSize, maxPendingPerPeer: this.s.maxPendingPerPeer, maxAhead: this.s.maxAhead }, nextHeight(state));
    const log = this.m.logger;
    log.info({ height: state.lastBlockHeight }, 'block sync started');
    this.m.metrics?.blockSyncing(true);
    const t0 = Date.now();
    let lastLog = { at: t0, height: state.lastBlockHeight };
    let statusRounds = 0;
    let polling: Promise<void> | null = null;
    let lastPoll = 0;
    const poll = (): void => {
      if (polling) return;
      lastPoll = Date.now();
      polling = this.pollStatus(sched).then(() => {
        statusRounds++;
        polling = null;
        this.wake?.();
      });
    };
    try {
      poll();
      while (!this.stopped) {
        // no peer known yet (they are still connecting): ask more often, nothing is sent anyway
        const interval = sched.peerIds().length === 0 ? Math.min(250, this.s.statusIntervalMs) : this.s.statusIntervalMs;
        if (Date.now() - lastPoll >= interval) poll();
        for (const req of sched.schedule()) void this.fetch(sched, req.peer, req.from, req.count);

        const next = sched.peek();
        if (next) {
          try {
            state = await this.verifyAndApply(state, next.block);
            sched.advance();
            this.failures.delete(next.peer);
            this.m.onApplied?.(state);
            this.m.metrics?.blockSyncProgress(state.lastBlockHeight, sched.maxPeerHeight());
          } catch (e) {
            if (!(e instanceof SyncError && e.kind === 'bad_block')) throw e;
            sched.rejectNext();
            this.excluded.set(next.peer, Date.now() + BAD_PEER_EXCLUSION_MS);
            log.warn({ peer: next.peer, height: nextHeight(state), err: e.message, ...e.context }, 'peer sent a bad block: dropped from block sync');
            this.m.onBadPeer?.(next.peer, e.message);
          }
          const now = Date.now();
          if (now - lastLog.at >= this.s.progressIntervalMs) {
            const rate = ((state.lastBlockHeight - lastLog.height) * 1000) / (now - lastLog.at);
            log.info({ height: state.lastBlockHeight, target: sched.maxPeerHeight(), peers: sched.peerIds().length, inFlight: sched.inFlight(), blocksPerSecond: Math.round(rate * 10) / 10 }, 'block sync progress');
            lastLog = { at: now, height: state.lastBlockHeight };
          }
          continue;
        }
        const best = sched.maxPeerHeight();
        if (statusRounds > 0 && sched.peerIds().length > 0 && state.lastBlockHeight >= best - 1) {
          const secs = (Date.now() - t0) / 1000;
          const synced = state.lastBlockHeight - from.lastBlockHeight;
          log.info({ height: state.lastBlockHeight, peerHeight: best, synced, seconds: Math.round(secs * 10) / 10, blocksPerSecond: secs > 0 ? Math.round((synced / secs) * 10) / 10 : 0 }, 'block sync caught up: switching to consensus');
          return state;
        }
        await this.sleep(Math.max(10, interval - (Date.now() - lastPoll)));
      }
      return state;
    } finally {
      await polling;
      this.m.metrics?.blockSyncing(false);
    }
  }

  /** Asks every connected peer for its status (in parallel) and updates the sync set. */
  private async pollStatus(sched: RangeScheduler<SyncBlock>): Promise<void> {
    const now = Date.now();
    for (const [p, until] of this.excluded) if (until <= now) this.excluded.delete(p);
    const peers = this.m.network.peers().filter((p) => !this.excluded.has(p));
    const connected = new Set(peers);
    for (const p of sched.peerIds()) if (!connected.has(p)) sched.removePeer(p);
    await Promise.all(
      peers.map(async (peer) => {
        try {
          const s = await this.m.network.status(peer, AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.s.statusTimeoutMs)]));
          sched.setPeer(peer, s.base, s.height);
        } catch (e) {
          this.m.logger.debug({ peer, err: e instanceof Error ? e.message : String(e) }, 'status request failed');
        }
      }),
    );
  }

  private async fetch(sched: RangeScheduler<SyncBlock>, peer: string, from: number, count: number): Promise<void> {
    try {
      const blocks = await this.m.network.blocks(peer, from, count, AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.s.requestTimeoutMs)]));
      sched.received(peer, from, blocks);
      // none of a range its status claimed: a peer that keeps doing so must not hold sync back
      if (blocks.length === 0) this.strike(sched, peer, `no blocks from ${from} though its status claimed them`);
    } catch (e) {
      sched.failed(peer, from);
      this.strike(sched, peer, e instanceof Error ? e.message : String(e));
    }
    this.wake?.();
  }

  /** A failed or empty request: after maxPeerFailures in a row, the peer sits out for a while. */
  private strike(sched: RangeScheduler<SyncBlock>, peer: string, reason: string): void {
    const n = (this.failures.get(peer) ?? 0) + 1;
    this.m.logger.debug({ peer, failures: n, err: reason }, 'range request failed: retrying elsewhere');
    if (n < this.s.maxPeerFailures) {
      this.failures.set(peer, n);
      return;
    }
    this.failures.delete(peer);
    sched.removePeer(peer);
    this.excluded.set(peer, Date.now() + FLAKY_PEER_EXCLUSION_MS);
  }

  /** Verifies `b` against `state` (throws SyncError 'bad_block'), stores it and applies it. */
  private async verifyAndApply(state: State, b: SyncBlock): Promise<State> {
    const height = nextHeight(state);
    const bad = (message: string, context: Record<string, unknown> = {}): SyncError => new SyncError('bad_block', message, { height, ...context });
    const { block, commit } = b;
    if (block.header.height !== height || commit.height !== height) throw bad(`expected block ${height}, got ${block.header.height}`);
    const { header: partSetHeader, parts } = blockParts(block);
    const blockId: BlockID = { hash: headerHash(block.header), partSetHeader };
    if (!blockIdEquals(blockId, commit.blockId)) throw bad('the commit is for another block', { block: toHex(blockId.hash), commit: toHex(commit.blockId.hash) });
    try {
      verifyCommitLight(this.opts.chainId, state.validators, blockId, height, commit, nodeBackend);
    } catch (e) {
      if (e instanceof CommitVerifyError) throw bad(`the commit does not verify: ${e.message}`, { kind: e.kind });
      throw e;
    }
    try {
      validateBlockAgainstState(state, block);
    } catch (e) {
      if (e instanceof ExecutionError && e.kind === 'invalid_block') throw bad(`invalid block: ${e.message}`);
      throw e;
    }
    const evh = state.consensusParams.abci.voteExtensionsEnableHeight;
    const extensions = evh > 0n && BigInt(height) >= evh;
    if (extensions) {
      const ext = b.extendedCommit;
      if (!ext) throw bad('vote extensions are on at this height, but no extended commit came with the block');
      // consensus at the next height hands these extensions to PrepareProposal: check them all
      const i = badVoteExtension(this.opts.chainId, state.validators, ext, nodeBackend);
      if (i >= 0) throw bad(`vote extension #${i} is missing or its signature does not verify`, { index: i });
      await this.m.blockStore.saveBlockWithExtendedCommit(block, ext, { header: partSetHeader, parts });
    } else {
      await this.m.blockStore.saveBlock(block, commit, { header: partSetHeader, parts });
    }
    const { state: next } = await this.m.executor.applyBlock(state, blockId, block);
    return next;
  }

  /** While consensus runs: resolves once the node is more than `switchLag` behind the best peer, twice in a row. */
  private async watch(): Promise<void> {
    let strikes = 0;
    while (!this.stopped) {
      await this.sleep(this.s.watchIntervalMs);
      if (this.stopped) return;
      if (!this.m.consensus.running) continue; // stopped by a fatal error: the node is going down
      let best = 0;
      await Promise.all(
        this.m.network.peers().filter((p) => !this.excluded.has(p)).map(async (peer) => {
          try {
            const s = await this.m.network.status(peer, AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.s.statusTimeoutMs)]));
            best = Math.max(best, s.height);
          } catch {
            // a peer that does not answer tells us nothing
          }
        }),
      );
      const own = this.m.consensus.chainState.lastBlockHeight;
      strikes = best - own > this.s.switchLag ? strikes + 1 : 0;
      if (strikes >= 2) {
        this.m.logger.info({ height: own, peerHeight: best, lag: best - own }, 'fallen behind the peers: switching from consensus to block sync');
        return;
      }
    }
  }
}
