// The state store: the replicated state machine's consensus-visible state after the last
// committed block (CometBFT's sm.State), plus what must be answerable for past heights —
// validator sets (RPC `validators?height=`, light clients, evidence), consensus params, and the
// FinalizeBlock response of each height (RPC `block_results`; opaque bytes encoded by
// execution/, so this store does not depend on the ABCI types).
//
// Key layout (one classic-level database, heights 8-byte big-endian):
//
//   "stateKey"     → StateRecord (the current State)
//   "VP:" height   → last-height-changed pointer for the validator set of `height`
//   "VS:" height   → ValidatorSetRecord: the full set, with proposer priorities, at `height`
//   "PP:" height   → last-height-changed pointer for the consensus params of `height`
//   "PS:" height   → ConsensusParams in force at `height`
//   "FR:" height   → FinalizeBlock response bytes for block `height`
//
// Validator sets. Priorities change at every height, so storing only the heights where the set
// changed is not enough. CometBFT stores the full set where it changed and at checkpoints, and
// rebuilds other heights with one IncrementProposerPriority(h - stored) call — which rescales
// and centres once, where the live chain did so at every height; that agrees only while every
// per-height rescale and re-centre is a no-op (so it is in practice, but by a property of the
// arithmetic, not by construction). Tally keeps CometBFT's storage scheme (full set at change
// heights, every `validatorCheckpointInterval` heights, and wherever bootstrap or pruning needs
// an anchor; a pointer everywhere else) but rebuilds by incrementing ONE height at a time from
// the nearest full set at or below the height, exactly as the chain advanced: between a change
// and the next, the set of h+1 is the set of h incremented once. A full set is stored at a
// height only when it is that height's exact set, so the result is exact.
//
// Consensus params use the same pointer scheme without replay (they do not evolve between
// changes).
import {
  encodeConsensusParams,
  encodeLastHeightChanged,
  encodeStateRecord,
  encodeValidatorSetRecord,
  readConsensusParams,
  readLastHeightChanged,
  readStateRecord,
  readValidatorSetRecord,
  type BlockID,
  type ConsensusParams,
  type StateRecord,
  type Timestamp,
  type ValidatorSetRecord,
} from '../codec/index.js';
import { BLOCK_PROTOCOL } from '../types/header.js';
import { ValidatorSet, ValidatorSetError } from '../types/validator-set.js';
import { ascii, concatBytes, del, LevelStore, put, readU64, u64, type BatchOp, type StoreModules } from './db.js';
import { StoreError } from './errors.js';

/** CometBFT's sm.State: everything consensus needs to build and verify the next block. */
export interface State {
  readonly chainId: string;
  readonly initialHeight: number;
  /** 0 before the first block. */
  readonly lastBlockHeight: number;
  readonly lastBlockId: BlockID;
  readonly lastBlockTime: Timestamp;
  /** Validators of lastBlockHeight + 2. */
  readonly nextValidators: ValidatorSet;
  /** Validators of lastBlockHeight + 1 (the next block). */
  readonly validators: ValidatorSet;
  /** Validators of lastBlockHeight (who signed its commit); empty at the initial height. */
  readonly lastValidators: ValidatorSet;
  readonly lastHeightValidatorsChanged: number;
  readonly consensusParams: ConsensusParams;
  readonly lastHeightConsensusParamsChanged: number;
  /** Merkle root of the last block's deterministic tx results. */
  readonly lastResultsHash: Uint8Array;
  /** The app's hash after the last block (goes into the next header). */
  readonly appHash: Uint8Array;
  /** uint64: may exceed 2^53. */
  readonly appVersion: bigint;
}

// ---- keys --------------------------------------------------------------------------------------

const STATE_KEY = ascii('stateKey');
const VAL_POINTER = ascii('VP:');
const VAL_SET = ascii('VS:');
const PARAMS_POINTER = ascii('PP:');
const PARAMS = ascii('PS:');
const RESPONSE = ascii('FR:');

const at = (prefix: Uint8Array, h: number): Uint8Array => concatBytes(prefix, u64(h));

// ---- options -------------------------------------------------------------------------------------

export interface StateStoreOptions {
  /** Database directory (e.g. <home>/data/state.db); not needed when a database is passed in. */
  readonly path?: string;
  /** fsync every write (default true). */
  readonly sync?: boolean;
  /** Store the full validator set at least every this many heights (default 1000): bounds the replay when loading. */
  readonly validatorCheckpointInterval?: number;
  /** Upper bound on the deletes of one pruning batch (default 1000). */
  readonly pruneBatchSize?: number;
}

