// The round state machine: Algorithm 1 of "The latest gossip on BFT consensus" (Buchman, Kwon,
// Milosevic, 2018) for one height, as a pure function `applyRound(state, input) → transition`.
//
// It knows nothing of votes or proposals as messages: the driver (driver.ts) counts votes,
// stores proposals and decides which of the paper's `upon` conditions currently hold; it then
// feeds the matching RoundInput here. Each input names the line whose condition holds, and
// this module checks the rest of the rule's guard (step, round, "for the first time") and
// performs its body. An input whose guard fails returns the very same state object and no
// outputs, which is how the driver knows a rule did not fire.
import { ZERO_BLOCK_ID, SignedMsgType, type BlockID } from '../../codec/index.js';
import { NIL_ROUND, stepAtLeast, valueIdOf, type CoreMutations, type Round, type Step, type TimeoutKind, type VoteType } from './types.js';

export interface RoundState {
  readonly height: number;
  /** round_p (line 3). */
  readonly round: Round;
  /** step_p (line 4). */
  readonly step: Step;
  /** lockedValue_p / lockedRound_p (lines 6–7). */
  readonly lockedValue: BlockID | null;
  readonly lockedRound: Round;
  /** validValue_p / validRound_p (lines 8–9). */
  readonly validValue: BlockID | null;
  readonly validRound: Round;
  /** decision_p[h_p] (line 5), with the round whose precommits decided it. */
  readonly decision: { readonly round: Round; readonly value: BlockID } | null;
  /** getValue() (line 18) was called in this round and has not returned yet. */
  readonly awaitingValue: boolean;
  // "for the first time" guards of lines 34, 36 and 47, for the current round only.
  readonly prevoteTimeoutScheduled: boolean;
  readonly polkaCurrentDone: boolean;
  readonly precommitTimeoutScheduled: boolean;
}

/** The state at the start of a height, before StartRound(0) (lines 2–9, 53). */
export function initialRoundState(height: number): RoundState {
  return {
    height,
    round: NIL_ROUND,
    step: 'propose',
    lockedValue: null,
    lockedRound: NIL_ROUND,
    validValue: null,
    validRound: NIL_ROUND,
    decision: null,
    awaitingValue: false,
    prevoteTimeoutScheduled: false,
    polkaCurrentDone: false,
    precommitTimeoutScheduled: false,
  };
}

export type RoundInput =
  /** StartRound(round) (line 11); the driver says whether we are proposer(h_p, round). */
  | { readonly kind: 'newRound'; readonly round: Round; readonly isProposer: boolean }
  /** getValue() returned (line 18) with the value the application built. */
  | { readonly kind: 'proposeValue'; readonly round: Round; readonly value: BlockID }
  /** Line 22: proposal with polRound −1 from the proposer of round_p; `valid` is valid(v). */
  | { readonly kind: 'proposal'; readonly value: BlockID; readonly valid: boolean }
  /** Line 28: proposal with 0 ≤ vr < round_p and 2f+1 prevotes for v in vr. */
  | { readonly kind: 'proposalAndPolkaPrevious'; readonly value: BlockID; readonly polRound: Round; readonly valid: boolean }
  /** Line 34: 2f+1 prevotes for anything in round_p. */
  | { readonly kind: 'polkaAny' }
  /** Line 36: a valid proposal for v in round_p and 2f+1 prevotes for v in round_p. */
  | { readonly kind: 'proposalAndPolkaCurrent'; readonly value: BlockID }
  /** Line 44: 2f+1 prevotes for nil in round_p. */
  | { readonly kind: 'polkaNil' }
  /** Line 47: 2f+1 precommits for anything in round_p. */
  | { readonly kind: 'precommitAny' }
  /** Line 49: 2f+1 precommits for v in some round r (see driver.ts on the proposal). */
  | { readonly kind: 'precommitValue'; readonly round: Round; readonly value: BlockID }
  /** Line 55: f+1 messages from a round higher than round_p. */
  | { readonly kind: 'skipRound'; readonly round: Round }
  /** Lines 57, 61, 65: a timeout scheduled for (height, round) elapsed. */
  | { readonly kind: 'timeout'; readonly timeout: TimeoutKind; readonly height: number; readonly round: Round };

