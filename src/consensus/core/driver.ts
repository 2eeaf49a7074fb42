// The driver: the consensus core's single entry point, `apply(state, input) → transition`.
// It owns everything of one height that is not the round state machine: the vote keeper, the
// proposals per round, the application's validity verdicts, the proposer of each round. After
// every input it evaluates the `upon` conditions of Algorithm 1 against what it holds and
// feeds each one that holds to the round state machine, until no rule fires any more (a
// fixpoint), turning the round machine's outputs into effects for the shell.
//
// Pure: no I/O, clock, randomness or promises; the state is immutable and every transition is
// a function of (state, input) only. A restarted node therefore recovers by replaying the
// inputs of the current height (what a WAL holds) into a fresh state.
import { SignedMsgType, isZeroBlockID, type BlockID, type Commit, type Proposal } from '../../codec/index.js';
import { bytesEqual } from '../../crypto/index.js';
import { buildCommit, checkCommit, type CommitCheckError } from './commit.js';
import type { Effect } from './effects.js';
import type { CommitInput, Input, ProposalInput, StartHeightInput, ValueReadyInput, ValueValidatedInput, VoteInput } from './inputs.js';
import { applyRound, initialRoundState, type RoundInput, type RoundOutput, type RoundState } from './round-state.js';
import {
  ConsensusCoreError,
  DEFAULT_LIMITS,
  DEFAULT_TIMEOUTS,
  NIL_ROUND,
  NIL_VALUE,
  NO_MUTATIONS,
  timeoutDuration,
  valueIdOf,
  type CoreConfig,
  type Round,
  type ValidatorSetView,
  type ValueId,
} from './types.js';
import {
  addVote,
  committedValue,
  hasQuorumAny,
  hasQuorumFor,
  newVoteKeeper,
  skipRoundTarget,
  tallyOf,
  thresholds,
  type Thresholds,
  type VoteKeeper,
} from './vote-keeper.js';

export interface Decision {
  readonly height: number;
  readonly round: Round;
  readonly blockId: BlockID;
  readonly commit: Commit;
}

export interface CoreState {
  readonly config: CoreConfig;
  /** h_p; 0 until the first startHeight. */
  readonly height: number;
  readonly validators: ValidatorSetView | null;
  /** This node's index in `validators`, or null when it is not a validator at this height. */
  readonly ownIndex: number | null;
  readonly lastCommit: Commit | null;
  readonly round: RoundState;
  readonly votes: VoteKeeper;
  /** The first well-formed proposal from the proposer of each round (current and future rounds). */
  readonly proposals: ReadonlyMap<Round, Proposal>;
  /** valid(v) as the application answered it, by value id. */
  readonly validity: ReadonlyMap<ValueId, boolean>;
  /** Values whose validation was requested and not answered yet. */
  readonly validating: ReadonlySet<ValueId>;
  readonly decision: Decision | null;
}

/** Why an input changed nothing. Stale inputs (old rounds, other heights) are normal traffic. */
export type IgnoreReason =
  | 'not_started'
  | 'wrong_height'
  | 'wrong_type'
  | 'round_out_of_range'
  | 'unknown_validator'
  | 'not_proposer'
  | 'invalid_pol_round'
  | 'nil_proposal'
  | 'duplicate'
  | 'conflicting_proposal'
  | 'equivocation'
  | 'decided'
  | 'stale'
  | `invalid_commit:${CommitCheckError}`;

export interface Transition {
  readonly state: CoreState;
  readonly effects: readonly Effect[];
  /** Set when the input was dropped, for logs, metrics and peer scoring. */
  readonly ignored: IgnoreReason | null;
}

export interface CoreOptions {
  readonly chainId: string;
  readonly address: Uint8Array | null;
  readonly timeouts?: CoreConfig['timeouts'];
  readonly limits?: CoreConfig['limits'];
  readonly mutations?: CoreConfig['mutations'];
}

