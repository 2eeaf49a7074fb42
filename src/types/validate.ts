// Stateless checks of the structures, as CometBFT's ValidateBasic: shapes and sizes that hold
// regardless of chain state. Stateful checks (against the validator set, the last block) live
// with execution and the light client.
import { ADDRESS_SIZE, HASH_SIZE, SIGNATURE_SIZE, bytesEqual } from '../crypto/index.js';
import {
  SignedMsgType,
  isZeroBlockID,
  type Block,
  type BlockID,
  type Header,
  type Proposal,
  type Timestamp,
  type Vote,
} from '../codec/index.js';
import { commitHash, dataHash, evidenceHash } from './block.js';
import { validateCommitBasic } from './commit-verify.js';
import { ValidationError } from './errors.js';
import { BLOCK_PROTOCOL } from './header.js';

export const MAX_CHAIN_ID_LEN = 50;
/** CometBFT caps vote extensions only through block size; Tally bounds them explicitly. */
export const MAX_VOTE_EXTENSION_SIZE = 1 << 20;

function hashField(b: Uint8Array, field: string): void {
  if (b.length !== 0 && b.length !== HASH_SIZE) throw new ValidationError(`must be empty or ${HASH_SIZE} bytes`, field, { size: b.length });
}

function timeField(t: Timestamp, field: string): void {
  if (!Number.isSafeInteger(t.seconds) || !Number.isInteger(t.nanos) || t.nanos < 0 || t.nanos > 999_999_999)
    throw new ValidationError('invalid timestamp', field, { ...t });
}

export function validateBlockID(b: BlockID, field = 'block_id'): void {
  hashField(b.hash, `${field}.hash`);
  hashField(b.partSetHeader.hash, `${field}.parts.hash`);
  if (b.partSetHeader.total < 0) throw new ValidationError('negative part total', `${field}.parts.total`);
}

/** A complete block id: both hashes present and at least one part. */
export function isCompleteBlockID(b: BlockID): boolean {
  return b.hash.length === HASH_SIZE && b.partSetHeader.hash.length === HASH_SIZE && b.partSetHeader.total > 0;
}

export function validateHeader(h: Header): void {
  if (h.version.block !== BLOCK_PROTOCOL) throw new ValidationError(`block protocol must be ${BLOCK_PROTOCOL}`, 'header.version.block', { got: h.version.block });
  if (h.chainId.length === 0 || h.chainId.length > MAX_CHAIN_ID_LEN)
    throw new ValidationError(`chain id must be 1..${MAX_CHAIN_ID_LEN} characters`, 'header.chain_id', { length: h.chainId.length });
  if (!Number.isSafeInteger(h.height) || h.height < 1) throw new ValidationError('height must be positive', 'header.height', { height: h.height });
  timeField(h.time, 'header.time');
  validateBlockID(h.lastBlockId, 'header.last_block_id');
  hashField(h.lastCommitHash, 'header.last_commit_hash');
  hashField(h.dataHash, 'header.data_hash');
  hashField(h.evidenceHash, 'header.evidence_hash');
  hashField(h.lastResultsHash, 'header.last_results_hash');
  hashField(h.consensusHash, 'header.consensus_hash');
  if (h.validatorsHash.length !== HASH_SIZE) throw new ValidationError(`must be ${HASH_SIZE} bytes`, 'header.validators_hash');
  if (h.nextValidatorsHash.length !== HASH_SIZE) throw new ValidationError(`must be ${HASH_SIZE} bytes`, 'header.next_validators_hash');
  if (h.proposerAddress.length !== ADDRESS_SIZE)
    throw new ValidationError(`must be ${ADDRESS_SIZE} bytes`, 'header.proposer_address', { size: h.proposerAddress.length });
}

export function validateVote(v: Vote): void {
  if (v.type !== SignedMsgType.Prevote && v.type !== SignedMsgType.Precommit) throw new ValidationError('not a vote type', 'vote.type', { type: v.type });
  if (!Number.isSafeInteger(v.height) || v.height < 1) throw new ValidationError('height must be positive', 'vote.height');
  if (v.round < 0) throw new ValidationError('negative round', 'vote.round');
  validateBlockID(v.blockId, 'vote.block_id');
  if (!isZeroBlockID(v.blockId) && !isCompleteBlockID(v.blockId)) throw new ValidationError('block id must be nil or complete', 'vote.block_id');
  timeField(v.timestamp, 'vote.timestamp');
  if (v.validatorAddress.length !== ADDRESS_SIZE) throw new ValidationError('bad validator address size', 'vote.validator_address');
  if (v.validatorIndex < 0) throw new ValidationError('negative validator index', 'vote.validator_index');
  if (v.signature.length === 0 || v.signature.length > SIGNATURE_SIZE) throw new ValidationError('bad signature size', 'vote.signature');
  if (v.type !== SignedMsgType.Precommit || isZeroBlockID(v.blockId)) {
    if (v.extension.length || v.extensionSignature.length) throw new ValidationError('only non-nil precommits carry extensions', 'vote.extension');
  }
  if (v.extension.length > MAX_VOTE_EXTENSION_SIZE) throw new ValidationError('extension too large', 'vote.extension', { size: v.extension.length });
  if (v.extensionSignature.length > SIGNATURE_SIZE) throw new ValidationError('bad extension signature size', 'vote.extension_signature');
}

export function validateProposal(p: Proposal): void {
  if (p.type !== SignedMsgType.Proposal) throw new ValidationError('not a proposal type', 'proposal.type', { type: p.type });
  if (!Number.isSafeInteger(p.height) || p.height < 1) throw new ValidationError('height must be positive', 'proposal.height');
  if (p.round < 0) throw new ValidationError('negative round', 'proposal.round');
  if (p.polRound < -1 || p.polRound >= p.round) throw new ValidationError('pol round must be -1 or below the round', 'proposal.pol_round', { polRound: p.polRound, round: p.round });
  if (!isCompleteBlockID(p.blockId)) throw new ValidationError('block id must be complete', 'proposal.block_id');
  timeField(p.timestamp, 'proposal.timestamp');
  if (p.signature.length === 0 || p.signature.length > SIGNATURE_SIZE) throw new ValidationError('bad signature size', 'proposal.signature');
}

/** Header checks plus the hashes a block's own contents determine (data, evidence, last commit). */
export function validateBlock(b: Block): void {
  validateHeader(b.header);
  const dh = dataHash(b.data.txs);
  if (!bytesEqual(dh, b.header.dataHash)) throw new ValidationError('does not match the txs', 'header.data_hash');
  if (!bytesEqual(evidenceHash(b.evidence), b.header.evidenceHash)) throw new ValidationError('does not match the evidence', 'header.evidence_hash');
  if (b.lastCommit) {
    validateCommitBasic(b.lastCommit);
    if (!bytesEqual(commitHash(b.lastCommit), b.header.lastCommitHash)) throw new ValidationError('does not match the last commit', 'header.last_commit_hash');
  }
}
