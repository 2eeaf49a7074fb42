import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { encodeSimpleValidator, type Validator } from '../../src/codec/index.js';
import { merkleRoot, PrivKey, sha256 } from '../../src/crypto/index.js';
import {
  MAX_INT64,
  MAX_TOTAL_VOTING_POWER,
  MIN_INT64,
  ValidatorSet,
  ValidatorSetError,
  compareBytes,
  type ValidatorUpdate,
} from '../../src/types/validator-set.js';

// Deterministic keys, sorted by address so tests can choose who wins priority ties
// (CometBFT: equal priority → lower address).
const KEYS = Array.from({ length: 12 }, (_, i) => PrivKey.fromSeed(sha256(new TextEncoder().encode(`validator-set-test-${i}`)))).sort((a, b) =>
  compareBytes(a.pubKey.address, b.pubKey.address),
);
const key = (rank: number): PrivKey => KEYS[rank]!;
const upd = (rank: number, votingPower: bigint): ValidatorUpdate => ({ pubKey: key(rank).pubKey.bytes, votingPower });
const val = (rank: number, votingPower: bigint, proposerPriority = 0n): Validator => ({
  address: key(rank).pubKey.address,
  pubKey: key(rank).pubKey.bytes,
  votingPower,
  proposerPriority,
});

/** Name of each validator, looked up by address. */
function namer(names: Record<string, number>): (v: Validator) => string {
  const byAddress = new Map(Object.entries(names).map(([name, rank]) => [Buffer.from(key(rank).pubKey.address).toString('hex'), name]));
  return (v) => byAddress.get(Buffer.from(v.address).toString('hex')) ?? '?';
}

/** The proposer of `create`'s set, then of each of `n - 1` single increments. */
function proposerSequence(set: ValidatorSet, n: number, name: (v: Validator) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(name(set.getProposer()));
    set = set.copyIncrementProposerPriority(1);
  }
  return out;
}

const priorities = (set: ValidatorSet, name: (v: Validator) => string): Record<string, bigint> =>
  Object.fromEntries(set.validators.map((v) => [name(v), v.proposerPriority]));

describe('construction and validation', () => {
  test('orders by power descending, then address ascending, whatever the input order', () => {
    const set = ValidatorSet.fromValidators([val(3, 5n), val(0, 1n), val(2, 5n), val(1, 9n)]);
    expect(set.validators.map((v) => v.address)).toEqual([val(1, 9n), val(2, 5n), val(3, 5n), val(0, 1n)].map((v) => v.address));
    expect(set.size).toBe(4);
    expect(set.totalVotingPower()).toBe(20n);
  });

  test('hash is the merkle root over SimpleValidator{pub_key, power} in set order', () => {
    const set = ValidatorSet.fromValidators([val(0, 1n), val(1, 9n, 42n)]);
    expect(set.hash()).toEqual(merkleRoot([encodeSimpleValidator(key(1).pubKey.bytes, 9n), encodeSimpleValidator(key(0).pubKey.bytes, 1n)]));
    // Priorities are not part of the hash; input order is not either.
    expect(ValidatorSet.fromValidators([val(1, 9n), val(0, 1n, -7n)]).hash()).toEqual(set.hash());
    expect(ValidatorSet.fromValidators([val(1, 9n), val(0, 2n)]).hash()).not.toEqual(set.hash());
  });

  test('lookups by address and index', () => {
    const set = ValidatorSet.fromValidators([val(0, 1n), val(1, 9n)]);
    expect(set.getByAddress(key(0).pubKey.address)).toEqual({ index: 1, validator: set.validators[1] });
    expect(set.getByAddress(key(5).pubKey.address)).toBeUndefined();
    expect(set.getByIndex(0)?.votingPower).toBe(9n);
    expect(set.getByIndex(2)).toBeUndefined();
    expect(set.getByIndex(-1)).toBeUndefined();
  });

  test('an empty address is derived from the key', () => {
    const set = ValidatorSet.fromValidators([{ ...val(0, 1n), address: new Uint8Array(0) }]);
    expect(set.validators[0]!.address).toEqual(key(0).pubKey.address);
  });

  const rejects = (validators: Validator[], message: RegExp): void => {
    let caught: unknown;
    try {
      ValidatorSet.fromValidators(validators);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ValidatorSetError);
    expect((caught as ValidatorSetError).message).toMatch(message);
    expect((caught as ValidatorSetError).context).toBeTypeOf('object');
  };

  test('rejects bad validators with typed errors', () => {
    rejects([{ ...val(0, 1n), address: key(1).pubKey.address }], /address does not match/);
    rejects([val(0, 0n)], /positive/);
    rejects([val(0, -3n)], /positive/);
    rejects([val(0, 1n), val(1, 2n), val(0, 3n)], /duplicate/);
    rejects([{ ...val(0, 1n), pubKey: new Uint8Array(33) }], /32-byte/);
    rejects([val(0, MAX_TOTAL_VOTING_POWER + 1n)], /exceeds the maximum/);
    rejects([val(0, MAX_TOTAL_VOTING_POWER), val(1, 1n)], /total voting power/);
    rejects([val(0, 1n, MAX_INT64 + 1n)], /int64/);
  });

  test('the maximum total power itself is allowed', () => {
    expect(ValidatorSet.fromValidators([val(0, MAX_TOTAL_VOTING_POWER - 1n), val(1, 1n)]).totalVotingPower()).toBe(MAX_TOTAL_VOTING_POWER);
  });

  test('create (NewValidatorSet) rejects power 0 and an empty list', () => {
    expect(() => ValidatorSet.create([upd(0, 0n)])).toThrow(ValidatorSetError);
    expect(() => ValidatorSet.create([])).toThrow(ValidatorSetError);
    expect(() => ValidatorSet.create([upd(0, 1n), upd(0, 2n)])).toThrow(/duplicate/);
  });

  test('the empty set exists (light blocks can carry one) but has no proposer', () => {
    const empty = ValidatorSet.fromValidators([]);
    expect(empty.isEmpty()).toBe(true);
    expect(empty.hash()).toEqual(sha256());
    expect(() => empty.getProposer()).toThrow(ValidatorSetError);
    expect(() => empty.copyIncrementProposerPriority(1)).toThrow(ValidatorSetError);
  });
});

