// The p2p wire messages, in the codec's protobuf style (ProtoWriter/ProtoReader). Decoding is for
// untrusted bytes: every count and size is bounded, and anything malformed — including a vote or
// proposal that fails its basic validation — is a DecodeError, so the gossip layer can drop it
// and count it against the peer. Signatures are not checked here: consensus does that.
//
//   ProposalMessage  { 1: Proposal (first chunk only), 2: height, 3: BlockID, 4: repeated Part, 5: resend }
//   VoteMessage      { 1: Vote, 2: resend }
//
// `resend` (0 for the first send) makes a re-sent message's bytes, and so its gossipsub id,
// differ from the first send's, which gossipsub would otherwise drop as already seen.
//   TxBatch          { 1: repeated bytes tx }
//   EvidenceMessage  { 1: tendermint.types.Evidence, 2: resend }
//   CommitRequest    { 1: height }
//   CommitResponse   { 1: Block, 2: Commit | 4: ExtendedCommit (instead of the commit when the
//                    height has vote extensions and the sender stored them) } or { 3: true } ("not
//                    stored here"; never empty, as some length-prefixed readers take a zero length for an error)
//   PexRequest       { 1: limit }   addresses wanted, 1..MAX_PEX_ADDRS
//   PexAddrs         { 1: repeated string addr, 2: true }   each /ip4|ip6|dns…/<host>/tcp/<port>/p2p/<id>;
//                    field 2 keeps an answer with no addresses from being empty
//   Neighbors        { 1: repeated string peer id, 2: true }   the sender's connected peers (both
//                    ways of the neighbors exchange); field 2 as in PexAddrs
import {
  DecodeError,
  ProtoWriter,
  ZERO_BLOCK_ID,
  decodeWith,
  encodeBlock,
  encodeBlockID,
  encodeCommit,
  encodeEvidence,
  encodeExtendedCommit,
  encodePart,
  encodeProposal,
  encodeVote,
  readBlock,
  readBlockID,
  readCommit,
  readEvidence,
  readExtendedCommit,
  readPart,
  readProposal,
  readVote,
  type Block,
  type BlockID,
  type Commit,
  type Evidence,
  type ExtendedCommit,
  type Part,
  type Proposal,
  type ProtoReader,
  type Vote,
} from '../codec/index.js';
import { parseMultiaddr } from '../config/index.js';
import { bytesEqual } from '../crypto/index.js';
import { MAX_BLOCK_PARTS, ValidationError, validateProposal, validateVote } from '../types/index.js';

// ---- limits -------------------------------------------------------------------------------

/** The largest gossip message this node sends or accepts (gossipsub's own frame limit is set above it). */
export const MAX_GOSSIP_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Proposal chunks are filled up to this many bytes of parts (a 64 KiB part always fits). */
export const PROPOSAL_CHUNK_BYTES = 1024 * 1024;
/** Txs in one batch, whatever their size. */
export const MAX_TXS_PER_BATCH = 10_000;
/** A commit response: the largest block CometBFT allows (100 MiB) plus its commit. */
export const MAX_COMMIT_RESPONSE_BYTES = 104_857_600 + 1024 * 1024;
/** Addresses in one peer-exchange answer (CometBFT's is 250; a validator network is smaller). */
export const MAX_PEX_ADDRS = 100;
/** One address in a peer-exchange answer: a DNS name, port and peer id fit well within it. */
export const MAX_PEX_ADDR_BYTES = 300;
/** A whole peer-exchange answer. */
export const MAX_PEX_MESSAGE_BYTES = MAX_PEX_ADDRS * (MAX_PEX_ADDR_BYTES + 3) + 8;
/** Peers in one neighbor list: more than any node keeps connected (inbound + outbound limits). */
export const MAX_NEIGHBORS = 1000;
/** One peer id in a neighbor list (an ed25519 id is 52 characters). */
export const MAX_PEER_ID_BYTES = 128;
/** A whole neighbor list. */
export const MAX_NEIGHBORS_MESSAGE_BYTES = MAX_NEIGHBORS * (MAX_PEER_ID_BYTES + 3) + 8;

