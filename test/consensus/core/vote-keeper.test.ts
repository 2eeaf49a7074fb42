// Weighted tallies, the exact 2/3 and 1/3 boundaries, duplicates and equivocation evidence.
import { describe, expect, it } from 'vitest';
import { SignedMsgType, encodePartSetHeader, type Vote } from '../../../src/codec/index.js';
import { NIL_VALUE, valueIdOf } from '../../../src/consensus/core/types.js';
import {
  MAX_VALUES_PER_SLOT,
  addVote,
  committedValue,
  hasQuorumAny,
  hasQuorumFor,
  newVoteKeeper,
  skipRoundTarget,
  thresholds,
  type VoteKeeper,
} from '../../../src/consensus/core/vote-keeper.js';
import { blockId, NIL, validatorSet, vote } from './helpers.js';

const V = blockId(1);
const W = blockId(2);

/** Add votes by index with the given powers; fails on anything but 'added'. */
function tally(total: bigint, votes: [index: number, power: bigint, v: Vote][]): VoteKeeper {
  let k = newVoteKeeper(1, total);
  for (const [index, power, v] of votes) {
    const r = addVote(k, v, index, power);
    expect(r.kind).toBe('added');
    k = r.keeper;
  }
  return k;
}

const set = validatorSet([1n, 1n, 1n, 1n, 1n, 1n]);
const pv = (i: number, value = V, round = 0): Vote => vote(set, i, SignedMsgType.Prevote, 1, round, value);
const pc = (i: number, value = V, round = 0): Vote => vote(set, i, SignedMsgType.Precommit, 1, round, value);

describe('2f+1: more than two thirds of the voting power', () => {
  it('exactly 2/3 is not a quorum; anything above is', () => {
    // Total 6: 4 is exactly 2/3, 5 is above.
    const four = tally(6n, [0, 1, 2, 3].map((i) => [i, 1n, pv(i)] as [number, bigint, Vote]));
    expect(hasQuorumFor(four, 0, SignedMsgType.Prevote, valueIdOf(V))).toBe(false);
    const five = tally(6n, [0, 1, 2, 3, 4].map((i) => [i, 1n, pv(i)] as [number, bigint, Vote]));
    expect(hasQuorumFor(five, 0, SignedMsgType.Prevote, valueIdOf(V))).toBe(true);
  });

  it('counts voting power, not heads', () => {
    // Total 10: one validator with 7 is a quorum alone (7 > 6.67); three with 2 each are not.
    expect(hasQuorumFor(tally(10n, [[0, 7n, pv(0)]]), 0, SignedMsgType.Prevote, valueIdOf(V))).toBe(true);
    const three = tally(10n, [[1, 2n, pv(1)], [2, 2n, pv(2)], [3, 2n, pv(3)]]);
    expect(hasQuorumFor(three, 0, SignedMsgType.Prevote, valueIdOf(V))).toBe(false);
  });

  it('"any" counts votes for different values and nil together (lines 34, 47)', () => {
    const k = tally(4n, [[0, 1n, pv(0, V)], [1, 1n, pv(1, W)], [2, 1n, pv(2, NIL)]]);
    expect(hasQuorumAny(k, 0, SignedMsgType.Prevote)).toBe(true);
    expect(hasQuorumFor(k, 0, SignedMsgType.Prevote, valueIdOf(V))).toBe(false);
    expect(hasQuorumAny(k, 0, SignedMsgType.Precommit)).toBe(false);
  });

  it('nil has its own tally (line 44)', () => {
    const k = tally(4n, [0, 1, 2].map((i) => [i, 1n, pv(i, NIL)] as [number, bigint, Vote]));
    expect(hasQuorumFor(k, 0, SignedMsgType.Prevote, NIL_VALUE)).toBe(true);
  });

  it('committedValue finds the value with 2f+1 precommits, never nil', () => {
    const nil = tally(4n, [0, 1, 2].map((i) => [i, 1n, pc(i, NIL)] as [number, bigint, Vote]));
    expect(committedValue(nil, 0)).toBeNull();
    const v = tally(4n, [0, 1, 2].map((i) => [i, 1n, pc(i, V, 3)] as [number, bigint, Vote]));
    expect(committedValue(v, 3)).toBe(valueIdOf(V));
    expect(committedValue(v, 0)).toBeNull();
  });

  it('prevotes and precommits are tallied apart', () => {
    const k = tally(4n, [[0, 1n, pv(0)], [1, 1n, pc(1)], [2, 1n, pv(2)]]);
    expect(hasQuorumFor(k, 0, SignedMsgType.Prevote, valueIdOf(V))).toBe(false);
  });
});

describe('f+1: more than a third (line 55)', () => {
  it('exactly 1/3 does not skip; more does, to the highest such round', () => {
    // Total 6: 2 is exactly 1/3.
    const two = tally(6n, [[0, 1n, pv(0, V, 3)], [1, 1n, pc(1, V, 3)]]);
    expect(skipRoundTarget(two, 0)).toBeNull();
    const three = tally(6n, [[0, 1n, pv(0, V, 3)], [1, 1n, pc(1, NIL, 3)], [2, 1n, pv(2, W, 3)], [3, 1n, pv(3, V, 5)], [4, 1n, pv(4, V, 5)], [5, 1n, pv(5, V, 5)]]);
    expect(skipRoundTarget(three, 0)).toBe(5);
    expect(skipRoundTarget(three, 5)).toBeNull();
  });

  it('a validator with a prevote and a precommit in a round counts once', () => {
    const k = tally(6n, [[0, 1n, pv(0, V, 2)], [0, 1n, pc(0, V, 2)], [1, 1n, pv(1, V, 2)]]);
    expect(skipRoundTarget(k, 0)).toBeNull();
  });
});

