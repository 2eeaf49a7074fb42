// What the app is told about the last commit and about misbehaviour, built from the block and
// the validator set that signed it (CometBFT's buildLastCommitInfo / buildExtendedCommitInfo).
import { BlockIDFlag, type Commit, type Evidence, type ExtendedCommit } from '../codec/index.js';
import { MisbehaviorType, type CommitInfo, type ExtendedCommitInfo, type Misbehavior } from '../abci/index.js';
import type { ValidatorSet } from '../types/index.js';
import { ExecutionError } from './errors.js';

const EMPTY: Uint8Array = new Uint8Array(0);

/** The last commit as the app sees it: one entry per validator of the set that signed it. */
export function commitInfo(commit: Commit | null, validators: ValidatorSet): CommitInfo {
  if (!commit || commit.signatures.length === 0) return { round: commit?.round ?? 0, votes: [] };
  if (commit.signatures.length !== validators.size)
    throw new ExecutionError('store_inconsistent', `commit has ${commit.signatures.length} signatures for ${validators.size} validators`, { height: commit.height });
  return {
    round: commit.round,
    votes: validators.validators.map((v, i) => ({
      validator: { address: v.address, power: v.votingPower },
      blockIdFlag: commit.signatures[i]!.blockIdFlag,
    })),
  };
}

/** The last commit with vote extensions, for PrepareProposal (extensions only on COMMIT votes). */
export function extendedCommitInfo(commit: ExtendedCommit | null, validators: ValidatorSet): ExtendedCommitInfo {
  if (!commit || commit.extendedSignatures.length === 0) return { round: commit?.round ?? 0, votes: [] };
  if (commit.extendedSignatures.length !== validators.size)
    throw new ExecutionError('store_inconsistent', `extended commit has ${commit.extendedSignatures.length} signatures for ${validators.size} validators`, { height: commit.height });
  return {
    round: commit.round,
    votes: validators.validators.map((v, i) => {
      const s = commit.extendedSignatures[i]!;
      const withExt = s.blockIdFlag === BlockIDFlag.Commit;
      return {
        validator: { address: v.address, power: v.votingPower },
        voteExtension: withExt ? s.extension : EMPTY,
        extensionSignature: withExt ? s.extensionSignature : EMPTY,
        blockIdFlag: s.blockIdFlag,
      };
    }),
  };
}

export function misbehavior(evidence: readonly Evidence[]): Misbehavior[] {
  return evidence.map((e) => ({
    type: MisbehaviorType.DuplicateVote,
    validator: { address: e.voteA.validatorAddress, power: e.validatorPower },
    height: e.voteA.height,
    time: e.timestamp,
    totalVotingPower: e.totalVotingPower,
  }));
}
