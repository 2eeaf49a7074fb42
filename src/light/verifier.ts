// Light-client verification (CometBFT 0.38 light/verifier.go and the spec in
// spec/light-client/verification/, restated). One step: given a trusted block, decide whether
// an untrusted block at a greater height can be trusted.
//
//   adjacent (h = trusted + 1):  untrusted.validators_hash = trusted.next_validators_hash, and
//                                > 2/3 of the untrusted validators signed.
//   non-adjacent (h > trusted+1): > trustLevel of the trusted next validators signed
//                                (else NOT_ENOUGH_TRUST), and > 2/3 of the untrusted validators signed.
//
// Both first require the trusted header to be within its trusting period and the untrusted
// header to be well-formed, consistent with its commit and validators, later than the trusted
// one and not from the future.
import { compareTime, formatTime, timeFromNanos, timeToNanos, toHex, type Header, type Timestamp } from '../codec/index.js';
import { bytesEqual, nobleBackend, ADDRESS_SIZE, HASH_SIZE } from '../crypto/index.js';
import { CommitVerifyError, validateCommitBasic, verifyCommitLight, verifyCommitLightTrusting, type Fraction } from '../types/commit-verify.js';
import { BLOCK_PROTOCOL, headerHash } from '../types/header.js';
import { LightInputError } from './errors.js';
import type { TrustedLightBlock, UntrustedLightBlock, VerificationResult, VerifyOptions } from './types.js';

export const DEFAULT_TRUST_LEVEL: Fraction = Object.freeze({ numerator: 1n, denominator: 3n });
/** CometBFT's light client default max clock drift: 10 s. */
export const DEFAULT_MAX_CLOCK_DRIFT = 10_000_000_000n;
const MAX_CHAIN_ID_LENGTH = 50;

const SUCCESS: VerificationResult = Object.freeze({ verdict: 'SUCCESS', reason: 'ok' });
const invalid = (reason: string): VerificationResult => ({ verdict: 'INVALID', reason });

/** Trust level must be within [1/3, 1] (ValidateTrustLevel); throws LightInputError otherwise. */
export function validateTrustLevel(level: Fraction): void {
  if (level.denominator <= 0n || level.numerator < 0n || level.numerator * 3n < level.denominator || level.numerator > level.denominator)
    throw new LightInputError(`trust level must be within [1/3, 1], got ${level.numerator}/${level.denominator}`, { ...level });
}

/** Expired when trusted time + trusting period is not after now. */
export function headerExpired(header: Header, trustingPeriod: bigint, now: Timestamp): boolean {
  return timeToNanos(header.time) + trustingPeriod <= timeToNanos(now);
}

/** Header.ValidateBasic: returns what is wrong, or undefined. */
export function headerBasicProblem(h: Header): string | undefined {
  if (h.version.block !== BLOCK_PROTOCOL) return `block protocol is ${h.version.block}, expected ${BLOCK_PROTOCOL}`;
  if (h.chainId.length > MAX_CHAIN_ID_LENGTH) return `chain id is longer than ${MAX_CHAIN_ID_LENGTH} characters`;
  if (h.height <= 0) return 'height must be positive';
  const hashes: [string, Uint8Array][] = [
    ['last_block_id.hash', h.lastBlockId.hash],
    ['last_block_id.parts.hash', h.lastBlockId.partSetHeader.hash],
    ['last_commit_hash', h.lastCommitHash],
    ['data_hash', h.dataHash],
    ['evidence_hash', h.evidenceHash],
    ['validators_hash', h.validatorsHash],
    ['next_validators_hash', h.nextValidatorsHash],
    ['consensus_hash', h.consensusHash],
    ['last_results_hash', h.lastResultsHash],
  ];
  for (const [name, hash] of hashes) if (hash.length !== 0 && hash.length !== HASH_SIZE) return `${name} must be empty or ${HASH_SIZE} bytes, got ${hash.length}`;
  if (h.proposerAddress.length !== ADDRESS_SIZE) return `proposer address must be ${ADDRESS_SIZE} bytes, got ${h.proposerAddress.length}`;
  return undefined;
}

/** The trusted block must agree with itself, or nothing built on it means anything. */
function checkTrusted(trusted: TrustedLightBlock): void {
  const h = trusted.signedHeader.header;
  if (!bytesEqual(trusted.nextValidators.hash(), h.nextValidatorsHash))
    throw new LightInputError('trusted next validator set does not match the trusted header', {
      height: h.height,
      header: toHex(h.nextValidatorsHash),
      validators: toHex(trusted.nextValidators.hash()),
    });
}

/**
 * Everything but the commit signatures (verifyNewHeaderAndVals plus expiry): the reason the
 * untrusted block is INVALID, or undefined.
 */
