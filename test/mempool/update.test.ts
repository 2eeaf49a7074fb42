// After a block: the lock, removal of committed txs, recheck (and that it never holds up
// update()), notifications, flush — and one run against the real kvstore app.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CheckTxType, serialize } from '../../src/abci/index.js';
import { KVStoreApp, KVStoreCode } from '../../src/apps/kvstore/index.js';
import { sha256 } from '../../src/crypto/index.js';
import { Mempool, MempoolUsageError } from '../../src/mempool/index.js';
import { MemoryLogger, ScriptedApp, addAll, commit, deferred, enc, hashHex, pool, rejection, strs, tick } from './helpers.js';

const { New, Recheck } = CheckTxType;

describe('lock and update contract', () => {
  test('update needs the lock, increasing heights and one result per tx', async () => {
    const { mp } = pool({ height: 5 });
    expect(() => mp.update(6, [], [])).toThrow(MempoolUsageError);
    expect(() => mp.unlock()).toThrow(/unlock\(\) without lock\(\)/);
    await mp.withLock(() => {
      expect(() => mp.update(5, [], [])).toThrow(/heights must increase/);
      expect(() => mp.update(6, [enc('x')], [])).toThrow(/one result per committed tx/);
      mp.update(6, [], []);
    });
    expect(mp.height()).toBe(6);
  });

  test('withLock returns the value and releases the lock even when fn throws', async () => {
    const { mp } = pool();
    expect(await mp.withLock(() => 42)).toBe(42);
    await expect(mp.withLock(() => Promise.reject(new Error('consensus failed')))).rejects.toThrow('consensus failed');
    await addAll(mp, ['still works']);
  });

  test('lock waits for the CheckTx in flight, and CheckTx waits for unlock', async () => {
    const { mp, app } = pool();
    const gate = deferred();
    app.hold = { type: New, until: gate.promise };
    const first = mp.checkTx(enc('first'));
    await tick();
    let locked = false;
    const locking = mp.lock().then(() => (locked = true));
    await tick();
    expect(locked).toBe(false);
    gate.resolve();
    await locking;
    expect(mp.size()).toBe(1); // the CheckTx finished before consensus got the lock
    const second = mp.checkTx(enc('second'));
    await tick();
    expect(app.checks(New)).toEqual(['first']);
    mp.update(1, [enc('first')], [{ code: 0 }]);
    mp.unlock();
    await second;
    await mp.idle();
    expect(strs(mp.txs())).toEqual(['second']);
    await first;
  });
});

test('consensus goes ahead of queued CheckTx calls: it waits for one app call, not for the queue', async () => {
  const { mp, app } = pool();
  const gate = deferred();
  app.hold = { type: New, until: gate.promise };
  const queued = ['q0', 'q1', 'q2', 'q3'].map((t) => mp.checkTx(enc(t)));
  await tick();
  const locking = mp.lock();
  gate.resolve();
  await locking;
  expect(app.checks(New)).toEqual(['q0']);
  mp.update(1, [enc('q0')], [{ code: 0 }]);
  mp.unlock();
  await Promise.all(queued);
  await mp.idle();
  expect(strs(mp.txs())).toEqual(['q1', 'q2', 'q3']);
});

describe('update removes committed txs', () => {
  test('committed txs leave the pool, the rest keep their order, counters follow', async () => {
    const { mp } = pool({ recheck: false });
    await addAll(mp, ['aa', 'bbb', 'cccc', 'ddddd']);
    await commit(mp, 1, ['bbb', 'ddddd', 'not-here']);
    expect(strs(mp.txs())).toEqual(['aa', 'cccc']);
    expect([mp.size(), mp.sizeBytes()]).toEqual([2, 6]);
    expect(mp.has(hashHex('bbb'))).toBe(false);
    await rejection(mp.checkTx(enc('bbb')), 'already_in_cache');
  });

  test('recheck off: no Recheck calls, the remaining txs stay reapable', async () => {
    const { mp, app } = pool({ recheck: false });
    await addAll(mp, ['a', 'b']);
    app.invalid.add('b');
    await commit(mp, 1, ['a']);
    expect(app.checks(Recheck)).toEqual([]);
    expect(strs(mp.reapMaxTxs(-1))).toEqual(['b']);
  });
});

