import { createHash } from 'node:crypto';

export const HASH_SIZE = 32;

/** SHA-256 of the concatenation of the given byte arrays. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest()); // a plain Uint8Array: Buffers compare unequal to it in tests
}

/** SHA-256 of the empty string: the root of an empty merkle tree, and CometBFT's empty data hash. */
export const EMPTY_HASH: Uint8Array = sha256();