/** A core that has not started any height yet. */
export function initialState(opts: CoreOptions): CoreState {
  const config: CoreConfig = {
    chainId: opts.chainId,
    address: opts.address,
    timeouts: opts.timeouts ?? DEFAULT_TIMEOUTS,
    limits: opts.limits ?? DEFAULT_LIMITS,
    mutations: opts.mutations ?? NO_MUTATIONS,
  };
  return {
    config,
    height: 0,
    validators: null,
    ownIndex: null,
    lastCommit: null,
    round: initialRoundState(0),
    votes: newVoteKeeper(0, 0n),
    proposals: new Map(),
    validity: new Map(),
    validating: new Set(),
    decision: null,
  };
}

// ---- proposer(h, r) -----------------------------------------------------------------------

/**
 * proposer(h_p, r): the round-0 set's priorities incremented r times. Memoised per set object
 * (a cache of a pure function: it changes no result). CometBFT increments cumulatively from
 * the node's previous round, which can differ from one increment of r after a rescale; doing
 * it from round 0 makes proposer(h, r) the same on every node whatever rounds it skipped.
 */
const proposerCache = new WeakMap<ValidatorSetView, Map<Round, Uint8Array>>();

export function proposerOf(validators: ValidatorSetView, round: Round): Uint8Array {
  let byRound = proposerCache.get(validators);
  if (byRound === undefined) {
    byRound = new Map();
    proposerCache.set(validators, byRound);
  }
  let address = byRound.get(round);
  if (address === undefined) {
    address = (round === 0 ? validators.getProposer() : validators.copyIncrementProposerPriority(round).getProposer()).address;
    byRound.set(round, address);
  }
  return address;
}

function isOwnProposer(state: CoreState, round: Round): boolean {
  return state.ownIndex !== null && state.validators !== null && state.config.address !== null && bytesEqual(proposerOf(state.validators, round), state.config.address);
}

// ---- apply --------------------------------------------------------------------------------

export function apply(state: CoreState, input: Input): Transition {
  if (input.kind === 'startHeight') return startHeight(state, input);
  if (state.validators === null) return ignored(state, 'not_started');
  switch (input.kind) {
    case 'proposal':
      return onProposal(state, input);
    case 'vote':
      return onVote(state, input);
    case 'timeout':
      if (input.height !== state.height) return ignored(state, 'wrong_height');
      return fire(state, { kind: 'timeout', timeout: input.timeout, height: input.height, round: input.round }, 'stale');
    case 'valueReady':
      return onValueReady(state, input);
    case 'valueValidated':
      return onValueValidated(state, input);
    case 'commit':
      return onCommit(state, input);
  }
}

function ignored(state: CoreState, reason: IgnoreReason): Transition {
  return { state, effects: [], ignored: reason };
}

function startHeight(state: CoreState, input: StartHeightInput): Transition {
  if (!Number.isSafeInteger(input.height) || input.height <= state.height)
    throw new ConsensusCoreError('startHeight must move to a higher height', { current: state.height, requested: input.height });
  if (input.validatorSet.size === 0) throw new ConsensusCoreError('startHeight needs a non-empty validator set', { height: input.height });
  const address = state.config.address;
  const own = address === null ? undefined : input.validatorSet.getByAddress(address);
  const fresh: CoreState = {
    config: state.config,
    height: input.height,
    validators: input.validatorSet,
    ownIndex: own === undefined ? null : own.index,
    lastCommit: input.lastCommit,
    round: initialRoundState(input.height), // line 53: reset locked/valid values and the message log
    votes: newVoteKeeper(input.height, input.validatorSet.totalVotingPower()),
    proposals: new Map(),
    validity: new Map(),
    validating: new Set(),
    decision: null,
  };
  const effects: Effect[] = [];
  const started = startRound(fresh, 0, effects); // line 10 / 54: StartRound(0)
  return { state: evaluate(started, effects), effects, ignored: null };
}

