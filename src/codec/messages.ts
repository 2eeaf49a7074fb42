// Encoders and decoders for the canonical structures, field numbers as in CometBFT 0.38's
// proto/tendermint/{types,version,crypto,abci}. Non-nullable submessages (gogoproto
// nullable=false) are always written; nullable ones only when present.
import {
  BlockIDFlag,
  SignedMsgType,
  type Block,
  type BlockID,
  type Commit,
  type CommitSig,
  type ConsensusParams,
  type ConsensusVersion,
  type Data,
  type DuplicateVoteEvidence,
  type Duration,
  type Event,
  type EventAttribute,
  type Evidence,
  type ExecTxResult,
  type ExtendedCommit,
  type ExtendedCommitSig,
  type Header,
  type Part,
  type PartSetHeader,
  type Proof,
  type Proposal,
  type Timestamp,
  type Validator,
  type Vote,
} from './model.js';
import { ProtoReader, ProtoWriter } from './proto.js';
import { ByteSlab } from './slab.js';

const EMPTY: Uint8Array = new Uint8Array(0);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export const ZERO_TIME: Timestamp = Object.freeze({ seconds: 0, nanos: 0 });
export const ZERO_BLOCK_ID: BlockID = Object.freeze({
  hash: EMPTY,
  partSetHeader: Object.freeze({ total: 0, hash: EMPTY }),
});

/** Decode a whole buffer with `decode`, wrapping it in a reader named `name`. */
export function decodeWith<T>(name: string, bytes: Uint8Array, decode: (r: ProtoReader) => T): T {
  return decode(new ProtoReader(bytes, name));
}

// ---- google.protobuf.Timestamp / Duration -------------------------------------------------

/** 0001-01-01T00:00:00Z: Go's zero time, which CometBFT writes into absent commit signatures. */
export const GO_ZERO_TIME: Timestamp = Object.freeze({ seconds: -62135596800, nanos: 0 });

// RFC 3339 years 0001..9999, as protobuf's Timestamp allows.
const MIN_SECONDS = GO_ZERO_TIME.seconds;
const MAX_SECONDS = 253402300799;

export function encodeTimestamp(t: Timestamp): Uint8Array {
  return new ProtoWriter().int64(1, t.seconds).int32(2, t.nanos).finish();
}

export function readTimestamp(r: ProtoReader): Timestamp {
  let seconds = 0;
  let nanos = 0;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) seconds = r.int64Number(MIN_SECONDS, MAX_SECONDS);
    else if (f === 2) nanos = r.int32();
    else r.skip();
  }
  if (nanos < 0 || nanos > 999_999_999) r.fail(`nanos out of range: ${nanos}`);
  return { seconds, nanos };
}

export function encodeDuration(d: Duration): Uint8Array {
  return new ProtoWriter().int64(1, d.seconds).int32(2, d.nanos).finish();
}

export function readDuration(r: ProtoReader): Duration {
  let seconds = 0;
  let nanos = 0;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) seconds = r.int64Number();
    else if (f === 2) nanos = r.int32();
    else r.skip();
  }
  if (nanos <= -1_000_000_000 || nanos >= 1_000_000_000) r.fail(`nanos out of range: ${nanos}`);
  return { seconds, nanos };
}

// ---- BlockID ------------------------------------------------------------------------------

/** CometBFT's BlockID.Key(): the hash followed by the encoded part-set header (conflicting votes are ordered by it). */
export function blockIdKey(b: BlockID): Uint8Array {
  const psh = encodePartSetHeader(b.partSetHeader);
  const out = new Uint8Array(b.hash.length + psh.length);
  out.set(b.hash, 0);
  out.set(psh, b.hash.length);
  return out;
}

export function encodePartSetHeader(p: PartSetHeader): Uint8Array {
  return new ProtoWriter().uint32(1, p.total).bytes(2, p.hash).finish();
}

