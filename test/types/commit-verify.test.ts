import { describe, expect, test } from 'vitest';
import { BlockIDFlag, SignedMsgType, ZERO_BLOCK_ID, type BlockID, type Commit, type CommitSig } from '../../src/codec/index.js';
import { nobleBackend, nodeBackend, PrivKey, sha256 } from '../../src/crypto/index.js';
import {
  CommitVerifyError,
  verifyCommit,
  verifyCommitLight,
  verifyCommitLightTrusting,
  type CommitVerifyErrorKind,
} from '../../src/types/commit-verify.js';
import { ValidatorSet } from '../../src/types/validator-set.js';
import { voteSignBytes } from '../../src/types/vote.js';

const CHAIN = 'commit-verify-test';
const HEIGHT = 7;
const ROUND = 1;
const TIME = { seconds: 1_700_000_000, nanos: 123 };
const h32 = (s: string): Uint8Array => sha256(new TextEncoder().encode(s));
const BLOCK: BlockID = { hash: h32('block'), partSetHeader: { total: 1, hash: h32('parts') } };
const OTHER_BLOCK: BlockID = { hash: h32('other'), partSetHeader: { total: 1, hash: h32('other parts') } };

// Fresh keys each run, as the brief asks: nothing may depend on particular key bytes.
const keys = Array.from({ length: 8 }, () => PrivKey.generate());

/** A set of the first `powers.length` keys, and the keys in set order. */
function setOf(powers: bigint[], offset = 0): { vals: ValidatorSet; signers: PrivKey[] } {
  const ks = keys.slice(offset, offset + powers.length);
  const vals = ValidatorSet.fromValidators(ks.map((k, i) => ({ address: k.pubKey.address, pubKey: k.pubKey.bytes, votingPower: powers[i]!, proposerPriority: 0n })));
  const byAddress = new Map(ks.map((k) => [Buffer.from(k.pubKey.address).toString('hex'), k]));
  return { vals, signers: vals.validators.map((v) => byAddress.get(Buffer.from(v.address).toString('hex'))!) };
}

type Flag = 'commit' | 'nil' | 'absent';

function sign(key: PrivKey, flag: Exclude<Flag, 'absent'>, blockId: BlockID = BLOCK, height = HEIGHT): CommitSig {
  const bytes = voteSignBytes(CHAIN, { type: SignedMsgType.Precommit, height, round: ROUND, blockId: flag === 'commit' ? blockId : ZERO_BLOCK_ID, timestamp: TIME });
  return {
    blockIdFlag: flag === 'commit' ? BlockIDFlag.Commit : BlockIDFlag.Nil,
    validatorAddress: key.pubKey.address,
    timestamp: TIME,
    signature: key.sign(bytes),
  };
}

const ABSENT: CommitSig = { blockIdFlag: BlockIDFlag.Absent, validatorAddress: new Uint8Array(0), timestamp: { seconds: 0, nanos: 0 }, signature: new Uint8Array(0) };

/** A commit for BLOCK where signer i votes flags[i]. */
function commitOf(signers: PrivKey[], flags: Flag[]): Commit {
  return { height: HEIGHT, round: ROUND, blockId: BLOCK, signatures: signers.map((k, i) => (flags[i] === 'absent' ? ABSENT : sign(k, flags[i] as 'commit' | 'nil'))) };
}

function kindOf(f: () => unknown): CommitVerifyErrorKind | 'none' {
  try {
    f();
    return 'none';
  } catch (e) {
    if (e instanceof CommitVerifyError) return e.kind;
    throw e;
  }
}

