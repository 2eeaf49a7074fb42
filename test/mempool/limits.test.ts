// Admission: every limit and rejection reason, with CometBFT's messages, and what the app's
// answer does to the pool.
import { describe, expect, test } from 'vitest';
import type { Logger } from 'pino';
import { CheckTxType } from '../../src/abci/index.js';
import { defaultConfig, parseConfigToml } from '../../src/config/index.js';
import {
  DEFAULT_CACHE_SIZE,
  DEFAULT_MAX_TX_BYTES,
  DEFAULT_MAX_TXS_BYTES,
  DEFAULT_MEMPOOL_SIZE,
  Mempool,
  MempoolError,
  MempoolUsageError,
  mempoolOptionsFromConfig,
  type MempoolLogger,
} from '../../src/mempool/index.js';
import { INVALID_CODE, MemoryLogger, ScriptedApp, addAll, deferred, enc, hashHex, pool, rejection, strs, tick } from './helpers.js';

describe('defaults and options', () => {
  test("CometBFT's defaults, and config.toml's [mempool] maps onto them", () => {
    expect([DEFAULT_MEMPOOL_SIZE, DEFAULT_MAX_TXS_BYTES, DEFAULT_MAX_TX_BYTES, DEFAULT_CACHE_SIZE]).toEqual([5000, 67_108_864, 1_048_576, 10_000]);
    const o = mempoolOptionsFromConfig(defaultConfig().mempool);
    expect(o).toEqual({ size: 5000, maxTxsBytes: 67_108_864, maxTxBytes: 1_048_576, cacheSize: 10_000, recheck: true, keepInvalidTxsInCache: false });
    // CometBFT's hyphenated key, from config.toml
    expect(mempoolOptionsFromConfig(parseConfigToml('[mempool]\nkeep-invalid-txs-in-cache = true').mempool).keepInvalidTxsInCache).toBe(true);
  });

  test('bad options are refused with the offending value', () => {
    const app = new ScriptedApp();
    expect(() => new Mempool({ size: 0 }, { app })).toThrow(MempoolUsageError);
    expect(() => new Mempool({ cacheSize: -1 }, { app })).toThrow(/cacheSize must be a non-negative integer/);
    let err: unknown;
    try {
      new Mempool({ maxTxBytes: 11, maxTxsBytes: 10 }, { app });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MempoolUsageError);
    expect((err as MempoolUsageError).context).toEqual({ maxTxBytes: 11, maxTxsBytes: 10 });
    expect(() => new Mempool({ blockLimits: { maxDataBytes: -2, maxGas: -1n } }, { app })).toThrow(/maxDataBytes/);
  });

  test('a pino logger fits the logger slot', () => {
    // compile-time check: pino's Logger is assignable to MempoolLogger
    const accept = (l: MempoolLogger): MempoolLogger => l;
    const fromPino = (l: Logger): MempoolLogger => accept(l);
    expect(typeof fromPino).toBe('function');
  });
});

