// Block space a tx takes, counted the way CometBFT does (types.ComputeProtoSizeForTxs): the size
// of the tx inside the protobuf Data message — field 1, wire type 2 — so one tag byte, the
// length as a uvarint, then the bytes. Reaping with the raw length instead would let a proposer
// overshoot the block's max data bytes.

/** Bytes of `n` as a protobuf uvarint. */
export function uvarintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** The proto size of one tx inside cmtproto.Data{txs}. */
export function protoTxSize(txLength: number): number {
  return 1 + uvarintSize(txLength) + txLength;
}
