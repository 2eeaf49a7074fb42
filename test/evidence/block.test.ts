// Evidence in blocks: proposals take pending evidence within evidence.max_bytes; a block with
// invalid, duplicated, committed, expired or oversized evidence is rejected; the app is told
// about committed evidence as ABCI misbehavior.
import { afterEach, describe, expect, test } from 'vitest';
import { MisbehaviorType } from '../../src/abci/index.js';
import { encodeEvidenceList, evidenceToJson, toHex, type Block, type Evidence } from '../../src/codec/index.js';
import { EventBus, NodeEvents, type BusMessage } from '../../src/events/index.js';
import { evidenceKey } from '../../src/evidence/index.js';
import { ExecutionError, makeBlock, maxBlockBytes, maxDataBytes } from '../../src/execution/index.js';
import { TestChain, removeTempDirs, type ChainOptions } from './helpers.js';

const chains: TestChain[] = [];
afterEach(async () => {
  for (const c of chains.splice(0)) await c.close();
  removeTempDirs();
});

async function chain(opts: ChainOptions = {}): Promise<TestChain> {
  const c = await TestChain.open(opts);
  chains.push(c);
  return c;
}

const hex = (e: Evidence): string => toHex(evidenceKey(e));

/** The block the state's proposer would make next, with `evidence` in place of the pool's choice. */
async function blockWith(c: TestChain, evidence: Evidence[]): Promise<Block> {
  const proposer = c.state.validators.getProposer().address;
  const { block } = await c.executor.createProposalBlock(c.state, proposer, c.lastCommit, null);
  return makeBlock(c.state, block.header.height, block.data.txs, block.lastCommit!, evidence, proposer, block.header.time);
}

async function rejected(c: TestChain, block: Block): Promise<string> {
  const verdict = await c.executor.processProposal(c.state, block);
  expect(verdict.valid).toBe(false);
  return verdict.reason ?? '';
}

describe('proposals', () => {
  test('take pending evidence, oldest first, within evidence.max_bytes; the rest waits for the next block', async () => {
    // sizes do not depend on the chain's params: measure them on a throwaway chain
    const probe = await chain();
    await probe.produceUntil(3);
    const one = encodeEvidenceList([await probe.evidence(1, 2)]).length;

    const c = await chain({ evidenceMaxBytes: BigInt(one) });
    await c.produceUntil(3);
    const older = await c.evidence(1, 2);
    const newer = await c.evidence(2, 3);
    expect(encodeEvidenceList([older]).length).toBe(one);
    await c.pool.add(newer);
    await c.pool.add(older);

    // the limit is on the EvidenceList encoding: one fits exactly, two do not
    expect(c.pool.pending(one).map(hex)).toEqual([hex(older)]);
    expect(c.pool.pending(one - 1)).toEqual([]);
    const both = encodeEvidenceList([older, newer]).length;
    expect(c.pool.pending(both).map(hex)).toEqual([hex(older), hex(newer)]);
    expect(c.pool.pending(both - 1).map(hex)).toEqual([hex(older)]);

    const b4 = await c.produce();
    expect(b4.evidence.map(hex)).toEqual([hex(older)]);
    // the txs got what the evidence left of the block
    const prepared = c.app.prepared.at(-1)!;
    expect(prepared.maxTxBytes).toBe(maxDataBytes(maxBlockBytes(c.state), one, c.state.validators.size));
    expect(prepared.misbehavior.length).toBe(1);
    const b5 = await c.produce();
    expect(b5.evidence.map(hex)).toEqual([hex(newer)]);
    expect((await c.produce()).evidence).toEqual([]);
  });
});

