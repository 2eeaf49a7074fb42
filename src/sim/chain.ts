// The chain facts every simulated node agrees on without consensus: node keys and the
// validator set of each height. Sets follow CometBFT's schedule: genesis set for height 1,
// its copy incremented once for height 2, and the updates of block h applied to the set of
// h + 1, incremented once, for height h + 2.
import { PrivKey, sha256 } from '../crypto/index.js';
import { ValidatorSet, type ValidatorUpdate } from '../types/validator-set.js';
import type { Scenario } from './scenario.js';

const keyCache = new Map<number, PrivKey>();

/** The key of node `id`: the same in every scenario (deriving keys is the slow part). */
export function nodeKey(id: number): PrivKey {
  let key = keyCache.get(id);
  if (key === undefined) {
    key = PrivKey.fromSeed(sha256(new TextEncoder().encode(`tally-sim-node-${id}`)));
    keyCache.set(id, key);
  }
  return key;
}

/** Validator sets for heights 1 ..= scenario.heights + 2 (index = height; index 0 unused). */
export function validatorSets(scenario: Scenario): ValidatorSet[] {
  const genesis: ValidatorUpdate[] = scenario.nodes
    .filter((n) => n.genesisPower > 0n)
    .map((n) => ({ pubKey: nodeKey(n.id).pubKey.bytes, votingPower: n.genesisPower }));
  const sets: ValidatorSet[] = [];
  const first = ValidatorSet.create(genesis);
  sets[1] = first;
  sets[2] = first.copyIncrementProposerPriority(1);
  for (let h = 1; h + 2 <= scenario.heights + 2; h++) {
    const updates: ValidatorUpdate[] = scenario.changes
      .filter((c) => c.height === h)
      .map((c) => ({ pubKey: nodeKey(c.node).pubKey.bytes, votingPower: c.power }));
    sets[h + 2] = sets[h + 1]!.updateWithChangeSet(updates).copyIncrementProposerPriority(1);
  }
  return sets;
}