function onProposal(state: CoreState, input: ProposalInput): Transition {
  const p = input.proposal;
  const validators = state.validators!;
  if (p.height !== state.height) return ignored(state, 'wrong_height');
  if (state.decision !== null) return ignored(state, 'decided');
  if (p.type !== SignedMsgType.Proposal) return ignored(state, 'wrong_type');
  if (!Number.isSafeInteger(p.round) || p.round < 0 || p.round > state.round.round + state.config.limits.maxRoundsAhead) return ignored(state, 'round_out_of_range');
  // Only the current round's proposal (and future ones, for when we get there) can matter:
  // line 49 does not need the proposal here (see evaluate), lines 22/28/36 use round_p's.
  if (p.round < state.round.round) return ignored(state, 'stale');
  if (!Number.isSafeInteger(p.polRound) || p.polRound < NIL_ROUND || p.polRound >= p.round) return ignored(state, 'invalid_pol_round');
  if (isZeroBlockID(p.blockId)) return ignored(state, 'nil_proposal');
  if (!bytesEqual(input.signer, proposerOf(validators, p.round))) return ignored(state, 'not_proposer');
  const existing = state.proposals.get(p.round);
  if (existing !== undefined) {
    const same = valueIdOf(existing.blockId) === valueIdOf(p.blockId) && existing.polRound === p.polRound;
    // A second, different proposal is the proposer equivocating; like CometBFT we keep the first.
    return ignored(state, same ? 'duplicate' : 'conflicting_proposal');
  }

  let next: CoreState = { ...state, proposals: new Map(state.proposals).set(p.round, p) };
  const effects: Effect[] = [];
  const value = valueIdOf(p.blockId);
  if (state.config.address !== null && bytesEqual(input.signer, state.config.address)) {
    // Our own proposal, fed back after signing: we built (or already validated) the value.
    if (!next.validity.has(value)) next = { ...next, validity: new Map(next.validity).set(value, true) };
  } else if (!next.validity.has(value) && !next.validating.has(value)) {
    effects.push({ kind: 'validateValue', height: state.height, round: p.round, blockId: p.blockId });
    next = { ...next, validating: new Set(next.validating).add(value) };
  }
  return { state: evaluate(next, effects), effects, ignored: null };
}

function onVote(state: CoreState, input: VoteInput): Transition {
  const v = input.vote;
  const validators = state.validators!;
  if (v.height !== state.height) return ignored(state, 'wrong_height');
  if (v.type !== SignedMsgType.Prevote && v.type !== SignedMsgType.Precommit) return ignored(state, 'wrong_type');
  if (!Number.isSafeInteger(v.round) || v.round < 0 || v.round > state.round.round + state.config.limits.maxRoundsAhead) return ignored(state, 'round_out_of_range');
  const validator = validators.getByIndex(v.validatorIndex);
  if (validator === undefined || !bytesEqual(validator.address, v.validatorAddress)) return ignored(state, 'unknown_validator');

  // Votes are still counted after a decision: late ones may reveal equivocation.
  const added = addVote(state.votes, v, v.validatorIndex, validator.votingPower);
  switch (added.kind) {
    case 'duplicate':
      return ignored(state, 'duplicate');
    case 'conflict': {
      // Counted for its value (vote-keeper.ts says why), so the rules are evaluated again.
      const effects: Effect[] = added.evidence === null ? [] : [{ kind: 'evidence', evidence: added.evidence }];
      const next = evaluate({ ...state, votes: added.keeper }, effects);
      return { state: next, effects, ignored: added.counted ? null : 'equivocation' };
    }
    case 'added': {
      const effects: Effect[] = [];
      return { state: evaluate({ ...state, votes: added.keeper }, effects), effects, ignored: null };
    }
  }
}

