// ed25519 behind one interface with two backends: @noble/curves (portable; what keys and the
// light client use) and node:crypto (OpenSSL; ~10-20x faster verification for the node's hot
// paths). Both produce identical signatures (ed25519 is deterministic) — tested.
//
// Verification rules differ at the edges: noble is run with ZIP-215 (as CometBFT's
// curve25519-voi verifier is), OpenSSL follows RFC 8032 strictly. They agree on every
// signature an honest signer makes; only hand-crafted non-canonical signatures can split them.
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { CryptoError } from './errors.js';
import { sha256 } from './hash.js';

export const PUBKEY_SIZE = 32;
export const SEED_SIZE = 32;
export const SIGNATURE_SIZE = 64;
export const ADDRESS_SIZE = 20;

export interface Ed25519Backend {
  readonly name: string;
  /** Public key of a 32-byte seed. */
  publicKey(seed: Uint8Array): Uint8Array;
  sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /** False for any wrong-sized input rather than throwing: callers treat it as a bad signature. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

function checkSeed(seed: Uint8Array): void {
  if (seed.length !== SEED_SIZE) throw new CryptoError('ed25519 seed must be 32 bytes', { size: seed.length });
}

export const nobleBackend: Ed25519Backend = {
  name: 'noble',
  publicKey(seed) {
    checkSeed(seed);
    return ed25519.getPublicKey(seed);
  },
  sign(seed, message) {
    checkSeed(seed);
    return ed25519.sign(message, seed);
  },
  verify(publicKey, message, signature) {
    if (publicKey.length !== PUBKEY_SIZE || signature.length !== SIGNATURE_SIZE) return false;
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: true });
    } catch {
      return false; // a public key that is not a curve point
    }
  },
};

// DER prefixes that wrap raw ed25519 keys as PKCS#8 / SPKI, which is how node:crypto imports them.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Importing a key costs more than a verification; validators are few, so cache them (bounded). */
const PUBKEY_CACHE_MAX = 4096;
const pubKeyCache = new Map<string, KeyObject | null>();

function nodePublicKey(publicKey: Uint8Array): KeyObject | null {
  const id = Buffer.from(publicKey).toString('hex');
  const cached = pubKeyCache.get(id);
  if (cached !== undefined) return cached;
  let key: KeyObject | null;
  try {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch {
    key = null;
  }
  if (pubKeyCache.size >= PUBKEY_CACHE_MAX) pubKeyCache.delete(pubKeyCache.keys().next().value as string);
  pubKeyCache.set(id, key);
  return key;
}

/** Keyed by the seed array itself (PrivKey keeps one), so a key object never outlives its PrivKey. */
const privKeyCache = new WeakMap<Uint8Array, KeyObject>();

function nodePrivateKey(seed: Uint8Array): KeyObject {
  checkSeed(seed);
  let key = privKeyCache.get(seed);
  if (!key) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    privKeyCache.set(seed, key);
  }
  return key;
}

export const nodeBackend: Ed25519Backend = {
  name: 'node',
  publicKey(seed) {
    const spki = createPublicKey(nodePrivateKey(seed)).export({ format: 'der', type: 'spki' });
    return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  },
  sign(seed, message) {
    return new Uint8Array(nodeSign(null, message, nodePrivateKey(seed)));
  },
  verify(publicKey, message, signature) {
    if (publicKey.length !== PUBKEY_SIZE || signature.length !== SIGNATURE_SIZE) return false;
    const id = verifiedId(publicKey, message, signature);
    if (verified.has(id)) return true;
    const key = nodePublicKey(publicKey);
    if (key === null) return false;
    let ok: boolean;
    try {
      ok = nodeVerify(null, message, key, signature);
    } catch {
      return false;
    }
    if (ok) remember(id);
    return ok;
  },
};

// A node verifies the same signature several times: a precommit when it arrives, again in the
// next block's last commit (when the proposal is validated and when the block is applied), a
// re-sent or pulled vote again. Verification is a pure function of (key, message, signature), so
// a bounded memo of triples found valid answers those repeats for a hash (~2 µs) instead of a
// verification (~200 µs). Only valid triples are kept: replaying them gains an attacker nothing.
const VERIFIED_MAX = 16_384;
const verified = new Set<string>();

function verifiedId(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): string {
  return createHash('sha256').update(publicKey).update(signature).update(message).digest('base64');
}

function remember(id: string): void {
  if (verified.size >= VERIFIED_MAX) verified.delete(verified.values().next().value as string);
  verified.add(id);
}

/** ed25519 address: the first 20 bytes of SHA-256(public key). */
export function addressOf(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== PUBKEY_SIZE) throw new CryptoError('ed25519 public key must be 32 bytes', { size: publicKey.length });
  return sha256(publicKey).subarray(0, ADDRESS_SIZE);
}

/** A public key with its address computed once. */
export class PubKey {
  readonly address: Uint8Array;
  constructor(readonly bytes: Uint8Array) {
    this.address = addressOf(bytes);
  }
  verify(message: Uint8Array, signature: Uint8Array, backend: Ed25519Backend = nobleBackend): boolean {
    return backend.verify(this.bytes, message, signature);
  }
}

/** A private key (32-byte seed). CometBFT files store seed ‖ public key (64 bytes). */
export class PrivKey {
  readonly pubKey: PubKey;
  private constructor(private readonly seed: Uint8Array) {
    this.pubKey = new PubKey(nobleBackend.publicKey(seed));
  }
  static generate(): PrivKey {
    return new PrivKey(ed25519.utils.randomSecretKey());
  }
  static fromSeed(seed: Uint8Array): PrivKey {
    checkSeed(seed);
    return new PrivKey(Uint8Array.from(seed));
  }
  /** From CometBFT's 64-byte form (seed ‖ pub), checking the halves agree. */
  static fromCometBytes(bytes: Uint8Array): PrivKey {
    if (bytes.length !== SEED_SIZE + PUBKEY_SIZE)
      throw new CryptoError('ed25519 private key must be 64 bytes (seed ‖ public key)', { size: bytes.length });
    const key = new PrivKey(bytes.slice(0, SEED_SIZE));
    const pub = bytes.subarray(SEED_SIZE);
    if (!key.pubKey.bytes.every((b, i) => b === pub[i]))
      throw new CryptoError('ed25519 private key: public half does not match the seed');
    return key;
  }
  /** CometBFT's 64-byte form (seed ‖ pub). */
  cometBytes(): Uint8Array {
    const out = new Uint8Array(SEED_SIZE + PUBKEY_SIZE);
    out.set(this.seed, 0);
    out.set(this.pubKey.bytes, SEED_SIZE);
    return out;
  }
  seedBytes(): Uint8Array {
    return Uint8Array.from(this.seed);
  }
  sign(message: Uint8Array, backend: Ed25519Backend = nodeBackend): Uint8Array {
    const signature = backend.sign(this.seed, message);
    // a node checks its own precommit again in the next block's last commit; it is valid by construction
    if (backend === nodeBackend) remember(verifiedId(this.pubKey.bytes, message, signature));
    return signature;
  }
}
