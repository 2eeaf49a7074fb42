// Deterministic blocks and commits for the store tests (also bundled into the crash-test child).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockIDFlag, ZERO_BLOCK_ID, type Block, type BlockID, type Commit, type ExtendedCommit, type Part, type PartSetHeader } from '../../src/codec/index.js';
import { sha256 } from '../../src/crypto/index.js';
import { headerHash } from '../../src/types/header.js';
import { blockParts } from '../../src/types/part-set.js';
import { StoreError } from '../../src/store/index.js';

const enc = new TextEncoder();
export const bytes = (s: string, n = 32): Uint8Array => sha256(enc.encode(s)).subarray(0, n);

export interface ChainBlock {
  readonly block: Block;
  readonly blockId: BlockID;
  readonly parts: { header: PartSetHeader; parts: Part[] };
  /** The commit this node "saw" (round 1, so it differs from the canonical one carried by the next block). */
  readonly seenCommit: Commit;
  readonly extendedCommit: ExtendedCommit;
}

function commit(height: number, round: number, blockId: BlockID, tag: string): Commit {
  return {
    height,
    round,
    blockId,
    signatures: [0, 1, 2].map((i) => ({
      blockIdFlag: BlockIDFlag.Commit,
      validatorAddress: bytes(`val-${i}`, 20),
      timestamp: { seconds: 1_700_000_000 + height, nanos: i },
      signature: new Uint8Array(64).fill(height % 251).map((b, j) => (b + j + i + round + tag.length) % 256),
    })),
  };
}

/**
 * Block `height` of a test chain: a few small txs, or `bigTxs` txs of 40 KB (several 64 KiB parts).
 * `prev` links it to its predecessor (its last_commit is the canonical commit for height - 1).
 */
export function makeBlock(height: number, prev: ChainBlock | undefined, bigTxs = 0): ChainBlock {
  const txs: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) txs.push(enc.encode(`tx-${height}-${i}`));
  for (let i = 0; i < bigTxs; i++) txs.push(new Uint8Array(40_000).fill((height * 7 + i) % 256));
  const block: Block = {
    header: {
      version: { block: 11n, app: 1n },
      chainId: 'store-test',
      height,
      time: { seconds: 1_700_000_000 + height, nanos: 123 },
      lastBlockId: prev?.blockId ?? ZERO_BLOCK_ID,
      lastCommitHash: bytes(`lch-${height}`),
      dataHash: bytes(`dh-${height}`),
      validatorsHash: bytes('validators'),
      nextValidatorsHash: bytes('validators'),
      consensusHash: bytes('params'),
      appHash: bytes(`app-${height}`),
      lastResultsHash: bytes(`lrh-${height}`),
      evidenceHash: bytes('evidence'),
      proposerAddress: bytes('val-0', 20),
    },
    data: { txs },
    evidence: [],
    lastCommit: prev ? commit(height - 1, 0, prev.blockId, 'canonical') : null,
  };
  const parts = blockParts(block);
  const blockId: BlockID = { hash: headerHash(block.header), partSetHeader: parts.header };
  const seenCommit = commit(height, 1, blockId, 'seen');
  const extendedCommit: ExtendedCommit = {
    height,
    round: 1,
    blockId,
    extendedSignatures: seenCommit.signatures.map((s, i) => ({ ...s, extension: enc.encode(`ext-${height}-${i}`), extensionSignature: bytes(`extsig-${height}-${i}`).slice() })),
  };
  return { block, blockId, parts, seenCommit, extendedCommit };
}

/** Blocks from..to (from ≥ 1), linked; every `bigEvery`-th block spans several parts. */
export function makeChain(from: number, to: number, bigEvery = 0): ChainBlock[] {
  const out: ChainBlock[] = [];
  let prev: ChainBlock | undefined = from > 1 ? makeBlock(from - 1, undefined) : undefined;
  for (let h = from; h <= to; h++) {
    prev = makeBlock(h, prev, bigEvery > 0 && h % bigEvery === 0 ? 3 : 0);
    out.push(prev);
  }
  return out;
}

/** A fresh temporary directory and its remover. */
export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `tally-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** The StoreError `p` rejects with (fails the test if it resolves or throws something else). */
export async function storeError(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StoreError) return e;
    throw e;
  }
  throw new Error('expected a StoreError');
}