export type RoundOutput =
  /** Line 18: ask the application for a value to propose. */
  | { readonly kind: 'getValue'; readonly round: Round }
  /** Line 19: broadcast ⟨PROPOSAL, h_p, round_p, v, validRound_p⟩. */
  | { readonly kind: 'proposal'; readonly round: Round; readonly value: BlockID; readonly polRound: Round }
  /** Broadcast a prevote or precommit; ZERO_BLOCK_ID is nil. */
  | { readonly kind: 'vote'; readonly type: VoteType; readonly round: Round; readonly value: BlockID }
  | { readonly kind: 'scheduleTimeout'; readonly timeout: TimeoutKind; readonly round: Round }
  /** Lines 56 and 67: the driver must run StartRound(round) (it knows the proposer). */
  | { readonly kind: 'startRound'; readonly round: Round }
  /** Line 51. */
  | { readonly kind: 'decide'; readonly round: Round; readonly value: BlockID };

export interface RoundTransition {
  readonly state: RoundState;
  readonly outputs: readonly RoundOutput[];
}

const NONE: readonly RoundOutput[] = Object.freeze([]);

function unchanged(state: RoundState): RoundTransition {
  return { state, outputs: NONE };
}

function sameValue(a: BlockID | null, b: BlockID): boolean {
  return a !== null && valueIdOf(a) === valueIdOf(b);
}

function vote(type: VoteType, round: Round, value: BlockID | null): RoundOutput {
  return { kind: 'vote', type, round, value: value ?? ZERO_BLOCK_ID };
}

/**
 * Apply one input. `mutations` are the deliberate faults of the test harness (types.ts); with
 * none set this is Algorithm 1.
 */
