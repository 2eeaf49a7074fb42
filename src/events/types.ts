// The event types a node publishes (tm.event values) and the JSON envelope names CometBFT gives
// their data (`{"type":"tendermint/event/…","value":…}`).
export const EVENT_TYPES = [
  'NewBlock',
  'NewBlockHeader',
  'NewBlockEvents',
  'NewEvidence',
  'Tx',
  'ValidatorSetUpdates',
  'NewRound',
  'NewRoundStep',
  'CompleteProposal',
  'Vote',
  'Lock',
  'Polka',
  'ValidBlock',
  'TimeoutPropose',
  'TimeoutWait',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Data envelope per event type: round-state-only events share "RoundState", as in CometBFT. */
export const DATA_TYPE: Readonly<Record<EventType, string>> = {
  NewBlock: 'tendermint/event/NewBlock',
  NewBlockHeader: 'tendermint/event/NewBlockHeader',
  NewBlockEvents: 'tendermint/event/NewBlockEvents',
  NewEvidence: 'tendermint/event/NewEvidence',
  Tx: 'tendermint/event/Tx',
  ValidatorSetUpdates: 'tendermint/event/ValidatorSetUpdates',
  NewRound: 'tendermint/event/NewRound',
  NewRoundStep: 'tendermint/event/RoundState',
  CompleteProposal: 'tendermint/event/CompleteProposal',
  Vote: 'tendermint/event/Vote',
  Lock: 'tendermint/event/RoundState',
  Polka: 'tendermint/event/RoundState',
  ValidBlock: 'tendermint/event/RoundState',
  TimeoutPropose: 'tendermint/event/RoundState',
  TimeoutWait: 'tendermint/event/RoundState',
};

/** CometBFT's RoundStepType numbering (dump_consensus_state, "height/round/step"). */
export const ROUND_STEP_NUMBER = {
  NewHeight: 1,
  NewRound: 2,
  Propose: 3,
  Prevote: 4,
  PrevoteWait: 5,
  Precommit: 6,
  PrecommitWait: 7,
  Commit: 8,
} as const;
