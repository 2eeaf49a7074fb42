// What the shell feeds the core. Everything that crossed the network has been checked by the
// shell first: signatures (with the chain id in the sign-bytes), that the signer is in the
// validator set of the message's height, and message well-formedness. The core re-checks the
// cheap structural facts (height, round range, index ↔ address, proposer) because a
// deterministic core must not depend on the shell being right about them.
import type { BlockID, Commit, Proposal, Vote } from '../../codec/index.js';
import type { Round, TimeoutKind, ValidatorSetView } from './types.js';

/** Start (or restart) `height` with its validator set; lines 10 and 52–54. */
export interface StartHeightInput {
  readonly kind: 'startHeight';
  readonly height: number;
  readonly validatorSet: ValidatorSetView;
  /** The commit of height − 1 (null at the initial height); kept for the shell's block building. */
  readonly lastCommit: Commit | null;
}

/** A signed proposal; `signer` is the address whose key the shell verified the signature with. */
export interface ProposalInput {
  readonly kind: 'proposal';
  readonly proposal: Proposal;
  readonly signer: Uint8Array;
}

/** A signed prevote or precommit (including this node's own, fed back after signing). */
export interface VoteInput {
  readonly kind: 'vote';
  readonly vote: Vote;
}

/** A timeout the core scheduled has elapsed. */
export interface TimeoutInput {
  readonly kind: 'timeout';
  readonly timeout: TimeoutKind;
  readonly height: number;
  readonly round: Round;
}

/** The application built the value this node proposes in (height, round): getValue() returns. */
export interface ValueReadyInput {
  readonly kind: 'valueReady';
  readonly height: number;
  readonly round: Round;
  readonly blockId: BlockID;
}

/** The application's ProcessProposal verdict on a proposed value: valid(v). */
export interface ValueValidatedInput {
  readonly kind: 'valueValidated';
  readonly height: number;
  readonly blockId: BlockID;
  readonly valid: boolean;
}

/** A commit for this height from a peer (catch-up); its signatures were verified by the shell. */
export interface CommitInput {
  readonly kind: 'commit';
  readonly commit: Commit;
}

export type Input = StartHeightInput | ProposalInput | VoteInput | TimeoutInput | ValueReadyInput | ValueValidatedInput | CommitInput;
