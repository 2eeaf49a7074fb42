// The simulated application's blocks. A block is only a BlockID here; the registry remembers
// who built each one, for which height, whether ProcessProposal accepts it, and whether it
// was ever proposed — what the validity property is checked against.
import type { BlockID } from '../codec/index.js';
import { valueIdOf, type ValueId } from '../consensus/core/index.js';
import type { Prng } from './prng.js';

export interface ValueInfo {
  readonly height: number;
  readonly round: number;
  readonly proposer: number;
  /** What ProcessProposal says about it. */
  readonly valid: boolean;
  /** Whether a signed proposal carried it. */
  proposed: boolean;
}

export class ValueRegistry {
  private readonly values = new Map<ValueId, ValueInfo>();
  private serial = 0;

  constructor(private readonly seed: number) {}

  /** A new block for (height, round) built by `proposer`. Its hash spells height.round.proposer.serial. */
  make(height: number, round: number, proposer: number, valid: boolean): BlockID {
    const hash = new Uint8Array(32);
    const view = new DataView(hash.buffer);
    view.setUint32(0, this.seed >>> 0);
    view.setUint32(4, height);
    view.setUint32(8, round);
    view.setUint32(12, proposer);
    view.setUint32(16, ++this.serial);
    view.setUint32(20, valid ? 1 : 0);
    const partsHash = hash.slice();
    partsHash[31] = 0xff;
    const blockId: BlockID = { hash, partSetHeader: { total: 1, hash: partsHash } };
    this.values.set(valueIdOf(blockId), { height, round, proposer, valid, proposed: false });
    return blockId;
  }

  /** A block nobody built: never registered, so the application rejects it and it was never proposed. */
  fabricate(height: number, round: number, rng: Prng): BlockID {
    const hash = new Uint8Array(32);
    const view = new DataView(hash.buffer);
    view.setUint32(0, 0xdeadbeef);
    view.setUint32(4, height);
    view.setUint32(8, round);
    view.setUint32(12, rng.u32());
    return { hash, partSetHeader: { total: 1, hash: hash.slice() } };
  }

  get(value: ValueId): ValueInfo | undefined {
    return this.values.get(value);
  }

  /** ProcessProposal: built for this height and accepted. */
  isValid(blockId: BlockID, height: number): boolean {
    const info = this.values.get(valueIdOf(blockId));
    return info !== undefined && info.valid && info.height === height;
  }

  markProposed(blockId: BlockID): void {
    const info = this.values.get(valueIdOf(blockId));
    if (info !== undefined) info.proposed = true;
  }
}
