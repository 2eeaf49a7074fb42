// The block store: the node's input log. Blocks are kept as their 64 KiB parts (what peers are
// served), with a BlockMeta beside them (what `blockchain`/`header` read without assembling
// the block), the canonical commit each block carries for its predecessor, and the commit this
// node saw for each height (needed before the next block exists).
//
// Key layout (one classic-level database; heights are 8-byte big-endian so each prefix
// iterates in height order; names follow CometBFT's store keys):
//
//   "blockStore"          → BlockStoreState {base, height}  (0/0 when empty)
//   "H:" height           → BlockMeta
//   "P:" height index(4)  → Part (bytes + merkle proof)
//   "C:" height           → Commit for `height`: block height+1's last_commit (canonical)
//   "SC:" height          → seen Commit for `height`: the +2/3 precommits this node collected
//   "EC:" height          → ExtendedCommit for `height` (vote extensions enabled)
//   "BH:" block hash      → height(8)
//
// Every save is one LevelDB batch (fsynced by default), written after all its records are
// encoded: after a crash a block is either entirely present, with base/height covering it, or
// entirely absent. Heights are contiguous from base to height.
import {
  encodeBlockMeta,
  encodeBlockStoreState,
  encodeCommit,
  encodeExtendedCommit,
  encodePart,
  readBlock,
  readBlockMeta,
  readBlockStoreState,
  readCommit,
  readExtendedCommit,
  readPart,
  type Block,
  type BlockID,
  type BlockMeta,
  type BlockStoreState,
  type Commit,
  type ExtendedCommit,
  type Part,
  type PartSetHeader,
} from '../codec/index.js';
import { bytesEqual } from '../crypto/index.js';
import { extendedCommitToCommit } from '../types/commit-verify.js';
import { headerHash } from '../types/header.js';
import { blockParts, MAX_BLOCK_PARTS } from '../types/part-set.js';
import { ascii, concatBytes, del, LevelStore, put, readU64, u32, u64, type BatchOp, type StoreModules } from './db.js';
import { StoreError } from './errors.js';

// ---- keys --------------------------------------------------------------------------------------

const STATE_KEY = ascii('blockStore');
const META = ascii('H:');
const PART = ascii('P:');
const COMMIT = ascii('C:');
const SEEN_COMMIT = ascii('SC:');
const EXT_COMMIT = ascii('EC:');
const BY_HASH = ascii('BH:');

const metaKey = (h: number): Uint8Array => concatBytes(META, u64(h));
const partKey = (h: number, i: number): Uint8Array => concatBytes(PART, u64(h), u32(i));
const commitKey = (h: number): Uint8Array => concatBytes(COMMIT, u64(h));
const seenCommitKey = (h: number): Uint8Array => concatBytes(SEEN_COMMIT, u64(h));
const extCommitKey = (h: number): Uint8Array => concatBytes(EXT_COMMIT, u64(h));
const hashKey = (hash: Uint8Array): Uint8Array => concatBytes(BY_HASH, hash);

// ---- options -------------------------------------------------------------------------------------

export interface BlockStoreOptions {
  /** Database directory (e.g. <home>/data/blockstore.db); not needed when a database is passed in. */
  readonly path?: string;
  /** fsync every save (default true): a committed block must be on disk before the app commits. */
  readonly sync?: boolean;
  /** Upper bound on the writes of one pruning batch (default 1000), so pruning never stalls saves for long. */
  readonly pruneBatchSize?: number;
}

/** The parts of a block as received or cut: a PartSetHeader and every part, in index order. */
export interface BlockPartsInput {
  readonly header: PartSetHeader;
  readonly parts: readonly Part[];
}

const DEFAULT_PRUNE_BATCH = 1000;

