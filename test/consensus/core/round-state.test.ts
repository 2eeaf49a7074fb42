// The round state machine against Algorithm 1, rule by rule (line numbers of the paper).
import { describe, expect, it } from 'vitest';
import { SignedMsgType } from '../../../src/codec/index.js';
import { valueIdOf } from '../../../src/consensus/core/index.js';
import { applyRound, initialRoundState, type RoundInput, type RoundOutput, type RoundState } from '../../../src/consensus/core/round-state.js';
import { blockId, NIL } from './helpers.js';

const V = blockId(1);
const W = blockId(2);

function at(round: number, step: RoundState['step'], extra: Partial<RoundState> = {}): RoundState {
  return { ...initialRoundState(7), round, step, ...extra };
}

function step(state: RoundState, input: RoundInput): { state: RoundState; outputs: readonly RoundOutput[] } {
  return applyRound(state, input);
}

function votedFor(outputs: readonly RoundOutput[], type: SignedMsgType): string | undefined {
  const v = outputs.find((o) => o.kind === 'vote' && o.type === type);
  return v?.kind === 'vote' ? (valueIdOf(v.value) === '' ? 'nil' : valueIdOf(v.value)) : undefined;
}

describe('StartRound (lines 11–21)', () => {
  it('a proposer without a valid value asks for one (line 18) and still schedules timeoutPropose', () => {
    const t = step(initialRoundState(7), { kind: 'newRound', round: 0, isProposer: true });
    expect(t.state).toMatchObject({ round: 0, step: 'propose', awaitingValue: true });
    expect(t.outputs).toEqual([{ kind: 'getValue', round: 0 }, { kind: 'scheduleTimeout', timeout: 'propose', round: 0 }]);
  });

  it('a proposer with a valid value re-proposes it with validRound as POL round (lines 15–16, 19)', () => {
    const t = step(at(2, 'precommit', { validValue: V, validRound: 2 }), { kind: 'newRound', round: 3, isProposer: true });
    expect(t.outputs[0]).toEqual({ kind: 'proposal', round: 3, value: V, polRound: 2 });
  });

  it('a non-proposer schedules timeoutPropose (line 21)', () => {
    const t = step(initialRoundState(7), { kind: 'newRound', round: 0, isProposer: false });
    expect(t.outputs).toEqual([{ kind: 'scheduleTimeout', timeout: 'propose', round: 0 }]);
  });

  it('resets the per-round guards and never goes back to an earlier round', () => {
    const s = at(3, 'precommit', { prevoteTimeoutScheduled: true, polkaCurrentDone: true, precommitTimeoutScheduled: true });
    expect(step(s, { kind: 'newRound', round: 4, isProposer: false }).state).toMatchObject({ round: 4, step: 'propose', prevoteTimeoutScheduled: false, polkaCurrentDone: false, precommitTimeoutScheduled: false });
    expect(step(s, { kind: 'newRound', round: 2, isProposer: false }).state).toBe(s);
  });

  it('getValue returning broadcasts the proposal with POL round −1 (line 19), once', () => {
    const s = step(initialRoundState(7), { kind: 'newRound', round: 0, isProposer: true }).state;
    const t = step(s, { kind: 'proposeValue', round: 0, value: V });
    expect(t.outputs).toEqual([{ kind: 'proposal', round: 0, value: V, polRound: -1 }]);
    expect(step(t.state, { kind: 'proposeValue', round: 0, value: W }).state).toBe(t.state);
  });
});

