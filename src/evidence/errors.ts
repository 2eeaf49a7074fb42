// Why a piece of evidence was refused. Each kind names one of CometBFT's checks (ValidateBasic,
// VerifyDuplicateVote, the pool's time/age/committed checks, a block's evidence rules), so a
// caller can tell a peer's fault (invalid) from a normal race (already committed, expired).
export type EvidenceErrorKind =
  /** ValidateBasic: a malformed vote, or votes not ordered by block id key. */
  | 'invalid_basic'
  /** The two votes differ in height, round or type. */
  | 'hrs_mismatch'
  /** The two votes are from different validator addresses. */
  | 'address_mismatch'
  /** Both votes are for the same block id: not an equivocation. */
  | 'same_block'
  /** The address was not in the validator set of that height. */
  | 'not_validator'
  /** validator_power or total_voting_power differ from the validator set of that height. */
  | 'power_mismatch'
  /** A vote's signature does not verify with the validator's key. */
  | 'invalid_signature'
  /** This node has no block (time) or validator set for the height of the evidence. */
  | 'unknown_height'
  /** The evidence time is not the time of the block at its height. */
  | 'wrong_time'
  /** Older than both max_age_num_blocks and max_age_duration. */
  | 'expired'
  /** Already in a committed block. */
  | 'already_committed'
  /** The same evidence twice in one block. */
  | 'duplicate'
  /** The block's evidence is larger than evidence.max_bytes. */
  | 'too_large';

export class EvidenceError extends Error {
  override readonly name = 'EvidenceError';
  constructor(
    readonly kind: EvidenceErrorKind,
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
