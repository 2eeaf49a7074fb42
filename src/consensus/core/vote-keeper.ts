// The vote keeper: weighted tallies of the prevotes and precommits of one height, per round,
// and detection of equivocation (two different votes from one validator for the same height,
// round and type). Immutable: adding a vote returns a new keeper sharing everything it did not
// change, so a driver state can be kept, compared and replayed freely.
//
// What it trusts: the caller (the driver, behind the shell) has checked the signature, the
// height and that the validator at `index` of this height's set has the vote's address. The
// keeper only needs the index and the power.
import { SignedMsgType, blockIdKey, type DuplicateVoteEvidence, type Timestamp, type Vote } from '../../codec/index.js';
import { compareBytes } from '../../crypto/index.js';
import { NIL_VALUE, valueIdOf, type CoreMutations, type Round, type ValueId, type VoteType } from './types.js';

/**
 * The votes of one type in one round. Like the paper's `upon 2f+1 ⟨PREVOTE, h, r, id(v)⟩`, a
 * tally per value counts each validator at most once *for that value*: an equivocating
 * validator's vote for v is still a vote for v. (Counting only its first vote would let a
 * Byzantine validator show each correct node a different first vote and keep a polka that
 * exists from ever being seen by some of them; CometBFT gets out of this with peer "maj23"
 * claims, the paper by counting per value.) This is safe: the quorum-intersection argument
 * already lets Byzantine validators vote for anything. The "any" tallies count each
 * validator once.
 */
export interface VoteTally {
  /** The votes counted from each validator, by validator index: the first, then conflicting ones. */
  readonly votes: ReadonlyMap<number, readonly Vote[]>;
  /** Power per value id (NIL_VALUE for nil votes). */
  readonly power: ReadonlyMap<ValueId, bigint>;
  /** Power of the distinct validators with a vote here (line 34's and 47's "∗"). */
  readonly total: bigint;
}

/**
 * At most this many different values are counted from one validator in one slot; further
 * conflicting votes only feed evidence. Bounds what an equivocator can make a node store;
 * a peer relaying such floods is the shell's to penalise.
 */
export const MAX_VALUES_PER_SLOT = 8;

export interface RoundVotes {
  readonly prevotes: VoteTally;
  readonly precommits: VoteTally;
  /** Power of the distinct validators with any vote in this round (line 55's "f+1 ⟨∗, h_p, round⟩"). */
  readonly anyPower: bigint;
  readonly anyVoters: ReadonlySet<number>;
}

export interface VoteKeeper {
  readonly height: number;
  readonly totalPower: bigint;
  readonly rounds: ReadonlyMap<Round, RoundVotes>;
  /** "index/round/type" of the slots already reported as equivocation (one evidence each). */
  readonly reported: ReadonlySet<string>;
}

export type AddVoteResult =
  | { readonly kind: 'added'; readonly keeper: VoteKeeper }
  /** The same vote again (gossip duplicates): nothing changes. */
  | { readonly kind: 'duplicate'; readonly keeper: VoteKeeper }
  /**
   * A vote for another value in a slot the validator already voted in. It is counted for its
   * value (below MAX_VALUES_PER_SLOT); `evidence` is null when this slot was already reported.
   */
  | { readonly kind: 'conflict'; readonly keeper: VoteKeeper; readonly evidence: DuplicateVoteEvidence | null; readonly counted: boolean };

const EMPTY_TALLY: VoteTally = Object.freeze({ votes: new Map(), power: new Map(), total: 0n });
const EMPTY_ROUND: RoundVotes = Object.freeze({ prevotes: EMPTY_TALLY, precommits: EMPTY_TALLY, anyPower: 0n, anyVoters: new Set<number>() });

export function newVoteKeeper(height: number, totalPower: bigint): VoteKeeper {
  return { height, totalPower, rounds: new Map(), reported: new Set() };
}

export function roundVotes(keeper: VoteKeeper, round: Round): RoundVotes {
  return keeper.rounds.get(round) ?? EMPTY_ROUND;
}

export function tallyOf(keeper: VoteKeeper, round: Round, type: VoteType): VoteTally {
  const rv = roundVotes(keeper, round);
  return type === SignedMsgType.Prevote ? rv.prevotes : rv.precommits;
}

export function addVote(keeper: VoteKeeper, vote: Vote, index: number, power: bigint): AddVoteResult {
  const type = vote.type as VoteType;
  const rv = roundVotes(keeper, vote.round);
  const tally = type === SignedMsgType.Prevote ? rv.prevotes : rv.precommits;
  const value = valueIdOf(vote.blockId);
  const existing = tally.votes.get(index);
  if (existing !== undefined && existing.some((v) => valueIdOf(v.blockId) === value)) return { kind: 'duplicate', keeper };

  let next = keeper;
  let evidence: DuplicateVoteEvidence | null = null;
  if (existing !== undefined) {
    const slot = `${index}/${vote.round}/${type}`;
    if (!keeper.reported.has(slot)) {
      evidence = duplicateVoteEvidence(existing[0]!, vote, power, keeper.totalPower);
      next = { ...keeper, reported: new Set(keeper.reported).add(slot) };
    }
    if (existing.length >= MAX_VALUES_PER_SLOT) return { kind: 'conflict', keeper: next, evidence, counted: false };
  }

  const votes = new Map(tally.votes).set(index, existing === undefined ? [vote] : [...existing, vote]);
  const powerMap = new Map(tally.power).set(value, (tally.power.get(value) ?? 0n) + power);
  const nextTally: VoteTally = { votes, power: powerMap, total: existing === undefined ? tally.total + power : tally.total };
  const newVoter = !rv.anyVoters.has(index);
  const nextRound: RoundVotes = {
    prevotes: type === SignedMsgType.Prevote ? nextTally : rv.prevotes,
    precommits: type === SignedMsgType.Precommit ? nextTally : rv.precommits,
    anyPower: newVoter ? rv.anyPower + power : rv.anyPower,
    anyVoters: newVoter ? new Set(rv.anyVoters).add(index) : rv.anyVoters,
  };
  next = { ...next, rounds: new Map(keeper.rounds).set(vote.round, nextRound) };
  return existing === undefined ? { kind: 'added', keeper: next } : { kind: 'conflict', keeper: next, evidence, counted: true };
}

