export { RpcServer, DEFAULT_RPC_SERVER_OPTIONS, type RpcMethod, type RpcServerOptions, type CallContext, type WsSession, type RpcLogger } from './server.js';
export {
  Params,
  RpcError,
  invalidParams,
  PARSE_ERROR,
  INVALID_REQUEST,
  METHOD_NOT_FOUND,
  INVALID_PARAMS,
  INTERNAL_ERROR,
  SERVER_ERROR,
  type RpcId,
} from './jsonrpc.js';