export function readPartSetHeader(r: ProtoReader): PartSetHeader {
  let total = 0;
  let hash = EMPTY;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) total = r.uint32();
    else if (f === 2) hash = r.bytes(64);
    else r.skip();
  }
  return { total, hash };
}

export function encodeBlockID(b: BlockID): Uint8Array {
  return new ProtoWriter().bytes(1, b.hash).message(2, encodePartSetHeader(b.partSetHeader)).finish();
}

export function readBlockID(r: ProtoReader): BlockID {
  let hash = EMPTY;
  let partSetHeader: PartSetHeader = ZERO_BLOCK_ID.partSetHeader;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) hash = r.bytes(64);
    else if (f === 2) partSetHeader = r.message('part_set_header', readPartSetHeader);
    else r.skip();
  }
  return { hash, partSetHeader };
}

export function isZeroBlockID(b: BlockID): boolean {
  return b.hash.length === 0 && b.partSetHeader.total === 0 && b.partSetHeader.hash.length === 0;
}

// ---- Header -------------------------------------------------------------------------------

export function encodeConsensusVersion(v: ConsensusVersion): Uint8Array {
  return new ProtoWriter().uint64(1, v.block).uint64(2, v.app).finish();
}

function readConsensusVersion(r: ProtoReader): ConsensusVersion {
  let block = 0n;
  let app = 0n;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) block = r.uint64();
    else if (f === 2) app = r.uint64();
    else r.skip();
  }
  return { block, app };
}

export function encodeHeader(h: Header): Uint8Array {
  return new ProtoWriter()
    .message(1, encodeConsensusVersion(h.version))
    .string(2, h.chainId)
    .int64(3, h.height)
    .message(4, encodeTimestamp(h.time))
    .message(5, encodeBlockID(h.lastBlockId))
    .bytes(6, h.lastCommitHash)
    .bytes(7, h.dataHash)
    .bytes(8, h.validatorsHash)
    .bytes(9, h.nextValidatorsHash)
    .bytes(10, h.consensusHash)
    .bytes(11, h.appHash)
    .bytes(12, h.lastResultsHash)
    .bytes(13, h.evidenceHash)
    .bytes(14, h.proposerAddress)
    .finish();
}

export function readHeader(r: ProtoReader): Header {
  let version: ConsensusVersion = { block: 0n, app: 0n };
  let chainId = '';
  let height = 0;
  let time = ZERO_TIME;
  let lastBlockId = ZERO_BLOCK_ID;
  const h: Record<string, Uint8Array> = {};
  const hashFields = [
    'lastCommitHash',
    'dataHash',
    'validatorsHash',
    'nextValidatorsHash',
    'consensusHash',
    'appHash',
    'lastResultsHash',
    'evidenceHash',
    'proposerAddress',
  ] as const;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) version = r.message('version', readConsensusVersion);
    else if (f === 2) chainId = r.string(256);
    else if (f === 3) height = r.int64Number(0, MAX_SAFE);
    else if (f === 4) time = r.message('time', readTimestamp);
    else if (f === 5) lastBlockId = r.message('last_block_id', readBlockID);
    else if (f >= 6 && f <= 14) h[hashFields[f - 6]!] = r.bytes(64);
    else r.skip();
  }
  return {
    version,
    chainId,
    height,
    time,
    lastBlockId,
    lastCommitHash: h.lastCommitHash ?? EMPTY,
    dataHash: h.dataHash ?? EMPTY,
    validatorsHash: h.validatorsHash ?? EMPTY,
    nextValidatorsHash: h.nextValidatorsHash ?? EMPTY,
    consensusHash: h.consensusHash ?? EMPTY,
    appHash: h.appHash ?? EMPTY,
    lastResultsHash: h.lastResultsHash ?? EMPTY,
    evidenceHash: h.evidenceHash ?? EMPTY,
    proposerAddress: h.proposerAddress ?? EMPTY,
  };
}

// ---- Data, Commit -------------------------------------------------------------------------

