// `tally light verify`: one verification step from JSON text, for the CLI.
import { parseTime, DecodeError, type Timestamp } from '../codec/index.js';
import type { Fraction } from '../types/commit-verify.js';
import { ValidatorSetError } from '../types/validator-set.js';
import { LightInputError } from './errors.js';
import { parseLightJson, trustedLightBlockFromJson, untrustedLightBlockFromJson } from './json.js';
import type { VerificationResult } from './types.js';
import { DEFAULT_MAX_CLOCK_DRIFT, DEFAULT_TRUST_LEVEL, validateTrustLevel, verify } from './verifier.js';

export interface LightVerifyCommandOptions {
  /** The trusted light block: signed_header + next_validator_set. */
  readonly trustedJson: string;
  /** The block to verify: signed_header + validator_set (+ next_validator_set). */
  readonly untrustedJson: string;
  readonly trustingPeriodSeconds: number;
  /** RFC 3339. */
  readonly now: string;
  /** "numerator/denominator", default "1/3". */
  readonly trustLevel?: string;
  /** Default 10 (CometBFT's light client default). */
  readonly maxClockDriftSeconds?: number;
}

/** Parse "1/3" into a fraction in [1/3, 1]; throws LightInputError. */
export function parseTrustLevel(s: string): Fraction {
  const m = /^\s*(\d{1,20})\s*\/\s*(\d{1,20})\s*$/.exec(s);
  if (!m) throw new LightInputError(`trust level must look like "1/3", got ${JSON.stringify(s)}`, { trustLevel: s });
  const level = { numerator: BigInt(m[1]!), denominator: BigInt(m[2]!) };
  validateTrustLevel(level);
  return level;
}

/** Seconds (possibly fractional, non-negative) as exact-enough nanoseconds. */
export function secondsToNanos(seconds: number, what: string): bigint {
  if (!Number.isFinite(seconds) || seconds < 0) throw new LightInputError(`${what} must be a non-negative number of seconds`, { [what]: seconds });
  const whole = Math.trunc(seconds);
  return BigInt(whole) * 1_000_000_000n + BigInt(Math.round((seconds - whole) * 1e9));
}

function parseNow(s: string): Timestamp {
  try {
    return parseTime(s, 'now');
  } catch (e) {
    if (e instanceof DecodeError) throw new LightInputError(`now: ${e.message}`, { now: s }, { cause: e });
    throw e;
  }
}

/**
 * Verify `untrustedJson` against `trustedJson`. Returns the verdict; throws LightInputError
 * only when the input cannot be read. An untrusted validator set that breaks the set rules
 * (duplicate, address not matching its key, bad power) is a verdict: INVALID.
 */
export function lightVerifyCommand(opts: LightVerifyCommandOptions): VerificationResult {
  const trustingPeriod = secondsToNanos(opts.trustingPeriodSeconds, 'trustingPeriodSeconds');
  if (trustingPeriod === 0n) throw new LightInputError('trusting period must be positive', { trustingPeriodSeconds: opts.trustingPeriodSeconds });
  const maxClockDrift = opts.maxClockDriftSeconds === undefined ? DEFAULT_MAX_CLOCK_DRIFT : secondsToNanos(opts.maxClockDriftSeconds, 'maxClockDriftSeconds');
  const trustLevel = opts.trustLevel === undefined ? DEFAULT_TRUST_LEVEL : parseTrustLevel(opts.trustLevel);
  const now = parseNow(opts.now);
  const trusted = trustedLightBlockFromJson(parseLightJson(opts.trustedJson, 'trusted'), 'trusted');
  let untrusted;
  try {
    untrusted = untrustedLightBlockFromJson(parseLightJson(opts.untrustedJson, 'untrusted'), 'untrusted');
  } catch (e) {
    if (e instanceof LightInputError && e.cause instanceof ValidatorSetError) return { verdict: 'INVALID', reason: e.message };
    throw e;
  }
  return verify(trusted, untrusted, { trustingPeriod, now, maxClockDrift, trustLevel });
}
