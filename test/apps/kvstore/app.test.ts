import { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { AbciError, MisbehaviorType, serialize } from '../../../src/abci/index.js';
import { EMPTY_STATE_HASH, KVStoreApp, KVStoreCode, validatorTx, type KVDatabase } from '../../../src/apps/kvstore/index.js';
import { Scratch, dec, enc, finalizeReq, hex, initChainReq, runBlock, validatorKey } from './helpers.js';

const SEED = 0x6b76;
const scratch = new Scratch();
afterEach(() => scratch.cleanup());

const q = (app: KVStoreApp, key: string, height = 0, path = '') => app.query({ data: enc(key), path, height, prove: false });

describe('kvstore: transactions, queries, events', () => {
  test('key=value txs are executed, queryable after commit, and reported in Info', async () => {
    const app = await scratch.open();
    const r = await runBlock(app, ['name=satoshi', 'abcd', 'name=nakamoto']);
    expect(r.txResults.map((t) => t.code)).toEqual([0, 0, 0]);
    expect(r.appHash.length).toBe(32);
    expect(dec((await q(app, 'name')).value)).toBe('nakamoto');
    expect(dec((await q(app, 'abcd')).value)).toBe('abcd');
    const found = await q(app, 'name');
    expect(found).toMatchObject({ code: 0, log: 'exists', height: 1, key: enc('name') });
    const info = await app.info({ version: '', blockVersion: 11n, p2pVersion: 8n, abciVersion: '2.0.0' });
    expect(info).toMatchObject({ lastBlockHeight: 1, appVersion: 1n, version: '2.0.0', data: '{"size":2}' });
    expect(hex(info.lastBlockAppHash)).toBe(hex(r.appHash));
  });

  test('events mirror CometBFT kvstore: two "app" events, creator/key/index_key indexed, noindex_key not', async () => {
    const app = await scratch.open();
    const r = await runBlock(app, ['color=blue']);
    expect(r.txResults[0]!.events).toEqual([
      {
        type: 'app',
        attributes: [
          { key: 'creator', value: 'Cosmoshi Netowoko', index: true },
          { key: 'key', value: 'color', index: true },
          { key: 'index_key', value: 'index is working', index: true },
          { key: 'noindex_key', value: 'index is working', index: false },
        ],
      },
      {
        type: 'app',
        attributes: [
          { key: 'creator', value: 'Cosmoshi', index: true },
          { key: 'key', value: 'blue', index: true },
          { key: 'index_key', value: 'index is working', index: true },
          { key: 'noindex_key', value: 'index is working', index: false },
        ],
      },
    ]);
  });

  test('query: missing keys are code 0 "does not exist" at the committed height; other heights are refused', async () => {
    const app = await scratch.open();
    expect(await q(app, 'x')).toMatchObject({ code: 0, log: 'does not exist', height: 0 });
    await runBlock(app, ['x=1']);
    await runBlock(app, ['x=2']);
    expect(await q(app, 'nope')).toMatchObject({ code: 0, log: 'does not exist', height: 2, value: new Uint8Array(0) });
    expect(dec((await q(app, 'x', 2)).value)).toBe('2');
    const old = await q(app, 'x', 1);
    expect(old).toMatchObject({ code: KVStoreCode.HeightNotAvailable, height: 2 });
    expect(old.log).toMatch(/only the latest height \(2\)/);
    expect((await q(app, 'x', 9)).log).toMatch(/height 9 is not committed yet; latest is 2/);
    // prove: no merkle proofs with an LtHash; CometBFT's kvstore answers index -1 too
    expect(await app.query({ data: enc('x'), path: '/key', height: 0, prove: true })).toMatchObject({ index: -1, proofOps: null, log: 'exists' });
  });

  test('finalized but uncommitted writes are invisible to queries and to Info', async () => {
    const app = await scratch.open();
    await runBlock(app, ['k=old']);
    await app.finalizeBlock(finalizeReq(2, [enc('k=new')]));
    expect(dec((await q(app, 'k')).value)).toBe('old');
    expect((await app.info({ version: '', blockVersion: 0n, p2pVersion: 0n, abciVersion: '' })).lastBlockHeight).toBe(1);
    await app.commit();
    expect(dec((await q(app, 'k')).value)).toBe('new');
  });

  test('a malformed tx in a decided block fails alone (code 2) without touching state', async () => {
    const app = await scratch.open();
    const r = await runBlock(app, ['a=1', '=bad', 'b=2']);
    expect(r.txResults.map((t) => t.code)).toEqual([0, 2, 0]);
    expect(r.txResults[1]!.log).toMatch(/empty key/);
    expect(r.txResults[1]!.events).toEqual([]);
    const other = await scratch.open();
    expect(hex((await runBlock(other, ['a=1', 'b=2'])).appHash)).toBe(hex(r.appHash));
  });

  test('contract violations are AbciErrors with context', async () => {
    const app = await scratch.open();
    await expect(app.commit()).rejects.toThrow(AbciError);
    const err = await app.finalizeBlock(finalizeReq(5, [])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbciError);
    expect((err as AbciError).context).toMatchObject({ height: 5, expected: 1 });
    await runBlock(app, []);
    await expect(app.initChain(initChainReq())).rejects.toThrow(/already has committed state/);
  });

  test('bad options are refused with the offending value', async () => {
    await expect(KVStoreApp.open({ dir: scratch.dir(), snapshotInterval: -1 })).rejects.toThrow(/snapshotInterval must be a non-negative integer/);
    await expect(KVStoreApp.open({ dir: scratch.dir(), snapshotKeepRecent: 0 })).rejects.toThrow(/snapshotKeepRecent must be ≥ 1/);
    await expect(KVStoreApp.open({ dir: scratch.dir(), snapshotChunkSize: 0 })).rejects.toThrow(/snapshotChunkSize/);
    await expect(KVStoreApp.open({})).rejects.toThrow(/needs a dir or a db/);
  });

  test('retainHeight keeps retainBlocks blocks', async () => {
    const app = await scratch.open({ retainBlocks: 2 });
    await app.finalizeBlock(finalizeReq(1, []));
    expect((await app.commit()).retainHeight).toBe(0);
    await app.finalizeBlock(finalizeReq(2, []));
    expect((await app.commit()).retainHeight).toBe(1);
    await app.finalizeBlock(finalizeReq(3, []));
    expect((await app.commit()).retainHeight).toBe(2);
  });

  test('works with an already-open database it does not own, through the serialized client', async () => {
    const dir = scratch.dir();
    const db: KVDatabase = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'shared'), { keyEncoding: 'view', valueEncoding: 'view' });
    await db.open();
    try {
      const app = await scratch.open({ db });
      const client = serialize(app);
      await client.finalizeBlock(finalizeReq(1, [enc('a=b')]));
      await client.commit();
      expect(dec((await client.query({ data: enc('a'), path: '', height: 0, prove: false })).value)).toBe('b');
      await app.close();
      expect(db.status).toBe('open');
      const wrong = new ClassicLevel(join(dir, 'wrong'));
      await expect(KVStoreApp.open({ db: wrong as unknown as KVDatabase })).rejects.toThrow(/'view' key and value encodings/);
      await wrong.close();
    } finally {
      await db.close();
    }
  });
});

