import fc from 'fast-check';
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { WAL, WALError } from '../../src/consensus/wal.js';

const SEED = 0x3a1;
let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tally-wal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `wal-${n++}`);
const rec = (i: number, size = 10): Uint8Array => new Uint8Array(size).fill(i & 0xff);

function writeRecords(path: string, records: Uint8Array[]): void {
  const { wal } = WAL.open(path);
  records.forEach((r, i) => wal.append(r, i % 2 === 0));
  wal.close();
}

function reopen(path: string): ReturnType<typeof WAL.open> {
  const opened = WAL.open(path);
  opened.wal.close();
  return opened;
}

// the file's layout (src/consensus/wal.ts): a 16-byte header, then [crc | length | epoch(8) | payload] frames
const FILE_HEADER = 16;
const FRAME = 16;
const MiB = 1024 * 1024;

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

/** Version 2: this layout with the CRC over epoch ‖ payload (not the length), zeros after the frames. */
function version2(records: Uint8Array[], epoch: Buffer): Buffer {
  const header = Buffer.alloc(FILE_HEADER);
  header.write('TALLYWAL', 0, 'ascii');
  header.writeUInt32BE(2, 8);
  const frames = records.map((r) => {
    const h = Buffer.alloc(FRAME);
    h.writeUInt32BE(crc32(r, crc32(epoch)), 0);
    h.writeUInt32BE(r.length, 4);
    epoch.copy(h, 8);
    return Buffer.concat([h, r]);
  });
  return Buffer.concat([header, ...frames, Buffer.alloc(4096)]);
}

function patch(path: string, at: number, bytes: Uint8Array): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, at);
  } finally {
    closeSync(fd);
  }
}

