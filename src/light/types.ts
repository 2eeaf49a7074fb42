// The light client's inputs and outputs.
import type { Commit, Header, Timestamp } from '../codec/index.js';
import type { Ed25519Backend } from '../crypto/index.js';
import type { Fraction } from '../types/commit-verify.js';
import type { ValidatorSet } from '../types/validator-set.js';

export interface SignedHeader {
  readonly header: Header;
  readonly commit: Commit;
}

/** What the light client already trusts: a header and the validator set that signs the next one. */
export interface TrustedLightBlock {
  readonly signedHeader: SignedHeader;
  readonly nextValidators: ValidatorSet;
}

/**
 * A block to verify. `nextValidators` is optional for verification itself; when given it
 * must match the header, so that the block can become trusted.
 */
export interface UntrustedLightBlock {
  readonly signedHeader: SignedHeader;
  readonly validators: ValidatorSet;
  readonly nextValidators?: ValidatorSet;
}

export type Verdict = 'SUCCESS' | 'NOT_ENOUGH_TRUST' | 'INVALID';

export interface VerificationResult {
  readonly verdict: Verdict;
  /** Why, in a sentence ("ok" on success). */
  readonly reason: string;
}

export interface VerifyOptions {
  /** How long a trusted header may be relied on, in nanoseconds. */
  readonly trustingPeriod: bigint;
  readonly now: Timestamp;
  /** How far in the future (ns) a header time may be; CometBFT's light client default is 10 s. */
  readonly maxClockDrift?: bigint;
  /** Share of the trusted validators' power that must sign a skipped-to header; default 1/3, must be in [1/3, 1]. */
  readonly trustLevel?: Fraction;
  /** Signature backend; defaults to the portable noble one. */
  readonly backend?: Ed25519Backend;
}
