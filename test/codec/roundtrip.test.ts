import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as codec from '../../src/codec/index.js';
import * as arb from '../helpers/arbitraries.js';

const SEED = 0xc0dec;
const RUNS = 200;

// Each pair: an arbitrary, its encoder and decoder. A round trip must give back the same value,
// and re-encoding must give the same bytes (the encoding is canonical).
const cases = [
  ['Header', arb.header, codec.encodeHeader, codec.readHeader],
  ['BlockID', arb.blockId, codec.encodeBlockID, codec.readBlockID],
  ['Commit', arb.commit, codec.encodeCommit, codec.readCommit],
  ['Vote', arb.vote, codec.encodeVote, codec.readVote],
  ['Proposal', arb.proposal, codec.encodeProposal, codec.readProposal],
  ['Part', arb.part, codec.encodePart, codec.readPart],
  ['Block', arb.block, codec.encodeBlock, codec.readBlock],
  ['ConsensusParams', arb.consensusParams, codec.encodeConsensusParams, codec.readConsensusParams],
  ['ExecTxResult', arb.execTxResult, codec.encodeExecTxResult, codec.readExecTxResult],
] as const;

describe('protobuf round trips', () => {
  for (const [name, arbitrary, encode, read] of cases) {
    test(name, () => {
      fc.assert(
        fc.property(arbitrary as fc.Arbitrary<unknown>, (value) => {
          const bytes = (encode as (v: unknown) => Uint8Array)(value);
          const back = codec.decodeWith(name, bytes, read as (r: codec.ProtoReader) => unknown);
          expect(back).toEqual(value);
          expect(codec.toHex((encode as (v: unknown) => Uint8Array)(back))).toBe(codec.toHex(bytes));
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });
  }

  test("a block's tx records: each position reads back, empty slots and positions beyond read as none", () => {
    const record = fc.record({ height: fc.integer({ min: 1, max: 2 ** 40 }), tx: fc.uint8Array({ maxLength: 300 }), result: arb.execTxResult });
    fc.assert(
      fc.property(fc.array(fc.option(record, { nil: undefined }), { maxLength: 40 }), (slots) => {
        const records = slots.map((r, index) => r && { ...r, index });
        const bytes = codec.encodeTxResultRecords(records);
        records.forEach((r, i) => expect(codec.decodeWith('records', bytes, (rd) => codec.readTxResultRecordAt(rd, i))).toEqual(r));
        expect(codec.decodeWith('records', bytes, (rd) => codec.readTxResultRecordAt(rd, records.length))).toBeUndefined();
        // each slot is the record's own encoding, so a record reads the same as encodeTxResultRecord's
        for (const r of records) if (r) expect(codec.decodeWith('record', codec.encodeTxResultRecord(r), codec.readTxResultRecord)).toEqual(r);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  test('version.app above 2^53 survives protobuf and JSON', () => {
    const app = (1n << 63n) + 12345n; // not representable as a JS number
    fc.assert(
      fc.property(arb.header, (h) => {
        const header = { ...h, version: { block: 11n, app }, chainId: 'c' };
        const back = codec.decodeWith('Header', codec.encodeHeader(header), codec.readHeader);
        expect(back.version.app).toBe(app);
        const json = JSON.parse(JSON.stringify(codec.headerToJson(header))) as codec.Json;
        expect(codec.asObject(codec.asObject(json, 'h').version, 'v').app).toBe('9223372036854788153');
        expect(codec.headerFromJson(json).version.app).toBe(app);
      }),
      { seed: SEED, numRuns: 20 },
    );
  });

  test('known bytes: a hand-encoded BlockID and a negative int64', () => {
    // field 1 (bytes, 2 long) = 0xAABB; field 2 = {total: 1}
    const bytes = codec.encodeBlockID({ hash: new Uint8Array([0xaa, 0xbb]), partSetHeader: { total: 1, hash: new Uint8Array(0) } });
    expect(codec.toHex(bytes)).toBe('0A02AABB12020801');
    // int64 -1 is ten bytes of two's complement varint
    expect(codec.toHex(new codec.ProtoWriter().int64(1, -1n).finish())).toBe('08FFFFFFFFFFFFFFFFFF01');
    // sfixed64 height 5 is 8 little-endian bytes
    expect(codec.toHex(new codec.ProtoWriter().sfixed64(2, 5).finish())).toBe('110500000000000000');
  });

  test('nil canonical vote omits block_id; non-nullable timestamp is always present', () => {
    const v = { type: codec.SignedMsgType.Prevote, height: 1, round: 0, blockId: codec.ZERO_BLOCK_ID, timestamp: codec.ZERO_TIME };
    // type=1, height sfixed64 1, round omitted (0), no block_id, timestamp empty message, chain id "a"
    expect(codec.toHex(codec.encodeCanonicalVote(v, 'a'))).toBe('0801110100000000000000' + '2A00' + '320161');
  });
});
