import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBlock, encodePart, type Block, type Part } from '../../src/codec/index.js';
import { BlockStore, createLevelDb } from '../../src/store/index.js';
import { PartSet } from '../../src/types/part-set.js';
import { makeBlock, makeChain, storeError, tempDir, type ChainBlock } from './fixtures.js';

let dir: { path: string; remove: () => Promise<void> };
const open: BlockStore[] = [];

async function openStore(name: string, opts: { pruneBatchSize?: number } = {}): Promise<BlockStore> {
  const store = new BlockStore({ path: join(dir.path, name), ...opts });
  await store.open();
  open.push(store);
  return store;
}

async function closeStore(store: BlockStore): Promise<void> {
  await store.close();
  open.splice(open.indexOf(store), 1);
}

// Deep equality on 40 KB typed arrays is slow in expect(); compare canonical encodings instead
// (decode ∘ encode is the identity, tested in test/codec).
function expectBlock(actual: Block | undefined, expected: Block): void {
  expect(actual).toBeDefined();
  expect(actual!.header).toEqual(expected.header);
  expect(Buffer.from(encodeBlock(actual!)).equals(encodeBlock(expected))).toBe(true);
}

function expectPart(actual: Part | undefined, expected: Part): void {
  expect(actual).toBeDefined();
  expect(Buffer.from(encodePart(actual!)).equals(encodePart(expected))).toBe(true);
}

beforeAll(async () => {
  dir = await tempDir('block-store');
});

afterAll(async () => {
  for (const s of [...open]) await s.close();
  await dir.remove();
});

