// TxWaiters: what broadcast_tx_commit waits on — resolution by a block holding the tx, timeout,
// cancel, several waiters for one tx, and waiters whose timeouts differ.
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { toHex, type ExecTxResult } from '../../src/codec/index.js';
import type { AppliedBlock } from '../../src/execution/index.js';
import { TxWaiters } from '../../src/rpc/tx-waiters.js';
import { txHash } from '../../src/types/index.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (s: string): string => toHex(txHash(enc(s)));
const result = (code: number): ExecTxResult => ({ code, data: new Uint8Array(), log: '', info: '', gasWanted: 0n, gasUsed: 0n, events: [], codespace: '' });

/** Only what TxWaiters reads of an applied block. */
function applied(height: number, txs: string[]): AppliedBlock {
  return {
    block: { header: { height }, data: { txs: txs.map(enc) } },
    response: { txResults: txs.map((_, i) => result(i)) },
  } as unknown as AppliedBlock;
}

describe('TxWaiters', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test('a block holding the tx resolves its waiter with height, index and result', async () => {
    const w = new TxWaiters();
    const a = w.wait(hex('a'), 10_000);
    const b = w.wait(hex('b'), 10_000);
    w.blockApplied(applied(7, ['x', 'b']));
    await expect(b.promise).resolves.toEqual({ height: 7, index: 1, result: result(1) });
    w.blockApplied(applied(8, ['a']));
    await expect(a.promise).resolves.toEqual({ height: 8, index: 0, result: result(0) });
  });

  test('timeout resolves undefined; a later block changes nothing', async () => {
    const w = new TxWaiters();
    const a = w.wait(hex('a'), 1000);
    const b = w.wait(hex('b'), 3000);
    await vi.advanceTimersByTimeAsync(1500);
    await expect(a.promise).resolves.toBeUndefined();
    w.blockApplied(applied(2, ['a', 'b']));
    await expect(b.promise).resolves.toMatchObject({ height: 2, index: 1 });
    expect(vi.getTimerCount()).toBe(0);
  });

  test('cancel resolves undefined and frees the slot', async () => {
    const w = new TxWaiters();
    const a = w.wait(hex('a'), 1000);
    a.cancel();
    await expect(a.promise).resolves.toBeUndefined();
    const again = w.wait(hex('a'), 1000);
    w.blockApplied(applied(3, ['a']));
    await expect(again.promise).resolves.toMatchObject({ height: 3 });
  });

  test('two waiters for one tx both resolve; cancelling one leaves the other', async () => {
    const w = new TxWaiters();
    const a1 = w.wait(hex('a'), 1000);
    const a2 = w.wait(hex('a'), 1000);
    const a3 = w.wait(hex('a'), 1000);
    a2.cancel();
    w.blockApplied(applied(4, ['a']));
    await expect(a1.promise).resolves.toMatchObject({ height: 4 });
    await expect(a2.promise).resolves.toBeUndefined();
    await expect(a3.promise).resolves.toMatchObject({ height: 4 });
  });

  test('a shorter timeout after a longer one still expires first', async () => {
    const w = new TxWaiters();
    const long = w.wait(hex('long'), 5000);
    const short = w.wait(hex('short'), 1000);
    let longDone = false;
    void long.promise.then(() => (longDone = true));
    await vi.advanceTimersByTimeAsync(1001);
    await expect(short.promise).resolves.toBeUndefined();
    expect(longDone).toBe(false);
    await vi.advanceTimersByTimeAsync(4000);
    await expect(long.promise).resolves.toBeUndefined();
  });

  test('many waiters: each resolves or expires exactly as its own tx does', async () => {
    const w = new TxWaiters();
    const waits = Array.from({ length: 3000 }, (_, i) => w.wait(hex(`t${i}`), 1000 + i));
    // commit every other tx over a few blocks
    for (let b = 0; b < 3; b++) {
      w.blockApplied(applied(10 + b, Array.from({ length: 500 }, (_, j) => `t${2 * (b * 500 + j)}`)));
    }
    await vi.advanceTimersByTimeAsync(5000);
    const outcomes = await Promise.all(waits.map((x) => x.promise));
    outcomes.forEach((o, i) => {
      if (i % 2 === 0) expect(o).toMatchObject({ height: 10 + Math.floor(i / 1000) });
      else expect(o).toBeUndefined();
    });
    expect(vi.getTimerCount()).toBe(0);
  });
});
