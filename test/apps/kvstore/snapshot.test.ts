import fc from 'fast-check';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { AbciError, ApplySnapshotChunkResult, OfferSnapshotResult, type Snapshot } from '../../../src/abci/index.js';
import {
  EMPTY_STATE_HASH,
  SNAPSHOT_FORMAT,
  SnapshotDecoder,
  SnapshotFormatError,
  encodeSnapshot,
  type Entry,
  type KVStoreApp,
} from '../../../src/apps/kvstore/index.js';
import { sha256 } from '../../../src/crypto/index.js';
import { Scratch, dec, enc, hex, runBlock } from './helpers.js';

const SEED = 0x5a45;
const scratch = new Scratch();
afterEach(() => scratch.cleanup());

async function* from(entries: readonly Entry[]): AsyncGenerator<Entry> {
  for (const e of entries) yield e;
}

async function chunksOf(height: number, entries: readonly Entry[], chunkSize: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of encodeSnapshot(height, from(entries), chunkSize)) out.push(c);
  return out;
}

function decodeAll(height: number, chunks: Uint8Array[]): Entry[] {
  const d = new SnapshotDecoder(height);
  const out = chunks.flatMap((c) => d.push(c));
  d.finish();
  return out;
}

describe('snapshot format 1', () => {
  test('round trip for any sorted state and any chunk size; chunks are full except the last', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.uint8Array({ maxLength: 300 })), { selector: ([k]) => hex(k), maxLength: 30 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        async (pairs, chunkSize, height) => {
          const entries = [...pairs].sort(([a], [b]) => Buffer.compare(a, b));
          const chunks = await chunksOf(height, entries, chunkSize);
          expect(chunks.length).toBeGreaterThanOrEqual(1);
          chunks.slice(0, -1).forEach((c) => expect(c.length).toBe(chunkSize));
          expect(chunks.at(-1)!.length).toBeGreaterThan(0);
          expect(decodeAll(height, chunks).map(([k, v]) => [hex(k), hex(v)])).toEqual(entries.map(([k, v]) => [hex(k), hex(v)]));
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  test('the decoder refuses what a lying producer could send', async () => {
    const good = await chunksOf(7, [[enc('ka'), enc('1')], [enc('kb'), enc('2')]], 1000);
    const stream = good[0]!;
    const expectBad = (height: number, chunks: Uint8Array[], msg: RegExp) => {
      const err = (() => {
        try {
          decodeAll(height, chunks);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(SnapshotFormatError);
      expect((err as Error).message).toMatch(msg);
    };
    expectBad(8, good, /height in the stream differs/);
    expectBad(7, [Uint8Array.of(0x58, ...stream.subarray(1))], /bad magic/);
    expectBad(7, [stream.subarray(0, stream.length - 2)], /truncated/);
    expectBad(7, [stream, Uint8Array.of(0)], /data after the end/);
    // the two entries swapped: keys out of order
    const header = stream.subarray(0, 13);
    const e1 = Uint8Array.of(2, ...enc('ka'), 1, ...enc('1'));
    const e2 = Uint8Array.of(2, ...enc('kb'), 1, ...enc('2'));
    expectBad(7, [Uint8Array.of(...header, ...e2, ...e1, 0, 2)], /not strictly ascending/);
    expectBad(7, [Uint8Array.of(...header, ...e1, ...e2, 0, 3)], /entry count/);
    expectBad(7, [Uint8Array.of(...header, 0xff, 0xff, 0xff, 0x7f)], /key too long/);
  });
});

// --- snapshots of the app --------------------------------------------------------------------

const keyOf = (i: number) => `key-${String(i).padStart(5, '0')}`;

/**
 * Fill `app` with `blocks` blocks of `perBlock` txs; returns the app hash after each height. Waits
 * for each snapshot before the next block, because blocks here come faster than snapshots are
 * written and the app skips a snapshot while the previous one is still being written.
 */
async function fill(app: KVStoreApp, blocks: number, perBlock: number, valueSize = 20): Promise<Map<number, Uint8Array>> {
  const hashes = new Map<number, Uint8Array>();
  for (let b = 0; b < blocks; b++) {
    const txs = Array.from({ length: perBlock }, (_, i) => `${keyOf((b * perBlock + i) % 997)}=${`h${app.height + 1}-`.padEnd(valueSize, 'v')}`);
    const r = await runBlock(app, txs);
    hashes.set(app.height, r.appHash);
    await app.snapshotsIdle();
  }
  return hashes;
}

async function chunksFrom(source: KVStoreApp, s: Snapshot): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < s.chunks; i++) out.push((await source.loadSnapshotChunk({ height: s.height, format: s.format, chunk: i })).chunk);
  return out;
}

async function restore(target: KVStoreApp, snapshot: Snapshot, chunks: Uint8Array[], appHash: Uint8Array): Promise<ApplySnapshotChunkResult[]> {
  expect((await target.offerSnapshot({ snapshot, appHash })).result).toBe(OfferSnapshotResult.Accept);
  const results: ApplySnapshotChunkResult[] = [];
  for (const [index, chunk] of chunks.entries()) results.push((await target.applySnapshotChunk({ index, chunk, sender: 'peer-a' })).result);
  return results;
}

describe('kvstore snapshots', () => {
  test('taken every interval, pruned to keepRecent, served chunk by chunk, and they survive a restart', async () => {
    const dir = scratch.dir();
    const app = await scratch.open({ dir, snapshotInterval: 2, snapshotKeepRecent: 2, snapshotChunkSize: 512 });
    await fill(app, 7, 20);
    await app.snapshotsIdle();
    const { snapshots } = await app.listSnapshots();
    expect(snapshots.map((s) => s.height)).toEqual([6, 4]);
    expect(readdirSync(join(dir, 'snapshots')).sort()).toEqual(['4', '6']);
    const s6 = snapshots[0]!;
    expect(s6.format).toBe(SNAPSHOT_FORMAT);
    expect(s6.chunks).toBeGreaterThan(3);
    expect(s6.metadata.length).toBe(32 * s6.chunks);
    expect(hex(s6.hash)).toBe(hex(sha256(s6.metadata)));
    const chunks = await chunksFrom(app, s6);
    chunks.forEach((c, i) => expect(hex(sha256(c))).toBe(hex(s6.metadata.subarray(32 * i, 32 * i + 32))));
    expect((await app.loadSnapshotChunk({ height: 6, format: 1, chunk: s6.chunks })).chunk.length).toBe(0);
    expect((await app.loadSnapshotChunk({ height: 2, format: 1, chunk: 0 })).chunk.length).toBe(0);
    expect(app.lastSnapshotError).toBeNull();

    await app.close();
    mkdirSync(join(dir, 'snapshots', '8.tmp')); // an unfinished write from a crash
    const again = await scratch.open({ dir, snapshotInterval: 2, snapshotKeepRecent: 2, snapshotChunkSize: 512 });
    expect((await again.listSnapshots()).snapshots).toEqual(snapshots);
    expect(existsSync(join(dir, 'snapshots', '8.tmp'))).toBe(false);
  });

  test('restore round trip: an empty app rebuilds the state, recomputes the same hash, and continues in lockstep', async () => {
    const source = await scratch.open({ snapshotInterval: 5, snapshotChunkSize: 300 });
    const hashes = await fill(source, 5, 30);
    await source.snapshotsIdle();
    const s = (await source.listSnapshots()).snapshots[0]!;
    expect(s.height).toBe(5);
    expect(s.chunks).toBeGreaterThan(3);

    const target = await scratch.open();
    const results = await restore(target, s, await chunksFrom(source, s), hashes.get(5)!);
    expect(results.every((r) => r === ApplySnapshotChunkResult.Accept)).toBe(true);
    const info = await target.info({ version: '', blockVersion: 11n, p2pVersion: 8n, abciVersion: '2.0.0' });
    expect(info.lastBlockHeight).toBe(5);
    expect(hex(info.lastBlockAppHash)).toBe(hex(hashes.get(5)!));
    expect(hex(await target.recomputeAppHash())).toBe(hex(hashes.get(5)!));
    expect(dec((await target.query({ data: enc(keyOf(3)), path: '', height: 0, prove: false })).value)).toBe(dec((await source.query({ data: enc(keyOf(3)), path: '', height: 0, prove: false })).value));

    const next = ['key-00001=after', 'new=key'];
    expect(hex((await runBlock(target, next)).appHash)).toBe(hex((await runBlock(source, next)).appHash));
  });

  test('a corrupted chunk is refetched and its sender rejected; the good copy then applies', async () => {
    const source = await scratch.open({ snapshotInterval: 3, snapshotChunkSize: 256 });
    const hashes = await fill(source, 3, 20);
    await source.snapshotsIdle();
    const s = (await source.listSnapshots()).snapshots[0]!;
    const chunks = await chunksFrom(source, s);
    const target = await scratch.open();
    expect((await target.offerSnapshot({ snapshot: s, appHash: hashes.get(3)! })).result).toBe(OfferSnapshotResult.Accept);
    expect((await target.applySnapshotChunk({ index: 0, chunk: chunks[0]!, sender: 'good' })).result).toBe(ApplySnapshotChunkResult.Accept);
    const bad = chunks[1]!.slice();
    bad[10] = bad[10]! ^ 0xff;
    expect(await target.applySnapshotChunk({ index: 1, chunk: bad, sender: 'liar' })).toEqual({
      result: ApplySnapshotChunkResult.Retry,
      refetchChunks: [1],
      rejectSenders: ['liar'],
    });
    // re-applying an accepted chunk is harmless
    expect((await target.applySnapshotChunk({ index: 0, chunk: chunks[0]!, sender: 'good' })).result).toBe(ApplySnapshotChunkResult.Accept);
    await expect(target.applySnapshotChunk({ index: 3, chunk: chunks[3]!, sender: 'good' })).rejects.toThrow(/out of order/);
    for (let i = 1; i < chunks.length; i++) {
      expect((await target.applySnapshotChunk({ index: i, chunk: chunks[i]!, sender: 'good' })).result).toBe(ApplySnapshotChunkResult.Accept);
    }
    expect(hex(target.appHash)).toBe(hex(hashes.get(3)!));
  });

  test('a snapshot whose state does not match the trusted app hash is rejected and the partial state wiped', async () => {
    const source = await scratch.open({ snapshotInterval: 2, snapshotChunkSize: 200 });
    const hashes = await fill(source, 2, 15);
    await source.snapshotsIdle();
    const s = (await source.listSnapshots()).snapshots[0]!;
    const chunks = await chunksFrom(source, s);
    const target = await scratch.open();
    const results = await restore(target, s, chunks, hashes.get(1)!); // the hash of another height
    expect(results.at(-1)).toBe(ApplySnapshotChunkResult.RejectSnapshot);
    expect(results.slice(0, -1).every((r) => r === ApplySnapshotChunkResult.Accept)).toBe(true);
    expect(target.height).toBe(0);
    expect(hex(await target.recomputeAppHash())).toBe(hex(EMPTY_STATE_HASH));
    expect((await target.query({ data: enc(keyOf(1)), path: '', height: 0, prove: false })).log).toBe('does not exist');
    // the same snapshot with the right hash then restores
    expect((await restore(target, s, chunks, hashes.get(2)!)).at(-1)).toBe(ApplySnapshotChunkResult.Accept);
    expect(target.height).toBe(2);
  });

  test('offers are screened: app with state → Abort, unknown format → RejectFormat, inconsistent metadata → Reject', async () => {
    const source = await scratch.open({ snapshotInterval: 1, snapshotChunkSize: 100 });
    const hashes = await fill(source, 1, 10);
    await source.snapshotsIdle();
    const s = (await source.listSnapshots()).snapshots[0]!;
    const appHash = hashes.get(1)!;
    expect((await source.offerSnapshot({ snapshot: s, appHash })).result).toBe(OfferSnapshotResult.Abort);
    const target = await scratch.open();
    await expect(target.applySnapshotChunk({ index: 0, chunk: new Uint8Array(1), sender: '' })).rejects.toThrow(AbciError);
    expect((await target.offerSnapshot({ snapshot: { ...s, format: 2 }, appHash })).result).toBe(OfferSnapshotResult.RejectFormat);
    expect((await target.offerSnapshot({ snapshot: { ...s, hash: sha256(enc('x')) }, appHash })).result).toBe(OfferSnapshotResult.Reject);
    expect((await target.offerSnapshot({ snapshot: { ...s, chunks: s.chunks + 1 }, appHash })).result).toBe(OfferSnapshotResult.Reject);
    expect((await target.offerSnapshot({ snapshot: s, appHash: appHash.subarray(0, 31) })).result).toBe(OfferSnapshotResult.Reject);
  });

  test('a restore interrupted by a crash leaves nothing behind after reopening', async () => {
    const source = await scratch.open({ snapshotInterval: 2, snapshotChunkSize: 200 });
    const hashes = await fill(source, 2, 15);
    await source.snapshotsIdle();
    const s = (await source.listSnapshots()).snapshots[0]!;
    const chunks = await chunksFrom(source, s);
    const dir = scratch.dir();
    const target = await scratch.open({ dir });
    await target.offerSnapshot({ snapshot: s, appHash: hashes.get(2)! });
    await target.applySnapshotChunk({ index: 0, chunk: chunks[0]!, sender: 'p' });
    await target.applySnapshotChunk({ index: 1, chunk: chunks[1]!, sender: 'p' });
    // the partial state is not served
    expect(await target.query({ data: enc(keyOf(0)), path: '', height: 0, prove: false })).toMatchObject({ code: 6, log: 'state sync in progress' });
    await target.close();
    const reopened = await scratch.open({ dir });
    expect(reopened.height).toBe(0);
    expect(hex(await reopened.recomputeAppHash())).toBe(hex(EMPTY_STATE_HASH));
  });

  test('commit does not wait for a snapshot of a large state, which still captures exactly its height', async () => {
    const app = await scratch.open({ snapshotInterval: 3, snapshotChunkSize: 64 * 1024 });
    // ~3 MB of state: 3 blocks of 2,000 distinct keys with 500-byte values
    for (let b = 0; b < 3; b++) {
      await runBlock(app, Array.from({ length: 2_000 }, (_, i) => `big-${b}-${i}=${'x'.repeat(500)}`));
    }
    const atSnapshot = app.appHash;
    expect(app.snapshotInProgress).toBe(true); // commit 3 returned; the snapshot is still being written
    expect((await app.listSnapshots()).snapshots).toEqual([]);
    // consensus moves on while the snapshot is written
    await runBlock(app, ['big-0-0=changed', 'fresh=key']);
    expect(app.height).toBe(4);
    await app.snapshotsIdle();
    const s = (await app.listSnapshots()).snapshots[0]!;
    expect(s.height).toBe(3);
    expect(s.chunks).toBeGreaterThan(40);

    const target = await scratch.open();
    const results = await restore(target, s, await chunksFrom(app, s), atSnapshot);
    expect(results.at(-1)).toBe(ApplySnapshotChunkResult.Accept);
    expect(dec((await target.query({ data: enc('big-0-0'), path: '', height: 0, prove: false })).value)).toBe('x'.repeat(500));
    expect((await target.query({ data: enc('fresh'), path: '', height: 0, prove: false })).log).toBe('does not exist');
  });
});
