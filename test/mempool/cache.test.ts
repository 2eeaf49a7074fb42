// The seen-cache: LRU of tx hashes that keeps duplicates away from the app.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { TxCache } from '../../src/mempool/cache.js';
import { INVALID_CODE, addAll, commit, enc, hashHex, pool, rejection } from './helpers.js';

const SEED = 20_261_207;

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

  test('matches a reference LRU over random pushes, removes and resets (property)', () => {
    // the reference: an array in recency order, least recent first
    const op = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('push' as const), key: fc.integer({ min: 0, max: 40 }) }), weight: 8 },
      { arbitrary: fc.record({ kind: fc.constant('remove' as const), key: fc.integer({ min: 0, max: 40 }) }), weight: 2 },
      { arbitrary: fc.record({ kind: fc.constant('reset' as const), key: fc.constant(0) }), weight: 1 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 300 }), (capacity, ops) => {
        const c = new TxCache(capacity);
        let model: string[] = [];
        for (const { kind, key } of ops) {
          const k = `k${key}`;
          if (kind === 'push') {
            const had = model.includes(k);
            model = model.filter((m) => m !== k);
            if (!had && model.length >= capacity) model.shift();
            model.push(k);
            expect(c.push(k)).toBe(!had);
          } else if (kind === 'remove') {
            model = model.filter((m) => m !== k);
            c.remove(k);
          } else {
            model = [];
            c.reset();
          }
          expect(c.size).toBe(model.length);
        }
        for (let key = 0; key <= 40; key++) expect(c.has(`k${key}`)).toBe(model.includes(`k${key}`));
        // the recency order: pushing one new key at a time evicts the model's keys front first
        for (let i = 0; i < capacity; i++) {
          const evicted = model.length >= capacity ? model.shift() : undefined;
          model.push(`new${i}`);
          expect(c.push(`new${i}`)).toBe(true);
          if (evicted !== undefined) expect(c.has(evicted)).toBe(false);
          for (const m of model) expect(c.has(m)).toBe(true);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
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