function headerProblem(trusted: TrustedLightBlock, untrusted: UntrustedLightBlock, opts: VerifyOptions): string | undefined {
  const th = trusted.signedHeader.header;
  const { header: uh, commit } = untrusted.signedHeader;
  if (headerExpired(th, opts.trustingPeriod, opts.now))
    return `trusted header at height ${th.height} expired at ${formatTime(timeFromNanos(timeToNanos(th.time) + opts.trustingPeriod))} (now ${formatTime(opts.now)})`;

  // SignedHeader.ValidateBasic
  const basic = headerBasicProblem(uh);
  if (basic !== undefined) return `invalid header: ${basic}`;
  try {
    validateCommitBasic(commit);
  } catch (e) {
    if (e instanceof CommitVerifyError) return `invalid commit: ${e.message}`;
    throw e;
  }
  if (uh.chainId !== th.chainId) return `header belongs to chain ${JSON.stringify(uh.chainId)}, not ${JSON.stringify(th.chainId)}`;
  if (commit.height !== uh.height) return `header height ${uh.height} and commit height ${commit.height} differ`;
  const hash = headerHash(uh);
  if (!bytesEqual(hash, commit.blockId.hash)) return `commit signs block ${toHex(commit.blockId.hash)}, header is block ${toHex(hash)}`;

  // LightBlock.ValidateBasic: a light block has validators.
  if (untrusted.validators.isEmpty()) return 'validator set is empty';

  if (uh.height <= th.height) return `header height ${uh.height} is not greater than the trusted height ${th.height}`;
  if (compareTime(uh.time, th.time) <= 0) return `header time ${formatTime(uh.time)} is not after the trusted header time ${formatTime(th.time)}`;
  const drift = opts.maxClockDrift ?? DEFAULT_MAX_CLOCK_DRIFT;
  if (timeToNanos(uh.time) >= timeToNanos(opts.now) + drift)
    return `header time ${formatTime(uh.time)} is from the future (now ${formatTime(opts.now)}, max clock drift ${drift} ns)`;
  if (!bytesEqual(uh.validatorsHash, untrusted.validators.hash()))
    return `header validators hash ${toHex(uh.validatorsHash)} does not match the supplied validators (${toHex(untrusted.validators.hash())})`;
  // Not in CometBFT's verifier (its light block has no next set); needed for the block to be
  // trusted next, and checked by tendermint-rs.
  if (untrusted.nextValidators !== undefined && !bytesEqual(uh.nextValidatorsHash, untrusted.nextValidators.hash()))
    return `header next validators hash ${toHex(uh.nextValidatorsHash)} does not match the supplied next validators (${toHex(untrusted.nextValidators.hash())})`;
  return undefined;
}

/** > 2/3 of the untrusted block's own validators signed it (VerifyCommitLight). */
function signedByOwnValidators(trusted: TrustedLightBlock, untrusted: UntrustedLightBlock, opts: VerifyOptions): VerificationResult {
  const { header, commit } = untrusted.signedHeader;
  try {
    verifyCommitLight(trusted.signedHeader.header.chainId, untrusted.validators, commit.blockId, header.height, commit, opts.backend ?? nobleBackend);
  } catch (e) {
    if (e instanceof CommitVerifyError) return invalid(`commit not signed by +2/3 of its validators: ${e.message}`);
    throw e;
  }
  return SUCCESS;
}

/** Verify a block at exactly trusted height + 1. */
export function verifyAdjacent(trusted: TrustedLightBlock, untrusted: UntrustedLightBlock, opts: VerifyOptions): VerificationResult {
  checkTrusted(trusted);
  const th = trusted.signedHeader.header;
  const uh = untrusted.signedHeader.header;
  if (uh.height !== th.height + 1) return invalid(`headers must be adjacent: trusted height ${th.height}, untrusted ${uh.height}`);
  const problem = headerProblem(trusted, untrusted, opts);
  if (problem !== undefined) return invalid(problem);
  if (!bytesEqual(uh.validatorsHash, th.nextValidatorsHash))
    return invalid(`header validators hash ${toHex(uh.validatorsHash)} does not match the trusted next validators hash ${toHex(th.nextValidatorsHash)}`);
  return signedByOwnValidators(trusted, untrusted, opts);
}

/** Verify a block more than one height above the trusted one (skipping). */
export function verifyNonAdjacent(trusted: TrustedLightBlock, untrusted: UntrustedLightBlock, opts: VerifyOptions): VerificationResult {
  checkTrusted(trusted);
  const trustLevel = opts.trustLevel ?? DEFAULT_TRUST_LEVEL;
  validateTrustLevel(trustLevel);
  const th = trusted.signedHeader.header;
  const uh = untrusted.signedHeader.header;
  if (uh.height === th.height + 1) return invalid(`headers must not be adjacent: trusted height ${th.height}, untrusted ${uh.height}`);
  const problem = headerProblem(trusted, untrusted, opts);
  if (problem !== undefined) return invalid(problem);
  try {
    verifyCommitLightTrusting(th.chainId, trusted.nextValidators, untrusted.signedHeader.commit, trustLevel, opts.backend ?? nobleBackend);
  } catch (e) {
    if (!(e instanceof CommitVerifyError)) throw e;
    if (e.kind === 'not_enough_power')
      return { verdict: 'NOT_ENOUGH_TRUST', reason: `trusted validators signed too little: ${e.message} (trust level ${trustLevel.numerator}/${trustLevel.denominator})` };
    return invalid(`commit check against the trusted validators failed: ${e.message}`);
  }
  // Last, as in CometBFT: the untrusted set can be made huge to slow the client down.
  return signedByOwnValidators(trusted, untrusted, opts);
}

/** One verification step, adjacent or skipping by height. */
export function verify(trusted: TrustedLightBlock, untrusted: UntrustedLightBlock, opts: VerifyOptions): VerificationResult {
  return untrusted.signedHeader.header.height === trusted.signedHeader.header.height + 1
    ? verifyAdjacent(trusted, untrusted, opts)
    : verifyNonAdjacent(trusted, untrusted, opts);
}
