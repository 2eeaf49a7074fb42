import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { EMPTY_STATE_HASH, LTHASH_BYTES, LtHash16, laneHash } from '../../../src/apps/kvstore/index.js';
import { sha256 } from '../../../src/crypto/index.js';
import { enc, hex } from './helpers.js';

const SEED = 0x4c74;

describe('LtHash16', () => {
  test('empty state: all lanes zero, hash = SHA-256 of 2048 zero bytes', () => {
    expect(LtHash16.empty().toBytes()).toEqual(new Uint8Array(LTHASH_BYTES));
    expect(hex(EMPTY_STATE_HASH)).toBe(hex(sha256(new Uint8Array(2048))));
  });

  test('lane hash is SHAKE256 with a 2048-byte output, read little-endian', () => {
    const lanes = laneHash(enc('abc'));
    const h = LtHash16.empty().add(enc('abc')).toBytes();
    expect(h.length).toBe(2048);
    expect(lanes[0]).toBe(h[0]! | (h[1]! << 8));
    // a known prefix of SHAKE256("abc"): 483366601360a8771c68…
    expect(hex(h.subarray(0, 8))).toBe('483366601360a877');
  });

  test('every lane of every element is its two SHAKE256 bytes, little-endian (surrogate-range values included)', () => {
    // read independently of laneHash's string decoding: a Buffer digest, byte by byte
    let surrogates = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (element) => {
        const bytes = createHash('shake256', { outputLength: LTHASH_BYTES }).update(element).digest();
        const lanes = laneHash(element);
        for (let i = 0; i < lanes.length; i++) {
          const want = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
          if (want >= 0xd800 && want <= 0xdfff) surrogates++;
          if (lanes[i] !== want) return false;
        }
        return true;
      }),
      { seed: SEED, numRuns: 300 },
    );
    // 1/32 of lanes fall in the UTF-16 surrogate range: the run must have covered them
    expect(surrogates).toBeGreaterThan(1000);
  });

  test('remove undoes add; serialization round-trips', () => {
    const h = LtHash16.empty().add(enc('a')).add(enc('b'));
    const copy = LtHash16.fromBytes(h.toBytes());
    expect(copy.equals(h)).toBe(true);
    h.remove(enc('a')).remove(enc('b'));
    expect(h.equals(LtHash16.empty())).toBe(true);
    expect(() => LtHash16.fromBytes(new Uint8Array(10))).toThrow(/2048 bytes/);
  });

  test('order-independent: any permutation of the same elements hashes the same', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.uint8Array({ maxLength: 40 }), { maxLength: 12, selector: hex }), fc.infiniteStream(fc.nat()), (elems, rnd) => {
        const shuffled = [...elems];
        const it = rnd[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = it.next().value! % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const a = LtHash16.empty();
        for (const e of elems) a.add(e);
        const b = LtHash16.empty();
        for (const e of shuffled) b.add(e);
        expect(hex(a.digest())).toBe(hex(b.digest()));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  test('different sets hash differently (no accidental collisions in a sample)', () => {
    const seen = new Set<string>();
    for (let n = 0; n < 200; n++) {
      const h = LtHash16.empty();
      for (let i = 0; i <= n % 5; i++) h.add(enc(`${n}/${i}`));
      seen.add(hex(h.digest()));
    }
    expect(seen.size).toBe(200);
  });
});
