// The evidence pool (CometBFT 0.38's evidence.Pool, restated): verified evidence waits here,
// pending, until a proposer puts it in a block; once a block commits it, it is remembered as
// committed so no later block can include it again; both kinds are dropped when they expire.
//
// Evidence arrives from three places:
//   - consensus: the vote keeper reports a validator's two conflicting votes while the height is
//     still being decided, when the block time of that height (the evidence's timestamp) is not
//     known yet. They wait in a small buffer and become evidence in update(), after the block of
//     their height is committed — what CometBFT's ReportConflictingVotes/processConsensusBuffer do;
//   - peers (gossip) and RPC broadcast_evidence: add() verifies against the node's history.
// New evidence from consensus and RPC is handed to the listeners (the network gossips it); all
// pending evidence is handed to them again every `rebroadcastIntervalMs`, because gossipsub
// delivers a message once and a peer that was not subscribed then never sees it.
import { encodeEvidence, toHex, type Evidence, type Timestamp } from '../codec/index.js';
import { StoreError, type BlockStore, type State, type StateStore } from '../store/index.js';
import type { ValidatorSet } from '../types/index.js';
import { EvidenceError } from './errors.js';
import { EvidenceStore, type StoredEvidence } from './store.js';
import { evidenceKey, isExpired, validateEvidenceBasic, verifyEvidence, type History } from './verify.js';

export interface EvidencePoolOptions {
  readonly chainId: string;
  /** The database directory (e.g. <db_dir>/evidence.db). */
  readonly path: string;
  /** fsync writes (default true). */
  readonly sync?: boolean;
  /** Re-gossip pending evidence this often; 0 turns it off (default 5 s). */
  readonly rebroadcastIntervalMs?: number;
  /** Conflicting-vote reports from consensus kept until their height commits (default 1000; more are dropped). */
  readonly maxBufferedReports?: number;
}

export interface EvidenceLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface EvidencePoolModules {
  /** Validator sets of past heights. */
  readonly stateStore: StateStore;
  /** Block times of past heights. */
  readonly blockStore: BlockStore;
  readonly logger?: EvidenceLogger;
}

/** What add() did: verified and kept, or nothing because the pool already knew it. */
export type AddResult = 'added' | 'already_pending' | 'already_committed';

/** Told of evidence to gossip: new (resend 0) or pending again (resend > 0, so the message id differs). */
export type EvidenceListener = (evidence: Evidence, resend: number) => void;

export const DEFAULT_REBROADCAST_INTERVAL_MS = 5_000;
export const DEFAULT_MAX_BUFFERED_REPORTS = 1_000;
/** Committed records deleted per update (the rest go at the next one). */
const PRUNE_BATCH = 1_000;

const SILENT: EvidenceLogger = { info: () => {}, warn: () => {}, debug: () => {} };

/** One protobuf list element's size: tag, length varint, bytes (how CometBFT sizes an EvidenceList). */
function listElementSize(n: number): number {
  let varint = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 128)) varint++;
  return 1 + varint + n;
}

export class EvidencePool {
  private readonly store: EvidenceStore;
  private readonly log: EvidenceLogger;
  private state: State | undefined;
  /** Pending evidence by hex hash, mirrored from the store; `ordered` is its proposal order (oldest first). */
  private readonly pendingByHash = new Map<string, StoredEvidence>();
  private ordered: StoredEvidence[] | null = [];
  /** Hashes being verified and written by add(): a second copy arriving meanwhile is not verified twice. */
  private readonly adding = new Set<string>();
  private buffer: Evidence[] = [];
  private readonly listeners: EvidenceListener[] = [];
  private timer: NodeJS.Timeout | null = null;
  private resends = 0;

  constructor(
    private readonly opts: EvidencePoolOptions,
    private readonly m: EvidencePoolModules,
  ) {
    this.store = new EvidenceStore({ path: opts.path, sync: opts.sync ?? true });
    this.log = m.logger ?? SILENT;
  }

  /** Opens the database and loads pending evidence (before the handshake: replayed blocks are checked and committed through the pool). */
  async open(): Promise<void> {
    if (this.store.isOpen) return;
    await this.store.open();
    for (const s of await this.store.loadPending()) this.pendingByHash.set(toHex(s.hash), s);
    this.ordered = null;
    if (this.pendingByHash.size > 0) this.log.info({ pending: this.pendingByHash.size }, 'loaded pending evidence');
  }