export function applyRound(state: RoundState, input: RoundInput, mutations: CoreMutations = {}): RoundTransition {
  // After a decision (line 51) nothing more happens at this height: the shell moves on.
  if (state.decision !== null) return unchanged(state);

  switch (input.kind) {
    case 'newRound': {
      // Lines 11–21. A round never goes backwards (StartRound is only called with a higher round).
      if (input.round <= state.round) return unchanged(state);
      const next: RoundState = {
        ...state,
        round: input.round, // line 12
        step: 'propose', // line 13
        awaitingValue: false,
        prevoteTimeoutScheduled: false,
        polkaCurrentDone: false,
        precommitTimeoutScheduled: false,
      };
      // Deviation from line 21 (as in CometBFT): the proposer schedules timeoutPropose too,
      // because getValue() is asynchronous here and may never return in time.
      const timeout: RoundOutput = { kind: 'scheduleTimeout', timeout: 'propose', round: input.round };
      if (!input.isProposer) return { state: next, outputs: [timeout] }; // line 21
      if (state.validValue !== null && !mutations.noValidValue) {
        // Lines 15–16, 19: re-propose the value we saw a polka for, with its round as POL.
        return { state: next, outputs: [{ kind: 'proposal', round: input.round, value: state.validValue, polRound: state.validRound }, timeout] };
      }
      // Line 18: getValue(); the proposal is broadcast when the value arrives (proposeValue).
      return { state: { ...next, awaitingValue: true }, outputs: [{ kind: 'getValue', round: input.round }, timeout] };
    }

    case 'proposeValue': {
      // Line 19 for a value from getValue(). validRound_p is −1 here: validValue_p was nil.
      if (!state.awaitingValue || input.round !== state.round || state.step !== 'propose') return unchanged(state);
      return {
        state: { ...state, awaitingValue: false },
        outputs: [{ kind: 'proposal', round: state.round, value: input.value, polRound: NIL_ROUND }],
      };
    }

    case 'proposal': {
      // Lines 22–27.
      if (state.step !== 'propose') return unchanged(state);
      const acceptable = mutations.skipLockCheck || state.lockedRound === NIL_ROUND || sameValue(state.lockedValue, input.value); // line 23
      const target = input.valid && acceptable ? input.value : null;
      return { state: { ...state, step: 'prevote', awaitingValue: false }, outputs: [vote(SignedMsgType.Prevote, state.round, target)] }; // 24/26, 27
    }

    case 'proposalAndPolkaPrevious': {
      // Lines 28–33.
      if (state.step !== 'propose' || input.polRound < 0 || input.polRound >= state.round) return unchanged(state);
      const acceptable = mutations.skipLockCheck || state.lockedRound <= input.polRound || sameValue(state.lockedValue, input.value); // line 29
      const target = input.valid && acceptable ? input.value : null;
      return { state: { ...state, step: 'prevote', awaitingValue: false }, outputs: [vote(SignedMsgType.Prevote, state.round, target)] }; // 30/32, 33
    }

    case 'polkaAny': {
      // Lines 34–35.
      if (state.step !== 'prevote' || state.prevoteTimeoutScheduled) return unchanged(state);
      return { state: { ...state, prevoteTimeoutScheduled: true }, outputs: [{ kind: 'scheduleTimeout', timeout: 'prevote', round: state.round }] };
    }

    case 'proposalAndPolkaCurrent': {
      // Lines 36–43. valid(v) is checked by the driver (it only sends this for a valid v).
      if (!stepAtLeast(state.step, 'prevote') || state.polkaCurrentDone) return unchanged(state);
      const base: RoundState = { ...state, polkaCurrentDone: true, validValue: input.value, validRound: state.round }; // lines 42–43
      if (state.step !== 'prevote') return { state: base, outputs: NONE }; // line 37 false: only lines 42–43
      return {
        state: { ...base, lockedValue: input.value, lockedRound: state.round, step: 'precommit' }, // lines 38–39, 41
        outputs: [vote(SignedMsgType.Precommit, state.round, input.value)], // line 40
      };
    }

    case 'polkaNil': {
      // Lines 44–46.
      if (state.step !== 'prevote') return unchanged(state);
      return { state: { ...state, step: 'precommit' }, outputs: [vote(SignedMsgType.Precommit, state.round, null)] };
    }

    case 'precommitAny': {
      // Lines 47–48.
      if (state.precommitTimeoutScheduled) return unchanged(state);
      return { state: { ...state, precommitTimeoutScheduled: true }, outputs: [{ kind: 'scheduleTimeout', timeout: 'precommit', round: state.round }] };
    }

    case 'precommitValue': {
      // Lines 49–54. The height change and the reset of line 53 are the shell's StartHeight.
      return {
        state: { ...state, step: 'commit', decision: { round: input.round, value: input.value }, awaitingValue: false },
        outputs: [{ kind: 'decide', round: input.round, value: input.value }],
      };
    }

    case 'skipRound': {
      // Lines 55–56.
      if (input.round <= state.round) return unchanged(state);
      return { state, outputs: [{ kind: 'startRound', round: input.round }] };
    }

    case 'timeout': {
      if (input.height !== state.height || input.round !== state.round) return unchanged(state); // lines 58, 62, 66
      switch (input.timeout) {
        case 'propose': // lines 57–60
          if (state.step !== 'propose') return unchanged(state);
          return { state: { ...state, step: 'prevote', awaitingValue: false }, outputs: [vote(SignedMsgType.Prevote, state.round, null)] };
        case 'prevote': // lines 61–64
          if (state.step !== 'prevote') return unchanged(state);
          return { state: { ...state, step: 'precommit' }, outputs: [vote(SignedMsgType.Precommit, state.round, null)] };
        case 'precommit': // lines 65–67
          return { state, outputs: [{ kind: 'startRound', round: state.round + 1 }] };
      }
    }
  }
}
