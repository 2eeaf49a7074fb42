// Reaping: FIFO, stopping at the first tx past the byte (proto size) or gas limit.
import { describe, expect, test } from 'vitest';
import { encodeData } from '../../src/codec/index.js';
import { MempoolUsageError, protoTxSize } from '../../src/mempool/index.js';
import { addAll, enc, pool, strs } from './helpers.js';

/** n bytes of `c`. */
const fill = (c: string, n: number): string => c.repeat(n);

describe('proto size of a tx in the block Data', () => {
  test('1 tag byte + uvarint length + bytes (hand-computed)', () => {
    // lengths at the uvarint boundaries: <128 → 1 byte, <16384 → 2, <2097152 → 3
    const cases: [number, number][] = [
      [1, 1 + 1 + 1],
      [127, 1 + 1 + 127],
      [128, 1 + 2 + 128],
      [16_383, 1 + 2 + 16_383],
      [16_384, 1 + 3 + 16_384],
      [1_048_576, 1 + 3 + 1_048_576],
      [2_097_152, 1 + 4 + 2_097_152],
    ];
    for (const [len, size] of cases) expect(protoTxSize(len)).toBe(size);
  });

  test("matches the codec's Data encoding", () => {
    for (const len of [1, 5, 127, 128, 300, 16_384]) {
      expect(protoTxSize(len)).toBe(encodeData({ txs: [new Uint8Array(len)] }).length);
    }
  });
});

describe('reapMaxBytesMaxGas', () => {
  test('no limits (-1, -1): everything, in arrival order', async () => {
    const { mp } = pool();
    await addAll(mp, ['c', 'a', 'b']);
    expect(strs(mp.reapMaxBytesMaxGas(-1, -1))).toEqual(['c', 'a', 'b']);
    expect(mp.size()).toBe(3); // reaping does not remove
  });

  test('byte limit counts proto size exactly', async () => {
    const { mp } = pool();
    // three 10-byte txs: 1 + 1 + 10 = 12 each
    await addAll(mp, [fill('a', 10), fill('b', 10), fill('c', 10)]);
    expect(mp.reapMaxBytesMaxGas(11, -1)).toHaveLength(0);
    expect(mp.reapMaxBytesMaxGas(12, -1)).toHaveLength(1);
    expect(mp.reapMaxBytesMaxGas(23, -1)).toHaveLength(1);
    expect(mp.reapMaxBytesMaxGas(24, -1)).toHaveLength(2);
    expect(mp.reapMaxBytesMaxGas(35, -1)).toHaveLength(2);
    expect(mp.reapMaxBytesMaxGas(36, -1)).toHaveLength(3);
    expect(mp.reapMaxBytesMaxGas(0, -1)).toHaveLength(0);
  });

  test('a tx past the varint boundary costs one more byte', async () => {
    const { mp } = pool();
    await addAll(mp, [fill('a', 127), fill('b', 128)]);
    // 127 → 129, 128 → 131: both need 260, 259 takes only the first
    expect(mp.reapMaxBytesMaxGas(260, -1)).toHaveLength(2);
    expect(mp.reapMaxBytesMaxGas(259, -1)).toHaveLength(1);
  });

  test('stops at the first tx that does not fit, even if a later one would', async () => {
    const { mp } = pool();
    await addAll(mp, [fill('s', 3), fill('L', 50), fill('t', 3)]);
    // 5 + 52 + 5; a budget of 20 fits 's' and 't' but not 'L' between them
    expect(strs(mp.reapMaxBytesMaxGas(20, -1))).toEqual([fill('s', 3)]);
  });

  test('gas limit sums gasWanted from CheckTx', async () => {
    const { mp, app } = pool();
    app.gas.set('g5', 5n);
    app.gas.set('g3', 3n);
    app.gas.set('g4', 4n);
    await addAll(mp, ['g5', 'g3', 'g4']);
    expect(strs(mp.reapMaxBytesMaxGas(-1, 4))).toEqual([]);
    expect(strs(mp.reapMaxBytesMaxGas(-1, 7))).toEqual(['g5']);
    expect(strs(mp.reapMaxBytesMaxGas(-1, 8))).toEqual(['g5', 'g3']);
    expect(strs(mp.reapMaxBytesMaxGas(-1, 12n))).toEqual(['g5', 'g3', 'g4']);
  });

  test('zero-gas txs fit a zero gas limit', async () => {
    const { mp, app } = pool();
    app.gas.set('free1', 0n);
    app.gas.set('free2', 0n);
    await addAll(mp, ['free1', 'free2']);
    expect(mp.reapMaxBytesMaxGas(-1, 0)).toHaveLength(2);
  });

  test('both limits: whichever is hit first stops the reap', async () => {
    const { mp, app } = pool();
    for (const t of ['aaaa', 'bbbb', 'cccc']) app.gas.set(t, 10n); // 6 bytes each in Data
    await addAll(mp, ['aaaa', 'bbbb', 'cccc']);
    expect(mp.reapMaxBytesMaxGas(18, 20)).toHaveLength(2); // gas
    expect(mp.reapMaxBytesMaxGas(12, 30)).toHaveLength(2); // bytes
    expect(mp.reapMaxBytesMaxGas(11, 30)).toHaveLength(1); // bytes
    expect(mp.reapMaxBytesMaxGas(18n, 30n)).toHaveLength(3);
  });

  test('limits below -1 are a usage error', () => {
    const { mp } = pool();
    expect(() => mp.reapMaxBytesMaxGas(-2, -1)).toThrow(MempoolUsageError);
    expect(() => mp.reapMaxBytesMaxGas(-1, -5n)).toThrow(/maxGas must be -1/);
    expect(() => mp.reapMaxBytesMaxGas(1.5, -1)).toThrow(/maxBytes must be an integer/);
  });
});

describe('reapMaxTxs and txs', () => {
  test('the first n in FIFO order; negative means all', async () => {
    const { mp } = pool();
    await addAll(mp, ['1', '2', '3']);
    expect(strs(mp.reapMaxTxs(2))).toEqual(['1', '2']);
    expect(strs(mp.reapMaxTxs(0))).toEqual([]);
    expect(strs(mp.reapMaxTxs(-1))).toEqual(['1', '2', '3']);
    expect(strs(mp.reapMaxTxs(10))).toEqual(['1', '2', '3']);
    expect(strs(mp.txs(1))).toEqual(['1']);
    expect(strs(mp.txs())).toEqual(['1', '2', '3']);
  });

  test('removeTxByKey takes a tx out by hash (bytes or hex)', async () => {
    const { mp } = pool();
    const r1 = await mp.checkTx(enc('one'));
    const r2 = await mp.checkTx(enc('two'));
    expect(mp.removeTxByKey(r1.hash)).toBe(true);
    expect(mp.removeTxByKey(r1.hash)).toBe(false);
    expect(mp.removeTxByKey(Buffer.from(r2.hash).toString('hex'))).toBe(true);
    expect([mp.size(), mp.sizeBytes()]).toEqual([0, 0]);
  });
});
