// Builds, checks and applies blocks: PrepareProposal/ProcessProposal for consensus, then, for a
// decided block, FinalizeBlock → store results → update state → Commit → index → prune.
// The audit lives here too: a decided block whose app hash differs from the one this node
// computed stops the node with both hashes named, instead of letting it silently diverge.
import {
  ZERO_BLOCK_ID,
  encodeEvidenceList,
  toHex,
  type Block,
  type BlockID,
  type Commit,
  type Evidence,
  type ExecTxResult,
  type ExtendedCommit,
  type Header,
  type Part,
  type PartSetHeader,
} from '../codec/index.js';
import { bytesEqual } from '../crypto/index.js';
import {
  ProcessProposalStatus,
  VerifyVoteExtensionStatus,
  decodeResponseFinalizeBlock,
  encodeResponseFinalizeBlock,
  type Application,
  type ResponseFinalizeBlock,
} from '../abci/index.js';
import { EvidenceError } from '../evidence/index.js';
import type { BlockIndex, BlockStore, State, StateStore, TxIndex } from '../store/index.js';
import { BLOCK_PROTOCOL, blockParts, commitHash, consensusParamsHash, dataHash, evidenceHash, headerHash } from '../types/index.js';
import { commitInfo, extendedCommitInfo, misbehavior } from './abci-info.js';
import { medianTime } from './bft-time.js';
import { ExecutionError } from './errors.js';
import { nextHeight, updateState } from './state.js';
import { maxBlockBytes, validateBlockAgainstState } from './validate.js';

// CometBFT's block-size accounting (types/block.go): what a block needs besides its txs.
const MAX_OVERHEAD_FOR_BLOCK = 11;
const MAX_HEADER_BYTES = 626;
const MAX_COMMIT_OVERHEAD_BYTES = 94;
const MAX_COMMIT_SIG_BYTES = 109 + 2;

/** Bytes available for txs in a block. */
export function maxDataBytes(maxBytes: number, evidenceBytes: number, validators: number): number {
  return maxBytes - MAX_OVERHEAD_FOR_BLOCK - MAX_HEADER_BYTES - (MAX_COMMIT_OVERHEAD_BYTES + MAX_COMMIT_SIG_BYTES * validators) - evidenceBytes;
}

/** Protobuf size of a tx inside Data (tag + length varint + bytes), as CometBFT counts it. */
export function txProtoSize(tx: Uint8Array): number {
  let n = tx.length;
  let varint = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    varint++;
  }
  return 1 + varint + tx.length;
}

/** An empty commit, what the initial block carries as its last commit. */
export const EMPTY_COMMIT: Commit = Object.freeze({ height: 0, round: 0, blockId: ZERO_BLOCK_ID, signatures: [] });

/** What execution needs from the mempool (the mempool folder implements it). */
export interface MempoolPort {
  reapMaxBytesMaxGas(maxBytes: number, maxGas: number): Uint8Array[];
  /** Removes committed txs; runs under the mempool's lock while the app commits. */
  update(height: number, txs: readonly Uint8Array[], results: readonly ExecTxResult[], limits: { maxDataBytes: number; maxGas: bigint }): void | Promise<void>;
  /** Holds the mempool's lock around `fn` (no CheckTx runs against a half-committed app). */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
}

/** What execution needs from the evidence pool (src/evidence's EvidencePool implements it). */
export interface EvidencePort {
  /** Pending evidence, oldest first, whose EvidenceList encoding fits `maxBytes` (-1: no limit). */
  pending(maxBytes: number): Evidence[];
  /** A block's evidence against the state it builds on; throws EvidenceError if any is invalid, duplicated or committed. */
  check(state: State, evidence: readonly Evidence[]): Promise<void>;
  /** After the block of `state.lastBlockHeight` is committed by the app: mark its evidence committed, prune. */
  update(state: State, committed: readonly Evidence[]): void | Promise<void>;
}

/** Told about every applied block, after it is durable (RPC events, metrics). */
export interface AppliedBlock {
  readonly block: Block;
  readonly blockId: BlockID;
  readonly response: ResponseFinalizeBlock;
  readonly state: State;
}