describe('kvstore: validators', () => {
  const v1 = validatorKey(1).pubKey;
  const v2 = validatorKey(2).pubKey;
  const v3 = validatorKey(3).pubKey;
  const initChain = (app: KVStoreApp) => app.initChain(initChainReq([{ pubKey: v1.bytes, power: 10n }]));
  const power = async (app: KVStoreApp, pub: Uint8Array) => {
    const r = await app.query({ data: pub, path: '/val', height: 0, prove: false });
    return r.log === 'exists' ? dec(r.value) : null;
  };

  test('InitChain stores genesis validators; its app hash is that of the state it creates', async () => {
    const app = await scratch.open();
    const empty = await app.initChain(initChainReq());
    expect(hex(empty.appHash)).toBe(hex(EMPTY_STATE_HASH));
    const r = await initChain(app);
    expect(hex(r.appHash)).not.toBe(hex(EMPTY_STATE_HASH));
    expect(r.validators).toEqual([]);
    const b1 = await runBlock(app, []);
    expect(hex(b1.appHash)).toBe(hex(r.appHash)); // an empty block changes nothing
    expect(await power(app, v1.bytes)).toBe('10');
  });

  test('val txs become validator updates: add, change, remove; the last update of a key in a block wins', async () => {
    const app = await scratch.open();
    await initChain(app);
    const r = await runBlock(app, [validatorTx(v2.bytes, 5n), `val:${Buffer.from(v3.bytes).toString('base64')}!7`, validatorTx(v2.bytes, 6n)]);
    expect(r.txResults.map((t) => t.code)).toEqual([0, 0, 0]);
    expect(r.validatorUpdates).toEqual([
      { pubKey: v2.bytes, power: 6n },
      { pubKey: v3.bytes, power: 7n },
    ]);
    expect(await power(app, v2.bytes)).toBe('6');
    const r2 = await runBlock(app, [validatorTx(v3.bytes, 0n)]);
    expect(r2.validatorUpdates).toEqual([{ pubKey: v3.bytes, power: 0n }]);
    expect(await power(app, v3.bytes)).toBeNull();
  });

  test('removing an unknown validator is dropped (CometBFT would halt on it)', async () => {
    const app = await scratch.open();
    await initChain(app);
    const r = await runBlock(app, [validatorTx(v3.bytes, 0n)]);
    expect(r.txResults[0]!.code).toBe(0);
    expect(r.validatorUpdates).toEqual([]);
    // add and remove in one block: no net change, no update
    expect((await runBlock(app, [validatorTx(v2.bytes, 3n), validatorTx(v2.bytes, 0n)])).validatorUpdates).toEqual([]);
  });

  test('a duplicate-vote misbehaviour costs the validator one unit of power', async () => {
    const app = await scratch.open();
    await initChain(app);
    await runBlock(app, []);
    const r = await runBlock(app, [], [
      { type: MisbehaviorType.DuplicateVote, validator: { address: v1.address, power: 10n }, height: 1, time: { seconds: 0, nanos: 0 }, totalVotingPower: 10n },
      { type: MisbehaviorType.DuplicateVote, validator: { address: new Uint8Array(20), power: 3n }, height: 1, time: { seconds: 0, nanos: 0 }, totalVotingPower: 10n },
    ]);
    expect(r.validatorUpdates).toEqual([{ pubKey: v1.bytes, power: 9n }]);
    expect(await power(app, v1.bytes)).toBe('9');
  });
});

