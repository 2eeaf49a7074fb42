// ABCI 2.0 (CometBFT 0.38, "ABCI++") requests and responses as plain TypeScript data, field for
// field as in tendermint/abci/types.proto, names in camelCase. int64/uint64 quantities that can
// exceed 2^53 (voting power, gas, app version) are bigint; heights, rounds, indices and sizes are
// safe integers. Shared structures (events, tx results, consensus params, timestamps) are the
// codec's, so the same objects flow on into hashing, storage and RPC without conversion.
import type {
  BlockIDFlag,
  ConsensusParams,
  Event,
  ExecTxResult,
  Timestamp,
} from '../codec/index.js';

// ---------------------------------------------------------------------------------------------
// Enums (same numeric values as the protobuf enums, so they round-trip through the wire form)

/** Why CheckTx is called: a tx new to the mempool, or a re-check after a block was committed. */
export enum CheckTxType {
  New = 0,
  Recheck = 1,
}

export enum ProcessProposalStatus {
  Unknown = 0,
  Accept = 1,
  Reject = 2,
}

export enum VerifyVoteExtensionStatus {
  Unknown = 0,
  Accept = 1,
  /** Rejects the whole precommit of the sender: never reject an honest validator's extension. */
  Reject = 2,
}

export enum OfferSnapshotResult {
  /** Treated like Abort. */
  Unknown = 0,
  /** Apply this snapshot's chunks. */
  Accept = 1,
  /** Abort state sync altogether. */
  Abort = 2,
  /** Reject this snapshot, try others. */
  Reject = 3,
  /** Reject every snapshot of this format, try others. */
  RejectFormat = 4,
  /** Reject every snapshot from the peers that offered this one, try others. */
  RejectSender = 5,
}

export enum ApplySnapshotChunkResult {
  /** Treated like Abort. */
  Unknown = 0,
  /** Chunk applied. */
  Accept = 1,
  /** Abort state sync altogether. */
  Abort = 2,
  /** Retry this chunk (together with refetchChunks / rejectSenders). */
  Retry = 3,
  /** Restart this snapshot from its first chunk (together with refetchChunks / rejectSenders). */
  RetrySnapshot = 4,
  /** Give up on this snapshot, try others. */
  RejectSnapshot = 5,
}

export enum MisbehaviorType {
  Unknown = 0,
  DuplicateVote = 1,
  LightClientAttack = 2,
}

// ---------------------------------------------------------------------------------------------
// Shared structures

/** A validator as ABCI reports it: its address (first 20 bytes of SHA-256(pubkey)) and power. */
export interface AbciValidator {
  readonly address: Uint8Array;
  readonly power: bigint;
}

/** An update to the validator set. Power 0 removes the validator. Keys are ed25519 (32 bytes). */
export interface ValidatorUpdate {
  readonly pubKey: Uint8Array;
  readonly power: bigint;
}

export interface VoteInfo {
  readonly validator: AbciValidator;
  readonly blockIdFlag: BlockIDFlag;
}

export interface ExtendedVoteInfo {
  readonly validator: AbciValidator;
  /** Produced by the sender's application; not deterministic across validators. */
  readonly voteExtension: Uint8Array;
  readonly extensionSignature: Uint8Array;
  readonly blockIdFlag: BlockIDFlag;
}

/** Who signed the previous block's commit, in validator-set order. */
export interface CommitInfo {
  readonly round: number;
  readonly votes: readonly VoteInfo[];
}

/** The proposer's local view of the last commit, with the vote extensions (PrepareProposal only). */
export interface ExtendedCommitInfo {
  readonly round: number;
  readonly votes: readonly ExtendedVoteInfo[];
}

export interface Misbehavior {
  readonly type: MisbehaviorType;
  readonly validator: AbciValidator;
  /** Height of the offence. */
  readonly height: number;
  /** Block time at the offence height. */
  readonly time: Timestamp;
  /** Total voting power at the offence height, for apps that keep no validator history. */
  readonly totalVotingPower: bigint;
}

export interface Snapshot {
  readonly height: number;
  /** Application-defined format; a node only restores formats its app accepts. */
  readonly format: number;
  readonly chunks: number;
  /** Equal for two snapshots only if they are identical. */
  readonly hash: Uint8Array;
  readonly metadata: Uint8Array;
}

/**
 * A consensus-parameter change: each section present replaces that whole section, absent sections
 * stay as they are (CometBFT's ConsensusParams.Update).
 */
export type ConsensusParamUpdates = Partial<ConsensusParams>;

export interface ProofOp {
  readonly type: string;
  readonly key: Uint8Array;
  readonly data: Uint8Array;
}

export interface ProofOps {
  readonly ops: readonly ProofOp[];
}

// ---------------------------------------------------------------------------------------------
// Info / Query connection

export interface RequestInfo {
  /** CometBFT-compatible software version of the node. */
  readonly version: string;
  readonly blockVersion: bigint;
  readonly p2pVersion: bigint;
  readonly abciVersion: string;
}

export interface ResponseInfo {
  readonly data: string;
  readonly version: string;
  readonly appVersion: bigint;
  /** Last height the app committed durably; 0 makes the node call InitChain. */
  readonly lastBlockHeight: number;
  /** App hash after lastBlockHeight; the node replays blocks from there. */
  readonly lastBlockAppHash: Uint8Array;
}

export interface RequestQuery {
  readonly data: Uint8Array;
  readonly path: string;
  /** 0 means the latest committed height. */
  readonly height: number;
  readonly prove: boolean;
}

export interface ResponseQuery {
  readonly code: number;
  /** Non-deterministic. */
  readonly log: string;
  /** Non-deterministic. */
  readonly info: string;
  readonly index: number;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly proofOps: ProofOps | null;
  /** The height the answer is valid at. */
  readonly height: number;
  readonly codespace: string;
}

