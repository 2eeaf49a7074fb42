// The consensus shell ("engine"): runs the pure core with real timers, the signer, the block
// executor and a network. Every input goes through one queue, in order: it is appended to the
// WAL (written to the file before our own proposals and votes are signed, and fsynced before our
// precommits, whose lock a restart depends on), applied to the core, and the core's effects are
// performed. On start, the WAL's
// records for the current height are fed again, so the core reaches the state it had.
import {
  SignedMsgType,
  BlockIDFlag,
  isZeroBlockID,
  toHex,
  timeFromDate,
  type Block,
  type BlockID,
  type Commit,
  type ExtendedCommit,
  type ExtendedCommitSig,
  type Part,
  type PartSetHeader,
  type Proposal,
  type Timestamp,
  type Vote,
  type DuplicateVoteEvidence,
} from '../codec/index.js';
import { bytesEqual, nodeBackend } from '../crypto/index.js';
import type { BlockExecutor } from '../execution/index.js';
import { nextHeight } from '../execution/index.js';
import { DoubleSignError, type Signer } from '../privval/index.js';
import type { BlockStore, State } from '../store/index.js';
import { CommitVerifyError, PartSet, badVoteExtension, blockParts, extendedCommitToCommit, headerHash, proposalSignBytes, verifyCommit, voteExtensionSignBytes, voteSignBytes, ValidationError } from '../types/index.js';
import { apply, initialState, proposerOf, valueIdOf, type CoreState, type Effect, type Input, type TimeoutConfig, type TimeoutKind } from './core/index.js';
import { WAL } from './wal.js';
import { decodeWalRecord, encodeWalRecord, type WalRecord } from './wal-records.js';

/** How proposals and votes leave this node (gossip in a network; nothing for a lone validator). */
export interface ConsensusNetwork {
  broadcastProposal(proposal: Proposal, partSetHeader: PartSetHeader, parts: readonly Part[]): void;
  broadcastVote(vote: Vote): void;
  /**
   * Consensus decided a block of `height` whose parts never arrived: fetch it (block and commit)
   * from peers and hand it to receiveCommit. Without it the node waits until block parts or a
   * catch-up bring the block.
   */
  requestBlock?(height: number): void;
}

/**
 * A gossiped message's signature, checked before it is forwarded: `unknown` when this node does
 * not know the signers of that height (or round) yet, or any more.
 */
export type SignatureCheck = 'valid' | 'invalid' | 'unknown';

export const LOOPBACK_NETWORK: ConsensusNetwork = { broadcastProposal: () => {}, broadcastVote: () => {} };

export interface EngineLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface EngineOptions {
  readonly chainId: string;
  readonly timeouts: TimeoutConfig;
  readonly walPath: string;
  /** Messages for the next height buffered while this one finishes (bounded). */
  readonly maxFutureMessages?: number;
  /**
   * Votes and proposals two heights ahead buffered (bounded apart from the next height's: they
   * cannot be verified yet, so junk among them must not crowd out the next height's).
   */
  readonly maxFarFutureMessages?: number;
  /**
   * consensus.create_empty_blocks (default true). When false, a height that needs no proof block
   * starts only once the mempool has txs (txsAvailable), a peer has started it, or
   * emptyBlocksIntervalMs has passed (0: never) — CometBFT's semantics.
   */
  readonly createEmptyBlocks?: boolean;
  readonly emptyBlocksIntervalMs?: number;
  /**
   * consensus.empty_proposal_delay (0: none). In round 0 a proposer whose mempool is empty waits
   * up to this long for txs before it proposes an empty block, a proof block included, and
   * proposes as soon as one arrives: a client that sends its next tx when the last one committed
   * then rides in the next block instead of the one after it.
   */
  readonly emptyProposalDelayMs?: number;
  /**
   * consensus.double_sign_check_height (0: off). Before it votes, start() looks at the commits
   * of the last this-many stored blocks for a precommit signed with this node's key that this
   * process did not make, and refuses to start if it finds one: another instance is, or was
   * until lately, signing with the key (CometBFT's double-signing risk reduction, ADR 051).
   */
  readonly doubleSignCheckHeight?: number;
}

export interface DecidedBlock {
  readonly height: number;
  readonly round: number;
  readonly block: Block;
  readonly blockId: BlockID;
  readonly commit: Commit;
  readonly state: State;
}

/**
 * What consensus reports as it goes, for RPC events and observers (CometBFT's NewRound,
 * NewRoundStep, CompleteProposal, Vote, Polka, Lock, ValidBlock, TimeoutPropose, TimeoutWait).
 * Steps use CometBFT's round-step names; "wait" steps are a step whose timeout is running.
 */
export type ConsensusStep = 'NewHeight' | 'NewRound' | 'Propose' | 'Prevote' | 'PrevoteWait' | 'Precommit' | 'PrecommitWait' | 'Commit';
export type ConsensusEvent =
  | { readonly kind: 'newStep'; readonly height: number; readonly round: number; readonly step: ConsensusStep }
  | { readonly kind: 'newRound'; readonly height: number; readonly round: number; readonly proposer: { readonly address: Uint8Array; readonly index: number } }
  | { readonly kind: 'completeProposal'; readonly height: number; readonly round: number; readonly proposal: Proposal }
  | { readonly kind: 'vote'; readonly vote: Vote }
  | { readonly kind: 'polka' | 'lock' | 'validBlock'; readonly height: number; readonly round: number; readonly blockId: BlockID | null }
  | { readonly kind: 'timeout'; readonly height: number; readonly round: number; readonly timeout: TimeoutKind };

