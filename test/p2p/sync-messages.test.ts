// The sync protocols' wire messages: round trips, and malformed or out-of-bounds input decoded
// as a DecodeError (never a crash, never a wrong value).
import { describe, expect, test } from 'vitest';
import { DecodeError, ProtoWriter, SignedMsgType, encodeBlock, encodeCommit, type Block, type ExtendedCommit, type Vote } from '../../src/codec/index.js';
import { EMPTY_COMMIT, makeBlock, stateFromGenesis } from '../../src/execution/index.js';
import {
  MAX_BLOCKS_PER_REQUEST,
  decodeBlocksRequest,
  decodeBlocksResponse,
  decodeStatusRequest,
  decodeStatusResponse,
  decodeVotesRequest,
  decodeVotesResponse,
  encodeBlocksRequest,
  encodeBlocksResponse,
  encodeStatusRequest,
  encodeStatusResponse,
  encodeVotesRequest,
  encodeVotesResponse,
  type SyncedBlock,
} from '../../src/p2p/index.js';
import { blockParts, headerHash } from '../../src/types/index.js';
import { signCommit, testGenesis, testKeys } from '../helpers/chain.js';

const keys = testKeys(4);
const genesis = testGenesis(keys, { chainId: 'sync-msg-chain' });
const state = stateFromGenesis(genesis);
const time = { seconds: genesis.genesisTime.seconds + 1, nanos: 0 };

/** Block h of a fake chain (only its height and txs matter here) with a commit signed by all four. */
function synced(h: number, txs: Uint8Array[] = [], extended = false): SyncedBlock {
  const block: Block = makeBlock(state, h, txs, EMPTY_COMMIT, [], keys[0]!.pubKey.address, time);
  const blockId = { hash: headerHash(block.header), partSetHeader: blockParts(block).header };
  const commit = signCommit(genesis.chainId, state.validators, keys, h, 0, blockId, time);
  const extendedCommit: ExtendedCommit | null = extended
    ? { height: commit.height, round: commit.round, blockId: commit.blockId, extendedSignatures: commit.signatures.map((s) => ({ ...s, extension: new Uint8Array([1, 2, 3]), extensionSignature: new Uint8Array(64).fill(7) })) }
    : null;
  return { block, commit, extendedCommit };
}

const decodeErr = (fn: () => unknown): DecodeError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof DecodeError) return e;
    throw e;
  }
  throw new Error('expected a DecodeError');
};

describe('status', () => {
  test('round trips, empty store included', () => {
    decodeStatusRequest(encodeStatusRequest());
    expect(encodeStatusRequest().length).toBeGreaterThan(0);
    expect(decodeStatusResponse(encodeStatusResponse({ base: 3, height: 40 }))).toEqual({ base: 3, height: 40 });
    const empty = encodeStatusResponse({ base: 0, height: 0 });
    expect(empty.length).toBeGreaterThan(0);
    expect(decodeStatusResponse(empty)).toEqual({ base: 0, height: 0 });
  });

  test('rejects base above height and a half-empty store', () => {
    decodeErr(() => decodeStatusResponse(new ProtoWriter().int64(1, 5).int64(2, 4).finish()));
    decodeErr(() => decodeStatusResponse(new ProtoWriter().int64(2, 4).finish()));
    decodeErr(() => decodeStatusResponse(new ProtoWriter().int64(1, -1).int64(2, 4).finish()));
    decodeErr(() => decodeStatusResponse(new Uint8Array([0xff, 0xff])));
  });
});