// ---- thresholds ---------------------------------------------------------------------------

/**
 * The thresholds of Algorithm 1 with voting power. With total power T, "2f+1" means more than
 * two thirds (3w > 2T: exactly 2/3 is not a quorum) and "f+1" more than one third (3w > T).
 * The mutated variants use "w ≥ 2f" with f = ⌊(T−1)/3⌋, the largest faulty power tolerated.
 */
export interface Thresholds {
  /** 2f+1 for polkas (lines 28, 34, 36, 44) and precommit-any (line 47). */
  quorum(w: bigint, total: bigint): boolean;
  /** 2f+1 precommits for a value: the decision (line 49). */
  commitQuorum(w: bigint, total: bigint): boolean;
  /** f+1: round skip (line 55). */
  honest(w: bigint, total: bigint): boolean;
}

const twoThirds = (w: bigint, total: bigint): boolean => 3n * w > 2n * total;
const oneThird = (w: bigint, total: bigint): boolean => 3n * w > total;
/** The deliberately broken "2f": f = ⌊(T−1)/3⌋. */
const twoF = (w: bigint, total: bigint): boolean => w > 0n && w >= 2n * ((total - 1n) / 3n);

export function thresholds(mutations: CoreMutations = {}): Thresholds {
  return {
    quorum: mutations.quorumOf2f ? twoF : twoThirds,
    commitQuorum: mutations.quorumOf2f || mutations.commitQuorumOf2f ? twoF : twoThirds,
    honest: oneThird,
  };
}

export const CORRECT_THRESHOLDS: Thresholds = thresholds();

/** 2f+1 votes of `type` in `round` for `value` (a value id, or NIL_VALUE). */
export function hasQuorumFor(keeper: VoteKeeper, round: Round, type: VoteType, value: ValueId, th: Thresholds = CORRECT_THRESHOLDS): boolean {
  const w = tallyOf(keeper, round, type).power.get(value) ?? 0n;
  return th.quorum(w, keeper.totalPower);
}

/** 2f+1 votes of `type` in `round` for anything, nil included. */
export function hasQuorumAny(keeper: VoteKeeper, round: Round, type: VoteType, th: Thresholds = CORRECT_THRESHOLDS): boolean {
  return th.quorum(tallyOf(keeper, round, type).total, keeper.totalPower);
}

/** The non-nil value with 2f+1 precommits in `round` (the decision threshold), if any. */
export function committedValue(keeper: VoteKeeper, round: Round, th: Thresholds = CORRECT_THRESHOLDS): ValueId | null {
  for (const [value, w] of tallyOf(keeper, round, SignedMsgType.Precommit).power) {
    if (value !== NIL_VALUE && th.commitQuorum(w, keeper.totalPower)) return value;
  }
  return null;
}

/** The highest round above `round` with f+1 voting power of votes in it (line 55), if any. */
export function skipRoundTarget(keeper: VoteKeeper, round: Round, th: Thresholds = CORRECT_THRESHOLDS): Round | null {
  let best: Round | null = null;
  for (const [r, rv] of keeper.rounds) {
    if (r > round && (best === null || r > best) && th.honest(rv.anyPower, keeper.totalPower)) best = r;
  }
  return best;
}

// ---- evidence -----------------------------------------------------------------------------


function laterTime(a: Timestamp, b: Timestamp): Timestamp {
  return a.seconds > b.seconds || (a.seconds === b.seconds && a.nanos >= b.nanos) ? a : b;
}

/**
 * DuplicateVoteEvidence as CometBFT's NewDuplicateVoteEvidence builds it: voteA is the vote
 * whose BlockID key sorts first. The core has no clock and does not know the block time of
 * the height yet, so `timestamp` is provisionally the later vote's timestamp; the evidence
 * pool restamps it with the time of the block at that height, as CometBFT's pool does.
 */
export function duplicateVoteEvidence(first: Vote, second: Vote, validatorPower: bigint, totalVotingPower: bigint): DuplicateVoteEvidence {
  const [voteA, voteB] = compareBytes(blockIdKey(first.blockId), blockIdKey(second.blockId)) < 0 ? [first, second] : [second, first];
  return { kind: 'duplicate_vote', voteA, voteB, totalVotingPower, validatorPower, timestamp: laterTime(first.timestamp, second.timestamp) };
}
