// Duplicate-vote evidence checks, as CometBFT 0.38 makes them (types/evidence.go ValidateBasic,
// evidence/verify.go verify and VerifyDuplicateVote), restated: the pure checks take the
// validator set of the evidence height; `verifyEvidence` adds what needs the node's history
// (the block time and validator set of that height) and the age limits of the current state.
import {
  compareTime,
  durationToNanos,
  encodeDuplicateVoteEvidence,
  blockIdKey,
  timeToNanos,
  toHex,
  type Evidence,
  type EvidenceParams,
  type Timestamp,
} from '../codec/index.js';
import { bytesEqual, compareBytes, nodeBackend, sha256, type Ed25519Backend } from '../crypto/index.js';
import type { State } from '../store/index.js';
import { ValidationError, blockIdEquals, validateVote, voteSignBytes, type ValidatorSet } from '../types/index.js';
import { EvidenceError } from './errors.js';

/** CometBFT's Evidence.Hash(): SHA-256 of the DuplicateVoteEvidence protobuf (what RPC returns and dedupe keys on). */
export function evidenceKey(e: Evidence): Uint8Array {
  return sha256(encodeDuplicateVoteEvidence(e));
}


const ctx = (e: Evidence): Record<string, unknown> => ({ height: e.voteA.height, validator: toHex(e.voteA.validatorAddress) });

/** ValidateBasic: both votes well formed, voteA's block id key strictly before voteB's. */
export function validateEvidenceBasic(e: Evidence): void {
  for (const [name, v] of [['voteA', e.voteA], ['voteB', e.voteB]] as const) {
    try {
      validateVote(v);
    } catch (err) {
      if (err instanceof ValidationError) throw new EvidenceError('invalid_basic', `invalid ${name}: ${err.message}`, { ...ctx(e), field: err.field });
      throw err;
    }
  }
  // the order makes one equivocation one evidence (one hash), whoever reports it
  if (compareBytes(blockIdKey(e.voteA.blockId), blockIdKey(e.voteB.blockId)) >= 0)
    throw new EvidenceError('invalid_basic', 'duplicate votes in invalid order (voteA must have the lower block id key)', ctx(e));
}

/** VerifyDuplicateVote: the equivocation itself, against the validator set of the evidence height. */
export function verifyDuplicateVote(e: Evidence, chainId: string, validators: ValidatorSet, backend: Ed25519Backend = nodeBackend): void {
  const { voteA: a, voteB: b } = e;
  const found = validators.getByAddress(a.validatorAddress);
  if (!found) throw new EvidenceError('not_validator', `address ${toHex(a.validatorAddress)} was not a validator at height ${a.height}`, ctx(e));
  if (a.height !== b.height || a.round !== b.round || a.type !== b.type)
    throw new EvidenceError('hrs_mismatch', `h/r/s does not match: ${a.height}/${a.round}/${a.type} vs ${b.height}/${b.round}/${b.type}`, ctx(e));
  if (!bytesEqual(a.validatorAddress, b.validatorAddress))
    throw new EvidenceError('address_mismatch', `validator addresses do not match: ${toHex(a.validatorAddress)} vs ${toHex(b.validatorAddress)}`, ctx(e));
  if (blockIdEquals(a.blockId, b.blockId)) throw new EvidenceError('same_block', `block IDs are the same (${toHex(a.blockId.hash)}) - not a real duplicate vote`, ctx(e));
  const { validator } = found;
  if (validator.votingPower !== e.validatorPower)
    throw new EvidenceError('power_mismatch', `validator power from evidence and our validator set does not match (${e.validatorPower} != ${validator.votingPower})`, {
      ...ctx(e),
      evidence: e.validatorPower,
      expected: validator.votingPower,
    });
  const total = validators.totalVotingPower();
  if (total !== e.totalVotingPower)
    throw new EvidenceError('power_mismatch', `total voting power from the evidence and our validator set does not match (${e.totalVotingPower} != ${total})`, {
      ...ctx(e),
      evidence: e.totalVotingPower,
      expected: total,
    });
  for (const [name, v] of [['VoteA', a], ['VoteB', b]] as const) {
    if (!backend.verify(validator.pubKey, voteSignBytes(chainId, v), v.signature)) throw new EvidenceError('invalid_signature', `verifying ${name}: invalid signature`, { ...ctx(e), vote: name });
  }
}

/** Expired only when older than BOTH limits (CometBFT's IsEvidenceExpired). */
export function isExpired(params: EvidenceParams, heightNow: number, timeNow: Timestamp, evHeight: number, evTime: Timestamp): boolean {
  const ageNanos = timeToNanos(timeNow) - timeToNanos(evTime);
  const ageBlocks = BigInt(heightNow - evHeight);
  return ageNanos > durationToNanos(params.maxAgeDuration) && ageBlocks > params.maxAgeNumBlocks;
}

/** What full verification needs of the node's history. */
export interface History {
  /** The time of the block at `height`, undefined if this node does not have it. */
  blockTime(height: number): Promise<Timestamp | undefined>;
  /** The validator set of `height`, undefined if this node does not have it. */
  validators(height: number): Promise<ValidatorSet | undefined>;
}

/**
 * The pool's verify(): basic checks, the time of the block at the evidence height, the age
 * limits against `state` (the last committed block), then the equivocation itself.
 */
export async function verifyEvidence(e: Evidence, state: State, history: History, backend: Ed25519Backend = nodeBackend): Promise<void> {
  validateEvidenceBasic(e);
  const height = e.voteA.height;
  if (height > state.lastBlockHeight) throw new EvidenceError('unknown_height', `don't have header #${height} (last block is ${state.lastBlockHeight})`, ctx(e));
  const blockTime = await history.blockTime(height);
  if (!blockTime) throw new EvidenceError('unknown_height', `don't have header #${height}`, ctx(e));
  if (compareTime(blockTime, e.timestamp) !== 0)
    throw new EvidenceError('wrong_time', `evidence has a different time to the block it is associated with (${timeToNanos(e.timestamp)} != ${timeToNanos(blockTime)} ns)`, {
      ...ctx(e),
      evidence: e.timestamp,
      block: blockTime,
    });
  const params = state.consensusParams.evidence;
  if (isExpired(params, state.lastBlockHeight, state.lastBlockTime, height, blockTime))
    throw new EvidenceError(
      'expired',
      `evidence from height ${height} is too old; min height is ${BigInt(state.lastBlockHeight) - params.maxAgeNumBlocks} and it can not be older than ${durationToNanos(params.maxAgeDuration)} ns`,
      { ...ctx(e), lastBlockHeight: state.lastBlockHeight },
    );
  const validators = await history.validators(height);
  if (!validators) throw new EvidenceError('unknown_height', `no validator set for height ${height}`, ctx(e));
  verifyDuplicateVote(e, state.chainId, validators, backend);
}
