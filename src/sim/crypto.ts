// Signatures in the simulator. The real mode signs CometBFT sign-bytes with ed25519; the fast
// mode stands in for it with a keyed 64-bit tag over the same fields (chain id included), so
// that 10,000 scenarios run in minutes. Both give what the shell boundary relies on: only the
// holder of a node's key can produce a signature that verifies under that node's address, and
// a signature for another chain, height, round, type, block or timestamp does not verify.
import { SignedMsgType, type BlockID, type Proposal, type Timestamp, type Vote } from '../codec/index.js';
import { nodeBackend } from '../crypto/index.js';
import { valueIdOf } from '../consensus/core/index.js';
import { proposalSignBytes, voteSignBytes } from '../types/vote.js';
import { nodeKey } from './chain.js';
import { hashString } from './prng.js';

export type UnsignedVote = Pick<Vote, 'type' | 'height' | 'round' | 'blockId' | 'timestamp'>;
export type UnsignedProposal = Omit<Proposal, 'signature'>;

export interface SimCrypto {
  signVote(nodeId: number, chainId: string, vote: UnsignedVote): Uint8Array;
  verifyVote(nodeId: number, chainId: string, vote: UnsignedVote, signature: Uint8Array): boolean;
  signProposal(nodeId: number, chainId: string, proposal: UnsignedProposal): Uint8Array;
  verifyProposal(nodeId: number, chainId: string, proposal: UnsignedProposal, signature: Uint8Array): boolean;
}

function tagFields(nodeId: number, chainId: string, kind: string, type: SignedMsgType, height: number, round: number, blockId: BlockID, ts: Timestamp, extra: number): string {
  return `${nodeId}|${chainId}|${kind}|${type}|${height}|${round}|${extra}|${valueIdOf(blockId)}|${ts.seconds}.${ts.nanos}`;
}

function tag(fields: string): Uint8Array {
  const sig = new Uint8Array(64);
  const view = new DataView(sig.buffer);
  view.setUint32(0, hashString(fields));
  view.setUint32(4, hashString(fields, 0x9747b28c));
  return sig;
}

function tagEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const FAST_CRYPTO: SimCrypto = {
  signVote: (id, chainId, v) => tag(tagFields(id, chainId, 'vote', v.type, v.height, v.round, v.blockId, v.timestamp, 0)),
  verifyVote: (id, chainId, v, sig) => tagEquals(sig, tag(tagFields(id, chainId, 'vote', v.type, v.height, v.round, v.blockId, v.timestamp, 0))),
  signProposal: (id, chainId, p) => tag(tagFields(id, chainId, 'proposal', p.type, p.height, p.round, p.blockId, p.timestamp, p.polRound)),
  verifyProposal: (id, chainId, p, sig) => tagEquals(sig, tag(tagFields(id, chainId, 'proposal', p.type, p.height, p.round, p.blockId, p.timestamp, p.polRound))),
};

const EMPTY = new Uint8Array(0);

export const REAL_CRYPTO: SimCrypto = {
  signVote: (id, chainId, v) => nodeKey(id).sign(voteSignBytes(chainId, v), nodeBackend),
  verifyVote: (id, chainId, v, sig) => nodeKey(id).pubKey.verify(voteSignBytes(chainId, v), sig, nodeBackend),
  signProposal: (id, chainId, p) => nodeKey(id).sign(proposalSignBytes(chainId, { ...p, signature: EMPTY }), nodeBackend),
  verifyProposal: (id, chainId, p, sig) => nodeKey(id).pubKey.verify(proposalSignBytes(chainId, { ...p, signature: EMPTY }), sig, nodeBackend),
};