describe('kvstore: durability', () => {
  test('restart: Info reports the last committed height and hash; an uncommitted block is lost and replays identically', async () => {
    const dir = scratch.dir();
    const app = await scratch.open({ dir, syncWrites: true });
    await runBlock(app, ['a=1', 'b=2']);
    const b2 = await runBlock(app, ['c=3']);
    const pending = await app.finalizeBlock(finalizeReq(3, [enc('d=4')]));
    await app.close();

    const again = await scratch.open({ dir, syncWrites: true });
    const info = await again.info({ version: '', blockVersion: 11n, p2pVersion: 8n, abciVersion: '2.0.0' });
    expect(info.lastBlockHeight).toBe(2);
    expect(hex(info.lastBlockAppHash)).toBe(hex(b2.appHash));
    expect(info.data).toBe('{"size":3}');
    expect((await q(again, 'd')).log).toBe('does not exist');
    // the node replays block 3: same result
    const replayed = await again.finalizeBlock(finalizeReq(3, [enc('d=4')]));
    expect(hex(replayed.appHash)).toBe(hex(pending.appHash));
    await again.commit();
    expect(hex(await again.recomputeAppHash())).toBe(hex(replayed.appHash));
  });

  test('before any commit Info says height 0 with an empty hash, so the node calls InitChain', async () => {
    const app = await scratch.open();
    const info = await app.info({ version: '', blockVersion: 11n, p2pVersion: 8n, abciVersion: '2.0.0' });
    expect(info).toMatchObject({ lastBlockHeight: 0, lastBlockAppHash: new Uint8Array(0), data: '{"size":0}' });
  });
});

// --- determinism ---------------------------------------------------------------------------

const keyArb = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'long-key', 'k=v');
const txArb = fc.oneof(
  fc.tuple(keyArb, fc.string({ minLength: 1, maxLength: 6 })).map(([k, v]) => `${k.replace('=', '')}=${v}`),
  keyArb,
  fc.constantFrom('=bad', 'x='),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 })).map(([n, p]) => dec(validatorTx(validatorKey(n).pubKey.bytes, BigInt(p)))),
);
const blocksArb = fc.array(fc.array(txArb, { maxLength: 6 }), { minLength: 1, maxLength: 5 });