export interface ExecutorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface ExecutorModules {
  /** Wrap it with abci's serialize(): mempool CheckTx and consensus must not interleave inside the app. */
  readonly app: Application;
  readonly blockStore: BlockStore;
  readonly stateStore: StateStore;
  readonly txIndex?: TxIndex;
  readonly blockIndex?: BlockIndex;
  readonly mempool?: MempoolPort;
  readonly evidence?: EvidencePort;
  /**
   * A block was executed and the app committed it; its index and state writes may still be
   * running (settled() resolves when they are done).
   */
  readonly onApplied?: (applied: AppliedBlock) => void;
  readonly logger: ExecutorLogger;
  /**
   * storage.discard_abci_responses: keep a FinalizeBlock response only while a restart may need
   * it — the latest height's (the handshake's crash recovery) and those not yet indexed. The
   * indexes must then fsync their writes (a power cut must not take an index whose responses
   * are gone). The responses of earlier heights are deleted as each height finishes.
   */
  readonly discardFinalizeBlockResponses?: boolean;
}

export interface ProposalBlock {
  readonly block: Block;
  readonly blockId: BlockID;
  readonly parts: Part[];
  readonly partSetHeader: PartSetHeader;
}

function blockIdOf(block: Block): { blockId: BlockID; parts: Part[]; partSetHeader: PartSetHeader } {
  const { header, parts } = blockParts(block);
  return { blockId: { hash: headerHash(block.header), partSetHeader: header }, parts, partSetHeader: header };
}

export class BlockExecutor {
  /**
   * Blocks already validated against a state, by object identity (both are immutable). A peer's
   * proposal is validated in ProcessProposal and again when applied: the second time would
   * re-encode the block and re-verify every last-commit signature for nothing.
   */
  private readonly validated = new WeakMap<State, WeakSet<Block>>();

  /** The last block's index and state writes, when applyBlock left them running (`background`). */
  private finishing: Promise<void> = Promise.resolve();

  constructor(private readonly m: ExecutorModules) {}

  /**
   * Resolves once the last applied block is indexed and its state durable; rejects if those
   * writes failed. The next block must not be stored before: a restart needs the state within
   * one block of the store.
   */
  settled(): Promise<void> {
    return this.finishing;
  }

  private async validate(state: State, block: Block): Promise<void> {
    if (this.validated.get(state)?.has(block)) return;
    validateBlockAgainstState(state, block);
    try {
      await this.m.evidence?.check(state, block.evidence);
    } catch (e) {
      if (e instanceof EvidenceError) throw new ExecutionError('invalid_block', `invalid evidence: ${e.message}`, { height: block.header.height, evidence: e.kind, ...e.context });
      throw e;
    }
    let blocks = this.validated.get(state);
    if (!blocks) this.validated.set(state, (blocks = new WeakSet()));
    blocks.add(block);
  }

  /** A block this node proposes at the state's next height (PrepareProposal decides its txs). */
  async createProposalBlock(state: State, proposerAddress: Uint8Array, lastCommit: Commit | null, lastExtendedCommit: ExtendedCommit | null): Promise<ProposalBlock> {
    const height = nextHeight(state);
    const commit = height === state.initialHeight ? EMPTY_COMMIT : lastCommit;
    if (!commit) throw new ExecutionError('store_inconsistent', `no commit for height ${height - 1} to build on`, { height });
    const maxBytes = maxBlockBytes(state);
    const evidence = this.m.evidence?.pending(Number(state.consensusParams.evidence.maxBytes)) ?? [];
    // sized as CometBFT sizes EvidenceData: the protobuf EvidenceList
    const evidenceBytes = evidence.length === 0 ? 0 : encodeEvidenceList(evidence).length;
    const dataBytes = maxDataBytes(maxBytes, evidenceBytes, state.validators.size);
    if (dataBytes < 0) throw new ExecutionError('invalid_block', `block.max_bytes ${maxBytes} leaves no room for txs`, { maxBytes });
    const maxGas = Number(state.consensusParams.block.maxGas);
    const txs = this.m.mempool?.reapMaxBytesMaxGas(dataBytes, maxGas) ?? [];
    const time = height === state.initialHeight ? state.lastBlockTime : medianTime(commit, state.lastValidators);
    const rpp = await this.m.app.prepareProposal({
      maxTxBytes: dataBytes,
      txs,
      localLastCommit: extendedCommitInfo(lastExtendedCommit ?? commitAsExtended(commit), state.lastValidators),
      misbehavior: misbehavior(evidence),
      height,
      time,
      nextValidatorsHash: state.nextValidators.hash(),
      proposerAddress,
    });
    const size = rpp.txs.reduce((n, tx) => n + txProtoSize(tx), 0);
    if (size > dataBytes)
      throw new ExecutionError('invalid_app_response', `PrepareProposal returned ${size} bytes of txs, over the ${dataBytes}-byte limit`, { height, size, dataBytes });
    const block = makeBlock(state, height, rpp.txs, commit, evidence, proposerAddress, time);
    return { block, ...blockIdOf(block) };
  }