describe('prevote rules (lines 22–33)', () => {
  it('line 22–24: prevote a valid proposal when not locked', () => {
    const t = step(at(0, 'propose'), { kind: 'proposal', value: V, valid: true });
    expect(votedFor(t.outputs, SignedMsgType.Prevote)).toBe(valueIdOf(V));
    expect(t.state.step).toBe('prevote'); // line 27
  });

  it('line 23: prevote the locked value itself', () => {
    const t = step(at(3, 'propose', { lockedValue: V, lockedRound: 1 }), { kind: 'proposal', value: V, valid: true });
    expect(votedFor(t.outputs, SignedMsgType.Prevote)).toBe(valueIdOf(V));
  });

  it('line 26: prevote nil for an invalid proposal, or another value than the locked one', () => {
    expect(votedFor(step(at(0, 'propose'), { kind: 'proposal', value: V, valid: false }).outputs, SignedMsgType.Prevote)).toBe('nil');
    expect(votedFor(step(at(3, 'propose', { lockedValue: V, lockedRound: 1 }), { kind: 'proposal', value: W, valid: true }).outputs, SignedMsgType.Prevote)).toBe('nil');
  });

  it('line 22 only holds in the propose step', () => {
    const s = at(0, 'prevote');
    expect(step(s, { kind: 'proposal', value: V, valid: true }).state).toBe(s);
  });

  it('line 29–30: a POL round at or after the lock unlocks', () => {
    const s = at(5, 'propose', { lockedValue: V, lockedRound: 2 });
    expect(votedFor(step(s, { kind: 'proposalAndPolkaPrevious', value: W, polRound: 3, valid: true }).outputs, SignedMsgType.Prevote)).toBe(valueIdOf(W));
    expect(votedFor(step(s, { kind: 'proposalAndPolkaPrevious', value: W, polRound: 2, valid: true }).outputs, SignedMsgType.Prevote)).toBe(valueIdOf(W));
  });

  it('line 32: an older POL round for another value, or an invalid value, gets nil', () => {
    const s = at(5, 'propose', { lockedValue: V, lockedRound: 3 });
    expect(votedFor(step(s, { kind: 'proposalAndPolkaPrevious', value: W, polRound: 2, valid: true }).outputs, SignedMsgType.Prevote)).toBe('nil');
    expect(votedFor(step(s, { kind: 'proposalAndPolkaPrevious', value: V, polRound: 2, valid: true }).outputs, SignedMsgType.Prevote)).toBe(valueIdOf(V));
    expect(votedFor(step(at(5, 'propose'), { kind: 'proposalAndPolkaPrevious', value: W, polRound: 2, valid: false }).outputs, SignedMsgType.Prevote)).toBe('nil');
  });

  it('line 28 needs 0 ≤ vr < round_p', () => {
    const s = at(2, 'propose');
    expect(step(s, { kind: 'proposalAndPolkaPrevious', value: V, polRound: 2, valid: true }).state).toBe(s);
    expect(step(s, { kind: 'proposalAndPolkaPrevious', value: V, polRound: -1, valid: true }).state).toBe(s);
  });

  it('the skipLockCheck mutation drops the lock condition (what the harness must catch)', () => {
    const s = at(3, 'propose', { lockedValue: V, lockedRound: 1 });
    const t = applyRound(s, { kind: 'proposal', value: W, valid: true }, { skipLockCheck: true });
    expect(votedFor(t.outputs, SignedMsgType.Prevote)).toBe(valueIdOf(W));
  });
});

describe('polka rules (lines 34–46)', () => {
  it('line 34: 2f+1 prevotes for anything schedule timeoutPrevote once, in the prevote step', () => {
    const t = step(at(1, 'prevote'), { kind: 'polkaAny' });
    expect(t.outputs).toEqual([{ kind: 'scheduleTimeout', timeout: 'prevote', round: 1 }]);
    expect(step(t.state, { kind: 'polkaAny' }).state).toBe(t.state);
    const p = at(1, 'propose');
    expect(step(p, { kind: 'polkaAny' }).state).toBe(p);
  });

  it('line 36–41: in the prevote step, lock and precommit v, and set the valid value (42–43)', () => {
    const t = step(at(4, 'prevote'), { kind: 'proposalAndPolkaCurrent', value: V });
    expect(t.state).toMatchObject({ step: 'precommit', lockedValue: V, lockedRound: 4, validValue: V, validRound: 4 });
    expect(votedFor(t.outputs, SignedMsgType.Precommit)).toBe(valueIdOf(V));
  });

  it('line 36–37, 42–43: after precommitting, only the valid value moves; the lock does not', () => {
    const t = step(at(4, 'precommit', { lockedValue: W, lockedRound: 2 }), { kind: 'proposalAndPolkaCurrent', value: V });
    expect(t.state).toMatchObject({ step: 'precommit', lockedValue: W, lockedRound: 2, validValue: V, validRound: 4 });
    expect(t.outputs).toEqual([]);
  });

  it('line 36 fires only the first time in a round, and not in the propose step', () => {
    const once = step(at(4, 'prevote'), { kind: 'proposalAndPolkaCurrent', value: V }).state;
    expect(step(once, { kind: 'proposalAndPolkaCurrent', value: V }).state).toBe(once);
    const p = at(4, 'propose');
    expect(step(p, { kind: 'proposalAndPolkaCurrent', value: V }).state).toBe(p);
  });

  it('line 44–46: 2f+1 prevotes for nil precommit nil, without locking', () => {
    const t = step(at(2, 'prevote', { lockedValue: V, lockedRound: 1 }), { kind: 'polkaNil' });
    expect(votedFor(t.outputs, SignedMsgType.Precommit)).toBe('nil');
    expect(t.state).toMatchObject({ step: 'precommit', lockedValue: V, lockedRound: 1 });
  });
});