// ---------------------------------------------------------------------------------------------
// Mempool connection

export interface RequestCheckTx {
  readonly tx: Uint8Array;
  readonly type: CheckTxType;
}

export interface ResponseCheckTx {
  readonly code: number;
  readonly data: Uint8Array;
  readonly log: string;
  readonly info: string;
  readonly gasWanted: bigint;
  readonly gasUsed: bigint;
  readonly events: readonly Event[];
  readonly codespace: string;
}

// ---------------------------------------------------------------------------------------------
// Consensus connection

export interface RequestInitChain {
  /** Genesis time. */
  readonly time: Timestamp;
  readonly chainId: string;
  readonly consensusParams: ConsensusParams;
  /** The genesis validators. */
  readonly validators: readonly ValidatorUpdate[];
  /** genesis.json's app_state, verbatim. */
  readonly appStateBytes: Uint8Array;
  readonly initialHeight: number;
}

export interface ResponseInitChain {
  /** Changes to the genesis consensus params, if any. */
  readonly consensusParams?: ConsensusParamUpdates;
  /** If non-empty, replaces the genesis validator set. */
  readonly validators: readonly ValidatorUpdate[];
  /** App hash of the initial state; empty keeps genesis.json's app_hash. */
  readonly appHash: Uint8Array;
}

export interface RequestPrepareProposal {
  /** The returned txs must not exceed this many bytes in total. */
  readonly maxTxBytes: number;
  /** Candidate txs from the mempool, in mempool order. */
  readonly txs: readonly Uint8Array[];
  readonly localLastCommit: ExtendedCommitInfo;
  readonly misbehavior: readonly Misbehavior[];
  readonly height: number;
  readonly time: Timestamp;
  readonly nextValidatorsHash: Uint8Array;
  /** Address of this node's validator, which is proposing. */
  readonly proposerAddress: Uint8Array;
}

export interface ResponsePrepareProposal {
  readonly txs: readonly Uint8Array[];
}

export interface RequestProcessProposal {
  readonly txs: readonly Uint8Array[];
  readonly proposedLastCommit: CommitInfo;
  readonly misbehavior: readonly Misbehavior[];
  /** Hash of the proposed block's header. */
  readonly hash: Uint8Array;
  readonly height: number;
  readonly time: Timestamp;
  readonly nextValidatorsHash: Uint8Array;
  readonly proposerAddress: Uint8Array;
}

export interface ResponseProcessProposal {
  readonly status: ProcessProposalStatus;
}

export interface RequestExtendVote {
  /** Hash of the block this precommit is for. */
  readonly hash: Uint8Array;
  readonly height: number;
  readonly time: Timestamp;
  readonly txs: readonly Uint8Array[];
  readonly proposedLastCommit: CommitInfo;
  readonly misbehavior: readonly Misbehavior[];
  readonly nextValidatorsHash: Uint8Array;
  readonly proposerAddress: Uint8Array;
}

export interface ResponseExtendVote {
  readonly voteExtension: Uint8Array;
}

export interface RequestVerifyVoteExtension {
  readonly hash: Uint8Array;
  /** The validator that signed the extension. */
  readonly validatorAddress: Uint8Array;
  readonly height: number;
  readonly voteExtension: Uint8Array;
}

export interface ResponseVerifyVoteExtension {
  readonly status: VerifyVoteExtensionStatus;
}

export interface RequestFinalizeBlock {
  readonly txs: readonly Uint8Array[];
  readonly decidedLastCommit: CommitInfo;
  readonly misbehavior: readonly Misbehavior[];
  /** Hash of the decided block's header. */
  readonly hash: Uint8Array;
  readonly height: number;
  readonly time: Timestamp;
  readonly nextValidatorsHash: Uint8Array;
  readonly proposerAddress: Uint8Array;
}

export interface ResponseFinalizeBlock {
  /** Block-level events. */
  readonly events: readonly Event[];
  /** One result per tx, in block order. */
  readonly txResults: readonly ExecTxResult[];
  /** Take effect at height + 2. At most one update per public key. */
  readonly validatorUpdates: readonly ValidatorUpdate[];
  readonly consensusParamUpdates?: ConsensusParamUpdates;
  /** Hash of the app state after this block; goes into the next block's header. */
  readonly appHash: Uint8Array;
}

export interface ResponseCommit {
  /** Blocks below this height may be pruned by the node; 0 keeps everything. */
  readonly retainHeight: number;
}

// ---------------------------------------------------------------------------------------------
// State-sync connection

export interface ResponseListSnapshots {
  readonly snapshots: readonly Snapshot[];
}

export interface RequestOfferSnapshot {
  readonly snapshot: Snapshot;
  /** The light-client-verified app hash at snapshot.height: the restored state must match it. */
  readonly appHash: Uint8Array;
}

export interface ResponseOfferSnapshot {
  readonly result: OfferSnapshotResult;
}

export interface RequestLoadSnapshotChunk {
  readonly height: number;
  readonly format: number;
  readonly chunk: number;
}

export interface ResponseLoadSnapshotChunk {
  /** Empty if the app does not have the chunk (any more). */
  readonly chunk: Uint8Array;
}

export interface RequestApplySnapshotChunk {
  readonly index: number;
  readonly chunk: Uint8Array;
  /** Opaque id of the peer that sent the chunk, for rejectSenders. */
  readonly sender: string;
}

export interface ResponseApplySnapshotChunk {
  readonly result: ApplySnapshotChunkResult;
  /** Chunks to fetch again and re-apply. */
  readonly refetchChunks: readonly number[];
  /** Peers to stop fetching from (and to penalise). */
  readonly rejectSenders: readonly string[];
}
