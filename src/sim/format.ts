// Small pure helpers shared by the simulator's modules: virtual time as a Timestamp, short
// names for simulated blocks in traces and reports, and a digest of a core's state.
import type { BlockID, Timestamp } from '../codec/index.js';
import { valueIdOf, type CoreState, type ValueId } from '../consensus/core/index.js';

const EPOCH_SECONDS = 1_700_000_000;

/** Virtual milliseconds as a vote/proposal timestamp. */
export function timeOf(ms: number): Timestamp {
  return { seconds: EPOCH_SECONDS + Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/** The distinguishing part of a simulated block's value id: height.round.proposer.serial (values.ts). */
export function short(value: ValueId): string {
  return value === '' ? 'nil' : `${value.slice(8, 16)}.${value.slice(16, 24)}.${value.slice(24, 32)}.${value.slice(32, 40)}`.replace(/\b0+(?=[0-9a-f])/g, '');
}

/** What must survive a crash: the round state, the proposals, the validity verdicts and every tally. */
export function coreDigest(core: CoreState): string {
  const r = core.round;
  const id = (b: BlockID | null): string => (b === null ? '-' : short(valueIdOf(b)));
  const parts = [`h${core.height} r${r.round} ${r.step} L${id(r.lockedValue)}@${r.lockedRound} V${id(r.validValue)}@${r.validRound}`];
  parts.push(`flags ${r.awaitingValue} ${r.prevoteTimeoutScheduled} ${r.polkaCurrentDone} ${r.precommitTimeoutScheduled}`);
  parts.push(`proposals ${[...core.proposals].map(([round, p]) => `${round}:${id(p.blockId)}`).join(',')}`);
  parts.push(`validity ${[...core.validity].map(([v, ok]) => `${short(v)}=${ok}`).join(',')}`);
  for (const [round, rv] of core.votes.rounds) {
    const tally = (t: typeof rv.prevotes): string => [...t.power].map(([v, w]) => `${short(v)}=${w}`).join(',');
    parts.push(`r${round} pv[${tally(rv.prevotes)}] pc[${tally(rv.precommits)}]`);
  }
  return parts.join(' | ');
}
