// Commit verification as CometBFT 0.38 defines it (types/validation.go, restated): VerifyCommit
// (consensus: every present signature checked), VerifyCommitLight (stop once > 2/3) and
// VerifyCommitLightTrusting (a possibly different set, signatures matched by address, needs
// > trustLevel of that set). Signatures are checked one by one in commit order, as CometBFT's
// single-verification path does; see verifyCommitLightTrusting for where its batch path
// would report a different error kind.
import { BlockIDFlag, GO_ZERO_TIME, isZeroBlockID, type BlockID, type Commit, type CommitSig, type ExtendedCommit } from '../codec/index.js';
import { bytesEqual, nobleBackend, ADDRESS_SIZE, SIGNATURE_SIZE, type Ed25519Backend } from '../crypto/index.js';
import { commitSigSignBytes, voteExtensionSignBytes } from './vote.js';
import { MAX_INT64, type ValidatorSet } from './validator-set.js';

export type CommitVerifyErrorKind =
  | 'wrong_signature_count'
  | 'wrong_height'
  | 'wrong_block_id'
  | 'invalid_commit'
  | 'invalid_commit_sig'
  | 'address_mismatch'
  | 'invalid_signature'
  | 'not_enough_power'
  | 'double_vote'
  | 'invalid_trust_level';