export interface EngineModules {
  readonly executor: BlockExecutor;
  readonly blockStore: BlockStore;
  /** null for a node that follows without voting. */
  readonly signer: Signer | null;
  readonly network: ConsensusNetwork;
  readonly logger: EngineLogger;
  /** The wall clock, for vote and proposal timestamps (injectable in tests). */
  readonly now?: () => Timestamp;
  readonly onDecided?: (d: DecidedBlock) => void;
  /**
   * A validator's conflicting votes, as the vote keeper reports them: the timestamp is
   * provisional (the block time of the height is not known yet). The evidence pool finishes the
   * evidence once that height is committed (EvidencePool.reportConflictingVotes).
   */
  readonly onEvidence?: (e: DuplicateVoteEvidence) => void;
  /** Told of round progress (never during WAL replay); must not throw or block. */
  readonly onEvent?: (e: ConsensusEvent) => void;
  /** The engine cannot go on (e.g. the app hash diverged): the node must stop. */
  readonly onFatal?: (err: Error) => void;
  /** Resolves when the mempool holds txs (at once if it does); for create_empty_blocks = false. */
  readonly txsAvailable?: (signal: AbortSignal) => Promise<void>;
  /** How many txs the mempool holds now; with txsAvailable, for empty_proposal_delay. */
  readonly mempoolSize?: () => number;
}

export class ConsensusError extends Error {
  override readonly name = 'ConsensusError';
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface BlockEntry {
  readonly block: Block;
  readonly blockId: BlockID;
  readonly partSetHeader: PartSetHeader;
  readonly parts: readonly Part[];
}

/** Rounds past the current one for which a gossiped proposal's signature is checked before forwarding. */
const MAX_PRECHECK_ROUNDS_AHEAD = 16;

const addOneMs = (t: Timestamp): Timestamp => (t.nanos + 1_000_000 < 1_000_000_000 ? { seconds: t.seconds, nanos: t.nanos + 1_000_000 } : { seconds: t.seconds + 1, nanos: t.nanos + 1_000_000 - 1_000_000_000 });
const later = (a: Timestamp, b: Timestamp): Timestamp => (a.seconds > b.seconds || (a.seconds === b.seconds && a.nanos >= b.nanos) ? a : b);

export class ConsensusEngine {
  private core: CoreState;
  private state!: State;
  private wal: WAL | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** True until start(), and again after stop(): inputs are dropped, not queued. */
  private stopped = true;
  private failed = false;
  /** The highest height this process signed a precommit in (0: none yet); see checkDoubleSignRisk. */
  private precommittedUpTo = 0;
  private replaying = false;
  /** Blocks of the current height by value id: built by us, or assembled from parts. */
  private blocks = new Map<string, BlockEntry>();
  /** Parts being collected for proposals of the current height, by value id. */
  private partSets = new Map<string, PartSet>();
  /** Values the core asked to validate whose block has not arrived yet. */
  private awaitingBlock = new Map<string, BlockID>();
  /** Precommits of the current height by round and validator index, for extended commits. */
  private precommits = new Map<number, Map<number, Vote>>();
  /** A commit for this height learned from a peer (catch-up): decide() stores it, not our own precommits. */
  private caughtUp: Commit | null = null;
  /** caughtUp with its vote extensions, when they came with it and verified. */
  private caughtUpExtended: ExtendedCommit | null = null;
  /** The core decided a block this node does not have yet; decide() finishes when it arrives. */
  private pendingDecision: { height: number; round: number; blockId: BlockID; commit: Commit } | null = null;
  /** Set while the next height waits for txs (create_empty_blocks = false); aborting starts it. */
  private waitingForTxs: AbortController | null = null;
  /** Set while this proposer waits for txs before building its round-0 proposal. */
  private proposalWait: AbortController | null = null;
  private lastCommit: Commit | null = null;
  private lastExtendedCommit: ExtendedCommit | null = null;
  /** Messages for the next height, re-delivered once it starts (bounded). */
  private future: (() => void)[] = [];
  /**
   * Votes and proposals two heights ahead, re-delivered (into `future`) when the next height
   * starts. A node that fell two heights behind would otherwise drop a whole height's messages and
   * wait for a commit catch-up; with them it decides that height as soon as it gets there
   * (fetching the block if its parts, which are not kept this far ahead, never came).
   */
  private farFuture: (() => void)[] = [];
  /** What the WAL of this height already held at start, so those effects are not done twice. */
  private replayed = { ready: new Set<string>(), validated: new Set<string>() };
  private readonly now: () => Timestamp;
  private readonly heightWaiters: { height: number; resolve: () => void }[] = [];

  constructor(
    private readonly opts: EngineOptions,
    private readonly m: EngineModules,
  ) {
    this.now = m.now ?? (() => timeFromDate(new Date()));
    this.core = initialState({ chainId: opts.chainId, address: m.signer?.pubKey.address ?? null, timeouts: opts.timeouts });
  }

  /** The height being decided. */
  get height(): number {
    return this.core.height;
  }

  get round(): number {
    return this.core.round.round;
  }

  get step(): string {
    return this.core.round.step;
  }

  /** Decided and waiting for txs before the next height (create_empty_blocks = false): not stalled. */
  get waitingForTransactions(): boolean {
    return this.waitingForTxs !== null;
  }

  get chainState(): State {
    return this.state;
  }

  /** Started and not stopped (block sync stops consensus while it applies blocks). */
  get running(): boolean {
    return !this.stopped;
  }

  /**
   * Start from a state the handshake (or block sync) produced: the app and the block store are
   * level with it. May be called again after stop(), at a later height.
   */
  async start(state: State): Promise<void> {
    if (this.failed) throw new ConsensusError('consensus stopped on a fatal error and cannot restart', { height: this.core.height });
    if (!this.stopped) throw new ConsensusError('consensus is already running', { height: this.core.height });
    this.stopped = false;
    this.state = state;
    const height = nextHeight(state);
    // a restart after block sync begins afresh at the new height
    this.core = initialState({ chainId: this.opts.chainId, address: this.m.signer?.pubKey.address ?? null, timeouts: this.opts.timeouts });
    this.future = [];
    this.farFuture = [];
    this.lastCommit = null;
    this.lastExtendedCommit = null;
    this.resolveWaiters(state.lastBlockHeight);
    try {
      await this.checkDoubleSignRisk(state);
    } catch (e) {
      this.stopped = true;
      throw e;
    }
    if (state.lastBlockHeight > 0) {
      this.lastCommit = (await this.m.blockStore.loadSeenCommit(state.lastBlockHeight)) ?? null;
      this.lastExtendedCommit = (await this.m.blockStore.loadExtendedCommit(state.lastBlockHeight)) ?? null;
      if (!this.lastCommit) throw new ConsensusError(`no seen commit stored for height ${state.lastBlockHeight}`, { height: state.lastBlockHeight });
    }
    const opened = WAL.open(this.opts.walPath);
    this.wal = opened.wal;
    if (opened.truncated) this.m.logger.warn({ wal: this.opts.walPath, ...opened.truncated }, 'WAL had a torn or corrupt tail; truncated it');
    const records = opened.records.map(decodeWalRecord);
    const first = records[0];
    const resume = first?.kind === 'height' && first.height === height;
    await this.run(async () => {
      this.beginHeight(height, !resume);
      if (resume) await this.replay(records.slice(1));
    });
  }

