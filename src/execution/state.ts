// The chain state between blocks, and how a block's results move it forward (CometBFT 0.38's
// MakeGenesisState and updateState, restated). Validator updates returned for height H take
// effect at H+2: they change H+1's next validators.
import { ZERO_BLOCK_ID, type BlockID, type ConsensusParams, type Header } from '../codec/index.js';
import type { ResponseFinalizeBlock, ValidatorUpdate as AbciValidatorUpdate } from '../abci/index.js';
import type { State } from '../store/index.js';
import { ValidatorSet, resultsHash, type ValidatorUpdate } from '../types/index.js';
import { validateConsensusParams, type GenesisDoc } from '../types/genesis.js';
import { ExecutionError } from './errors.js';

const EMPTY: Uint8Array = new Uint8Array(0);

export function toValidatorUpdates(updates: readonly AbciValidatorUpdate[]): ValidatorUpdate[] {
  return updates.map((u) => ({ pubKey: u.pubKey, votingPower: u.power }));
}

/** The state before the initial height, from the genesis file (InitChain may still amend it). */
export function stateFromGenesis(genesis: GenesisDoc): State {
  const validators = ValidatorSet.create(genesis.validators.map((v) => ({ pubKey: v.pubKey, votingPower: v.power, address: v.address })));
  return {
    chainId: genesis.chainId,
    initialHeight: genesis.initialHeight,
    lastBlockHeight: 0,
    lastBlockId: ZERO_BLOCK_ID,
    lastBlockTime: genesis.genesisTime,
    nextValidators: validators.copyIncrementProposerPriority(1),
    validators,
    lastValidators: ValidatorSet.fromValidators([]),
    lastHeightValidatorsChanged: genesis.initialHeight,
    consensusParams: genesis.consensusParams,
    lastHeightConsensusParamsChanged: genesis.initialHeight,
    lastResultsHash: EMPTY,
    appHash: genesis.appHash,
    appVersion: genesis.consensusParams.version.app,
  };
}

/** The height the next block has. */
export function nextHeight(state: State): number {
  return state.lastBlockHeight === 0 ? state.initialHeight : state.lastBlockHeight + 1;
}

/** Params after an app's partial update (each section replaced whole, as CometBFT does). */
export function updateConsensusParams(params: ConsensusParams, update: Partial<ConsensusParams> | undefined): ConsensusParams {
  if (!update) return params;
  const next: ConsensusParams = {
    block: update.block ?? params.block,
    evidence: update.evidence ?? params.evidence,
    validator: update.validator ?? params.validator,
    version: update.version ?? params.version,
    abci: update.abci ?? params.abci,
  };
  try {
    validateConsensusParams(next);
  } catch (e) {
    throw new ExecutionError('invalid_app_response', `consensus param update is invalid: ${(e as Error).message}`, {}, { cause: e });
  }
  return next;
}

/**
 * State after executing the block `header` (id `blockId`) with the app's `response`:
 * validators shift (next → current → last), updates apply to the new next set, params update.
 */
export function updateState(state: State, blockId: BlockID, header: Header, response: ResponseFinalizeBlock): State {
  let nextValidators = state.nextValidators;
  let lastHeightValidatorsChanged = state.lastHeightValidatorsChanged;
  if (response.validatorUpdates.length > 0) {
    try {
      nextValidators = nextValidators.updateWithChangeSet(toValidatorUpdates(response.validatorUpdates));
    } catch (e) {
      throw new ExecutionError('invalid_app_response', `validator updates at height ${header.height} are invalid: ${(e as Error).message}`, { height: header.height }, { cause: e });
    }
    lastHeightValidatorsChanged = header.height + 2;
  }
  nextValidators = nextValidators.copyIncrementProposerPriority(1);

  let consensusParams = state.consensusParams;
  let lastHeightConsensusParamsChanged = state.lastHeightConsensusParamsChanged;
  let appVersion = state.appVersion;
  if (response.consensusParamUpdates && Object.keys(response.consensusParamUpdates).length > 0) {
    consensusParams = updateConsensusParams(state.consensusParams, response.consensusParamUpdates);
    appVersion = consensusParams.version.app;
    lastHeightConsensusParamsChanged = header.height + 1;
  }

  return {
    chainId: state.chainId,
    initialHeight: state.initialHeight,
    lastBlockHeight: header.height,
    lastBlockId: blockId,
    lastBlockTime: header.time,
    nextValidators,
    validators: state.nextValidators,
    lastValidators: state.validators,
    lastHeightValidatorsChanged,
    consensusParams,
    lastHeightConsensusParamsChanged,
    lastResultsHash: resultsHash(response.txResults),
    appHash: response.appHash,
    appVersion,
  };
}