describe('precommit rules and decision (lines 47–54)', () => {
  it('line 47: 2f+1 precommits for anything schedule timeoutPrecommit once, in any step', () => {
    const t = step(at(3, 'propose'), { kind: 'precommitAny' });
    expect(t.outputs).toEqual([{ kind: 'scheduleTimeout', timeout: 'precommit', round: 3 }]);
    expect(step(t.state, { kind: 'precommitAny' }).state).toBe(t.state);
  });

  it('line 49–51: 2f+1 precommits for v in any round decide v; nothing fires afterwards', () => {
    const t = step(at(5, 'prevote'), { kind: 'precommitValue', round: 2, value: V });
    expect(t.outputs).toEqual([{ kind: 'decide', round: 2, value: V }]);
    expect(t.state.decision).toEqual({ round: 2, value: V });
    for (const input of [{ kind: 'polkaNil' }, { kind: 'timeout', timeout: 'precommit', height: 7, round: 5 }, { kind: 'skipRound', round: 9 }] as const) {
      expect(step(t.state, input).state).toBe(t.state);
    }
  });
});

describe('round skip and timeouts (lines 55–67)', () => {
  it('line 55–56: f+1 messages of a higher round start that round', () => {
    expect(step(at(1, 'prevote'), { kind: 'skipRound', round: 4 }).outputs).toEqual([{ kind: 'startRound', round: 4 }]);
    const s = at(4, 'prevote');
    expect(step(s, { kind: 'skipRound', round: 4 }).outputs).toEqual([]);
  });

  it('line 57–60: timeoutPropose in the propose step prevotes nil; a stale one does nothing', () => {
    const t = step(at(2, 'propose'), { kind: 'timeout', timeout: 'propose', height: 7, round: 2 });
    expect(votedFor(t.outputs, SignedMsgType.Prevote)).toBe('nil');
    expect(t.state.step).toBe('prevote');
    for (const s of [at(3, 'propose'), at(2, 'prevote')]) expect(step(s, { kind: 'timeout', timeout: 'propose', height: 7, round: 2 }).state).toBe(s);
    const other = at(2, 'propose');
    expect(step(other, { kind: 'timeout', timeout: 'propose', height: 6, round: 2 }).state).toBe(other);
  });

  it('line 61–64: timeoutPrevote in the prevote step precommits nil', () => {
    const t = step(at(2, 'prevote'), { kind: 'timeout', timeout: 'prevote', height: 7, round: 2 });
    expect(votedFor(t.outputs, SignedMsgType.Precommit)).toBe('nil');
    expect(t.state.step).toBe('precommit');
    const s = at(2, 'precommit');
    expect(step(s, { kind: 'timeout', timeout: 'prevote', height: 7, round: 2 }).state).toBe(s);
  });

  it('line 65–67: timeoutPrecommit of the current round starts the next round, in any step', () => {
    expect(step(at(2, 'propose'), { kind: 'timeout', timeout: 'precommit', height: 7, round: 2 }).outputs).toEqual([{ kind: 'startRound', round: 3 }]);
    expect(step(at(3, 'propose'), { kind: 'timeout', timeout: 'precommit', height: 7, round: 2 }).outputs).toEqual([]);
  });

  it('a prevote-nil timeout keeps the valid value and the lock', () => {
    const t = step(at(2, 'propose', { lockedValue: V, lockedRound: 1, validValue: V, validRound: 1 }), { kind: 'timeout', timeout: 'propose', height: 7, round: 2 });
    expect(t.state).toMatchObject({ lockedValue: V, lockedRound: 1, validValue: V, validRound: 1 });
    expect(NIL.hash.length).toBe(0);
  });
});
