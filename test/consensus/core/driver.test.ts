// The core's entry point: inputs in, effects out, with the rules evaluated by the driver.
import { describe, expect, it } from 'vitest';
import { BlockIDFlag, SignedMsgType, type Commit } from '../../../src/codec/index.js';
import { apply, DEFAULT_TIMEOUTS, proposerOf, valueIdOf, type CoreState, type Input } from '../../../src/consensus/core/index.js';
import { blockId, NIL, nonProposer, ofKind, precommit, prevote, proposal, proposerIndex, run, started, validatorSet, vote } from './helpers.js';

const V = blockId(1);
const W = blockId(2);
const set = validatorSet([1n, 1n, 1n, 1n]);

/** Indices of the set other than `me`, in order. */
function others(me: number): number[] {
  return [0, 1, 2, 3].filter((i) => i !== me);
}

describe('starting a height', () => {
  it('a non-proposer schedules timeoutPropose with the configured duration', () => {
    const me = nonProposer(set, 0);
    const t = started(set, me);
    expect(t.effects).toEqual([{ kind: 'scheduleTimeout', timeout: 'propose', height: 1, round: 0, durationMs: DEFAULT_TIMEOUTS.propose }]);
    expect(t.state.round).toMatchObject({ height: 1, round: 0, step: 'propose' });
  });

  it('the proposer asks the application for a value, then proposes it (lines 18–19)', () => {
    const me = proposerIndex(set, 0);
    const t = started(set, me);
    expect(ofKind(t.effects, 'requestValue')).toEqual([{ kind: 'requestValue', height: 1, round: 0, timeoutMs: DEFAULT_TIMEOUTS.propose }]);
    const r = run(t.state, { kind: 'valueReady', height: 1, round: 0, blockId: V });
    expect(ofKind(r.effects, 'publishProposal')).toEqual([{ kind: 'publishProposal', height: 1, round: 0, polRound: -1, blockId: V }]);
    // Our own proposal, fed back after signing, is not sent for validation and gets our prevote.
    const fed = run(r.state, proposal(set, 1, 0, V));
    expect(ofKind(fed.effects, 'validateValue')).toEqual([]);
    expect(ofKind(fed.effects, 'publishVote')).toEqual([{ kind: 'publishVote', type: SignedMsgType.Prevote, height: 1, round: 0, blockId: V }]);
  });

  it('moving to a lower or equal height is a programming error', () => {
    const t = started(set, 0, 5);
    expect(() => apply(t.state, { kind: 'startHeight', height: 5, validatorSet: set, lastCommit: null })).toThrow(/higher height/);
  });

  it('an observer (no address) follows the rules but never publishes', () => {
    const t = started(set, null);
    const r = run(t.state, proposal(set, 1, 0, V), { kind: 'valueValidated', height: 1, blockId: V, valid: true }, ...[0, 1, 2].map((i) => prevote(set, i, 1, 0, V)), ...[0, 1, 2].map((i) => precommit(set, i, 1, 0, V)));
    expect(ofKind(r.effects, 'publishVote')).toEqual([]);
    expect(ofKind(r.effects, 'decide')).toHaveLength(1);
  });
});

