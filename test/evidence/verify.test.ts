// Duplicate-vote verification, case by case against CometBFT 0.38's rules: what is accepted,
// and for each rejection the typed error kind and its context.
import { describe, expect, test } from 'vitest';
import { SignedMsgType, ZERO_BLOCK_ID, type DuplicateVoteEvidence, type Timestamp } from '../../src/codec/index.js';
import { EvidenceError, evidenceKey, isExpired, validateEvidenceBasic, verifyDuplicateVote, verifyEvidence, type History } from '../../src/evidence/index.js';
import { stateFromGenesis } from '../../src/execution/index.js';
import type { State } from '../../src/store/index.js';
import { ValidatorSet, voteSignBytes } from '../../src/types/index.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { conflictingVotes, signedVote } from './helpers.js';

const keys = testKeys(4);
const genesis = testGenesis(keys, { chainId: 'verify-chain' });
const chainId = genesis.chainId;
const vals = ValidatorSet.create(keys.map((k) => ({ pubKey: k.pubKey.bytes, votingPower: 10n, address: k.pubKey.address })));
const H = 5;
const T5: Timestamp = { seconds: 1_700_000_005, nanos: 0 };
const indexOf = (i: number): number => vals.getByAddress(keys[i]!.pubKey.address)!.index;

function evidence(i = 0, over: Partial<DuplicateVoteEvidence> = {}): DuplicateVoteEvidence {
  const [voteA, voteB] = conflictingVotes(chainId, keys[i]!, indexOf(i), H, 0, 1);
  return { kind: 'duplicate_vote', voteA, voteB, validatorPower: 10n, totalVotingPower: 40n, timestamp: T5, ...over };
}

/** The state after block 10, one second per block from genesis. */
const state: State = { ...stateFromGenesis(genesis), lastBlockHeight: 10, lastBlockTime: { seconds: 1_700_000_010, nanos: 0 } };
const history: History = {
  blockTime: async (h) => (h <= 10 ? { seconds: 1_700_000_000 + h, nanos: 0 } : undefined),
  validators: async (h) => (h <= 11 ? vals : undefined),
};

function rejects(fn: () => void, kind: string): EvidenceError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EvidenceError);
    expect((e as EvidenceError).kind).toBe(kind);
    return e as EvidenceError;
  }
  throw new Error(`expected an EvidenceError of kind ${kind}`);
}

async function rejectsAsync(p: Promise<unknown>, kind: string): Promise<EvidenceError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EvidenceError);
  expect((e as EvidenceError).kind).toBe(kind);
  return e as EvidenceError;
}