export interface StatePruneResult {
  readonly validatorSets: number;
  readonly consensusParams: number;
  readonly finalizeBlockResponses: number;
}

// ---- conversions ---------------------------------------------------------------------------------

function setToRecord(s: ValidatorSet): ValidatorSetRecord {
  return { validators: s.validators, proposer: s.isEmpty() ? null : s.getProposer(), totalVotingPower: s.totalVotingPower() };
}

function setFromRecord(r: ValidatorSetRecord, context: Record<string, unknown>): ValidatorSet {
  try {
    return ValidatorSet.fromValidators(r.validators, r.proposer?.address);
  } catch (e) {
    if (e instanceof ValidatorSetError) throw new StoreError('corrupt', `stored validator set is invalid: ${e.message}`, { ...context, ...e.context });
    throw e;
  }
}

function toRecord(s: State): StateRecord {
  return {
    version: { block: BLOCK_PROTOCOL, app: s.appVersion },
    software: '',
    chainId: s.chainId,
    initialHeight: s.initialHeight,
    lastBlockHeight: s.lastBlockHeight,
    lastBlockId: s.lastBlockId,
    lastBlockTime: s.lastBlockTime,
    nextValidators: setToRecord(s.nextValidators),
    validators: setToRecord(s.validators),
    lastValidators: setToRecord(s.lastValidators),
    lastHeightValidatorsChanged: s.lastHeightValidatorsChanged,
    consensusParams: s.consensusParams,
    lastHeightConsensusParamsChanged: s.lastHeightConsensusParamsChanged,
    lastResultsHash: s.lastResultsHash,
    appHash: s.appHash,
  };
}

function fromRecord(r: StateRecord): State {
  return {
    chainId: r.chainId,
    initialHeight: r.initialHeight,
    lastBlockHeight: r.lastBlockHeight,
    lastBlockId: r.lastBlockId,
    lastBlockTime: r.lastBlockTime,
    nextValidators: setFromRecord(r.nextValidators, { field: 'next_validators' }),
    validators: setFromRecord(r.validators, { field: 'validators' }),
    lastValidators: setFromRecord(r.lastValidators, { field: 'last_validators' }),
    lastHeightValidatorsChanged: r.lastHeightValidatorsChanged,
    consensusParams: r.consensusParams,
    lastHeightConsensusParamsChanged: r.lastHeightConsensusParamsChanged,
    lastResultsHash: r.lastResultsHash,
    appHash: r.appHash,
    appVersion: r.version.app,
  };
}

/** The height whose validators `state.validators` are (the block being decided next). */
function nextHeightOf(s: State): number {
  return s.lastBlockHeight === 0 ? s.initialHeight : s.lastBlockHeight + 1;
}

const DEFAULT_CHECKPOINT = 1000;
const DEFAULT_PRUNE_BATCH = 1000;

export class StateStore extends LevelStore {
  private readonly sync: boolean;
  private readonly checkpoint: number;
  private readonly pruneBatchSize: number;

  constructor(opts: StateStoreOptions, modules: StoreModules = {}) {
    super('state store', opts.path, modules.db);
    this.sync = opts.sync ?? true;
    const interval = opts.validatorCheckpointInterval ?? DEFAULT_CHECKPOINT;
    if (!Number.isSafeInteger(interval) || interval < 1)
      throw new StoreError('invalid_argument', `validatorCheckpointInterval must be a positive integer, got ${interval}`);
    this.checkpoint = interval;
    this.pruneBatchSize = Math.max(16, opts.pruneBatchSize ?? DEFAULT_PRUNE_BATCH);
  }

  // ---- current state -----------------------------------------------------------------------------

  /** The saved state; undefined for a node that has never saved one (start from genesis). */
  async load(): Promise<State | undefined> {
    const raw = await this.getRaw(STATE_KEY);
    return raw && fromRecord(this.decode('State', raw, readStateRecord));
  }

