// The canonical structures as plain data, field for field as CometBFT 0.38's protobuf schema
// has them. `codec/` owns these shapes and their encodings; `types/` adds meaning (hashes,
// validation, validator-set arithmetic). int64 quantities that can exceed 2^53 (voting power,
// priorities, gas, version numbers) are bigint; heights, rounds and indices are safe integers,
// checked on decode.

/** A point in time: whole seconds since the Unix epoch and nanoseconds (0..999,999,999). */
export interface Timestamp {
  readonly seconds: number;
  readonly nanos: number;
}

/** A span of time, as google.protobuf.Duration. */
export interface Duration {
  readonly seconds: number;
  readonly nanos: number;
}

export interface PartSetHeader {
  readonly total: number;
  readonly hash: Uint8Array;
}

export interface BlockID {
  readonly hash: Uint8Array;
  readonly partSetHeader: PartSetHeader;
}

/** tendermint.version.Consensus: both are uint64 and real chains use app versions above 2^53. */
export interface ConsensusVersion {
  readonly block: bigint;
  readonly app: bigint;
}

export interface Header {
  readonly version: ConsensusVersion;
  readonly chainId: string;
  readonly height: number;
  readonly time: Timestamp;
  readonly lastBlockId: BlockID;
  readonly lastCommitHash: Uint8Array;
  readonly dataHash: Uint8Array;
  readonly validatorsHash: Uint8Array;
  readonly nextValidatorsHash: Uint8Array;
  readonly consensusHash: Uint8Array;
  readonly appHash: Uint8Array;
  readonly lastResultsHash: Uint8Array;
  readonly evidenceHash: Uint8Array;
  readonly proposerAddress: Uint8Array;
}

export interface Data {
  readonly txs: readonly Uint8Array[];
}

export enum BlockIDFlag {
  Unknown = 0,
  Absent = 1,
  Commit = 2,
  Nil = 3,
}

export interface CommitSig {
  readonly blockIdFlag: BlockIDFlag;
  readonly validatorAddress: Uint8Array;
  readonly timestamp: Timestamp;
  readonly signature: Uint8Array;
}

export interface Commit {
  readonly height: number;
  readonly round: number;
  readonly blockId: BlockID;
  readonly signatures: readonly CommitSig[];
}

/** A CommitSig with the vote extension the validator signed alongside its precommit. */
export interface ExtendedCommitSig extends CommitSig {
  readonly extension: Uint8Array;
  readonly extensionSignature: Uint8Array;
}

export interface ExtendedCommit {
  readonly height: number;
  readonly round: number;
  readonly blockId: BlockID;
  readonly extendedSignatures: readonly ExtendedCommitSig[];
}

export enum SignedMsgType {
  Unknown = 0,
  Prevote = 1,
  Precommit = 2,
  Proposal = 32,
}

/** A vote. A nil vote has a zero BlockID (empty hash, total 0, empty part-set hash). */
export interface Vote {
  readonly type: SignedMsgType;
  readonly height: number;
  readonly round: number;
  readonly blockId: BlockID;
  readonly timestamp: Timestamp;
  readonly validatorAddress: Uint8Array;
  readonly validatorIndex: number;
  readonly signature: Uint8Array;
  readonly extension: Uint8Array;
  readonly extensionSignature: Uint8Array;
}

export interface Proposal {
  readonly type: SignedMsgType;
  readonly height: number;
  readonly round: number;
  /** -1 when the proposal carries no proof-of-lock round. */
  readonly polRound: number;
  readonly blockId: BlockID;
  readonly timestamp: Timestamp;
  readonly signature: Uint8Array;
}

/** tendermint.crypto.Proof */
export interface Proof {
  readonly total: number;
  readonly index: number;
  readonly leafHash: Uint8Array;
  readonly aunts: readonly Uint8Array[];
}

export interface Part {
  readonly index: number;
  readonly bytes: Uint8Array;
  readonly proof: Proof;
}

/** Only ed25519 keys are supported (CometBFT's default and the only type in its default params). */
export interface Validator {
  readonly address: Uint8Array;
  readonly pubKey: Uint8Array;
  readonly votingPower: bigint;
  readonly proposerPriority: bigint;
}

export interface DuplicateVoteEvidence {
  readonly kind: 'duplicate_vote';
  readonly voteA: Vote;
  readonly voteB: Vote;
  readonly totalVotingPower: bigint;
  readonly validatorPower: bigint;
  readonly timestamp: Timestamp;
}

/** Tally verifies and produces duplicate-vote evidence; other kinds are not decoded. */
export type Evidence = DuplicateVoteEvidence;

export interface Block {
  readonly header: Header;
  readonly data: Data;
  readonly evidence: readonly Evidence[];
  /** Absent only at the initial height. */
  readonly lastCommit: Commit | null;
}

export interface BlockParams {
  readonly maxBytes: bigint;
  readonly maxGas: bigint;
}

export interface EvidenceParams {
  readonly maxAgeNumBlocks: bigint;
  readonly maxAgeDuration: Duration;
  readonly maxBytes: bigint;
}

export interface ValidatorParams {
  readonly pubKeyTypes: readonly string[];
}

export interface VersionParams {
  readonly app: bigint;
}

export interface AbciParams {
  /** 0 disables vote extensions. */
  readonly voteExtensionsEnableHeight: bigint;
}

export interface ConsensusParams {
  readonly block: BlockParams;
  readonly evidence: EvidenceParams;
  readonly validator: ValidatorParams;
  readonly version: VersionParams;
  readonly abci: AbciParams;
}

export interface EventAttribute {
  readonly key: string;
  readonly value: string;
  readonly index: boolean;
}

export interface Event {
  readonly type: string;
  readonly attributes: readonly EventAttribute[];
}

export interface ExecTxResult {
  readonly code: number;
  readonly data: Uint8Array;
  readonly log: string;
  readonly info: string;
  readonly gasWanted: bigint;
  readonly gasUsed: bigint;
  readonly events: readonly Event[];
  readonly codespace: string;
}
