import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  BlockIDFlag,
  SignedMsgType,
  asArray,
  asObject,
  commitToJson,
  headerToJson,
  parseJson,
  validatorToJson,
  type Commit,
  type Header,
  type Json,
  type Timestamp,
} from '../../src/codec/index.js';
import { PrivKey, sha256 } from '../../src/crypto/index.js';
import {
  LightInputError,
  lightVerifyCommand,
  parseTrustLevel,
  verify,
  verifyAdjacent,
  verifyNonAdjacent,
  type TrustedLightBlock,
  type UntrustedLightBlock,
  type VerifyOptions,
} from '../../src/light/index.js';
import { headerHash } from '../../src/types/header.js';
import { ValidatorSet } from '../../src/types/validator-set.js';
import { voteSignBytes } from '../../src/types/vote.js';
import { sharedPath } from '../helpers/shared.js';

const CHAIN = 'light-test';
const SECOND = 1_000_000_000n;
const HOUR = 3600n * SECOND;
const T0 = 1_700_000_000;
const at = (offsetSeconds: number): Timestamp => ({ seconds: T0 + offsetSeconds, nanos: 0 });

const keys = Array.from({ length: 6 }, (_, i) => PrivKey.fromSeed(sha256(new TextEncoder().encode(`light-test-${i}`))));
const keyByAddress = new Map(keys.map((k) => [Buffer.from(k.pubKey.address).toString('hex'), k]));

/** A set of keys[i] for each i in `members`, power 10 each. */
const setOf = (...members: number[]): ValidatorSet =>
  ValidatorSet.fromValidators(members.map((i) => ({ address: keys[i]!.pubKey.address, pubKey: keys[i]!.pubKey.bytes, votingPower: 10n, proposerPriority: 0n })));

interface BlockSpec {
  height: number;
  time: Timestamp;
  vals: ValidatorSet;
  next: ValidatorSet;
  chainId?: string;
  /** Which members sign (default all). */
  signers?: (address: Uint8Array) => boolean;
}

/** A header consistent with its validator sets and a commit signed by them. */
function block(spec: BlockSpec): UntrustedLightBlock {
  const header: Header = {
    version: { block: 11n, app: 0n },
    chainId: spec.chainId ?? CHAIN,
    height: spec.height,
    time: spec.time,
    lastBlockId: { hash: sha256(new Uint8Array([spec.height])), partSetHeader: { total: 1, hash: sha256(new Uint8Array([spec.height, 1])) } },
    lastCommitHash: sha256(),
    dataHash: sha256(),
    validatorsHash: spec.vals.hash(),
    nextValidatorsHash: spec.next.hash(),
    consensusHash: sha256(new Uint8Array([9])),
    appHash: new Uint8Array([1, 2, 3]),
    lastResultsHash: sha256(),
    evidenceHash: sha256(),
    proposerAddress: spec.vals.validators[0]!.address,
  };
  const blockId = { hash: headerHash(header), partSetHeader: { total: 1, hash: sha256(new Uint8Array([7])) } };
  const commitTime = { seconds: spec.time.seconds + 1, nanos: 0 };
  const sign = (address: Uint8Array): Uint8Array =>
    keyByAddress.get(Buffer.from(address).toString('hex'))!.sign(
      voteSignBytes(header.chainId, { type: SignedMsgType.Precommit, height: header.height, round: 0, blockId, timestamp: commitTime }),
    );
  const commit: Commit = {
    height: header.height,
    round: 0,
    blockId,
    signatures: spec.vals.validators.map((v) =>
      (spec.signers ?? (() => true))(v.address)
        ? { blockIdFlag: BlockIDFlag.Commit, validatorAddress: v.address, timestamp: commitTime, signature: sign(v.address) }
        : { blockIdFlag: BlockIDFlag.Absent, validatorAddress: new Uint8Array(0), timestamp: { seconds: 0, nanos: 0 }, signature: new Uint8Array(0) },
    ),
  };
  return { signedHeader: { header, commit }, validators: spec.vals, nextValidators: spec.next };
}

