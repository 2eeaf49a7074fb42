// A validator set with CometBFT 0.38's semantics (types/validator_set.go, restated): ordering,
// hash, weighted round-robin proposer selection and change-set updates. Immutable: every
// operation returns a new set; the working arrays inside are private copies.
//
// Arithmetic is bigint but follows Go's int64 behaviour where it is observable: priorities are
// clipped to the int64 range on add/sub (safeAddClip/safeSubClip), the rescale computes its
// diff and ratio in wrapping int64, and the average is big.Int.Div — Euclidean, i.e. floor
// for a positive divisor (NOT Go's `/`, which truncates).
import { encodeSimpleValidator, type Validator } from '../codec/index.js';
import { addressOf, bytesEqual, compareBytes, CryptoError, merkleRoot } from '../crypto/index.js';

export const MAX_INT64 = (1n << 63n) - 1n;
export const MIN_INT64 = -(1n << 63n);
/** Max total voting power: small enough that priority arithmetic cannot overflow int64. */
export const MAX_TOTAL_VOTING_POWER = MAX_INT64 / 8n;
/** Priorities are kept within this factor × total power of each other (rescaling). */
export const PRIORITY_WINDOW_SIZE_FACTOR = 2n;

/** An ABCI-style change: power 0 removes. `address`, if given, must match the key. */
export interface ValidatorUpdate {
  readonly pubKey: Uint8Array;
  readonly votingPower: bigint;
  readonly address?: Uint8Array;
}

export class ValidatorSetError extends Error {
  override readonly name = 'ValidatorSetError';
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Mutable working copy of a validator, only ever inside this module. */
interface Entry {
  address: Uint8Array;
  pubKey: Uint8Array;
  votingPower: bigint;
  proposerPriority: bigint;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

export { compareBytes };

/** Set order: voting power descending, then address ascending. */
function byPower(a: Entry, b: Entry): number {
  if (a.votingPower !== b.votingPower) return a.votingPower > b.votingPower ? -1 : 1;
  return compareBytes(a.address, b.address);
}

const clip = (x: bigint): bigint => (x > MAX_INT64 ? MAX_INT64 : x < MIN_INT64 ? MIN_INT64 : x);
const wrap = (x: bigint): bigint => BigInt.asIntN(64, x);

/** Euclidean division as Go's big.Int.Div (divisor > 0 here, so it is floor division). */
function divEuclid(x: bigint, y: bigint): bigint {
  const q = x / y;
  const r = x % y;
  if (r === 0n) return q;
  // JS truncates; move toward the quotient whose remainder is non-negative.
  return r < 0n ? (y > 0n ? q - 1n : q + 1n) : q;
}

/** Higher priority wins; on a tie the lower address wins (CompareProposerPriority). */
function morePriority<T extends { readonly proposerPriority: bigint; readonly address: Uint8Array }>(a: T, b: T): T {
  if (a.proposerPriority !== b.proposerPriority) return a.proposerPriority > b.proposerPriority ? a : b;
  return compareBytes(a.address, b.address) <= 0 ? a : b;
}

function checkInt64(v: bigint, what: string, context: Record<string, unknown>): void {
  if (v < MIN_INT64 || v > MAX_INT64) throw new ValidatorSetError(`${what} is outside the int64 range`, { ...context, value: v });
}

/** The key's address; checks a supplied address matches it. */
function deriveAddress(pubKey: Uint8Array, given: Uint8Array | undefined, index: number): Uint8Array {
  let address: Uint8Array;
  try {
    address = addressOf(pubKey);
  } catch (e) {
    if (e instanceof CryptoError) throw new ValidatorSetError('validator public key must be a 32-byte ed25519 key', { index, size: pubKey.length });
    throw e;
  }
  if (given !== undefined && given.length !== 0 && !bytesEqual(given, address))
    throw new ValidatorSetError('validator address does not match its public key', { index, address: hex(given), expected: hex(address) });
  return address;
}

function freeze(e: Entry): Validator {
  return Object.freeze({ address: e.address, pubKey: e.pubKey, votingPower: e.votingPower, proposerPriority: e.proposerPriority });
}

function sumPower(entries: readonly Entry[]): bigint {
  let sum = 0n;
  for (const e of entries) sum += e.votingPower;
  return sum;
}

// ---- priority arithmetic on working copies ------------------------------------------------

/**
 * Divide every priority by ceil(diff / diffMax) when max − min exceeds diffMax. diff and the
 * ratio are computed in wrapping int64 as Go does (only reachable with absurd loaded priorities).
 */
function rescalePriorities(entries: Entry[], diffMax: bigint): void {
  if (diffMax <= 0n || entries.length === 0) return;
  let max = MIN_INT64;
  let min = MAX_INT64;
  for (const e of entries) {
    if (e.proposerPriority < min) min = e.proposerPriority;
    if (e.proposerPriority > max) max = e.proposerPriority;
  }
  let diff = wrap(max - min);
  if (diff < 0n) diff = wrap(-diff);
  if (diff <= diffMax) return;
  const ratio = wrap(wrap(diff + diffMax) - 1n) / diffMax;
  if (ratio === 0n) throw new ValidatorSetError('priority rescale ratio is zero (int64 overflow)', { diff, diffMax });
  // Go's int64 division: truncation, and MinInt64 / -1 wraps to MinInt64.
  for (const e of entries) e.proposerPriority = wrap(e.proposerPriority / ratio);
}

/** Subtract the average priority (big.Int.Div: Euclidean) from every priority, clipping. */
function shiftByAvgProposerPriority(entries: Entry[]): void {
  if (entries.length === 0) return;
  let sum = 0n;
  for (const e of entries) sum += e.proposerPriority;
  const avg = divEuclid(sum, BigInt(entries.length));
  for (const e of entries) e.proposerPriority = clip(e.proposerPriority - avg);
}

/** One round: everyone gains their power, the front-runner is chosen and pays the total. */
function incrementOnce(entries: Entry[], total: bigint): Entry {
  let best: Entry | undefined;
  for (const e of entries) {
    e.proposerPriority = clip(e.proposerPriority + e.votingPower);
    best = best === undefined ? e : morePriority(best, e);
  }
  best!.proposerPriority = clip(best!.proposerPriority - total);
  return best!;
}

// ---- the set ------------------------------------------------------------------------------

export class ValidatorSet {
  private readonly vals: readonly Validator[];
  private readonly total: bigint;
  /** The proposer chosen by the last increment; undefined means "highest priority now". */
  private readonly proposer: Validator | undefined;
  private cachedHash: Uint8Array | undefined;

