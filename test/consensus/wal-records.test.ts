// The WAL's record format: a catch-up commit keeps its vote extensions across a restart (the
// record is what replay feeds back), and a record without them reads back without them.
import { describe, expect, test } from 'vitest';
import { BlockIDFlag, DecodeError, ProtoWriter, type ExtendedCommit } from '../../src/codec/index.js';
import { decodeWalRecord, encodeWalRecord } from '../../src/consensus/wal-records.js';
import { signCommit, testGenesis, testKeys } from '../helpers/chain.js';
import { stateFromGenesis } from '../../src/execution/index.js';

const keys = testKeys(3);
const genesis = testGenesis(keys);
const vals = stateFromGenesis(genesis).validators;
const blockId = { hash: new Uint8Array(32).fill(7), partSetHeader: { total: 1, hash: new Uint8Array(32).fill(8) } };
const commit = signCommit(genesis.chainId, vals, keys.slice(0, 2), 5, 1, blockId, { seconds: 1_700_000_000, nanos: 0 });

describe('WAL records', () => {
  test('a commit record round-trips with and without its extended form', () => {
    const extended: ExtendedCommit = {
      height: commit.height,
      round: commit.round,
      blockId,
      extendedSignatures: commit.signatures.map((s, i) => ({
        ...s,
        extension: s.blockIdFlag === BlockIDFlag.Commit ? Uint8Array.of(i, 1, 2) : new Uint8Array(0),
        extensionSignature: s.blockIdFlag === BlockIDFlag.Commit ? new Uint8Array(64).fill(i + 1) : new Uint8Array(0),
      })),
    };
    expect(decodeWalRecord(encodeWalRecord({ kind: 'commit', commit, extended }))).toEqual({ kind: 'commit', commit, extended });
    const plain = decodeWalRecord(encodeWalRecord({ kind: 'commit', commit }));
    expect(plain).toEqual({ kind: 'commit', commit });
    expect('extended' in plain).toBe(false);
  });

  test('a commit record without its commit is a decode error, not a record', () => {
    const bytes = new ProtoWriter().uint32(1, 8).finish(); // kind 8 = commit, no field 11
    expect(() => decodeWalRecord(bytes)).toThrow(DecodeError);
  });
});
