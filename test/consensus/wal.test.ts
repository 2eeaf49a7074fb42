import fc from 'fast-check';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { WAL, WALError } from '../../src/consensus/wal.js';

const SEED = 0x3a1;
const dir = mkdtempSync(join(tmpdir(), 'tally-wal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `wal-${n++}`);
const rec = (i: number, size = 10): Uint8Array => new Uint8Array(size).fill(i & 0xff);

function writeRecords(path: string, records: Uint8Array[]): void {
  const { wal } = WAL.open(path);
  records.forEach((r, i) => wal.append(r, i % 2 === 0));
  wal.close();
}

// the file's layout (src/consensus/wal.ts): a 16-byte header, then [crc | length | epoch(8) | payload] frames
const FILE_HEADER = 16;
const FRAME = 16;

function oldFormat(records: Uint8Array[]): Buffer {
  return Buffer.concat(
    records.map((r) => {
      const h = Buffer.alloc(8);
      h.writeUInt32BE(crc32(r), 0);
      h.writeUInt32BE(r.length, 4);
      return Buffer.concat([h, r]);
    }),
  );
}

function patch(path: string, at: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, at);
  } finally {
    closeSync(fd);
  }
}

describe('consensus WAL', () => {
  test('records come back in order after reopen', () => {
    const path = fresh();
    const records = [rec(1), rec(2, 0), rec(3, 1000)];
    writeRecords(path, records);
    const { wal, records: back, truncated } = WAL.open(path);
    wal.close();
    expect(back).toEqual(records);
    expect(truncated).toBeUndefined();
  });

  test('appends, syncs and new heights write in place: the file never changes size while records fit', () => {
    const path = fresh();
    const { wal } = WAL.open(path);
    const size = statSync(path).size;
    expect(size).toBeGreaterThanOrEqual(1024 * 1024); // allocated up front
    for (let h = 0; h < 20; h++) {
      wal.reset();
      for (let i = 0; i < 50; i++) wal.append(rec(i, 200), i % 5 === 0);
      expect(statSync(path).size).toBe(size);
    }
    wal.close();
  });

  test('a file cut at any byte keeps the whole records before the cut (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 8 }), fc.nat(), (sizes, cutSeed) => {
        const path = fresh();
        const records = sizes.map((s, i) => rec(i + 1, s));
        writeRecords(path, records);
        const used = FILE_HEADER + records.reduce((n, r) => n + FRAME + r.length, 0);
        const cut = FILE_HEADER + (cutSeed % (used - FILE_HEADER));
        truncateSync(path, cut);
        let whole = 0;
        let off = FILE_HEADER;
        for (const r of records) {
          if (off + FRAME + r.length > cut) break;
          off += FRAME + r.length;
          whole++;
        }
        const { wal, records: back, truncated } = WAL.open(path);
        expect(back).toEqual(records.slice(0, whole));
        // a damaged frame after at least one good one is reported where it starts
        if (whole > 0 && off < cut) expect(truncated?.offset).toBe(off);
        // the log goes on from there
        wal.append(rec(99), true);
        wal.close();
        const again = WAL.open(path);
        again.wal.close();
        expect(again.records).toEqual([...records.slice(0, whole), rec(99)]);
        expect(again.truncated).toBeUndefined();
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  test('a corrupt byte in the last record: the records before it are kept and the damage is reported', () => {
    const path = fresh();
    writeRecords(path, [rec(1), rec(2)]);
    const last = FILE_HEADER + 2 * (FRAME + 10) - 1;
    patch(path, last, Buffer.from([readFileSync(path)[last]! ^ 0xff]));
    const { wal, records, truncated } = WAL.open(path);
    wal.close();
    expect(records).toEqual([rec(1)]);
    expect(truncated).toEqual({ offset: FILE_HEADER + FRAME + 10, droppedBytes: FRAME + 10, reason: 'checksum mismatch' });
  });

  test('a frame of the current height with an absurd length is reported, not read', () => {
    const path = fresh();
    writeRecords(path, [rec(1)]);
    const epoch = readFileSync(path).subarray(FILE_HEADER + 8, FILE_HEADER + 16);
    const bad = Buffer.alloc(FRAME);
    bad.writeUInt32BE(0xffffffff, 4);
    epoch.copy(bad, 8);
    patch(path, FILE_HEADER + FRAME + 10, bad);
    const { wal, records, truncated } = WAL.open(path);
    wal.close();
    expect(records).toEqual([rec(1)]);
    expect(truncated?.reason).toMatch(/exceeds/);
  });

  test('after a new height only its records are read, never the older height behind them', () => {
    const path = fresh();
    const { wal } = WAL.open(path);
    for (let i = 0; i < 5; i++) wal.append(rec(i, 50), true);
    wal.reset();
    wal.append(rec(10, 20), true); // shorter than what it overwrites
    wal.close();
    const again = WAL.open(path);
    again.wal.close();
    expect(again.records).toEqual([rec(10, 20)]);
    expect(again.truncated).toBeUndefined();
  });

  test('a new height with nothing written yet reopens as the old height (already stored, ignored by consensus)', () => {
    const path = fresh();
    const { wal } = WAL.open(path);
    wal.append(rec(1), true);
    wal.append(rec(2), true);
    wal.reset();
    wal.close();
    const again = WAL.open(path);
    again.wal.close();
    expect(again.records).toEqual([rec(1), rec(2)]);
  });

  test('a crash that lost the first frame of a new height never mixes the two heights', () => {
    const path = fresh();
    const { wal } = WAL.open(path);
    for (let i = 0; i < 5; i++) wal.append(rec(i, 10), true);
    const before = readFileSync(path);
    wal.reset();
    for (let i = 10; i < 13; i++) wal.append(rec(i, 10), true); // same sizes: frames overwrite frames exactly
    wal.close();
    // the new height's second and third frames reached the disk, its first did not
    patch(path, FILE_HEADER, before.subarray(FILE_HEADER, FILE_HEADER + FRAME + 10));
    const again = WAL.open(path);
    again.wal.close();
    expect(again.records).toEqual([rec(0, 10)]);
  });

  test('reset empties the log; oversized records and writes after close are refused', () => {
    const path = fresh();
    const { wal } = WAL.open(path, 100);
    wal.append(rec(1), true);
    wal.reset();
    wal.append(rec(2), true);
    expect(() => wal.append(rec(3, 101), true)).toThrow(WALError);
    wal.close();
    expect(() => wal.append(rec(4), false)).toThrow(/after close/);
    const again = WAL.open(path, 100);
    again.wal.close();
    expect(again.records).toEqual([rec(2)]);
  });

  test('a WAL of the previous format (appended frames, no header) is read and rewritten in place', () => {
    const path = fresh();
    writeFileSync(path, Buffer.concat([oldFormat([rec(1), rec(2, 300)]), Buffer.from([1, 2, 3])]));
    const { wal, records, truncated } = WAL.open(path);
    expect(records).toEqual([rec(1), rec(2, 300)]);
    expect(truncated).toEqual({ offset: 8 + 10 + 8 + 300, droppedBytes: 3, reason: 'incomplete frame header' });
    wal.append(rec(3), true);
    wal.close();
    expect(readFileSync(path).subarray(0, 8).toString('ascii')).toBe('TALLYWAL');
    const again = WAL.open(path);
    again.wal.close();
    expect(again.records).toEqual([rec(1), rec(2, 300), rec(3)]);
    expect(again.truncated).toBeUndefined();
  });

  test('an unknown version is refused with a clear error and the file is left alone', () => {
    const path = fresh();
    const header = Buffer.alloc(FILE_HEADER);
    header.write('TALLYWAL', 0, 'ascii');
    header.writeUInt32BE(99, 8);
    writeFileSync(path, header);
    expect(() => WAL.open(path)).toThrow(/unsupported WAL version 99/);
    expect(readFileSync(path)).toEqual(header);
  });
});

describe('WAL record size', () => {
  test('a record as large as a big block (20 MiB) is written and read back', () => {
    const path = fresh();
    const big = new Uint8Array(20 * 1024 * 1024).fill(7);
    const { wal } = WAL.open(path);
    wal.append(big, true);
    wal.close();
    const again = WAL.open(path);
    again.wal.close();
    expect(again.records.length).toBe(1);
    expect(again.records[0]!.length).toBe(big.length);
    expect(again.truncated).toBeUndefined();
  });
});