describe('rejections before CheckTx', () => {
  test('empty tx', async () => {
    const { mp, app } = pool();
    const e = await rejection(mp.checkTx(new Uint8Array(0)), 'empty_tx');
    expect(e.message).toBe('tx is empty');
    expect(app.calls).toEqual([]);
  });

  test('tx too large: the default 1 MiB limit, exactly at and one past it', async () => {
    const { mp, app } = pool();
    const atLimit = new Uint8Array(1_048_576).fill(0x61);
    expect((await mp.checkTx(atLimit)).code).toBe(0);
    const e = await rejection(mp.checkTx(new Uint8Array(1_048_577).fill(0x62)), 'tx_too_large');
    expect(e.message).toBe('Tx too large. Max size is 1048576, but got 1048577');
    expect(e.context).toEqual({ max: 1_048_576, actual: 1_048_577 });
    expect(app.calls).toHaveLength(1);
  });

  test('mempool full by count', async () => {
    const { mp, app } = pool({ size: 2 });
    await addAll(mp, ['aaa', 'bbb']);
    const e = await rejection(mp.checkTx(enc('ccc')), 'mempool_full');
    expect(e.message).toBe('mempool is full: number of txs 2 (max: 2), total txs bytes 6 (max: 67108864)');
    expect(e.context).toEqual({ numTxs: 2, maxTxs: 2, txsBytes: 6, maxTxsBytes: 67_108_864 });
    expect(app.calls.map((c) => c.tx)).toEqual(['aaa', 'bbb']);
    expect(mp.size()).toBe(2);
  });

  test('mempool full by bytes: the new tx counts, and a tx that fits exactly is taken', async () => {
    const { mp } = pool({ maxTxsBytes: 10, maxTxBytes: 10 });
    await addAll(mp, ['123456']);
    const e = await rejection(mp.checkTx(enc('12345')), 'mempool_full');
    expect(e.message).toBe('mempool is full: number of txs 1 (max: 5000), total txs bytes 6 (max: 10)');
    await addAll(mp, ['abcd']);
    expect(mp.sizeBytes()).toBe(10);
    await rejection(mp.checkTx(enc('x')), 'mempool_full');
  });

  test('too large is reported before full: such a tx could never get in', async () => {
    const { mp } = pool({ size: 1, maxTxBytes: 4 });
    await addAll(mp, ['a']);
    await rejection(mp.checkTx(enc('12345')), 'tx_too_large');
    await rejection(mp.checkTx(enc('1234')), 'mempool_full');
  });

  test('already in cache: the app sees a tx once', async () => {
    const { mp, app } = pool();
    await addAll(mp, ['dup']);
    const e = await rejection(mp.checkTx(enc('dup')), 'already_in_cache');
    expect(e.message).toBe('tx already exists in cache');
    expect(e.context).toEqual({ hash: hashHex('dup') });
    expect(app.calls).toHaveLength(1);
  });

  test('with the cache disabled, a tx in the pool is still a duplicate', async () => {
    const { mp, app } = pool({ cacheSize: 0 });
    await addAll(mp, ['dup']);
    await rejection(mp.checkTx(enc('dup')), 'already_in_cache');
    expect(app.calls).toHaveLength(1);
  });

  test('busy: CheckTx calls waiting for their turn are bounded', async () => {
    const { mp, app } = pool({ maxWaitingChecks: 1 });
    const gate = deferred();
    app.hold = { type: CheckTxType.New, until: gate.promise };
    const first = mp.checkTx(enc('first')); // in the app
    await tick();
    const second = mp.checkTx(enc('second')); // waiting
    const e = await rejection(mp.checkTx(enc('third')), 'busy');
    expect(e.message).toBe('mempool is busy: 1 CheckTx calls waiting (max: 1)');
    gate.resolve();
    expect((await first).code).toBe(0);
    expect((await second).code).toBe(0);
    await addAll(mp, ['third']);
  });

  test('stopped: no new txs, and stop waits for the call in flight', async () => {
    const { mp, app } = pool();
    const gate = deferred();
    app.hold = { type: CheckTxType.New, until: gate.promise };
    const inFlight = mp.checkTx(enc('late'));
    await tick();
    let stoppedYet = false;
    const stopping = mp.stop().then(() => (stoppedYet = true));
    await tick();
    expect(stoppedYet).toBe(false);
    gate.resolve();
    await stopping;
    await rejection(inFlight, 'stopped');
    await rejection(mp.checkTx(enc('after')), 'stopped');
    expect(mp.size()).toBe(0);
  });
});