  /**
   * See EngineOptions.doubleSignCheckHeight. Heights at or below the last one this process
   * precommitted in are skipped: a node that fell behind and block-synced starts consensus again
   * over blocks that carry its own precommits. Both commits of a height are read, the one this
   * node saw and the canonical one in the next block, since either may hold the other signer's.
   * (CometBFT reads the seen commits of N - 1 heights; this reads N.)
   */
  private async checkDoubleSignRisk(state: State): Promise<void> {
    const n = this.opts.doubleSignCheckHeight ?? 0;
    const signer = this.m.signer;
    if (n <= 0 || signer === null) return;
    const me = signer.pubKey.address;
    const last = state.lastBlockHeight;
    const lowest = Math.max(1, last - n + 1, this.precommittedUpTo + 1);
    for (let h = last; h >= lowest; h--) {
      // the canonical commit of h is in block h + 1, which the newest height does not have yet
      const canonical = h < last ? await this.m.blockStore.loadBlockCommit(h) : undefined;
      for (const commit of [await this.m.blockStore.loadSeenCommit(h), canonical]) {
        const index = commit?.signatures.findIndex((sig) => sig.blockIdFlag === BlockIDFlag.Commit && bytesEqual(sig.validatorAddress, me)) ?? -1;
        if (index < 0) continue;
        throw new ConsensusError(
          `double-sign risk: the commit of height ${h} holds a precommit signed with this node's key, which this process did not sign; ` +
            `another instance may be running with the key. Stop it, or wait until the last ${n} blocks carry no signature of this key, then restart ` +
            '(consensus.double_sign_check_height = 0 turns the check off)',
          { height: h, validatorIndex: index, checkedFrom: lowest, checkedTo: last },
        );
      }
    }
  }

  /** Safe to call again, and after a fatal error (the WAL is closed either way). */
  async stop(): Promise<void> {
    this.stopped = true;
    const waiting = this.waitingForTxs;
    this.waitingForTxs = null;
    waiting?.abort();
    this.proposalWait?.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.queue.catch(() => {});
    await this.m.executor.settled().catch(() => {}); // the stores close after the engine
    this.wal?.close();
    this.wal = undefined;
  }

  /** Resolves once `height` has been decided and applied (tests, tools). */
  waitForHeight(height: number): Promise<void> {
    if (this.state && this.state.lastBlockHeight >= height) return Promise.resolve();
    return new Promise((resolve) => this.heightWaiters.push({ height, resolve }));
  }

