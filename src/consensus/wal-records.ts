// What the consensus WAL records, and its binary form. A record is one input the core saw (or
// one fact the shell needs to replay them: the block behind a value, the height started), so a
// restarted node rebuilds the same core state by feeding the same inputs again.
import {
  ProtoWriter,
  decodeWith,
  encodeBlock,
  encodeBlockID,
  encodeCommit,
  encodeExtendedCommit,
  encodeProposal,
  encodeVote,
  readBlock,
  readBlockID,
  readCommit,
  readExtendedCommit,
  readProposal,
  readVote,
  type Block,
  type BlockID,
  type Commit,
  type ExtendedCommit,
  type Proposal,
  type ProtoReader,
  type Vote,
} from '../codec/index.js';
import type { TimeoutKind } from './core/index.js';

export type WalRecord =
  | { readonly kind: 'height'; readonly height: number }
  | { readonly kind: 'proposal'; readonly proposal: Proposal; readonly signer: Uint8Array }
  | { readonly kind: 'vote'; readonly vote: Vote }
  | { readonly kind: 'timeout'; readonly timeout: TimeoutKind; readonly height: number; readonly round: number }
  | { readonly kind: 'block'; readonly block: Block }
  | { readonly kind: 'valueReady'; readonly height: number; readonly round: number; readonly blockId: BlockID }
  | { readonly kind: 'valueValidated'; readonly height: number; readonly blockId: BlockID; readonly valid: boolean }
  | { readonly kind: 'commit'; readonly commit: Commit; readonly extended?: ExtendedCommit };

const KINDS = ['height', 'proposal', 'vote', 'timeout', 'block', 'valueReady', 'valueValidated', 'commit'] as const;
const TIMEOUTS: readonly TimeoutKind[] = ['propose', 'prevote', 'precommit'];

/** Field 1 is the record kind (index into KINDS); the rest depend on it. */
export function encodeWalRecord(r: WalRecord): Uint8Array {
  const w = new ProtoWriter().uint32(1, KINDS.indexOf(r.kind) + 1);
  switch (r.kind) {
    case 'height':
      return w.int64(2, r.height).finish();
    case 'proposal':
      return w.message(3, encodeProposal(r.proposal)).bytes(4, r.signer).finish();
    case 'vote':
      return w.message(5, encodeVote(r.vote)).finish();
    case 'timeout':
      return w.uint32(6, TIMEOUTS.indexOf(r.timeout) + 1).int64(2, r.height).int64(7, r.round).finish();
    case 'block':
      return w.message(8, encodeBlock(r.block)).finish();
    case 'valueReady':
      return w.int64(2, r.height).int64(7, r.round).message(9, encodeBlockID(r.blockId)).finish();
    case 'valueValidated':
      return w.int64(2, r.height).message(9, encodeBlockID(r.blockId)).bool(10, r.valid).finish();
    case 'commit':
      w.message(11, encodeCommit(r.commit));
      if (r.extended) w.message(12, encodeExtendedCommit(r.extended));
      return w.finish();
  }
}

export function decodeWalRecord(bytes: Uint8Array): WalRecord {
  return decodeWith('WalRecord', bytes, (r: ProtoReader) => {
    let kind = 0;
    let height = 0;
    let round = 0;
    let timeout = 0;
    let valid = false;
    let signer: Uint8Array = new Uint8Array(0);
    let proposal: Proposal | undefined;
    let vote: Vote | undefined;
    let block: Block | undefined;
    let blockId: BlockID | undefined;
    let commit: Commit | undefined;
    let extended: ExtendedCommit | undefined;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) kind = r.uint32();
      else if (f === 2) height = r.int64Number(0);
      else if (f === 3) proposal = r.message('proposal', readProposal);
      else if (f === 4) signer = r.bytes(64);
      else if (f === 5) vote = r.message('vote', readVote);
      else if (f === 6) timeout = r.uint32();
      else if (f === 7) round = r.int64Number(0, 0x7fffffff);
      else if (f === 8) block = r.message('block', readBlock);
      else if (f === 9) blockId = r.message('block_id', readBlockID);
      else if (f === 10) valid = r.bool();
      else if (f === 11) commit = r.message('commit', readCommit);
      else if (f === 12) extended = r.message('extended_commit', readExtendedCommit);
      else r.skip();
    }
    const need = <T>(v: T | undefined, what: string): T => v ?? r.fail(`record lacks ${what}`);
    switch (KINDS[kind - 1]) {
      case 'height':
        return { kind: 'height', height };
      case 'proposal':
        return { kind: 'proposal', proposal: need(proposal, 'proposal'), signer };
      case 'vote':
        return { kind: 'vote', vote: need(vote, 'vote') };
      case 'timeout':
        return { kind: 'timeout', timeout: need(TIMEOUTS[timeout - 1], 'timeout kind'), height, round };
      case 'block':
        return { kind: 'block', block: need(block, 'block') };
      case 'valueReady':
        return { kind: 'valueReady', height, round, blockId: need(blockId, 'block id') };
      case 'valueValidated':
        return { kind: 'valueValidated', height, blockId: need(blockId, 'block id'), valid };
      case 'commit':
        return extended ? { kind: 'commit', commit: need(commit, 'commit'), extended } : { kind: 'commit', commit: need(commit, 'commit') };
      default:
        return r.fail(`unknown record kind ${kind}`);
    }
  });
}
