// Protobuf encodings of the records the stores persist (store/, indexers). Where CometBFT has a
// message for the same record, the field numbers are its (tendermint.store.BlockStoreState,
// tendermint.types.BlockMeta / ValidatorSet, tendermint.state.State / ValidatorsInfo /
// ConsensusParamsInfo, tendermint.abci.TxResult), so the values are readable with CometBFT's
// schema. Tally's key layout differs from CometBFT's, so a data directory is not interchangeable.
import type { BlockID, ConsensusParams, ConsensusVersion, ExecTxResult, Header, Timestamp, Validator } from './model.js';
import {
  ZERO_BLOCK_ID,
  ZERO_TIME,
  encodeBlockID,
  encodeConsensusParams,
  encodeConsensusVersion,
  encodeExecTxResult,
  encodeHeader,
  encodeTimestamp,
  encodeValidator,
  readBlockID,
  readConsensusParams,
  readExecTxResult,
  readHeader,
  readTimestamp,
  readValidator,
} from './messages.js';
import { ProtoReader, ProtoWriter } from './proto.js';

const EMPTY: Uint8Array = new Uint8Array(0);
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// ---- block store -----------------------------------------------------------------------------

/** tendermint.store.BlockStoreState: the range of heights a block store holds (0/0 when empty). */
export interface BlockStoreState {
  readonly base: number;
  readonly height: number;
}

export function encodeBlockStoreState(s: BlockStoreState): Uint8Array {
  return new ProtoWriter().int64(1, s.base).int64(2, s.height).finish();
}

export function readBlockStoreState(r: ProtoReader): BlockStoreState {
  let base = 0;
  let height = 0;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) base = r.int64Number(0, MAX_SAFE);
    else if (f === 2) height = r.int64Number(0, MAX_SAFE);
    else r.skip();
  }
  if (base > height) r.fail(`base ${base} above height ${height}`);
  return { base, height };
}

/** tendermint.types.BlockMeta: what `blockchain` and `header` serve without loading the block. */
export interface BlockMeta {
  readonly blockId: BlockID;
  /** Size of the protobuf-encoded block in bytes (the sum of its parts). */
  readonly blockSize: number;
  readonly header: Header;
  readonly numTxs: number;
}

export function encodeBlockMeta(m: BlockMeta): Uint8Array {
  return new ProtoWriter()
    .message(1, encodeBlockID(m.blockId))
    .int64(2, m.blockSize)
    .message(3, encodeHeader(m.header))
    .int64(4, m.numTxs)
    .finish();
}

export function readBlockMeta(r: ProtoReader): BlockMeta {
  let blockId = ZERO_BLOCK_ID;
  let blockSize = 0;
  let header: Header | undefined;
  let numTxs = 0;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) blockId = r.message('block_id', readBlockID);
    else if (f === 2) blockSize = r.int64Number(0, MAX_SAFE);
    else if (f === 3) header = r.message('header', readHeader);
    else if (f === 4) numTxs = r.int64Number(0, MAX_SAFE);
    else r.skip();
  }
  if (!header) return r.fail('block meta has no header');
  return { blockId, blockSize, header, numTxs };
}

// ---- validator sets and state ------------------------------------------------------------------

/** tendermint.types.ValidatorSet as plain data (types/ValidatorSet is built from it). */
export interface ValidatorSetRecord {
  readonly validators: readonly Validator[];
  /** Absent for an empty set. */
  readonly proposer: Validator | null;
  readonly totalVotingPower: bigint;
}

export const EMPTY_VALIDATOR_SET_RECORD: ValidatorSetRecord = Object.freeze({ validators: [], proposer: null, totalVotingPower: 0n });

/** A record bound: far above CometBFT's practical validator counts, far below memory trouble. */
const MAX_VALIDATORS = 100_000;

export function encodeValidatorSetRecord(s: ValidatorSetRecord): Uint8Array {
  const w = new ProtoWriter();
  for (const v of s.validators) w.repeatedElement(1, encodeValidator(v));
  return w
    .message(2, s.proposer ? encodeValidator(s.proposer) : undefined)
    .int64(3, s.totalVotingPower)
    .finish();
}

