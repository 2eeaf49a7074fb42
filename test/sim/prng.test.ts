import { describe, expect, it } from 'vitest';
import { Prng, hashString } from '../../src/sim/prng.js';

describe('Prng', () => {
  it('is a pure function of its seed', () => {
    const a = new Prng(12345);
    const b = new Prng(12345);
    const xs = Array.from({ length: 100 }, () => a.u32());
    expect(Array.from({ length: 100 }, () => b.u32())).toEqual(xs);
    expect(new Prng(12346).u32()).not.toBe(xs[0]);
  });

  it('stays in range and covers it', () => {
    const r = new Prng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const x = r.range(3, 9);
      expect(x).toBeGreaterThanOrEqual(3);
      expect(x).toBeLessThanOrEqual(9);
      seen.add(x);
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect(seen.size).toBe(7);
  });

  it('is roughly uniform (each of 8 buckets within 10% of its share)', () => {
    const r = new Prng(99);
    const buckets = new Array<number>(8).fill(0);
    for (let i = 0; i < 80_000; i++) buckets[r.int(8)]!++;
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(1000);
  });

  it('forks independent, reproducible streams', () => {
    const x = new Prng(1).fork('net');
    const y = new Prng(1).fork('net');
    const z = new Prng(1).fork('app');
    const first = x.u32();
    expect(y.u32()).toBe(first);
    expect(z.u32()).not.toBe(first);
    expect(hashString('a')).not.toBe(hashString('b'));
  });

  it('rejects empty ranges', () => {
    expect(() => new Prng(1).int(0)).toThrow(RangeError);
    expect(() => new Prng(1).pick([])).toThrow(RangeError);
  });
});