export function encodeData(d: Data): Uint8Array {
  const w = new ProtoWriter();
  for (const tx of d.txs) w.repeatedElement(1, tx);
  return w.finish();
}

function readData(r: ProtoReader): Data {
  const txs: Uint8Array[] = [];
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) txs.push(r.bytes());
    else r.skip();
  }
  return { txs };
}

function readBlockIDFlag(r: ProtoReader): BlockIDFlag {
  const v = r.int32();
  if (v < BlockIDFlag.Unknown || v > BlockIDFlag.Nil) r.fail(`unknown block_id_flag ${v}`);
  return v as BlockIDFlag;
}

export function encodeCommitSig(s: CommitSig): Uint8Array {
  return new ProtoWriter()
    .int32(1, s.blockIdFlag)
    .bytes(2, s.validatorAddress)
    .message(3, encodeTimestamp(s.timestamp))
    .bytes(4, s.signature)
    .finish();
}

function readCommitSig(r: ProtoReader): CommitSig {
  let blockIdFlag = BlockIDFlag.Unknown;
  let validatorAddress = EMPTY;
  let timestamp = ZERO_TIME;
  let signature = EMPTY;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) blockIdFlag = readBlockIDFlag(r);
    else if (f === 2) validatorAddress = r.bytes(64);
    else if (f === 3) timestamp = r.message('timestamp', readTimestamp);
    else if (f === 4) signature = r.bytes(128);
    else r.skip();
  }
  return { blockIdFlag, validatorAddress, timestamp, signature };
}

export function encodeCommit(c: Commit): Uint8Array {
  const w = new ProtoWriter()
    .int64(1, c.height)
    .int32(2, c.round)
    .message(3, encodeBlockID(c.blockId));
  for (const s of c.signatures) w.repeatedElement(4, encodeCommitSig(s));
  return w.finish();
}

export function readCommit(r: ProtoReader): Commit {
  let height = 0;
  let round = 0;
  let blockId = ZERO_BLOCK_ID;
  const signatures: CommitSig[] = [];
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) height = r.int64Number(0, MAX_SAFE);
    else if (f === 2) round = r.int32();
    else if (f === 3) blockId = r.message('block_id', readBlockID);
    else if (f === 4) signatures.push(r.message('signatures', readCommitSig));
    else r.skip();
  }
  return { height, round, blockId, signatures };
}

export function encodeExtendedCommitSig(s: ExtendedCommitSig): Uint8Array {
  return new ProtoWriter()
    .int32(1, s.blockIdFlag)
    .bytes(2, s.validatorAddress)
    .message(3, encodeTimestamp(s.timestamp))
    .bytes(4, s.signature)
    .bytes(5, s.extension)
    .bytes(6, s.extensionSignature)
    .finish();
}

function readExtendedCommitSig(r: ProtoReader): ExtendedCommitSig {
  let blockIdFlag = BlockIDFlag.Unknown;
  let validatorAddress = EMPTY;
  let timestamp = ZERO_TIME;
  let signature = EMPTY;
  let extension = EMPTY;
  let extensionSignature = EMPTY;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) blockIdFlag = readBlockIDFlag(r);
    else if (f === 2) validatorAddress = r.bytes(64);
    else if (f === 3) timestamp = r.message('timestamp', readTimestamp);
    else if (f === 4) signature = r.bytes(128);
    else if (f === 5) extension = r.bytes();
    else if (f === 6) extensionSignature = r.bytes(128);
    else r.skip();
  }
  return { blockIdFlag, validatorAddress, timestamp, signature, extension, extensionSignature };
}

export function encodeExtendedCommit(c: ExtendedCommit): Uint8Array {
  const w = new ProtoWriter()
    .int64(1, c.height)
    .int32(2, c.round)
    .message(3, encodeBlockID(c.blockId));
  for (const s of c.extendedSignatures) w.repeatedElement(4, encodeExtendedCommitSig(s));
  return w.finish();
}