describe('block limits (CometBFT TxPreCheck / TxPostCheck)', () => {
  test('a tx whose proto size exceeds the block data is refused before CheckTx', async () => {
    // 'abcdefgh' = 8 bytes → 1 tag + 1 length + 8 = 10 in the block's Data
    const { mp, app } = pool({ blockLimits: { maxDataBytes: 9, maxGas: -1n } });
    const e = await rejection(mp.checkTx(enc('abcdefgh')), 'precheck_failed');
    expect(e.message).toBe('tx pre check: tx size is too big: 10, max: 9');
    expect(app.calls).toEqual([]);
    await addAll(mp, ['abcdefg']); // 9
  });

  test('a tx wanting more gas than a block allows is refused after CheckTx, and forgotten', async () => {
    const { mp, app } = pool({ blockLimits: { maxDataBytes: -1, maxGas: 10n } });
    app.gas.set('greedy', 11n);
    app.gas.set('negative', -1n);
    const e = await rejection(mp.checkTx(enc('greedy')), 'postcheck_failed');
    expect(e.message).toBe('tx post check: gas wanted 11 is greater than max gas 10');
    const n = await rejection(mp.checkTx(enc('negative')), 'postcheck_failed');
    expect(n.message).toBe('tx post check: gas wanted -1 is negative');
    expect(mp.size()).toBe(0);
    app.gas.set('greedy', 10n);
    await addAll(mp, ['greedy']); // not stuck in the cache
  });
});

describe("the app's answer", () => {
  test('code 0: added, with the response and the tx hash returned', async () => {
    const { mp, app } = pool();
    app.gas.set('good', 42n);
    const r = await mp.checkTx(enc('good'));
    expect(r.code).toBe(0);
    expect(r.gasWanted).toBe(42n);
    expect(r.log).toBe('ok');
    expect(Buffer.from(r.hash).toString('hex').toUpperCase()).toBe(hashHex('good'));
    expect(app.calls).toEqual([{ tx: 'good', type: CheckTxType.New }]);
    expect(mp.has(r.hash)).toBe(true);
    expect(mp.has(hashHex('good').toLowerCase())).toBe(true);
  });

  test('code ≠ 0: returned (not thrown), not added', async () => {
    const { mp, app } = pool();
    app.invalid.add('bad');
    const r = await mp.checkTx(enc('bad'));
    expect(r).toMatchObject({ code: INVALID_CODE, log: 'invalid: bad', codespace: 'test' });
    expect(mp.size()).toBe(0);
    expect(mp.sizeBytes()).toBe(0);
  });

  test('an app exception propagates and the tx may be resubmitted', async () => {
    const { mp, app } = pool();
    app.throwOn.add('boom');
    await expect(mp.checkTx(enc('boom'))).rejects.toThrow('app broke on boom');
    expect(mp.size()).toBe(0);
    app.throwOn.clear();
    await addAll(mp, ['boom']);
  });

  test('the pool keeps its own copy of the tx', async () => {
    const { mp } = pool();
    const buf = enc('mine');
    await mp.checkTx(buf);
    buf.fill(0x7a);
    expect(strs(mp.txs())).toEqual(['mine']);
  });

  test('rejections and additions are logged with structure', async () => {
    const log = new MemoryLogger();
    const { mp } = pool({ size: 1 }, new ScriptedApp(), log);
    await addAll(mp, ['one']);
    await rejection(mp.checkTx(enc('two')), 'mempool_full');
    expect(log.entries).toContainEqual({ level: 'debug', msg: 'added good transaction', obj: expect.objectContaining({ tx: hashHex('one') }) });
    expect(log.entries).toContainEqual({ level: 'debug', msg: expect.stringMatching(/^mempool is full/), obj: expect.objectContaining({ reason: 'mempool_full', maxTxs: 1 }) });
  });

  test('metrics hooks see sizes, additions, rejections and failures', async () => {
    const seen: string[] = [];
    const app = new ScriptedApp();
    app.invalid.add('bad');
    const mp = new Mempool(
      { size: 2 },
      {
        app,
        metrics: {
          size: (n, b) => seen.push(`size ${n} ${b}`),
          txAdded: (b) => seen.push(`added ${b}`),
          txRejected: (r) => seen.push(`rejected ${r}`),
          txFailed: (c) => seen.push(`failed ${c}`),
        },
      },
    );
    await addAll(mp, ['ab']);
    await mp.checkTx(enc('bad'));
    await rejection(mp.checkTx(enc('ab')), 'already_in_cache');
    expect(seen).toEqual(['added 2', 'size 1 2', `failed ${INVALID_CODE}`, 'rejected already_in_cache']);
  });

  test('MempoolError is an Error with a name', () => {
    const e = new MempoolError('empty_tx', 'tx is empty');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('MempoolError');
  });
});
