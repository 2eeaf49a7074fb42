// What the RPC methods need from the node, and the argument rules CometBFT's handlers share:
// heights (latest by default, 1..latest, not below the pruned base), pages (30 per page by
// default, at most 100), and how store/query failures become JSON-RPC errors.
import type { Application, ResponseCheckTx } from '../abci/index.js';
import type { Evidence } from '../codec/index.js';
import type { Config } from '../config/index.js';
import type { NodeEvents } from '../events/index.js';
import { QuerySyntaxError } from '../query/index.js';
import { StoreError, type BlockIndex, type BlockStore, type State, type StateStore, type TxIndex } from '../store/index.js';
import type { GenesisDoc } from '../types/genesis.js';
import { INTERNAL_ERROR, RpcError, invalidParams, type Params } from './jsonrpc.js';
import type { TxWaiters } from './tx-waiters.js';

/** What the RPC needs of the mempool. `checkTx` throws an Error for rejections before the app (full, duplicate, too large). */
export interface RpcMempool {
  checkTx(tx: Uint8Array): Promise<ResponseCheckTx>;
  size(): number;
  sizeBytes(): number;
  /** Up to `limit` pooled txs, oldest first. */
  txs(limit: number): Uint8Array[];
  /** unsafe_flush_mempool. */
  flush(): void;
}

/** What the RPC needs of consensus. */
export interface RpcConsensus {
  readonly height: number;
  readonly round: number;
  readonly step: string;
  /** The state after the last committed block (validators of the height being decided). */
  readonly chainState: State;
  /** Block sync is running (status' catching_up); absent means false. */
  readonly catchingUp?: boolean;
}

/** A connected peer as net_info shows it. */
export interface RpcPeer {
  readonly id: string;
  readonly moniker: string;
  readonly remoteIp: string;
  readonly isOutbound: boolean;
  readonly listenAddr: string;
}

/** The p2p layer, when the node has one (a lone validator has none). */
export interface RpcP2P {
  readonly listening: boolean;
  readonly listeners: readonly string[];
  peers(): readonly RpcPeer[];
  dialSeeds(seeds: readonly string[]): Promise<void>;
  dialPeers(peers: readonly string[], opts: { persistent: boolean; unconditional: boolean; private: boolean }): Promise<void>;
}

/** The evidence pool: add() verifies (throwing EvidenceError) and keeps evidence for a later block, and gossips it. */
export interface RpcEvidencePool {
  add(evidence: Evidence): Promise<unknown>;
}

export interface RpcEnv {
  readonly config: Config;
  readonly genesis: GenesisDoc;
  /** The libp2p peer id (shown in status' node_info.other). */
  readonly nodeId: string;
  /** The node key: status reports CometBFT's hex node id derived from it. */
  readonly nodeKeyPubKey?: Uint8Array;
  /** The CometBFT-compatible version string ("0.38.0-tally.x"): cosmjs picks its decoder by it. */
  readonly version: string;
  readonly tallyVersion: string;
  readonly validatorPubKey: Uint8Array;
  readonly blockStore: BlockStore;
  readonly stateStore: StateStore;
  /** Absent with tx_index.indexer = "null": tx, tx_search and block_search then answer an error. */
  readonly txIndex?: TxIndex;
  readonly blockIndex?: BlockIndex;
  readonly app: Application;
  readonly mempool: RpcMempool;
  readonly consensus: RpcConsensus;
  readonly txWaiters: TxWaiters;
  /** The event bus and round view; without it subscriptions are refused. */
  readonly events?: NodeEvents;
  readonly p2p?: RpcP2P;
  readonly evidence?: RpcEvidencePool;
  /**
   * Resolves when the last committed block's index and state writes are done: events (and
   * broadcast_tx_commit) are told of a block as soon as the app committed it, so routes that read
   * the indexes or the state store wait for this first.
   */
  readonly settled?: () => Promise<void>;
}

/** Waits until the indexes and the state store hold every block the node has told of. */
export async function afterWrites(env: RpcEnv): Promise<void> {
  await env.settled?.().catch(() => {}); // a failed write stops the node; the read reports what is there
}

/** CometBFT's errors for a request it cannot serve (not a malformed one) are -32603 with the reason as data. */
export const serverError = (data: string): RpcError => new RpcError(INTERNAL_ERROR, data);

/**
 * The height to serve: `requested`, or `latest` when absent (CometBFT's getHeight). Zero and
 * negative heights are invalid params; heights above the latest or below the base are errors.
 */
export function resolveHeight(env: RpcEnv, latest: number, requested: number | undefined): number {
  if (requested === undefined) return latest;
  if (requested <= 0) throw invalidParams(`height must be greater than 0, but got ${requested}`);
  if (requested > latest) throw serverError(`height ${requested} must be less than or equal to the current blockchain height ${latest}`);
  const base = env.blockStore.base();
  if (requested < base) throw serverError(`height ${requested} is not available, lowest height is ${base}`);
  return requested;
}

/** The optional `height` parameter (any integer; resolveHeight judges it). */
export const heightParam = (p: Params, name = 'height'): number | undefined => p.int(name);

export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 100;

/** per_page: default 30, below 1 means the default, above 100 is 100 (CometBFT's validatePerPage). */
export function perPageOf(p: Params, name = 'per_page'): number {
  const n = p.int(name);
  if (n === undefined || n < 1) return DEFAULT_PER_PAGE;
  return Math.min(n, MAX_PER_PAGE);
}

/** The [start, end) slice a page covers; a page past the last is an error, as in CometBFT. */
export function pageSlice(p: Params, perPage: number, total: number): { start: number; end: number } {
  const page = p.int('page');
  if (page === undefined) return { start: 0, end: Math.min(perPage, total) };
  const pages = Math.max(1, Math.ceil(total / perPage));
  if (page <= 0 || page > pages) throw invalidParams(`page should be within [1, ${pages}] range, given ${page}`);
  const start = (page - 1) * perPage;
  return { start, end: Math.min(start + perPage, total) };
}

/** Runs a store/query operation, turning its expected failures into JSON-RPC errors. */
export async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof QuerySyntaxError) throw invalidParams(`failed to parse query: ${e.message}`);
    if (e instanceof StoreError) {
      switch (e.code) {
        case 'page_out_of_range':
        case 'invalid_query':
        case 'invalid_argument':
          throw invalidParams(e.message);
        case 'not_found':
        case 'too_many_results':
          throw serverError(e.message);
        default:
          break;
      }
    }
    throw e;
  }
}

/** A required parameter. */
export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw invalidParams(`${name}: required`);
  return value;
}