describe('block store', () => {
  const chain = makeChain(1, 8, 3); // blocks 3 and 6 span 2 parts
  const at = (h: number): ChainBlock => chain[h - 1]!;

  it('starts empty', async () => {
    const store = await openStore('empty');
    expect([store.base(), store.height(), store.size()]).toEqual([0, 0, 0]);
    expect(await store.loadBlock(1)).toBeUndefined();
    expect(await store.loadBlockMeta(1)).toBeUndefined();
    expect(await store.loadBlockByHash(at(1).blockId.hash)).toBeUndefined();
    expect(await store.loadCommit(1)).toBeUndefined();
    await closeStore(store);
  });

  it('round-trips blocks, metas, parts and commits, and keeps them across a reopen', async () => {
    const store = await openStore('roundtrip');
    for (const b of chain.slice(0, 7)) {
      const meta = await store.saveBlock(b.block, b.seenCommit, b.parts);
      expect(meta.blockId).toEqual(b.blockId);
    }
    // The last one with vote extensions, its parts cut by the store.
    await store.saveBlockWithExtendedCommit(at(8).block, at(8).extendedCommit);
    expect(at(3).parts.parts.length).toBe(2);

    const check = async (s: BlockStore): Promise<void> => {
      expect([s.base(), s.height(), s.size()]).toEqual([1, 8, 8]);
      for (const b of chain) {
        const h = b.block.header.height;
        expectBlock(await s.loadBlock(h), b.block);
        expectBlock(await s.loadBlockByHash(b.blockId.hash), b.block);
        const meta = await s.loadBlockMeta(h);
        expect(meta).toEqual({ blockId: b.blockId, blockSize: encodeBlock(b.block).length, header: b.block.header, numTxs: b.block.data.txs.length });
        expect(await s.loadBlockMetaByHash(b.blockId.hash)).toEqual(meta);
        // Parts come back with proofs a peer can verify against the block id alone.
        const set = new PartSet(b.blockId.partSetHeader);
        for (let i = 0; i < b.parts.parts.length; i++) {
          const part = await s.loadBlockPart(h, i);
          expectPart(part, b.parts.parts[i]!);
          expect(set.add(part!)).toBe(true);
        }
        expectBlock(set.assembleBlock(), b.block);
        expect(await s.loadBlockPart(h, b.parts.parts.length)).toBeUndefined();
        expect(await s.loadSeenCommit(h)).toEqual(b.seenCommit);
        // Canonical commit of h = the last commit carried by block h+1; the latest height falls back to the seen commit.
        if (h < 8) {
          expect(await s.loadBlockCommit(h)).toEqual(at(h + 1).block.lastCommit);
          expect(await s.loadCommit(h)).toEqual(at(h + 1).block.lastCommit);
        } else {
          expect(await s.loadBlockCommit(h)).toBeUndefined();
          expect(await s.loadCommit(h)).toEqual(b.seenCommit);
        }
      }
      expect(await s.loadExtendedCommit(8)).toEqual(at(8).extendedCommit);
      expect(await s.loadExtendedCommit(7)).toBeUndefined();
      expect(await s.loadBlock(9)).toBeUndefined();
      expect(await s.loadBlockByHash(new Uint8Array(32))).toBeUndefined();
    };
    await check(store);
    await closeStore(store);
    await check(await openStore('roundtrip'));
  });

  it('refuses gaps, wrong commits and inconsistent parts, leaving the store untouched', async () => {
    const store = await openStore('checks');
    await store.saveBlock(at(1).block, at(1).seenCommit);
    expect((await storeError(store.saveBlock(at(3).block, at(3).seenCommit))).code).toBe('not_contiguous');
    expect((await storeError(store.saveBlock(at(1).block, at(1).seenCommit))).code).toBe('not_contiguous');
    expect((await storeError(store.saveBlock(at(2).block, at(3).seenCommit))).code).toBe('mismatch');
    const otherBlock = { ...at(2).seenCommit, blockId: at(1).blockId };
    const e = await storeError(store.saveBlock(at(2).block, otherBlock));
    expect(e.code).toBe('mismatch');
    expect(e.message).toMatch(/another block/);
    expect((await storeError(store.saveBlock(at(3).block, at(3).seenCommit, { header: at(3).parts.header, parts: at(3).parts.parts.slice(0, 1) }))).code).toBe(
      'not_contiguous',
    );
    expect([store.base(), store.height()]).toEqual([1, 1]);
    await store.saveBlock(at(2).block, at(2).seenCommit);
    expect(
      (await storeError(store.saveBlock(at(3).block, at(3).seenCommit, { header: at(3).parts.header, parts: at(3).parts.parts.slice(0, 1) }))).code,
    ).toBe('mismatch');
    expect(store.height()).toBe(2);
  });

  it('a save that fails while its batch is being built writes nothing (all or nothing)', async () => {
    const store = await openStore('atomic');
    await store.saveBlock(at(1).block, at(1).seenCommit);
    await store.saveBlock(at(2).block, at(2).seenCommit);
    // Valid for every check, but its round does not fit int32: encoding fails after the parts
    // and meta are already in the batch.
    const badSeen = { ...at(3).seenCommit, round: 2 ** 40 };
    await expect(store.saveBlock(at(3).block, badSeen)).rejects.toThrow(RangeError);
    await closeStore(store);
    const reopened = await openStore('atomic');
    expect([reopened.base(), reopened.height()]).toEqual([1, 2]);
    expect(await reopened.loadBlockMeta(3)).toBeUndefined();
    expect(await reopened.loadBlockPart(3, 0)).toBeUndefined();
    expect(await reopened.loadBlockByHash(at(3).blockId.hash)).toBeUndefined();
    // The commit for 2 carried by block 3 was not written either: height 2 still serves its seen commit.
    expect(await reopened.loadCommit(2)).toEqual(at(2).seenCommit);
    await reopened.saveBlock(at(3).block, at(3).seenCommit);
    expectBlock(await reopened.loadBlock(3), at(3).block);
  });

  it('starts at any height (after state sync) and keeps a standalone seen commit', async () => {
    const store = await openStore('statesync');
    const synced = makeChain(100, 102);
    await store.saveSeenCommit(99, synced[0]!.block.lastCommit!);
    for (const b of synced) await store.saveBlock(b.block, b.seenCommit);
    expect([store.base(), store.height(), store.size()]).toEqual([100, 102, 3]);
    expect(await store.loadCommit(99)).toEqual(synced[0]!.block.lastCommit);
    expect((await storeError(store.saveSeenCommit(5, synced[0]!.seenCommit))).code).toBe('mismatch');
  });

  it('prunes below a retain height in bounded batches, moving the base', async () => {
    const store = await openStore('prune', { pruneBatchSize: 16 });
    const long = makeChain(1, 30, 4);
    for (const b of long) await store.saveBlock(b.block, b.seenCommit);
    expect((await storeError(store.pruneBlocks(0))).code).toBe('invalid_argument');
    expect((await storeError(store.pruneBlocks(31))).code).toBe('invalid_argument');

    expect(await store.pruneBlocks(21)).toBe(20);
    expect([store.base(), store.height(), store.size()]).toEqual([21, 30, 10]);
    expect(await store.pruneBlocks(10)).toBe(0);
    for (let h = 1; h <= 20; h++) {
      expect(await store.loadBlock(h)).toBeUndefined();
      expect(await store.loadBlockMeta(h)).toBeUndefined();
      expect(await store.loadBlockPart(h, 0)).toBeUndefined();
      expect(await store.loadSeenCommit(h)).toBeUndefined();
      expect(await store.loadBlockCommit(h)).toBeUndefined();
      expect(await store.loadBlockByHash(long[h - 1]!.blockId.hash)).toBeUndefined();
    }
    for (let h = 21; h <= 30; h++) expectBlock(await store.loadBlock(h), long[h - 1]!.block);
    // Saving continues while and after pruning.
    const next = makeBlock(31, long[29]);
    await Promise.all([store.pruneBlocks(25), store.saveBlock(next.block, next.seenCommit)]);
    await closeStore(store);
    const reopened = await openStore('prune');
    expect([reopened.base(), reopened.height()]).toEqual([25, 31]);
    expect(await reopened.loadBlock(24)).toBeUndefined();
    expectBlock(await reopened.loadBlock(31), next.block);
    // Everything below the base is gone from the database itself.
    expect(await reopened.pruneBlocks(31)).toBe(6);
    expect(reopened.size()).toBe(1);
  });

  it('deletes the latest block (rollback) down to empty', async () => {
    const store = await openStore('rollback');
    for (const b of chain.slice(0, 3)) await store.saveBlock(b.block, b.seenCommit);
    await store.deleteLatestBlock();
    expect([store.base(), store.height()]).toEqual([1, 2]);
    expect(await store.loadBlock(3)).toBeUndefined();
    // Without block 3 the canonical commit for 2 is gone; its seen commit serves.
    expect(await store.loadCommit(2)).toEqual(at(2).seenCommit);
    await store.saveBlock(at(3).block, at(3).seenCommit);
    expect(await store.loadCommit(2)).toEqual(at(3).block.lastCommit);
    await store.deleteLatestBlock();
    await store.deleteLatestBlock();
    await store.deleteLatestBlock();
    expect([store.base(), store.height()]).toEqual([0, 0]);
    expect((await storeError(store.deleteLatestBlock())).code).toBe('not_found');
    await store.saveBlock(at(5).block, at(5).seenCommit);
    expect([store.base(), store.height()]).toEqual([5, 5]);
  });

  it('reports damaged records and use when closed as StoreErrors', async () => {
    const store = await openStore('closed');
    await closeStore(store);
    expect(() => store.height()).not.toThrow();
    expect((await storeError(store.loadBlock(1))).code).toBe('not_open');
    // A stored commit that does not decode is 'corrupt', naming the height.
    const s2 = await openStore('corrupt');
    await s2.saveBlock(at(1).block, at(1).seenCommit);
    await closeStore(s2);
    const raw = createLevelDb(join(dir.path, 'corrupt'));
    await raw.open();
    await raw.put(new Uint8Array([...new TextEncoder().encode('SC:'), 0, 0, 0, 0, 0, 0, 0, 1]), new Uint8Array([0x0a, 0xff]));
    await raw.close();
    const s3 = await openStore('corrupt');
    const e = await storeError(s3.loadSeenCommit(1));
    expect(e.code).toBe('corrupt');
    expect(e.context).toMatchObject({ height: 1 });
    expectBlock(await s3.loadBlock(1), at(1).block);
  });
});
