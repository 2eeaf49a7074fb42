import fc from 'fast-check';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
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

  test('a tail torn at any byte is truncated to the last whole record (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 8 }), fc.nat(), (sizes, cutSeed) => {
        const path = fresh();
        const records = sizes.map((s, i) => rec(i + 1, s));
        writeRecords(path, records);
        const full = statSync(path).size;
        const cut = cutSeed % full;
        truncateSync(path, cut);
        // how many whole frames fit in `cut` bytes
        let whole = 0;
        let off = 0;
        for (const r of records) {
          if (off + 8 + r.length > cut) break;
          off += 8 + r.length;
          whole++;
        }
        const { wal, records: back, truncated } = WAL.open(path);
        expect(back).toEqual(records.slice(0, whole));
        if (off < cut) expect(truncated?.offset).toBe(off);
        // the file is now clean and appendable
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

  test('a corrupt byte in the last record is cut off with a reason', () => {
    const path = fresh();
    writeRecords(path, [rec(1), rec(2)]);
    const bytes = readFileSync(path);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ (0xff);
    writeFileSync(path, bytes);
    const { wal, records, truncated } = WAL.open(path);
    wal.close();
    expect(records).toEqual([rec(1)]);
    expect(truncated?.reason).toBe('checksum mismatch');
    expect(truncated?.droppedBytes).toBe(18);
  });

  test('garbage appended after valid records is dropped, absurd lengths included', () => {
    const path = fresh();
    writeRecords(path, [rec(1)]);
    appendFileSync(path, Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    const { wal, records, truncated } = WAL.open(path);
    wal.close();
    expect(records).toEqual([rec(1)]);
    expect(truncated?.reason).toMatch(/exceeds/);
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