/** Size and allocated blocks, read through a descriptor of our own. */
function allocation(path: string): { size: number; blocks: number } {
  const fd = openSync(path, 'r');
  try {
    const { size, blocks } = fstatSync(fd);
    return { size, blocks };
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

  test('appends, syncs and new heights write in place: neither size nor blocks change while records fit', () => {
    const path = fresh();
    const { wal } = WAL.open(path);
    const before = allocation(path);
    expect(before.size).toBeGreaterThanOrEqual(MiB); // allocated up front
    expect(before.blocks * 512).toBeGreaterThanOrEqual(before.size); // with zeros, not a sparse hole
    for (let h = 0; h < 20; h++) {
      wal.reset();
      for (let i = 0; i < 50; i++) wal.append(rec(i, 200), i % 5 === 0);
      wal.sync();
      expect(allocation(path)).toEqual(before);
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

  test('a crash that lost the first frame of a new height yields a prefix of the old height, never a frame of the new (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 10 }),
        (sizesA, sizesB) => {
          const path = fresh();
          const a = sizesA.map((s, i) => rec(i + 1, s));
          const b = sizesB.map((s, i) => rec(i + 101, s));
          const { wal } = WAL.open(path);
          a.forEach((r) => wal.append(r, true));
          const before = readFileSync(path);
          wal.reset();
          b.forEach((r) => wal.append(r, true));
          wal.close();
          // the new height's first frame never reached the disk: its place holds the old bytes
          const lost = FRAME + b[0]!.length;
          patch(path, FILE_HEADER, before.subarray(FILE_HEADER, FILE_HEADER + lost));
          let whole = 0; // old frames wholly inside what the lost frame would have covered
          for (let off = FILE_HEADER; whole < a.length && off + FRAME + a[whole]!.length <= FILE_HEADER + lost; whole++) off += FRAME + a[whole]!.length;
          const { records } = reopen(path);
          expect(records).toEqual(a.slice(0, records.length));
          expect(records.length).toBeGreaterThanOrEqual(whole);
        },
      ),
      { seed: SEED, numRuns: 100 },
    );
  });

  test('a reopened log goes on under a new epoch: frames a crash left beyond its end are never read back', () => {
    const path = fresh();
    writeRecords(path, [1, 2, 3, 4, 5].map((i) => rec(i)));
    // the fourth frame never reached the disk, the fifth did (unsynced writes reach it in any order)
    patch(path, FILE_HEADER + 3 * (FRAME + 10), Buffer.alloc(FRAME + 10));
    const first = WAL.open(path);
    expect(first.records).toEqual([rec(1), rec(2), rec(3)]);
    first.wal.append(rec(9), true); // the same size as the lost frame: it ends where the stale fifth begins
    first.wal.close();
    expect(reopen(path).records).toEqual([rec(1), rec(2), rec(3), rec(9)]);
  });

  test('the checksum covers the length: a last frame whose length changed within bounds is reported', () => {
    const path = fresh();
    writeRecords(path, [rec(1), rec(2)]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(4);
    patch(path, FILE_HEADER + FRAME + 10 + 4, len);
    const { records, truncated } = reopen(path);
    expect(records).toEqual([rec(1)]);
    expect(truncated).toEqual({ offset: FILE_HEADER + FRAME + 10, droppedBytes: FRAME + 4, reason: 'checksum mismatch' });
  });

  test('a WAL of version 2 (checksum without the length) is read and rewritten in the current version', () => {
    const path = fresh();
    writeFileSync(path, version2([rec(1), rec(2, 300)], Buffer.from('0123456789abcdef', 'hex')));
    const { wal, records, truncated } = WAL.open(path);
    expect(records).toEqual([rec(1), rec(2, 300)]);
    expect(truncated).toBeUndefined();
    wal.append(rec(3), true);
    wal.close();
    expect(readFileSync(path).readUInt32BE(8)).toBe(3);
    expect(reopen(path).records).toEqual([rec(1), rec(2, 300), rec(3)]);
  });

  test('what cannot be read as a WAL is refused with a WALError naming the file, and left alone', () => {
    const asDir = fresh();
    mkdirSync(asDir);
    expect(() => WAL.open(asDir)).toThrow(WALError);
    expect(() => WAL.open(asDir)).toThrow(expect.objectContaining({ path: asDir, context: expect.objectContaining({ code: 'EISDIR' }) }));
    const short = fresh();
    writeFileSync(short, 'TALLYWAL\0\0');
    expect(() => WAL.open(short)).toThrow(/incomplete file header/);
    expect(readFileSync(short).toString('latin1')).toBe('TALLYWAL\0\0');
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

describe('WAL growth', () => {
  test('records beyond the allocation grow the file (in whole MiB, at least doubling) and survive reopen', () => {
    const path = fresh();
    const { wal } = WAL.open(path);
    const initial = allocation(path).size;
    const many = Array.from({ length: 6000 }, (_, i) => rec(i, 200)); // ~1.3 MiB of frames
    many.forEach((r, i) => wal.append(r, i % 1000 === 0));
    const big = new Uint8Array(1.5 * MiB).fill(0x5a);
    wal.append(big, true);
    const grown = allocation(path);
    expect(grown.size % MiB).toBe(0);
    expect(grown.size).toBeGreaterThanOrEqual(2 * initial);
    expect(grown.size).toBeGreaterThanOrEqual(FILE_HEADER + many.length * (FRAME + 200) + FRAME + big.length);
    // a new height reuses the grown file without growing it again
    wal.reset();
    many.slice(0, 5).forEach((r) => wal.append(r, true));
    expect(allocation(path).size).toBe(grown.size);
    wal.reset();
    many.forEach((r) => wal.append(r, false));
    wal.append(big, true);
    wal.close();
    expect(allocation(path).size).toBe(grown.size);
    const { records, truncated } = reopen(path);
    expect(truncated).toBeUndefined();
    expect(records.length).toBe(many.length + 1);
    // compared as bytes: a deep toEqual over 1.2 M array elements takes seconds
    expect(records.map((r) => r.length)).toEqual([...many.map((r) => r.length), big.length]);
    expect(Buffer.concat(records).equals(Buffer.concat([...many, big]))).toBe(true);
  });

  test('unsynced records are written together: at the next sync, on close, or after a short while; a reset drops those of the old height', async () => {
    const path = fresh();
    const { wal } = WAL.open(path);
    const inFile = (i: number): boolean => readFileSync(path).includes(Buffer.from(rec(i, 12))); // 12 bytes of i: only a record
    wal.append(rec(1, 12), false);
    wal.append(rec(2, 12), false);
    expect(inFile(1) || inFile(2)).toBe(false); // still in memory
    wal.sync();
    expect(inFile(1) && inFile(2)).toBe(true);
    wal.append(rec(3, 12), false);
    await new Promise((r) => setTimeout(r, 200)); // the flush timer
    expect(inFile(3)).toBe(true);
    wal.reset();
    wal.append(rec(4, 12), false);
    wal.reset(); // dropped unwritten with its height
    expect(inFile(4)).toBe(false);
    wal.append(rec(5, 12), false);
    wal.close(); // writes what waits
    const { wal: again, records } = WAL.open(path);
    again.close();
    expect(records).toEqual([rec(5, 12)]);
  });
});
