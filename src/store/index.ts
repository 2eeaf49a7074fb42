// Persistent stores (classic-level): blocks, state and its history, the tx and block indexes.
export { StoreError, type StoreErrorCode } from './errors.js';
export { createLevelDb, type LevelDb, type StoreModules } from './db.js';
export { BlockStore, type BlockStoreOptions, type BlockPartsInput } from './block-store.js';
export { StateStore, type State, type StateStoreOptions, type StatePruneResult } from './state-store.js';
export { TxIndex, TX_HASH_KEY, TX_HEIGHT_KEY, type TxIndexOptions } from './tx-index.js';
export { BlockIndex, BLOCK_HEIGHT_KEY, type BlockIndexOptions } from './block-index.js';
export { DEFAULT_PER_PAGE, MAX_PER_PAGE, DEFAULT_MAX_MATCHES, type SearchOptions, type SearchResult } from './search.js';
export type { BlockMeta, BlockStoreState, TxResultRecord } from '../codec/index.js';
// for stores kept beside their subsystem (the evidence pool): the same base class and key helpers
export { LevelStore, put, del, ascii, concatBytes, u64, readU64, prefixEnd, type BatchOp } from './db.js';