export function readExtendedCommit(r: ProtoReader): ExtendedCommit {
  let height = 0;
  let round = 0;
  let blockId = ZERO_BLOCK_ID;
  const extendedSignatures: ExtendedCommitSig[] = [];
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) height = r.int64Number(0, MAX_SAFE);
    else if (f === 2) round = r.int32();
    else if (f === 3) blockId = r.message('block_id', readBlockID);
    else if (f === 4) extendedSignatures.push(r.message('extended_signatures', readExtendedCommitSig));
    else r.skip();
  }
  return { height, round, blockId, extendedSignatures };
}

// ---- Vote, Proposal -----------------------------------------------------------------------

function readSignedMsgType(r: ProtoReader): SignedMsgType {
  const v = r.int32();
  if (v !== SignedMsgType.Unknown && v !== SignedMsgType.Prevote && v !== SignedMsgType.Precommit && v !== SignedMsgType.Proposal)
    r.fail(`unknown signed message type ${v}`);
  return v as SignedMsgType;
}

export function encodeVote(v: Vote): Uint8Array {
  return new ProtoWriter()
    .int32(1, v.type)
    .int64(2, v.height)
    .int32(3, v.round)
    .message(4, encodeBlockID(v.blockId))
    .message(5, encodeTimestamp(v.timestamp))
    .bytes(6, v.validatorAddress)
    .int32(7, v.validatorIndex)
    .bytes(8, v.signature)
    .bytes(9, v.extension)
    .bytes(10, v.extensionSignature)
    .finish();
}

export function readVote(r: ProtoReader): Vote {
  let type = SignedMsgType.Unknown;
  let height = 0;
  let round = 0;
  let blockId = ZERO_BLOCK_ID;
  let timestamp = ZERO_TIME;
  let validatorAddress = EMPTY;
  let validatorIndex = 0;
  let signature = EMPTY;
  let extension = EMPTY;
  let extensionSignature = EMPTY;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) type = readSignedMsgType(r);
    else if (f === 2) height = r.int64Number(0, MAX_SAFE);
    else if (f === 3) round = r.int32();
    else if (f === 4) blockId = r.message('block_id', readBlockID);
    else if (f === 5) timestamp = r.message('timestamp', readTimestamp);
    else if (f === 6) validatorAddress = r.bytes(64);
    else if (f === 7) validatorIndex = r.int32();
    else if (f === 8) signature = r.bytes(128);
    else if (f === 9) extension = r.bytes();
    else if (f === 10) extensionSignature = r.bytes(128);
    else r.skip();
  }
  return { type, height, round, blockId, timestamp, validatorAddress, validatorIndex, signature, extension, extensionSignature };
}

export function encodeProposal(p: Proposal): Uint8Array {
  return new ProtoWriter()
    .int32(1, p.type)
    .int64(2, p.height)
    .int32(3, p.round)
    .int32(4, p.polRound)
    .message(5, encodeBlockID(p.blockId))
    .message(6, encodeTimestamp(p.timestamp))
    .bytes(7, p.signature)
    .finish();
}

export function readProposal(r: ProtoReader): Proposal {
  let type = SignedMsgType.Unknown;
  let height = 0;
  let round = 0;
  let polRound = 0;
  let blockId = ZERO_BLOCK_ID;
  let timestamp = ZERO_TIME;
  let signature = EMPTY;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) type = readSignedMsgType(r);
    else if (f === 2) height = r.int64Number(0, MAX_SAFE);
    else if (f === 3) round = r.int32();
    else if (f === 4) polRound = r.int32();
    else if (f === 5) blockId = r.message('block_id', readBlockID);
    else if (f === 6) timestamp = r.message('timestamp', readTimestamp);
    else if (f === 7) signature = r.bytes(128);
    else r.skip();
  }
  return { type, height, round, polRound, blockId, timestamp, signature };
}

// ---- Canonical sign-bytes forms -------------------------------------------------------------