describe('blocks with bad evidence are rejected', () => {
  test('a forged signature, a wrong time, the same evidence twice, committed evidence', async () => {
    const c = await chain();
    await c.produceUntil(3);
    const ev = await c.evidence(1, 2);

    const forged = { ...ev, voteB: { ...ev.voteB, signature: new Uint8Array(64).fill(3) } };
    expect(await rejected(c, await blockWith(c, [forged]))).toMatch(/invalid evidence: verifying VoteB: invalid signature/);
    const wrongTime = { ...ev, timestamp: { seconds: ev.timestamp.seconds + 1, nanos: 0 } };
    expect(await rejected(c, await blockWith(c, [wrongTime]))).toMatch(/different time to the block/);
    expect(await rejected(c, await blockWith(c, [ev, ev]))).toMatch(/appears twice/);
    // the app was never asked about any of them
    expect(c.app.processed.filter((r) => r.misbehavior.length > 0)).toEqual([]);

    // applying such a block fails the same way (a block decided elsewhere is still checked)
    const bad = await blockWith(c, [forged]);
    const err = await c.executor.applyBlock(c.state, { hash: new Uint8Array(32), partSetHeader: { total: 1, hash: new Uint8Array(32) } }, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutionError);
    expect((err as ExecutionError).kind).toBe('invalid_block');
    expect((err as ExecutionError).context.evidence).toBe('invalid_signature');

    // valid evidence a block brings is kept even when the block is refused (the [ev, ev] block
    // brought it to this pool, as CometBFT's CheckEvidence does) ...
    expect(c.pool.pending(-1).map(hex)).toEqual([hex(ev)]);
    const good = await blockWith(c, [ev]);
    expect(await c.executor.processProposal(c.state, good)).toEqual({ valid: true });
    await c.produce();
    expect(c.pool.size).toBe(0);
    expect(await rejected(c, await blockWith(c, [ev]))).toMatch(/already committed at height 4/);
  });

  test('evidence over evidence.max_bytes, and expired evidence', async () => {
    const c = await chain({ evidenceMaxBytes: 100n, maxAgeNumBlocks: 1n, maxAgeSeconds: 1 });
    await c.produceUntil(4);
    const ev = await c.evidence(1, 2);
    expect(await rejected(c, await blockWith(c, [ev]))).toMatch(/over evidence.max_bytes 100/);
    const d = await chain({ maxAgeNumBlocks: 1n, maxAgeSeconds: 1 });
    await d.produceUntil(5);
    expect(await rejected(d, await blockWith(d, [await d.evidence(1, 2)]))).toMatch(/too old/);
  });
});

describe('the app is told', () => {
  test('FinalizeBlock (and Prepare/ProcessProposal) get DUPLICATE_VOTE misbehavior for committed evidence', async () => {
    const c = await chain();
    await c.produceUntil(3);
    const ev = await c.evidence(2, 2);
    await c.pool.add(ev);
    const block = await c.produce();
    expect(block.evidence.length).toBe(1);
    const expected = [
      {
        type: MisbehaviorType.DuplicateVote,
        validator: { address: c.keys[2]!.pubKey.address, power: 10n },
        height: 2,
        time: await c.blockTime(2),
        totalVotingPower: 40n,
      },
    ];
    const fin = c.app.finalized.find((r) => r.height === block.header.height)!;
    expect(fin.misbehavior).toEqual(expected);
    expect(c.app.processed.find((r) => r.height === block.header.height)!.misbehavior).toEqual(expected);
    expect(c.app.prepared.find((r) => r.height === block.header.height)!.misbehavior).toEqual(expected);
    // every other block: none
    expect(c.app.finalized.filter((r) => r.height !== block.header.height).every((r) => r.misbehavior.length === 0)).toBe(true);
  });

  test('a committed block publishes NewEvidence on the event bus', async () => {
    const events = new NodeEvents(new EventBus());
    const got: BusMessage[] = [];
    events.bus.subscribe('test', "tm.event='NewEvidence'", { deliver: (m) => got.push(m), canceled: () => {} });
    const c = await chain({ onApplied: (a) => events.blockApplied(a) });
    await c.produceUntil(3);
    const ev = await c.evidence(1, 2);
    await c.pool.add(ev);
    const block = await c.produce();
    await new Promise((r) => setImmediate(r));
    expect(got.length).toBe(1);
    expect(got[0]!.data()).toMatchObject({ type: 'tendermint/event/NewEvidence', value: { height: String(block.header.height), evidence: evidenceToJson(ev) } });
    events.stop();
  });

  test('a block replayed after a crash is accepted although its evidence is already marked committed', async () => {
    const c = await chain();
    await c.produceUntil(3);
    const before = c.state;
    await c.pool.add(await c.evidence(1, 2));
    const block = await c.produce();
    // the pool was updated (evidence committed at 4); checking block 4 against the state before it again passes
    await expect(c.pool.check(before, block.evidence)).resolves.toBeUndefined();
  });
});
