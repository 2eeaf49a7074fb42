import { describe, expect, test } from 'vitest';
import { BlockIDFlag } from '../../src/codec/index.js';
import {
  AbciError,
  ApplySnapshotChunkResult,
  BaseApplication,
  CODE_OK,
  CheckTxType,
  OfferSnapshotResult,
  ProcessProposalStatus,
  SerializedApplication,
  VerifyVoteExtensionStatus,
  serialize,
  type RequestCheckTx,
  type RequestFinalizeBlock,
  type RequestPrepareProposal,
  type ResponseCheckTx,
  type ResponseCommit,
  type ResponseFinalizeBlock,
} from '../../src/abci/index.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const TIME = { seconds: 1_700_000_000, nanos: 0 };
const NO_COMMIT = { round: 0, votes: [] };

function finalizeReq(txs: Uint8Array[], height = 1): RequestFinalizeBlock {
  return {
    txs,
    decidedLastCommit: NO_COMMIT,
    misbehavior: [],
    hash: new Uint8Array(32),
    height,
    time: TIME,
    nextValidatorsHash: new Uint8Array(32),
    proposerAddress: new Uint8Array(20),
  };
}

function prepareReq(txs: Uint8Array[], maxTxBytes: number): RequestPrepareProposal {
  return {
    maxTxBytes,
    txs,
    localLastCommit: { round: 0, votes: [] },
    misbehavior: [],
    height: 1,
    time: TIME,
    nextValidatorsHash: new Uint8Array(32),
    proposerAddress: new Uint8Array(20),
  };
}

describe('BaseApplication defaults (as CometBFT 0.38)', () => {
  const app = new BaseApplication();

  test('info is empty: height 0 makes the node call InitChain', async () => {
    const info = await app.info({ version: '0.38.0', blockVersion: 11n, p2pVersion: 8n, abciVersion: '2.0.0' });
    expect(info).toEqual({ data: '', version: '', appVersion: 0n, lastBlockHeight: 0, lastBlockAppHash: new Uint8Array(0) });
  });

  test('checkTx accepts, new and recheck alike', async () => {
    for (const type of [CheckTxType.New, CheckTxType.Recheck]) {
      const r = await app.checkTx({ tx: bytes('x'), type });
      expect(r.code).toBe(CODE_OK);
      expect(r.gasWanted).toBe(0n);
    }
  });

  test('query answers code 0 with nothing', async () => {
    const r = await app.query({ data: bytes('k'), path: '', height: 0, prove: false });
    expect(r.code).toBe(CODE_OK);
    expect(r.value.length).toBe(0);
    expect(r.proofOps).toBeNull();
  });

  test('initChain keeps the genesis validators and app hash', async () => {
    const r = await app.initChain({
      time: TIME,
      chainId: 'c',
      consensusParams: {
        block: { maxBytes: 22020096n, maxGas: -1n },
        evidence: { maxAgeNumBlocks: 100000n, maxAgeDuration: { seconds: 172800, nanos: 0 }, maxBytes: 1048576n },
        validator: { pubKeyTypes: ['ed25519'] },
        version: { app: 0n },
        abci: { voteExtensionsEnableHeight: 0n },
      },
      validators: [{ pubKey: new Uint8Array(32), power: 10n }],
      appStateBytes: new Uint8Array(0),
      initialHeight: 1,
    });
    expect(r.validators).toEqual([]);
    expect(r.appHash.length).toBe(0);
    expect(r.consensusParams).toBeUndefined();
  });

  test('prepareProposal keeps mempool order and stops at the first tx past maxTxBytes', async () => {
    const txs = [bytes('aaaa'), bytes('bbb'), bytes('cc'), bytes('d')];
    expect((await app.prepareProposal(prepareReq(txs, 100))).txs).toEqual(txs);
    expect((await app.prepareProposal(prepareReq(txs, 7))).txs).toEqual([bytes('aaaa'), bytes('bbb')]);
    // 'cc' would exceed 8; CometBFT stops there rather than skipping to the 1-byte 'd'
    expect((await app.prepareProposal(prepareReq(txs, 8))).txs).toEqual([bytes('aaaa'), bytes('bbb')]);
    expect((await app.prepareProposal(prepareReq(txs, 3))).txs).toEqual([]);
  });

  test('processProposal and verifyVoteExtension accept; extendVote is empty', async () => {
    const base = { txs: [], proposedLastCommit: NO_COMMIT, misbehavior: [], hash: new Uint8Array(32), height: 1, time: TIME };
    const more = { nextValidatorsHash: new Uint8Array(32), proposerAddress: new Uint8Array(20) };
    expect((await app.processProposal({ ...base, ...more })).status).toBe(ProcessProposalStatus.Accept);
    expect((await app.extendVote({ ...base, ...more })).voteExtension.length).toBe(0);
    const v = await app.verifyVoteExtension({ hash: new Uint8Array(32), validatorAddress: new Uint8Array(20), height: 1, voteExtension: bytes('e') });
    expect(v.status).toBe(VerifyVoteExtensionStatus.Accept);
  });

  test('finalizeBlock returns one code-0 result per tx, commit retains everything', async () => {
    const r = await app.finalizeBlock({
      ...finalizeReq([bytes('a'), bytes('b')]),
      decidedLastCommit: { round: 0, votes: [{ validator: { address: new Uint8Array(20), power: 1n }, blockIdFlag: BlockIDFlag.Commit }] },
    });
    expect(r.txResults.map((t) => t.code)).toEqual([CODE_OK, CODE_OK]);
    expect(r.validatorUpdates).toEqual([]);
    expect(r.events).toEqual([]);
    expect(await app.commit()).toEqual({ retainHeight: 0 });
  });

  test('no snapshots: none listed, offers aborted, chunks empty', async () => {
    expect((await app.listSnapshots()).snapshots).toEqual([]);
    const snapshot = { height: 1, format: 1, chunks: 1, hash: new Uint8Array(32), metadata: new Uint8Array(0) };
    expect((await app.offerSnapshot({ snapshot, appHash: new Uint8Array(32) })).result).toBe(OfferSnapshotResult.Abort);
    expect((await app.loadSnapshotChunk({ height: 1, format: 1, chunk: 0 })).chunk.length).toBe(0);
    const a = await app.applySnapshotChunk({ index: 0, chunk: bytes('c'), sender: 'p' });
    expect(a).toEqual({ result: ApplySnapshotChunkResult.Abort, refetchChunks: [], rejectSenders: [] });
  });
});

