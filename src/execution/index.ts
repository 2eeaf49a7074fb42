export { ExecutionError, type ExecutionErrorKind } from './errors.js';
export { medianTime } from './bft-time.js';
export { stateFromGenesis, updateState, nextHeight, updateConsensusParams, toValidatorUpdates } from './state.js';
export { validateBlockAgainstState, maxBlockBytes } from './validate.js';
export { commitInfo, extendedCommitInfo, misbehavior } from './abci-info.js';
export {
  BlockExecutor,
  makeBlock,
  maxDataBytes,
  txProtoSize,
  EMPTY_COMMIT,
  type ExecutorModules,
  type ExecutorLogger,
  type MempoolPort,
  type EvidencePort,
  type AppliedBlock,
  type ProposalBlock,
} from './executor.js';
export { handshake, type HandshakeModules, type HandshakeResult } from './handshake.js';