/** CanonicalBlockID, or undefined for a nil vote/proposal (the field is then absent). */
function encodeCanonicalBlockID(b: BlockID): Uint8Array | undefined {
  if (isZeroBlockID(b)) return undefined;
  const psh = new ProtoWriter().uint32(1, b.partSetHeader.total).bytes(2, b.partSetHeader.hash).finish();
  return new ProtoWriter().bytes(1, b.hash).message(2, psh).finish();
}

export function encodeCanonicalVote(v: Pick<Vote, 'type' | 'height' | 'round' | 'blockId' | 'timestamp'>, chainId: string): Uint8Array {
  return new ProtoWriter()
    .int32(1, v.type)
    .sfixed64(2, v.height)
    .sfixed64(3, v.round)
    .message(4, encodeCanonicalBlockID(v.blockId))
    .message(5, encodeTimestamp(v.timestamp))
    .string(6, chainId)
    .finish();
}

export function encodeCanonicalProposal(p: Proposal, chainId: string): Uint8Array {
  return new ProtoWriter()
    .int32(1, p.type)
    .sfixed64(2, p.height)
    .sfixed64(3, p.round)
    .int64(4, p.polRound)
    .message(5, encodeCanonicalBlockID(p.blockId))
    .message(6, encodeTimestamp(p.timestamp))
    .string(7, chainId)
    .finish();
}

export function encodeCanonicalVoteExtension(extension: Uint8Array, height: number, round: number, chainId: string): Uint8Array {
  return new ProtoWriter().bytes(1, extension).sfixed64(2, height).sfixed64(3, round).string(4, chainId).finish();
}

// ---- Parts --------------------------------------------------------------------------------

export function encodeProof(p: Proof): Uint8Array {
  const w = new ProtoWriter().int64(1, p.total).int64(2, p.index).bytes(3, p.leafHash);
  for (const a of p.aunts) w.repeatedElement(4, a);
  return w.finish();
}

function readProof(r: ProtoReader): Proof {
  let total = 0;
  let index = 0;
  let leafHash = EMPTY;
  const aunts: Uint8Array[] = [];
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) total = r.int64Number(0, MAX_SAFE);
    else if (f === 2) index = r.int64Number(0, MAX_SAFE);
    else if (f === 3) leafHash = r.bytes(64);
    else if (f === 4) {
      if (aunts.length >= 100) r.fail('too many aunts');
      aunts.push(r.bytes(64));
    } else r.skip();
  }
  return { total, index, leafHash, aunts };
}

export function encodePart(p: Part): Uint8Array {
  return new ProtoWriter().uint32(1, p.index).bytes(2, p.bytes).message(3, encodeProof(p.proof)).finish();
}

export function readPart(r: ProtoReader): Part {
  let index = 0;
  let bytes = EMPTY;
  let proof: Proof = { total: 0, index: 0, leafHash: EMPTY, aunts: [] };
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) index = r.uint32();
    else if (f === 2) bytes = r.bytes();
    else if (f === 3) proof = r.message('proof', readProof);
    else r.skip();
  }
  return { index, bytes, proof };
}

// ---- Validators ---------------------------------------------------------------------------

/** tendermint.crypto.PublicKey with the ed25519 arm of the oneof (field 1). */
export function encodePublicKey(ed25519: Uint8Array): Uint8Array {
  return new ProtoWriter().message(1, ed25519).finish();
}

function readPublicKey(r: ProtoReader): Uint8Array {
  let key: Uint8Array | undefined;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) key = r.bytes(64);
    else if (f === 2) r.fail('secp256k1 keys are not supported');
    else r.skip();
  }
  if (key === undefined) return r.fail('public key has no ed25519 field');
  return key;
}

/** SimpleValidator{pub_key, voting_power}: the leaf of validators_hash. */
export function encodeSimpleValidator(pubKey: Uint8Array, votingPower: bigint): Uint8Array {
  return new ProtoWriter().message(1, encodePublicKey(pubKey)).int64(2, votingPower).finish();
}

