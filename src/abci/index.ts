export * from './types.js';
export {
  BaseApplication,
  CODE_OK,
  execTxResult,
  checkTxResponse,
  infoResponse,
  queryResponse,
  initChainResponse,
  finalizeBlockResponse,
  applySnapshotChunkResponse,
  takeTxsUpTo,
  type Application,
  type AbciMethod,
} from './application.js';
export { AbciError, toAbciError } from './errors.js';
export { SerializedApplication, serialize, DEFAULT_MAX_PENDING, type SerializeOptions } from './serialized.js';
export { encodeResponseFinalizeBlock, decodeResponseFinalizeBlock } from './codec.js';
