// The properties every run is checked against, and what they are checked on:
//  - agreement: no two correct nodes decide different blocks at a height;
//  - validity: a decided block was built for that height, accepted by the application and
//    proposed in a signed proposal;
//  - termination: every correct node decides every height, and needs at most a bounded
//    number of rounds at a height after GST;
//  - double-sign: a correct node's core never asks to sign a vote conflicting with one its
//    key signed (the signer would refuse; asking is the bug);
//  - evidence: a correct node that accepted two different votes in one slot reported it;
//  - recovery: after a crash, replaying the WAL rebuilds exactly the core that crashed.
import { SignedMsgType, type Vote } from '../codec/index.js';
import { valueIdOf, type ValueId } from '../consensus/core/index.js';
import { short } from './format.js';
import type { ValueInfo } from './values.js';

export type Property = 'agreement' | 'validity' | 'termination' | 'double-sign' | 'evidence' | 'rounds-after-gst' | 'recovery' | 'exception';

export interface Violation {
  readonly property: Property;
  readonly detail: string;
}

const slotOf = (v: Pick<Vote, 'height' | 'round' | 'type' | 'validatorIndex'>): string => `${v.height}/${v.round}/${v.type}/${v.validatorIndex}`;

export class Checker {
  readonly violations: Violation[] = [];
  /** The most rounds a correct node was in, after GST, at one height before deciding it. */
  maxRoundsAfterGst = 0;
  private readonly decided = new Map<number, { value: ValueId; node: number }>();
  /** `${node}/${height}/${round}/${type}` → the value the node's key signed there. */
  private readonly signedVotes = new Map<string, ValueId>();
  /** Per correct node: vote slot → the values its core accepted there. */
  private readonly observed = new Map<number, Map<string, Set<ValueId>>>();
  /** Per correct node: the slots it produced evidence for. */
  private readonly evidenced = new Map<number, Set<string>>();
  /** `${node}/${height}` → the rounds the node was in after GST. */
  private readonly roundsAfterGst = new Map<string, Set<number>>();

  constructor(
    private readonly roundsBound: number,
    private readonly trace: (line: string) => void,
  ) {}

  violate(property: Property, detail: string): void {
    this.violations.push({ property, detail });
    this.trace(`VIOLATION ${property}: ${detail}`);
  }

  /** A correct node's core asks to sign a vote. */
  signRequested(node: number, height: number, round: number, type: SignedMsgType, value: ValueId): void {
    const signed = this.signedVotes.get(`${node}/${height}/${round}/${type}`);
    if (signed !== undefined && signed !== value)
      this.violate('double-sign', `correct node ${node} asked to sign ${SignedMsgType[type]} h${height} r${round} for ${short(value)} after signing ${short(signed)}`);
  }

  /** A correct node's key signed a vote. */
  signed(node: number, height: number, round: number, type: SignedMsgType, value: ValueId): void {
    const key = `${node}/${height}/${round}/${type}`;
    if (!this.signedVotes.has(key)) this.signedVotes.set(key, value);
  }

  /** A correct node's core counted (or recognised as equivocation) this vote. */
  voteAccepted(node: number, vote: Vote): void {
    let slots = this.observed.get(node);
    if (slots === undefined) this.observed.set(node, (slots = new Map()));
    const slot = slotOf(vote);
    let values = slots.get(slot);
    if (values === undefined) slots.set(slot, (values = new Set()));
    values.add(valueIdOf(vote.blockId));
  }

  /** A correct node produced evidence against the validator of `vote`'s slot. */
  evidence(node: number, vote: Vote): void {
    let set = this.evidenced.get(node);
    if (set === undefined) this.evidenced.set(node, (set = new Set()));
    set.add(slotOf(vote));
  }

  /** A correct node is in `round` of `height` after GST. */
  inRoundAfterGst(node: number, height: number, round: number): void {
    const key = `${node}/${height}`;
    let rounds = this.roundsAfterGst.get(key);
    if (rounds === undefined) this.roundsAfterGst.set(key, (rounds = new Set()));
    rounds.add(round);
  }

  /** A correct node decided `value` at `height`; `info` is what the registry knows of it. */
  decision(node: number, height: number, value: ValueId, info: ValueInfo | undefined): void {
    const rounds = this.roundsAfterGst.get(`${node}/${height}`)?.size ?? 0;
    if (rounds > this.maxRoundsAfterGst) this.maxRoundsAfterGst = rounds;
    if (rounds > this.roundsBound) this.violate('rounds-after-gst', `node ${node} needed ${rounds} rounds after GST at h${height} (bound ${this.roundsBound})`);

    const first = this.decided.get(height);
    if (first === undefined) this.decided.set(height, { value, node });
    else if (first.value !== value) this.violate('agreement', `h${height}: node ${first.node} decided ${short(first.value)}, node ${node} decided ${short(value)}`);
    if (info === undefined || !info.proposed || !info.valid || info.height !== height)
      this.violate('validity', `node ${node} decided ${short(value)} at h${height}: ${info === undefined ? 'never built' : !info.proposed ? 'never proposed' : !info.valid ? 'invalid' : `built for h${info.height}`}`);
  }

  /** A restarted node's core (digest) against the one that crashed. */
  recovered(node: number, replayed: number, digest: string, crashed: string): void {
    if (digest !== crashed) this.violate('recovery', `node ${node} replayed ${replayed} WAL entries into ${digest}, but crashed in ${crashed}`);
  }

  /** End of the run: termination (given what is missing) and evidence. */
  finish(missing: readonly string[], detail: string): void {
    if (missing.length > 0) this.violate('termination', `${detail}: ${missing.join(', ')}`);
    for (const [node, slots] of this.observed) {
      const reported = this.evidenced.get(node) ?? new Set<string>();
      for (const [slot, values] of slots) {
        if (values.size > 1 && !reported.has(slot)) this.violate('evidence', `node ${node} saw ${values.size} different votes at h/r/type/index ${slot} and produced no evidence`);
      }
    }
  }
}