describe('kvstore: determinism and the multiset property', () => {
  test('the same blocks on two independent instances give the same app hash at every height', async () => {
    await fc.assert(
      fc.asyncProperty(blocksArb, async (blocks) => {
        const a = await scratch.open();
        const b = await scratch.open();
        for (const txs of blocks) {
          const ra = await runBlock(a, txs);
          const rb = await runBlock(b, txs);
          expect(hex(ra.appHash)).toBe(hex(rb.appHash));
          expect(ra.txResults).toEqual(rb.txResults);
          expect(ra.validatorUpdates).toEqual(rb.validatorUpdates);
        }
        // the incremental hash equals a from-scratch recomputation over the stored data
        expect(hex(await a.recomputeAppHash())).toBe(hex(a.appHash));
        await scratch.cleanup();
      }),
      { seed: SEED, numRuns: 25 },
    );
  });

  test('the same final state reached by different histories has the same app hash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), fc.string({ minLength: 1, maxLength: 5 }).filter((v) => !v.includes('='))),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), fc.string({ minLength: 1, maxLength: 5 })), { maxLength: 10 }),
        fc.integer({ min: 1, max: 4 }),
        async (final, noise, split) => {
          const entries = Object.entries(final);
          const direct = await scratch.open();
          await runBlock(direct, entries.map(([k, v]) => `${k}=${v}`));
          // another history: noise writes first (only to keys that end up set), then the final
          // values in reverse order, spread over several blocks
          const other = await scratch.open();
          const noisy = noise.filter(([k]) => k in final).map(([k, v]) => `${k}=${v.replace(/=/g, '')}x`);
          const txs = [...noisy, ...entries.reverse().map(([k, v]) => `${k}=${v}`)];
          for (let i = 0; i < txs.length; i += split) await runBlock(other, txs.slice(i, i + split));
          if (txs.length === 0) await runBlock(other, []);
          expect(hex(other.appHash)).toBe(hex(direct.appHash));
          await scratch.cleanup();
        },
      ),
      { seed: SEED + 1, numRuns: 25 },
    );
  });
});

describe("kvstore: a proposal's keys read ahead", () => {
  const proposal = (height: number, txs: (string | Uint8Array)[]) => {
    const f = finalizeReq(height, txs.map((t) => (typeof t === 'string' ? enc(t) : t)));
    return { txs: f.txs, proposedLastCommit: f.decidedLastCommit, misbehavior: [], hash: f.hash, height, time: f.time, nextValidatorsHash: f.nextValidatorsHash, proposerAddress: f.proposerAddress };
  };

  test('blocks processed or prepared first give the results of blocks executed cold, even when the next proposal arrives before the commit', async () => {
    await fc.assert(
      fc.asyncProperty(blocksArb, fc.array(fc.constantFrom('process', 'prepare', 'early', 'none'), { minLength: 5, maxLength: 5 }), async (blocks, modes) => {
        const warm = await scratch.open();
        const cold = await scratch.open();
        for (const [i, txs] of blocks.entries()) {
          const height = warm.height + 1;
          const mode = modes[i]!;
          if (mode === 'process' || mode === 'early') await warm.processProposal(proposal(height, txs));
          if (mode === 'prepare') await warm.prepareProposal({ ...proposal(height, txs), maxTxBytes: 1 << 20, localLastCommit: { round: 0, votes: [] } });
          const ra = await warm.finalizeBlock(finalizeReq(height, txs.map((t) => (typeof t === 'string' ? enc(t) : t))));
          // the next block's keys read while this one is not committed yet: values of the old state
          const next = blocks[i + 1];
          if (mode === 'early' && next) await warm.processProposal(proposal(height + 1, next));
          await warm.commit();
          const rb = await runBlock(cold, txs);
          expect(hex(ra.appHash)).toBe(hex(rb.appHash));
          expect(ra.txResults).toEqual(rb.txResults);
        }
        expect(hex(await warm.recomputeAppHash())).toBe(hex(warm.appHash));
        await scratch.cleanup();
      }),
      { seed: SEED + 2, numRuns: 40 },
    );
  });

  test('a processed proposal is executed without reading the database again', async () => {
    const db = new ClassicLevel<Uint8Array, Uint8Array>(join(scratch.dir(), 'db'), { keyEncoding: 'view', valueEncoding: 'view' });
    const app = await scratch.open({ db });
    await runBlock(app, ['a=1', 'b=2']);
    await app.processProposal(proposal(2, ['a=3', 'c=4']));
    let reads = 0;
    const getMany = db.getMany.bind(db);
    db.getMany = ((...args: Parameters<typeof getMany>) => {
      reads++;
      return getMany(...args);
    }) as typeof db.getMany;
    const r = await app.finalizeBlock(finalizeReq(2, [enc('a=3'), enc('c=4')]));
    expect(reads).toBe(0);
    await app.commit();
    expect(dec((await q(app, 'a')).value)).toBe('3');
    // the next height's block reads again: what was read ahead belonged to height 1's state
    const cold = await scratch.open();
    await runBlock(cold, ['a=1', 'b=2']);
    expect(hex((await runBlock(cold, ['a=3', 'c=4'])).appHash)).toBe(hex(r.appHash));
    await app.finalizeBlock(finalizeReq(3, [enc('a=5')]));
    expect(reads).toBe(1);
    await db.close();
  });
});