  /** Entries must be validated, sorted, and `total` their power sum. */
  private constructor(entries: readonly Entry[], total: bigint, proposerAddress: Uint8Array | undefined) {
    this.vals = Object.freeze(entries.map(freeze));
    this.total = total;
    this.proposer = proposerAddress === undefined ? undefined : this.vals.find((v) => bytesEqual(v.address, proposerAddress));
  }

  /**
   * A set from validators as they are (a loaded state, a light block): priorities kept, order
   * normalised. `proposerAddress` is the stored proposer, if any. Validates: each address =
   * addressOf(pubKey) (an empty address is derived), 0 < power, int64 priorities, no
   * duplicates, total ≤ max. An empty list gives the empty set (CometBFT's type allows it: a
   * light block may carry one); proposer selection on it throws, as CometBFT panics.
   */
  static fromValidators(validators: readonly Validator[], proposerAddress?: Uint8Array): ValidatorSet {
    const entries: Entry[] = validators.map((v, index) => {
      const address = deriveAddress(v.pubKey, v.address, index);
      if (v.votingPower <= 0n) throw new ValidatorSetError('validator voting power must be positive', { index, address: hex(address), votingPower: v.votingPower });
      if (v.votingPower > MAX_TOTAL_VOTING_POWER)
        throw new ValidatorSetError('validator voting power exceeds the maximum', { index, votingPower: v.votingPower, max: MAX_TOTAL_VOTING_POWER });
      checkInt64(v.proposerPriority, 'proposer priority', { index });
      return { address, pubKey: Uint8Array.from(v.pubKey), votingPower: v.votingPower, proposerPriority: v.proposerPriority };
    });
    entries.sort(byPower);
    const seen = new Set<string>();
    for (const e of entries) {
      const id = hex(e.address);
      if (seen.has(id)) throw new ValidatorSetError('duplicate validator address', { address: id });
      seen.add(id);
    }
    const total = sumPower(entries);
    if (total > MAX_TOTAL_VOTING_POWER) throw new ValidatorSetError('total voting power exceeds the maximum', { total, max: MAX_TOTAL_VOTING_POWER });
    if (proposerAddress !== undefined && !entries.some((e) => bytesEqual(e.address, proposerAddress)))
      throw new ValidatorSetError('proposer is not in the validator set', { proposer: hex(proposerAddress) });
    return new ValidatorSet(entries, total, proposerAddress);
  }