describe('recheck', () => {
  test('drops txs that became invalid, in FIFO order, and forgets them', async () => {
    const log = new MemoryLogger();
    const { mp, app } = pool({}, new ScriptedApp(), log);
    await addAll(mp, ['a', 'b', 'c', 'd']);
    app.invalid.add('c');
    await commit(mp, 1, ['a']);
    await mp.idle();
    expect(app.checks(Recheck)).toEqual(['b', 'c', 'd']);
    expect(strs(mp.txs())).toEqual(['b', 'd']);
    expect([mp.size(), mp.sizeBytes()]).toEqual([2, 2]);
    expect(log.entries).toContainEqual({ level: 'debug', msg: 'tx is no longer valid', obj: { tx: hashHex('c'), reason: 'code 7: invalid: c' } });
    app.invalid.clear();
    expect((await mp.checkTx(enc('c'))).code).toBe(0); // not stuck in the cache
  });

  test('keepInvalidTxsInCache: an evicted tx stays in the cache', async () => {
    const { mp, app } = pool({ keepInvalidTxsInCache: true });
    await addAll(mp, ['a', 'b']);
    app.invalid.add('b');
    await commit(mp, 1, ['a']);
    await mp.idle();
    expect(mp.size()).toBe(0);
    await rejection(mp.checkTx(enc('b')), 'already_in_cache');
  });

  test('a CheckTx exception during recheck drops the tx and logs a warning', async () => {
    const log = new MemoryLogger();
    const { mp, app } = pool({}, new ScriptedApp(), log);
    await addAll(mp, ['a', 'b']);
    app.throwOn.add('a');
    await commit(mp, 1, []);
    await mp.idle();
    expect(strs(mp.txs())).toEqual(['b']);
    expect(log.entries.some((e) => e.level === 'warn' && e.msg === 'recheck CheckTx failed; dropping tx')).toBe(true);
  });

  test('new block limits apply: too-big and too-greedy txs are evicted', async () => {
    const { mp, app } = pool();
    app.gas.set('greedy', 100n);
    await addAll(mp, ['0123456789', 'greedy', 'ok']);
    // '0123456789' is 12 bytes in Data
    await mp.withLock(() => mp.update(1, [], [], { maxDataBytes: 11, maxGas: 50n }));
    await mp.idle();
    expect(strs(mp.txs())).toEqual(['ok']);
    expect(app.checks(Recheck)).toEqual(['greedy', 'ok']); // the oversized one never reached the app
  });

  test('does not block update: update returns with committed txs removed while the recheck is still running', async () => {
    const { mp, app } = pool();
    await addAll(mp, ['a', 'b', 'c', 'd']);
    const slow = deferred();
    app.hold = { type: Recheck, until: slow.promise };
    app.invalid.add('c');
    await mp.lock();
    mp.update(1, [enc('a')], [{ code: 0 }]); // synchronous: returns before any recheck answer
    expect(strs(mp.txs())).toEqual(['b', 'c', 'd']);
    mp.unlock();
    await tick();
    expect(app.checks(Recheck)).toEqual(['b']); // the first recheck is stuck in the app
    // nothing is reapable until it has been checked against the new state
    expect(mp.reapMaxBytesMaxGas(-1, -1)).toEqual([]);
    expect(mp.reapMaxTxs(-1)).toEqual([]);
    // consensus can take the lock again: it waits for one app call, not the whole recheck
    slow.resolve();
    await mp.idle();
    expect(strs(mp.reapMaxBytesMaxGas(-1, -1))).toEqual(['b', 'd']);
  });

  test('while the recheck runs, reaps return the rechecked prefix', async () => {
    const { mp, app } = pool();
    await addAll(mp, ['a', 'b', 'c']);
    const first = deferred();
    app.hold = { type: Recheck, until: first.promise };
    await commit(mp, 1, []);
    await tick();
    expect(app.checks(Recheck)).toEqual(['a']);
    const second = deferred();
    app.hold = { type: Recheck, until: second.promise };
    first.resolve();
    await tick();
    await tick();
    expect(app.checks(Recheck)).toEqual(['a', 'b']); // a is done, b in the app
    expect(strs(mp.reapMaxBytesMaxGas(-1, -1))).toEqual(['a']);
    expect(strs(mp.reapMaxTxs(5))).toEqual(['a']);
    expect(strs(mp.txs())).toEqual(['a', 'b', 'c']); // unconfirmed_txs still lists them all
    second.resolve();
    await mp.idle();
    expect(strs(mp.reapMaxTxs(-1))).toEqual(['a', 'b', 'c']);
  });

  test('a new CheckTx waits for the recheck: the app sees Recheck calls before New ones', async () => {
    const { mp, app } = pool();
    await addAll(mp, ['a', 'b']);
    const slow = deferred();
    app.hold = { type: Recheck, until: slow.promise };
    await commit(mp, 1, []);
    const incoming = mp.checkTx(enc('new'));
    await tick();
    expect(app.checks(New)).toEqual(['a', 'b']);
    slow.resolve();
    expect((await incoming).code).toBe(0);
    expect(app.calls.slice(2)).toEqual([
      { tx: 'a', type: Recheck },
      { tx: 'b', type: Recheck },
      { tx: 'new', type: New },
    ]);
    expect(strs(mp.reapMaxTxs(-1))).toEqual(['a', 'b', 'new']);
  });

  test('consensus gets the lock between two recheck calls; the next update restarts the recheck', async () => {
    const { mp, app } = pool();
    await addAll(mp, ['a', 'b', 'c']);
    const slow = deferred();
    app.hold = { type: Recheck, until: slow.promise };
    await commit(mp, 1, []);
    await tick();
    let locked = false;
    const locking = mp.lock().then(() => (locked = true));
    await tick();
    expect(locked).toBe(false);
    app.hold = null;
    slow.resolve();
    await locking;
    expect(app.checks(Recheck)).toEqual(['a']); // only the call in flight finished
    mp.update(2, [enc('b')], [{ code: 0 }]);
    mp.unlock();
    await mp.idle();
    // height 2's recheck starts over: 'a' was checked against height 1's state only
    expect(app.checks(Recheck)).toEqual(['a', 'a', 'c']);
    expect(strs(mp.reapMaxTxs(-1))).toEqual(['a', 'c']);
  });

  test('flush abandons a running recheck', async () => {
    const { mp, app } = pool();
    await addAll(mp, ['a', 'b']);
    const slow = deferred();
    app.hold = { type: Recheck, until: slow.promise };
    await commit(mp, 1, []);
    await tick();
    mp.flush();
    await mp.idle(); // resolves without the app answering
    expect([mp.size(), mp.sizeBytes()]).toEqual([0, 0]);
    slow.resolve();
    await tick();
    await tick();
    expect(app.checks(Recheck)).toEqual(['a']);
    expect(mp.size()).toBe(0);
  });

  test('metrics count rechecks and evictions', async () => {
    const app = new ScriptedApp();
    let rechecked = 0;
    let evicted = 0;
    const mp = new Mempool({}, { app, metrics: { rechecked: () => rechecked++, txEvicted: () => evicted++ } });
    await addAll(mp, ['a', 'b', 'c']);
    app.invalid.add('b');
    await commit(mp, 1, []);
    await mp.idle();
    expect([rechecked, evicted]).toEqual([3, 1]);
  });
});