  /**
   * Save the state after a block (or the genesis state) in one batch, with the validator sets
   * and params it introduces: the validators of the next height at genesis, the next
   * validators (of lastBlockHeight + 2), and the params of the next height.
   */
  async save(state: State): Promise<void> {
    return this.exclusive(async () => {
      const next = nextHeightOf(state);
      const ops: BatchOp[] = [];
      if (state.lastBlockHeight === 0) ops.push(...this.validatorOps(next, next, state.validators));
      ops.push(...this.validatorOps(next + 1, state.lastHeightValidatorsChanged, state.nextValidators));
      ops.push(...this.paramsOps(next, state.lastHeightConsensusParamsChanged, state.consensusParams));
      ops.push(put(STATE_KEY, encodeStateRecord(toRecord(state))));
      await this.writeBatch(ops, this.sync);
    });
  }

  /**
   * Store a light-client-verified state with no history beneath it (state sync): the state and
   * full validator sets of lastBlockHeight (if any), +1 and +2, and the params of +1, as anchors
   * for every later load.
   */
  async bootstrap(state: State): Promise<void> {
    return this.exclusive(async () => {
      const h = nextHeightOf(state);
      const ops: BatchOp[] = [];
      if (h > 1 && !state.lastValidators.isEmpty()) ops.push(...this.validatorOps(h - 1, h - 1, state.lastValidators));
      ops.push(...this.validatorOps(h, h, state.validators));
      ops.push(...this.validatorOps(h + 1, h + 1, state.nextValidators));
      ops.push(...this.paramsOps(h, h, state.consensusParams));
      ops.push(put(STATE_KEY, encodeStateRecord(toRecord(state))));
      await this.writeBatch(ops, this.sync);
    });
  }

  private validatorOps(height: number, lastChanged: number, set: ValidatorSet): BatchOp[] {
    if (lastChanged > height || lastChanged < 0)
      throw new StoreError('invalid_argument', `validators of height ${height} cannot have changed at ${lastChanged}`, { height, lastChanged });
    if (set.isEmpty()) throw new StoreError('invalid_argument', `validator set of height ${height} is empty`, { height });
    const full = height === lastChanged || height % this.checkpoint === 0;
    return [
      put(at(VAL_POINTER, height), encodeLastHeightChanged(lastChanged)),
      // Overwriting a height (replay after a crash) must not leave a stale full set behind.
      full ? put(at(VAL_SET, height), encodeValidatorSetRecord(setToRecord(set))) : del(at(VAL_SET, height)),
    ];
  }

  private paramsOps(height: number, lastChanged: number, params: ConsensusParams): BatchOp[] {
    if (lastChanged > height || lastChanged < 0)
      throw new StoreError('invalid_argument', `consensus params of height ${height} cannot have changed at ${lastChanged}`, { height, lastChanged });
    const full = height === lastChanged;
    return [
      put(at(PARAMS_POINTER, height), encodeLastHeightChanged(lastChanged)),
      full ? put(at(PARAMS, height), encodeConsensusParams(params)) : del(at(PARAMS, height)),
    ];
  }

  // ---- history -----------------------------------------------------------------------------------

  /** The nearest height in [from, to] that has a record under `prefix`. */
  private async nearestAtOrBelow(prefix: Uint8Array, from: number, to: number): Promise<number | undefined> {
    const [key] = await this.keysIn(at(prefix, from), at(prefix, to + 1), { reverse: true, limit: 1 });
    return key && readU64(key, prefix.length);
  }

  private async pointer(prefix: Uint8Array, height: number, what: string): Promise<number> {
    if (!Number.isSafeInteger(height) || height < 1) throw new StoreError('invalid_argument', `height must be a positive integer, got ${height}`, { height });
    const raw = await this.getRaw(at(prefix, height));
    if (!raw) throw new StoreError('not_found', `no ${what} stored for height ${height}`, { height });
    const lastChanged = this.decode(`${what} pointer`, raw, readLastHeightChanged, { height });
    if (lastChanged > height) throw new StoreError('corrupt', `${what} of height ${height} point to a later height ${lastChanged}`, { height, lastChanged });
    return lastChanged;
  }

  /** The exact validator set of `height` (the set that signs block `height`), with its proposer priorities. */
  async loadValidators(height: number): Promise<ValidatorSet> {
    const lastChanged = await this.pointer(VAL_POINTER, height, 'validator set');
    const stored = await this.nearestAtOrBelow(VAL_SET, lastChanged, height);
    if (stored === undefined)
      throw new StoreError('corrupt', `no full validator set between heights ${lastChanged} and ${height}`, { height, lastChanged });
    const raw = await this.getRaw(at(VAL_SET, stored));
    let set = setFromRecord(this.decode('ValidatorSet', raw!, readValidatorSetRecord, { height: stored }), { height: stored });
    for (let h = stored; h < height; h++) set = set.copyIncrementProposerPriority(1);
    return set;
  }

