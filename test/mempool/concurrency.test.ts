// Many callers at once: limits stay exact, duplicates reach the app once, senders are kept; and
// a seeded property test over random operation sequences.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CheckTxType } from '../../src/abci/index.js';
import { Mempool, MempoolError } from '../../src/mempool/index.js';
import { ScriptedApp, dec, deferred, enc, hashHex, pool, strs, tick } from './helpers.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('concurrent checkTx', () => {
  test('200 concurrent txs into a pool of 50: exactly 50 in, the rest refused as full', async () => {
    const { mp, app } = pool({ size: 50 });
    app.yieldEachCall = true; // an app that awaits I/O
    const results = await Promise.allSettled(range(200).map((i) => mp.checkTx(enc(`tx-${i}`))));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const full = results.filter((r) => r.status === 'rejected' && r.reason instanceof MempoolError && r.reason.reason === 'mempool_full');
    expect([ok.length, full.length]).toEqual([50, 150]);
    expect(mp.size()).toBe(50);
    expect(app.maxInFlight).toBe(1); // one mempool call in the app at a time
    // arrival order is kept
    expect(strs(mp.txs())).toEqual(range(50).map((i) => `tx-${i}`));
  });

  test('the byte limit is exact under concurrency', async () => {
    const { mp, app } = pool({ maxTxsBytes: 1000, maxTxBytes: 100 });
    app.yieldEachCall = true;
    const txs = range(100).map((i) => `${String(i).padStart(3, '0')}`.padEnd(7 + (i % 5) * 13, '.'));
    await Promise.allSettled(txs.map((t) => mp.checkTx(enc(t))));
    const inPool = strs(mp.txs());
    const bytes = inPool.reduce((s, t) => s + t.length, 0);
    expect(mp.sizeBytes()).toBe(bytes);
    expect(bytes).toBeLessThanOrEqual(1000);
    // greedy in arrival order: the first tx that did not fit would not fit now either
    const firstOut = txs.find((t) => !inPool.includes(t));
    expect(firstOut).toBeDefined();
    expect(bytes + (firstOut?.length ?? 0)).toBeGreaterThan(1000);
  });

  test('the same tx from 20 peers at once: one CheckTx, every peer recorded as a sender', async () => {
    const { mp, app } = pool();
    app.yieldEachCall = true;
    const results = await Promise.allSettled(range(20).map((i) => mp.checkTx(enc('popular'), { sender: `peer${i}` })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as MempoolError).reason).toBe('already_in_cache');
    }
    expect(app.calls).toHaveLength(1);
    expect(mp.senders(hashHex('popular')).slice().sort()).toEqual(range(20).map((i) => `peer${i}`).sort());
  });

  test('checkTx calls that arrive during a block commit go in after it, checked against the new state', async () => {
    const { mp, app } = pool();
    app.yieldEachCall = true;
    await mp.lock();
    const waiting = range(10).map((i) => mp.checkTx(enc(`w${i}`)));
    await tick();
    expect(app.calls).toEqual([]);
    mp.update(1, [enc('w3')], [{ code: 0 }]); // w3 committed elsewhere meanwhile
    mp.unlock();
    const results = await Promise.allSettled(waiting);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(9);
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ reason: 'already_in_cache' });
    expect(mp.size()).toBe(9);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: after any sequence of operations the counters equal the sums over the FIFO, the
// limits hold, and every reap is a FIFO prefix within its limits.

const SEED = 20_250_301;
const LIMITS = { size: 6, maxTxsBytes: 40, maxTxBytes: 12, cacheSize: 5 };

type Op =
  | { kind: 'check'; txs: { id: number; len: number; sender: number }[]; commitMidway: boolean }
  | { kind: 'reap'; maxBytes: number; maxGas: number }
  | { kind: 'commit'; take: number; failFirst: boolean; awaitRecheck: boolean }
  | { kind: 'invalidate'; id: number; valid: boolean }
  | { kind: 'remove'; index: number }
  | { kind: 'flush' };

/** Tx `id` of length `len`: ids are few so duplicates happen; the length is part of the bytes. */
const txOf = (id: number, len: number): string => `${id}:`.padEnd(len, '#');
const gasOf = (tx: string): bigint => BigInt(tx.length % 4);
const protoSize = (len: number): number => 1 + (len < 128 ? 1 : 2) + len; // lengths here are < 128

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('check' as const),
      txs: fc.array(fc.record({ id: fc.integer({ min: 0, max: 15 }), len: fc.integer({ min: 0, max: 15 }), sender: fc.integer({ min: 0, max: 3 }) }), {
        minLength: 1,
        maxLength: 8,
      }),
      commitMidway: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reap' as const), maxBytes: fc.integer({ min: -1, max: 60 }), maxGas: fc.integer({ min: -1, max: 8 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('commit' as const), take: fc.integer({ min: 0, max: 4 }), failFirst: fc.boolean(), awaitRecheck: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('invalidate' as const), id: fc.integer({ min: 0, max: 15 }), valid: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), index: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
);