export function encodeValidator(v: Validator): Uint8Array {
  return new ProtoWriter()
    .bytes(1, v.address)
    .message(2, encodePublicKey(v.pubKey))
    .int64(3, v.votingPower)
    .int64(4, v.proposerPriority)
    .finish();
}

export function readValidator(r: ProtoReader): Validator {
  let address = EMPTY;
  let pubKey = EMPTY;
  let votingPower = 0n;
  let proposerPriority = 0n;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) address = r.bytes(64);
    else if (f === 2) pubKey = r.message('pub_key', readPublicKey);
    else if (f === 3) votingPower = r.int64();
    else if (f === 4) proposerPriority = r.int64();
    else r.skip();
  }
  return { address, pubKey, votingPower, proposerPriority };
}

// ---- Evidence and Block -------------------------------------------------------------------

export function encodeDuplicateVoteEvidence(e: DuplicateVoteEvidence): Uint8Array {
  return new ProtoWriter()
    .message(1, encodeVote(e.voteA))
    .message(2, encodeVote(e.voteB))
    .int64(3, e.totalVotingPower)
    .int64(4, e.validatorPower)
    .message(5, encodeTimestamp(e.timestamp))
    .finish();
}

function readDuplicateVoteEvidence(r: ProtoReader): DuplicateVoteEvidence {
  let voteA: Vote | undefined;
  let voteB: Vote | undefined;
  let totalVotingPower = 0n;
  let validatorPower = 0n;
  let timestamp = ZERO_TIME;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) voteA = r.message('vote_a', readVote);
    else if (f === 2) voteB = r.message('vote_b', readVote);
    else if (f === 3) totalVotingPower = r.int64();
    else if (f === 4) validatorPower = r.int64();
    else if (f === 5) timestamp = r.message('timestamp', readTimestamp);
    else r.skip();
  }
  if (!voteA || !voteB) return r.fail('duplicate vote evidence needs both votes');
  return { kind: 'duplicate_vote', voteA, voteB, totalVotingPower, validatorPower, timestamp };
}

/** tendermint.types.Evidence (a oneof). */
export function encodeEvidence(e: Evidence): Uint8Array {
  return new ProtoWriter().message(1, encodeDuplicateVoteEvidence(e)).finish();
}

export function readEvidence(r: ProtoReader): Evidence {
  let ev: Evidence | undefined;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) ev = r.message('duplicate_vote_evidence', readDuplicateVoteEvidence);
    else if (f === 2) r.fail('light client attack evidence is not supported');
    else r.skip();
  }
  if (!ev) return r.fail('evidence has no known kind');
  return ev;
}

export function encodeEvidenceList(list: readonly Evidence[]): Uint8Array {
  const w = new ProtoWriter();
  for (const e of list) w.repeatedElement(1, encodeEvidence(e));
  return w.finish();
}

function readEvidenceList(r: ProtoReader): Evidence[] {
  const list: Evidence[] = [];
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) list.push(r.message('evidence', readEvidence));
    else r.skip();
  }
  return list;
}

export function encodeBlock(b: Block): Uint8Array {
  return new ProtoWriter()
    .message(1, encodeHeader(b.header))
    .message(2, encodeData(b.data))
    .message(3, encodeEvidenceList(b.evidence))
    .message(4, b.lastCommit ? encodeCommit(b.lastCommit) : undefined)
    .finish();
}

export function readBlock(r: ProtoReader): Block {
  let header: Header | undefined;
  let data: Data = { txs: [] };
  let evidence: Evidence[] = [];
  let lastCommit: Commit | null = null;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) header = r.message('header', readHeader);
    else if (f === 2) data = r.message('data', readData);
    else if (f === 3) evidence = r.message('evidence', readEvidenceList);
    else if (f === 4) lastCommit = r.message('last_commit', readCommit);
    else r.skip();
  }
  if (!header) return r.fail('block has no header');
  return { header, data, evidence, lastCommit };
}