function onValueReady(state: CoreState, input: ValueReadyInput): Transition {
  if (input.height !== state.height) return ignored(state, 'wrong_height');
  if (isZeroBlockID(input.blockId)) return ignored(state, 'nil_proposal');
  return fire(state, { kind: 'proposeValue', round: input.round, value: input.blockId }, 'stale');
}

function onValueValidated(state: CoreState, input: ValueValidatedInput): Transition {
  if (input.height !== state.height) return ignored(state, 'wrong_height');
  const value = valueIdOf(input.blockId);
  if (value === NIL_VALUE || state.validity.has(value)) return ignored(state, 'duplicate');
  const validating = new Set(state.validating);
  validating.delete(value);
  const next: CoreState = { ...state, validity: new Map(state.validity).set(value, input.valid), validating };
  const effects: Effect[] = [];
  return { state: evaluate(next, effects), effects, ignored: null };
}

function onCommit(state: CoreState, input: CommitInput): Transition {
  if (input.commit.height !== state.height) return ignored(state, 'wrong_height');
  if (state.decision !== null) return ignored(state, 'decided');
  const problem = checkCommit(state.validators!, state.height, input.commit, thresholdsOf(state));
  if (problem !== null) return ignored(state, `invalid_commit:${problem}`);
  // A valid commit proves 2f+1 precommits for its block in its round: line 49 holds.
  const effects: Effect[] = [];
  const next = applyRoundInput(state, { kind: 'precommitValue', round: input.commit.round, value: input.commit.blockId }, effects, input.commit);
  return { state: next ?? state, effects, ignored: null };
}

/** Feed one input to the round machine, then evaluate; `stale` if it did not fire. */
function fire(state: CoreState, input: RoundInput, reason: IgnoreReason): Transition {
  const effects: Effect[] = [];
  const next = applyRoundInput(state, input, effects);
  if (next === null) return ignored(state, reason);
  return { state: evaluate(next, effects), effects, ignored: null };
}

// ---- rule evaluation ----------------------------------------------------------------------

function thresholdsOf(state: CoreState): Thresholds {
  return thresholds(state.config.mutations);
}

/** A non-nil BlockID with the given value id among the precommits of `round`. */
function precommittedBlockId(votes: VoteKeeper, round: Round, value: ValueId): BlockID {
  for (const mine of tallyOf(votes, round, SignedMsgType.Precommit).votes.values()) {
    for (const v of mine) if (valueIdOf(v.blockId) === value) return v.blockId;
  }
  throw new ConsensusCoreError('no precommit carries the committed value', { round, value });
}

/**
 * The round inputs whose `upon` condition currently holds, in the order they are tried. The
 * round machine checks the remaining guards (step, "for the first time"); the first input
 * that fires wins and evaluation starts over.
 */
function* candidates(state: CoreState): Generator<RoundInput> {
  const th = thresholdsOf(state);
  const votes = state.votes;
  const rs = state.round;

  // Line 49: 2f+1 precommits for v in any round r decide v. Unlike the paper we do not wait for
  // the proposal of round r (CometBFT does not either): the precommits include one from a
  // correct validator, which precommitted v only after seeing the proposal and valid(v).
  for (const r of votes.rounds.keys()) {
    const value = committedValue(votes, r, th);
    if (value !== null) yield { kind: 'precommitValue', round: r, value: precommittedBlockId(votes, r, value) };
  }

  // Line 55: f+1 voting power of messages from a higher round.
  const skip = skipRoundTarget(votes, rs.round, th);
  if (skip !== null) yield { kind: 'skipRound', round: skip };

  const round = rs.round;
  const proposal = state.proposals.get(round);
  const value = proposal === undefined ? null : valueIdOf(proposal.blockId);
  const valid = value === null ? undefined : state.validity.get(value);

  if (proposal !== undefined && valid !== undefined) {
    if (proposal.polRound === NIL_ROUND) {
      yield { kind: 'proposal', value: proposal.blockId, valid }; // line 22
    } else if (hasQuorumFor(votes, proposal.polRound, SignedMsgType.Prevote, value!, th)) {
      yield { kind: 'proposalAndPolkaPrevious', value: proposal.blockId, polRound: proposal.polRound, valid }; // line 28
    }
  }
  if (hasQuorumAny(votes, round, SignedMsgType.Prevote, th)) yield { kind: 'polkaAny' }; // line 34
  if (proposal !== undefined && valid === true && hasQuorumFor(votes, round, SignedMsgType.Prevote, value!, th))
    yield { kind: 'proposalAndPolkaCurrent', value: proposal.blockId }; // line 36
  if (hasQuorumFor(votes, round, SignedMsgType.Prevote, NIL_VALUE, th)) yield { kind: 'polkaNil' }; // line 44
  if (hasQuorumAny(votes, round, SignedMsgType.Precommit, th)) yield { kind: 'precommitAny' }; // line 47
}