  async loadConsensusParams(height: number): Promise<ConsensusParams> {
    const lastChanged = await this.pointer(PARAMS_POINTER, height, 'consensus params');
    const stored = await this.nearestAtOrBelow(PARAMS, lastChanged, height);
    if (stored === undefined) throw new StoreError('corrupt', `no consensus params between heights ${lastChanged} and ${height}`, { height, lastChanged });
    const raw = await this.getRaw(at(PARAMS, stored));
    return this.decode('ConsensusParams', raw!, readConsensusParams, { height: stored });
  }

  async saveFinalizeBlockResponse(height: number, response: Uint8Array): Promise<void> {
    return this.exclusive(() => this.writeBatch([put(at(RESPONSE, height), response)], this.sync));
  }

  async loadFinalizeBlockResponse(height: number): Promise<Uint8Array | undefined> {
    return this.getRaw(at(RESPONSE, height));
  }

  /** Deletes the FinalizeBlock response of `height` (storage.discard_abci_responses); returns when durable. */
  async deleteFinalizeBlockResponse(height: number): Promise<void> {
    if (height < 1) return;
    return this.exclusive(() => this.writeBatch([del(at(RESPONSE, height))], this.sync));
  }

  /** Deletes every FinalizeBlock response below `height` (discard_abci_responses turned on); returns the count. */
  async deleteFinalizeBlockResponsesBelow(height: number): Promise<number> {
    return this.deleteBelow(RESPONSE, height);
  }

  // ---- pruning -----------------------------------------------------------------------------------

  /**
   * Delete history below `retainHeight`: FinalizeBlock responses below it, validator sets and
   * params below retainHeight - 1 — the validators of retainHeight - 1 signed the last commit
   * of the earliest kept block, so they stay. A full set is written at that boundary first (if
   * only a pointer was there) so every kept height still loads.
   */
  async prune(retainHeight: number): Promise<StatePruneResult> {
    if (!Number.isSafeInteger(retainHeight) || retainHeight < 1)
      throw new StoreError('invalid_argument', `retain height must be a positive integer, got ${retainHeight}`, { retainHeight });
    const state = await this.load();
    if (state && retainHeight > state.lastBlockHeight)
      throw new StoreError('invalid_argument', `cannot prune beyond the latest height ${state.lastBlockHeight}`, { retainHeight, height: state.lastBlockHeight });
    const keep = Math.max(1, retainHeight - 1);

    await this.exclusive(async () => {
      const ops: BatchOp[] = [];
      if ((await this.getRaw(at(VAL_POINTER, keep))) && !(await this.getRaw(at(VAL_SET, keep))))
        ops.push(put(at(VAL_SET, keep), encodeValidatorSetRecord(setToRecord(await this.loadValidators(keep)))));
      if ((await this.getRaw(at(PARAMS_POINTER, keep))) && !(await this.getRaw(at(PARAMS, keep))))
        ops.push(put(at(PARAMS, keep), encodeConsensusParams(await this.loadConsensusParams(keep))));
      await this.writeBatch(ops, this.sync);
    });

    const validatorSets = await this.deleteBelow(VAL_POINTER, keep);
    await this.deleteBelow(VAL_SET, keep);
    const consensusParams = await this.deleteBelow(PARAMS_POINTER, keep);
    await this.deleteBelow(PARAMS, keep);
    const finalizeBlockResponses = await this.deleteBelow(RESPONSE, retainHeight);
    return { validatorSets, consensusParams, finalizeBlockResponses };
  }

  /** Delete every `prefix` record below `height`, a bounded batch at a time; returns the count. */
  private async deleteBelow(prefix: Uint8Array, height: number): Promise<number> {
    let count = 0;
    for (;;) {
      const n = await this.exclusive(async () => {
        const keys = await this.keysIn(at(prefix, 0), at(prefix, height), { limit: this.pruneBatchSize });
        await this.writeBatch(keys.map(del), this.sync);
        return keys.length;
      });
      count += n;
      if (n < this.pruneBatchSize) return count;
    }
  }
}
