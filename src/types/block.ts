import { merkleRoot, merkleRootOfRepeats, sha256 } from '../crypto/index.js';
import {
  encodeCommitSig,
  encodeDeterministicExecTxResult,
  encodeDuplicateVoteEvidence,
  encodeHashedParams,
  type Commit,
  type ConsensusParams,
  type Evidence,
  type ExecTxResult,
} from '../codec/index.js';

// One tx's hash is wanted by the mempool, data_hash, the tx index, events and RPC waiters; the
// bytes of a tx are never modified, so it is computed once per tx object.
const txHashes = new WeakMap<Uint8Array, Uint8Array>();

/** Transaction hash, as RPC and the tx index name transactions: SHA-256(tx). */
export function txHash(tx: Uint8Array): Uint8Array {
  let h = txHashes.get(tx);
  if (!h) txHashes.set(tx, (h = sha256(tx)));
  return h;
}

/**
 * txHash without remembering it: for a tx object that is not kept (the mempool keeps a copy),
 * whose entry in the cache would only cost. Uses the cached hash if there is one.
 */
export function txHashOnce(tx: Uint8Array): Uint8Array {
  return txHashes.get(tx) ?? sha256(tx);
}

/** data_hash: merkle root over SHA-256 of each tx. */
export function dataHash(txs: readonly Uint8Array[]): Uint8Array {
  return merkleRoot(txs.map(txHash));
}

/**
 * evidence_hash: merkle root over each evidence's Bytes() — in CometBFT 0.38 the protobuf of the
 * DuplicateVoteEvidence itself, not of the Evidence oneof that wraps it in the block.
 */
export function evidenceHash(evidence: readonly Evidence[]): Uint8Array {
  return merkleRoot(evidence.map(encodeDuplicateVoteEvidence));
}

/** last_commit_hash: merkle root over each CommitSig's protobuf encoding. */
export function commitHash(commit: Commit): Uint8Array {
  return merkleRoot(commit.signatures.map(encodeCommitSig));
}

/**
 * last_results_hash: merkle root over each result reduced to {code, data, gas_wanted, gas_used}.
 * Those reductions are mostly alike (often all empty), hence the root that reuses repeats.
 */
export function resultsHash(results: readonly ExecTxResult[]): Uint8Array {
  return merkleRootOfRepeats(results.map(encodeDeterministicExecTxResult));
}

/** consensus_hash: SHA-256 of HashedParams{block_max_bytes, block_max_gas}. */
export function consensusParamsHash(params: ConsensusParams): Uint8Array {
  return sha256(encodeHashedParams(params));
}
