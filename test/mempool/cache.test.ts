// The seen-cache: LRU of tx hashes that keeps duplicates away from the app.
import { describe, expect, test } from 'vitest';
import { TxCache } from '../../src/mempool/cache.js';
import { INVALID_CODE, addAll, commit, enc, hashHex, pool, rejection } from './helpers.js';

describe('TxCache (LRU)', () => {
  test('push reports whether the key is new; the least recently seen is evicted first', () => {
    const c = new TxCache(2);
    expect(c.push('a')).toBe(true);
    expect(c.push('b')).toBe(true);
    expect(c.push('a')).toBe(false); // a is now the most recent
    expect(c.push('c')).toBe(true); // evicts b
    expect([c.has('a'), c.has('b'), c.has('c')]).toEqual([true, false, true]);
    expect(c.size).toBe(2);
    c.remove('a');
    expect(c.has('a')).toBe(false);
    c.reset();
    expect(c.size).toBe(0);
  });

  test('capacity 0 remembers nothing', () => {
    const c = new TxCache(0);
    expect(c.push('a')).toBe(true);
    expect(c.push('a')).toBe(true);
    expect(c.has('a')).toBe(false);
  });
});

describe('the cache in the mempool', () => {
  test('a committed tx stays in the cache and cannot re-enter', async () => {
    const { mp } = pool();
    await addAll(mp, ['t1']);
    await commit(mp, 1, ['t1']);
    expect(mp.size()).toBe(0);
    await rejection(mp.checkTx(enc('t1')), 'already_in_cache');
  });

  test('a committed tx this node never saw is cached too', async () => {
    const { mp, app } = pool();
    await commit(mp, 1, ['elsewhere']);
    await rejection(mp.checkTx(enc('elsewhere')), 'already_in_cache');
    expect(app.calls).toEqual([]);
  });

  test('LRU eviction bounded by cacheSize lets an old committed tx back in', async () => {
    const { mp, app } = pool({ cacheSize: 2 });
    await addAll(mp, ['old']);
    await commit(mp, 1, ['old']);
    await rejection(mp.checkTx(enc('old')), 'already_in_cache');
    await addAll(mp, ['n1', 'n2']); // the cache holds n1, n2: 'old' is evicted
    const r = await mp.checkTx(enc('old'));
    expect(r.code).toBe(0);
    expect(app.calls.filter((c) => c.tx === 'old')).toHaveLength(2);
  });

  test('a tx the app rejected is removed from the cache (it may become valid)', async () => {
    const { mp, app } = pool();
    app.invalid.add('later');
    expect((await mp.checkTx(enc('later'))).code).toBe(INVALID_CODE);
    expect((await mp.checkTx(enc('later'))).code).toBe(INVALID_CODE);
    app.invalid.clear();
    expect((await mp.checkTx(enc('later'))).code).toBe(0);
    expect(app.calls).toHaveLength(3);
  });

  test('keepInvalidTxsInCache keeps a rejected tx out', async () => {
    const { mp, app } = pool({ keepInvalidTxsInCache: true });
    app.invalid.add('bad');
    expect((await mp.checkTx(enc('bad'))).code).toBe(INVALID_CODE);
    await rejection(mp.checkTx(enc('bad')), 'already_in_cache');
    expect(app.calls).toHaveLength(1);
  });

  test('a committed tx with a failing result is forgotten, so it can be resubmitted', async () => {
    const { mp } = pool();
    await addAll(mp, ['failed']);
    await commit(mp, 1, ['failed'], [5]);
    expect(mp.size()).toBe(0);
    expect((await mp.checkTx(enc('failed'))).code).toBe(0);
  });

  test('a tx refused because the pool filled up while it waited is not cached', async () => {
    // two concurrent calls for a pool of one: the second is refused after its CheckTx
    const { mp, app } = pool({ size: 1 });
    app.yieldEachCall = true;
    const [a, b] = await Promise.allSettled([mp.checkTx(enc('a')), mp.checkTx(enc('b'))]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    mp.removeTxByKey(hashHex('a'));
    expect((await mp.checkTx(enc('b'))).code).toBe(0);
  });

  test('flush empties the cache as well', async () => {
    const { mp } = pool();
    await addAll(mp, ['x']);
    await commit(mp, 1, ['x']);
    mp.flush();
    expect((await mp.checkTx(enc('x'))).code).toBe(0);
  });

  test('a duplicate from another peer records that peer as a sender', async () => {
    const { mp } = pool();
    await addAll(mp, ['gossiped'], 'peerA');
    await rejection(mp.checkTx(enc('gossiped'), { sender: 'peerB' }), 'already_in_cache');
    await rejection(mp.checkTx(enc('gossiped')), 'already_in_cache'); // RPC: no sender
    expect(mp.senders(hashHex('gossiped'))).toEqual(['peerA', 'peerB']);
    expect(mp.senders(hashHex('unknown'))).toEqual([]);
  });
});