// ---- Consensus params ----------------------------------------------------------------------

/** HashedParams{block_max_bytes, block_max_gas}: what consensus_hash commits to. */
export function encodeHashedParams(p: ConsensusParams): Uint8Array {
  return new ProtoWriter().int64(1, p.block.maxBytes).int64(2, p.block.maxGas).finish();
}

/** Encodes params; sections absent from a partial update (ABCI consensus_param_updates) are omitted. */
export function encodeConsensusParams(p: Partial<ConsensusParams>): Uint8Array {
  const w = new ProtoWriter();
  if (p.block) w.message(1, new ProtoWriter().int64(1, p.block.maxBytes).int64(2, p.block.maxGas).finish());
  if (p.evidence)
    w.message(
      2,
      new ProtoWriter()
        .int64(1, p.evidence.maxAgeNumBlocks)
        .message(2, encodeDuration(p.evidence.maxAgeDuration))
        .int64(3, p.evidence.maxBytes)
        .finish(),
    );
  if (p.validator) {
    const vw = new ProtoWriter();
    for (const t of p.validator.pubKeyTypes) vw.repeatedElement(1, new TextEncoder().encode(t));
    w.message(3, vw.finish());
  }
  if (p.version) w.message(4, new ProtoWriter().uint64(1, p.version.app).finish());
  if (p.abci) w.message(5, new ProtoWriter().int64(1, p.abci.voteExtensionsEnableHeight).finish());
  return w.finish();
}

/** Decodes params, keeping only the sections present (for partial updates). */
export function readConsensusParamsPartial(r: ProtoReader): Partial<ConsensusParams> {
  const out: { -readonly [K in keyof ConsensusParams]?: ConsensusParams[K] } = {};
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1)
      out.block = r.message('block', (b) => {
        let maxBytes = 0n;
        let maxGas = 0n;
        for (let g = b.next(); g !== 0; g = b.next()) {
          if (g === 1) maxBytes = b.int64();
          else if (g === 2) maxGas = b.int64();
          else b.skip();
        }
        return { maxBytes, maxGas };
      });
    else if (f === 2)
      out.evidence = r.message('evidence', (e) => {
        let maxAgeNumBlocks = 0n;
        let maxAgeDuration: Duration = { seconds: 0, nanos: 0 };
        let maxBytes = 0n;
        for (let g = e.next(); g !== 0; g = e.next()) {
          if (g === 1) maxAgeNumBlocks = e.int64();
          else if (g === 2) maxAgeDuration = e.message('max_age_duration', readDuration);
          else if (g === 3) maxBytes = e.int64();
          else e.skip();
        }
        return { maxAgeNumBlocks, maxAgeDuration, maxBytes };
      });
    else if (f === 3)
      out.validator = r.message('validator', (v) => {
        const pubKeyTypes: string[] = [];
        for (let g = v.next(); g !== 0; g = v.next()) {
          if (g === 1) pubKeyTypes.push(v.string(64));
          else v.skip();
        }
        return { pubKeyTypes };
      });
    else if (f === 4)
      out.version = r.message('version', (v) => {
        let app = 0n;
        for (let g = v.next(); g !== 0; g = v.next()) {
          if (g === 1) app = v.uint64();
          else v.skip();
        }
        return { app };
      });
    else if (f === 5)
      out.abci = r.message('abci', (a) => {
        let voteExtensionsEnableHeight = 0n;
        for (let g = a.next(); g !== 0; g = a.next()) {
          if (g === 1) voteExtensionsEnableHeight = a.int64();
          else a.skip();
        }
        return { voteExtensionsEnableHeight };
      });
    else r.skip();
  }
  return out;
}

