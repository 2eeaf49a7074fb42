import { createHash, hash } from 'node:crypto';

export const HASH_SIZE = 32;

/** SHA-256 of the concatenation of the given byte arrays. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) {
    // one-shot: no Hash object (about half the cost for the small inputs hashed by the thousand)
    const d = hash('sha256', parts[0]!, 'buffer');
    return new Uint8Array(d.buffer, d.byteOffset, d.length);
  }
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  const d = h.digest();
  // a plain Uint8Array over the digest's memory (Buffers compare unequal to Uint8Arrays in tests; no copy)
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
}

/** SHA-256 of the empty string: the root of an empty merkle tree, and CometBFT's empty data hash. */
export const EMPTY_HASH: Uint8Array = sha256();
