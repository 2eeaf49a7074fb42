import {
  BlockIDFlag,
  SignedMsgType,
  ZERO_BLOCK_ID,
  encodeCanonicalProposal,
  encodeCanonicalVote,
  encodeCanonicalVoteExtension,
  lengthPrefixed,
  type Commit,
  type Proposal,
  type Vote,
} from '../codec/index.js';

/** The bytes a validator signs for a vote: length-prefixed CanonicalVote (address and index are not signed). */
export function voteSignBytes(chainId: string, vote: Pick<Vote, 'type' | 'height' | 'round' | 'blockId' | 'timestamp'>): Uint8Array {
  return lengthPrefixed(encodeCanonicalVote(vote, chainId));
}

/** The bytes a proposer signs: length-prefixed CanonicalProposal. */
export function proposalSignBytes(chainId: string, proposal: Proposal): Uint8Array {
  return lengthPrefixed(encodeCanonicalProposal(proposal, chainId));
}

/** The bytes signed for a precommit's vote extension: length-prefixed CanonicalVoteExtension. */
export function voteExtensionSignBytes(chainId: string, vote: Pick<Vote, 'extension' | 'height' | 'round'>): Uint8Array {
  return lengthPrefixed(encodeCanonicalVoteExtension(vote.extension, vote.height, vote.round, chainId));
}

/**
 * The sign-bytes of the precommit behind signature `index` of a commit: a COMMIT flag signed
 * the commit's block id, a NIL flag signed nil. Absent signatures have none (throws).
 */
export function commitSigSignBytes(chainId: string, commit: Commit, index: number): Uint8Array {
  const sig = commit.signatures[index];
  if (!sig || sig.blockIdFlag === BlockIDFlag.Absent || sig.blockIdFlag === BlockIDFlag.Unknown)
    throw new RangeError(`commit signature ${index} is absent`);
  return voteSignBytes(chainId, {
    type: SignedMsgType.Precommit,
    height: commit.height,
    round: commit.round,
    blockId: sig.blockIdFlag === BlockIDFlag.Commit ? commit.blockId : ZERO_BLOCK_ID,
    timestamp: sig.timestamp,
  });
}
