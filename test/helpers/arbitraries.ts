// fast-check arbitraries for the canonical structures, shared by codec and types tests.
import fc from 'fast-check';
import {
  BlockIDFlag,
  SignedMsgType,
  type Block,
  type BlockID,
  type Commit,
  type CommitSig,
  type ConsensusParams,
  type ExecTxResult,
  type Header,
  type Part,
  type Proposal,
  type Timestamp,
  type Vote,
} from '../../src/codec/index.js';

export const hash = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 32, maxLength: 32 }));
export const hash32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
export const address = fc.uint8Array({ minLength: 20, maxLength: 20 });
export const signature = fc.uint8Array({ minLength: 64, maxLength: 64 });
export const height = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
export const round = fc.integer({ min: 0, max: 0x7fffffff });
export const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
export const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });

export const timestamp: fc.Arbitrary<Timestamp> = fc.record({
  seconds: fc.integer({ min: -62135596800, max: 253402300799 }),
  nanos: fc.integer({ min: 0, max: 999_999_999 }),
});

export const blockId: fc.Arbitrary<BlockID> = fc.record({
  hash,
  partSetHeader: fc.record({ total: fc.integer({ min: 0, max: 0xffffffff }), hash }),
});

export const header: fc.Arbitrary<Header> = fc.record({
  version: fc.record({ block: u64, app: u64 }),
  chainId: fc.string({ maxLength: 50 }),
  height: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  time: timestamp,
  lastBlockId: blockId,
  lastCommitHash: hash,
  dataHash: hash,
  validatorsHash: hash,
  nextValidatorsHash: hash,
  consensusHash: hash,
  appHash: fc.uint8Array({ maxLength: 40 }),
  lastResultsHash: hash,
  evidenceHash: hash,
  proposerAddress: fc.oneof(fc.constant(new Uint8Array(0)), address),
});

export const commitSig: fc.Arbitrary<CommitSig> = fc.record({
  blockIdFlag: fc.constantFrom(BlockIDFlag.Absent, BlockIDFlag.Commit, BlockIDFlag.Nil),
  validatorAddress: address,
  timestamp,
  signature,
});

export const commit: fc.Arbitrary<Commit> = fc.record({
  height,
  round,
  blockId,
  signatures: fc.array(commitSig, { maxLength: 8 }),
});

export const vote: fc.Arbitrary<Vote> = fc.record({
  type: fc.constantFrom(SignedMsgType.Prevote, SignedMsgType.Precommit),
  height,
  round,
  blockId,
  timestamp,
  validatorAddress: address,
  validatorIndex: fc.integer({ min: 0, max: 10_000 }),
  signature,
  extension: fc.uint8Array({ maxLength: 50 }),
  extensionSignature: fc.oneof(fc.constant(new Uint8Array(0)), signature),
});

export const proposal: fc.Arbitrary<Proposal> = fc.record({
  type: fc.constant(SignedMsgType.Proposal),
  height,
  round,
  polRound: fc.integer({ min: -1, max: 1000 }),
  blockId,
  timestamp,
  signature,
});

export const part: fc.Arbitrary<Part> = fc.record({
  index: fc.integer({ min: 0, max: 1600 }),
  bytes: fc.uint8Array({ maxLength: 200 }),
  proof: fc.record({
    total: fc.integer({ min: 0, max: 1601 }),
    index: fc.integer({ min: 0, max: 1600 }),
    leafHash: hash,
    aunts: fc.array(hash32, { maxLength: 11 }),
  }),
});

export const block: fc.Arbitrary<Block> = fc.record({
  header,
  data: fc.record({ txs: fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }) }),
  evidence: fc.array(
    fc.record({
      kind: fc.constant('duplicate_vote' as const),
      voteA: vote,
      voteB: vote,
      totalVotingPower: i64,
      validatorPower: i64,
      timestamp,
    }),
    { maxLength: 2 },
  ),
  lastCommit: fc.option(commit, { nil: null }),
});

export const consensusParams: fc.Arbitrary<ConsensusParams> = fc.record({
  block: fc.record({ maxBytes: i64, maxGas: i64 }),
  evidence: fc.record({
    maxAgeNumBlocks: i64,
    maxAgeDuration: fc.record({ seconds: fc.integer({ min: 0, max: 1e12 }), nanos: fc.integer({ min: 0, max: 999_999_999 }) }),
    maxBytes: i64,
  }),
  validator: fc.record({ pubKeyTypes: fc.array(fc.constantFrom('ed25519', 'secp256k1'), { maxLength: 2 }) }),
  version: fc.record({ app: u64 }),
  abci: fc.record({ voteExtensionsEnableHeight: i64 }),
});

const eventAttribute = fc.record({ key: fc.string({ maxLength: 20 }), value: fc.string({ maxLength: 40 }), index: fc.boolean() });
export const execTxResult: fc.Arbitrary<ExecTxResult> = fc.record({
  code: fc.integer({ min: 0, max: 0xffffffff }),
  data: fc.uint8Array({ maxLength: 30 }),
  log: fc.string({ maxLength: 30 }),
  info: fc.string({ maxLength: 30 }),
  gasWanted: i64,
  gasUsed: i64,
  events: fc.array(fc.record({ type: fc.string({ maxLength: 10 }), attributes: fc.array(eventAttribute, { maxLength: 3 }) }), { maxLength: 3 }),
  codespace: fc.string({ maxLength: 10 }),
});