  /** Full validation, then the app's ProcessProposal verdict. False for any invalid block. */
  async processProposal(state: State, block: Block): Promise<{ valid: boolean; reason?: string }> {
    try {
      await this.validate(state, block);
    } catch (e) {
      if (e instanceof ExecutionError && e.kind === 'invalid_block') return { valid: false, reason: e.message };
      throw e;
    }
    const resp = await this.m.app.processProposal({
      txs: block.data.txs,
      proposedLastCommit: commitInfo(block.lastCommit, state.lastValidators),
      misbehavior: misbehavior(block.evidence),
      hash: headerHash(block.header),
      height: block.header.height,
      time: block.header.time,
      nextValidatorsHash: block.header.nextValidatorsHash,
      proposerAddress: block.header.proposerAddress,
    });
    if (resp.status !== ProcessProposalStatus.Accept) return { valid: false, reason: `the application rejected the proposal (status ${resp.status})` };
    return { valid: true };
  }

  /** The app's vote extension for a precommit on `block` (vote extensions enabled). */
  async extendVote(state: State, block: Block): Promise<Uint8Array> {
    const r = await this.m.app.extendVote({
      hash: headerHash(block.header),
      height: block.header.height,
      time: block.header.time,
      txs: block.data.txs,
      proposedLastCommit: commitInfo(block.lastCommit, state.lastValidators),
      misbehavior: misbehavior(block.evidence),
      nextValidatorsHash: block.header.nextValidatorsHash,
      proposerAddress: block.header.proposerAddress,
    });
    return r.voteExtension;
  }

  /** The app's verdict on another validator's vote extension. */
  async verifyVoteExtension(vote: { blockId: BlockID; validatorAddress: Uint8Array; height: number; extension: Uint8Array }): Promise<boolean> {
    const r = await this.m.app.verifyVoteExtension({ hash: vote.blockId.hash, validatorAddress: vote.validatorAddress, height: vote.height, voteExtension: vote.extension });
    return r.status === VerifyVoteExtensionStatus.Accept;
  }

  /**
   * Execute a decided block (already in the block store) and commit it. Returns the new state,
   * durable when this returns.
   */
  /**
   * `saved`, when given, is the block being written to the block store: FinalizeBlock runs while
   * it is written (the app persists nothing before Commit), and nothing is stored before it is.
   */
  async applyBlock(
    state: State,
    blockId: BlockID,
    block: Block,
    saved?: Promise<unknown>,
    opts: { readonly background?: boolean } = {},
  ): Promise<{ state: State; response: ResponseFinalizeBlock; retainHeight: number }> {
    await this.finishing;
    const h = block.header;
    if (h.height === nextHeight(state) && !bytesEqual(h.appHash, state.appHash)) {
      throw new ExecutionError(
        'app_hash_mismatch',
        `app hash mismatch at height ${h.height}: this node computed ${toHex(state.appHash)} after height ${h.height - 1}, ` +
          `but the committed block ${h.height} carries ${toHex(h.appHash)} — this node's application diverged from the chain; stopping`,
        { height: h.height, computed: toHex(state.appHash), committed: toHex(h.appHash) },
      );
    }
    await this.validate(state, block);
    const response = await this.finalize(state, block);
    // The response is written while the block may still be: both are durable before the app
    // commits, which is all a restart needs (one fsync wait instead of two in a row). A response
    // whose block never made it is never read: the height is above the store's and is applied,
    // and its response rewritten, again.
    await Promise.all([saved, this.m.stateStore.saveFinalizeBlockResponse(h.height, encodeResponseFinalizeBlock(response))]);
    const next = updateState(state, blockId, h, response);
    const retainHeight = await this.commit(h.height, block.data.txs, response.txResults, next);
    // evidence before returning: the next proposal must not carry evidence this block committed
    await this.m.evidence?.update(next, block.evidence);
    const finishing = this.finish(block, retainHeight, response, next);
    this.finishing = finishing;
    finishing.catch(() => {}); // reported through settled() and the next applyBlock
    // Told now, not after the index and state writes: the block is durable (stored before the
    // app's Commit) and so is its FinalizeBlock response, so a client told its tx committed can
    // rely on it; readers of the indexes and the state wait for settled() (the RPC does). This
    // took the writes (~2 ms here) out of broadcast_tx_commit's path.
    this.m.onApplied?.({ block, blockId, response, state: next });
    if (!opts.background) {
      await finishing;
      return { state: next, response, retainHeight };
    }
    // With `background`, consensus starts the next height while the index and the (fsynced)
    // state are written: nothing of the next height needs them on disk before its block is
    // stored, and the engine waits for settled() before that. A crash meanwhile is the crash
    // between app Commit and state save the handshake already recovers from.
    return { state: next, response, retainHeight };
  }

