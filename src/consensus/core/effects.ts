// What the core asks the shell to do. The core never signs, sends, waits or stores: the shell
// performs these and feeds the outcomes back as inputs (a signed own vote or proposal comes
// back as a vote/proposal input, a value as valueReady, a verdict as valueValidated, an
// elapsed timer as timeout).
import type { BlockID, Commit, DuplicateVoteEvidence } from '../../codec/index.js';
import type { Round, TimeoutKind, VoteType } from './types.js';

/** Sign ⟨PROPOSAL, height, round, blockId, polRound⟩ (through the privval signer) and broadcast it. */
export interface PublishProposalEffect {
  readonly kind: 'publishProposal';
  readonly height: number;
  readonly round: Round;
  readonly polRound: Round;
  readonly blockId: BlockID;
}

/**
 * Sign a prevote/precommit (the shell adds the timestamp, address and index) and broadcast
 * it. A zero BlockID is a nil vote.
 */
export interface PublishVoteEffect {
  readonly kind: 'publishVote';
  readonly type: VoteType;
  readonly height: number;
  readonly round: Round;
  readonly blockId: BlockID;
}

export interface ScheduleTimeoutEffect {
  readonly kind: 'scheduleTimeout';
  readonly timeout: TimeoutKind;
  readonly height: number;
  readonly round: Round;
  readonly durationMs: number;
}

/** getValue(): ask the application to build a block to propose (PrepareProposal). */
export interface RequestValueEffect {
  readonly kind: 'requestValue';
  readonly height: number;
  readonly round: Round;
  /** The propose timeout of this round: a value arriving later is useless. */
  readonly timeoutMs: number;
}

/** valid(v): ask the application's ProcessProposal verdict on a proposed block. */
export interface ValidateValueEffect {
  readonly kind: 'validateValue';
  readonly height: number;
  readonly round: Round;
  readonly blockId: BlockID;
}

/** decision_p[h_p] = v: commit `blockId` at `height` with `commit` as its proof. */
export interface DecideEffect {
  readonly kind: 'decide';
  readonly height: number;
  readonly round: Round;
  readonly blockId: BlockID;
  readonly commit: Commit;
}

/** A validator signed two different votes for one (height, round, type). */
export interface EvidenceEffect {
  readonly kind: 'evidence';
  readonly evidence: DuplicateVoteEvidence;
}

export type Effect =
  | PublishProposalEffect
  | PublishVoteEffect
  | ScheduleTimeoutEffect
  | RequestValueEffect
  | ValidateValueEffect
  | DecideEffect
  | EvidenceEffect;