  /**
   * CometBFT's NewValidatorSet (genesis, tests): every validator joins through a change set —
   * so given priorities are ignored and all start equal, then centred to 0 — and the
   * priorities are incremented once, electing the first proposer. Power 0 is rejected.
   */
  static create(validators: readonly ValidatorUpdate[]): ValidatorSet {
    if (validators.length === 0) throw new ValidatorSetError('validator set is empty');
    validators.forEach((v, index) => {
      if (v.votingPower === 0n) throw new ValidatorSetError('a new validator set cannot contain voting power 0', { index });
    });
    const { entries, total } = applyChangeSet([], 0n, validators);
    return new ValidatorSet(entries, total, undefined).copyIncrementProposerPriority(1);
  }

  isEmpty(): boolean {
    return this.vals.length === 0;
  }

  get size(): number {
    return this.vals.length;
  }

  /** The validators in set order (frozen). */
  get validators(): readonly Validator[] {
    return this.vals;
  }

  totalVotingPower(): bigint {
    return this.total;
  }

  /** validators_hash: merkle root over SimpleValidator{pub_key, voting_power} in set order. */
  hash(): Uint8Array {
    this.cachedHash ??= merkleRoot(this.vals.map((v) => encodeSimpleValidator(v.pubKey, v.votingPower)));
    return Uint8Array.from(this.cachedHash);
  }

  getByAddress(address: Uint8Array): { index: number; validator: Validator } | undefined {
    const index = this.vals.findIndex((v) => bytesEqual(v.address, address));
    return index < 0 ? undefined : { index, validator: this.vals[index]! };
  }

  getByIndex(index: number): Validator | undefined {
    return Number.isInteger(index) ? this.vals[index] : undefined;
  }

  hasAddress(address: Uint8Array): boolean {
    return this.getByAddress(address) !== undefined;
  }

  /** The proposer elected by the last increment, else the highest priority (ties: lower address). */
  getProposer(): Validator {
    if (this.proposer !== undefined) return this.proposer;
    if (this.vals.length === 0) throw new ValidatorSetError('empty validator set has no proposer');
    let best = this.vals[0]!;
    for (const v of this.vals) best = morePriority(best, v);
    return best;
  }

  /**
   * Rescale to the 2·P window, centre on the average, then run `times` rounds; the last
   * round's choice becomes the proposer. Rescale and centre happen once per call (not per
   * round), exactly as CometBFT, so increment(2) is not always increment(1) twice.
   */
  copyIncrementProposerPriority(times: number): ValidatorSet {
    if (!Number.isInteger(times) || times <= 0 || times > 0x7fffffff)
      throw new ValidatorSetError('times must be a positive int32', { times });
    if (this.vals.length === 0) throw new ValidatorSetError('cannot increment proposer priority of an empty validator set');
    const entries = this.entries();
    rescalePriorities(entries, PRIORITY_WINDOW_SIZE_FACTOR * this.total);
    shiftByAvgProposerPriority(entries);
    let proposer: Entry | undefined;
    for (let i = 0; i < times; i++) proposer = incrementOnce(entries, this.total);
    return new ValidatorSet(entries, this.total, proposer!.address);
  }