describe('a round that decides', () => {
  const me = nonProposer(set, 0);
  const [a, b, c] = others(me) as [number, number, number];

  it('validates the proposal, prevotes, locks and precommits, then decides with a commit in set order', () => {
    let s: CoreState = started(set, me).state;
    let r = run(s, proposal(set, 1, 0, V));
    expect(ofKind(r.effects, 'validateValue')).toEqual([{ kind: 'validateValue', height: 1, round: 0, blockId: V }]);
    expect(ofKind(r.effects, 'publishVote')).toEqual([]); // waits for valid(v)

    r = run(r.state, { kind: 'valueValidated', height: 1, blockId: V, valid: true });
    expect(ofKind(r.effects, 'publishVote')).toEqual([{ kind: 'publishVote', type: SignedMsgType.Prevote, height: 1, round: 0, blockId: V }]); // line 24

    r = run(r.state, prevote(set, me, 1, 0, V), prevote(set, a, 1, 0, V), prevote(set, b, 1, 0, V));
    expect(ofKind(r.effects, 'publishVote')).toEqual([{ kind: 'publishVote', type: SignedMsgType.Precommit, height: 1, round: 0, blockId: V }]); // line 40
    expect(ofKind(r.effects, 'scheduleTimeout').map((e) => e.timeout)).toEqual(['prevote']); // line 34 fired too
    expect(r.state.round).toMatchObject({ step: 'precommit', lockedRound: 0, validRound: 0 });

    s = r.state;
    r = run(s, precommit(set, me, 1, 0, V), precommit(set, a, 1, 0, V), precommit(set, c, 1, 0, NIL));
    expect(ofKind(r.effects, 'decide')).toEqual([]); // 2 of 4 for V: no decision yet
    r = run(r.state, precommit(set, b, 1, 0, V));
    const [decide] = ofKind(r.effects, 'decide');
    expect(decide).toBeDefined();
    expect(decide!.blockId).toBe(V);
    expect(r.state.decision?.blockId).toBe(V);
    const flags = decide!.commit.signatures.map((sig) => sig.blockIdFlag);
    const expected = [0, 1, 2, 3].map((i) => (i === c ? BlockIDFlag.Nil : BlockIDFlag.Commit));
    expect(flags).toEqual(expected);
    expect(decide!.commit.signatures[a]!.validatorAddress).toEqual(set.getByIndex(a)!.address);
    expect(decide!.commit).toMatchObject({ height: 1, round: 0 });
  });

  it('prevotes nil for an invalid proposal (line 26)', () => {
    const r = run(started(set, me).state, proposal(set, 1, 0, V), { kind: 'valueValidated', height: 1, blockId: V, valid: false });
    expect(ofKind(r.effects, 'publishVote')).toEqual([{ kind: 'publishVote', type: SignedMsgType.Prevote, height: 1, round: 0, blockId: NIL }]);
  });

  it('decides on 2f+1 precommits of an earlier round while in a later one (line 49)', () => {
    const s = run(started(set, me).state, { kind: 'timeout', timeout: 'propose', height: 1, round: 0 }, { kind: 'timeout', timeout: 'prevote', height: 1, round: 0 }).state;
    const later = run(s, { kind: 'timeout', timeout: 'precommit', height: 1, round: 0 }, ...[0, 1, 2, 3].map((i) => prevote(set, i, 1, 0, NIL)));
    expect(later.state.round.round).toBe(1);
    const r = run(later.state, precommit(set, a, 1, 0, W), precommit(set, b, 1, 0, W), precommit(set, c, 1, 0, W));
    expect(ofKind(r.effects, 'decide').map((d) => [d.round, valueIdOf(d.blockId)])).toEqual([[0, valueIdOf(W)]]);
  });
});

describe('timeouts and rounds', () => {
  const me = nonProposer(set, 0, 1, 2);

  it('prevote nil, precommit nil, next round, with durations growing linearly (lines 57–67)', () => {
    let r = run(started(set, me).state, { kind: 'timeout', timeout: 'propose', height: 1, round: 0 });
    expect(ofKind(r.effects, 'publishVote')[0]).toMatchObject({ type: SignedMsgType.Prevote, blockId: NIL });
    r = run(r.state, { kind: 'timeout', timeout: 'prevote', height: 1, round: 0 });
    expect(ofKind(r.effects, 'publishVote')[0]).toMatchObject({ type: SignedMsgType.Precommit, blockId: NIL });
    r = run(r.state, { kind: 'timeout', timeout: 'precommit', height: 1, round: 0 }, { kind: 'timeout', timeout: 'propose', height: 1, round: 1 }, { kind: 'timeout', timeout: 'prevote', height: 1, round: 1 }, { kind: 'timeout', timeout: 'precommit', height: 1, round: 1 });
    expect(r.state.round.round).toBe(2);
    const proposeTimeouts = ofKind(r.effects, 'scheduleTimeout').filter((e) => e.timeout === 'propose');
    expect(proposeTimeouts.map((e) => [e.round, e.durationMs])).toEqual([
      [1, DEFAULT_TIMEOUTS.propose + DEFAULT_TIMEOUTS.proposeDelta],
      [2, DEFAULT_TIMEOUTS.propose + 2 * DEFAULT_TIMEOUTS.proposeDelta],
    ]);
  });

  it('a timeout of another round or height is ignored as stale', () => {
    const s = started(set, me).state;
    expect(apply(s, { kind: 'timeout', timeout: 'propose', height: 1, round: 3 }).ignored).toBe('stale');
    expect(apply(s, { kind: 'timeout', timeout: 'propose', height: 2, round: 0 }).ignored).toBe('wrong_height');
  });

  it('f+1 votes from a higher round skip to it (line 55); f votes do not', () => {
    const [a, b] = others(me) as [number, number];
    const one = run(started(set, me).state, prevote(set, a, 1, 4, NIL));
    expect(one.state.round.round).toBe(0);
    const two = run(one.state, precommit(set, b, 1, 4, V));
    expect(two.state.round.round).toBe(4);
    expect(ofKind(two.effects, 'scheduleTimeout').at(-1)).toMatchObject({ timeout: 'propose', round: 4 });
  });

  it('2f+1 precommits for anything schedule timeoutPrecommit (line 47)', () => {
    const r = run(started(set, me).state, ...others(me).map((i) => precommit(set, i, 1, 0, i % 2 === 0 ? NIL : W)));
    expect(ofKind(r.effects, 'scheduleTimeout').map((e) => e.timeout)).toContain('precommit');
  });
});

