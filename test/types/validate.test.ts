import { describe, expect, test } from 'vitest';
import { BlockIDFlag, SignedMsgType, ZERO_BLOCK_ID, type Block, type Commit, type Vote } from '../../src/codec/index.js';
import { PrivKey, sha256 } from '../../src/crypto/index.js';
import { commitHash, dataHash, evidenceHash } from '../../src/types/block.js';
import { ValidationError } from '../../src/types/errors.js';
import { validateBlock, validateProposal, validateVote } from '../../src/types/validate.js';
import { validateCommitBasic as validateCommit } from '../../src/types/commit-verify.js';

const key = PrivKey.fromSeed(sha256(new TextEncoder().encode('validate-test')));
const h32 = (s: string): Uint8Array => sha256(new TextEncoder().encode(s));
const blockId = { hash: h32('block'), partSetHeader: { total: 1, hash: h32('parts') } };
const t = { seconds: 1_700_000_000, nanos: 5 };

const commit: Commit = {
  height: 1,
  round: 0,
  blockId,
  signatures: [{ blockIdFlag: BlockIDFlag.Commit, validatorAddress: key.pubKey.address, timestamp: t, signature: new Uint8Array(64).fill(1) }],
};

function block(): Block {
  const txs = [new Uint8Array([1, 2]), new Uint8Array([3])];
  return {
    header: {
      version: { block: 11n, app: 0n },
      chainId: 'test',
      height: 2,
      time: t,
      lastBlockId: blockId,
      lastCommitHash: commitHash(commit),
      dataHash: dataHash(txs),
      validatorsHash: h32('vals'),
      nextValidatorsHash: h32('vals'),
      consensusHash: h32('params'),
      appHash: new Uint8Array(0),
      lastResultsHash: h32('results'),
      evidenceHash: evidenceHash([]),
      proposerAddress: key.pubKey.address,
    },
    data: { txs },
    evidence: [],
    lastCommit: commit,
  };
}

const vote: Vote = {
  type: SignedMsgType.Precommit,
  height: 2,
  round: 0,
  blockId,
  timestamp: t,
  validatorAddress: key.pubKey.address,
  validatorIndex: 0,
  signature: new Uint8Array(64).fill(2),
  extension: new Uint8Array(0),
  extensionSignature: new Uint8Array(0),
};

describe('stateless validation', () => {
  test('a well-formed block passes', () => {
    expect(() => validateBlock(block())).not.toThrow();
  });

  test.each([
    ['header.data_hash', (b: Block): Block => ({ ...b, data: { txs: [new Uint8Array([9])] } })],
    ['header.last_commit_hash', (b: Block): Block => ({ ...b, lastCommit: { ...commit, signatures: [{ ...commit.signatures[0]!, timestamp: { seconds: 1, nanos: 0 } }] } })],
    ['header.chain_id', (b: Block): Block => ({ ...b, header: { ...b.header, chainId: '' } })],
    ['header.version.block', (b: Block): Block => ({ ...b, header: { ...b.header, version: { block: 10n, app: 0n } } })],
    ['header.proposer_address', (b: Block): Block => ({ ...b, header: { ...b.header, proposerAddress: new Uint8Array(19) } })],
    ['header.validators_hash', (b: Block): Block => ({ ...b, header: { ...b.header, validatorsHash: new Uint8Array(0) } })],
    ['header.height', (b: Block): Block => ({ ...b, header: { ...b.header, height: 0 } })],
  ])('%s is checked', (field, mutate) => {
    try {
      validateBlock(mutate(block()));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).field).toBe(field);
    }
  });

  test('commits: nil block id, bad flags, absent sigs with data', () => {
    expect(() => validateCommit(commit)).not.toThrow();
    expect(() => validateCommit({ ...commit, blockId: ZERO_BLOCK_ID })).toThrow(/nil block/);
    expect(() => validateCommit({ ...commit, signatures: [{ ...commit.signatures[0]!, blockIdFlag: BlockIDFlag.Absent }] })).toThrow(/absent/);
    expect(() => validateCommit({ ...commit, signatures: [{ ...commit.signatures[0]!, blockIdFlag: 7 as BlockIDFlag }] })).toThrow(/flag/);
  });

  test('votes: extensions only on non-nil precommits, complete or nil block ids', () => {
    expect(() => validateVote(vote)).not.toThrow();
    expect(() => validateVote({ ...vote, blockId: ZERO_BLOCK_ID })).not.toThrow();
    expect(() => validateVote({ ...vote, type: SignedMsgType.Prevote, extension: new Uint8Array([1]) })).toThrow(/extensions/);
    expect(() => validateVote({ ...vote, blockId: { ...blockId, partSetHeader: { total: 0, hash: new Uint8Array(0) } } })).toThrow(/nil or complete/);
    expect(() => validateVote({ ...vote, type: SignedMsgType.Proposal })).toThrow(/not a vote/);
  });

  test('proposals: pol round below round', () => {
    const p = { type: SignedMsgType.Proposal, height: 2, round: 1, polRound: 0, blockId, timestamp: t, signature: new Uint8Array(64) };
    expect(() => validateProposal(p)).not.toThrow();
    expect(() => validateProposal({ ...p, polRound: 1 })).toThrow(/pol round/);
    expect(() => validateProposal({ ...p, polRound: -2 })).toThrow(/pol round/);
  });
});
