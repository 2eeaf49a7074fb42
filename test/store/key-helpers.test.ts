import { describe, expect, it } from 'vitest';
import { keyString, readKeyString, readU32, readU64, u32, u64 } from '../../src/store/db.js';
import { prng } from '../helpers/prng.js';

describe('store key helpers', () => {
  it('readU32 / readU64 read big-endian values written by u32 / u64, at any offset, as DataView does', () => {
    const seed = 20261206;
    const next = prng(seed);
    for (let i = 0; i < 500; i++) {
      const n32 = Math.floor(next() * 0x100000000);
      const n64 = Math.floor(next() * Number.MAX_SAFE_INTEGER);
      const off = Math.floor(next() * 5);
      const b = new Uint8Array(off + 12);
      b.set(u32(n32), off);
      b.set(u64(n64), off + 4);
      const dv = new DataView(b.buffer, b.byteOffset, b.length);
      expect(readU32(b, off), `seed ${seed} value ${n32}`).toBe(dv.getUint32(off));
      expect(readU64(b, off + 4), `seed ${seed} value ${n64}`).toBe(Number(dv.getBigUint64(off + 4)));
      expect(readU64(b, off + 4)).toBe(n64);
    }
    // above 2^53: rounded as Number(bigint) rounds
    const big = new Uint8Array(8).fill(0xff);
    expect(readU64(big, 0)).toBe(Number(0xffffffffffffffffn));
  });

  it('readU32 / readU64 refuse offsets outside the bytes', () => {
    expect(() => readU32(new Uint8Array(3), 0)).toThrow(RangeError);
    expect(() => readU64(new Uint8Array(9), 2)).toThrow(RangeError);
    expect(() => readU32(new Uint8Array(8), -1)).toThrow(RangeError);
  });

  it('keyString writes the same bytes into memory from a given allocator, ASCII or not', () => {
    for (const s of ['', 'app.key', 'x'.repeat(300), 'größe', '鍵'.repeat(100)]) {
      const plain = keyString(s);
      const backing = new Uint8Array(1024).fill(0xee);
      const pooled = keyString(s, (n) => backing.subarray(0, n));
      expect([...pooled]).toEqual([...plain]);
      expect(readKeyString(pooled, 0)).toEqual({ value: s, end: pooled.length });
    }
  });
});