export function readValidatorSetRecord(r: ProtoReader): ValidatorSetRecord {
  const validators: Validator[] = [];
  let proposer: Validator | null = null;
  let totalVotingPower = 0n;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) {
      if (validators.length >= MAX_VALIDATORS) r.fail('too many validators');
      validators.push(r.message('validators', readValidator));
    } else if (f === 2) proposer = r.message('proposer', readValidator);
    else if (f === 3) totalVotingPower = r.int64();
    else r.skip();
  }
  return { validators, proposer, totalVotingPower };
}

/**
 * ValidatorsInfo / ConsensusParamsInfo reduced to their pointer: the height at which the value
 * stored for some height last changed (field 2 in both CometBFT messages).
 */
export function encodeLastHeightChanged(lastHeightChanged: number): Uint8Array {
  return new ProtoWriter().int64(2, lastHeightChanged).finish();
}

export function readLastHeightChanged(r: ProtoReader): number {
  let h = 0;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 2) h = r.int64Number(0, MAX_SAFE);
    else r.skip();
  }
  return h;
}

/** tendermint.state.State as plain data; store/ turns the sets into ValidatorSet objects. */
export interface StateRecord {
  readonly version: ConsensusVersion;
  readonly software: string;
  readonly chainId: string;
  readonly initialHeight: number;
  readonly lastBlockHeight: number;
  readonly lastBlockId: BlockID;
  readonly lastBlockTime: Timestamp;
  readonly nextValidators: ValidatorSetRecord;
  readonly validators: ValidatorSetRecord;
  /** Empty at the initial height. */
  readonly lastValidators: ValidatorSetRecord;
  readonly lastHeightValidatorsChanged: number;
  readonly consensusParams: ConsensusParams;
  readonly lastHeightConsensusParamsChanged: number;
  readonly lastResultsHash: Uint8Array;
  readonly appHash: Uint8Array;
}

const setOrAbsent = (s: ValidatorSetRecord): Uint8Array | undefined => (s.validators.length === 0 ? undefined : encodeValidatorSetRecord(s));

export function encodeStateRecord(s: StateRecord): Uint8Array {
  const version = new ProtoWriter().message(1, encodeConsensusVersion(s.version)).string(2, s.software).finish();
  return new ProtoWriter()
    .message(1, version)
    .string(2, s.chainId)
    .int64(3, s.lastBlockHeight)
    .message(4, encodeBlockID(s.lastBlockId))
    .message(5, encodeTimestamp(s.lastBlockTime))
    .message(6, setOrAbsent(s.nextValidators))
    .message(7, setOrAbsent(s.validators))
    .message(8, setOrAbsent(s.lastValidators))
    .int64(9, s.lastHeightValidatorsChanged)
    .message(10, encodeConsensusParams(s.consensusParams))
    .int64(11, s.lastHeightConsensusParamsChanged)
    .bytes(12, s.lastResultsHash)
    .bytes(13, s.appHash)
    .int64(14, s.initialHeight)
    .finish();
}

function readStateVersion(r: ProtoReader): { version: ConsensusVersion; software: string } {
  let version: ConsensusVersion = { block: 0n, app: 0n };
  let software = '';
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1)
      version = r.message('consensus', (c) => {
        let block = 0n;
        let app = 0n;
        for (let g = c.next(); g !== 0; g = c.next()) {
          if (g === 1) block = c.uint64();
          else if (g === 2) app = c.uint64();
          else c.skip();
        }
        return { block, app };
      });
    else if (f === 2) software = r.string(256);
    else r.skip();
  }
  return { version, software };
}

