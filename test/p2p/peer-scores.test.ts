// Peer scores and bans, and the per-peer flood meter, on a fake clock: penalties add up to a
// ban at the threshold, scores decay with their half-life, bans expire and the peer starts
// afresh, and the tracked peers are bounded.
import { describe, expect, test } from 'vitest';
import { FloodMeter } from '../../src/p2p/flood-meter.js';
import { DEFAULT_PENALTIES, PeerScores } from '../../src/p2p/peer-scores.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('PeerScores', () => {
  test('penalties add up; the one that reaches the threshold bans, with that offence as the reason', () => {
    const c = clock();
    const s = new PeerScores({ banThreshold: 100, banDurationMs: 60_000 }, { now: c.now });
    for (let i = 0; i < 9; i++) expect(s.penalize('a', 'undecodable')).toBeNull();
    expect(s.score('a')).toBe(-9 * DEFAULT_PENALTIES.undecodable);
    expect(s.isBanned('a')).toBe(false);
    const ban = s.penalize('a', 'invalid_signature');
    expect(ban).toMatchObject({ peer: 'a', reason: 'invalid_signature', since: c.now(), until: c.now() + 60_000 });
    expect(ban!.score).toBeLessThanOrEqual(-100);
    expect(s.isBanned('a')).toBe(true);
    // further offences while banned change nothing and report no second ban
    expect(s.penalize('a', 'flood')).toBeNull();
    expect(s.isBanned('b')).toBe(false);
    expect(s.score('b')).toBe(0);
  });

  test('scores decay by half every half-life, so slow noise never bans', () => {
    const c = clock();
    const s = new PeerScores({ banThreshold: 100, halfLifeMs: 10_000 }, { now: c.now });
    s.penalize('a', 'invalid_signature', 1); // -50
    c.advance(10_000);
    expect(s.score('a')).toBeCloseTo(-25, 6);
    c.advance(20_000);
    expect(s.score('a')).toBeCloseTo(-6.25, 6);
    // one undecodable message every 10 s settles at -20 (x = x/2 - 10), far from -100
    for (let i = 0; i < 100; i++) {
      expect(s.penalize('a', 'undecodable')).toBeNull();
      c.advance(10_000);
    }
    expect(s.score('a')).toBeCloseTo(-10, 3);
    // a long quiet time forgets everything
    c.advance(10 * 60_000);
    expect(s.score('a')).toBe(0);
  });

  test('a ban expires after ban duration and the peer starts again from 0', () => {
    const c = clock();
    const s = new PeerScores({ banThreshold: 100, banDurationMs: 30_000 }, { now: c.now });
    expect(s.penalize('a', 'wrong_chain')).not.toBeNull();
    c.advance(29_999);
    expect(s.isBanned('a')).toBe(true);
    expect(s.bans().map((b) => b.peer)).toEqual(['a']);
    c.advance(1);
    expect(s.isBanned('a')).toBe(false);
    expect(s.bans()).toEqual([]);
    expect(s.score('a')).toBe(0);
    expect(s.penalize('a', 'undecodable')).toBeNull();
    expect(s.score('a')).toBe(-10);
  });

  test('an explicit ban and unban; penalties and threshold are configurable', () => {
    const c = clock();
    const s = new PeerScores({ banThreshold: 5, penalties: { undecodable: 1 } }, { now: c.now });
    for (let i = 0; i < 4; i++) expect(s.penalize('a', 'undecodable')).toBeNull();
    expect(s.penalize('a', 'undecodable')?.reason).toBe('undecodable');
    s.unban('a');
    expect(s.isBanned('a')).toBe(false);
    expect(s.ban('b', 'flood').reason).toBe('flood');
    expect(s.isBanned('b')).toBe(true);
    // `times` counts an offence several times at once
    expect(s.penalize('c', 'undecodable', 5)?.peer).toBe('c');
  });

  test('remembers at most maxPeers scores and bans, forgetting the oldest', () => {
    const c = clock();
    const s = new PeerScores({ maxPeers: 3 }, { now: c.now });
    for (const p of ['a', 'b', 'c', 'd']) s.penalize(p, 'undecodable');
    expect(s.score('a')).toBe(0);
    expect(s.score('d')).toBe(-10);
    for (const p of ['a', 'b', 'c', 'd']) s.ban(p, 'flood');
    expect(s.bans().map((b) => b.peer)).toEqual(['b', 'c', 'd']);
  });
});

describe('FloodMeter', () => {
  test('allows the rate with bursts, penalizes the excess at most once per second', () => {
    const c = clock();
    const f = new FloodMeter({ ratePerSec: 10, burst: 20 }, c.now);
    // a burst of 20 is fine
    for (let i = 0; i < 20; i++) expect(f.hit('a')).toBe(0);
    // the 21st is excess: one penalty now, none for the next excess in the same second
    expect(f.hit('a')).toBe(1);
    for (let i = 0; i < 50; i++) expect(f.hit('a')).toBe(0);
    // a second later: 10 tokens back, used, then the excess since the last penalty is reported
    c.advance(1000);
    for (let i = 0; i < 10; i++) expect(f.hit('a')).toBe(0);
    expect(f.hit('a')).toBe(51);
    // a steady 10/s never is
    const g = new FloodMeter({ ratePerSec: 10 }, c.now);
    for (let i = 0; i < 1000; i++) {
      expect(g.hit('b')).toBe(0);
      c.advance(100);
    }
    // peers are metered separately
    expect(f.hit('other')).toBe(0);
  });
});