const trustedOf = (b: UntrustedLightBlock): TrustedLightBlock => ({ signedHeader: b.signedHeader, nextValidators: b.nextValidators! });

const V = setOf(0, 1, 2, 3);
const TRUSTED = trustedOf(block({ height: 10, time: at(0), vals: V, next: V }));
const opts = (nowSeconds: number, extra: Partial<VerifyOptions> = {}): VerifyOptions => ({ trustingPeriod: HOUR, now: at(nowSeconds), maxClockDrift: 0n, ...extra });

describe('verify', () => {
  test('adjacent block with the trusted next validators: SUCCESS', () => {
    const next = block({ height: 11, time: at(5), vals: V, next: V });
    expect(verify(TRUSTED, next, opts(10))).toEqual({ verdict: 'SUCCESS', reason: 'ok' });
    expect(verifyAdjacent(TRUSTED, next, opts(10)).verdict).toBe('SUCCESS');
  });

  test('skipping with an overlapping set: SUCCESS; with a disjoint set: NOT_ENOUGH_TRUST', () => {
    const overlap = setOf(0, 1, 4, 5); // 20 of the trusted 40 signed: more than 1/3
    expect(verify(TRUSTED, block({ height: 20, time: at(60), vals: overlap, next: overlap }), opts(100)).verdict).toBe('SUCCESS');
    const disjoint = setOf(4, 5);
    const result = verify(TRUSTED, block({ height: 20, time: at(60), vals: disjoint, next: disjoint }), opts(100));
    expect(result.verdict).toBe('NOT_ENOUGH_TRUST');
    expect(result.reason).toMatch(/insufficient voting power: got 0/);
  });

  test('skipping needs more than the trust level: exactly 1/3 is NOT_ENOUGH_TRUST', () => {
    const trusted = trustedOf(block({ height: 10, time: at(0), vals: setOf(0, 1, 2), next: setOf(0, 1, 2) }));
    const vals = setOf(0, 3, 4, 5); // only key 0 (10 of 30) from the trusted set
    expect(verify(trusted, block({ height: 12, time: at(5), vals, next: vals }), opts(10)).verdict).toBe('NOT_ENOUGH_TRUST');
    const vals2 = setOf(0, 1, 4); // 20 of 30
    expect(verify(trusted, block({ height: 12, time: at(5), vals: vals2, next: vals2 }), opts(10)).verdict).toBe('SUCCESS');
  });

  test('trusted but not signed by +2/3 of its own validators: INVALID', () => {
    const vals = setOf(0, 1, 2, 4, 5, 3);
    const weak = block({ height: 20, time: at(60), vals, next: vals, signers: (a) => [0, 1, 2, 3].some((i) => Buffer.from(keys[i]!.pubKey.address).equals(a)) });
    const r = verify(TRUSTED, weak, opts(100));
    expect(r.verdict).toBe('INVALID'); // 40 of 60 is exactly 2/3
    expect(r.reason).toMatch(/\+2\/3/);
  });

  test('expired trust: INVALID, including exactly at the end of the trusting period', () => {
    const next = block({ height: 11, time: at(5), vals: V, next: V });
    expect(verify(TRUSTED, next, opts(3600 - 1, { maxClockDrift: 0n })).verdict).toBe('SUCCESS');
    const r = verify(TRUSTED, next, opts(3600));
    expect(r.verdict).toBe('INVALID');
    expect(r.reason).toMatch(/expired/);
  });

  test('a header from the future: INVALID unless within the clock drift', () => {
    const future = block({ height: 11, time: at(50), vals: V, next: V });
    const r = verify(TRUSTED, future, opts(50));
    expect(r.verdict).toBe('INVALID'); // time == now is not before now + 0
    expect(r.reason).toMatch(/future/);
    expect(verify(TRUSTED, future, opts(49, { maxClockDrift: 2n * SECOND })).verdict).toBe('SUCCESS');
    expect(verify(TRUSTED, future, opts(48, { maxClockDrift: 2n * SECOND })).verdict).toBe('INVALID');
  });

  test('wrong chain id: INVALID', () => {
    const r = verify(TRUSTED, block({ height: 11, time: at(5), vals: V, next: V, chainId: 'other-chain' }), opts(10));
    expect(r.verdict).toBe('INVALID');
    expect(r.reason).toMatch(/chain/);
  });

  test('height and time must move forward', () => {
    expect(verify(TRUSTED, block({ height: 10, time: at(5), vals: V, next: V }), opts(10)).reason).toMatch(/not greater/);
    expect(verify(TRUSTED, block({ height: 9, time: at(5), vals: V, next: V }), opts(10)).verdict).toBe('INVALID');
    expect(verify(TRUSTED, block({ height: 11, time: at(0), vals: V, next: V }), opts(10)).reason).toMatch(/not after/);
  });

  test('adjacent: validators must be the trusted next validators', () => {
    const other = setOf(0, 1, 2, 3, 4);
    const r = verify(TRUSTED, block({ height: 11, time: at(5), vals: other, next: other }), opts(10));
    expect(r.verdict).toBe('INVALID');
    expect(r.reason).toMatch(/trusted next validators/);
  });

  test('supplied validators must match the header', () => {
    const b = block({ height: 11, time: at(5), vals: V, next: V });
    expect(verify(TRUSTED, { ...b, validators: setOf(0, 1, 2) }, opts(10)).reason).toMatch(/does not match the supplied validators/);
    expect(verify(TRUSTED, { ...b, nextValidators: setOf(0, 1, 2) }, opts(10)).reason).toMatch(/supplied next validators/);
  });

  test('a commit for another header: INVALID', () => {
    const b = block({ height: 11, time: at(5), vals: V, next: V });
    const other = block({ height: 11, time: at(6), vals: V, next: V });
    const mixed = { ...b, signedHeader: { header: b.signedHeader.header, commit: other.signedHeader.commit } };
    expect(verify(TRUSTED, mixed, opts(10)).reason).toMatch(/commit signs block/);
  });

  test('verifyAdjacent / verifyNonAdjacent refuse the other kind', () => {
    expect(verifyAdjacent(TRUSTED, block({ height: 12, time: at(5), vals: V, next: V }), opts(10)).verdict).toBe('INVALID');
    expect(verifyNonAdjacent(TRUSTED, block({ height: 11, time: at(5), vals: V, next: V }), opts(10)).verdict).toBe('INVALID');
  });

  test('bad trust levels and an inconsistent trusted block are input errors', () => {
    const next = block({ height: 12, time: at(5), vals: V, next: V });
    expect(() => verify(TRUSTED, next, opts(10, { trustLevel: { numerator: 1n, denominator: 4n } }))).toThrow(LightInputError);
    expect(() => verify(TRUSTED, next, opts(10, { trustLevel: { numerator: 4n, denominator: 3n } }))).toThrow(LightInputError);
    expect(() => verify({ ...TRUSTED, nextValidators: setOf(0) }, next, opts(10))).toThrow(LightInputError);
  });
});