/**
 * A plain Uint8Array view of `b`. Network bytes often arrive as Node Buffers, and fields read
 * from a Buffer would be Buffers too (Buffer.slice): they compare unequal to the Uint8Arrays the
 * rest of the node makes, and their slice() does not copy.
 */
export function plainBytes(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function asDecodeError<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ValidationError) throw new DecodeError(e.message, what);
    throw e;
  }
}

// ---- proposals and block parts ------------------------------------------------------------

export interface ProposalMessage {
  /** Present in the first chunk of a proposal; later chunks carry parts only. */
  readonly proposal: Proposal | null;
  readonly height: number;
  readonly blockId: BlockID;
  readonly parts: readonly Part[];
  /** How many times this was sent before (re-sends after a stall). */
  readonly resend?: number;
}

export function encodeProposalMessage(m: ProposalMessage): Uint8Array {
  const w = new ProtoWriter();
  if (m.proposal) w.message(1, encodeProposal(m.proposal));
  w.int64(2, m.height).message(3, encodeBlockID(m.blockId));
  for (const p of m.parts) w.repeatedElement(4, encodePart(p));
  return w.int64(5, m.resend ?? 0).finish();
}

function readProposalMessage(r: ProtoReader): ProposalMessage {
  let proposal: Proposal | null = null;
  let height = 0;
  let blockId: BlockID = ZERO_BLOCK_ID;
  const parts: Part[] = [];
  let resend = 0;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) proposal = r.message('proposal', readProposal);
    else if (f === 2) height = r.int64Number(1);
    else if (f === 3) blockId = r.message('block_id', readBlockID);
    else if (f === 4) {
      if (parts.length >= MAX_BLOCK_PARTS) r.fail(`more than ${MAX_BLOCK_PARTS} parts`);
      parts.push(r.message('parts', readPart));
    } else if (f === 5) resend = r.int64Number(0);
    else r.skip();
  }
  if (height === 0) r.fail('missing height');
  if (proposal) {
    const p = proposal;
    asDecodeError('ProposalMessage.proposal', () => validateProposal(p));
    if (p.height !== height || !bytesEqual(p.blockId.hash, blockId.hash) || p.blockId.partSetHeader.total !== blockId.partSetHeader.total || !bytesEqual(p.blockId.partSetHeader.hash, blockId.partSetHeader.hash))
      r.fail('the proposal does not match the message height and block id');
  }
  if (parts.length === 0 && !proposal) r.fail('neither a proposal nor parts');
  return { proposal, height, blockId, parts, resend };
}

export function decodeProposalMessage(bytes: Uint8Array): ProposalMessage {
  return decodeWith('ProposalMessage', plainBytes(bytes), readProposalMessage);
}

/**
 * A proposal and its parts as gossip messages: the proposal with as many parts as fit
 * PROPOSAL_CHUNK_BYTES (for a small block, all of them: one message), then the rest in chunks.
 */
export function proposalMessages(proposal: Proposal, parts: readonly Part[], resend = 0, chunkBytes = PROPOSAL_CHUNK_BYTES): Uint8Array[] {
  const out: Uint8Array[] = [];
  let chunk: Part[] = [];
  let size = 0;
  let first = true;
  const flush = (): void => {
    out.push(encodeProposalMessage({ proposal: first ? proposal : null, height: proposal.height, blockId: proposal.blockId, parts: chunk, resend }));
    first = false;
    chunk = [];
    size = 0;
  };
  for (const p of parts) {
    const n = p.bytes.length + 64 + 32 * p.proof.aunts.length; // part bytes plus its proof, roughly
    if (chunk.length > 0 && size + n > chunkBytes) flush();
    chunk.push(p);
    size += n;
  }
  if (chunk.length > 0 || first) flush();
  return out;
}

// ---- votes --------------------------------------------------------------------------------

export function encodeVoteMessage(v: Vote, resend = 0): Uint8Array {
  return new ProtoWriter().message(1, encodeVote(v)).int64(2, resend).finish();
}

