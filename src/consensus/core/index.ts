// The consensus core: Tendermint (Algorithm 1 of "The latest gossip on BFT consensus") as a
// pure state machine. `apply(state, input)` returns the next state and the effects the shell
// must perform; nothing here does I/O, reads a clock, draws randomness or awaits.
export { apply, initialState, proposerOf, type CoreOptions, type CoreState, type Decision, type IgnoreReason, type Transition } from './driver.js';
export type { Input, StartHeightInput, ProposalInput, VoteInput, TimeoutInput, ValueReadyInput, ValueValidatedInput, CommitInput } from './inputs.js';
export type {
  Effect,
  PublishProposalEffect,
  PublishVoteEffect,
  ScheduleTimeoutEffect,
  RequestValueEffect,
  ValidateValueEffect,
  DecideEffect,
  EvidenceEffect,
} from './effects.js';
export {
  ConsensusCoreError,
  DEFAULT_LIMITS,
  DEFAULT_TIMEOUTS,
  NIL_ROUND,
  timeoutDuration,
  valueIdOf,
  type CoreConfig,
  type CoreLimits,
  type CoreMutations,
  type Round,
  type Step,
  type TimeoutConfig,
  type TimeoutKind,
  type ValidatorSetView,
  type ValidatorView,
  type ValueId,
  type VoteType,
} from './types.js';
export { checkCommit, buildCommit, type CommitCheckError } from './commit.js';
export { duplicateVoteEvidence } from './vote-keeper.js';