describe('proposer selection, worked by hand', () => {
  // Powers 1, 2, 3 (P = 6). create() starts everyone at the same priority and centres to 0;
  // each round: all += power, the max is chosen (tie → lower address) and pays P.
  //
  // Case A, addresses in power order (v1 < v2 < v3):
  //   round  after +power    chosen   after −6
  //   1      [1, 2, 3]       v3       [ 1,  2, -3]
  //   2      [2, 4, 0]       v2       [ 2, -2,  0]
  //   3      [3, 0, 3]  tie  v1       [-3,  0,  3]   (v1 has the lower address)
  //   4      [-2, 2, 6]      v3       [-2,  2,  0]
  //   5      [-1, 4, 3]      v2       [-1, -2,  3]
  //   6      [0, 0, 6]       v3       [ 0,  0,  0]   back to the start: period 6
  // Sequence v3 v2 v1 v3 v2 v3 — 3×v3, 2×v2, 1×v1 per 6 rounds.
  test('powers 1,2,3 with the low-power validator at the lowest address', () => {
    const name = namer({ v1: 0, v2: 1, v3: 2 });
    const set = ValidatorSet.create([upd(0, 1n), upd(1, 2n), upd(2, 3n)]);
    expect(proposerSequence(set, 12, name)).toEqual(['v3', 'v2', 'v1', 'v3', 'v2', 'v3', 'v3', 'v2', 'v1', 'v3', 'v2', 'v3']);
  });

  // Case B, v3 at the lowest address (v3 < v1 < v2): rounds 1–2 as above, then
  //   3      [3, 0, 3]  tie  v3       [ 3,  0, -3]   (now v3 wins the tie)
  //   4      [4, 2, 0]       v1       [-2,  2,  0]
  //   5      [-1, 4, 3]      v2       [-1, -2,  3]
  //   6      [0, 0, 6]       v3       [ 0,  0,  0]
  // Sequence v3 v2 v3 v1 v2 v3.
  test('powers 1,2,3 with the high-power validator at the lowest address', () => {
    const name = namer({ v3: 0, v1: 1, v2: 2 });
    const set = ValidatorSet.create([upd(1, 1n), upd(2, 2n), upd(0, 3n)]);
    expect(proposerSequence(set, 6, name)).toEqual(['v3', 'v2', 'v3', 'v1', 'v2', 'v3']);
    // After the 6th round (the 5th increment after create's) everything is back at 0.
    let s = set;
    for (let i = 0; i < 5; i++) s = s.copyIncrementProposerPriority(1);
    expect(priorities(s, name)).toEqual({ v1: 0n, v2: 0n, v3: 0n });
  });

  // spec/consensus/proposer-selection.md, "Stable Set" and R2: p1 = 1, p2 = 3 produces
  // [p2, p1, p2, p2]* — with p1 winning the round-2 tie, i.e. p1 at the lower address.
  test('the spec example p1=1, p2=3 gives p2 p1 p2 p2 repeating', () => {
    const name = namer({ p1: 0, p2: 1 });
    const set = ValidatorSet.create([upd(0, 1n), upd(1, 3n)]);
    expect(proposerSequence(set, 8, name)).toEqual(['p2', 'p1', 'p2', 'p2', 'p2', 'p1', 'p2', 'p2']);
  });

  // CometBFT's TestProposerSelection1 (types/validator_set_test.go): foo 1000, bar 300, baz
  // 330, addresses "foo", "bar", "baz" — so bar < baz < foo. Expected sequence copied from it.
  test('CometBFT TestProposerSelection1 sequence', () => {
    const name = namer({ bar: 0, baz: 1, foo: 2 });
    const set = ValidatorSet.create([upd(2, 1000n), upd(0, 300n), upd(1, 330n)]);
    const expected =
      'foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar' +
      ' foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar' +
      ' foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz' +
      ' foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo' +
      ' foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo';
    expect(proposerSequence(set, 99, name).join(' ')).toBe(expected);
  });

  test('equal powers go round in address order', () => {
    const name = namer({ a: 0, b: 1, c: 2 });
    const set = ValidatorSet.create([upd(2, 100n), upd(0, 100n), upd(1, 100n)]);
    expect(proposerSequence(set, 9, name)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
  });

  test('increments never touch the original set', () => {
    const set = ValidatorSet.create([upd(0, 1n), upd(1, 3n)]);
    const before = set.validators.map((v) => v.proposerPriority);
    set.copyIncrementProposerPriority(5);
    expect(set.validators.map((v) => v.proposerPriority)).toEqual(before);
    expect(() => set.copyIncrementProposerPriority(0)).toThrow(ValidatorSetError);
    expect(() => set.copyIncrementProposerPriority(1.5)).toThrow(ValidatorSetError);
  });

  test('without an increment, the proposer is the highest priority (ties: lower address)', () => {
    const name = namer({ a: 0, b: 1 });
    expect(name(ValidatorSet.fromValidators([val(0, 1n, 5n), val(1, 9n, 7n)]).getProposer())).toBe('b');
    expect(name(ValidatorSet.fromValidators([val(0, 1n, 7n), val(1, 9n, 7n)]).getProposer())).toBe('a');
    // A stored proposer (the one the last increment chose) wins over recomputation.
    expect(name(ValidatorSet.fromValidators([val(0, 1n, 7n), val(1, 9n, 7n)], key(1).pubKey.address).getProposer())).toBe('b');
  });
});

describe('priority arithmetic edges', () => {
  // Centre uses big.Int.Div — Euclidean, floor for n > 0 — not Go's truncating `/`.
  // Powers 1,1,1 (P = 3), priorities a=0, b=0, c=-1: sum −1, avg = floor(−1/3) = −1
  // → [1, 1, 0]; +1 → [2, 2, 1]; a wins the tie, pays 3 → a=−1, b=2, c=1.
  // (Truncation would give avg 0 → [1, 1, 0] after +1 → a=−2, b=1, c=0.)
  test('average is floored, not truncated', () => {
    const name = namer({ a: 0, b: 1, c: 2 });
    const set = ValidatorSet.fromValidators([val(0, 1n, 0n), val(1, 1n, 0n), val(2, 1n, -1n)]).copyIncrementProposerPriority(1);
    expect(name(set.getProposer())).toBe('a');
    expect(priorities(set, name)).toEqual({ a: -1n, b: 2n, c: 1n });
  });

  // Powers 1,1 (P = 2, window 2P = 4). Priorities 101 and −100: diff 201 > 4, ratio =
  // ceil(201/4) = 51; 101/51 = 1 and −100/51 = −1 (Go truncates toward zero). Average 0.
  // +1 → [2, 0]; a chosen, pays 2 → [0, 0].
  test('rescale divides by ceil(diff / 2P), truncating toward zero', () => {
    const name = namer({ a: 0, b: 1 });
    const set = ValidatorSet.fromValidators([val(0, 1n, 101n), val(1, 1n, -100n)]).copyIncrementProposerPriority(1);
    expect(name(set.getProposer())).toBe('a');
    expect(priorities(set, name)).toEqual({ a: 0n, b: 0n });
  });

  // Priorities MaxInt64 and MinInt64: Go computes max − min in int64, which wraps to −1, so
  // the diff is 1 and nothing is rescaled. avg = floor(−1/2) = −1, so a = MaxInt64 + 1 clips
  // to MaxInt64 and b = MinInt64 + 1. +1: a clips again, b = MinInt64 + 2. a pays 2.
  test('int64 wrap in the rescale diff and clipping of priorities match Go', () => {
    const name = namer({ a: 0, b: 1 });
    const set = ValidatorSet.fromValidators([val(0, 1n, MAX_INT64), val(1, 1n, MIN_INT64)]).copyIncrementProposerPriority(1);
    expect(priorities(set, name)).toEqual({ a: MAX_INT64 - 2n, b: MIN_INT64 + 2n });
  });

  // CometBFT's TestAveragingInIncrementProposerPriorityWithVotingPower, case "times = 5":
  // powers 10, 1, 1 from 0; one call with times = 5 rescales/centres once, then 5 rounds.
  test('several rounds in one call (CometBFT averaging test, times = 5)', () => {
    const name = namer({ a: 0, b: 1, c: 2 });
    const set = ValidatorSet.fromValidators([val(0, 10n), val(1, 1n), val(2, 1n)]).copyIncrementProposerPriority(5);
    expect(priorities(set, name)).toEqual({ a: 4n * (10n - 12n) + 10n, b: 5n * 1n - 12n, c: 5n });
    expect(name(set.getProposer())).toBe('b');
  });
});

describe('fairness (property)', () => {
  // For a static set started by create() (all priorities 0), the sum of priorities stays 0
  // (each round adds P and takes P), so centring is a no-op, and this is smooth weighted
  // round robin: after P rounds every priority is back to 0 with validator i chosen exactly
  // power_i times. So any k·P consecutive elections contain exactly k·power_i for each i.
  const SEED = 20240611;
  const powersArb = fc.array(fc.bigInt({ min: 1n, max: 25n }), { minLength: 1, maxLength: 7 });

  test('over k·P rounds each validator proposes exactly k·power times', () => {
    fc.assert(
      fc.property(powersArb, fc.integer({ min: 1, max: 2 }), fc.integer({ min: 0, max: 30 }), (powers, k, skip) => {
        let set = ValidatorSet.create(powers.map((p, i) => upd(i, p)));
        for (let i = 0; i < skip; i++) set = set.copyIncrementProposerPriority(1);
        const total = Number(set.totalVotingPower());
        const counts = new Map<string, number>();
        for (let i = 0; i < k * total; i++) {
          const id = Buffer.from(set.getProposer().address).toString('hex');
          counts.set(id, (counts.get(id) ?? 0) + 1);
          set = set.copyIncrementProposerPriority(1);
        }
        for (const v of set.validators) expect(counts.get(Buffer.from(v.address).toString('hex')) ?? 0).toBe(k * Number(v.votingPower));
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  test('a static set returns to all-zero priorities every P rounds', () => {
    fc.assert(
      fc.property(powersArb, (powers) => {
        const set = ValidatorSet.create(powers.map((p, i) => upd(i, p)));
        // create() already ran round 1; P − 1 more complete the period.
        const after = set.copyIncrementProposerPriority(Number(set.totalVotingPower()) - 1 || 1);
        if (set.totalVotingPower() > 1n) expect(after.validators.every((v) => v.proposerPriority === 0n)).toBe(true);
      }),
      { seed: SEED + 1, numRuns: 150 },
    );
  });
});

describe('updateWithChangeSet', () => {
  // create(p1=1, p2=3): round 1 is [1, 3] → p2 chosen → p1=1, p2=−1.
  // Add p3 = 8: total after updates T = 12, new priority −(12 + 12>>3) = −13.
  // Rescale: diff 14 ≤ 24, none. Centre: sum −13, avg = floor(−13/3) = −5 → p1 6, p2 4, p3 −8.
  // Next round: centre (sum 2, avg 0); +power → p1 7, p2 7, p3 0; tie → p1 (lower address),
  // pays 12 → p1 −5. (The spec's own table for this example uses a truncated average of −4.)
  test('a new validator starts at −(T + T>>3), then everything is centred', () => {
    const name = namer({ p1: 0, p2: 1, p3: 2 });
    const set = ValidatorSet.create([upd(0, 1n), upd(1, 3n)]);
    expect(priorities(set, name)).toEqual({ p1: 1n, p2: -1n });
    const updated = set.updateWithChangeSet([upd(2, 8n)]);
    expect(priorities(updated, name)).toEqual({ p1: 6n, p2: 4n, p3: -8n });
    expect(updated.validators.map(name)).toEqual(['p3', 'p2', 'p1']);
    expect(updated.totalVotingPower()).toBe(12n);
    const next = updated.copyIncrementProposerPriority(1);
    expect(name(next.getProposer())).toBe('p1');
    expect(priorities(next, name)).toEqual({ p1: -5n, p2: 7n, p3: 0n });
  });

  // {a=10, b=10} (priorities 0): remove b, add c=5. CometBFT computes the newcomer's priority
  // from the total after updates but BEFORE removals: 25 → −(25 + 3) = −28 (not −(15+1)).
  // Then total 15, window 30, diff 28: no rescale; avg = −14 → a 14, c −14.
  test('newcomer priority uses the total before removals', () => {
    const name = namer({ a: 0, b: 1, c: 2 });
    const set = ValidatorSet.fromValidators([val(0, 10n), val(1, 10n)]).updateWithChangeSet([upd(1, 0n), upd(2, 5n)]);
    expect(priorities(set, name)).toEqual({ a: 14n, c: -14n });
    expect(set.totalVotingPower()).toBe(15n);
  });

  test('a power change keeps the priority and re-sorts', () => {
    const name = namer({ p1: 0, p2: 1 });
    const set = ValidatorSet.create([upd(0, 1n), upd(1, 3n)]).updateWithChangeSet([upd(0, 5n)]);
    expect(set.validators.map(name)).toEqual(['p1', 'p2']);
    expect(priorities(set, name)).toEqual({ p1: 1n, p2: -1n });
  });

  test('removal, and the hash follows the new membership', () => {
    const set = ValidatorSet.create([upd(0, 1n), upd(1, 2n), upd(2, 3n)]);
    const removed = set.updateWithChangeSet([upd(1, 0n)]);
    expect(removed.size).toBe(2);
    expect(removed.hasAddress(key(1).pubKey.address)).toBe(false);
    expect(removed.hash()).toEqual(ValidatorSet.fromValidators([val(0, 1n), val(2, 3n)]).hash());
    expect(removed.hash()).not.toEqual(set.hash());
    expect(set.size).toBe(3); // the original is untouched
  });

  test('an empty change set changes nothing (not even a rescale)', () => {
    const set = ValidatorSet.fromValidators([val(0, 1n, 100n), val(1, 1n, -100n)]);
    expect(set.updateWithChangeSet([])).toBe(set);
  });

  const fails = (set: ValidatorSet, changes: ValidatorUpdate[], message: RegExp): void => {
    expect(() => set.updateWithChangeSet(changes)).toThrow(ValidatorSetError);
    expect(() => set.updateWithChangeSet(changes)).toThrow(message);
  };

  test('rejects bad change sets', () => {
    const set = ValidatorSet.create([upd(0, 1n), upd(1, 2n)]);
    fails(set, [upd(2, 1n), upd(2, 3n)], /duplicate/);
    fails(set, [upd(2, 1n), upd(2, 0n)], /duplicate/);
    fails(set, [upd(5, 0n)], /not in the set/);
    fails(set, [upd(0, 0n), upd(1, 0n)], /empty/);
    fails(set, [upd(0, -1n)], /negative/);
    fails(set, [upd(2, MAX_TOTAL_VOTING_POWER)], /exceed the maximum/);
    fails(set, [{ ...upd(2, 1n), address: key(3).pubKey.address }], /does not match/);
  });

  test('replacing the whole set at once is allowed', () => {
    const set = ValidatorSet.create([upd(0, 1n)]).updateWithChangeSet([upd(0, 0n), upd(1, 4n)]);
    expect(set.validators.map((v) => v.address)).toEqual([key(1).pubKey.address]);
    expect(set.validators[0]!.proposerPriority).toBe(0n); // centred alone
  });
});