export function decodeVoteMessage(bytes: Uint8Array): Vote {
  return decodeWith('VoteMessage', plainBytes(bytes), (r) => {
    let vote: Vote | null = null;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) vote = r.message('vote', readVote);
      else if (f === 2) r.int64Number(0); // resend count: only there to change the message id
      else r.skip();
    }
    if (!vote) return r.fail('missing vote');
    const v = vote;
    asDecodeError('VoteMessage.vote', () => validateVote(v));
    return v;
  });
}

// ---- evidence -----------------------------------------------------------------------------

export function encodeEvidenceMessage(e: Evidence, resend = 0): Uint8Array {
  return new ProtoWriter().message(1, encodeEvidence(e)).int64(2, resend).finish();
}

/** Both votes must pass their basic validation; the evidence pool verifies the rest. */
export function decodeEvidenceMessage(bytes: Uint8Array): Evidence {
  return decodeWith('EvidenceMessage', plainBytes(bytes), (r) => {
    let evidence: Evidence | null = null;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) evidence = r.message('evidence', readEvidence);
      else if (f === 2) r.int64Number(0); // resend count: only there to change the message id
      else r.skip();
    }
    if (!evidence) return r.fail('missing evidence');
    const e = evidence;
    asDecodeError('EvidenceMessage.evidence.vote_a', () => validateVote(e.voteA));
    asDecodeError('EvidenceMessage.evidence.vote_b', () => validateVote(e.voteB));
    return e;
  });
}

// ---- transactions -------------------------------------------------------------------------

export function encodeTxBatch(txs: readonly Uint8Array[]): Uint8Array {
  const w = new ProtoWriter();
  for (const tx of txs) w.repeatedElement(1, tx);
  return w.finish();
}

/** The txs of a batch; each at most `maxTxBytes` (the mempool's max_tx_bytes) and not empty. */
export function decodeTxBatch(bytes: Uint8Array, maxTxBytes: number): Uint8Array[] {
  return decodeWith('TxBatch', plainBytes(bytes), (r) => {
    const txs: Uint8Array[] = [];
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) {
        if (txs.length >= MAX_TXS_PER_BATCH) r.fail(`more than ${MAX_TXS_PER_BATCH} txs`);
        const tx = r.bytes(maxTxBytes);
        if (tx.length === 0) r.fail('empty tx');
        txs.push(tx);
      } else r.skip();
    }
    if (txs.length === 0) r.fail('no txs');
    return txs;
  });
}

// ---- commit request/response (catch-up) ---------------------------------------------------

export function encodeCommitRequest(height: number): Uint8Array {
  return new ProtoWriter().int64(1, height).finish();
}

export function decodeCommitRequest(bytes: Uint8Array): number {
  return decodeWith('CommitRequest', plainBytes(bytes), (r) => {
    let height = 0;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) height = r.int64Number(1);
      else r.skip();
    }
    if (height === 0) r.fail('missing height');
    return height;
  });
}

export interface CommitResponse {
  readonly block: Block;
  /** With vote extensions on: the commit with its extensions, which the next proposer needs. */
  readonly commit: Commit | ExtendedCommit;
}

export function encodeCommitResponse(res: CommitResponse | null): Uint8Array {
  if (!res) return new ProtoWriter().bool(3, true).finish();
  const w = new ProtoWriter().message(1, encodeBlock(res.block));
  return ('extendedSignatures' in res.commit ? w.message(4, encodeExtendedCommit(res.commit)) : w.message(2, encodeCommit(res.commit))).finish();
}

/** null when the peer does not have the height. */
export function decodeCommitResponse(bytes: Uint8Array): CommitResponse | null {
  return decodeWith('CommitResponse', plainBytes(bytes), (r) => {
    let block: Block | null = null;
    let commit: Commit | ExtendedCommit | null = null;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) block = r.message('block', readBlock);
      else if (f === 2 || f === 4) {
        if (commit) return r.fail('more than one commit');
        commit = f === 2 ? r.message('commit', readCommit) : r.message('extended_commit', readExtendedCommit);
      } else r.skip();
    }
    if (!block && !commit) return null;
    if (!block || !commit) return r.fail('a block without its commit, or the reverse');
    if (block.header.height !== commit.height) r.fail('the block and the commit are for different heights');
    return { block, commit };
  });
}

// ---- peer exchange ------------------------------------------------------------------------