/** Decodes full params: absent sections are zero, as protobuf defines them. */
export function readConsensusParams(r: ProtoReader): ConsensusParams {
  const p = readConsensusParamsPartial(r);
  return {
    block: p.block ?? { maxBytes: 0n, maxGas: 0n },
    evidence: p.evidence ?? { maxAgeNumBlocks: 0n, maxAgeDuration: { seconds: 0, nanos: 0 }, maxBytes: 0n },
    validator: p.validator ?? { pubKeyTypes: [] },
    version: p.version ?? { app: 0n },
    abci: p.abci ?? { voteExtensionsEnableHeight: 0n },
  };
}

// ---- ABCI results ---------------------------------------------------------------------------

/** An Event as an embedded message of `w`, written in place (a block has thousands). */
function writeEvent(w: ProtoWriter, field: number, e: Event): void {
  const start = w.beginMessage(field);
  w.string(1, e.type);
  for (const a of e.attributes) {
    const at = w.beginMessage(2);
    w.string(1, a.key).string(2, a.value).bool(3, a.index);
    w.endMessage(at);
  }
  w.endMessage(start);
}

function readEventAttribute(r: ProtoReader): EventAttribute {
  let key = '';
  let value = '';
  let index = false;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) key = r.string();
    else if (f === 2) value = r.string();
    else if (f === 3) index = r.bool();
    else r.skip();
  }
  return { key, value, index };
}

export function encodeEvent(e: Event): Uint8Array {
  const w = new ProtoWriter().string(1, e.type);
  for (const a of e.attributes) {
    const at = w.beginMessage(2);
    w.string(1, a.key).string(2, a.value).bool(3, a.index);
    w.endMessage(at);
  }
  return w.finish();
}

export function readEvent(r: ProtoReader): Event {
  let type = '';
  const attributes: EventAttribute[] = [];
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) type = r.string();
    else if (f === 2) attributes.push(r.message('attributes', readEventAttribute));
    else r.skip();
  }
  return { type, attributes };
}

// A block's results are encoded for the stored FinalizeBlock response and again for every tx
// index record; results are immutable, so the second encoding is a lookup.
const encodedResults = new WeakMap<ExecTxResult, Uint8Array>();
// a block's results are encoded together and dropped together: one buffer for many (codec/slab.ts)
const resultBytes = new ByteSlab();

export function encodeExecTxResult(t: ExecTxResult): Uint8Array {
  let bytes = encodedResults.get(t);
  if (!bytes) encodedResults.set(t, (bytes = encodeExecTxResultUncached(t)));
  return bytes;
}

function encodeExecTxResultUncached(t: ExecTxResult): Uint8Array {
  const w = new ProtoWriter()
    .uint32(1, t.code)
    .bytes(2, t.data)
    .string(3, t.log)
    .string(4, t.info)
    .int64(5, t.gasWanted)
    .int64(6, t.gasUsed);
  for (const e of t.events) writeEvent(w, 7, e);
  return w.string(8, t.codespace).finish(resultBytes);
}

export function readExecTxResult(r: ProtoReader): ExecTxResult {
  let code = 0;
  let data = EMPTY;
  let log = '';
  let info = '';
  let gasWanted = 0n;
  let gasUsed = 0n;
  const events: Event[] = [];
  let codespace = '';
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) code = r.uint32();
    else if (f === 2) data = r.bytes();
    else if (f === 3) log = r.string();
    else if (f === 4) info = r.string();
    else if (f === 5) gasWanted = r.int64();
    else if (f === 6) gasUsed = r.int64();
    else if (f === 7) events.push(r.message('events', readEvent));
    else if (f === 8) codespace = r.string();
    else r.skip();
  }
  return { code, data, log, info, gasWanted, gasUsed, events, codespace };
}

/** The deterministic part of a result that last_results_hash commits to: {code, data, gas_wanted, gas_used}. */
export function encodeDeterministicExecTxResult(t: ExecTxResult): Uint8Array {
  return new ProtoWriter().uint32(1, t.code).bytes(2, t.data).int64(5, t.gasWanted).int64(6, t.gasUsed).finish();
}


