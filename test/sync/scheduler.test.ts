// RangeScheduler with fake peers: requests are spread over peers in parallel, bounded per peer
// and by the look-ahead; a failed range is retried at another peer; partial answers are split;
// a peer whose block was bad is removed and what it served is fetched again elsewhere.
import { describe, expect, test } from 'vitest';
import { RangeScheduler, SyncError } from '../../src/sync/index.js';

/** A fake block: just its height and who served it. */
interface FakeBlock {
  height: number;
  from: string;
}
const blocks = (from: number, count: number, peer: string): FakeBlock[] => Array.from({ length: count }, (_, i) => ({ height: from + i, from: peer }));

describe('RangeScheduler', () => {
  test('spreads ranges over peers in parallel, at most maxPendingPerPeer each, within maxAhead', () => {
    const s = new RangeScheduler<FakeBlock>({ batchSize: 10, maxPendingPerPeer: 2, maxAhead: 100 }, 1);
    s.setPeer('a', 1, 200);
    s.setPeer('b', 1, 200);
    s.setPeer('c', 1, 200);
    const reqs = s.schedule();
    expect(reqs).toHaveLength(6); // 3 peers × 2
    const perPeer = new Map<string, number>();
    for (const r of reqs) perPeer.set(r.peer, (perPeer.get(r.peer) ?? 0) + 1);
    expect([...perPeer.values()]).toEqual([2, 2, 2]);
    expect(reqs.map((r) => r.from)).toEqual([1, 11, 21, 31, 41, 51]);
    expect(reqs.every((r) => r.count === 10)).toBe(true);
    // nothing more until an answer frees a slot
    expect(s.schedule()).toEqual([]);
    expect(s.inFlight()).toBe(6);
  });

  test('never cuts ranges past the best peer height, nor asks a peer for heights it lacks', () => {
    const s = new RangeScheduler<FakeBlock>({ batchSize: 10, maxPendingPerPeer: 10, maxAhead: 1000 }, 1);
    s.setPeer('short', 1, 5);
    s.setPeer('long', 1, 25);
    const reqs = s.schedule();
    expect(reqs.map((r) => [r.from, r.count])).toEqual([
      [1, 10],
      [11, 10],
      [21, 5],
    ]);
    // only "long" has heights 11–25; "short" gets nothing past its height
    for (const r of reqs.filter((r) => r.from > 5)) expect(r.peer).toBe('long');
  });

  test('hands out blocks in order, only once the next height has arrived', () => {
    const s = new RangeScheduler<FakeBlock>({ batchSize: 5, maxPendingPerPeer: 4, maxAhead: 100 }, 1);
    s.setPeer('a', 1, 10);
    s.setPeer('b', 1, 10);
    const [r1, r2] = s.schedule();
    // the second range comes first: nothing to apply yet
    s.received(r2!.peer, r2!.from, blocks(r2!.from, 5, r2!.peer));
    expect(s.peek()).toBeUndefined();
    s.received(r1!.peer, r1!.from, blocks(r1!.from, 5, r1!.peer));
    const applied: number[] = [];
    for (let next = s.peek(); next; next = s.peek()) {
      applied.push(next.block.height);
      s.advance();
    }
    expect(applied).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(s.height).toBe(11);
    expect(() => s.advance()).toThrow(SyncError);
  });

  test('retries a failed range at another peer, and the first again only when no other has it', () => {
    const s = new RangeScheduler<FakeBlock>({ batchSize: 10, maxPendingPerPeer: 1, maxAhead: 10 }, 1);
    s.setPeer('a', 1, 10);
    s.setPeer('b', 1, 10);
    const [first] = s.schedule();
    expect(s.schedule()).toEqual([]); // one range only (maxAhead 10)
    s.failed(first!.peer, first!.from);
    const [retry] = s.schedule();
    expect(retry!.from).toBe(1);
    expect(retry!.peer).not.toBe(first!.peer);
    s.failed(retry!.peer, retry!.from);
    // both failed it once: either may get it again (no peer is excluded forever)
    const [third] = s.schedule();
    expect(third!.from).toBe(1);
    // a late answer from a peer the range no longer waits for is ignored
    const other = third!.peer === 'a' ? 'b' : 'a';
    s.received(other, 1, blocks(1, 10, other));
    expect(s.peek()).toBeUndefined();
    s.received(third!.peer, 1, blocks(1, 10, third!.peer));
    expect(s.peek()?.peer).toBe(third!.peer);
  });

  test('splits a partial answer and re-asks the rest; an empty answer lowers the peer height', () => {
    const s = new RangeScheduler<FakeBlock>({ batchSize: 10, maxPendingPerPeer: 4, maxAhead: 10 }, 1);
    s.setPeer('a', 1, 10);
    const [r] = s.schedule();
    s.received('a', r!.from, blocks(1, 4, 'a')); // e.g. the server's byte bound
    const [rest] = s.schedule();
    expect([rest!.from, rest!.count]).toEqual([5, 6]);
    s.received('a', 5, []); // it does not have 5… after all
    expect(s.maxPeerHeight()).toBe(4);
    expect(s.schedule()).toEqual([]); // nobody has 5 now
    for (let i = 0; i < 4; i++) s.advance();
    expect(s.peek()).toBeUndefined();
    s.setPeer('b', 1, 10);
    const [fromB] = s.schedule();
    expect(fromB).toEqual({ peer: 'b', from: 5, count: 6 });
  });

  test('a bad block removes its peer, and every range it served or holds is fetched again elsewhere', () => {
    const s = new RangeScheduler<FakeBlock>({ batchSize: 5, maxPendingPerPeer: 2, maxAhead: 20 }, 1);
    s.setPeer('evil', 1, 20);
    s.setPeer('good', 1, 20);
    const reqs = s.schedule();
    expect(reqs).toHaveLength(4);
    for (const r of reqs) s.received(r.peer, r.from, blocks(r.from, r.count, r.peer));
    // apply until the first block from "evil", which turns out bad
    while (s.peek()?.peer === 'good') s.advance();
    const applied = s.height - 1;
    expect(s.rejectNext()).toBe('evil');
    expect(s.hasPeer('evil')).toBe(false);
    expect(s.peek()).toBeUndefined();
    const again = s.schedule();
    expect(again.length).toBeGreaterThan(0);
    expect(again.every((r) => r.peer === 'good')).toBe(true);
    expect(again[0]!.from).toBe(applied + 1);
    // every height evil had served is asked again
    const evilRanges = reqs.filter((r) => r.peer === 'evil').map((r) => r.from).filter((f) => f > applied);
    const reasked = again.map((r) => r.from);
    for (const f of evilRanges) expect(reasked).toContain(f);
  });

  test('a peer that disconnects gives its ranges back', () => {
    const s = new RangeScheduler<FakeBlock>({ batchSize: 5, maxPendingPerPeer: 4, maxAhead: 20 }, 1);
    s.setPeer('a', 1, 20);
    expect(s.schedule()).toHaveLength(4);
    s.removePeer('a');
    expect(s.inFlight()).toBe(0);
    s.setPeer('b', 1, 20);
    expect(s.schedule().map((r) => r.peer)).toEqual(['b', 'b', 'b', 'b']);
  });

  test('rejects limits below 1', () => {
    expect(() => new RangeScheduler({ batchSize: 0, maxPendingPerPeer: 1, maxAhead: 1 }, 1)).toThrow(SyncError);
  });
});
