import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { asObject, asString, headerFromJson, parseJson, toHex, decodeWith, encodeHeader, readHeader } from '../../src/codec/index.js';
import { headerHash } from '../../src/types/header.js';
import { sharedPath } from '../helpers/shared.js';

describe('real CometBFT header vector', () => {
  const vector = asObject(parseJson(readFileSync(sharedPath('vectors', 'cometbft-header.json'), 'utf8')), 'vector');
  const header = headerFromJson(vector.header);

  test('hashes to the block id its chain produced', () => {
    expect(toHex(headerHash(header))).toBe(asString(vector.block_id_hash, 'block_id_hash'));
  });

  test('survives a protobuf round trip with the same hash', () => {
    const back = decodeWith('Header', encodeHeader(header), readHeader);
    expect(back).toEqual(header);
    expect(toHex(headerHash(back))).toBe(vector.block_id_hash);
  });

  test('a changed field changes the hash', () => {
    const other = headerHash({ ...header, height: header.height + 1 });
    expect(toHex(other)).not.toBe(vector.block_id_hash);
  });
});
