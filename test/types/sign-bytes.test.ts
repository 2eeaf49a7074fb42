import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BlockIDFlag, asArray, asObject, commitFromJson, headerFromJson, parseJson, toHex, validatorFromJson, type Json } from '../../src/codec/index.js';
import { nobleBackend, nodeBackend } from '../../src/crypto/index.js';
import { commitSigSignBytes, voteSignBytes } from '../../src/types/vote.js';
import { headerHash } from '../../src/types/header.js';
import { sharedPath } from '../helpers/shared.js';

// Signatures made by CometBFT-era software (tendermint-rs test generator) over real sign-bytes:
// if our CanonicalVote encoding differed by one byte, none of them would verify.
describe('vote sign-bytes are byte-compatible with CometBFT', () => {
  const dir = sharedPath('vectors', 'light', 'model_based', 'single_step');
  const file = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()[0]!;
  const initial = asObject(asObject(parseJson(readFileSync(join(dir, file), 'utf8')), file).initial, 'initial');
  const signed = asObject(initial.signed_header, 'signed_header');
  const header = headerFromJson(signed.header);
  const commit = commitFromJson(signed.commit);
  const keys = new Map<string, Uint8Array>();
  for (const v of asArray(asObject(initial.next_validator_set, 'nvs').validators, 'validators')) {
    const val = validatorFromJson(v as Json, 'v');
    keys.set(toHex(val.address), val.pubKey);
  }

  test('the commit is for this header', () => {
    expect(toHex(commit.blockId.hash)).toBe(toHex(headerHash(header)));
  });

  test('every COMMIT signature verifies under both backends', () => {
    let verified = 0;
    commit.signatures.forEach((sig, i) => {
      if (sig.blockIdFlag !== BlockIDFlag.Commit) return;
      const pub = keys.get(toHex(sig.validatorAddress));
      if (!pub) return; // signer not in the set we have keys for
      const bytes = commitSigSignBytes(header.chainId, commit, i);
      expect(nobleBackend.verify(pub, bytes, sig.signature)).toBe(true);
      expect(nodeBackend.verify(pub, bytes, sig.signature)).toBe(true);
      // and a different chain id breaks it
      expect(nobleBackend.verify(pub, voteSignBytes('other', { type: 2, height: commit.height, round: commit.round, blockId: commit.blockId, timestamp: sig.timestamp }), sig.signature)).toBe(false);
      verified++;
    });
    expect(verified).toBeGreaterThan(0);
  });
});
