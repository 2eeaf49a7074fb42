import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import * as codec from '../../src/codec/index.js';
import * as arb from '../helpers/arbitraries.js';

const SEED = 0x150;

describe('CometBFT JSON forms', () => {
  test('RFC 3339 times: nanoseconds kept, trailing zeros trimmed, offsets applied', () => {
    expect(codec.parseTime('2022-03-25T00:59:00.717333741Z')).toEqual({ seconds: 1648169940, nanos: 717333741 });
    expect(codec.formatTime({ seconds: 1648169940, nanos: 717333741 })).toBe('2022-03-25T00:59:00.717333741Z');
    expect(codec.formatTime({ seconds: 1648169940, nanos: 500_000_000 })).toBe('2022-03-25T00:59:00.5Z');
    expect(codec.formatTime({ seconds: 0, nanos: 0 })).toBe('1970-01-01T00:00:00Z');
    expect(codec.parseTime('1970-01-01T02:00:00+02:00')).toEqual({ seconds: 0, nanos: 0 });
    expect(codec.parseTime('0001-01-01T00:00:00Z')).toEqual({ seconds: -62135596800, nanos: 0 });
    expect(codec.parseTime('2024-02-29T00:00:00Z').seconds).toBe(1709164800);
    for (const bad of ['2023-02-29T00:00:00Z', '2022-13-01T00:00:00Z', '2022-01-01 00:00:00Z', '2022-01-01T00:00:00', '2022-01-01T00:00:00.1234567890Z', ''])
      expect(() => codec.parseTime(bad), bad).toThrow(codec.DecodeError);
  });

  test('time format/parse round trip (property)', () => {
    fc.assert(
      fc.property(arb.timestamp, (t) => {
        expect(codec.parseTime(codec.formatTime(t))).toEqual(t);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  test('hex and base64 reject malformed input', () => {
    expect(codec.toHex(codec.fromHex('abCD'))).toBe('ABCD');
    expect(() => codec.fromHex('abc')).toThrow(/even-length/);
    expect(() => codec.fromHex('zz')).toThrow(codec.DecodeError);
    expect(codec.toBase64(codec.fromBase64('AQID'))).toBe('AQID');
    expect(() => codec.fromBase64('AQI')).toThrow(/base64/);
    expect(() => codec.fromBase64('AQ!D')).toThrow(/base64/);
  });

  test('int64 strings: exact, range-checked', () => {
    expect(codec.asInt64('-9223372036854775808', 'x')).toBe(-(1n << 63n));
    expect(() => codec.asInt64('9223372036854775808', 'x')).toThrow(codec.DecodeError);
    expect(() => codec.asInt64('1.5', 'x')).toThrow(codec.DecodeError);
    expect(() => codec.asInt64(2 ** 60, 'x')).toThrow(codec.DecodeError); // unsafe JS number
    expect(codec.asUint64('18446744073709551615', 'x')).toBe((1n << 64n) - 1n);
    expect(() => codec.asHeight('-1', 'h')).toThrow(/out of range/);
  });

  test('header and commit JSON round trips (property)', () => {
    fc.assert(
      fc.property(arb.header, arb.commit, (h, c) => {
        const hj = JSON.parse(JSON.stringify(codec.headerToJson(h))) as codec.Json;
        expect(codec.headerFromJson(hj)).toEqual(h);
        const cj = JSON.parse(JSON.stringify(codec.commitToJson(c))) as codec.Json;
        expect(codec.commitFromJson(cj)).toEqual(c);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  test('CometBFT quirks accepted: null hashes, null last_block_id, part_set_header key', () => {
    const h = codec.headerFromJson({
      version: { block: '11' },
      chain_id: 'c',
      height: '1',
      time: '1970-01-01T00:00:01Z',
      last_block_id: null,
      data_hash: null,
      validators_hash: 'AA'.repeat(32),
    });
    expect(h.lastBlockId).toEqual(codec.ZERO_BLOCK_ID);
    expect(h.dataHash.length).toBe(0);
    expect(h.version.app).toBe(0n);
    const b = codec.blockIdFromJson({ hash: 'AB'.repeat(32), part_set_header: { total: 1, hash: 'CD'.repeat(32) } }, 'b');
    expect(b.partSetHeader.total).toBe(1);
  });

  test('errors name the JSON path', () => {
    expect(() => codec.headerFromJson({ chain_id: 'c', height: 'x' })).toThrow(/header\.height/);
    expect(() => codec.commitFromJson({ height: '1', round: 0, signatures: [{ block_id_flag: 9 }] })).toThrow(/signatures\[0\]\.block_id_flag/);
    expect(() => codec.pubKeyFromJson({ type: 'tendermint/PubKeySecp256k1', value: '' }, 'k')).toThrow(/unsupported key type/);
    expect(() => codec.parseJson('{')).toThrow(codec.DecodeError);
  });
});
