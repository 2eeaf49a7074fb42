// The node's JSON-RPC methods, in CometBFT 0.38's shapes (what @cosmjs/tendermint-rpc's
// Comet38Client decodes): int64 as strings, bytes as base64, hashes as uppercase hex.
import type { Json, JsonObject } from '../codec/index.js';
import { formatTime, pubKeyToJson, toBase64, toHex } from '../codec/index.js';
import { addressOf } from '../crypto/index.js';
import type { Application, ResponseCheckTx } from '../abci/index.js';
import type { Config } from '../config/index.js';
import type { BlockIndex, BlockStore, StateStore, TxIndex } from '../store/index.js';
import type { GenesisDoc } from '../types/genesis.js';
import { txHash } from '../types/index.js';
import { INTERNAL_ERROR, RpcError, invalidParams } from './jsonrpc.js';
import type { RpcMethod } from './server.js';
import type { TxWaiters } from './tx-waiters.js';
import type { Event, ExecTxResult } from '../codec/index.js';

/** What the RPC needs of the mempool. `checkTx` throws an Error for rejections before the app (full, duplicate, too large). */
export interface RpcMempool {
  checkTx(tx: Uint8Array): Promise<ResponseCheckTx>;
  size(): number;
  sizeBytes(): number;
}

/** What the RPC needs of consensus. */
export interface RpcConsensus {
  readonly height: number;
  readonly round: number;
  readonly step: string;
}

export interface RpcEnv {
  readonly config: Config;
  readonly genesis: GenesisDoc;
  readonly nodeId: string;
  /** The CometBFT-compatible version string ("0.38.0-tally.x"): cosmjs picks its decoder by it. */
  readonly version: string;
  readonly tallyVersion: string;
  readonly validatorPubKey: Uint8Array;
  readonly blockStore: BlockStore;
  readonly stateStore: StateStore;
  readonly txIndex: TxIndex;
  readonly blockIndex: BlockIndex;
  readonly app: Application;
  readonly mempool: RpcMempool;
  readonly consensus: RpcConsensus;
  readonly txWaiters: TxWaiters;
}

export function eventsToJson(events: readonly Event[]): Json[] {
  return events.map((e) => ({ type: e.type, attributes: e.attributes.map((a) => ({ key: a.key, value: a.value, index: a.index })) }));
}

export function execTxResultToJson(r: ExecTxResult): JsonObject {
  return {
    code: r.code,
    data: r.data.length ? toBase64(r.data) : null,
    log: r.log,
    info: r.info,
    gas_wanted: r.gasWanted.toString(),
    gas_used: r.gasUsed.toString(),
    events: eventsToJson(r.events),
    codespace: r.codespace,
  };
}

function checkTxToJson(r: ResponseCheckTx): JsonObject {
  return {
    code: r.code,
    data: r.data.length ? toBase64(r.data) : null,
    log: r.log,
    info: r.info,
    gas_wanted: r.gasWanted.toString(),
    gas_used: r.gasUsed.toString(),
    events: eventsToJson(r.events),
    codespace: r.codespace,
  };
}