/** An app whose calls take turns awaiting, so that unserialized calls would interleave. */
class SlowApp extends BaseApplication {
  readonly trace: string[] = [];
  private inside = 0;
  maxInside = 0;

  private async enter(name: string, ticks: number): Promise<void> {
    this.inside++;
    this.maxInside = Math.max(this.maxInside, this.inside);
    this.trace.push(`>${name}`);
    for (let i = 0; i < ticks; i++) await new Promise<void>((r) => setImmediate(r));
    this.trace.push(`<${name}`);
    this.inside--;
  }

  override async checkTx(req: RequestCheckTx): Promise<ResponseCheckTx> {
    const name = new TextDecoder().decode(req.tx);
    await this.enter(name, 2);
    if (name === 'boom') throw new Error('disk on fire');
    return super.checkTx(req);
  }

  override async finalizeBlock(req: RequestFinalizeBlock): Promise<ResponseFinalizeBlock> {
    await this.enter('finalize', 5);
    return super.finalizeBlock(req);
  }

  override async commit(): Promise<ResponseCommit> {
    await this.enter('commit', 1);
    return super.commit();
  }
}

describe('SerializedApplication', () => {
  test('without it an async app is re-entered (the hazard it exists for)', async () => {
    const app = new SlowApp();
    await Promise.all([app.finalizeBlock(finalizeReq([])), app.checkTx({ tx: bytes('t1'), type: CheckTxType.New })]);
    expect(app.maxInside).toBe(2);
  });

  test('runs calls one at a time, in arrival order', async () => {
    const app = new SlowApp();
    const client = serialize(app);
    await Promise.all([
      client.checkTx({ tx: bytes('t1'), type: CheckTxType.New }),
      client.finalizeBlock(finalizeReq([bytes('x')])),
      client.checkTx({ tx: bytes('t2'), type: CheckTxType.New }),
      client.commit(),
      client.checkTx({ tx: bytes('t3'), type: CheckTxType.Recheck }),
    ]);
    expect(app.maxInside).toBe(1);
    expect(app.trace).toEqual(['>t1', '<t1', '>finalize', '<finalize', '>t2', '<t2', '>commit', '<commit', '>t3', '<t3']);
    expect(client.pending).toBe(0);
  });

  test('an app failure becomes an AbciError naming the method, and the queue goes on', async () => {
    const app = new SlowApp();
    const client = serialize(app);
    const failed = client.checkTx({ tx: bytes('boom'), type: CheckTxType.New });
    const next = client.checkTx({ tx: bytes('ok'), type: CheckTxType.New });
    const err = await failed.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AbciError);
    expect((err as AbciError).method).toBe('checkTx');
    expect((err as AbciError).message).toMatch(/checkTx: application failed: disk on fire/);
    expect(((err as AbciError).cause as Error).message).toBe('disk on fire');
    expect((await next).code).toBe(CODE_OK);
  });

  test('an AbciError thrown by the app passes through unchanged', async () => {
    class Strict extends BaseApplication {
      override async commit(): Promise<ResponseCommit> {
        throw new AbciError('commit', 'commit without finalizeBlock', { height: 3 });
      }
    }
    const err = await serialize(new Strict()).commit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbciError);
    expect((err as AbciError).context).toEqual({ height: 3 });
  });

  test('bounded: beyond maxPending a call fails fast', async () => {
    const client = new SerializedApplication(new SlowApp(), { maxPending: 2 });
    const a = client.checkTx({ tx: bytes('a'), type: CheckTxType.New });
    const b = client.checkTx({ tx: bytes('b'), type: CheckTxType.New });
    await expect(client.checkTx({ tx: bytes('c'), type: CheckTxType.New })).rejects.toThrow(/too many queued/);
    await Promise.all([a, b]);
    await client.idle();
    expect((await client.checkTx({ tx: bytes('d'), type: CheckTxType.New })).code).toBe(CODE_OK);
  });

  test('serialize is idempotent', () => {
    const client = serialize(new BaseApplication());
    expect(serialize(client)).toBe(client);
  });
});
