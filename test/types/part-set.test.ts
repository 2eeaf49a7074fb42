import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeWith, encodeBlock, readBlock, type Block } from '../../src/codec/index.js';
import { BLOCK_PART_SIZE, PartSet, blockParts, partsFromBytes } from '../../src/types/part-set.js';
import { ValidationError } from '../../src/types/errors.js';
import * as arb from '../helpers/arbitraries.js';

const SEED = 0x9a27;

function bigBlock(txBytes: number): Block {
  const tx = new Uint8Array(txBytes).map((_, i) => i % 251);
  return {
    header: fc.sample(arb.header, { seed: SEED, numRuns: 1 })[0]!,
    data: { txs: [tx, tx.slice(0, 1000)] },
    evidence: [],
    lastCommit: null,
  };
}

describe('part sets', () => {
  test('a 200 KB block splits into 64 KiB parts that reassemble, in any order', () => {
    const block = bigBlock(200_000);
    const encoded = encodeBlock(block);
    const { header, parts } = blockParts(block);
    expect(header.total).toBe(Math.ceil(encoded.length / BLOCK_PART_SIZE));
    expect(parts.every((p, i) => p.index === i && p.bytes.length <= BLOCK_PART_SIZE)).toBe(true);
    fc.assert(
      fc.property(fc.shuffledSubarray(parts, { minLength: parts.length, maxLength: parts.length }), (order) => {
        const set = new PartSet(header);
        for (const p of order) expect(set.add(p)).toBe(true);
        expect(set.complete).toBe(true);
        expect(set.add(order[0]!)).toBe(false); // duplicate
        expect(set.allParts().map((p) => p.index)).toEqual(parts.map((p) => p.index));
        const assembled = set.assemble();
        expect(Buffer.compare(assembled, encoded)).toBe(0);
        // decoding gives the same block: compared by its canonical encoding (deep equality on 200 KB arrays is slow)
        expect(Buffer.compare(encodeBlock(decodeWith('Block', assembled, readBlock)), encoded)).toBe(0);
      }),
      { seed: SEED, numRuns: 10 },
    );
  });

  test('an empty input is one empty part', () => {
    const { header, parts } = partsFromBytes(new Uint8Array(0));
    expect(header.total).toBe(1);
    expect(parts[0]!.bytes.length).toBe(0);
  });

  test('parts from another block, tampered bytes or wrong indices are rejected', () => {
    const a = blockParts(bigBlock(150_000));
    const b = blockParts(bigBlock(150_001));
    const set = new PartSet(a.header);
    expect(() => set.add(b.parts[0]!)).toThrow(ValidationError);
    const tampered = { ...a.parts[1]!, bytes: a.parts[1]!.bytes.slice() };
    tampered.bytes[5] = tampered.bytes[5]! ^ (1);
    expect(() => set.add(tampered)).toThrow(/leaf hash/);
    expect(() => set.add({ ...a.parts[1]!, index: 0 })).toThrow(/proof does not match/);
    expect(() => set.add({ ...a.parts[1]!, index: 99 })).toThrow(/out of range/);
    expect(set.received).toBe(0);
    expect(() => set.assemble()).toThrow(/incomplete/);
    expect(() => new PartSet({ total: 0, hash: a.header.hash })).toThrow(ValidationError);
    expect(() => new PartSet({ total: 1_000_000, hash: a.header.hash })).toThrow(ValidationError);
  });
});
