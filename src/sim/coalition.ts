// The Byzantine coalition: every `doubleVoter` and `equivocatingProposer` of a scenario,
// colluding. At most once per height it stages a split in some round r on that round's block
// v (its own proposal, shown only to side A of the network, or a correct proposer's):
//  - side A is the smallest random set of correct validators that reaches a polka for v with
//    the coalition's prevotes, leaving out the next round's proposer (it stays unlocked and
//    proposes a fresh block there);
//  - either all of side A gets the coalition's prevotes for v (it locks on v without deciding:
//    against the locking rule) or only one "victim" does (against the decision threshold);
//  - only the victim gets the coalition's precommits for v, so it alone may decide v;
//  - side B gets nil from the coalition, and in later rounds the coalition backs any other
//    block proposed and votes nil for v.
// A correct core stays safe through this; one with a broken locking or quorum rule lets the
// others decide a different block — which is how the mutation harness catches it.
import { SignedMsgType, ZERO_BLOCK_ID, type BlockID } from '../codec/index.js';
import { bytesEqual } from '../crypto/index.js';
import { proposerOf, valueIdOf } from '../consensus/core/index.js';
import type { ValidatorSet } from '../types/validator-set.js';
import { hashString, type Prng } from './prng.js';

export interface Member {
  readonly id: number;
  readonly address: Uint8Array;
  readonly correct: boolean;
}

export interface Split {
  readonly round: number;
  readonly value: BlockID;
  readonly victim: number;
  readonly sideA: ReadonlySet<number>;
  /** Whether all of side A gets the coalition's prevotes (it locks) or only the victim. */
  readonly lockSideA: boolean;
}

export class Coalition {
  private readonly splits = new Map<number, Split>();
  /** The first proposal the coalition saw for each `${height}/${round}`. */
  private readonly proposals = new Map<string, BlockID>();
  /** `${member}/${height}/${round}` where a member already backed a later proposal. */
  private readonly backed = new Set<string>();

  constructor(
    private readonly seed: number,
    private readonly members: readonly Member[],
    private readonly valsets: readonly ValidatorSet[],
    private readonly rng: Prng,
    /** Without double voters there is nobody to carry out a split. */
    private readonly active: boolean,
  ) {}

  splitAt(height: number): Split | undefined {
    return this.splits.get(height);
  }

  /** The coalition saw a proposal for (height, round) (the first one it sees is kept). */
  sawProposal(height: number, round: number, value: BlockID): void {
    const key = `${height}/${round}`;
    if (!this.proposals.has(key)) this.proposals.set(key, value);
  }

  /** Stage the split of `height` at `round` on `value`, unless one is staged already. */
  stage(height: number, round: number, value: BlockID): void {
    if (this.splits.has(height) || !this.active) return;
    const set = this.valsets[height]!;
    const total = set.totalVotingPower();
    const power = (m: Member): bigint => set.getByAddress(m.address)?.validator.votingPower ?? 0n;
    let weight = this.members.filter((m) => !m.correct).reduce((w, m) => w + power(m), 0n);
    const next = proposerOf(set, round + 1);
    const candidates = this.rng.shuffle(this.members.filter((m) => m.correct && power(m) > 0n && !bytesEqual(m.address, next)));
    const sideA = new Set<number>();
    for (const m of candidates) {
      if (3n * weight > 2n * total) break;
      sideA.add(m.id);
      weight += power(m);
    }
    if (sideA.size === 0) return;
    this.splits.set(height, { round, value, victim: this.rng.pick([...sideA]), sideA, lockSideA: this.rng.chance(0.6) });
  }

  /** Whether `member` should back proposal `value` of (height, round) now (true once). */
  shouldBack(member: number, height: number, round: number, value: BlockID): boolean {
    const split = this.splits.get(height);
    if (split === undefined || round <= split.round || valueIdOf(value) === valueIdOf(split.value)) return false;
    const key = `${member}/${height}/${round}`;
    if (this.backed.has(key)) return false;
    this.backed.add(key);
    this.proposals.set(`${height}/${round}`, value);
    return true;
  }

  /** What the coalition votes towards `peer` at (height, round, type), or null: no plan. */
  vote(height: number, round: number, type: SignedMsgType, peer: number): BlockID | null {
    const split = this.splits.get(height);
    if (split === undefined || round < split.round) return null;
    if (round === split.round) {
      if (!split.sideA.has(peer)) return ZERO_BLOCK_ID;
      return peer === split.victim || (type === SignedMsgType.Prevote && split.lockSideA) ? split.value : ZERO_BLOCK_ID;
    }
    const proposed = this.proposals.get(`${height}/${round}`);
    return proposed !== undefined && valueIdOf(proposed) !== valueIdOf(split.value) ? proposed : ZERO_BLOCK_ID;
  }

  /** Side A of the split, or a fixed random half of the nodes before there is one. */
  sideOf(height: number, node: number): boolean {
    const split = this.splits.get(height);
    if (split !== undefined) return split.sideA.has(node);
    return (hashString(`${this.seed}/${height}/${node}`) & 1) === 0;
  }
}