describe('lightVerifyCommand', () => {
  const toJson = (b: UntrustedLightBlock): string =>
    JSON.stringify({
      signed_header: { header: headerToJson(b.signedHeader.header), commit: commitToJson(b.signedHeader.commit) },
      validator_set: { validators: b.validators.validators.map(validatorToJson) },
      next_validator_set: { validators: [...b.nextValidators!.validators].reverse().map(validatorToJson) }, // any order
    });
  const trustedJson = toJson(block({ height: 10, time: at(0), vals: V, next: V }));
  const iso = (s: number): string => new Date((T0 + s) * 1000).toISOString();

  test('verifies from JSON text', () => {
    const untrustedJson = toJson(block({ height: 15, time: at(5), vals: V, next: V }));
    expect(lightVerifyCommand({ trustedJson, untrustedJson, trustingPeriodSeconds: 3600, now: iso(10) })).toEqual({ verdict: 'SUCCESS', reason: 'ok' });
    expect(lightVerifyCommand({ trustedJson, untrustedJson, trustingPeriodSeconds: 5, now: iso(10) }).verdict).toBe('INVALID');
    // Default drift is 10 s: a header 5 s ahead of `now` passes, with 0 it does not.
    expect(lightVerifyCommand({ trustedJson, untrustedJson, trustingPeriodSeconds: 3600, now: iso(0.5) }).verdict).toBe('SUCCESS');
    expect(lightVerifyCommand({ trustedJson, untrustedJson, trustingPeriodSeconds: 3600, now: iso(0.5), maxClockDriftSeconds: 0 }).verdict).toBe('INVALID');
  });

  test('unreadable input throws LightInputError', () => {
    const untrustedJson = toJson(block({ height: 15, time: at(5), vals: V, next: V }));
    const base = { trustedJson, untrustedJson, trustingPeriodSeconds: 3600, now: iso(10) };
    expect(() => lightVerifyCommand({ ...base, trustedJson: '{' })).toThrow(LightInputError);
    expect(() => lightVerifyCommand({ ...base, untrustedJson: '{"signed_header": {}}' })).toThrow(LightInputError);
    expect(() => lightVerifyCommand({ ...base, now: 'yesterday' })).toThrow(LightInputError);
    expect(() => lightVerifyCommand({ ...base, trustLevel: '1/4' })).toThrow(LightInputError);
    expect(() => lightVerifyCommand({ ...base, trustLevel: 'a third' })).toThrow(LightInputError);
    expect(() => lightVerifyCommand({ ...base, trustingPeriodSeconds: -1 })).toThrow(LightInputError);
    const noNext = JSON.parse(trustedJson) as Record<string, Json>;
    delete noNext.next_validator_set;
    expect(() => lightVerifyCommand({ ...base, trustedJson: JSON.stringify(noNext) })).toThrow(/next_validator_set/);
  });

  test('an untrusted validator set breaking the set rules is INVALID, not an error', () => {
    const b = JSON.parse(toJson(block({ height: 15, time: at(5), vals: V, next: V }))) as { validator_set: { validators: Json[] } };
    b.validator_set.validators.push(b.validator_set.validators[0]!); // duplicate
    const r = lightVerifyCommand({ trustedJson, untrustedJson: JSON.stringify(b), trustingPeriodSeconds: 3600, now: iso(10) });
    expect(r.verdict).toBe('INVALID');
    expect(r.reason).toMatch(/duplicate/);
  });

  test('trust level parsing', () => {
    expect(parseTrustLevel('1/3')).toEqual({ numerator: 1n, denominator: 3n });
    expect(parseTrustLevel(' 2 / 3 ')).toEqual({ numerator: 2n, denominator: 3n });
    expect(() => parseTrustLevel('0/0')).toThrow(LightInputError);
  });

  test('reads a tendermint-rs vector step (null hashes, unsorted sets, null priorities)', () => {
    const doc = asObject(parseJson(readFileSync(sharedPath('vectors', 'light', 'model_based', 'single_step', 'MC4_4_faulty_TestSuccess.json'), 'utf8')), 'doc');
    const steps = asArray(doc.input, 'input').map((s) => asObject(s, 'step'));
    let trusted = JSON.stringify(doc.initial);
    const verdicts = steps.map((step) => {
      const untrustedJson = JSON.stringify(step.block);
      const r = lightVerifyCommand({ trustedJson: trusted, untrustedJson, trustingPeriodSeconds: 1400, now: String(step.now), maxClockDriftSeconds: 0 });
      if (r.verdict === 'SUCCESS') trusted = untrustedJson;
      return r.verdict;
    });
    expect(verdicts).toEqual(steps.map((s) => s.verdict));
  });
});
