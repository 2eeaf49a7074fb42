// A block travels as 64 KiB parts of its protobuf encoding; the part-set hash is the merkle root
// over the parts' bytes, and each part carries its inclusion proof so a receiver can check it
// alone, before it has the rest.
import { bytesEqual, merkleProofs, rootFromProof, leafHash } from '../crypto/index.js';
import { decodeWith, encodeBlock, readBlock, type Block, type Part, type PartSetHeader } from '../codec/index.js';
import { ValidationError } from './errors.js';

export const BLOCK_PART_SIZE = 65536;
/** CometBFT's bound: a block of at most 100 MiB has at most 1600 parts. */
export const MAX_BLOCK_PARTS = 1601;

/** Cut encoded bytes into parts with proofs. */
export function partsFromBytes(bytes: Uint8Array, partSize = BLOCK_PART_SIZE): { header: PartSetHeader; parts: Part[] } {
  const chunks: Uint8Array[] = [];
  for (let off = 0; off < bytes.length; off += partSize) chunks.push(bytes.subarray(off, off + partSize));
  if (chunks.length === 0) chunks.push(new Uint8Array(0));
  const { root, proofs } = merkleProofs(chunks);
  return {
    header: { total: chunks.length, hash: root },
    parts: chunks.map((c, index) => ({ index, bytes: c.slice(), proof: proofs[index]! })),
  };
}

export function blockParts(block: Block): { header: PartSetHeader; parts: Part[] } {
  return partsFromBytes(encodeBlock(block));
}

/** Collects the parts of one block, verifying each against the expected part-set header. */
export class PartSet {
  private readonly parts: (Part | undefined)[];
  private count = 0;
  private bytes = 0;

  constructor(
    readonly header: PartSetHeader,
    private readonly maxBytes = BLOCK_PART_SIZE * MAX_BLOCK_PARTS,
  ) {
    if (header.total < 1 || header.total > MAX_BLOCK_PARTS)
      throw new ValidationError(`total must be in [1, ${MAX_BLOCK_PARTS}]`, 'part_set_header.total', { total: header.total });
    this.parts = new Array<Part | undefined>(header.total);
  }

  /** Adds a part; returns false for a duplicate, throws ValidationError for a part that does not belong. */
  add(part: Part): boolean {
    const { index } = part;
    if (!Number.isInteger(index) || index < 0 || index >= this.header.total)
      throw new ValidationError('index out of range', 'part.index', { index, total: this.header.total });
    if (part.bytes.length > BLOCK_PART_SIZE) throw new ValidationError('part too large', 'part.bytes', { size: part.bytes.length });
    if (this.parts[index]) return false;
    if (part.proof.index !== index || part.proof.total !== this.header.total)
      throw new ValidationError('proof does not match the part index/total', 'part.proof', { index, proofIndex: part.proof.index });
    if (!bytesEqual(leafHash(part.bytes), part.proof.leafHash)) throw new ValidationError('leaf hash does not match the bytes', 'part.proof.leaf_hash');
    let root: Uint8Array;
    try {
      root = rootFromProof(part.proof);
    } catch (e) {
      throw new ValidationError(`malformed proof: ${(e as Error).message}`, 'part.proof');
    }
    if (!bytesEqual(root, this.header.hash)) throw new ValidationError('proof does not lead to the part-set hash', 'part.proof', { index });
    if (this.bytes + part.bytes.length > this.maxBytes) throw new ValidationError('parts exceed the block size limit', 'part.bytes', { maxBytes: this.maxBytes });
    this.parts[index] = part;
    this.count++;
    this.bytes += part.bytes.length;
    return true;
  }

  get complete(): boolean {
    return this.count === this.header.total;
  }

  has(index: number): boolean {
    return this.parts[index] !== undefined;
  }

  get received(): number {
    return this.count;
  }

  /** The received parts in index order; only once complete. */
  allParts(): Part[] {
    if (!this.complete) throw new ValidationError('part set is incomplete', 'part_set', { received: this.count, total: this.header.total });
    return this.parts.map((p) => p!);
  }

  /** The joined bytes; only once complete. */
  assemble(): Uint8Array {
    if (!this.complete) throw new ValidationError('part set is incomplete', 'part_set', { received: this.count, total: this.header.total });
    const out = new Uint8Array(this.bytes);
    let off = 0;
    for (const p of this.parts) {
      out.set(p!.bytes, off);
      off += p!.bytes.length;
    }
    return out;
  }

  assembleBlock(): Block {
    return decodeWith('Block', this.assemble(), readBlock);
  }
}
