export {
  KVStoreApp,
  KVSTORE_VERSION,
  KVSTORE_APP_VERSION,
  DEFAULT_SNAPSHOT_KEEP_RECENT,
  type KVStoreOptions,
  type AppLogger,
} from './app.js';
export { KVStoreCode, MAX_VOTING_POWER, parseTx, validatorTx, type KVTx, type ParsedTx } from './tx.js';
export { LtHash16, EMPTY_STATE_HASH, LTHASH_BYTES, LTHASH_LANES, laneHash } from './lthash.js';
export {
  SNAPSHOT_FORMAT,
  DEFAULT_CHUNK_SIZE,
  MAX_ENTRY_PART_BYTES,
  MAX_SNAPSHOT_CHUNKS,
  SnapshotDecoder,
  SnapshotFormatError,
  encodeSnapshot,
  type Entry,
} from './snapshot.js';
export { KVStoreError, stateElement, type KVDatabase } from './state.js';