  /**
   * Apply an end-block change set (UpdateWithChangeSet): power 0 removes (the validator must
   * be a member), no address twice, new validators start at −(T + T>>3) where T is the total
   * after the additions/updates but before the removals (as CometBFT computes it), updated
   * ones keep their priority; then rescale, centre and re-sort. An empty change set returns
   * this set untouched (no rescale), as in CometBFT.
   *
   * The stored proposer is kept if still a member (CometBFT keeps a pointer to the old
   * object even if removed; consensus always increments right after, so it is never read).
   */
  updateWithChangeSet(changes: readonly ValidatorUpdate[]): ValidatorSet {
    if (changes.length === 0) return this;
    const { entries, total } = applyChangeSet(this.entries(), this.total, changes);
    const proposer = this.proposer !== undefined && entries.some((e) => bytesEqual(e.address, this.proposer!.address)) ? this.proposer.address : undefined;
    return new ValidatorSet(entries, total, proposer);
  }

  private entries(): Entry[] {
    return this.vals.map((v) => ({ address: v.address, pubKey: v.pubKey, votingPower: v.votingPower, proposerPriority: v.proposerPriority }));
  }
}

/**
 * CometBFT's updateWithChangeSet on working copies, checks in its order: duplicates / negative
 * / too-large powers, empty result, removal of non-members, total-power overflow.
 */
function applyChangeSet(existing: Entry[], existingTotal: bigint, changes: readonly ValidatorUpdate[]): { entries: Entry[]; total: bigint } {
  const sorted = changes
    .map((c, index) => ({ address: deriveAddress(c.pubKey, c.address, index), pubKey: Uint8Array.from(c.pubKey), votingPower: c.votingPower, proposerPriority: 0n }))
    .sort((a, b) => compareBytes(a.address, b.address));
  const updates: Entry[] = [];
  const removals: Entry[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const c = sorted[i]!;
    if (i > 0 && bytesEqual(c.address, sorted[i - 1]!.address)) throw new ValidatorSetError('duplicate validator in change set', { address: hex(c.address) });
    if (c.votingPower < 0n) throw new ValidatorSetError('voting power cannot be negative', { address: hex(c.address), votingPower: c.votingPower });
    if (c.votingPower > MAX_TOTAL_VOTING_POWER)
      throw new ValidatorSetError('voting power exceeds the maximum', { address: hex(c.address), votingPower: c.votingPower, max: MAX_TOTAL_VOTING_POWER });
    (c.votingPower === 0n ? removals : updates).push(c);
  }

  const byAddress = new Map(existing.map((e) => [hex(e.address), e]));
  const numNew = updates.filter((u) => !byAddress.has(hex(u.address))).length;
  if (numNew === 0 && existing.length === removals.length) throw new ValidatorSetError('applying the changes would leave the validator set empty');

  let removedPower = 0n;
  for (const r of removals) {
    const member = byAddress.get(hex(r.address));
    if (member === undefined) throw new ValidatorSetError('cannot remove a validator that is not in the set', { address: hex(r.address) });
    removedPower += member.votingPower;
  }

  // Deltas applied smallest first, so the running total only fails if the result is too big.
  const delta = (u: Entry): bigint => u.votingPower - (byAddress.get(hex(u.address))?.votingPower ?? 0n);
  let running = existingTotal - removedPower;
  for (const d of updates.map(delta).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    running += d;
    if (running > MAX_TOTAL_VOTING_POWER) throw new ValidatorSetError('total voting power would exceed the maximum', { max: MAX_TOTAL_VOTING_POWER });
  }
  const totalBeforeRemovals = running + removedPower;

  for (const u of updates) {
    const member = byAddress.get(hex(u.address));
    u.proposerPriority = member === undefined ? -(totalBeforeRemovals + (totalBeforeRemovals >> 3n)) : member.proposerPriority;
  }

  const removed = new Set(removals.map((r) => hex(r.address)));
  const merged = new Map<string, Entry>();
  for (const e of existing) if (!removed.has(hex(e.address))) merged.set(hex(e.address), e);
  for (const u of updates) merged.set(hex(u.address), u);
  const entries = [...merged.values()];
  const total = sumPower(entries);

  rescalePriorities(entries, PRIORITY_WINDOW_SIZE_FACTOR * total);
  shiftByAvgProposerPriority(entries);
  entries.sort(byPower);
  return { entries, total };
}