describe('verifyCommit / verifyCommitLight', () => {
  const both = [
    ['verifyCommit', verifyCommit],
    ['verifyCommitLight', verifyCommitLight],
  ] as const;

  for (const [name, verify] of both) {
    describe(name, () => {
      test('more than 2/3 passes, exactly 2/3 fails (powers 1,1,1)', () => {
        const { vals, signers } = setOf([1n, 1n, 1n]);
        expect(verify(CHAIN, vals, BLOCK, HEIGHT, commitOf(signers, ['commit', 'commit', 'commit']))).toMatchObject({ tallied: 3n, needed: 2n });
        expect(kindOf(() => verify(CHAIN, vals, BLOCK, HEIGHT, commitOf(signers, ['commit', 'commit', 'absent'])))).toBe('not_enough_power');
      });

      test('threshold with unequal powers (2,2,1,1: 4 of 6 fails, 5 passes)', () => {
        const { vals, signers } = setOf([2n, 2n, 1n, 1n]);
        // set order: the two power-2 validators first
        expect(kindOf(() => verify(CHAIN, vals, BLOCK, HEIGHT, commitOf(signers, ['commit', 'commit', 'absent', 'absent'])))).toBe('not_enough_power');
        expect(kindOf(() => verify(CHAIN, vals, BLOCK, HEIGHT, commitOf(signers, ['commit', 'commit', 'commit', 'absent'])))).toBe('none');
      });

      test('nil votes are not counted', () => {
        const { vals, signers } = setOf([1n, 1n, 1n]);
        expect(kindOf(() => verify(CHAIN, vals, BLOCK, HEIGHT, commitOf(signers, ['commit', 'commit', 'nil'])))).toBe('not_enough_power');
      });

      test('a signature over another block is invalid', () => {
        const { vals, signers } = setOf([1n, 1n, 1n]);
        const commit = commitOf(signers, ['commit', 'commit', 'commit']);
        const forged = { ...commit, signatures: [sign(signers[0]!, 'commit', OTHER_BLOCK), ...commit.signatures.slice(1)] };
        expect(kindOf(() => verify(CHAIN, vals, BLOCK, HEIGHT, forged))).toBe('invalid_signature');
        // and one signed for another chain
        const other = { ...commit, signatures: [...commit.signatures] };
        other.signatures[1] = { ...other.signatures[1]!, signature: signers[1]!.sign(voteSignBytes('other-chain', { type: SignedMsgType.Precommit, height: HEIGHT, round: ROUND, blockId: BLOCK, timestamp: TIME })) };
        expect(kindOf(() => verify(CHAIN, vals, BLOCK, HEIGHT, other))).toBe('invalid_signature');
      });

      test('signatures out of set order are rejected', () => {
        const { vals, signers } = setOf([3n, 2n, 1n]);
        const commit = commitOf(signers, ['commit', 'commit', 'commit']);
        const swapped = { ...commit, signatures: [commit.signatures[1]!, commit.signatures[0]!, commit.signatures[2]!] };
        expect(kindOf(() => verify(CHAIN, vals, BLOCK, HEIGHT, swapped))).toBe('address_mismatch');
      });

      test('height, block id and signature count must match', () => {
        const { vals, signers } = setOf([1n, 1n, 1n]);
        const commit = commitOf(signers, ['commit', 'commit', 'commit']);
        expect(kindOf(() => verify(CHAIN, vals, BLOCK, HEIGHT + 1, commit))).toBe('wrong_height');
        expect(kindOf(() => verify(CHAIN, vals, OTHER_BLOCK, HEIGHT, commit))).toBe('wrong_block_id');
        expect(kindOf(() => verify(CHAIN, vals, { ...BLOCK, partSetHeader: { ...BLOCK.partSetHeader, total: 2 } }, HEIGHT, commit))).toBe('wrong_block_id');
        expect(kindOf(() => verify(CHAIN, vals, BLOCK, HEIGHT, { ...commit, signatures: commit.signatures.slice(0, 2) }))).toBe('wrong_signature_count');
      });

      test('a malformed present signature is rejected before verification', () => {
        const { vals, signers } = setOf([1n, 1n, 1n]);
        const commit = commitOf(signers, ['commit', 'commit', 'commit']);
        const empty = { ...commit, signatures: [{ ...commit.signatures[0]!, signature: new Uint8Array(0) }, ...commit.signatures.slice(1)] };
        expect(kindOf(() => verify(CHAIN, vals, BLOCK, HEIGHT, empty))).toBe('invalid_commit_sig');
      });

      test('node and noble backends agree', () => {
        const { vals, signers } = setOf([1n, 1n, 1n, 1n]);
        const commit = commitOf(signers, ['commit', 'nil', 'commit', 'commit']);
        expect(verify(CHAIN, vals, BLOCK, HEIGHT, commit, nodeBackend)).toEqual(verify(CHAIN, vals, BLOCK, HEIGHT, commit, nobleBackend));
      });
    });
  }

  test('verifyCommit checks every signature; verifyCommitLight stops at +2/3', () => {
    const { vals, signers } = setOf([1n, 1n, 1n, 1n]);
    const commit = commitOf(signers, ['commit', 'commit', 'commit', 'commit']);
    const badLast = { ...commit, signatures: [...commit.signatures.slice(0, 3), { ...commit.signatures[3]!, signature: new Uint8Array(64).fill(7) }] };
    expect(kindOf(() => verifyCommit(CHAIN, vals, BLOCK, HEIGHT, badLast))).toBe('invalid_signature');
    expect(verifyCommitLight(CHAIN, vals, BLOCK, HEIGHT, badLast)).toEqual({ tallied: 3n, needed: 2n });
  });

  test('verifyCommit verifies nil votes too; verifyCommitLight ignores them', () => {
    const { vals, signers } = setOf([1n, 1n, 1n, 1n]);
    const commit = commitOf(signers, ['commit', 'commit', 'commit', 'nil']);
    const badNil = { ...commit, signatures: [...commit.signatures.slice(0, 3), { ...commit.signatures[3]!, signature: new Uint8Array(64).fill(7) }] };
    expect(verifyCommit(CHAIN, vals, BLOCK, HEIGHT, commit)).toEqual({ tallied: 3n, needed: 2n });
    expect(kindOf(() => verifyCommit(CHAIN, vals, BLOCK, HEIGHT, badNil))).toBe('invalid_signature');
    expect(kindOf(() => verifyCommitLight(CHAIN, vals, BLOCK, HEIGHT, badNil))).toBe('none');
  });
});