/** Bound on rules fired per input: each firing advances a step, a round or a flag. */
const MAX_FIRINGS = 10_000;

function evaluate(state: CoreState, effects: Effect[]): CoreState {
  for (let firings = 0; firings < MAX_FIRINGS; firings++) {
    if (state.round.decision !== null) return state;
    let fired: CoreState | null = null;
    for (const input of candidates(state)) {
      fired = applyRoundInput(state, input, effects);
      if (fired !== null) break;
    }
    if (fired === null) return state;
    state = fired;
  }
  throw new ConsensusCoreError('rule evaluation did not reach a fixpoint', { height: state.height, round: state.round.round });
}

/** StartRound(round) (line 11) with proposer(h_p, round) known. */
function startRound(state: CoreState, round: Round, effects: Effect[]): CoreState {
  return applyRoundInput(state, { kind: 'newRound', round, isProposer: isOwnProposer(state, round) }, effects) ?? state;
}

/**
 * Apply one round input and turn its outputs into effects. Returns null when the input did not
 * fire (same state, no outputs). `commit` is the proof to use for a decision (catch-up).
 */
function applyRoundInput(state: CoreState, input: RoundInput, effects: Effect[], commit?: Commit): CoreState | null {
  const t = applyRound(state.round, input, state.config.mutations);
  if (t.state === state.round && t.outputs.length === 0) return null;
  let next: CoreState = t.state === state.round ? state : { ...state, round: t.state };
  for (const out of t.outputs) next = perform(next, out, effects, commit);
  return next;
}

function perform(state: CoreState, out: RoundOutput, effects: Effect[], commit: Commit | undefined): CoreState {
  const h = state.height;
  switch (out.kind) {
    case 'getValue':
      effects.push({ kind: 'requestValue', height: h, round: out.round, timeoutMs: timeoutDuration(state.config.timeouts, 'propose', out.round) });
      return state;
    case 'proposal': {
      if (state.ownIndex === null) return state;
      effects.push({ kind: 'publishProposal', height: h, round: out.round, polRound: out.polRound, blockId: out.value });
      const value = valueIdOf(out.value);
      return state.validity.has(value) ? state : { ...state, validity: new Map(state.validity).set(value, true) };
    }
    case 'vote':
      if (state.ownIndex !== null) effects.push({ kind: 'publishVote', type: out.type, height: h, round: out.round, blockId: out.value });
      return state;
    case 'scheduleTimeout':
      effects.push({ kind: 'scheduleTimeout', timeout: out.timeout, height: h, round: out.round, durationMs: timeoutDuration(state.config.timeouts, out.timeout, out.round) });
      return state;
    case 'startRound':
      return startRound(state, out.round, effects);
    case 'decide': {
      const proof = commit ?? buildCommit(state.validators!, state.votes, out.round, out.value);
      const decision: Decision = { height: h, round: out.round, blockId: out.value, commit: proof };
      effects.push({ kind: 'decide', height: h, round: out.round, blockId: out.value, commit: proof });
      return { ...state, decision };
    }
  }
}
