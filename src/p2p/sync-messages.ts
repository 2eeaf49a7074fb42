// Wire messages of the sync protocols (status, blocks by range, votes of a round), in the same
// protobuf style as messages.ts. Decoding is for untrusted bytes: counts and sizes are bounded
// and anything malformed is a DecodeError. Commits and votes are not verified here: block sync
// verifies commits against its validator set, consensus checks vote signatures.
//
//   StatusRequest   { 1: true }
//   StatusResponse  { 1: base, 2: height }                     (0, 0: an empty store)
//   BlocksRequest   { 1: from height, 2: count }
//   BlocksResponse  { 1: repeated SyncedBlock } or { 2: true } (none of them stored here)
//   SyncedBlock     { 1: Block, 2: Commit, 3: ExtendedCommit } (2 or 3: the seen commit;
//                                                               3 when the store has extensions)
//   VotesRequest    { 1: height, 2: round }
//   VotesResponse   { 1: repeated Vote } or { 2: true }        (no votes for that round here)
//
// No message is ever empty: some length-prefixed readers take a zero length for an error.
import {
  DecodeError,
  ProtoWriter,
  decodeWith,
  encodeBlock,
  encodeCommit,
  encodeExtendedCommit,
  encodeVote,
  readBlock,
  readCommit,
  readExtendedCommit,
  readVote,
  type Block,
  type Commit,
  type ExtendedCommit,
  type Vote,
} from '../codec/index.js';
import { ValidationError, extendedCommitToCommit, validateVote } from '../types/index.js';
import { MAX_COMMIT_RESPONSE_BYTES, plainBytes } from './messages.js';

// ---- limits -------------------------------------------------------------------------------

/** Blocks one range request may ask for (CometBFT asks for one block per request; we batch). */
export const MAX_BLOCKS_PER_REQUEST = 100;
/** A server stops adding blocks to a response once it holds this many bytes (always one block at least). */
export const SYNC_RESPONSE_SOFT_BYTES = 16 * 1024 * 1024;
/** The largest blocks response read: one block of the largest size CometBFT allows and its commit, or the soft bound, plus room for an extended commit. */
export const MAX_BLOCKS_RESPONSE_BYTES = MAX_COMMIT_RESPONSE_BYTES + SYNC_RESPONSE_SOFT_BYTES;
/** Votes in one response: two kinds for each of CometBFT's 10 000 validators at most. */
export const MAX_VOTES_PER_RESPONSE = 20_000;
/** A votes response is cut at this size by the server (votes may carry 1 MiB extensions)… */
export const VOTES_RESPONSE_SOFT_BYTES = 16 * 1024 * 1024;
/** …and read up to this size (one vote with the largest extension past the soft bound). */
export const MAX_VOTES_RESPONSE_BYTES = VOTES_RESPONSE_SOFT_BYTES + 2 * 1024 * 1024;
/** Requests are a few varints. */
export const MAX_SYNC_REQUEST_BYTES = 64;

// ---- status -------------------------------------------------------------------------------

export interface StatusResponse {
  /** Lowest stored height (0 for an empty store). */
  readonly base: number;
  /** Highest stored height (0 for an empty store). */
  readonly height: number;
}

export function encodeStatusRequest(): Uint8Array {
  return new ProtoWriter().bool(1, true).finish();
}

export function decodeStatusRequest(bytes: Uint8Array): void {
  decodeWith('StatusRequest', plainBytes(bytes), (r) => {
    for (let f = r.next(); f !== 0; f = r.next()) r.skip();
  });
}

export function encodeStatusResponse(s: StatusResponse): Uint8Array {
  // height 0 would make an empty message; base 0 and height 0 are written as "absent" anyway
  const w = new ProtoWriter().int64(1, s.base).int64(2, s.height);
  return s.height === 0 ? w.bool(3, true).finish() : w.finish();
}

export function decodeStatusResponse(bytes: Uint8Array): StatusResponse {
  return decodeWith('StatusResponse', plainBytes(bytes), (r) => {
    let base = 0;
    let height = 0;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) base = r.int64Number(0);
      else if (f === 2) height = r.int64Number(0);
      else r.skip();
    }
    if (base > height) r.fail(`base ${base} above height ${height}`);
    if ((base === 0) !== (height === 0)) r.fail('base and height must both be 0 (empty store) or both positive');
    return { base, height };
  });
}

// ---- blocks by range ----------------------------------------------------------------------

export interface BlocksRequest {
  readonly from: number;
  readonly count: number;
}

export interface SyncedBlock {
  readonly block: Block;
  /** The seen commit for the block's height (derived from `extendedCommit` when that is sent). */
  readonly commit: Commit;
  /** The seen commit with vote extensions, when the server stored one. */
  readonly extendedCommit: ExtendedCommit | null;
}

export function encodeBlocksRequest(req: BlocksRequest): Uint8Array {
  return new ProtoWriter().int64(1, req.from).int64(2, req.count).finish();
}

export function decodeBlocksRequest(bytes: Uint8Array): BlocksRequest {
  return decodeWith('BlocksRequest', plainBytes(bytes), (r) => {
    let from = 0;
    let count = 0;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) from = r.int64Number(1);
      else if (f === 2) count = r.int64Number(1, MAX_BLOCKS_PER_REQUEST);
      else r.skip();
    }
    if (from === 0) r.fail('missing from height');
    if (count === 0) r.fail('missing count');
    return { from, count };
  });
}

