import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { PrivKey, addressOf, nobleBackend, nodeBackend, sha256 } from '../../src/crypto/index.js';
import { fromHex, toHex } from '../../src/codec/index.js';

const SEED = 0x7a11e;

describe('ed25519 backends', () => {
  // RFC 8032, section 7.1, TEST 2: an independent known answer, not computed by our code.
  test('RFC 8032 test vector 2 on both backends', () => {
    const seed = fromHex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');
    const pub = fromHex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
    const sig = fromHex(
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    );
    const msg = fromHex('72');
    for (const b of [nobleBackend, nodeBackend]) {
      expect(toHex(b.publicKey(seed))).toBe(toHex(pub));
      expect(toHex(b.sign(seed, msg))).toBe(toHex(sig));
      expect(b.verify(pub, msg, sig)).toBe(true);
    }
  });

  test('both backends produce and accept the same bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, msg) => {
        const a = nobleBackend.sign(seed, msg);
        const b = nodeBackend.sign(seed, msg);
        expect(toHex(a)).toBe(toHex(b));
        const pub = nobleBackend.publicKey(seed);
        expect(toHex(nodeBackend.publicKey(seed))).toBe(toHex(pub));
        expect(nobleBackend.verify(pub, msg, b)).toBe(true);
        expect(nodeBackend.verify(pub, msg, a)).toBe(true);
        // a flipped bit is rejected by both
        const bad = a.slice();
        bad[msg.length % 64] = bad[msg.length % 64]! ^ (1);
        expect(nobleBackend.verify(pub, msg, bad)).toBe(false);
        expect(nodeBackend.verify(pub, msg, bad)).toBe(false);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  test('a signature verified once still binds its key and message (the node backend remembers valid triples)', () => {
    const [a, b] = [PrivKey.generate(), PrivKey.generate()];
    const msg = new Uint8Array([7, 7, 7]);
    const sig = a.sign(msg);
    for (let i = 0; i < 3; i++) expect(nodeBackend.verify(a.pubKey.bytes, msg, sig)).toBe(true);
    // after it was remembered: any change to key, message or signature is still rejected
    expect(nodeBackend.verify(b.pubKey.bytes, msg, sig)).toBe(false);
    expect(nodeBackend.verify(a.pubKey.bytes, new Uint8Array([7, 7]), sig)).toBe(false);
    expect(nodeBackend.verify(a.pubKey.bytes, new Uint8Array([7, 7, 7, 0]), sig)).toBe(false);
    const flipped = sig.slice();
    flipped[63] = flipped[63]! ^ 1;
    expect(nodeBackend.verify(a.pubKey.bytes, msg, flipped)).toBe(false);
    expect(nodeBackend.verify(a.pubKey.bytes, msg, flipped)).toBe(false);
    // the key's bytes and the signature's bytes are not interchangeable across the boundary
    expect(nodeBackend.verify(a.pubKey.bytes, msg, Uint8Array.from([...sig.subarray(1), msg[0]!]))).toBe(false);
  });

  test('wrong-sized keys and signatures are rejected, not thrown', () => {
    const key = PrivKey.generate();
    const sig = key.sign(new Uint8Array([1]));
    for (const b of [nobleBackend, nodeBackend]) {
      expect(b.verify(key.pubKey.bytes.subarray(1), new Uint8Array([1]), sig)).toBe(false);
      expect(b.verify(key.pubKey.bytes, new Uint8Array([1]), sig.subarray(1))).toBe(false);
      expect(b.verify(new Uint8Array(32).fill(0xff), new Uint8Array([1]), sig)).toBe(false);
    }
  });

  test('CometBFT 64-byte private key form round-trips and is checked', () => {
    const key = PrivKey.generate();
    const back = PrivKey.fromCometBytes(key.cometBytes());
    expect(toHex(back.pubKey.bytes)).toBe(toHex(key.pubKey.bytes));
    const tampered = key.cometBytes();
    tampered[40] = tampered[40]! ^ (1);
    expect(() => PrivKey.fromCometBytes(tampered)).toThrow(/does not match/);
    expect(() => PrivKey.fromCometBytes(new Uint8Array(10))).toThrow(/64 bytes/);
  });

  test('address is the first 20 bytes of sha256(pubkey)', () => {
    const key = PrivKey.generate();
    expect(toHex(addressOf(key.pubKey.bytes))).toBe(toHex(sha256(key.pubKey.bytes).subarray(0, 20)));
    expect(key.pubKey.address.length).toBe(20);
  });
});
