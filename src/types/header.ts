import { merkleRoot } from '../crypto/index.js';
import {
  ProtoWriter,
  encodeBlockID,
  encodeConsensusVersion,
  encodeTimestamp,
  type Header,
} from '../codec/index.js';

const EMPTY: Uint8Array = new Uint8Array(0);

/** Block protocol version this node speaks (CometBFT 0.38's). */
export const BLOCK_PROTOCOL = 11n;

const stringValue = (s: string): Uint8Array => new ProtoWriter().string(1, s).finish();
const int64Value = (n: number): Uint8Array => new ProtoWriter().int64(1, n).finish();
const bytesValue = (b: Uint8Array): Uint8Array => new ProtoWriter().bytes(1, b).finish();

/**
 * The header hash: a merkle root over the 14 fields in order, scalars wrapped as protobuf
 * wrapper messages (StringValue, Int64Value, BytesValue). Empty when validators_hash is empty,
 * as CometBFT defines it (an incomplete header has no identity).
 */
export function headerHash(h: Header): Uint8Array {
  if (h.validatorsHash.length === 0) return EMPTY;
  return merkleRoot([
    encodeConsensusVersion(h.version),
    stringValue(h.chainId),
    int64Value(h.height),
    encodeTimestamp(h.time),
    encodeBlockID(h.lastBlockId),
    bytesValue(h.lastCommitHash),
    bytesValue(h.dataHash),
    bytesValue(h.validatorsHash),
    bytesValue(h.nextValidatorsHash),
    bytesValue(h.consensusHash),
    bytesValue(h.appHash),
    bytesValue(h.lastResultsHash),
    bytesValue(h.evidenceHash),
    bytesValue(h.proposerAddress),
  ]);
}