export function buildRoutes(env: RpcEnv): Map<string, RpcMethod> {
  const routes = new Map<string, RpcMethod>();
  const add = (name: string, params: readonly string[], handler: RpcMethod['handler']): void => {
    routes.set(name, { params, handler });
  };

  add('health', [], () => ({}));

  add('status', [], async () => {
    const state = await env.stateStore.load();
    const latest = env.blockStore.height();
    const earliest = env.blockStore.base();
    const latestMeta = latest > 0 ? await env.blockStore.loadBlockMeta(latest) : undefined;
    const earliestMeta = earliest > 0 ? await env.blockStore.loadBlockMeta(earliest) : undefined;
    const own = state?.validators.getByAddress(addressOf(env.validatorPubKey));
    const laddr = env.config.rpc.laddr;
    return {
      node_info: {
        protocol_version: { p2p: '8', block: '11', app: (state?.appVersion ?? 0n).toString() },
        id: env.nodeId,
        listen_addr: env.config.p2p.laddr,
        network: env.genesis.chainId,
        version: env.version,
        channels: '40202122233038606100',
        moniker: env.config.moniker,
        other: { tx_index: 'on', rpc_address: laddr, tally_version: env.tallyVersion },
      },
      sync_info: {
        latest_block_hash: latestMeta ? toHex(latestMeta.blockId.hash) : '',
        latest_app_hash: toHex(state?.appHash ?? new Uint8Array(0)),
        latest_block_height: String(latest),
        latest_block_time: formatTime(latestMeta?.header.time ?? env.genesis.genesisTime),
        earliest_block_hash: earliestMeta ? toHex(earliestMeta.blockId.hash) : '',
        earliest_app_hash: earliestMeta ? toHex(earliestMeta.header.appHash) : '',
        earliest_block_height: String(earliest),
        earliest_block_time: formatTime(earliestMeta?.header.time ?? env.genesis.genesisTime),
        catching_up: false,
      },
      validator_info: {
        address: toHex(addressOf(env.validatorPubKey)),
        pub_key: pubKeyToJson(env.validatorPubKey),
        voting_power: (own?.validator.votingPower ?? 0n).toString(),
      },
    };
  });

  add('abci_info', [], async () => {
    const r = await env.app.info({ version: env.tallyVersion, blockVersion: 11n, p2pVersion: 8n, abciVersion: '2.0.0' });
    return {
      response: {
        data: r.data,
        version: r.version,
        app_version: r.appVersion.toString(),
        last_block_height: String(r.lastBlockHeight),
        last_block_app_hash: toBase64(r.lastBlockAppHash),
      },
    };
  });

  add('abci_query', ['path', 'data', 'height', 'prove'], async (p) => {
    const r = await env.app.query({
      path: p.string('path') ?? '',
      data: p.bytes('data', 'hex') ?? new Uint8Array(0),
      height: p.int('height', { min: 0 }) ?? 0,
      prove: p.bool('prove') ?? false,
    });
    return {
      response: {
        code: r.code,
        log: r.log,
        info: r.info,
        index: String(r.index),
        key: toBase64(r.key),
        value: toBase64(r.value),
        proofOps: r.proofOps ? { ops: r.proofOps.ops.map((o) => ({ type: o.type, key: toBase64(o.key), data: toBase64(o.data) })) } : null,
        height: String(r.height),
        codespace: r.codespace,
      },
    };
  });

  const requireTx = (p: Parameters<RpcMethod['handler']>[0]): Uint8Array => {
    const tx = p.bytes('tx', 'base64');
    if (!tx) throw invalidParams('tx: required');
    return tx;
  };
  const checkTx = async (tx: Uint8Array): Promise<ResponseCheckTx> => {
    try {
      return await env.mempool.checkTx(tx);
    } catch (e) {
      if (e instanceof RpcError) throw e;
      throw new RpcError(INTERNAL_ERROR, (e as Error).message);
    }
  };

  add('broadcast_tx_async', ['tx'], (p) => {
    const tx = requireTx(p);
    void checkTx(tx).catch(() => {}); // async: the caller learns nothing of CheckTx, as in CometBFT
    return { code: 0, data: '', log: '', codespace: '', hash: toHex(txHash(tx)) };
  });

  add('broadcast_tx_sync', ['tx'], async (p) => {
    const tx = requireTx(p);
    const r = await checkTx(tx);
    return { code: r.code, data: toBase64(r.data), log: r.log, codespace: r.codespace, hash: toHex(txHash(tx)) };
  });

  add('broadcast_tx_commit', ['tx'], async (p) => {
    const tx = requireTx(p);
    const hash = txHash(tx);
    const waiter = env.txWaiters.wait(hash, env.config.rpc.timeoutBroadcastTxCommitMs);
    let r: ResponseCheckTx;
    try {
      r = await checkTx(tx);
    } catch (e) {
      waiter.cancel();
      throw e;
    }
    if (r.code !== 0) {
      waiter.cancel();
      return { check_tx: checkTxToJson(r), tx_result: execTxResultToJson({ code: 0, data: new Uint8Array(0), log: '', info: '', gasWanted: 0n, gasUsed: 0n, events: [], codespace: '' }), hash: toHex(hash), height: '0' };
    }
    const committed = await waiter.promise;
    if (!committed) throw new RpcError(INTERNAL_ERROR, `timed out waiting for tx to be included in a block (${env.config.rpc.timeoutBroadcastTxCommitMs} ms)`);
    return { check_tx: checkTxToJson(r), tx_result: execTxResultToJson(committed.result), hash: toHex(hash), height: String(committed.height) };
  });

  add('num_unconfirmed_txs', [], () => ({ n_txs: String(env.mempool.size()), total: String(env.mempool.size()), total_bytes: String(env.mempool.sizeBytes()), txs: null }));

  return routes;
}