describe('duplicates and equivocation', () => {
  it('the same vote twice is a duplicate and changes nothing', () => {
    const k = tally(4n, [[0, 1n, pv(0)]]);
    const again = addVote(k, pv(0), 0, 1n);
    expect(again.kind).toBe('duplicate');
    expect(again.keeper).toBe(k);
  });

  it('a different vote in the same slot yields DuplicateVoteEvidence with real votes, ordered as CometBFT does', () => {
    const first = pv(2, W);
    const second = { ...pv(2, V), timestamp: { seconds: 9, nanos: 5 } };
    const k = tally(6n, [[2, 1n, first]]);
    const r = addVote(k, second, 2, 1n);
    expect(r.kind).toBe('conflict');
    if (r.kind !== 'conflict') return;
    const e = r.evidence!;
    expect(e.kind).toBe('duplicate_vote');
    // voteA has the lower BlockID key (hash ‖ encoded part-set header): V is 0x01…, W is 0x02…
    expect(e.voteA).toBe(second);
    expect(e.voteB).toBe(first);
    expect(e.validatorPower).toBe(1n);
    expect(e.totalVotingPower).toBe(6n);
    expect(e.timestamp).toEqual({ seconds: 9, nanos: 5 });
    expect(encodePartSetHeader(e.voteA.blockId.partSetHeader).length).toBeGreaterThan(0);
  });

  it('a nil vote sorts first (its key is empty)', () => {
    const k = tally(4n, [[1, 1n, pc(1, V)]]);
    const r = addVote(k, pc(1, NIL), 1, 1n);
    expect(r.kind === 'conflict' && r.evidence!.voteA.blockId).toBe(NIL);
  });

  it('reports each slot once, but counts the conflicting vote for its own value', () => {
    let k = tally(4n, [[3, 1n, pv(3, V)]]);
    const r1 = addVote(k, pv(3, W), 3, 1n);
    expect(r1.kind === 'conflict' && r1.evidence !== null && r1.counted).toBe(true);
    k = r1.keeper;
    const r2 = addVote(k, pv(3, NIL), 3, 1n);
    expect(r2.kind === 'conflict' && r2.evidence === null && r2.counted).toBe(true);
    k = r2.keeper;
    const rv = k.rounds.get(0)!.prevotes;
    expect(rv.power.get(valueIdOf(V))).toBe(1n);
    expect(rv.power.get(valueIdOf(W))).toBe(1n);
    expect(rv.total).toBe(1n); // "any" counts the validator once
  });

  it("an equivocator's vote for v completes a polka for v (the paper counts per value)", () => {
    // Validator 0 voted W first; its later vote for V plus two others make 3 of 4 for V.
    let k = tally(4n, [[0, 1n, pv(0, W)], [1, 1n, pv(1, V)], [2, 1n, pv(2, V)]]);
    expect(hasQuorumFor(k, 0, SignedMsgType.Prevote, valueIdOf(V))).toBe(false);
    k = addVote(k, pv(0, V), 0, 1n).keeper;
    expect(hasQuorumFor(k, 0, SignedMsgType.Prevote, valueIdOf(V))).toBe(true);
  });

  it(`stops counting an equivocator after ${MAX_VALUES_PER_SLOT} values in one slot`, () => {
    let k = newVoteKeeper(1, 4n);
    for (let i = 0; i < MAX_VALUES_PER_SLOT; i++) k = addVote(k, pv(0, blockId(10 + i)), 0, 1n).keeper;
    const r = addVote(k, pv(0, blockId(99)), 0, 1n);
    expect(r.kind === 'conflict' && !r.counted).toBe(true);
    expect(r.keeper.rounds).toBe(k.rounds);
  });

  it('votes of different rounds or types never conflict', () => {
    const k = tally(4n, [[0, 1n, pv(0, V, 0)], [0, 1n, pv(0, W, 1)], [0, 1n, pc(0, NIL, 0)]]);
    expect(k.reported.size).toBe(0);
  });
});

describe('the broken "2f" thresholds of the mutation harness', () => {
  it('2f of 3f+1 is a quorum only when mutated', () => {
    const k = tally(4n, [[0, 1n, pc(0)], [1, 1n, pc(1)]]);
    expect(committedValue(k, 0)).toBeNull();
    expect(committedValue(k, 0, thresholds({ commitQuorumOf2f: true }))).toBe(valueIdOf(V));
    expect(hasQuorumFor(k, 0, SignedMsgType.Precommit, valueIdOf(V), thresholds({ commitQuorumOf2f: true }))).toBe(false);
    expect(hasQuorumFor(k, 0, SignedMsgType.Precommit, valueIdOf(V), thresholds({ quorumOf2f: true }))).toBe(true);
  });
});