export function encodePexRequest(limit: number): Uint8Array {
  return new ProtoWriter().uint32(1, limit).finish();
}

export function decodePexRequest(bytes: Uint8Array): number {
  return decodeWith('PexRequest', plainBytes(bytes), (r) => {
    let limit = 0;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) limit = r.uint32();
      else r.skip();
    }
    if (limit < 1 || limit > MAX_PEX_ADDRS) r.fail(`limit ${limit} not in 1..${MAX_PEX_ADDRS}`);
    return limit;
  });
}

/**
 * Whether `addr` is an address a peer may give us to dial: TCP over an IP or DNS name, ending in
 * /p2p/<a valid peer id>. Returns the peer id, or an error message.
 */
export function checkPexAddr(addr: string): { readonly peerId: string } | string {
  if (addr.length > MAX_PEX_ADDR_BYTES) return `address longer than ${MAX_PEX_ADDR_BYTES} bytes`;
  const parsed = parseMultiaddr(addr);
  if (typeof parsed === 'string') return parsed;
  if (parsed.peerId === undefined) return `${JSON.stringify(addr)} lacks /p2p/<peer id>`;
  if (parsed.port === 0) return `${JSON.stringify(addr)} has port 0`;
  return { peerId: parsed.peerId };
}

export function encodePexAddrs(addrs: readonly string[]): Uint8Array {
  const w = new ProtoWriter();
  for (const a of addrs.slice(0, MAX_PEX_ADDRS)) w.string(1, a);
  return w.bool(2, true).finish();
}

/** The addresses of an answer, de-duplicated; any malformed one makes the whole answer malformed. */
export function decodePexAddrs(bytes: Uint8Array): string[] {
  if (bytes.length > MAX_PEX_MESSAGE_BYTES) throw new DecodeError(`${bytes.length} bytes exceed the limit of ${MAX_PEX_MESSAGE_BYTES}`, 'PexAddrs');
  return decodeWith('PexAddrs', plainBytes(bytes), (r) => {
    const out = new Set<string>();
    let reply = false;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) {
        if (out.size >= MAX_PEX_ADDRS) r.fail(`more than ${MAX_PEX_ADDRS} addresses`);
        const a = r.string(MAX_PEX_ADDR_BYTES);
        const ok = checkPexAddr(a);
        if (typeof ok === 'string') r.fail(ok);
        out.add(a);
      } else if (f === 2) reply = r.bool();
      else r.skip();
    }
    if (!reply) r.fail('not a peer-exchange answer');
    return [...out];
  });
}

// ---- neighbors ----------------------------------------------------------------------------

// A peer id as text: base58btc (Qm…, 12D3Koo…) or a base32 CID (b…). Checked by shape only — a
// neighbor list is advice about whom not to forward to, never dialed.
const PEER_ID_TEXT = /^(?:[1-9A-HJ-NP-Za-km-z]{32,128}|b[a-z2-7]{32,127})$/;

export function encodeNeighbors(peers: readonly string[]): Uint8Array {
  const w = new ProtoWriter();
  for (const p of peers.slice(0, MAX_NEIGHBORS)) w.string(1, p);
  return w.bool(2, true).finish();
}

/** The peer ids of a neighbor list, de-duplicated; one malformed id makes the whole list malformed. */
export function decodeNeighbors(bytes: Uint8Array): string[] {
  if (bytes.length > MAX_NEIGHBORS_MESSAGE_BYTES) throw new DecodeError(`${bytes.length} bytes exceed the limit of ${MAX_NEIGHBORS_MESSAGE_BYTES}`, 'Neighbors');
  return decodeWith('Neighbors', plainBytes(bytes), (r) => {
    const out = new Set<string>();
    let marked = false;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) {
        if (out.size >= MAX_NEIGHBORS) r.fail(`more than ${MAX_NEIGHBORS} peers`);
        const p = r.string(MAX_PEER_ID_BYTES);
        if (!PEER_ID_TEXT.test(p)) r.fail(`${JSON.stringify(p.slice(0, 64))} is not a peer id`);
        out.add(p);
      } else if (f === 2) marked = r.bool();
      else r.skip();
    }
    if (!marked) r.fail('not a neighbor list');
    return [...out];
  });
}
