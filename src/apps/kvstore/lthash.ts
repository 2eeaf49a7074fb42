// LtHash16: a homomorphic multiset hash (Bellare–Micciancio's "AdHash" family in the lattice
// variant, as Facebook's folly and Solana's accounts hash use it). The state is 1024 lanes of
// uint16; an element's hash is 2048 bytes of SHAKE256 output read as 1024 little-endian uint16
// lanes; adding an element adds lane-wise mod 2^16, removing it subtracts. So the hash of a set is
// independent of insertion order, and a change of one (key, value) costs O(1) hashes instead of
// rehashing the state.
//
// Security assumption: with SHAKE256 modelled as a random oracle, finding two different multisets
// with the same LtHash16 (n = 1024, q = 2^16) is as hard as a short-integer-solution lattice
// problem; Lewi et al. ("Securing Update Propagation with Homomorphic Hashing", 2019) estimate
// over 200 bits of security for these parameters. Multiplicities count mod 2^16, which is harmless
// here because the kvstore's state is a set: every key appears in exactly one element. The hash is
// a commitment, not an authenticated structure: it cannot produce membership proofs.
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { sha256 } from '../../crypto/index.js';

export const LTHASH_LANES = 1024;
export const LTHASH_BYTES = LTHASH_LANES * 2;

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * The 1024 lanes an element contributes, read little-endian whatever the platform. SHAKE256 of
 * 2048 bytes dominates the cost (~30-40 µs per element with node's OpenSSL), so on little-endian
 * hosts the digest is viewed in place rather than copied lane by lane.
 */
export function laneHash(element: Uint8Array): Uint16Array {
  const out = createHash('shake256', { outputLength: LTHASH_BYTES }).update(element).digest();
  if (LITTLE_ENDIAN && out.byteOffset % 2 === 0) return new Uint16Array(out.buffer, out.byteOffset, LTHASH_LANES);
  const lanes = new Uint16Array(LTHASH_LANES);
  for (let i = 0; i < LTHASH_LANES; i++) lanes[i] = out[2 * i]! | (out[2 * i + 1]! << 8);
  return lanes;
}

export class LtHash16 {
  private constructor(private readonly lanes: Uint16Array) {}

  /** The hash of the empty multiset: all lanes zero. */
  static empty(): LtHash16 {
    return new LtHash16(new Uint16Array(LTHASH_LANES));
  }

  /** Parse the 2048-byte form produced by toBytes. */
  static fromBytes(bytes: Uint8Array): LtHash16 {
    if (bytes.length !== LTHASH_BYTES) throw new RangeError(`LtHash16 state must be ${LTHASH_BYTES} bytes, got ${bytes.length}`);
    const lanes = new Uint16Array(LTHASH_LANES);
    for (let i = 0; i < LTHASH_LANES; i++) lanes[i] = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
    return new LtHash16(lanes);
  }

  clone(): LtHash16 {
    return new LtHash16(this.lanes.slice());
  }

  add(element: Uint8Array): this {
    const h = laneHash(element);
    // Uint16Array stores wrap mod 2^16, which is exactly the group operation
    for (let i = 0; i < LTHASH_LANES; i++) this.lanes[i] = this.lanes[i]! + h[i]!;
    return this;
  }

  remove(element: Uint8Array): this {
    const h = laneHash(element);
    for (let i = 0; i < LTHASH_LANES; i++) this.lanes[i] = this.lanes[i]! - h[i]!;
    return this;
  }

  equals(other: LtHash16): boolean {
    for (let i = 0; i < LTHASH_LANES; i++) if (this.lanes[i] !== other.lanes[i]) return false;
    return true;
  }

  /** The 2048-byte little-endian form, stored with each commit. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(LTHASH_BYTES);
    for (let i = 0; i < LTHASH_LANES; i++) {
      const v = this.lanes[i]!;
      out[2 * i] = v & 0xff;
      out[2 * i + 1] = v >>> 8;
    }
    return out;
  }

  /** SHA-256 of the 2048-byte form: the 32-byte app hash. */
  digest(): Uint8Array {
    return sha256(this.toBytes());
  }
}

/** App hash of the empty state: SHA-256 of 2048 zero bytes. */
export const EMPTY_STATE_HASH: Uint8Array = LtHash16.empty().digest();
