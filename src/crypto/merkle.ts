// RFC 6962 merkle trees as CometBFT uses them: leaf = H(0x00 ‖ item), inner = H(0x01 ‖ l ‖ r),
// empty = H(""), and a list of n items splits at the largest power of two strictly below n.
import { CryptoError } from './errors.js';
import { EMPTY_HASH, HASH_SIZE, sha256 } from './hash.js';

const LEAF_PREFIX = new Uint8Array([0]);
const INNER_PREFIX = new Uint8Array([1]);

/** Max proof depth: 2^100 leaves is far beyond any real tree; bounds work on untrusted proofs. */
export const MAX_AUNTS = 100;

// One hash of a joined buffer is cheaper than an update per piece (each is a call into C++);
// the join goes into a reused scratch buffer (hashing is synchronous), not a fresh allocation.
let scratch = new Uint8Array(1024);

function scratchOf(n: number): Uint8Array {
  if (n > scratch.length) {
    // large items (block parts) are hashed from a buffer of their own, not kept as scratch
    if (n > 1 << 16) return new Uint8Array(n);
    scratch = new Uint8Array(1 << 16);
  }
  return scratch.subarray(0, n);
}

export function leafHash(item: Uint8Array): Uint8Array {
  const b = scratchOf(1 + item.length);
  b[0] = LEAF_PREFIX[0]!;
  b.set(item, 1);
  return sha256(b);
}

export function innerHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const b = scratchOf(1 + left.length + right.length);
  b[0] = INNER_PREFIX[0]!;
  b.set(left, 1);
  b.set(right, 1 + left.length);
  return sha256(b);
}

/** Largest power of two strictly less than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Merkle root of a list of items (each item is hashed as a leaf). */
export function merkleRoot(items: readonly Uint8Array[]): Uint8Array {
  if (items.length === 0) return EMPTY_HASH;
  return rootOfLeaves(items.map(leafHash));
}

function rootOfLeaves(leaves: readonly Uint8Array[], lo = 0, hi = leaves.length): Uint8Array {
  // Recursion depth is log2(n): the split point is a power of two. Index bounds, not slices.
  const n = hi - lo;
  if (n === 1) return leaves[lo]!;
  const k = lo + splitPoint(n);
  return innerHash(rootOfLeaves(leaves, lo, k), rootOfLeaves(leaves, k, hi));
}

const latin1 = new TextDecoder('latin1');
/** Items up to this size are looked up by content for a leaf hash already computed. */
const REPEAT_MAX_BYTES = 64;

/**
 * merkleRoot for lists whose items mostly repeat (tx results: every successful kvstore tx has
 * the same deterministic encoding). Equal small items share one leaf hash, and a subtree whose
 * two children are hashes already seen reuses its inner hash, so n equal items cost O(log n)
 * hashes instead of 2n. The root is merkleRoot's.
 */
export function merkleRootOfRepeats(items: readonly Uint8Array[]): Uint8Array {
  if (items.length === 0) return EMPTY_HASH;
  const leaves = new Map<string, Uint8Array>();
  const hashes = items.map((item) => {
    if (item.length > REPEAT_MAX_BYTES) return leafHash(item);
    const k = latin1.decode(item);
    let h = leaves.get(k);
    if (!h) leaves.set(k, (h = leafHash(item)));
    return h;
  });
  // by identity: equal children are the same object whenever they came from these maps
  const inner = new Map<Uint8Array, Map<Uint8Array, Uint8Array>>();
  const root = (lo: number, hi: number): Uint8Array => {
    const n = hi - lo;
    if (n === 1) return hashes[lo]!;
    const k = lo + splitPoint(n);
    const left = root(lo, k);
    const right = root(k, hi);
    let byRight = inner.get(left);
    if (!byRight) inner.set(left, (byRight = new Map()));
    let h = byRight.get(right);
    if (!h) byRight.set(right, (h = innerHash(left, right)));
    return h;
  };
  return root(0, hashes.length);
}

/** An inclusion proof: the leaf's position, the leaf hash, and the sibling hashes bottom-up. */
export interface MerkleProof {
  readonly total: number;
  readonly index: number;
  readonly leafHash: Uint8Array;
  readonly aunts: readonly Uint8Array[];
}

/** Root plus one inclusion proof per item, in item order. */
export function merkleProofs(items: readonly Uint8Array[]): { root: Uint8Array; proofs: MerkleProof[] } {
  const leaves = items.map(leafHash);
  const total = leaves.length;
  if (total === 0) return { root: EMPTY_HASH, proofs: [] };
  const aunts: Uint8Array[][] = leaves.map(() => []);
  const build = (lo: number, hi: number): Uint8Array => {
    const n = hi - lo;
    if (n === 1) return leaves[lo]!;
    const mid = lo + splitPoint(n);
    const left = build(lo, mid);
    const right = build(mid, hi);
    for (let i = lo; i < mid; i++) aunts[i]!.push(right);
    for (let i = mid; i < hi; i++) aunts[i]!.push(left);
    return innerHash(left, right);
  };
  const root = build(0, total);
  return {
    root,
    proofs: leaves.map((leaf, index) => ({ total, index, leafHash: leaf, aunts: aunts[index]! })),
  };
}

/** Recompute the root a proof implies; throws CryptoError if the proof is malformed. */
export function rootFromProof(proof: MerkleProof): Uint8Array {
  const { total, index, aunts } = proof;
  if (!Number.isSafeInteger(total) || total < 1) throw new CryptoError('proof total must be >= 1', { total });
  if (!Number.isSafeInteger(index) || index < 0 || index >= total)
    throw new CryptoError('proof index out of range', { index, total });
  if (aunts.length > MAX_AUNTS) throw new CryptoError('proof has too many aunts', { aunts: aunts.length });
  if (proof.leafHash.length !== HASH_SIZE) throw new CryptoError('leaf hash must be 32 bytes', { size: proof.leafHash.length });
  for (const a of aunts) if (a.length !== HASH_SIZE) throw new CryptoError('aunt must be 32 bytes', { size: a.length });
  const compute = (idx: number, tot: number, leaf: Uint8Array, trail: readonly Uint8Array[]): Uint8Array => {
    if (tot === 1) {
      if (trail.length !== 0) throw new CryptoError('proof has extra aunts', { index, total });
      return leaf;
    }
    if (trail.length === 0) throw new CryptoError('proof has too few aunts', { index, total });
    const k = splitPoint(tot);
    const sibling = trail[trail.length - 1]!;
    const rest = trail.slice(0, -1);
    return idx < k
      ? innerHash(compute(idx, k, leaf, rest), sibling)
      : innerHash(sibling, compute(idx - k, tot - k, leaf, rest));
  };
  return compute(index, total, proof.leafHash, aunts);
}

/** True when `item` is the proof's leaf and the proof leads to `root`. */
export function verifyProof(proof: MerkleProof, root: Uint8Array, item: Uint8Array): boolean {
  try {
    if (!bytesEqual(leafHash(item), proof.leafHash)) return false;
    return bytesEqual(rootFromProof(proof), root);
  } catch (e) {
    if (e instanceof CryptoError) return false;
    throw e;
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic byte order (Go's bytes.Compare): negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
