import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { EMPTY_HASH, merkleProofs, merkleRoot, merkleRootOfRepeats, rootFromProof, verifyProof } from '../../src/crypto/index.js';
import { toHex } from '../../src/codec/index.js';

const SEED = 0x6962;
// An independent spelling of RFC 6962 with node's hash directly, to check against.
const h = (...parts: Uint8Array[]): Buffer => {
  const x = createHash('sha256');
  for (const p of parts) x.update(p);
  return x.digest();
};
const leaf = (b: Uint8Array): Buffer => h(Buffer.from([0]), b);
const node = (l: Uint8Array, r: Uint8Array): Buffer => h(Buffer.from([1]), l, r);
const items = ['a', 'b', 'c', 'd', 'e'].map((s) => new TextEncoder().encode(s));

describe('RFC 6962 merkle', () => {
  test('empty, one, and hand-built trees of 2, 3 and 5 leaves', () => {
    expect(toHex(merkleRoot([]))).toBe('E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855');
    expect(toHex(merkleRoot([]))).toBe(toHex(EMPTY_HASH));
    const [a, b, c, d, e] = items.map(leaf) as [Buffer, Buffer, Buffer, Buffer, Buffer];
    expect(toHex(merkleRoot(items.slice(0, 1)))).toBe(toHex(a));
    expect(toHex(merkleRoot(items.slice(0, 2)))).toBe(toHex(node(a, b)));
    // 3 leaves split at 2: ((a b) c)
    expect(toHex(merkleRoot(items.slice(0, 3)))).toBe(toHex(node(node(a, b), c)));
    // 5 leaves split at 4: (((a b)(c d)) e)
    expect(toHex(merkleRoot(items))).toBe(toHex(node(node(node(a, b), node(c, d)), e)));
  });

  test('the root of mostly repeated items equals the plain root (property)', () => {
    const item = fc.oneof(fc.constantFrom(new Uint8Array(0), Uint8Array.of(8, 1), new Uint8Array(64), new Uint8Array(65)), fc.uint8Array({ maxLength: 80 }));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 70 }), (items) => {
        expect(toHex(merkleRootOfRepeats(items))).toBe(toHex(merkleRoot(items)));
      }),
      { seed: SEED, numRuns: 300 },
    );
    const same = Array.from({ length: 1000 }, () => new Uint8Array(0));
    expect(toHex(merkleRootOfRepeats(same))).toBe(toHex(merkleRoot(same)));
  });

  test('every proof verifies and leads to the root (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 70 }), (list) => {
        const { root, proofs } = merkleProofs(list);
        expect(toHex(root)).toBe(toHex(merkleRoot(list)));
        proofs.forEach((p, i) => {
          expect(verifyProof(p, root, list[i]!)).toBe(true);
          expect(toHex(rootFromProof(p))).toBe(toHex(root));
        });
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  test('tampered and malformed proofs fail', () => {
    const { root, proofs } = merkleProofs(items);
    const p = proofs[2]!;
    expect(verifyProof(p, root, new TextEncoder().encode('x'))).toBe(false);
    expect(verifyProof({ ...p, index: 3 }, root, items[2]!)).toBe(false);
    expect(verifyProof({ ...p, aunts: p.aunts.slice(1) }, root, items[2]!)).toBe(false);
    expect(verifyProof({ ...p, aunts: [...p.aunts, p.aunts[0]!] }, root, items[2]!)).toBe(false);
    expect(verifyProof({ ...p, total: 0 }, root, items[2]!)).toBe(false);
    expect(verifyProof({ ...p, index: -1 }, root, items[2]!)).toBe(false);
    expect(verifyProof({ ...p, aunts: [new Uint8Array(3)] }, root, items[2]!)).toBe(false);
    expect(() => rootFromProof({ ...p, aunts: new Array(101).fill(new Uint8Array(32)) })).toThrow(/too many aunts/);
  });
});