describe('VerifyDuplicateVote', () => {
  test('accepts two signed votes of one validator for different blocks at the same H/R/type', () => {
    expect(() => verifyDuplicateVote(evidence(), chainId, vals)).not.toThrow();
    expect(() => validateEvidenceBasic(evidence())).not.toThrow();
    // precommits too, one of them for nil (the nil block id key sorts first)
    const k = keys[1]!;
    const forBlock = signedVote(chainId, k, indexOf(1), H, 2, 7, SignedMsgType.Precommit);
    const unsignedNil = { ...forBlock, blockId: ZERO_BLOCK_ID };
    const nil = { ...unsignedNil, signature: k.sign(voteSignBytes(chainId, unsignedNil)) };
    const e: DuplicateVoteEvidence = { kind: 'duplicate_vote', voteA: nil, voteB: forBlock, validatorPower: 10n, totalVotingPower: 40n, timestamp: T5 };
    expect(() => validateEvidenceBasic(e)).not.toThrow();
    expect(() => verifyDuplicateVote(e, chainId, vals)).not.toThrow();
  });

  test('rejects votes for different heights, rounds or types (h/r/s)', () => {
    const e = evidence();
    const otherRound = signedVote(chainId, keys[0]!, indexOf(0), H, 1, 2);
    const err = rejects(() => verifyDuplicateVote({ ...e, voteB: otherRound }, chainId, vals), 'hrs_mismatch');
    expect(err.message).toMatch(/5\/0\/1 vs 5\/1\/1/);
    expect(err.context).toMatchObject({ height: H });
    const precommit = signedVote(chainId, keys[0]!, indexOf(0), H, 0, 2, SignedMsgType.Precommit);
    rejects(() => verifyDuplicateVote({ ...e, voteB: precommit }, chainId, vals), 'hrs_mismatch');
  });

  test('rejects votes of two different validators', () => {
    const e = evidence();
    const other = signedVote(chainId, keys[1]!, indexOf(1), H, 0, 2);
    const err = rejects(() => verifyDuplicateVote({ ...e, voteB: other }, chainId, vals), 'address_mismatch');
    expect(err.message).toMatch(/validator addresses do not match/);
  });

  test('rejects two votes for the same block', () => {
    const e = evidence();
    rejects(() => verifyDuplicateVote({ ...e, voteB: e.voteA }, chainId, vals), 'same_block');
    // ValidateBasic catches it first (the order check), as CometBFT's does
    rejects(() => validateEvidenceBasic({ ...e, voteB: e.voteA }), 'invalid_basic');
  });

  test('rejects a validator that is not in the set of that height', () => {
    const outsider = testKeys(1, 'outsider')[0]!;
    const [voteA, voteB] = conflictingVotes(chainId, outsider, 0, H, 0, 1);
    const err = rejects(() => verifyDuplicateVote({ ...evidence(), voteA, voteB }, chainId, vals), 'not_validator');
    expect(err.context.validator).toBe(Buffer.from(outsider.pubKey.address).toString('hex').toUpperCase());
  });

  test('rejects powers that differ from the validator set', () => {
    const v = rejects(() => verifyDuplicateVote(evidence(0, { validatorPower: 11n }), chainId, vals), 'power_mismatch');
    expect(v.context).toMatchObject({ evidence: 11n, expected: 10n });
    const t = rejects(() => verifyDuplicateVote(evidence(0, { totalVotingPower: 39n }), chainId, vals), 'power_mismatch');
    expect(t.message).toMatch(/total voting power/);
  });

  test('rejects a bad signature on either vote, naming which', () => {
    const e = evidence();
    const a = rejects(() => verifyDuplicateVote({ ...e, voteA: { ...e.voteA, signature: new Uint8Array(64).fill(9) } }, chainId, vals), 'invalid_signature');
    expect(a.context.vote).toBe('VoteA');
    const b = rejects(() => verifyDuplicateVote({ ...e, voteB: { ...e.voteB, signature: new Uint8Array(64).fill(9) } }, chainId, vals), 'invalid_signature');
    expect(b.context.vote).toBe('VoteB');
    // signed for another chain
    const [va, vb] = conflictingVotes('another-chain', keys[0]!, indexOf(0), H, 0, 1);
    rejects(() => verifyDuplicateVote({ ...e, voteA: va, voteB: vb }, chainId, vals), 'invalid_signature');
  });

  test('ValidateBasic: votes out of block-id order, and malformed votes', () => {
    const e = evidence();
    const err = rejects(() => validateEvidenceBasic({ ...e, voteA: e.voteB, voteB: e.voteA }), 'invalid_basic');
    expect(err.message).toMatch(/invalid order/);
    const bad = rejects(() => validateEvidenceBasic({ ...e, voteA: { ...e.voteA, validatorAddress: new Uint8Array(3) } }), 'invalid_basic');
    expect(bad.context.field).toBe('vote.validator_address');
  });

  test('evidenceKey is SHA-256 of the DuplicateVoteEvidence protobuf: any field changes it', () => {
    expect(Buffer.from(evidenceKey(evidence())).toString('hex')).toBe(Buffer.from(evidenceKey(evidence())).toString('hex'));
    expect(Buffer.from(evidenceKey(evidence(0, { timestamp: { seconds: 1, nanos: 0 } }))).equals(Buffer.from(evidenceKey(evidence())))).toBe(false);
  });
});

describe('verify against the node history and age limits', () => {
  test('accepts evidence stamped with the block time of its height', async () => {
    await expect(verifyEvidence(evidence(), state, history)).resolves.toBeUndefined();
  });

  test('rejects a timestamp that is not the block time of its height', async () => {
    const err = await rejectsAsync(verifyEvidence(evidence(0, { timestamp: { seconds: 1_700_000_004, nanos: 0 } }), state, history), 'wrong_time');
    expect(err.context).toMatchObject({ block: T5 });
  });

  test('rejects evidence of a height this node has no block for', async () => {
    const [voteA, voteB] = conflictingVotes(chainId, keys[0]!, indexOf(0), 11, 0, 1);
    await rejectsAsync(verifyEvidence({ ...evidence(), voteA, voteB }, state, history), 'unknown_height');
    await rejectsAsync(verifyEvidence(evidence(), state, { ...history, blockTime: async () => undefined }), 'unknown_height');
    await rejectsAsync(verifyEvidence(evidence(), state, { ...history, validators: async () => undefined }), 'unknown_height');
  });

  test('expires only when older than both max_age_num_blocks and max_age_duration', async () => {
    const params = (blocks: bigint, seconds: number): State => ({
      ...state,
      consensusParams: { ...state.consensusParams, evidence: { maxAgeNumBlocks: blocks, maxAgeDuration: { seconds, nanos: 0 }, maxBytes: 1_048_576n } },
    });
    // age: 5 blocks, 5 seconds
    await expect(verifyEvidence(evidence(), params(4n, 10), history)).resolves.toBeUndefined();
    await expect(verifyEvidence(evidence(), params(10n, 4), history)).resolves.toBeUndefined();
    await expect(verifyEvidence(evidence(), params(5n, 5), history)).resolves.toBeUndefined(); // equal is not older
    const err = await rejectsAsync(verifyEvidence(evidence(), params(4n, 4), history), 'expired');
    expect(err.context).toMatchObject({ height: H, lastBlockHeight: 10 });
    expect(isExpired(params(4n, 4).consensusParams.evidence, 10, state.lastBlockTime, H, T5)).toBe(true);
  });

  test('basic checks run first: a malformed evidence never reaches the store', async () => {
    let asked = false;
    const e = evidence();
    await rejectsAsync(verifyEvidence({ ...e, voteA: e.voteB, voteB: e.voteA }, state, { ...history, blockTime: async () => ((asked = true), T5) }), 'invalid_basic');
    expect(asked).toBe(false);
  });
});
