// The pool on a real chain (stores, executor, app): adding and deduplicating, surviving a
// reopen, moving to committed once a block holds the evidence, conflicting votes reported by
// consensus becoming evidence stamped with their block's time, and expiry by age.
import { afterEach, describe, expect, test } from 'vitest';
import { toHex, type Evidence } from '../../src/codec/index.js';
import { EvidenceError, evidenceKey } from '../../src/evidence/index.js';
import { evidenceHash } from '../../src/types/index.js';
import { TestChain, conflictingVotes, removeTempDirs } from './helpers.js';

const chains: TestChain[] = [];
afterEach(async () => {
  for (const c of chains.splice(0)) await c.close();
  removeTempDirs();
});

async function chain(opts: Parameters<typeof TestChain.open>[0] = {}): Promise<TestChain> {
  const c = await TestChain.open(opts);
  chains.push(c);
  return c;
}

const hex = (e: Evidence): string => toHex(evidenceKey(e));

describe('evidence pool', () => {
  test('adds verified evidence once, keeps it across a reopen, and remembers it as committed after a block holds it', async () => {
    const c = await chain();
    await c.produceUntil(3);
    const gossiped: [string, number][] = [];
    c.pool.onEvidence((e, resend) => gossiped.push([hex(e), resend]));
    const ev = await c.evidence(1, 2);

    expect(await c.pool.add(ev)).toBe('added');
    expect(await c.pool.add(ev)).toBe('already_pending');
    expect(c.pool.size).toBe(1);
    expect(c.pool.pending(-1).map(hex)).toEqual([hex(ev)]);
    expect(gossiped).toEqual([[hex(ev), 0]]); // once: the duplicate is not gossiped again

    // evidence from a peer is kept but not re-published (gossipsub forwards it)
    const fromPeer = await c.evidence(2, 3);
    expect(await c.pool.add(fromPeer, { gossip: false })).toBe('added');
    expect(gossiped.length).toBe(1);

    // pending survives a restart of the pool, in proposal order (oldest height first)
    await c.reopenPool();
    expect(c.pool.pending(-1).map(hex)).toEqual([hex(ev), hex(fromPeer)]);

    // the next block carries both; then they are committed, not pending
    const block = await c.produce();
    expect(block.evidence.map(hex)).toEqual([hex(ev), hex(fromPeer)]);
    expect(toHex(block.header.evidenceHash)).toBe(toHex(evidenceHash([ev, fromPeer])));
    expect(c.pool.size).toBe(0);
    expect(await c.pool.add(ev)).toBe('already_committed');
    await c.reopenPool();
    expect(await c.pool.isCommitted(ev)).toBe(true);
    expect(await c.pool.add(fromPeer)).toBe('already_committed');
    expect(c.pool.pending(-1)).toEqual([]);
    // and no later block includes it again
    const next = await c.produce();
    expect(next.evidence).toEqual([]);
  });

  test('invalid evidence is refused with a typed error and not kept', async () => {
    const c = await chain();
    await c.produceUntil(3);
    const ev = await c.evidence(0, 2);
    const forged = { ...ev, voteB: { ...ev.voteB, signature: new Uint8Array(64).fill(1) } };
    const err = await c.pool.add(forged).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EvidenceError);
    expect((err as EvidenceError).kind).toBe('invalid_signature');
    const future = await c.pool.add({ ...ev, voteA: { ...ev.voteA, height: 9 }, voteB: { ...ev.voteB, height: 9 } }).catch((e: unknown) => e);
    expect((future as EvidenceError).kind).toBe('unknown_height');
    expect(c.pool.size).toBe(0);
  });

  test('conflicting votes reported by consensus become evidence with the block time and powers of their height', async () => {
    const c = await chain({ evidenceMaxBytes: 0n }); // nothing is proposed: the pool keeps it pending
    await c.produceUntil(2);
    const key = c.keys[3]!;
    const index = c.state.validators.getByAddress(key.pubKey.address)!.index;
    // what the vote keeper builds: a provisional timestamp (the later vote's) and its own powers
    const provisional = (height: number, fill: number): Evidence => {
      const [voteA, voteB] = conflictingVotes(c.genesis.chainId, key, index, height, 0, fill);
      return { kind: 'duplicate_vote', voteA, voteB, validatorPower: 1n, totalVotingPower: 1n, timestamp: voteB.timestamp };
    };
    c.pool.reportConflictingVotes(provisional(3, 1)); // the height being decided
    c.pool.reportConflictingVotes(provisional(2, 5)); // late votes of the height just committed
    c.pool.reportConflictingVotes(provisional(4, 9)); // a height not decided yet: waits
    const outsider = provisional(3, 20);
    c.pool.reportConflictingVotes({ ...outsider, voteA: { ...outsider.voteA, validatorAddress: new Uint8Array(20) }, voteB: { ...outsider.voteB, validatorAddress: new Uint8Array(20) } });
    expect(c.pool.size).toBe(0);

    await c.produce(); // height 3
    const pending = c.pool.pending(-1);
    expect(pending.map((e) => e.voteA.height).sort()).toEqual([2, 3]);
    for (const e of pending) {
      expect(e.timestamp).toEqual(await c.blockTime(e.voteA.height));
      expect(e.validatorPower).toBe(10n);
      expect(e.totalVotingPower).toBe(40n);
      // what consensus builds verifies as peers' evidence does
      expect(await c.pool.add(e)).toBe('already_pending');
    }
    await c.produce(); // height 4: the waiting report
    expect(c.pool.pending(-1).map((e) => e.voteA.height).sort()).toEqual([2, 3, 4]);
  });

  test('pending evidence expires only once both max_age_num_blocks and max_age_duration are exceeded', async () => {
    const c = await chain({ evidenceMaxBytes: 0n, maxAgeNumBlocks: 2n, maxAgeSeconds: 10 });
    await c.produceUntil(3);
    const ev = await c.evidence(1, 2);
    expect(await c.pool.add(ev)).toBe('added');
    await c.produceUntil(11); // 9 blocks and ~9 s old: the block limit is passed, the time limit not
    expect(c.pool.size).toBe(1);
    await c.produceUntil(13); // ~11 s: both
    expect(c.pool.size).toBe(0);
    await c.reopenPool();
    expect(c.pool.size).toBe(0); // pruned from the database, not only from memory
    const err = await c.pool.add(ev).catch((e: unknown) => e);
    expect((err as EvidenceError).kind).toBe('expired');
  });

  test('committed records are dropped once expired: the evidence is refused as expired from then on', async () => {
    const c = await chain({ maxAgeNumBlocks: 2n, maxAgeSeconds: 3 });
    await c.produceUntil(3);
    const ev = await c.evidence(1, 2);
    await c.pool.add(ev);
    await c.produce();
    expect(await c.pool.isCommitted(ev)).toBe(true);
    await c.produceUntil(8);
    expect(await c.pool.isCommitted(ev)).toBe(false);
    expect(((await c.pool.add(ev).catch((e: unknown) => e)) as EvidenceError).kind).toBe('expired');
  });
});
