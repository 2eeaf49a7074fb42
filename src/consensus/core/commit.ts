// Commits as the core makes and checks them. Making: the precommits of the deciding round in
// validator-set order, as CometBFT's VoteSet.MakeExtendedCommit does. Checking (catch-up): the
// structural and voting-power part of VerifyCommit; the signatures were checked by the shell
// (types/commit-verify.ts) before the commit reached the core.
import { BlockIDFlag, GO_ZERO_TIME, SignedMsgType, isZeroBlockID, type BlockID, type Commit, type CommitSig } from '../../codec/index.js';
import { bytesEqual } from '../../crypto/index.js';
import { tallyOf, type Thresholds, type VoteKeeper } from './vote-keeper.js';
import { NIL_VALUE, valueIdOf, type Round, type ValidatorSetView } from './types.js';

const EMPTY = new Uint8Array(0);

const ABSENT: CommitSig = Object.freeze({ blockIdFlag: BlockIDFlag.Absent, validatorAddress: EMPTY, timestamp: GO_ZERO_TIME, signature: EMPTY });

/**
 * One CommitSig per validator, in set order: COMMIT for a precommit for `blockId` (even if
 * the validator also precommitted something else), else NIL for a nil precommit, else ABSENT.
 */
export function buildCommit(validators: ValidatorSetView, keeper: VoteKeeper, round: Round, blockId: BlockID): Commit {
  const votes = tallyOf(keeper, round, SignedMsgType.Precommit).votes;
  const target = valueIdOf(blockId);
  const signatures: CommitSig[] = [];
  for (let i = 0; i < validators.size; i++) {
    const mine = votes.get(i) ?? [];
    const v = mine.find((x) => valueIdOf(x.blockId) === target) ?? mine.find((x) => valueIdOf(x.blockId) === NIL_VALUE);
    if (v === undefined) signatures.push(ABSENT);
    else signatures.push({ blockIdFlag: valueIdOf(v.blockId) === target ? BlockIDFlag.Commit : BlockIDFlag.Nil, validatorAddress: v.validatorAddress, timestamp: v.timestamp, signature: v.signature });
  }
  return { height: keeper.height, round, blockId, signatures };
}

export type CommitCheckError = 'wrong_height' | 'nil_block' | 'wrong_signature_count' | 'address_mismatch' | 'not_enough_power';

/**
 * Whether `commit` decides `height` for the given validator set: one signature slot per
 * validator, present slots carry that validator's address, and the COMMIT slots hold more
 * than two thirds of the power. Returns the reason it does not, or null.
 */
export function checkCommit(validators: ValidatorSetView, height: number, commit: Commit, th: Thresholds): CommitCheckError | null {
  if (commit.height !== height) return 'wrong_height';
  if (isZeroBlockID(commit.blockId)) return 'nil_block';
  if (commit.signatures.length !== validators.size) return 'wrong_signature_count';
  let power = 0n;
  for (let i = 0; i < commit.signatures.length; i++) {
    const sig = commit.signatures[i]!;
    if (sig.blockIdFlag === BlockIDFlag.Absent) continue;
    const val = validators.getByIndex(i);
    if (val === undefined || !bytesEqual(val.address, sig.validatorAddress)) return 'address_mismatch';
    if (sig.blockIdFlag === BlockIDFlag.Commit) power += val.votingPower;
  }
  return th.commitQuorum(power, validators.totalVotingPower()) ? null : 'not_enough_power';
}