function encodeSyncedBlock(b: SyncedBlock): Uint8Array {
  const w = new ProtoWriter().message(1, encodeBlock(b.block));
  return (b.extendedCommit ? w.message(3, encodeExtendedCommit(b.extendedCommit)) : w.message(2, encodeCommit(b.commit))).finish();
}

/** The plain commit inside an extended one (what the block store derives too). */
/** Encodes blocks in order until the soft byte bound (at least one); returns the bytes and how many fit. */
export function encodeBlocksResponse(blocks: readonly SyncedBlock[], softBytes = SYNC_RESPONSE_SOFT_BYTES): { bytes: Uint8Array; count: number } {
  if (blocks.length === 0) return { bytes: new ProtoWriter().bool(2, true).finish(), count: 0 };
  const w = new ProtoWriter();
  let size = 0;
  let count = 0;
  for (const b of blocks) {
    const enc = encodeSyncedBlock(b);
    if (count > 0 && size + enc.length > softBytes) break;
    w.repeatedElement(1, enc);
    size += enc.length;
    count++;
  }
  return { bytes: w.finish(), count };
}

/**
 * The blocks of a response, checked to be `req.from`, `req.from + 1`, … (at most `req.count`),
 * each with a commit for its own height. An empty list: the peer has none of them.
 */
export function decodeBlocksResponse(bytes: Uint8Array, req: BlocksRequest): SyncedBlock[] {
  return decodeWith('BlocksResponse', plainBytes(bytes), (r) => {
    const out: SyncedBlock[] = [];
    let none = false;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) {
        if (out.length >= req.count) r.fail(`more than the ${req.count} blocks asked for`);
        const height = req.from + out.length;
        out.push(
          r.message('blocks', (m) => {
            let block: Block | null = null;
            let commit: Commit | null = null;
            let extendedCommit: ExtendedCommit | null = null;
            for (let g = m.next(); g !== 0; g = m.next()) {
              if (g === 1) block = m.message('block', readBlock);
              else if (g === 2) commit = m.message('commit', readCommit);
              else if (g === 3) extendedCommit = m.message('extended_commit', readExtendedCommit);
              else m.skip();
            }
            if (!block) return m.fail('missing block');
            if (commit && extendedCommit) return m.fail('both a commit and an extended commit');
            const c = commit ?? (extendedCommit ? extendedCommitToCommit(extendedCommit) : null);
            if (!c) return m.fail('missing commit');
            if (block.header.height !== height) m.fail(`expected block ${height}, got ${block.header.height}`);
            if (c.height !== height) m.fail(`the commit is for height ${c.height}, not ${height}`);
            return { block, commit: c, extendedCommit };
          }),
        );
      } else if (f === 2) none = r.bool();
      else r.skip();
    }
    if (out.length === 0 && !none) r.fail('neither blocks nor "none"');
    if (out.length > 0 && none) r.fail('blocks and "none" together');
    return out;
  });
}

// ---- votes of a round ---------------------------------------------------------------------

export interface VotesRequest {
  readonly height: number;
  readonly round: number;
}

export function encodeVotesRequest(req: VotesRequest): Uint8Array {
  // height ≥ 1 is always written, so round 0 leaves no empty message
  return new ProtoWriter().int64(1, req.height).int32(2, req.round).finish();
}

export function decodeVotesRequest(bytes: Uint8Array): VotesRequest {
  return decodeWith('VotesRequest', plainBytes(bytes), (r) => {
    let height = 0;
    let round = 0;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) height = r.int64Number(1);
      else if (f === 2) {
        round = r.int32();
        if (round < 0) r.fail('negative round');
      } else r.skip();
    }
    if (height === 0) r.fail('missing height');
    return { height, round };
  });
}

/** Encodes votes until the soft byte bound (at least one). */
export function encodeVotesResponse(votes: readonly Vote[], softBytes = VOTES_RESPONSE_SOFT_BYTES): Uint8Array {
  if (votes.length === 0) return new ProtoWriter().bool(2, true).finish();
  const w = new ProtoWriter();
  let size = 0;
  let count = 0;
  for (const v of votes) {
    if (count >= MAX_VOTES_PER_RESPONSE) break;
    const enc = encodeVote(v);
    if (count > 0 && size + enc.length > softBytes) break;
    w.repeatedElement(1, enc);
    size += enc.length;
    count++;
  }
  return w.finish();
}

/** The votes of a response, each of the asked height and round and basically valid (signatures unchecked). */
export function decodeVotesResponse(bytes: Uint8Array, req: VotesRequest): Vote[] {
  return decodeWith('VotesResponse', plainBytes(bytes), (r) => {
    const out: Vote[] = [];
    let none = false;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) {
        if (out.length >= MAX_VOTES_PER_RESPONSE) r.fail(`more than ${MAX_VOTES_PER_RESPONSE} votes`);
        const v = r.message('votes', readVote);
        try {
          validateVote(v);
        } catch (e) {
          if (e instanceof ValidationError) throw new DecodeError(e.message, 'VotesResponse.votes');
          throw e;
        }
        if (v.height !== req.height || v.round !== req.round) r.fail(`a vote for ${v.height}/${v.round}, not the ${req.height}/${req.round} asked for`);
        out.push(v);
      } else if (f === 2) none = r.bool();
      else r.skip();
    }
    if (out.length === 0 && !none) r.fail('neither votes nor "none"');
    return out;
  });
}