describe('verifyCommitLightTrusting', () => {
  const THIRD = { numerator: 1n, denominator: 3n };

  test('counts signers of another set by address; needs more than the trust level', () => {
    // Signing set: keys 0..3, power 1 each, all commit.
    const { signers } = setOf([1n, 1n, 1n, 1n]);
    const commit = commitOf(signers, ['commit', 'commit', 'commit', 'commit']);
    // Trusted set: keys 2..7 (power 1 each: total 6, 1/3 = 2). Keys 2 and 3 signed: exactly 1/3.
    const trusted = setOf([1n, 1n, 1n, 1n, 1n, 1n], 2).vals;
    expect(kindOf(() => verifyCommitLightTrusting(CHAIN, trusted, commit, THIRD))).toBe('not_enough_power');
    // Trusted set keys 1..6 (total 6): keys 1, 2, 3 signed = 3 > 2.
    expect(verifyCommitLightTrusting(CHAIN, setOf([1n, 1n, 1n, 1n, 1n, 1n], 1).vals, commit, THIRD)).toEqual({ tallied: 3n, needed: 2n });
  });

  test('signers unknown to the trusted set are skipped, even with bad signatures', () => {
    const { signers } = setOf([1n, 1n, 1n]);
    const commit = commitOf(signers, ['commit', 'commit', 'commit']);
    const garbled = { ...commit, signatures: commit.signatures.map((s) => ({ ...s, signature: new Uint8Array(64).fill(9) })) };
    expect(kindOf(() => verifyCommitLightTrusting(CHAIN, setOf([1n, 1n], 5).vals, garbled, THIRD))).toBe('not_enough_power');
  });

  test('a validator counted twice is a double vote', () => {
    const { vals, signers } = setOf([1n, 10n]);
    const small = signers.find((k) => vals.getByAddress(k.pubKey.address)!.validator.votingPower === 1n)!;
    // needed = 11/3 = 3: the first vote (1) is not enough, so the second is reached.
    const commit: Commit = { height: HEIGHT, round: ROUND, blockId: BLOCK, signatures: [sign(small, 'commit'), sign(small, 'commit')] };
    expect(kindOf(() => verifyCommitLightTrusting(CHAIN, vals, commit, THIRD))).toBe('double_vote');
  });

  test('a bad signature from a trusted validator is invalid', () => {
    const { vals, signers } = setOf([1n, 1n, 1n]);
    const commit = commitOf(signers, ['commit', 'commit', 'commit']);
    const bad = { ...commit, signatures: [{ ...commit.signatures[0]!, signature: new Uint8Array(64).fill(3) }, ...commit.signatures.slice(1)] };
    expect(kindOf(() => verifyCommitLightTrusting(CHAIN, vals, bad, THIRD))).toBe('invalid_signature');
  });

  test('trust level must have a non-zero denominator and not overflow', () => {
    const { vals, signers } = setOf([1n, 1n, 1n]);
    const commit = commitOf(signers, ['commit', 'commit', 'commit']);
    expect(kindOf(() => verifyCommitLightTrusting(CHAIN, vals, commit, { numerator: 1n, denominator: 0n }))).toBe('invalid_trust_level');
    expect(kindOf(() => verifyCommitLightTrusting(CHAIN, vals, commit, { numerator: 1n << 62n, denominator: 1n << 62n }))).toBe('invalid_trust_level');
    // "More than" the level: at 1/1 even a full commit is not enough; at 2/3 it is.
    expect(kindOf(() => verifyCommitLightTrusting(CHAIN, vals, commit, { numerator: 1n, denominator: 1n }))).toBe('not_enough_power');
    expect(kindOf(() => verifyCommitLightTrusting(CHAIN, vals, commit, { numerator: 2n, denominator: 3n }))).toBe('none');
  });

  test('errors carry context', () => {
    const { vals, signers } = setOf([1n, 1n, 1n]);
    try {
      verifyCommitLight(CHAIN, vals, BLOCK, HEIGHT, commitOf(signers, ['commit', 'absent', 'absent']));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CommitVerifyError);
      expect((e as CommitVerifyError).context).toEqual({ tallied: 1n, needed: 2n });
    }
  });
});