function sameBlockId(a: BlockID, b: BlockID): boolean {
  return bytesEqual(a.hash, b.hash) && a.partSetHeader.total === b.partSetHeader.total && bytesEqual(a.partSetHeader.hash, b.partSetHeader.hash);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

export class BlockStore extends LevelStore {
  private readonly sync: boolean;
  private readonly pruneBatchSize: number;
  private baseHeight = 0;
  private topHeight = 0;

  constructor(opts: BlockStoreOptions, modules: StoreModules = {}) {
    super('block store', opts.path, modules.db);
    this.sync = opts.sync ?? true;
    this.pruneBatchSize = Math.max(16, opts.pruneBatchSize ?? DEFAULT_PRUNE_BATCH);
  }

  protected override async afterOpen(): Promise<void> {
    const raw = await this.getRaw(STATE_KEY);
    const s: BlockStoreState = raw ? this.decode('BlockStoreState', raw, readBlockStoreState) : { base: 0, height: 0 };
    this.baseHeight = s.base;
    this.topHeight = s.height;
  }

  /** Lowest stored height (0 when empty). */
  base(): number {
    return this.baseHeight;
  }

  /** Highest stored height (0 when empty). */
  height(): number {
    return this.topHeight;
  }

  /** Number of stored blocks. */
  size(): number {
    return this.topHeight === 0 ? 0 : this.topHeight - this.baseHeight + 1;
  }

  // ---- saving --------------------------------------------------------------------------------

  /**
   * Save block H with the commit this node saw for it. `parts` are the parts as received (so
   * peers are served exactly the bytes that were committed); cut from the block when omitted.
   * Checks: H follows the current height (any H ≥ 1 for an empty store), the seen commit is
   * for H and for this block's id, the parts are complete, and the block's last_commit is for H-1.
   */
  async saveBlock(block: Block, seenCommit: Commit, parts?: BlockPartsInput): Promise<BlockMeta> {
    return this.exclusive(() => this.write(block, seenCommit, undefined, parts));
  }

  /** As saveBlock, also keeping the extended commit (vote extensions on); the seen commit is derived from it. */
  async saveBlockWithExtendedCommit(block: Block, seenExtendedCommit: ExtendedCommit, parts?: BlockPartsInput): Promise<BlockMeta> {
    return this.exclusive(() => this.write(block, extendedCommitToCommit(seenExtendedCommit), seenExtendedCommit, parts));
  }

  /** Store a seen commit alone (state sync: the commit of the height the node bootstraps at). */
  async saveSeenCommit(height: number, commit: Commit): Promise<void> {
    return this.exclusive(async () => {
      if (commit.height !== height) throw new StoreError('mismatch', `seen commit is for height ${commit.height}, not ${height}`, { height, commitHeight: commit.height });
      await this.writeBatch([put(seenCommitKey(height), encodeCommit(commit))], this.sync);
    });
  }

  private async write(block: Block, seen: Commit, ext: ExtendedCommit | undefined, given: BlockPartsInput | undefined): Promise<BlockMeta> {
    const h = block.header.height;
    if (!Number.isSafeInteger(h) || h < 1) throw new StoreError('invalid_argument', `block height must be a positive integer, got ${h}`, { height: h });
    if (this.topHeight > 0 && h !== this.topHeight + 1)
      throw new StoreError('not_contiguous', `can only save block ${this.topHeight + 1} next, got ${h}`, { height: h, storeHeight: this.topHeight, base: this.baseHeight });
    if (seen.height !== h) throw new StoreError('mismatch', `seen commit is for height ${seen.height}, block is ${h}`, { height: h, commitHeight: seen.height });
    if (block.lastCommit && block.lastCommit.height !== h - 1)
      throw new StoreError('mismatch', `block ${h} carries a last commit for height ${block.lastCommit.height}`, { height: h, lastCommitHeight: block.lastCommit.height });

    const { header: psh, parts } = given ?? blockParts(block);
    if (parts.length !== psh.total || parts.some((p, i) => p.index !== i))
      throw new StoreError('mismatch', `block ${h}: parts are incomplete or out of order`, { height: h, total: psh.total, received: parts.length });
    const hash = headerHash(block.header);
    const blockId: BlockID = { hash, partSetHeader: psh };
    if (!sameBlockId(blockId, seen.blockId))
      throw new StoreError('mismatch', `seen commit for height ${h} is for another block`, {
        height: h,
        blockHash: hex(hash),
        commitBlockHash: hex(seen.blockId.hash),
      });

    let blockSize = 0;
    const ops: BatchOp[] = [];
    for (const p of parts) {
      blockSize += p.bytes.length;
      ops.push(put(partKey(h, p.index), encodePart(p)));
    }
    const meta: BlockMeta = { blockId, blockSize, header: block.header, numTxs: block.data.txs.length };
    const base = this.baseHeight === 0 ? h : this.baseHeight;
    ops.push(put(metaKey(h), encodeBlockMeta(meta)), put(hashKey(hash), u64(h)));
    if (block.lastCommit && h > 1) ops.push(put(commitKey(h - 1), encodeCommit(block.lastCommit)));
    ops.push(put(seenCommitKey(h), encodeCommit(seen)));
    if (ext) ops.push(put(extCommitKey(h), encodeExtendedCommit(ext)));
    ops.push(put(STATE_KEY, encodeBlockStoreState({ base, height: h })));

    await this.writeBatch(ops, this.sync);
    this.baseHeight = base;
    this.topHeight = h;
    return meta;
  }

  // ---- loading ---------------------------------------------------------------------------------

  async loadBlockMeta(height: number): Promise<BlockMeta | undefined> {
    const raw = await this.getRaw(metaKey(height));
    return raw && this.decode('BlockMeta', raw, readBlockMeta, { height });
  }

  async loadBlockMetaByHash(hash: Uint8Array): Promise<BlockMeta | undefined> {
    const h = await this.heightOfHash(hash);
    return h === undefined ? undefined : this.loadBlockMeta(h);
  }

  /** The block at `height`, assembled from its parts; undefined if not stored. */
  async loadBlock(height: number): Promise<Block | undefined> {
    const meta = await this.loadBlockMeta(height);
    if (!meta) return undefined;
    const total = meta.blockId.partSetHeader.total;
    if (total < 1 || total > MAX_BLOCK_PARTS) throw new StoreError('corrupt', `block ${height}: meta claims ${total} parts`, { height, total });
    const keys = Array.from({ length: total }, (_, i) => partKey(height, i));
    const raws = await this.db.getMany(keys);
    const chunks: Uint8Array[] = [];
    raws.forEach((raw, i) => {
      if (raw === undefined) throw new StoreError('corrupt', `block ${height}: part ${i} of ${total} is missing`, { height, index: i, total });
      chunks.push(this.decode('Part', raw, readPart, { height, index: i }).bytes);
    });
    return this.decode('Block', concatBytes(...chunks), readBlock, { height });
  }

  async loadBlockByHash(hash: Uint8Array): Promise<Block | undefined> {
    const h = await this.heightOfHash(hash);
    return h === undefined ? undefined : this.loadBlock(h);
  }

  /** Part `index` of block `height`, with its proof (what a peer catching up asks for). */
  async loadBlockPart(height: number, index: number): Promise<Part | undefined> {
    if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) return undefined;
    const raw = await this.getRaw(partKey(height, index));
    return raw && this.decode('Part', raw, readPart, { height, index });
  }

  /** The canonical commit for `height`, as carried by block height+1. */
  async loadBlockCommit(height: number): Promise<Commit | undefined> {
    const raw = await this.getRaw(commitKey(height));
    return raw && this.decode('Commit', raw, readCommit, { height });
  }

  /** The commit this node saw for `height` (+2/3 precommits; may differ in signers from the canonical one). */
  async loadSeenCommit(height: number): Promise<Commit | undefined> {
    const raw = await this.getRaw(seenCommitKey(height));
    return raw && this.decode('Commit', raw, readCommit, { height });
  }

  async loadExtendedCommit(height: number): Promise<ExtendedCommit | undefined> {
    const raw = await this.getRaw(extCommitKey(height));
    return raw && this.decode('ExtendedCommit', raw, readExtendedCommit, { height });
  }

  /**
   * The commit to serve for `height` (RPC `commit`, block sync): the canonical one if block
   * height+1 is stored, otherwise the seen commit (the latest height has no successor yet).
   */
  async loadCommit(height: number): Promise<Commit | undefined> {
    return (await this.loadBlockCommit(height)) ?? (await this.loadSeenCommit(height));
  }

  private async heightOfHash(hash: Uint8Array): Promise<number | undefined> {
    if (hash.length === 0) return undefined;
    const raw = await this.getRaw(hashKey(hash));
    if (!raw) return undefined;
    if (raw.length !== 8) throw new StoreError('corrupt', 'block hash index entry is malformed', { hash: hex(hash) });
    return readU64(raw, 0);
  }

  // ---- removing --------------------------------------------------------------------------------

  /** Deletes of every record of block `h`; reads its meta to find the parts and hash. */
  private async deletionsFor(h: number): Promise<BatchOp[]> {
    const ops: BatchOp[] = [];
    const meta = await this.loadBlockMeta(h);
    if (meta) {
      for (let i = 0; i < meta.blockId.partSetHeader.total; i++) ops.push(del(partKey(h, i)));
      ops.push(del(hashKey(meta.blockId.hash)));
    }
    ops.push(del(metaKey(h)), del(seenCommitKey(h)), del(extCommitKey(h)), del(commitKey(h)));
    // The commit for h-1 came with block h; below the base it has no other use.
    if (h > 1) ops.push(del(commitKey(h - 1)));
    return ops;
  }

  /**
   * Delete every block below `retainHeight` and move the base there; returns how many blocks
   * were pruned. Works in batches of at most pruneBatchSize writes, each moving the base with
   * its deletions (a crash leaves a consistent, partly pruned store), and lets saves run in
   * between batches.
   */
  async pruneBlocks(retainHeight: number): Promise<number> {
    if (!Number.isSafeInteger(retainHeight) || retainHeight <= 0)
      throw new StoreError('invalid_argument', `retain height must be a positive integer, got ${retainHeight}`, { retainHeight });
    if (retainHeight > this.topHeight)
      throw new StoreError('invalid_argument', `cannot prune beyond the latest height ${this.topHeight}`, { retainHeight, height: this.topHeight });
    let pruned = 0;
    for (;;) {
      const done = await this.exclusive(async () => {
        if (this.baseHeight >= retainHeight) return true;
        const ops: BatchOp[] = [];
        let h = this.baseHeight;
        while (h < retainHeight && ops.length < this.pruneBatchSize) ops.push(...(await this.deletionsFor(h++)));
        ops.push(put(STATE_KEY, encodeBlockStoreState({ base: h, height: this.topHeight })));
        await this.writeBatch(ops, this.sync);
        pruned += h - this.baseHeight;
        this.baseHeight = h;
        return h >= retainHeight;
      });
      if (done) return pruned;
    }
  }

  /** Remove the latest block (rollback of one height). The store becomes empty if it was the only one. */
  async deleteLatestBlock(): Promise<void> {
    return this.exclusive(async () => {
      const h = this.topHeight;
      if (h === 0) throw new StoreError('not_found', 'block store is empty');
      const ops = await this.deletionsFor(h);
      // The canonical commit for h-1 goes with block h; loadCommit(h-1) then serves the seen commit.
      const next: BlockStoreState = h === this.baseHeight ? { base: 0, height: 0 } : { base: this.baseHeight, height: h - 1 };
      ops.push(put(STATE_KEY, encodeBlockStoreState(next)));
      await this.writeBatch(ops, this.sync);
      this.baseHeight = next.base;
      this.topHeight = next.height;
    });
  }
}
