// Full validation of a proposed or received block against the state it builds on (CometBFT
// 0.38 state/validation.go, restated): every header field that the state determines, the last
// commit's signatures and >2/3, BFT time, the proposer, the size limit.
import { bytesEqual, nodeBackend, type Ed25519Backend } from '../crypto/index.js';
import { compareTime, encodeBlock, toHex, type Block } from '../codec/index.js';
import type { State } from '../store/index.js';
import { BLOCK_PROTOCOL, blockIdEquals, consensusParamsHash, validateBlock, verifyCommit, ValidationError, CommitVerifyError } from '../types/index.js';
import { MAX_BLOCK_SIZE_BYTES } from '../types/genesis.js';
import { medianTime } from './bft-time.js';
import { ExecutionError } from './errors.js';
import { nextHeight } from './state.js';

function invalid(message: string, context: Record<string, unknown> = {}): ExecutionError {
  return new ExecutionError('invalid_block', message, context);
}

function checkHash(what: string, got: Uint8Array, expected: Uint8Array): void {
  if (!bytesEqual(got, expected)) throw invalid(`wrong ${what}: expected ${toHex(expected)}, got ${toHex(got)}`, { field: what });
}

/** The byte limit of a block under these params (-1 means CometBFT's absolute maximum). */
export function maxBlockBytes(state: State): number {
  const max = state.consensusParams.block.maxBytes;
  return Number(max === -1n ? MAX_BLOCK_SIZE_BYTES : max);
}

/** Throws ExecutionError('invalid_block') naming the first problem found. */
export function validateBlockAgainstState(state: State, block: Block, backend: Ed25519Backend = nodeBackend): void {
  try {
    validateBlock(block);
  } catch (e) {
    if (e instanceof ValidationError || e instanceof CommitVerifyError) throw invalid(e.message, { cause: e.message });
    throw e;
  }
  const h = block.header;
  if (h.version.block !== BLOCK_PROTOCOL || h.version.app !== state.appVersion)
    throw invalid(`wrong version: expected block ${BLOCK_PROTOCOL} app ${state.appVersion}, got block ${h.version.block} app ${h.version.app}`);
  if (h.chainId !== state.chainId) throw invalid(`wrong chain id: expected ${state.chainId}, got ${h.chainId}`);
  const height = nextHeight(state);
  if (h.height !== height) throw invalid(`wrong height: expected ${height}, got ${h.height}`, { expected: height, got: h.height });
  if (!blockIdEquals(h.lastBlockId, state.lastBlockId)) throw invalid('wrong last_block_id', { expected: toHex(state.lastBlockId.hash), got: toHex(h.lastBlockId.hash) });
  checkHash('app_hash', h.appHash, state.appHash);
  checkHash('consensus_hash', h.consensusHash, consensusParamsHash(state.consensusParams));
  checkHash('last_results_hash', h.lastResultsHash, state.lastResultsHash);
  checkHash('validators_hash', h.validatorsHash, state.validators.hash());
  checkHash('next_validators_hash', h.nextValidatorsHash, state.nextValidators.hash());

  const lastCommit = block.lastCommit;
  if (!lastCommit) throw invalid('block has no last commit');
  if (h.height === state.initialHeight) {
    if (lastCommit.signatures.length !== 0) throw invalid("initial block can't have last commit signatures");
  } else {
    try {
      verifyCommit(state.chainId, state.lastValidators, state.lastBlockId, h.height - 1, lastCommit, backend);
    } catch (e) {
      if (e instanceof CommitVerifyError) throw invalid(`last commit: ${e.message}`, { kind: e.kind });
      throw e;
    }
  }

  if (!state.validators.hasAddress(h.proposerAddress)) throw invalid(`proposer ${toHex(h.proposerAddress)} is not a validator`);

  if (h.height > state.initialHeight) {
    if (compareTime(h.time, state.lastBlockTime) <= 0) throw invalid('block time is not after the last block time');
    const median = medianTime(lastCommit, state.lastValidators);
    if (compareTime(h.time, median) !== 0) throw invalid('block time is not the weighted median of the last commit', { expected: median, got: h.time });
  } else if (compareTime(h.time, state.lastBlockTime) !== 0) {
    throw invalid('initial block time must equal the genesis time', { expected: state.lastBlockTime, got: h.time });
  }

  const size = encodeBlock(block).length;
  if (size > maxBlockBytes(state)) throw invalid(`block is ${size} bytes, over the ${maxBlockBytes(state)}-byte limit`);
}