class GasApp extends ScriptedApp {
  override async checkTx(req: { tx: Uint8Array; type: CheckTxType }) {
    this.gas.set(dec(req.tx), gasOf(dec(req.tx)));
    return super.checkTx(req);
  }
}

function checkInvariants(mp: Mempool): void {
  const txs = strs(mp.txs());
  expect(mp.size()).toBe(txs.length);
  expect(mp.sizeBytes()).toBe(txs.reduce((s, t) => s + t.length, 0));
  expect(mp.size()).toBeLessThanOrEqual(LIMITS.size);
  expect(mp.sizeBytes()).toBeLessThanOrEqual(LIMITS.maxTxsBytes);
  expect(new Set(txs).size).toBe(txs.length);
  for (const t of txs) {
    expect(t.length).toBeGreaterThan(0);
    expect(t.length).toBeLessThanOrEqual(LIMITS.maxTxBytes);
    expect(mp.has(hashHex(t))).toBe(true);
  }
}

describe('property: counters and limits', () => {
  test('after any sequence of checkTx / reap / update / remove / flush', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const app = new GasApp();
        app.yieldEachCall = true;
        // the limits hold at every change, not only between operations
        const overLimit: string[] = [];
        const metrics = {
          size: (n: number, bytes: number) => {
            if (n > LIMITS.size || bytes > LIMITS.maxTxsBytes) overLimit.push(`${n} txs, ${bytes} bytes`);
          },
        };
        const mp = new Mempool(LIMITS, { app, metrics });
        let height = 0;
        const commitBlock = async (take: number, failFirst: boolean): Promise<void> => {
          const block = mp.reapMaxTxs(take);
          await mp.withLock(() => {
            height++;
            mp.update(height, block, block.map((_, i) => ({ code: failFirst && i === 0 ? 1 : 0 })));
          });
          for (const tx of block) expect(mp.has(hashHex(tx))).toBe(false);
        };
        for (const op of ops) {
          switch (op.kind) {
            case 'check': {
              const settled = Promise.allSettled(op.txs.map((t) => mp.checkTx(enc(txOf(t.id, t.len)), { sender: `p${t.sender}` })));
              // a block committed while the checks are queued or in the app
              if (op.commitMidway) await commitBlock(2, false);
              const results = await settled;
              for (const r of results) {
                if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(MempoolError);
              }
              break;
            }
            case 'reap': {
              const reaped = strs(mp.reapMaxBytesMaxGas(op.maxBytes, op.maxGas));
              expect(strs(mp.txs()).slice(0, reaped.length)).toEqual(reaped);
              const bytes = reaped.reduce((s, t) => s + protoSize(t.length), 0);
              const gas = reaped.reduce((s, t) => s + gasOf(t), 0n);
              if (op.maxBytes !== -1) expect(bytes).toBeLessThanOrEqual(op.maxBytes);
              if (op.maxGas !== -1) expect(gas).toBeLessThanOrEqual(BigInt(op.maxGas));
              break;
            }
            case 'commit': {
              await commitBlock(op.take, op.failFirst);
              if (op.awaitRecheck) await mp.idle();
              break;
            }
            case 'invalidate': {
              for (let len = 0; len <= 15; len++) {
                if (op.valid) app.invalid.delete(txOf(op.id, len));
                else app.invalid.add(txOf(op.id, len));
              }
              break;
            }
            case 'remove': {
              const tx = mp.txs()[op.index];
              if (tx !== undefined) expect(mp.removeTxByKey(hashHex(tx))).toBe(true);
              break;
            }
            case 'flush':
              mp.flush();
              break;
          }
          checkInvariants(mp);
        }
        // one more (empty) block: after its recheck, every pooled tx is one the app accepts now
        await commitBlock(0, false);
        await mp.idle();
        checkInvariants(mp);
        expect(overLimit).toEqual([]);
        for (const t of strs(mp.txs())) expect(app.invalid.has(t)).toBe(false);
        expect(mp.reapMaxTxs(-1)).toHaveLength(mp.size());
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});

test('a held CheckTx does not let concurrent callers overfill the pool', async () => {
  const { mp, app } = pool({ size: 3 });
  const gate = deferred();
  app.hold = { type: CheckTxType.New, until: gate.promise };
  const calls = range(10).map((i) => mp.checkTx(enc(`h${i}`)));
  await tick();
  gate.resolve();
  const results = await Promise.allSettled(calls);
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
  expect(mp.size()).toBe(3);
});