  /**
   * After a crash between the app's Commit and the state save: the app already has the block,
   * so the stored FinalizeBlock response moves the state instead of executing it again.
   */
  async applyCommittedResponse(state: State, blockId: BlockID, block: Block, response: ResponseFinalizeBlock): Promise<State> {
    await this.finishing;
    const next = updateState(state, blockId, block.header, response);
    await this.m.evidence?.update(next, block.evidence);
    await this.finish(block, 0, response, next);
    this.m.onApplied?.({ block, blockId, response, state: next });
    return next;
  }

  /**
   * Everything after the app's Commit and the evidence pool's update: index, make the state
   * durable, prune. (Evidence first: a crash before the state save replays this block
   * through applyCommittedResponse, which updates the pool again — idempotent; the other order
   * could leave committed evidence pending, for this node to propose again.)
   */
  private async finish(block: Block, retainHeight: number, response: ResponseFinalizeBlock, next: State): Promise<void> {
    // the indexes and the state are written at once (each fsyncs its own database); an index
    // the crash left behind the state is rebuilt at start by recoverIndexes
    await Promise.all([this.index(block.header.height, block, response), this.m.stateStore.save(next)]);
    // the previous height is saved in the state and indexed (durably, in this mode): a restart
    // no longer reads its response
    if (this.m.discardFinalizeBlockResponses) await this.m.stateStore.deleteFinalizeBlockResponse(block.header.height - 1);
    await this.prune(retainHeight, next);
  }

  /** FinalizeBlock, checking the app answered for every tx. */
  async finalize(state: State, block: Block): Promise<ResponseFinalizeBlock> {
    const h = block.header;
    const response = await this.m.app.finalizeBlock({
      txs: block.data.txs,
      decidedLastCommit: commitInfo(block.lastCommit, state.lastValidators),
      misbehavior: misbehavior(block.evidence),
      hash: headerHash(h),
      height: h.height,
      time: h.time,
      nextValidatorsHash: h.nextValidatorsHash,
      proposerAddress: h.proposerAddress,
    });
    if (response.txResults.length !== block.data.txs.length)
      throw new ExecutionError('invalid_app_response', `FinalizeBlock returned ${response.txResults.length} results for ${block.data.txs.length} txs`, { height: h.height });
    for (const u of response.validatorUpdates) {
      if (u.pubKey.length !== 32) throw new ExecutionError('invalid_app_response', 'validator update key is not a 32-byte ed25519 key', { height: h.height });
      if (u.power < 0n) throw new ExecutionError('invalid_app_response', 'validator update has negative power', { height: h.height });
    }
    return response;
  }

  /** App Commit with the mempool locked, then the mempool drops what the block included. */
  async commit(height: number, txs: readonly Uint8Array[], results: readonly ExecTxResult[], state?: State): Promise<number> {
    // What any later block can hold: the mempool refuses txs that could never fit one.
    const limits = state
      ? { maxDataBytes: maxDataBytes(maxBlockBytes(state), 0, state.validators.size), maxGas: state.consensusParams.block.maxGas }
      : { maxDataBytes: -1, maxGas: -1n };
    const run = async (): Promise<number> => {
      const { retainHeight } = await this.m.app.commit();
      await this.m.mempool?.update(height, txs, results, limits);
      return retainHeight;
    };
    return this.m.mempool ? this.m.mempool.withLock(run) : run();
  }