export function readStateRecord(r: ProtoReader): StateRecord {
  let v: { version: ConsensusVersion; software: string } = { version: { block: 0n, app: 0n }, software: '' };
  let chainId = '';
  let initialHeight = 0;
  let lastBlockHeight = 0;
  let lastBlockId = ZERO_BLOCK_ID;
  let lastBlockTime = ZERO_TIME;
  let nextValidators = EMPTY_VALIDATOR_SET_RECORD;
  let validators = EMPTY_VALIDATOR_SET_RECORD;
  let lastValidators = EMPTY_VALIDATOR_SET_RECORD;
  let lastHeightValidatorsChanged = 0;
  let consensusParams: ConsensusParams | undefined;
  let lastHeightConsensusParamsChanged = 0;
  let lastResultsHash = EMPTY;
  let appHash = EMPTY;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) v = r.message('version', readStateVersion);
    else if (f === 2) chainId = r.string(256);
    else if (f === 3) lastBlockHeight = r.int64Number(0, MAX_SAFE);
    else if (f === 4) lastBlockId = r.message('last_block_id', readBlockID);
    else if (f === 5) lastBlockTime = r.message('last_block_time', readTimestamp);
    else if (f === 6) nextValidators = r.message('next_validators', readValidatorSetRecord);
    else if (f === 7) validators = r.message('validators', readValidatorSetRecord);
    else if (f === 8) lastValidators = r.message('last_validators', readValidatorSetRecord);
    else if (f === 9) lastHeightValidatorsChanged = r.int64Number(0, MAX_SAFE);
    else if (f === 10) consensusParams = r.message('consensus_params', readConsensusParams);
    else if (f === 11) lastHeightConsensusParamsChanged = r.int64Number(0, MAX_SAFE);
    else if (f === 12) lastResultsHash = r.bytes(64);
    else if (f === 13) appHash = r.bytes(1024);
    else if (f === 14) initialHeight = r.int64Number(0, MAX_SAFE);
    else r.skip();
  }
  if (!consensusParams) return r.fail('state has no consensus params');
  return {
    version: v.version,
    software: v.software,
    chainId,
    initialHeight,
    lastBlockHeight,
    lastBlockId,
    lastBlockTime,
    nextValidators,
    validators,
    lastValidators,
    lastHeightValidatorsChanged,
    consensusParams,
    lastHeightConsensusParamsChanged,
    lastResultsHash,
    appHash,
  };
}

// ---- tx index ----------------------------------------------------------------------------------

/** tendermint.abci.TxResult: one indexed transaction. */
export interface TxResultRecord {
  readonly height: number;
  readonly index: number;
  readonly tx: Uint8Array;
  readonly result: ExecTxResult;
}

export function encodeTxResultRecord(t: TxResultRecord): Uint8Array {
  return new ProtoWriter().int64(1, t.height).uint32(2, t.index).bytes(3, t.tx).message(4, encodeExecTxResult(t.result)).finish();
}

/**
 * A block's tx records in one value: field 1 repeated, one TxResult per position in the block,
 * an empty message where the position has none. Written in place, one allocation for the block.
 */
export function encodeTxResultRecords(records: readonly (TxResultRecord | undefined)[]): Uint8Array {
  const w = new ProtoWriter();
  for (const t of records) {
    const start = w.beginMessage(1);
    if (t) w.int64(1, t.height).uint32(2, t.index).bytes(3, t.tx).message(4, encodeExecTxResult(t.result));
    w.endMessage(start);
  }
  return w.finish();
}

/** The record at position `index` of encodeTxResultRecords' bytes; undefined beyond them or for an empty slot. */
export function readTxResultRecordAt(r: ProtoReader, index: number): TxResultRecord | undefined {
  let at = 0;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f !== 1) {
      r.skip();
      continue;
    }
    if (at++ !== index) {
      r.skip();
      continue;
    }
    return r.message('record', (m) => (m.done ? undefined : readTxResultRecord(m)));
  }
  return undefined;
}

const EMPTY_RESULT: ExecTxResult = Object.freeze({ code: 0, data: EMPTY, log: '', info: '', gasWanted: 0n, gasUsed: 0n, events: [], codespace: '' });

export function readTxResultRecord(r: ProtoReader): TxResultRecord {
  let height = 0;
  let index = 0;
  let tx = EMPTY;
  let result = EMPTY_RESULT;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1) height = r.int64Number(0, MAX_SAFE);
    else if (f === 2) index = r.uint32();
    else if (f === 3) tx = r.bytes();
    else if (f === 4) result = r.message('result', readExecTxResult);
    else r.skip();
  }
  return { height, index, tx, result };
}
