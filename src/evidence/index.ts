// The evidence pool: duplicate-vote evidence verified as CometBFT 0.38 verifies it, kept pending
// (persisted) until a block commits it, then remembered as committed until it expires.
export { EvidenceError, type EvidenceErrorKind } from './errors.js';
export { evidenceKey, validateEvidenceBasic, verifyDuplicateVote, verifyEvidence, isExpired, type History } from './verify.js';
export {
  EvidencePool,
  DEFAULT_REBROADCAST_INTERVAL_MS,
  DEFAULT_MAX_BUFFERED_REPORTS,
  type EvidencePoolOptions,
  type EvidencePoolModules,
  type EvidenceLogger,
  type EvidenceListener,
  type AddResult,
} from './pool.js';
