import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as codec from '../../src/codec/index.js';
import * as arb from '../helpers/arbitraries.js';

const SEED = 0xbad;

/** Decoding must return a value or throw DecodeError — nothing else, ever. */
function decodeOrDecodeError(bytes: Uint8Array, read: (r: codec.ProtoReader) => unknown): 'ok' | 'error' {
  try {
    codec.decodeWith('Block', bytes, read);
    return 'ok';
  } catch (e) {
    if (e instanceof codec.DecodeError) return 'error';
    throw e;
  }
}

const readers = [codec.readBlock, codec.readVote, codec.readProposal, codec.readCommit, codec.readPart, codec.readHeader, codec.readConsensusParams, codec.readExecTxResult];

describe('malformed protobuf input', () => {
  test('every truncation of a valid block is a value or a DecodeError', () => {
    fc.assert(
      fc.property(arb.block, fc.nat(), (block, cut) => {
        const bytes = codec.encodeBlock(block);
        const n = cut % Math.max(1, bytes.length);
        decodeOrDecodeError(bytes.subarray(0, n), codec.readBlock);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test('bit flips in valid encodings never crash any decoder', () => {
    fc.assert(
      fc.property(arb.block, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (block, flips) => {
        const bytes = codec.encodeBlock(block);
        for (const f of flips) bytes[f % bytes.length] = bytes[f % bytes.length]! ^ (1 << (f % 8));
        for (const read of readers) decodeOrDecodeError(bytes, read);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test('random bytes never crash any decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        for (const read of readers) decodeOrDecodeError(bytes, read);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  test('a length prefix far beyond the input is rejected before allocating', () => {
    // field 2 (data), wire type 2, length 2^40 — and nothing after
    const bytes = Uint8Array.from([0x12, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    expect(() => codec.decodeWith('Block', bytes, codec.readBlock)).toThrow(/exceeds/);
  });

  test('specific malformations name the field', () => {
    const cases: [string, number[], RegExp][] = [
      ['overlong varint', [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /varint/],
      ['varint overflowing 64 bits', [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], /overflows/],
      ['wrong wire type for height', [0x11, 0, 0, 0, 0, 0, 0, 0, 0], /wrong wire type/],
      ['unsupported wire type 3 (groups)', [0x0b], /wire type/],
      ['field number zero', [0x00, 0x00], /field number/],
      ['vote type not in the enum', [0x08, 0x07], /signed message type/],
      ['negative height', [0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /out of range/],
      ['invalid UTF-8 in a string', [0x2a, 0x00, 0x00], /./], // placeholder replaced below
    ];
    for (const [what, bytes, message] of cases.slice(0, -1)) {
      expect(() => codec.decodeWith('Vote', Uint8Array.from(bytes), codec.readVote), what).toThrow(message);
    }
    // chain_id (Header field 2) with bytes that are not UTF-8
    expect(() => codec.decodeWith('Header', Uint8Array.from([0x12, 0x02, 0xc3, 0x28]), codec.readHeader)).toThrow(/UTF-8/);
    // error path names where it happened
    try {
      codec.decodeWith('Block', Uint8Array.from([0x0a, 0x03, 0x22, 0x01, 0x08]), codec.readBlock);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(codec.DecodeError);
      expect((e as codec.DecodeError).path).toContain('Block.header');
    }
  });

  test('unknown fields are skipped (forward compatibility)', () => {
    const vote = codec.encodeVote({
      type: codec.SignedMsgType.Prevote,
      height: 3,
      round: 1,
      blockId: codec.ZERO_BLOCK_ID,
      timestamp: codec.ZERO_TIME,
      validatorAddress: new Uint8Array(20),
      validatorIndex: 0,
      signature: new Uint8Array(64),
      extension: new Uint8Array(0),
      extensionSignature: new Uint8Array(0),
    });
    const withUnknown = Uint8Array.from([...vote, 0xf8, 0x07, 0x05, 0x9a, 0x08, 0x01, 0x00]); // field 127 varint, field 131 bytes
    expect(codec.decodeWith('Vote', withUnknown, codec.readVote).height).toBe(3);
  });
});
