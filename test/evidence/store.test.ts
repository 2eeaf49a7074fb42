// The evidence store's committed records, pruned oldest first: after a scan it remembers the
// oldest record left, so a block with nothing to prune costs no database scan.
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { Evidence } from '../../src/codec/index.js';
import { EvidenceStore, type CommittedRecord, type StoredEvidence } from '../../src/evidence/store.js';

const dirs: string[] = [];
const stores: EvidenceStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(): Promise<EvidenceStore> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-evstore-'));
  dirs.push(dir);
  const s = new EvidenceStore({ path: join(dir, 'evidence.db'), sync: false });
  await s.open();
  stores.push(s);
  return s;
}

/** Only what the committed records keep: the height, the time and the hash. */
const stored = (height: number): StoredEvidence => ({
  evidence: { voteA: { height }, timestamp: { seconds: 1_000 + height, nanos: 0 } } as unknown as Evidence,
  hash: new Uint8Array(32).fill(height),
});

const heights = (rs: CommittedRecord[]): number[] => rs.map((r) => r.height);

describe('committed evidence records', () => {
  test('pruned oldest first in batches; a scan is skipped while the oldest left has not expired', async () => {
    const store = await open();
    await store.markCommitted([2, 3, 4, 5, 6].map(stored), 10);
    const upTo = (h: number) => (r: CommittedRecord) => r.height <= h;

    expect(heights(await store.committedWhile(upTo(5), 2))).toEqual([2, 3]);
    await store.removeCommitted(await store.committedWhile(upTo(3), 10));
    expect(heights(await store.committedWhile(upTo(5), 10))).toEqual([4, 5]);
    await store.removeCommitted(await store.committedWhile(upTo(5), 10));

    // nothing expired: after one scan (the removal forgot the oldest), answered without one
    expect(await store.committedWhile(upTo(5), 10)).toEqual([]);
    const db = (store as unknown as { db: { iterator: (...a: unknown[]) => unknown } }).db;
    const iterator = vi.spyOn(db, 'iterator');
    expect(await store.committedWhile(upTo(5), 10)).toEqual([]);
    expect(iterator).not.toHaveBeenCalled();

    // a record older than the remembered oldest is found
    await store.markCommitted([stored(1)], 11);
    expect(heights(await store.committedWhile(upTo(5), 10))).toEqual([1]);
    expect(heights(await store.committedWhile(upTo(6), 10))).toEqual([1, 6]);
  });

  test('with no records at all, no scan after the first', async () => {
    const store = await open();
    expect(await store.committedWhile(() => true, 10)).toEqual([]);
    const db = (store as unknown as { db: { iterator: (...a: unknown[]) => unknown } }).db;
    const iterator = vi.spyOn(db, 'iterator');
    expect(await store.committedWhile(() => true, 10)).toEqual([]);
    expect(iterator).not.toHaveBeenCalled();
  });
});