describe('txs available notification', () => {
  test('once per height: on the first tx, or after the recheck if txs remain', async () => {
    const { mp, app } = pool();
    let n = 0;
    const off = mp.onTxAvailable(() => n++);
    await addAll(mp, ['a']);
    expect(n).toBe(1);
    await addAll(mp, ['b']);
    expect(n).toBe(1);

    const slow = deferred();
    app.hold = { type: Recheck, until: slow.promise };
    await commit(mp, 1, ['a']);
    await tick();
    expect(n).toBe(1); // 'b' is not proposable until rechecked
    slow.resolve();
    await mp.idle();
    expect(n).toBe(2);
    app.hold = null;

    await commit(mp, 2, ['b']);
    await mp.idle();
    expect(n).toBe(2); // empty: nothing to announce
    await addAll(mp, ['c']);
    expect(n).toBe(3);

    off();
    await commit(mp, 3, ['c']);
    await addAll(mp, ['d']);
    expect(n).toBe(3);
  });

  test('with recheck off, update announces the remaining txs at once', async () => {
    const { mp } = pool({ recheck: false });
    let n = 0;
    mp.onTxAvailable(() => n++);
    await addAll(mp, ['a', 'b']);
    await commit(mp, 1, ['a']);
    expect(n).toBe(2);
  });

  test('a throwing listener is logged and does not stop the others', async () => {
    const log = new MemoryLogger();
    const { mp } = pool({}, new ScriptedApp(), log);
    let n = 0;
    mp.onTxAvailable(() => {
      throw new Error('listener bug');
    });
    mp.onTxAvailable(() => n++);
    await addAll(mp, ['a']);
    expect(n).toBe(1);
    expect(log.entries).toContainEqual({ level: 'warn', msg: 'txs-available listener failed', obj: { err: 'listener bug' } });
  });
});

describe('with the kvstore app', () => {
  const dirs: string[] = [];
  const apps: KVStoreApp[] = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('check, reap, execute, update, recheck', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-mempool-'));
    dirs.push(dir);
    const kv = await KVStoreApp.open({ dir, syncWrites: false });
    apps.push(kv);
    const app = serialize(kv);
    const mp = new Mempool({}, { app });

    expect((await mp.checkTx(enc('a=1'))).code).toBe(KVStoreCode.OK);
    expect((await mp.checkTx(enc('val=bad'))).code).toBe(KVStoreCode.InvalidTxFormat);
    expect((await mp.checkTx(enc('b=2'))).gasWanted).toBe(1n);

    const block = mp.reapMaxBytesMaxGas(-1, 1); // kvstore wants 1 gas per tx
    expect(strs(block)).toEqual(['a=1']);
    await mp.withLock(async () => {
      const res = await app.finalizeBlock({
        txs: block,
        decidedLastCommit: { round: 0, votes: [] },
        misbehavior: [],
        hash: sha256(enc('block 1')),
        height: 1,
        time: { seconds: 1_700_000_001, nanos: 0 },
        nextValidatorsHash: new Uint8Array(32),
        proposerAddress: new Uint8Array(20),
      });
      await app.commit();
      mp.update(1, block, res.txResults);
    });
    await mp.idle();
    expect(strs(mp.txs())).toEqual(['b=2']);
    await rejection(mp.checkTx(enc('a=1')), 'already_in_cache');
    expect(strs(mp.reapMaxTxs(-1))).toEqual(['b=2']);
  });
});