export class CommitVerifyError extends Error {
  override readonly name = 'CommitVerifyError';
  constructor(
    readonly kind: CommitVerifyErrorKind,
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A trust level such as 1/3 (CometBFT's cmtmath.Fraction, uint64 parts). */
export interface Fraction {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/** What a successful verification counted (tallied > needed). */
export interface PowerTally {
  readonly tallied: bigint;
  readonly needed: bigint;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();


export function blockIdEquals(a: BlockID, b: BlockID): boolean {
  return bytesEqual(a.hash, b.hash) && a.partSetHeader.total === b.partSetHeader.total && bytesEqual(a.partSetHeader.hash, b.partSetHeader.hash);
}

/**
 * CommitSig.ValidateBasic. An absent signature carries no address, time or signature; the
 * "zero" time is accepted as Go's zero time or as the Unix epoch (protobuf's zero Timestamp,
 * which is what other implementations and this codebase's JSON reader produce).
 */
export function validateCommitSig(sig: CommitSig, index: number): void {
  const fail = (message: string, ctx: Record<string, unknown> = {}): never => {
    throw new CommitVerifyError('invalid_commit_sig', `commit signature #${index}: ${message}`, { index, ...ctx });
  };
  switch (sig.blockIdFlag) {
    case BlockIDFlag.Absent: {
      if (sig.validatorAddress.length !== 0) fail('absent signature has a validator address');
      const t = sig.timestamp;
      if (!(t.nanos === 0 && (t.seconds === 0 || t.seconds === GO_ZERO_TIME.seconds))) fail('absent signature has a timestamp');
      if (sig.signature.length !== 0) fail('absent signature has a signature');
      return;
    }
    case BlockIDFlag.Commit:
    case BlockIDFlag.Nil:
      if (sig.validatorAddress.length !== ADDRESS_SIZE) fail(`validator address must be ${ADDRESS_SIZE} bytes`, { size: sig.validatorAddress.length });
      if (sig.signature.length === 0) fail('signature is missing');
      if (sig.signature.length > SIGNATURE_SIZE) fail(`signature is longer than ${SIGNATURE_SIZE} bytes`, { size: sig.signature.length });
      return;
    default:
      fail(`unknown block id flag ${String(sig.blockIdFlag)}`, { flag: sig.blockIdFlag });
  }
}

/** Commit.ValidateBasic: structure only, no signatures checked. */
export function validateCommitBasic(commit: Commit): void {
  if (commit.height < 0) throw new CommitVerifyError('invalid_commit', 'commit height is negative', { height: commit.height });
  if (commit.round < 0) throw new CommitVerifyError('invalid_commit', 'commit round is negative', { round: commit.round });
  if (commit.height >= 1) {
    if (isZeroBlockID(commit.blockId)) throw new CommitVerifyError('invalid_commit', 'commit is for a nil block', { height: commit.height });
    if (commit.signatures.length === 0) throw new CommitVerifyError('invalid_commit', 'commit has no signatures', { height: commit.height });
    commit.signatures.forEach(validateCommitSig);
  }
}

function checkBasics(vals: ValidatorSet, commit: Commit, height: number, blockId: BlockID): void {
  if (vals.size !== commit.signatures.length)
    throw new CommitVerifyError('wrong_signature_count', `commit has ${commit.signatures.length} signatures for ${vals.size} validators`, {
      expected: vals.size,
      got: commit.signatures.length,
    });
  if (height !== commit.height) throw new CommitVerifyError('wrong_height', `commit is for height ${commit.height}, expected ${height}`, { expected: height, got: commit.height });
  if (!blockIdEquals(blockId, commit.blockId))
    throw new CommitVerifyError('wrong_block_id', 'commit is for a different block', { expected: hex(blockId.hash), got: hex(commit.blockId.hash) });
}

interface TallyRule {
  /** Signatures skipped entirely (not validated, not verified). */
  readonly ignore: (s: CommitSig) => boolean;
  /** Of the verified signatures, those whose power counts. */
  readonly count: (s: CommitSig) => boolean;
  /** Verify every non-ignored signature instead of stopping once enough power is reached. */
  readonly countAll: boolean;
  /** Commit and set are index-aligned; otherwise look validators up by address. */
  readonly byIndex: boolean;
}

function tally(chainId: string, vals: ValidatorSet, commit: Commit, needed: bigint, rule: TallyRule, backend: Ed25519Backend): PowerTally {
  let tallied = 0n;
  const seen = new Map<number, number>(); // validator index → commit index, for double votes
  for (let idx = 0; idx < commit.signatures.length; idx++) {
    const sig = commit.signatures[idx]!;
    if (rule.ignore(sig)) continue;
    validateCommitSig(sig, idx);

    let validatorIndex: number;
    if (rule.byIndex) {
      validatorIndex = idx;
      const expected = vals.getByIndex(idx)!;
      if (!bytesEqual(expected.address, sig.validatorAddress))
        throw new CommitVerifyError('address_mismatch', `commit signature #${idx} is from the wrong validator`, {
          index: idx,
          expected: hex(expected.address),
          got: hex(sig.validatorAddress),
        });
    } else {
      const found = vals.getByAddress(sig.validatorAddress);
      if (found === undefined) continue; // a signer outside the trusted set adds nothing
      validatorIndex = found.index;
      const first = seen.get(validatorIndex);
      if (first !== undefined)
        throw new CommitVerifyError('double_vote', `validator ${hex(sig.validatorAddress)} signed twice (#${first} and #${idx})`, {
          address: hex(sig.validatorAddress),
          first,
          second: idx,
        });
      seen.set(validatorIndex, idx);
    }
    const validator = vals.getByIndex(validatorIndex)!;

    if (!backend.verify(validator.pubKey, commitSigSignBytes(chainId, commit, idx), sig.signature))
      throw new CommitVerifyError('invalid_signature', `wrong signature (#${idx}) from ${hex(validator.address)}`, { index: idx, address: hex(validator.address) });

    if (rule.count(sig)) tallied += validator.votingPower;
    if (!rule.countAll && tallied > needed) return { tallied, needed };
  }
  if (tallied <= needed)
    throw new CommitVerifyError('not_enough_power', `insufficient voting power: got ${tallied}, needed more than ${needed}`, { tallied, needed });
  return { tallied, needed };
}

/**
 * Consensus-side check of a commit for `blockId` at `height` by `vals`: every non-absent
 * signature must be valid and from the validator at its index; the power of COMMIT votes must
 * exceed 2/3 of the total. Throws CommitVerifyError.
 */
export function verifyCommit(chainId: string, vals: ValidatorSet, blockId: BlockID, height: number, commit: Commit, backend: Ed25519Backend = nobleBackend): PowerTally {
  checkBasics(vals, commit, height, blockId);
  return tally(chainId, vals, commit, (vals.totalVotingPower() * 2n) / 3n, {
    ignore: (s) => s.blockIdFlag === BlockIDFlag.Absent,
    count: (s) => s.blockIdFlag === BlockIDFlag.Commit,
    countAll: true,
    byIndex: true,
  }, backend);
}

/**
 * Light-client check: only COMMIT votes are looked at, and verification stops as soon as
 * more than 2/3 of the power has been verified. Throws CommitVerifyError.
 */
export function verifyCommitLight(chainId: string, vals: ValidatorSet, blockId: BlockID, height: number, commit: Commit, backend: Ed25519Backend = nobleBackend): PowerTally {
  checkBasics(vals, commit, height, blockId);
  return tally(chainId, vals, commit, (vals.totalVotingPower() * 2n) / 3n, {
    ignore: (s) => s.blockIdFlag !== BlockIDFlag.Commit,
    count: () => true,
    countAll: false,
    byIndex: true,
  }, backend);
}

/**
 * Did more than `trustLevel` of `vals`' power sign `commit`? `vals` need not be the set that
 * signed (light-client skipping): signatures are matched by address, unknown signers are
 * skipped, a validator found twice is a double vote. Stops once enough power is verified.
 *
 * CometBFT 0.38 runs this through a batch verifier for ed25519 sets of two or more, which
 * tallies before verifying: when the power is insufficient AND a counted signature is bad, it
 * reports not-enough-power where this (its single-verification path, and tendermint-rs)
 * reports the bad signature.
 */
export function verifyCommitLightTrusting(chainId: string, vals: ValidatorSet, commit: Commit, trustLevel: Fraction, backend: Ed25519Backend = nobleBackend): PowerTally {
  if (trustLevel.denominator === 0n) throw new CommitVerifyError('invalid_trust_level', 'trust level has a zero denominator', { ...trustLevel });
  const product = vals.totalVotingPower() * trustLevel.numerator;
  // CometBFT computes this in int64 and refuses on overflow.
  if (product > MAX_INT64 || trustLevel.numerator < 0n || trustLevel.denominator < 0n)
    throw new CommitVerifyError('invalid_trust_level', 'trust level numerator too large (int64 overflow)', { ...trustLevel });
  return tally(chainId, vals, commit, product / trustLevel.denominator, {
    ignore: (s) => s.blockIdFlag !== BlockIDFlag.Commit,
    count: () => true,
    countAll: false,
    byIndex: false,
  }, backend);
}

/**
 * The index of the first COMMIT signature of `ext` whose vote extension is unsigned or whose
 * extension signature does not verify against the validator at that index; -1 when all do. With
 * vote extensions on, the next proposer hands these to PrepareProposal, so each one is checked.
 */
export function badVoteExtension(chainId: string, vals: ValidatorSet, ext: ExtendedCommit, backend: Ed25519Backend = nobleBackend): number {
  return ext.extendedSignatures.findIndex((sig, i) => {
    if (sig.blockIdFlag !== BlockIDFlag.Commit) return false;
    const v = vals.getByIndex(i);
    if (!v || sig.extensionSignature.length === 0) return true;
    return !backend.verify(v.pubKey, voteExtensionSignBytes(chainId, { extension: sig.extension, height: ext.height, round: ext.round }), sig.extensionSignature);
  });
}

/** ExtendedCommit → Commit: the same signatures without the extensions. */
export function extendedCommitToCommit(c: ExtendedCommit): Commit {
  return {
    height: c.height,
    round: c.round,
    blockId: c.blockId,
    signatures: c.extendedSignatures.map((s) => ({ blockIdFlag: s.blockIdFlag, validatorAddress: s.validatorAddress, timestamp: s.timestamp, signature: s.signature })),
  };
}
