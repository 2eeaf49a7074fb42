// The start-up handshake (CometBFT's Handshaker, restated): ask the app how far it got, then
// bring it level with the block store — InitChain on a fresh app, replay of stored blocks into
// an app that is behind by any number of blocks, and the one block the store may hold beyond
// the state after a crash. Ends with the app's hash equal to the state's, or a clear error.
import { toHex, type Block } from '../codec/index.js';
import { bytesEqual } from '../crypto/index.js';
import { decodeResponseFinalizeBlock, type Application } from '../abci/index.js';
import type { BlockStore, State, StateStore } from '../store/index.js';
import { ValidatorSet, headerHash } from '../types/index.js';
import type { GenesisDoc } from '../types/genesis.js';
import { commitInfo, misbehavior } from './abci-info.js';
import { ExecutionError } from './errors.js';
import type { BlockExecutor, ExecutorLogger } from './executor.js';
import { updateConsensusParams, toValidatorUpdates } from './state.js';

export interface HandshakeModules {
  readonly genesis: GenesisDoc;
  readonly app: Application;
  readonly blockStore: BlockStore;
  readonly stateStore: StateStore;
  readonly executor: BlockExecutor;
  readonly logger: ExecutorLogger;
  /** Software version reported to the app in Info. */
  readonly version: string;
}

export interface HandshakeResult {
  readonly state: State;
  /** Blocks executed to catch the app up. */
  readonly replayed: number;
}

function checkAppHash(appHash: Uint8Array, state: State, where: string): void {
  if (!bytesEqual(appHash, state.appHash))
    throw new ExecutionError(
      'app_hash_mismatch',
      `app hash mismatch ${where}: the application reports ${toHex(appHash)}, the node's state at height ${state.lastBlockHeight} has ${toHex(state.appHash)}`,
      { height: state.lastBlockHeight, app: toHex(appHash), state: toHex(state.appHash) },
    );
}

export async function handshake(initial: State, m: HandshakeModules): Promise<HandshakeResult> {
  let state = initial;
  const info = await m.app.info({ version: m.version, blockVersion: 11n, p2pVersion: 8n, abciVersion: '2.0.0' });
  const appHeight = info.lastBlockHeight;
  let appHash = info.lastBlockAppHash;
  const storeBase = m.blockStore.base();
  const storeHeight = m.blockStore.height();
  const stateHeight = state.lastBlockHeight;
  m.logger.info({ appHeight, storeHeight, stateHeight, appHash: toHex(appHash) }, 'handshake: application info');

  if (appHeight === 0) {
    const res = await m.app.initChain({
      time: m.genesis.genesisTime,
      chainId: m.genesis.chainId,
      consensusParams: m.genesis.consensusParams,
      validators: m.genesis.validators.map((v) => ({ pubKey: v.pubKey, power: v.power })),
      appStateBytes: new TextEncoder().encode(m.genesis.appState ?? ''),
      initialHeight: m.genesis.initialHeight,
    });
    appHash = res.appHash;
    if (stateHeight === 0) {
      // Only a fresh chain takes InitChain's answers into its state.
      if (res.appHash.length > 0) state = { ...state, appHash: res.appHash };
      if (res.validators.length > 0) {
        const vals = ValidatorSet.create(toValidatorUpdates(res.validators));
        state = { ...state, validators: vals, nextValidators: vals.copyIncrementProposerPriority(1) };
      }
      if (res.consensusParams) {
        const consensusParams = updateConsensusParams(state.consensusParams, res.consensusParams);
        state = { ...state, consensusParams, appVersion: consensusParams.version.app };
      }
      await m.stateStore.save(state);
    }
  }

  const fail = (message: string): ExecutionError =>
    new ExecutionError('handshake', message, { appHeight, storeHeight, storeBase, stateHeight });
  // Before anything else: an app ahead of the store cannot be caught up by replaying.
  if (storeHeight < appHeight) throw fail(`the application is at height ${appHeight}, ahead of the block store (${storeHeight})`);
  if (storeHeight === 0) {
    checkAppHash(appHash, state, 'on a chain with no blocks');
    return { state, replayed: 0 };
  }
  if (appHeight === 0 && state.initialHeight < storeBase) throw fail(`the application has no state, but the block store starts at ${storeBase}: restore the app from a snapshot`);
  if (appHeight > 0 && appHeight < storeBase - 1) throw fail(`the application is at height ${appHeight}, below the block store's base ${storeBase}`);
  if (storeHeight < stateHeight) throw fail(`the state is at height ${stateHeight}, ahead of the block store (${storeHeight})`);
  if (storeHeight > stateHeight + 1) throw fail(`the block store is at height ${storeHeight}, more than one block ahead of the state (${stateHeight})`);

  let replayed = 0;
  /** FinalizeBlock + Commit for a block whose state is already known (the app just catches up). */
  const execCommit = async (height: number): Promise<void> => {
    const block = await loadBlock(m.blockStore, height);
    // Block h carries the app hash after h-1: the app must be exactly there before executing it.
    if (!bytesEqual(appHash, block.header.appHash))
      throw new ExecutionError('app_hash_mismatch', `app hash mismatch replaying height ${height}: the application has ${toHex(appHash)}, block ${height} carries ${toHex(block.header.appHash)}`, {
        height,
      });
    const lastValidators = height === state.initialHeight ? ValidatorSet.fromValidators([]) : await m.stateStore.loadValidators(height - 1);
    const resp = await m.app.finalizeBlock({
      txs: block.data.txs,
      decidedLastCommit: commitInfo(block.lastCommit, lastValidators),
      misbehavior: misbehavior(block.evidence),
      hash: headerHash(block.header),
      height,
      time: block.header.time,
      nextValidatorsHash: block.header.nextValidatorsHash,
      proposerAddress: block.header.proposerAddress,
    });
    await m.app.commit();
    appHash = resp.appHash;
    replayed++;
    m.logger.info({ height, appHash: toHex(appHash) }, 'handshake: replayed block into the application');
  };
  const first = appHeight === 0 ? state.initialHeight : appHeight + 1;

  if (storeHeight === stateHeight) {
    for (let h = first; h <= storeHeight; h++) await execCommit(h);
    checkAppHash(appHash, state, 'after replay');
    return { state, replayed };
  }

  // The store holds one block the state has not absorbed.
  for (let h = first; h <= stateHeight; h++) await execCommit(h);
  const block = await loadBlock(m.blockStore, storeHeight);
  const meta = await m.blockStore.loadBlockMeta(storeHeight);
  if (!meta) throw fail(`block meta for height ${storeHeight} is missing`);
  if (appHeight === storeHeight) {
    const stored = await m.stateStore.loadFinalizeBlockResponse(storeHeight);
    if (!stored) throw fail(`the application committed height ${storeHeight} but its FinalizeBlock response was not stored`);
    const response = decodeResponseFinalizeBlock(stored);
    state = await m.executor.applyCommittedResponse(state, meta.blockId, block, response);
    m.logger.info({ height: storeHeight }, 'handshake: rebuilt the state of the last block from its stored results');
  } else {
    state = (await m.executor.applyBlock(state, meta.blockId, block)).state;
    replayed++;
    m.logger.info({ height: storeHeight }, 'handshake: applied the last stored block');
  }
  return { state, replayed };
}

async function loadBlock(store: BlockStore, height: number): Promise<Block> {
  const block = await store.loadBlock(height);
  if (!block) throw new ExecutionError('store_inconsistent', `block ${height} is missing from the block store`, { height });
  return block;
}