describe('locking across rounds', () => {
  it('a proposal with a POL round after our lock unlocks us (line 28–30); without the polka it does not', () => {
    const me = nonProposer(set, 0, 1, 2);
    const [a, b, c] = others(me) as [number, number, number];
    // Round 0: lock on V.
    let s = run(started(set, me).state, proposal(set, 1, 0, V), { kind: 'valueValidated', height: 1, blockId: V, valid: true }, prevote(set, me, 1, 0, V), prevote(set, a, 1, 0, V), prevote(set, b, 1, 0, V)).state;
    expect(s.round).toMatchObject({ lockedRound: 0 });
    s = run(s, { kind: 'timeout', timeout: 'precommit', height: 1, round: 0 }).state;
    // Round 1: no proposal, we prevote nil; a polka for W forms (a, b, c) after we precommitted nil.
    s = run(s, { kind: 'timeout', timeout: 'propose', height: 1, round: 1 }, { kind: 'timeout', timeout: 'prevote', height: 1, round: 1 }, prevote(set, a, 1, 1, W), prevote(set, b, 1, 1, W), prevote(set, c, 1, 1, W)).state;
    s = run(s, { kind: 'timeout', timeout: 'precommit', height: 1, round: 1 }).state;
    expect(s.round).toMatchObject({ round: 2, lockedRound: 0 });
    // Round 2: W proposed with POL round 1 → prevote W although locked on V.
    const r = run(s, proposal(set, 1, 2, W, 1), { kind: 'valueValidated', height: 1, blockId: W, valid: true });
    expect(ofKind(r.effects, 'publishVote')).toEqual([{ kind: 'publishVote', type: SignedMsgType.Prevote, height: 1, round: 2, blockId: W }]);
    // The same proposal without our having seen the polka: no prevote until the timeout (nil).
    const blind = run(started(set, me).state, proposal(set, 1, 0, V), { kind: 'valueValidated', height: 1, blockId: V, valid: true }, prevote(set, me, 1, 0, V), prevote(set, a, 1, 0, V), prevote(set, b, 1, 0, V));
    let t = run(blind.state, { kind: 'timeout', timeout: 'precommit', height: 1, round: 0 }, { kind: 'timeout', timeout: 'propose', height: 1, round: 1 }, { kind: 'timeout', timeout: 'prevote', height: 1, round: 1 }, { kind: 'timeout', timeout: 'precommit', height: 1, round: 1 });
    t = run(t.state, proposal(set, 1, 2, W, 1), { kind: 'valueValidated', height: 1, blockId: W, valid: true });
    expect(ofKind(t.effects, 'publishVote')).toEqual([]);
  });

  it('a locked proposer re-proposes its valid value with the POL round (lines 15–16)', () => {
    const me = proposerIndex(set, 1);
    const [a, b] = others(me) as [number, number];
    let s = started(set, me).state;
    s = run(s, proposal(set, 1, 0, V), { kind: 'valueValidated', height: 1, blockId: V, valid: true }, prevote(set, me, 1, 0, V), prevote(set, a, 1, 0, V), prevote(set, b, 1, 0, V)).state;
    const r = run(s, { kind: 'timeout', timeout: 'precommit', height: 1, round: 0 });
    expect(ofKind(r.effects, 'publishProposal')).toEqual([{ kind: 'publishProposal', height: 1, round: 1, polRound: 0, blockId: V }]);
    expect(ofKind(r.effects, 'requestValue')).toEqual([]);
  });
});

