import { describe, expect, it } from 'vitest';
import { ByteSlab, ON_HEAP_MAX, ProtoReader, ProtoWriter, packSmall } from '../../src/codec/index.js';

const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);

describe('packSmall', () => {
  it('moves arrays of at most ON_HEAP_MAX bytes into one buffer and keeps larger ones', () => {
    const small1 = bytes(3, 1);
    const small2 = bytes(ON_HEAP_MAX, 2);
    const large = bytes(ON_HEAP_MAX + 1, 3);
    const out = packSmall([small1, large, small2]);
    expect(out.map((a) => [...a])).toEqual([[...small1], [...large], [...small2]]);
    expect(out[1]).toBe(large);
    expect(out[0]!.buffer).toBe(out[2]!.buffer);
    expect(out[0]!.buffer.byteLength).toBe(3 + ON_HEAP_MAX);
    // copies: changing an input afterwards does not change the packed form
    small1[0] = 9;
    expect(out[0]![0]).toBe(1);
  });

  it('returns a copy of the list when nothing is small', () => {
    const large = bytes(100, 1);
    const list = [large];
    const out = packSmall(list);
    expect(out).not.toBe(list);
    expect(out[0]).toBe(large);
    expect(packSmall([])).toEqual([]);
  });
});

describe('ByteSlab', () => {
  it('hands out disjoint views of one chunk, a new chunk when full, and own buffers for large arrays', () => {
    const slab = new ByteSlab(64);
    const a = slab.copy(bytes(10, 1));
    const b = slab.copy(bytes(6, 2));
    expect(a.buffer).toBe(b.buffer);
    expect([...a]).toEqual(new Array(10).fill(1));
    expect([...b]).toEqual(new Array(6).fill(2));
    // a quarter chunk is the largest array carved from a chunk
    const big = slab.alloc(17);
    expect(big.buffer).not.toBe(a.buffer);
    expect(big.buffer.byteLength).toBe(17);
    // 16 + 16 + 16 bytes fill the first chunk's remaining 48; the next starts a chunk
    const fill = [slab.alloc(16), slab.alloc(16), slab.alloc(16)];
    for (const f of fill) expect(f.buffer).toBe(a.buffer);
    const next = slab.alloc(1);
    expect(next.buffer).not.toBe(a.buffer);
    expect(next.buffer.byteLength).toBe(64);
  });
});

describe('ProtoReader.bytes', () => {
  it("copies every bytes field of one decode, nested ones included, into one buffer that is not the input's", () => {
    const inner = new ProtoWriter().bytes(1, bytes(100, 7)).finish();
    const encoded = new ProtoWriter().bytes(1, bytes(5, 1)).message(2, inner).bytes(3, bytes(70, 3)).finish();
    const r = new ProtoReader(encoded, 'test');
    const got: Uint8Array[] = [];
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 2) got.push(r.message('inner', (ir) => (ir.next(), ir.bytes())));
      else got.push(r.bytes());
    }
    expect(got.map((g) => [g.length, g[0]])).toEqual([
      [5, 1],
      [100, 7],
      [70, 3],
    ]);
    expect(new Set(got.map((g) => g.buffer)).size).toBe(1);
    expect(got[0]!.buffer).not.toBe(encoded.buffer);
    encoded.fill(0);
    expect(got[1]![99]).toBe(7);
  });

  it('allocates in chunks: one small field of a large input does not take a buffer of the input\'s size', () => {
    const w = new ProtoWriter();
    for (let i = 0; i < 400; i++) w.bytes(1, bytes(100, i % 256));
    const encoded = w.finish();
    expect(encoded.length).toBeGreaterThan(40_000);
    const first = new ProtoReader(encoded, 'test');
    first.next();
    const one = first.bytes();
    expect(one.buffer.byteLength).toBeLessThanOrEqual(8 * 1024);
    // all 400 fields: copied, in more than one buffer but far fewer than 400
    const r = new ProtoReader(encoded, 'test');
    const all: Uint8Array[] = [];
    for (let f = r.next(); f !== 0; f = r.next()) all.push(r.bytes());
    expect(all.map((a) => a[0])).toEqual(Array.from({ length: 400 }, (_, i) => i % 256));
    const buffers = new Set(all.map((a) => a.buffer)).size;
    expect(buffers).toBeGreaterThan(1);
    expect(buffers).toBeLessThanOrEqual(Math.ceil(40_000 / (8 * 1024)) + 1);
    // an empty field (a repeated element is written even when empty) takes no chunk
    const empty = new ProtoReader(new ProtoWriter().repeatedElement(1, new Uint8Array(0)).finish(), 'test');
    expect(empty.next()).toBe(1);
    expect(empty.bytes().buffer.byteLength).toBe(0);
  });
});