  private async index(height: number, block: Block, response: ResponseFinalizeBlock): Promise<void> {
    await Promise.all([this.m.txIndex?.indexBlock(height, block.data.txs, response.txResults), this.m.blockIndex?.index(height, response.events)]);
  }

  /**
   * Indexes the committed blocks the indexes missed (a crash between the state and the index
   * writes), from the stored blocks and FinalizeBlock results. Returns the heights indexed.
   */
  async recoverIndexes(state: State): Promise<number> {
    const txIndex = this.m.txIndex;
    if (!txIndex && !this.m.blockIndex) return 0;
    const floor = Math.max(this.m.blockStore.base(), state.initialHeight);
    let from = Math.max(txIndex ? (await txIndex.lastIndexedHeight()) + 1 : state.lastBlockHeight, floor);
    // The two indexes are separate, unsynced databases: a power cut can leave the block index
    // behind the tx index. Each keeps a prefix of its writes, so the block index's gap is just
    // below the tx index's last height.
    const blockIndex = this.m.blockIndex;
    if (txIndex && blockIndex) while (from > floor && !(await blockIndex.has(from - 1))) from--;
    let done = 0;
    for (let h = from; h <= state.lastBlockHeight; h++) {
      if (!txIndex && (await this.m.blockIndex!.has(h))) continue;
      const [block, raw] = await Promise.all([this.m.blockStore.loadBlock(h), this.m.stateStore.loadFinalizeBlockResponse(h)]);
      if (!block || !raw) continue; // pruned: nothing to index from
      await this.index(h, block, decodeResponseFinalizeBlock(raw));
      done++;
    }
    if (done > 0) this.m.logger.info({ from, to: state.lastBlockHeight, heights: done }, 'indexed blocks the indexes missed before the last stop');
    if (this.m.discardFinalizeBlockResponses) {
      // what an earlier run kept (with the option off, or stopped between a height's writes)
      const dropped = await this.m.stateStore.deleteFinalizeBlockResponsesBelow(state.lastBlockHeight);
      if (dropped > 0) this.m.logger.info({ below: state.lastBlockHeight, responses: dropped }, 'discarded FinalizeBlock responses (storage.discard_abci_responses)');
    }
    return done;
  }

  private async prune(retainHeight: number, state: State): Promise<void> {
    if (retainHeight <= 0) return;
    const base = this.m.blockStore.base();
    if (retainHeight <= base) return;
    const keep = Math.min(retainHeight, state.lastBlockHeight);
    const pruned = await this.m.blockStore.pruneBlocks(keep);
    await this.m.stateStore.prune(keep);
    this.m.logger.info({ retainHeight: keep, pruned }, 'pruned blocks below the retain height');
  }
}

/** A plain commit seen as an extended one with no extensions (vote extensions off). */
function commitAsExtended(c: Commit): ExtendedCommit {
  return {
    height: c.height,
    round: c.round,
    blockId: c.blockId,
    extendedSignatures: c.signatures.map((s) => ({ ...s, extension: new Uint8Array(0), extensionSignature: new Uint8Array(0) })),
  };
}

/** The header and block a proposer builds (CometBFT's State.MakeBlock). */
export function makeBlock(
  state: State,
  height: number,
  txs: readonly Uint8Array[],
  lastCommit: Commit,
  evidence: readonly Evidence[],
  proposerAddress: Uint8Array,
  time: Header['time'],
): Block {
  const header: Header = {
    version: { block: BLOCK_PROTOCOL, app: state.appVersion },
    chainId: state.chainId,
    height,
    time,
    lastBlockId: state.lastBlockId,
    lastCommitHash: commitHash(lastCommit),
    dataHash: dataHash(txs),
    validatorsHash: state.validators.hash(),
    nextValidatorsHash: state.nextValidators.hash(),
    consensusHash: consensusParamsHash(state.consensusParams),
    appHash: state.appHash,
    lastResultsHash: state.lastResultsHash,
    evidenceHash: evidenceHash(evidence),
    proposerAddress,
  };
  return { header, data: { txs: [...txs] }, evidence: [...evidence], lastCommit };
}