  /** Begins serving add() against `state` (the state after the last committed block) and re-gossiping. */
  async start(state: State): Promise<void> {
    await this.open();
    this.state = state;
    const every = this.opts.rebroadcastIntervalMs ?? DEFAULT_REBROADCAST_INTERVAL_MS;
    if (every > 0 && !this.timer) {
      this.timer = setInterval(() => this.rebroadcast(), every);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listeners.length = 0;
    await this.store.close();
  }

  /** Listen for evidence to gossip. */
  onEvidence(listener: EvidenceListener): void {
    this.listeners.push(listener);
  }

  /** Pending evidence count. */
  get size(): number {
    return this.pendingByHash.size;
  }

  /** Whether evidence with this hash (CometBFT's Evidence.Hash) is pending. */
  isPending(hash: Uint8Array): boolean {
    return this.pendingByHash.has(toHex(hash));
  }

  /** Whether this evidence is recorded as committed (until it expires). */
  async isCommitted(e: Evidence): Promise<boolean> {
    return (await this.store.committedAt(e.voteA.height, evidenceKey(e))) !== undefined;
  }

  /**
   * Verifies and keeps evidence from a peer or RPC (CometBFT's AddEvidence). Known evidence is
   * not an error: a peer that is behind may send what a block already holds. Invalid evidence
   * throws EvidenceError. `gossip: false` for evidence from gossip (gossipsub forwards it).
   */
  async add(e: Evidence, opts: { gossip?: boolean } = {}): Promise<AddResult> {
    const state = this.state;
    if (!state) throw new StoreError('not_open', 'the evidence pool is not started');
    const hash = evidenceKey(e);
    const hex = toHex(hash);
    if (this.pendingByHash.has(hex) || this.adding.has(hex)) return 'already_pending';
    this.adding.add(hex);
    try {
      if ((await this.store.committedAt(e.voteA.height, hash)) !== undefined) return 'already_committed';
      await verifyEvidence(e, state, this.history());
      await this.keep({ evidence: e, hash });
    } finally {
      this.adding.delete(hex);
    }
    this.log.info({ height: e.voteA.height, validator: toHex(e.voteA.validatorAddress), hash: hex }, 'verified new evidence of byzantine behavior');
    if (opts.gossip ?? true) this.emit(e, 0);
    return 'added';
  }

  /**
   * Two conflicting votes seen by consensus (their `timestamp` is provisional). They become
   * evidence once the block of their height is committed: update() stamps them with its time.
   */
  reportConflictingVotes(e: Evidence): void {
    if (this.buffer.length >= (this.opts.maxBufferedReports ?? DEFAULT_MAX_BUFFERED_REPORTS)) {
      this.log.warn({ height: e.voteA.height, buffered: this.buffer.length }, 'too many conflicting-vote reports waiting for their height; dropping one');
      return;
    }
    this.buffer.push(e);
  }

  /**
   * Pending evidence for a proposal, oldest first, as long as the EvidenceList encoding stays
   * within `maxBytes` (-1: no limit) — CometBFT's PendingEvidence.
   */
  pending(maxBytes: number): Evidence[] {
    const out: Evidence[] = [];
    let size = 0;
    for (const s of this.orderedPending()) {
      size += listElementSize(encodeEvidence(s.evidence).length);
      if (maxBytes !== -1 && size > maxBytes) break;
      out.push(s.evidence);
    }
    return out;
  }

  /**
   * A block's evidence, checked against the state it builds on (CometBFT's CheckEvidence plus
   * the evidence size limit): throws EvidenceError for evidence that is malformed, does not
   * verify, is already committed, or appears twice. Verified evidence not yet pending is kept,
   * so the pool can tell the app about it whatever happens to this block.
   */
  async check(state: State, evidence: readonly Evidence[]): Promise<void> {
    if (evidence.length === 0) return;
    const max = state.consensusParams.evidence.maxBytes;
    const size = evidence.reduce((n, e) => n + listElementSize(encodeEvidence(e).length), 0);
    if (BigInt(size) > max) throw new EvidenceError('too_large', `the block's evidence is ${size} bytes, over evidence.max_bytes ${max}`, { size, max: String(max) });
    const blockHeight = state.lastBlockHeight === 0 ? state.initialHeight : state.lastBlockHeight + 1;
    const seen = new Set<string>();
    for (const [i, e] of evidence.entries()) {
      validateEvidenceBasic(e);
      const hash = evidenceKey(e);
      const hex = toHex(hash);
      if (seen.has(hex)) throw new EvidenceError('duplicate', `evidence #${i} appears twice in the block`, { index: i, hash: hex });
      seen.add(hex);
      if (this.pendingByHash.has(hex)) continue;
      const at = await this.store.committedAt(e.voteA.height, hash);
      // committed by this very block: a block replayed after a crash
      if (at === blockHeight) continue;
      if (at !== undefined) throw new EvidenceError('already_committed', `evidence #${i} was already committed at height ${at}`, { index: i, hash: hex, committedAt: at });
      await verifyEvidence(e, state, this.history());
      await this.keep({ evidence: e, hash });
    }
  }

  /**
   * After block `state.lastBlockHeight` is committed (CometBFT's Update): conflicting votes
   * reported by consensus become evidence, the block's evidence moves from pending to committed,
   * and expired evidence is dropped. Idempotent: a block applied again after a crash is fine.
   */
  async update(state: State, committed: readonly Evidence[]): Promise<void> {
    await this.processReports(state);
    this.state = state;
    if (committed.length > 0) {
      const list = committed.map((evidence) => ({ evidence, hash: evidenceKey(evidence) }));
      await this.store.markCommitted(list, state.lastBlockHeight);
      for (const s of list) this.pendingByHash.delete(toHex(s.hash));
      this.ordered = null;
    }
    await this.pruneExpired(state);
  }

  // ---- internals ------------------------------------------------------------------------------

  private history(): History {
    return {
      blockTime: async (h) => (await this.m.blockStore.loadBlockMeta(h))?.header.time,
      validators: (h) => this.validatorsAt(h),
    };
  }

  private async validatorsAt(height: number): Promise<ValidatorSet | undefined> {
    try {
      return await this.m.stateStore.loadValidators(height);
    } catch (e) {
      if (e instanceof StoreError && (e.code === 'not_found' || e.code === 'invalid_argument')) return undefined;
      throw e;
    }
  }

  private async keep(s: StoredEvidence): Promise<void> {
    await this.store.addPending(s);
    this.pendingByHash.set(toHex(s.hash), s);
    this.ordered = null;
  }

  private orderedPending(): StoredEvidence[] {
    if (!this.ordered) {
      this.ordered = [...this.pendingByHash.values()].sort((a, b) => a.evidence.voteA.height - b.evidence.voteA.height || Buffer.compare(a.hash, b.hash));
    }
    return this.ordered;
  }

  /** Conflicting votes whose height is now committed become evidence stamped with that block's time and validator set. */
  private async processReports(state: State): Promise<void> {
    if (this.buffer.length === 0) return;
    const reports = this.buffer;
    this.buffer = [];
    for (const r of reports) {
      const h = r.voteA.height;
      if (h > state.lastBlockHeight) {
        this.buffer.push(r); // its height is not committed yet
        continue;
      }
      let time: Timestamp | undefined;
      let validators: ValidatorSet | undefined;
      if (h === state.lastBlockHeight) {
        time = state.lastBlockTime;
        validators = state.lastValidators;
      } else {
        time = (await this.m.blockStore.loadBlockMeta(h))?.header.time;
        validators = await this.validatorsAt(h);
      }
      const val = validators?.getByAddress(r.voteA.validatorAddress);
      if (!time || !validators || !val) {
        this.log.warn({ height: h, validator: toHex(r.voteA.validatorAddress) }, 'cannot form evidence from conflicting votes: no block time or validator for their height');
        continue;
      }
      const e: Evidence = { ...r, validatorPower: val.validator.votingPower, totalVotingPower: validators.totalVotingPower(), timestamp: time };
      const hash = evidenceKey(e);
      if (this.pendingByHash.has(toHex(hash)) || (await this.store.committedAt(h, hash)) !== undefined) continue;
      try {
        validateEvidenceBasic(e);
      } catch (err) {
        if (!(err instanceof EvidenceError)) throw err;
        this.log.warn({ height: h, err: err.message }, 'consensus reported conflicting votes that are not valid evidence');
        continue;
      }
      await this.keep({ evidence: e, hash });
      this.log.info({ height: h, validator: toHex(e.voteA.validatorAddress), hash: toHex(hash) }, 'verified new evidence of byzantine behavior (from consensus)');
      this.emit(e, 0);
    }
  }

  /** Pending evidence past both age limits goes; committed records too (verification would refuse that evidence anyway). */
  private async pruneExpired(state: State): Promise<void> {
    const params = state.consensusParams.evidence;
    const expired = this.orderedPending().filter((s) => isExpired(params, state.lastBlockHeight, state.lastBlockTime, s.evidence.voteA.height, s.evidence.timestamp));
    if (expired.length > 0) {
      await this.store.removePending(expired);
      for (const s of expired) this.pendingByHash.delete(toHex(s.hash));
      this.ordered = null;
      this.log.info({ expired: expired.length, height: state.lastBlockHeight }, 'dropped expired pending evidence');
    }
    const old = await this.store.committedWhile((r) => isExpired(params, state.lastBlockHeight, state.lastBlockTime, r.height, r.time), PRUNE_BATCH);
    if (old.length > 0) await this.store.removeCommitted(old);
  }

  private emit(e: Evidence, resend: number): void {
    for (const l of this.listeners) {
      try {
        l(e, resend);
      } catch (err) {
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'evidence listener failed');
      }
    }
  }

  private rebroadcast(): void {
    if (this.pendingByHash.size === 0 || this.listeners.length === 0) return;
    const resend = ++this.resends;
    // at most one block's worth each time: the rest follows once these are committed
    const max = this.state ? Number(this.state.consensusParams.evidence.maxBytes) : -1;
    for (const e of this.pending(max)) this.emit(e, resend);
  }
}