describe('blocks by range', () => {
  test('request round trip and bounds', () => {
    expect(decodeBlocksRequest(encodeBlocksRequest({ from: 7, count: 20 }))).toEqual({ from: 7, count: 20 });
    decodeErr(() => decodeBlocksRequest(encodeBlocksRequest({ from: 7, count: MAX_BLOCKS_PER_REQUEST + 1 })));
    decodeErr(() => decodeBlocksRequest(new ProtoWriter().int64(2, 5).finish())); // no from
    decodeErr(() => decodeBlocksRequest(new ProtoWriter().int64(1, 5).finish())); // no count
  });

  test('response round trip with plain and extended commits, and "none"', () => {
    const bs = [synced(5, [new Uint8Array([1])]), synced(6, [], true), synced(7)];
    const { bytes, count } = encodeBlocksResponse(bs);
    expect(count).toBe(3);
    const back = decodeBlocksResponse(bytes, { from: 5, count: 10 });
    expect(back).toEqual(bs);
    const none = encodeBlocksResponse([]);
    expect(none.count).toBe(0);
    expect(decodeBlocksResponse(none.bytes, { from: 5, count: 10 })).toEqual([]);
  });

  test('the server stops at the soft byte bound, but always sends one block', () => {
    const big = new Uint8Array(10_000).fill(9);
    const bs = [synced(1, [big]), synced(2, [big]), synced(3, [big])];
    const { bytes, count } = encodeBlocksResponse(bs, 15_000);
    expect(count).toBe(1);
    expect(decodeBlocksResponse(bytes, { from: 1, count: 3 })).toHaveLength(1);
    expect(encodeBlocksResponse(bs, 1).count).toBe(1);
  });

  test('rejects wrong heights, too many blocks, a missing commit, and garbage', () => {
    const { bytes } = encodeBlocksResponse([synced(5), synced(6)]);
    expect(decodeErr(() => decodeBlocksResponse(bytes, { from: 4, count: 10 })).message).toMatch(/expected block 4, got 5/);
    expect(decodeErr(() => decodeBlocksResponse(bytes, { from: 5, count: 1 })).message).toMatch(/more than the 1 blocks/);
    const b = synced(5);
    const noCommit = new ProtoWriter().repeatedElement(1, new ProtoWriter().message(1, encodeBlock(b.block)).finish()).finish();
    expect(decodeErr(() => decodeBlocksResponse(noCommit, { from: 5, count: 1 })).message).toMatch(/missing commit/);
    const otherCommit = new ProtoWriter().repeatedElement(1, new ProtoWriter().message(1, encodeBlock(b.block)).message(2, encodeCommit(synced(6).commit)).finish()).finish();
    expect(decodeErr(() => decodeBlocksResponse(otherCommit, { from: 5, count: 1 })).message).toMatch(/commit is for height 6/);
    decodeErr(() => decodeBlocksResponse(new Uint8Array(0), { from: 5, count: 1 }));
    decodeErr(() => decodeBlocksResponse(bytes.subarray(0, bytes.length - 3), { from: 5, count: 10 }));
    decodeErr(() => decodeBlocksResponse(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f]), { from: 5, count: 10 }));
  });

  test('random byte flips never crash the decoder', () => {
    const { bytes } = encodeBlocksResponse([synced(5, [new Uint8Array([4, 5, 6])]), synced(6, [], true)]);
    let seed = 42;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 300; i++) {
      const mutated = bytes.slice();
      for (let k = 0; k < 3; k++) mutated[rand(mutated.length)] = rand(256);
      try {
        decodeBlocksResponse(mutated, { from: 5, count: 2 });
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    }
  });
});

describe('votes of a round', () => {
  const vote = (type: SignedMsgType, round: number, i: number): Vote => ({
    type,
    height: 9,
    round,
    blockId: { hash: new Uint8Array(32).fill(1), partSetHeader: { total: 1, hash: new Uint8Array(32).fill(2) } },
    timestamp: time,
    validatorAddress: keys[i]!.pubKey.address,
    validatorIndex: i,
    signature: new Uint8Array(64).fill(3),
    extension: new Uint8Array(0),
    extensionSignature: new Uint8Array(0),
  });

  test('request and response round trips (round 0 included), and "none"', () => {
    expect(decodeVotesRequest(encodeVotesRequest({ height: 9, round: 0 }))).toEqual({ height: 9, round: 0 });
    expect(decodeVotesRequest(encodeVotesRequest({ height: 9, round: 3 }))).toEqual({ height: 9, round: 3 });
    const votes = [vote(SignedMsgType.Prevote, 1, 0), vote(SignedMsgType.Precommit, 1, 2)];
    expect(decodeVotesResponse(encodeVotesResponse(votes), { height: 9, round: 1 })).toEqual(votes);
    expect(decodeVotesResponse(encodeVotesResponse([]), { height: 9, round: 1 })).toEqual([]);
  });

  test('rejects votes of another height or round, invalid votes, and a negative round', () => {
    const bytes = encodeVotesResponse([vote(SignedMsgType.Prevote, 1, 0)]);
    expect(decodeErr(() => decodeVotesResponse(bytes, { height: 9, round: 2 })).message).toMatch(/not the 9\/2/);
    expect(decodeErr(() => decodeVotesResponse(bytes, { height: 8, round: 1 })).message).toMatch(/not the 8\/1/);
    const invalid = encodeVotesResponse([{ ...vote(SignedMsgType.Prevote, 1, 0), validatorAddress: new Uint8Array(3) }]);
    decodeErr(() => decodeVotesResponse(invalid, { height: 9, round: 1 }));
    decodeErr(() => decodeVotesRequest(new ProtoWriter().int64(1, 9).int32(2, -1).finish()));
    decodeErr(() => decodeVotesRequest(new ProtoWriter().int32(2, 1).finish()));
  });
});
