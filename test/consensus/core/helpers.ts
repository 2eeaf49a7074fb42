// Builders shared by the consensus-core tests: a validator set with known keys, block ids,
// signed-looking votes and proposals (the core does not check signatures: the shell does).
import { SignedMsgType, ZERO_BLOCK_ID, type BlockID, type Proposal, type Vote } from '../../../src/codec/index.js';
import { PrivKey, sha256 } from '../../../src/crypto/index.js';
import { ValidatorSet } from '../../../src/types/validator-set.js';
import { apply, initialState, proposerOf, type CoreState, type Effect, type Input, type Transition } from '../../../src/consensus/core/index.js';

const EMPTY = new Uint8Array(0);

export const keys: PrivKey[] = Array.from({ length: 8 }, (_, i) => PrivKey.fromSeed(sha256(new TextEncoder().encode(`core-test-${i}`))));

/** A set of validators with these powers, keys 0..n−1 (the set sorts them by power, then address). */
export function validatorSet(powers: readonly bigint[]): ValidatorSet {
  return ValidatorSet.create(powers.map((votingPower, i) => ({ pubKey: keys[i]!.pubKey.bytes, votingPower })));
}

export function blockId(tag: number): BlockID {
  const hash = new Uint8Array(32).fill(tag);
  return { hash, partSetHeader: { total: 1, hash: new Uint8Array(32).fill(tag ^ 0xff) } };
}

export const NIL = ZERO_BLOCK_ID;

export function vote(set: ValidatorSet, index: number, type: SignedMsgType, height: number, round: number, value: BlockID, seconds = 1): Vote {
  return {
    type,
    height,
    round,
    blockId: value,
    timestamp: { seconds, nanos: 0 },
    validatorAddress: set.getByIndex(index)!.address,
    validatorIndex: index,
    signature: new Uint8Array(64).fill(index + 1),
    extension: EMPTY,
    extensionSignature: EMPTY,
  };
}

export function prevote(set: ValidatorSet, index: number, height: number, round: number, value: BlockID): Input {
  return { kind: 'vote', vote: vote(set, index, SignedMsgType.Prevote, height, round, value) };
}

export function precommit(set: ValidatorSet, index: number, height: number, round: number, value: BlockID): Input {
  return { kind: 'vote', vote: vote(set, index, SignedMsgType.Precommit, height, round, value) };
}

export function proposal(set: ValidatorSet, height: number, round: number, value: BlockID, polRound = -1): Input {
  const p: Proposal = { type: SignedMsgType.Proposal, height, round, polRound, blockId: value, timestamp: { seconds: 1, nanos: 0 }, signature: new Uint8Array(64) };
  return { kind: 'proposal', proposal: p, signer: proposerOf(set, round) };
}

/** The index in `set` of the proposer of `round`. */
export function proposerIndex(set: ValidatorSet, round: number): number {
  return set.getByAddress(proposerOf(set, round))!.index;
}

/** A validator index of `set` that is not the proposer of any of `rounds`. */
export function nonProposer(set: ValidatorSet, ...rounds: number[]): number {
  for (let i = 0; i < set.size; i++) if (!rounds.some((r) => proposerIndex(set, r) === i)) return i;
  throw new Error('every validator proposes one of these rounds');
}

/** A core for validator `index` of `set` (or an observer with index null), started at `height`. */
export function started(set: ValidatorSet, index: number | null, height = 1, opts: Partial<Parameters<typeof initialState>[0]> = {}): Transition {
  const address = index === null ? null : set.getByIndex(index)!.address;
  const s0 = initialState({ chainId: 'test', address, ...opts });
  return apply(s0, { kind: 'startHeight', height, validatorSet: set, lastCommit: null });
}

/** Apply inputs in order; returns the final state and every effect. */
export function run(state: CoreState, ...inputs: Input[]): { state: CoreState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const input of inputs) {
    const t = apply(state, input);
    state = t.state;
    effects.push(...t.effects);
  }
  return { state, effects };
}

export function ofKind<K extends Effect['kind']>(effects: readonly Effect[], kind: K): Extract<Effect, { kind: K }>[] {
  return effects.filter((e): e is Extract<Effect, { kind: K }> => e.kind === kind);
}