describe('proposer rotation', () => {
  it('proposer(h, r) is the round-0 set incremented r times, weighted by power', () => {
    const weighted = validatorSet([1n, 2n, 3n]);
    const counts = new Map<string, number>();
    for (let r = 0; r < 600; r++) {
      const p = proposerOf(weighted, r);
      const expected = r === 0 ? weighted.getProposer() : weighted.copyIncrementProposerPriority(r).getProposer();
      expect(p).toEqual(expected.address);
      const key = Buffer.from(p).toString('hex');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const byPower = weighted.validators.map((v) => [v.votingPower, counts.get(Buffer.from(v.address).toString('hex')) ?? 0] as const);
    for (const [power, n] of byPower) expect(Math.abs(n - 100 * Number(power))).toBeLessThanOrEqual(2);
  });

  it('only the proposer of the proposal\'s own round is accepted, in later rounds too', () => {
    const me = nonProposer(set, 0, 1, 2);
    let s = run(started(set, me).state, ...[0, 1].flatMap((r) => [
      { kind: 'timeout', timeout: 'propose', height: 1, round: r } as const,
      { kind: 'timeout', timeout: 'prevote', height: 1, round: r } as const,
      { kind: 'timeout', timeout: 'precommit', height: 1, round: r } as const,
    ])).state;
    expect(s.round.round).toBe(2);
    const fromRound1Proposer: Input = { ...(proposal(set, 1, 2, V) as Extract<Input, { kind: 'proposal' }>), signer: proposerOf(set, 1) };
    if (proposerIndex(set, 1) !== proposerIndex(set, 2)) expect(apply(s, fromRound1Proposer).ignored).toBe('not_proposer');
    s = apply(s, proposal(set, 1, 2, V)).state;
    expect(s.proposals.get(2)?.blockId).toBe(V);
  });
});

describe('inputs the core drops', () => {
  const me = nonProposer(set, 0);
  const s = started(set, me).state;

  it('proposals: not from the proposer, bad POL round, nil, other height, second different one', () => {
    const wrongSigner: Input = { ...(proposal(set, 1, 0, V) as Extract<Input, { kind: 'proposal' }>), signer: set.getByIndex(me)!.address };
    expect(apply(s, wrongSigner).ignored).toBe('not_proposer');
    expect(apply(s, proposal(set, 1, 0, V, 0)).ignored).toBe('invalid_pol_round');
    expect(apply(s, proposal(set, 1, 0, NIL)).ignored).toBe('nil_proposal');
    expect(apply(s, proposal(set, 2, 0, V)).ignored).toBe('wrong_height');
    const once = apply(s, proposal(set, 1, 0, V)).state;
    expect(apply(once, proposal(set, 1, 0, V)).ignored).toBe('duplicate');
    expect(apply(once, proposal(set, 1, 0, W)).ignored).toBe('conflicting_proposal');
  });

  it('votes: unknown validator or index, wrong type, far-future round, other height', () => {
    const v = vote(set, 1, SignedMsgType.Prevote, 1, 0, V);
    expect(apply(s, { kind: 'vote', vote: { ...v, validatorIndex: 2 } }).ignored).toBe('unknown_validator');
    expect(apply(s, { kind: 'vote', vote: { ...v, validatorIndex: 9 } }).ignored).toBe('unknown_validator');
    expect(apply(s, { kind: 'vote', vote: { ...v, type: SignedMsgType.Proposal } }).ignored).toBe('wrong_type');
    expect(apply(s, { kind: 'vote', vote: { ...v, round: 101 } }).ignored).toBe('round_out_of_range');
    expect(apply(s, { kind: 'vote', vote: { ...v, height: 2 } }).ignored).toBe('wrong_height');
    expect(apply(s, { kind: 'vote', vote: v }).ignored).toBeNull();
  });

  it('anything before the first height', () => {
    const fresh = started(set, me).state;
    expect(apply({ ...fresh, validators: null }, prevote(set, 0, 1, 0, V)).ignored).toBe('not_started');
  });
});

describe('evidence', () => {
  it('a second, different vote in a slot produces DuplicateVoteEvidence once', () => {
    const me = nonProposer(set, 0);
    const other = others(me)[0]!;
    const r = run(started(set, me).state, prevote(set, other, 1, 0, V), prevote(set, other, 1, 0, W), prevote(set, other, 1, 0, NIL));
    const ev = ofKind(r.effects, 'evidence');
    expect(ev).toHaveLength(1);
    expect(ev[0]!.evidence.voteA.validatorIndex).toBe(other);
    expect(new Set([valueIdOf(ev[0]!.evidence.voteA.blockId), valueIdOf(ev[0]!.evidence.voteB.blockId)])).toEqual(new Set([valueIdOf(V), valueIdOf(W)]));
  });
});

describe('catch-up with a commit from a peer', () => {
  const me = nonProposer(set, 0);

  function commitFor(signers: number[], round = 0, value = V): Commit {
    return {
      height: 1,
      round,
      blockId: value,
      signatures: [0, 1, 2, 3].map((i) => {
        if (!signers.includes(i)) return { blockIdFlag: BlockIDFlag.Absent, validatorAddress: new Uint8Array(0), timestamp: { seconds: 0, nanos: 0 }, signature: new Uint8Array(0) };
        const v = vote(set, i, SignedMsgType.Precommit, 1, round, value);
        return { blockIdFlag: BlockIDFlag.Commit, validatorAddress: v.validatorAddress, timestamp: v.timestamp, signature: v.signature };
      }),
    };
  }

  it('a commit with more than 2/3 of the power decides at once, with that commit', () => {
    const commit = commitFor(others(me), 3);
    const t = apply(started(set, me).state, { kind: 'commit', commit });
    expect(ofKind(t.effects, 'decide')).toEqual([{ kind: 'decide', height: 1, round: 3, blockId: V, commit }]);
    expect(apply(t.state, { kind: 'commit', commit }).ignored).toBe('decided');
  });

  it('a commit with exactly 2/3, for another height, or with a wrong address is rejected', () => {
    const s = started(set, me).state;
    expect(apply(s, { kind: 'commit', commit: commitFor([0, 1]) }).ignored).toBe('invalid_commit:not_enough_power');
    expect(apply(s, { kind: 'commit', commit: { ...commitFor([0, 1, 2]), height: 2 } }).ignored).toBe('wrong_height');
    const swapped = commitFor([0, 1, 2]);
    const bad = { ...swapped, signatures: [swapped.signatures[1]!, swapped.signatures[0]!, ...swapped.signatures.slice(2)] };
    expect(apply(s, { kind: 'commit', commit: bad }).ignored).toBe('invalid_commit:address_mismatch');
  });
});

describe('determinism', () => {
  it('replaying the same inputs into a fresh core gives the same state and effects (what WAL recovery relies on)', () => {
    const me = nonProposer(set, 0);
    const inputs: Input[] = [
      { kind: 'startHeight', height: 1, validatorSet: set, lastCommit: null },
      proposal(set, 1, 0, V),
      prevote(set, 0, 1, 0, W),
      { kind: 'valueValidated', height: 1, blockId: V, valid: true },
      prevote(set, 1, 1, 0, V),
      { kind: 'timeout', timeout: 'propose', height: 1, round: 0 },
      prevote(set, 2, 1, 0, V),
      prevote(set, 0, 1, 0, V),
      precommit(set, 3, 1, 0, NIL),
    ];
    const once = run(started(set, me).state, ...inputs.slice(1));
    const twice = run(started(set, me).state, ...inputs.slice(1));
    expect(twice.effects).toEqual(once.effects);
    expect(twice.state.round).toEqual(once.state.round);
    expect([...twice.state.votes.rounds.get(0)!.prevotes.power]).toEqual([...once.state.votes.rounds.get(0)!.prevotes.power]);
  });
});