  private resolveWaiters(height: number): void {
    for (let i = this.heightWaiters.length - 1; i >= 0; i--) {
      const w = this.heightWaiters[i]!;
      if (w.height <= height) {
        this.heightWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /**
   * The prevotes and precommits this node holds for (height, round), for a peer that missed
   * them (the votes protocol). Empty unless consensus is running at that height.
   */
  votesFor(height: number, round: number): Vote[] {
    if (this.stopped || height !== this.core.height) return [];
    const rv = this.core.votes.rounds.get(round);
    if (!rv) return [];
    const out: Vote[] = [];
    for (const tally of [rv.prevotes, rv.precommits]) for (const votes of tally.votes.values()) out.push(...votes);
    return out;
  }

  // ---- inbound from the network -------------------------------------------------------------

  /**
   * Checks a gossiped vote's signatures (vote and extension) against the validators of its
   * height, if that is the last, current or next height of this node; without delivering it.
   * The network calls this before forwarding, so that a bad signature is blamed on the peer that
   * sent it, not on honest peers that relayed it. Checking it again when it is received costs a
   * lookup: the crypto backend remembers signatures it found valid.
   */
  checkVoteSignature(vote: Vote): SignatureCheck {
    const s = this.state;
    if (!s) return 'unknown';
    const set = vote.height === s.lastBlockHeight + 1 ? s.validators : vote.height === s.lastBlockHeight + 2 ? s.nextValidators : vote.height === s.lastBlockHeight ? s.lastValidators : null;
    if (!set || set.validators.length === 0) return 'unknown';
    const v = set.getByIndex(vote.validatorIndex);
    if (!v || !bytesEqual(v.address, vote.validatorAddress)) return 'invalid';
    if (!nodeBackend.verify(v.pubKey, voteSignBytes(this.opts.chainId, vote), vote.signature)) return 'invalid';
    if (this.extensionsEnabled(vote.height) && vote.type === SignedMsgType.Precommit && !isZeroBlockID(vote.blockId)) {
      if (!nodeBackend.verify(v.pubKey, voteExtensionSignBytes(this.opts.chainId, vote), vote.extensionSignature)) return 'invalid';
    }
    return 'valid';
  }

  /** Like checkVoteSignature, for a proposal of the height being decided (the proposer of later heights is not known yet). */
  checkProposalSignature(proposal: Proposal): SignatureCheck {
    const s = this.state;
    if (!s || this.core.validators === null || proposal.height !== this.core.height || s.lastBlockHeight + 1 !== proposal.height) return 'unknown';
    // proposerOf walks the priorities round by round: a far-off round is not worth it here
    if (proposal.round > this.core.round.round + MAX_PRECHECK_ROUNDS_AHEAD) return 'unknown';
    const proposer = s.validators.getByAddress(proposerOf(this.core.validators, proposal.round));
    if (!proposer) return 'unknown';
    if (!nodeBackend.verify(proposer.validator.pubKey, proposalSignBytes(this.opts.chainId, proposal), proposal.signature)) return 'invalid';
    return 'valid';
  }

  /** A proposal from a peer; its signature is checked against the round's proposer. */
  receiveProposal(proposal: Proposal): void {
    this.enqueue(async () => {
      if (this.deferAhead(proposal.height, 2, () => this.receiveProposal(proposal))) return;
      if (proposal.height !== this.core.height || this.core.validators === null) return;
      const proposerAddr = proposerOf(this.core.validators, proposal.round);
      const proposer = this.state.validators.getByAddress(proposerAddr);
      if (!proposer) return;
      if (!nodeBackend.verify(proposer.validator.pubKey, proposalSignBytes(this.opts.chainId, proposal), proposal.signature)) {
        this.m.logger.debug({ height: proposal.height, round: proposal.round }, 'dropping proposal with an invalid signature');
        return;
      }
      const id = valueIdOf(proposal.blockId);
      if (!this.blocks.has(id) && !this.partSets.has(id)) {
        try {
          this.partSets.set(id, new PartSet(proposal.blockId.partSetHeader));
        } catch (e) {
          if (e instanceof ValidationError) return;
          throw e;
        }
      }
      await this.feed({ kind: 'proposal', proposal, signer: proposerAddr }, { kind: 'proposal', proposal, signer: proposerAddr }, false);
    });
  }

  /** A block part for a proposal of the current height. */
  receiveBlockPart(height: number, blockId: BlockID, part: Part): void {
    this.enqueue(async () => {
      if (this.deferAhead(height, 1, () => this.receiveBlockPart(height, blockId, part))) return;
      if (height !== this.core.height) return;
      const id = valueIdOf(blockId);
      const set = this.partSets.get(id);
      if (!set || this.blocks.has(id)) return;
      try {
        set.add(part);
      } catch (e) {
        if (e instanceof ValidationError) return;
        throw e;
      }
      if (!set.complete) return;
      let block: Block;
      try {
        block = set.assembleBlock();
      } catch {
        return; // parts that merkle-verify but do not decode: a faulty proposer; the value stays unknown
      }
      if (!bytesEqual(headerHash(block.header), blockId.hash)) return;
      await this.learnBlock({ block, blockId, partSetHeader: set.header, parts: set.allParts() }, true);
    });
  }

  /** A vote from a peer: signature, validator and (for precommits) the extension are checked here. */
  receiveVote(vote: Vote): void {
    this.enqueue(async () => {
      if (this.deferAhead(vote.height, 2, () => this.receiveVote(vote))) return;
      if (vote.height !== this.core.height || !(await this.checkVote(vote))) return;
      await this.feed({ kind: 'vote', vote }, { kind: 'vote', vote }, false);
    });
  }

  /**
   * A block and the commit that decided it, from a peer, for a node that missed the votes (the
   * network asks a peer for it on seeing messages of later heights). The commit is verified
   * against this height's validators; the core then decides through its commit input. With vote
   * extensions on, the peer sends the extended commit, whose extensions this node then proposes with.
   */
  receiveCommit(block: Block, seen: Commit | ExtendedCommit): void {
    this.enqueue(async () => {
      if (this.deferAhead(seen.height, 1, () => this.receiveCommit(block, seen))) return;
      // with vote extensions, the commit is the extended one without them: one set of signatures
      const extended = 'extendedSignatures' in seen ? seen : undefined;
      const commit = 'extendedSignatures' in seen ? extendedCommitToCommit(seen) : seen;
      if (commit.height !== this.core.height) return;
      const { header, parts } = blockParts(block);
      const blockId = { hash: headerHash(block.header), partSetHeader: header };
      if (valueIdOf(blockId) !== valueIdOf(commit.blockId)) {
        this.m.logger.debug({ height: commit.height }, 'dropping a commit whose block does not match it');
        return;
      }
      if (this.core.decision !== null) {
        // already decided (by our own votes): only the block can still be missing, and its hash is what we decided
        const pending = this.pendingDecision;
        if (pending && valueIdOf(pending.blockId) === valueIdOf(blockId)) await this.learnBlock({ block, blockId, partSetHeader: header, parts }, true);
        return;
      }
      try {
        verifyCommit(this.opts.chainId, this.state.validators, commit.blockId, commit.height, commit, nodeBackend);
      } catch (e) {
        if (!(e instanceof CommitVerifyError)) throw e;
        this.m.logger.debug({ height: commit.height, kind: e.kind, err: e.message }, 'dropping a commit that does not verify');
        return;
      }
      // With vote extensions on, this node may propose the next height, and PrepareProposal is
      // owed the extensions of this commit: keep them if they are this commit's and all verify.
      let ext: ExtendedCommit | undefined;
      if (this.extensionsEnabled(commit.height)) {
        const fault = !extended ? 'none came with it' : badVoteExtension(this.opts.chainId, this.state.validators, extended, nodeBackend) >= 0 ? 'one does not verify' : undefined;
        if (fault) this.m.logger.warn({ height: commit.height, fault }, 'a commit from a peer without valid vote extensions: this node will propose the next height without them');
        else ext = extended;
      }
      this.m.logger.info({ height: commit.height, round: commit.round, hash: toHex(blockId.hash) }, 'catching up with a commit from a peer');
      await this.learnBlock({ block, blockId, partSetHeader: header, parts }, true);
      if (this.core.decision === null) await this.feed({ kind: 'commit', commit }, ext ? { kind: 'commit', commit, extended: ext } : { kind: 'commit', commit }, false);
    });
  }

  /**
   * Keeps a message of a later height for when that height starts: one height ahead in `future`,
   * two ahead (when `upTo` allows) in `farFuture`; each bounded. True when `height` was ahead by
   * that much (kept, or dropped for a full buffer), false when the caller should handle it.
   */
  private deferAhead(height: number, upTo: 1 | 2, redeliver: () => void): boolean {
    const ahead = height - this.core.height;
    if (ahead < 1 || ahead > upTo) return false;
    const [buffer, max] = ahead === 1 ? [this.future, this.opts.maxFutureMessages ?? 10_000] : [this.farFuture, this.opts.maxFarFutureMessages ?? 1_000];
    if (buffer.length < max) buffer.push(redeliver);
    this.waitingForTxs?.abort(); // a peer started a later height (it had txs): start it too
    return true;
  }

  /**
   * After timeout_commit: start the next height, or, when the node waits for txs (CometBFT's
   * WaitForTxs: create_empty_blocks = false, or a non-zero create_empty_blocks_interval) and no
   * proof block is due (the last block left the app hash as it was), wait for txs first.
   */
  private startNextHeight(next: number, proofNeeded: boolean): void {
    const interval = this.opts.emptyBlocksIntervalMs ?? 0;
    const waitForTxs = this.opts.createEmptyBlocks === false || interval > 0;
    if (!waitForTxs || proofNeeded || !this.m.txsAvailable) {
      this.enqueue(async () => this.beginHeight(next, true));
      return;
    }
    const wait = new AbortController();
    this.waitingForTxs = wait;
    this.untilTxs(wait, interval, () => {
      if (this.waitingForTxs !== wait) return; // started already
      this.waitingForTxs = null;
      this.enqueue(async () => this.beginHeight(next, true));
    });
  }

  /**
   * Runs `then` once, when the mempool has txs, `wait` is aborted, or `limitMs` has passed (0: no
   * limit). The abort handler does the work so that every way out goes through one path.
   */
  private untilTxs(wait: AbortController, limitMs: number, then: () => void): void {
    const timer = limitMs > 0 ? setTimeout(() => wait.abort(), limitMs) : undefined;
    if (timer) this.timers.add(timer);
    wait.signal.addEventListener(
      'abort',
      () => {
        if (timer) {
          clearTimeout(timer);
          this.timers.delete(timer);
        }
        if (!this.stopped) then();
      },
      { once: true },
    );
    this.m.txsAvailable!(wait.signal).then(
      () => wait.abort(),
      () => {},
    );
  }

  /**
   * requestValue: build the proposal now, or first wait up to empty_proposal_delay for txs when the
   * mempool is empty (round 0 only: a later round means something went wrong, and waiting more would
   * not help). The wait runs off the queue, so votes and proposals keep flowing meanwhile.
   */
  private requestValue(height: number, round: number): Promise<void> {
    const delay = this.opts.emptyProposalDelayMs ?? 0;
    if (delay <= 0 || round !== 0 || this.replaying || this.replayed.ready.has(`${height}/${round}`) || !this.m.txsAvailable || this.m.mempoolSize?.() !== 0) {
      return this.buildValue(height, round);
    }
    this.proposalWait?.abort();
    const wait = new AbortController();
    this.proposalWait = wait;
    this.untilTxs(wait, delay, () => {
      if (this.proposalWait === wait) this.proposalWait = null;
      this.enqueue(async () => {
        // the round may have moved on while we waited (a peer's proposal cannot exist: we propose)
        if (this.core.height === height && this.core.round.round === round) await this.buildValue(height, round);
      });
    });
    return Promise.resolve();
  }

  private async checkVote(vote: Vote): Promise<boolean> {
    const v = this.state.validators.getByIndex(vote.validatorIndex);
    if (!v || !bytesEqual(v.address, vote.validatorAddress)) return false;
    if (!nodeBackend.verify(v.pubKey, voteSignBytes(this.opts.chainId, vote), vote.signature)) return false;
    if (this.extensionsEnabled(vote.height) && vote.type === SignedMsgType.Precommit && !isZeroBlockID(vote.blockId)) {
      if (!nodeBackend.verify(v.pubKey, voteExtensionSignBytes(this.opts.chainId, vote), vote.extensionSignature)) return false;
      const own = this.m.signer && bytesEqual(this.m.signer.pubKey.address, vote.validatorAddress);
      if (!own && !(await this.m.executor.verifyVoteExtension(vote))) return false;
    }
    return true;
  }

  // ---- the queue ------------------------------------------------------------------------------

  private enqueue(fn: () => Promise<void>): void {
    if (this.stopped) return;
    void this.run(fn);
  }

  /** Runs `fn` after everything queued before it; a failure is fatal to the engine. */
  private run(fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(async () => {
      if (this.stopped) return;
      try {
        await fn();
      } catch (e) {
        this.fatal(e as Error);
      }
    });
    this.queue = next;
    return next;
  }

  private fatal(err: Error): void {
    if (this.stopped) return;
    this.m.logger.error({ err: err.message, height: this.core.height }, 'consensus stopped');
    this.stopped = true;
    this.failed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.m.onFatal?.(err);
  }

  /** WAL-append (fsynced for our own messages), apply to the core, perform the effects. */
  private async feed(input: Input, record: WalRecord | null, sync: boolean): Promise<void> {
    if (record && !this.replaying) this.wal?.append(encodeWalRecord(record), sync);
    if (input.kind === 'commit') {
      // also when the WAL replays one (the record is then the input)
      this.caughtUp = input.commit;
      const r = record ?? (input as WalRecord);
      this.caughtUpExtended = r.kind === 'commit' ? (r.extended ?? null) : null;
    }
    if (input.kind === 'vote' && input.vote.type === SignedMsgType.Precommit) {
      let byIndex = this.precommits.get(input.vote.round);
      if (!byIndex) this.precommits.set(input.vote.round, (byIndex = new Map()));
      if (!byIndex.has(input.vote.validatorIndex)) byIndex.set(input.vote.validatorIndex, input.vote);
    }
    const t = apply(this.core, input);
    const before = this.core;
    this.core = t.state;
    if (t.ignored === null) this.observe(before, t.state, input);
    for (const effect of t.effects) await this.perform(effect);
  }

  // ---- events for observers -------------------------------------------------------------------

  private emit(e: ConsensusEvent): void {
    if (!this.m.onEvent || this.replaying) return;
    try {
      this.m.onEvent(e);
    } catch (err) {
      this.m.logger.warn({ err: (err as Error).message }, 'consensus event listener failed');
    }
  }

  private static stepOf(c: CoreState): ConsensusStep {
    const r = c.round;
    if (r.step === 'propose') return 'Propose';
    if (r.step === 'prevote') return r.prevoteTimeoutScheduled ? 'PrevoteWait' : 'Prevote';
    if (r.step === 'precommit') return r.precommitTimeoutScheduled ? 'PrecommitWait' : 'Precommit';
    return 'Commit';
  }

  /** Reports what one input changed, by comparing the core before and after it. */
  private observe(before: CoreState, after: CoreState, input: Input): void {
    if (!this.m.onEvent || this.replaying) return;
    const height = after.height;
    const round = after.round.round;
    if (round < 0) return;
    if (input.kind === 'timeout') this.emit({ kind: 'timeout', height: input.height, round: input.round, timeout: input.timeout });
    const newRound = before.height !== height || before.round.round !== round;
    if (newRound && after.validators) {
      this.emit({ kind: 'newStep', height, round, step: 'NewRound' });
      const address = proposerOf(after.validators, round);
      this.emit({ kind: 'newRound', height, round, proposer: { address, index: after.validators.getByAddress(address)?.index ?? -1 } });
    }
    const step = ConsensusEngine.stepOf(after);
    if (newRound || step !== ConsensusEngine.stepOf(before)) {
      // a polka moves a round to precommit; a prevote timeout does so without one
      if (step === 'Precommit' && input.kind !== 'timeout') this.emit({ kind: 'polka', height, round, blockId: after.round.lockedRound === round ? after.round.lockedValue : null });
      this.emit({ kind: 'newStep', height, round, step });
    }
    if (after.round.lockedValue !== before.round.lockedValue && after.round.lockedValue) this.emit({ kind: 'lock', height, round, blockId: after.round.lockedValue });
    if (after.round.validValue !== before.round.validValue && after.round.validValue) this.emit({ kind: 'validBlock', height, round, blockId: after.round.validValue });
    if (input.kind === 'vote') this.emit({ kind: 'vote', vote: input.vote });
    if (input.kind === 'proposal' && input.proposal.round === round && this.blocks.has(valueIdOf(input.proposal.blockId)))
      this.emit({ kind: 'completeProposal', height, round, proposal: input.proposal });
  }

  private beginHeight(height: number, freshWal: boolean): void {
    if (freshWal) {
      this.wal?.reset();
      // not synced: it matters only once this height holds something of ours, and every
      // signature writes the WAL first, a precommit syncs it (a crash before that restarts the
      // height afresh; the signer's state then refuses anything that conflicts)
      this.wal?.append(encodeWalRecord({ kind: 'height', height }), false);
    }
    this.blocks = new Map();
    this.partSets = new Map();
    this.awaitingBlock = new Map();
    this.precommits = new Map();
    this.caughtUp = null;
    this.caughtUpExtended = null;
    this.pendingDecision = null;
    this.replayed = { ready: new Set(), validated: new Set() };
    this.m.logger.debug({ height }, 'starting height');
    const input: Input = { kind: 'startHeight', height, validatorSet: this.state.validators, lastCommit: this.lastCommit };
    const t = apply(this.core, input);
    const before = this.core;
    this.core = t.state;
    this.observe(before, t.state, input);
    // startHeight's effects (schedule propose timeout, request a value) are performed after replay
    // when resuming, so queue them behind it.
    const effects = t.effects;
    void this.run(async () => {
      for (const e of effects) await this.perform(e);
      for (const redeliver of this.future.splice(0)) redeliver();
      // now one height ahead: into `future`, for the height after this one
      for (const redeliver of this.farFuture.splice(0)) redeliver();
    });
  }

  private async replay(records: WalRecord[]): Promise<void> {
    for (const r of records) {
      if (r.kind === 'valueReady') this.replayed.ready.add(`${r.height}/${r.round}`);
      if (r.kind === 'valueValidated') this.replayed.validated.add(valueIdOf(r.blockId));
    }
    this.replaying = true;
    try {
      for (const r of records) {
        switch (r.kind) {
          case 'block': {
            const { header, parts } = blockParts(r.block);
            const blockId = { hash: headerHash(r.block.header), partSetHeader: header };
            this.blocks.set(valueIdOf(blockId), { block: r.block, blockId, partSetHeader: header, parts });
            break;
          }
          case 'height':
            break;
          default:
            await this.feed(r, null, false);
        }
      }
    } finally {
      this.replaying = false;
    }
    this.announceOwn(records);
    this.m.logger.info({ height: this.core.height, records: records.length, round: this.core.round.round }, 'replayed the consensus WAL');
  }

  /**
   * Hands this node's own proposal and votes from the WAL to the network again. The core already
   * holds them, so it will not vote again in those steps; if they were lost with the crash (or
   * never left), peers would wait for them forever when every validator restarts mid-height.
   */
  private announceOwn(records: WalRecord[]): void {
    const me = this.m.signer?.pubKey.address;
    if (!me) return;
    for (const r of records) {
      if (r.kind === 'vote' && r.vote.height === this.core.height && bytesEqual(r.vote.validatorAddress, me)) this.m.network.broadcastVote(r.vote);
      if (r.kind === 'proposal' && r.proposal.height === this.core.height && bytesEqual(r.signer, me)) {
        const entry = this.blocks.get(valueIdOf(r.proposal.blockId));
        if (entry) this.m.network.broadcastProposal(r.proposal, entry.partSetHeader, entry.parts);
      }
    }
  }

  // ---- effects ------------------------------------------------------------------------------

  private async perform(e: Effect): Promise<void> {
    switch (e.kind) {
      case 'scheduleTimeout': {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.enqueue(() => this.feed({ kind: 'timeout', timeout: e.timeout, height: e.height, round: e.round }, { kind: 'timeout', timeout: e.timeout, height: e.height, round: e.round }, false));
        }, e.durationMs);
        this.timers.add(timer);
        return;
      }
      case 'requestValue':
        return this.requestValue(e.height, e.round);
      case 'validateValue': {
        const id = valueIdOf(e.blockId);
        if (this.replayed.validated.has(id)) return; // the WAL holds the verdict: replay feeds it
        if (this.blocks.has(id)) return this.validate(this.blocks.get(id)!);
        this.awaitingBlock.set(id, e.blockId);
        return;
      }
      case 'publishProposal':
        return this.publishProposal(e.height, e.round, e.polRound, e.blockId);
      case 'publishVote':
        return this.publishVote(e.type, e.height, e.round, e.blockId);
      case 'decide':
        return this.decide(e.height, e.round, e.blockId, e.commit);
      case 'evidence':
        this.m.logger.warn({ height: e.evidence.voteA.height, validator: toHex(e.evidence.voteA.validatorAddress) }, 'duplicate vote detected');
        this.m.onEvidence?.(e.evidence);
        return;
    }
  }

  private async buildValue(height: number, round: number): Promise<void> {
    if (this.replayed.ready.has(`${height}/${round}`)) return; // the WAL holds our value for this round
    if (!this.m.signer) return;
    const built = await this.m.executor.createProposalBlock(this.state, this.m.signer.pubKey.address, this.lastCommit, this.lastExtendedCommit);
    await this.learnBlock({ block: built.block, blockId: built.blockId, partSetHeader: built.partSetHeader, parts: built.parts }, true);
    // not synced here: publishProposal makes the WAL durable before its signature leaves
    await this.feed({ kind: 'valueReady', height, round, blockId: built.blockId }, { kind: 'valueReady', height, round, blockId: built.blockId }, false);
  }

  /** A block of this height is now known: log it, and validate it if the core is waiting. */
  private async learnBlock(entry: BlockEntry, log: boolean): Promise<void> {
    const id = valueIdOf(entry.blockId);
    if (this.blocks.has(id)) return;
    this.blocks.set(id, entry);
    this.partSets.delete(id);
    if (log && !this.replaying) this.wal?.append(encodeWalRecord({ kind: 'block', block: entry.block }), false);
    const proposal = this.core.proposals.get(this.core.round.round);
    if (proposal && valueIdOf(proposal.blockId) === id) this.emit({ kind: 'completeProposal', height: proposal.height, round: proposal.round, proposal });
    if (this.awaitingBlock.has(id)) {
      this.awaitingBlock.delete(id);
      await this.validate(entry);
    }
    const pending = this.pendingDecision;
    if (pending && valueIdOf(pending.blockId) === id) {
      this.pendingDecision = null;
      await this.decide(pending.height, pending.round, pending.blockId, pending.commit);
    }
  }

  private async validate(entry: BlockEntry): Promise<void> {
    const { valid, reason } = await this.m.executor.processProposal(this.state, entry.block);
    if (!valid) this.m.logger.warn({ height: entry.block.header.height, block: toHex(entry.blockId.hash), reason }, 'proposal rejected');
    const height = entry.block.header.height;
    await this.feed({ kind: 'valueValidated', height, blockId: entry.blockId, valid }, { kind: 'valueValidated', height, blockId: entry.blockId, valid }, false);
  }

  private async publishProposal(height: number, round: number, polRound: number, blockId: BlockID): Promise<void> {
    const signer = this.m.signer;
    const entry = this.blocks.get(valueIdOf(blockId));
    if (!signer || !entry) throw new ConsensusError('asked to propose a block this node does not have', { height, round });
    // Written, not synced, before we sign: see publishVote; a proposal sets no lock either.
    this.wal?.flush();
    const proposal = this.sign(() =>
      signer.signProposal(this.opts.chainId, { type: SignedMsgType.Proposal, height, round, polRound, blockId, timestamp: this.now(), signature: new Uint8Array(0) }),
    );
    if (!proposal) return;
    const input: Input = { kind: 'proposal', proposal, signer: signer.pubKey.address };
    if (!this.replaying) this.wal?.append(encodeWalRecord({ kind: 'proposal', proposal, signer: signer.pubKey.address }), false);
    this.m.network.broadcastProposal(proposal, entry.partSetHeader, entry.parts);
    await this.feed(input, null, false);
  }

  private extensionsEnabled(height: number): boolean {
    const h = this.state.consensusParams.abci.voteExtensionsEnableHeight;
    return h > 0n && BigInt(height) >= h;
  }

  private async publishVote(type: SignedMsgType.Prevote | SignedMsgType.Precommit, height: number, round: number, blockId: BlockID): Promise<void> {
    const signer = this.m.signer;
    if (!signer) return;
    const own = this.state.validators.getByAddress(signer.pubKey.address);
    if (!own) return;
    // BFT time: a vote is later than the block it votes for (and than the last block), so the
    // median of the next commit is after this block's time.
    const entry = isZeroBlockID(blockId) ? undefined : this.blocks.get(valueIdOf(blockId));
    let timestamp = later(this.now(), addOneMs(this.state.lastBlockTime));
    if (entry) timestamp = later(timestamp, addOneMs(entry.block.header.time));
    let extension: Uint8Array = new Uint8Array(0);
    const extend = type === SignedMsgType.Precommit && !isZeroBlockID(blockId) && this.extensionsEnabled(height);
    if (extend && entry) extension = await this.m.executor.extendVote(this.state, entry.block);
    // Before a precommit, every input that led here (the polka that locks us) is durable: a
    // restart after a power cut must not forget the lock. Before a prevote the inputs are only
    // written: the signer's state (fsynced) already refuses a conflicting prevote in this round,
    // and a prevote sets no lock, so losing them to a power cut costs at most this round's vote.
    // That is one fdatasync fewer per height (about 250 us each here, on the event loop). (The
    // precommit's fdatasync issued in the thread pool, concurrently with the signer's, measured
    // slower: 7.5 against 4.4 ms median to the vote sent; the pool is LevelDB's too.)
    if (type === SignedMsgType.Precommit) this.wal?.sync();
    else this.wal?.flush();
    const vote = this.sign(() => signer.signVote(
      this.opts.chainId,
      {
        type,
        height,
        round,
        blockId,
        timestamp,
        validatorAddress: signer.pubKey.address,
        validatorIndex: own.index,
        signature: new Uint8Array(0),
        extension,
        extensionSignature: new Uint8Array(0),
      },
      extend,
    ));
    if (!vote) return;
    if (type === SignedMsgType.Precommit) this.precommittedUpTo = Math.max(this.precommittedUpTo, height);
    // not synced: the inputs that led here are (above); if this record is lost, replaying them
    // asks the signer again, which returns this same signature
    if (!this.replaying) this.wal?.append(encodeWalRecord({ kind: 'vote', vote }), false);
    this.m.network.broadcastVote(vote);
    await this.feed({ kind: 'vote', vote }, null, false);
  }

  /** Signs, or logs the signer's refusal and returns undefined: not voting is safe, a conflicting signature is not. */
  private sign<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof DoubleSignError) {
        this.m.logger.error({ kind: e.kind, ...e.context }, `signer refused: ${e.message}`);
        return undefined;
      }
      throw e;
    }
  }

  /** The commit (and extended commit) from the precommits this node holds for (round, block). */
  private commitsFor(round: number, blockId: BlockID, fallback: Commit): { commit: Commit; extended: ExtendedCommit | null } {
    const votes = this.precommits.get(round);
    if (!votes) return { commit: fallback, extended: null };
    const id = valueIdOf(blockId);
    const sigs: ExtendedCommitSig[] = this.state.validators.validators.map((_, i) => {
      const v = votes.get(i);
      if (!v) return { blockIdFlag: BlockIDFlag.Absent, validatorAddress: new Uint8Array(0), timestamp: { seconds: 0, nanos: 0 }, signature: new Uint8Array(0), extension: new Uint8Array(0), extensionSignature: new Uint8Array(0) };
      const forBlock = valueIdOf(v.blockId) === id;
      return {
        blockIdFlag: forBlock ? BlockIDFlag.Commit : isZeroBlockID(v.blockId) ? BlockIDFlag.Nil : BlockIDFlag.Absent,
        validatorAddress: forBlock || isZeroBlockID(v.blockId) ? v.validatorAddress : new Uint8Array(0),
        timestamp: forBlock || isZeroBlockID(v.blockId) ? v.timestamp : { seconds: 0, nanos: 0 },
        signature: forBlock || isZeroBlockID(v.blockId) ? v.signature : new Uint8Array(0),
        extension: forBlock ? v.extension : new Uint8Array(0),
        extensionSignature: forBlock ? v.extensionSignature : new Uint8Array(0),
      };
    });
    const commit: Commit = { height: fallback.height, round, blockId, signatures: sigs.map(({ blockIdFlag, validatorAddress, timestamp, signature }) => ({ blockIdFlag, validatorAddress, timestamp, signature })) };
    const extended: ExtendedCommit = { height: fallback.height, round, blockId, extendedSignatures: sigs };
    return { commit, extended: this.extensionsEnabled(fallback.height) ? extended : null };
  }

  private async decide(height: number, round: number, blockId: BlockID, coreCommit: Commit): Promise<void> {
    const entry = this.blocks.get(valueIdOf(blockId));
    if (!entry) {
      // >2/3 precommitted a block whose parts did not reach us (yet): wait for them, and ask peers
      this.pendingDecision = { height, round, blockId, commit: coreCommit };
      this.m.logger.info({ height, round, hash: toHex(blockId.hash) }, 'decided a block this node does not have yet; fetching it');
      this.m.network.requestBlock?.(height);
      return;
    }
    // a peer's commit proves the decision; our own precommits of that round may be too few to
    const caughtUp = this.caughtUp !== null && valueIdOf(this.caughtUp.blockId) === valueIdOf(blockId) ? this.caughtUp : null;
    const { commit, extended } = caughtUp ? { commit: caughtUp, extended: this.caughtUpExtended } : this.commitsFor(round, blockId, coreCommit);
    // the last block's state is durable before this block is stored (a restart needs the state
    // within one block of the store); the block is stored while the app executes it
    await this.m.executor.settled();
    const saved = extended
      ? this.m.blockStore.saveBlockWithExtendedCommit(entry.block, extended, { header: entry.partSetHeader, parts: entry.parts })
      : this.m.blockStore.saveBlock(entry.block, commit, { header: entry.partSetHeader, parts: entry.parts });
    saved.catch(() => {}); // awaited inside applyBlock; a failure surfaces there
    const { state } = await this.m.executor.applyBlock(this.state, blockId, entry.block, saved, { background: true });
    // the index and state writes continue while the next height starts; their failure stops consensus
    this.m.executor.settled().catch((e: unknown) => this.fatal(e instanceof Error ? e : new Error(String(e))));
    this.state = state;
    this.lastCommit = commit;
    this.lastExtendedCommit = extended;
    this.m.logger.info({ height, round, txs: entry.block.data.txs.length, hash: toHex(blockId.hash), appHash: toHex(state.appHash) }, 'committed block');
    this.m.onDecided?.({ height, round, block: entry.block, blockId, commit, state });
    this.emit({ kind: 'newStep', height: nextHeight(state), round: 0, step: 'NewHeight' });
    this.resolveWaiters(height);
    // timeout_commit: the pause before the next height (late precommits still arrive).
    const next = nextHeight(state);
    // a proof block: the app hash this block led to is committed in the next header (CometBFT's needProofBlock)
    const proofNeeded = !bytesEqual(state.appHash, entry.block.header.appHash);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.startNextHeight(next, proofNeeded);
    }, this.opts.timeouts.commit);
    this.timers.add(timer);
  }
}
