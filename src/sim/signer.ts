// The simulated privval signer: the same rules as privval/signer.ts (CometBFT's FilePV) on
// state that survives crashes (it lives outside the node's volatile memory). It refuses to
// sign at a lower (height, round, step); at the same HRS it returns the stored signature when
// only the timestamp differs and refuses anything else. Byzantine nodes use an unguarded one.
import { SignedMsgType, type Proposal, type Timestamp, type Vote } from '../codec/index.js';
import { valueIdOf } from '../consensus/core/index.js';
import type { SimCrypto, UnsignedProposal, UnsignedVote } from './crypto.js';

const enum Step {
  Propose = 1,
  Prevote = 2,
  Precommit = 3,
}

export type SignRefusal = 'height_regression' | 'round_regression' | 'step_regression' | 'conflicting_data';

interface LastSigned {
  readonly height: number;
  readonly round: number;
  readonly step: Step;
  /** What was signed, without the timestamp. */
  readonly key: string;
  readonly signature: Uint8Array;
  readonly timestamp: Timestamp;
}

export type SignResult<T> = { readonly ok: true; readonly signed: T } | { readonly ok: false; readonly refusal: SignRefusal };

export class SimSigner {
  private last: LastSigned | null = null;

  constructor(
    private readonly nodeId: number,
    private readonly chainId: string,
    private readonly crypto: SimCrypto,
    /** Byzantine nodes sign whatever they like. */
    private readonly guarded: boolean,
  ) {}

  signVote(v: UnsignedVote, address: Uint8Array, index: number): SignResult<Vote> {
    const step = v.type === SignedMsgType.Prevote ? Step.Prevote : Step.Precommit;
    const checked = this.check(v.height, v.round, step, `${v.type}/${valueIdOf(v.blockId)}`);
    if (checked !== null && !checked.ok) return checked;
    const timestamp = checked?.timestamp ?? v.timestamp;
    const signature = checked?.signature ?? this.crypto.signVote(this.nodeId, this.chainId, { ...v, timestamp });
    this.remember(v.height, v.round, step, `${v.type}/${valueIdOf(v.blockId)}`, signature, timestamp);
    return {
      ok: true,
      signed: { ...v, timestamp, validatorAddress: address, validatorIndex: index, signature, extension: new Uint8Array(0), extensionSignature: new Uint8Array(0) },
    };
  }

  signProposal(p: UnsignedProposal): SignResult<Proposal> {
    const key = `${p.polRound}/${valueIdOf(p.blockId)}`;
    const checked = this.check(p.height, p.round, Step.Propose, key);
    if (checked !== null && !checked.ok) return checked;
    const timestamp = checked?.timestamp ?? p.timestamp;
    const signature = checked?.signature ?? this.crypto.signProposal(this.nodeId, this.chainId, { ...p, timestamp });
    this.remember(p.height, p.round, Step.Propose, key, signature, timestamp);
    return { ok: true, signed: { ...p, timestamp, signature } };
  }

  /** null: sign afresh; a stored signature: same HRS and data; a refusal. */
  private check(height: number, round: number, step: Step, key: string): { ok: true; signature: Uint8Array; timestamp: Timestamp } | { ok: false; refusal: SignRefusal } | null {
    const last = this.last;
    if (!this.guarded || last === null) return null;
    if (height < last.height) return { ok: false, refusal: 'height_regression' };
    if (height > last.height) return null;
    if (round < last.round) return { ok: false, refusal: 'round_regression' };
    if (round > last.round) return null;
    if (step < last.step) return { ok: false, refusal: 'step_regression' };
    if (step > last.step) return null;
    if (key === last.key) return { ok: true, signature: last.signature, timestamp: last.timestamp };
    return { ok: false, refusal: 'conflicting_data' };
  }

  private remember(height: number, round: number, step: Step, key: string, signature: Uint8Array, timestamp: Timestamp): void {
    if (this.guarded) this.last = { height, round, step, key, signature, timestamp };
  }
}
