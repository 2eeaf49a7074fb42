// Vocabulary shared by the pieces of the consensus core: rounds, steps, values, the narrow view
// of a validator set the core needs, timeouts, limits, and the test-only mutations.
import { SignedMsgType, encodePartSetHeader, isZeroBlockID, type BlockID } from '../../codec/index.js';

/** A round number; NIL_ROUND (−1) stands for "no round" (lockedRound, validRound, polRound). */
export type Round = number;
export const NIL_ROUND: Round = -1;

/**
 * The step of the current round (Algorithm 1, line 4), plus `commit` once a value is decided
 * for the height (CometBFT's RoundStepCommit): after a decision no rule of the height fires.
 */
export type Step = 'propose' | 'prevote' | 'precommit' | 'commit';

const STEP_ORDER: Readonly<Record<Step, number>> = { propose: 0, prevote: 1, precommit: 2, commit: 3 };

/** `a ≥ b` in the order propose < prevote < precommit < commit (line 36's `step ≥ prevote`). */
export function stepAtLeast(a: Step, b: Step): boolean {
  return STEP_ORDER[a] >= STEP_ORDER[b];
}

export type VoteType = SignedMsgType.Prevote | SignedMsgType.Precommit;

/**
 * A value is a block, identified by its BlockID; the core never sees block bytes (the shell
 * resolves them). A value id is a string key of the BlockID usable in Maps: the hash and the
 * encoded part-set header, the same bytes CometBFT's BlockID.Key() concatenates.
 */
export type ValueId = string;

/** The value id of nil votes. No BlockID maps to it (real ids are hex, never empty). */
export const NIL_VALUE: ValueId = '';

// Memo of a pure function keyed by the (immutable) BlockID object: the same BlockID object
// travels in a proposal and in every vote for it, and this key is computed for each of them.
const valueIds = new WeakMap<BlockID, ValueId>();

export function valueIdOf(blockId: BlockID): ValueId {
  let id = valueIds.get(blockId);
  if (id === undefined) {
    id = isZeroBlockID(blockId) ? NIL_VALUE : hexOf(blockId.hash) + ':' + hexOf(encodePartSetHeader(blockId.partSetHeader));
    valueIds.set(blockId, id);
  }
  return id;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
export function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX[b]!;
  return s;
}

/** One validator as the core sees it. The real `Validator` of codec/model.ts satisfies it. */
export interface ValidatorView {
  readonly address: Uint8Array;
  readonly votingPower: bigint;
}

/**
 * The part of a validator set the core uses. types/validator-set.ts's `ValidatorSet` satisfies
 * it structurally; the core depends on this view so that it stays independent of how the set
 * is stored and updated. `copyIncrementProposerPriority(times)` must not mutate the receiver.
 */
export interface ValidatorSetView {
  readonly size: number;
  totalVotingPower(): bigint;
  getByIndex(index: number): ValidatorView | undefined;
  getByAddress(address: Uint8Array): { index: number; validator: ValidatorView } | undefined;
  /** The proposer of round 0 of the height this set is for. */
  getProposer(): ValidatorView;
  copyIncrementProposerPriority(times: number): ValidatorSetView;
}

export type TimeoutKind = 'propose' | 'prevote' | 'precommit';

/**
 * Timeouts in milliseconds. Each grows linearly with the round (base + delta · round), which
 * the liveness argument of the paper needs: after GST some round's timeouts exceed the
 * unknown message delay. `commit` is the pause between a decision and the next height; the
 * shell waits it before StartHeight (the core has nothing to do in between).
 */
export interface TimeoutConfig {
  readonly propose: number;
  readonly proposeDelta: number;
  readonly prevote: number;
  readonly prevoteDelta: number;
  readonly precommit: number;
  readonly precommitDelta: number;
  readonly commit: number;
}

/** CometBFT's defaults (cometbft-facts.md, "Consensus timing"). */
export const DEFAULT_TIMEOUTS: TimeoutConfig = Object.freeze({
  propose: 3000,
  proposeDelta: 500,
  prevote: 1000,
  prevoteDelta: 500,
  precommit: 1000,
  precommitDelta: 500,
  commit: 1000,
});

export function timeoutDuration(config: TimeoutConfig, kind: TimeoutKind, round: Round): number {
  switch (kind) {
    case 'propose':
      return config.propose + config.proposeDelta * round;
    case 'prevote':
      return config.prevote + config.prevoteDelta * round;
    case 'precommit':
      return config.precommit + config.precommitDelta * round;
  }
}

/**
 * Deliberate faults, for the harness that must show the simulator can fail. Never set outside
 * tests and the simulator's `--mutation` flag.
 *  - skipLockCheck: prevote any valid proposal, ignoring lockedValue/lockedRound (lines 23, 29).
 *  - commitQuorumOf2f: decide on 2f precommits instead of 2f+1 (line 49).
 *  - quorumOf2f: every 2f+1 threshold (polka, precommit, decision) becomes 2f.
 *  - noValidValue: a proposer ignores validValue and always proposes a fresh value (line 15).
 */
export interface CoreMutations {
  readonly skipLockCheck?: boolean;
  readonly commitQuorumOf2f?: boolean;
  readonly quorumOf2f?: boolean;
  readonly noValidValue?: boolean;
}

export const NO_MUTATIONS: CoreMutations = Object.freeze({});

/** Bounds on what untrusted peers can make the core store. */
export interface CoreLimits {
  /**
   * Votes and proposals for rounds beyond `round + maxRoundsAhead` are dropped, so a peer
   * cannot make the vote keeper allocate tallies for arbitrarily many future rounds.
   */
  readonly maxRoundsAhead: number;
}

export const DEFAULT_LIMITS: CoreLimits = Object.freeze({ maxRoundsAhead: 100 });

export interface CoreConfig {
  /** The chain the core runs; only used to label errors (sign-bytes are the shell's). */
  readonly chainId: string;
  /** This node's validator address, or null for a node that only follows. */
  readonly address: Uint8Array | null;
  readonly timeouts: TimeoutConfig;
  readonly limits: CoreLimits;
  readonly mutations: CoreMutations;
}

/** A programming error by the caller of the core (not a bad message from a peer). */
export class ConsensusCoreError extends Error {
  override readonly name = 'ConsensusCoreError';
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
