import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  ApplySnapshotChunkResult,
  CheckTxType,
  OfferSnapshotResult,
  ProcessProposalStatus,
  serialize,
  type RequestFinalizeBlock,
  type RequestPrepareProposal,
} from '../../src/abci/index.js';
import { CODE_BAD_ENCODING, CODE_BAD_NONCE, CounterApp, encodeCount } from '../../src/apps/counter/index.js';
import { sha256 } from '../../src/crypto/index.js';
import { ROOT } from '../helpers/shared.js';
import { initChainReq } from './kvstore/helpers.js';

const TIME = { seconds: 1_700_000_000, nanos: 0 };
const INFO = { version: '0.38.0', blockVersion: 11n, p2pVersion: 8n, abciVersion: '2.0.0' };
const tx = (n: number) => encodeCount(BigInt(n));

function block(height: number, txs: readonly Uint8Array[]): RequestFinalizeBlock {
  return {
    txs,
    decidedLastCommit: { round: 0, votes: [] },
    misbehavior: [],
    hash: sha256(encodeCount(BigInt(height))),
    height,
    time: { seconds: TIME.seconds + height, nanos: 0 },
    nextValidatorsHash: new Uint8Array(32),
    proposerAddress: new Uint8Array(20),
  };
}

function proposal(height: number, txs: readonly Uint8Array[]): RequestPrepareProposal {
  return { ...block(height, txs), maxTxBytes: 1024 * 1024, localLastCommit: { round: 0, votes: [] } };
}

describe('docs/app-guide.md', () => {
  test('shows src/apps/counter/counter.ts verbatim', () => {
    const guide = readFileSync(join(ROOT, 'docs', 'app-guide.md'), 'utf8');
    const marker = '<!-- example: src/apps/counter/counter.ts -->\n\n```ts\n';
    const start = guide.indexOf(marker);
    expect(start, 'the guide lost its example marker').toBeGreaterThan(0);
    const body = guide.slice(start + marker.length, guide.indexOf('```\n', start + marker.length));
    expect(body).toBe(readFileSync(join(ROOT, 'src', 'apps', 'counter', 'counter.ts'), 'utf8'));
  });
});

describe('the counter example app', () => {
  test('runs the per-block sequence the node drives', async () => {
    const app = serialize(new CounterApp());
    expect((await app.info(INFO)).lastBlockHeight).toBe(0);
    await app.initChain(initChainReq([], 'counter'));

    for (const n of [0, 1, 2]) expect((await app.checkTx({ tx: tx(n), type: CheckTxType.New })).code).toBe(0);
    const { txs } = await app.prepareProposal(proposal(1, [tx(0), tx(1), tx(2)]));
    expect((await app.processProposal({ ...block(1, txs), proposedLastCommit: { round: 0, votes: [] } })).status).toBe(ProcessProposalStatus.Accept);
    const res = await app.finalizeBlock(block(1, txs));
    expect(res.txResults.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(res.txResults[2]!.events).toEqual([{ type: 'counter', attributes: [{ key: 'value', value: '2', index: true }] }]);
    expect(res.appHash).toEqual(sha256(encodeCount(3n)));
    // not visible before commit
    expect((await app.query({ data: new Uint8Array(0), path: '/count', height: 0, prove: false })).value).toEqual(encodeCount(0n));
    await app.commit();
    const q = await app.query({ data: new Uint8Array(0), path: '/count', height: 0, prove: false });
    expect(q).toMatchObject({ value: encodeCount(3n), height: 1 });
    const info = await app.info(INFO);
    expect(info).toMatchObject({ lastBlockHeight: 1, data: '{"count":"3"}' });
    expect(info.lastBlockAppHash).toEqual(res.appHash);

    // a block with a stale and a malformed tx: they fail alone, deterministically
    const r2 = await app.finalizeBlock(block(2, [tx(1), new Uint8Array(3), tx(3)]));
    expect(r2.txResults.map((r) => r.code)).toEqual([CODE_BAD_NONCE, CODE_BAD_ENCODING, 0]);
    await app.commit();
    await expect(app.commit()).rejects.toThrow(/commit without finalizeBlock/);
  });

  test('checkTx uses the mempool view; commit resets it so recheck evicts what the block made stale', async () => {
    const app = new CounterApp();
    expect((await app.checkTx({ tx: tx(0), type: CheckTxType.New })).code).toBe(0);
    expect((await app.checkTx({ tx: tx(1), type: CheckTxType.New })).code).toBe(0);
    expect((await app.checkTx({ tx: tx(1), type: CheckTxType.New })).log).toBe('expected 2, got 1');
    // another proposer's block contains 0 only
    await app.finalizeBlock(block(1, [tx(0)]));
    await app.commit();
    // recheck of the mempool's remaining txs, in order: 1 is still good, a duplicate 0 is not
    expect((await app.checkTx({ tx: tx(1), type: CheckTxType.Recheck })).code).toBe(0);
    expect((await app.checkTx({ tx: tx(0), type: CheckTxType.Recheck })).code).toBe(CODE_BAD_NONCE);
  });

  test('snapshots: served by one app, restored into an empty one, checked against the app hash', async () => {
    const source = new CounterApp(2);
    let appHashAt2: Uint8Array = new Uint8Array(0);
    for (let h = 1, next = 0; h <= 3; h++, next += 2) {
      const r = await source.finalizeBlock(block(h, [tx(next), tx(next + 1)]));
      await source.commit();
      if (h === 2) appHashAt2 = r.appHash;
    }
    const [snapshot] = (await source.listSnapshots()).snapshots;
    expect(snapshot).toMatchObject({ height: 2, format: 1, chunks: 1 });
    const chunk = (await source.loadSnapshotChunk({ height: 2, format: 1, chunk: 0 })).chunk;

    const target = new CounterApp();
    expect((await target.offerSnapshot({ snapshot: snapshot!, appHash: sha256(encodeCount(99n)) })).result).toBe(OfferSnapshotResult.Accept);
    expect((await target.applySnapshotChunk({ index: 0, chunk, sender: 'p1' })).result).toBe(ApplySnapshotChunkResult.RejectSnapshot);
    expect((await target.offerSnapshot({ snapshot: snapshot!, appHash: appHashAt2 })).result).toBe(OfferSnapshotResult.Accept);
    expect((await target.applySnapshotChunk({ index: 0, chunk, sender: 'p1' })).result).toBe(ApplySnapshotChunkResult.Accept);
    expect(await target.info(INFO)).toMatchObject({ lastBlockHeight: 2, lastBlockAppHash: appHashAt2 });
    // and it continues in lockstep with the source
    const next = await target.finalizeBlock(block(3, [tx(4), tx(5)]));
    expect(next.appHash).toEqual((await source.info(INFO)).lastBlockAppHash);
    expect((await source.offerSnapshot({ snapshot: snapshot!, appHash: appHashAt2 })).result).toBe(OfferSnapshotResult.Abort);
  });
});
