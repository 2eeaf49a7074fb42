export { ValidationError } from './errors.js';
export { headerHash, BLOCK_PROTOCOL } from './header.js';
export { voteSignBytes, proposalSignBytes, voteExtensionSignBytes, commitSigSignBytes } from './vote.js';
export { txHash, txHashOnce, dataHash, evidenceHash, commitHash, resultsHash, consensusParamsHash } from './block.js';
export { PartSet, partsFromBytes, blockParts, BLOCK_PART_SIZE, MAX_BLOCK_PARTS } from './part-set.js';
export {
  validateBlockID,
  validateHeader,
  validateVote,
  validateProposal,
  validateBlock,
  isCompleteBlockID,
  MAX_CHAIN_ID_LEN,
  MAX_VOTE_EXTENSION_SIZE,
} from './validate.js';
export {
  ValidatorSet,
  ValidatorSetError,
  compareBytes,
  MAX_TOTAL_VOTING_POWER,
  PRIORITY_WINDOW_SIZE_FACTOR,
  type ValidatorUpdate,
} from './validator-set.js';
export {
  CommitVerifyError,
  verifyCommit,
  verifyCommitLight,
  verifyCommitLightTrusting,
  validateCommitBasic,
  validateCommitSig,
  blockIdEquals,
  badVoteExtension,
  extendedCommitToCommit,
  type CommitVerifyErrorKind,
  type Fraction,
  type PowerTally,
} from './commit-verify.js';
