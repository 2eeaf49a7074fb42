// Transactions: tx (by hash, with an optional merkle proof against the block's data_hash),
// tx_search, check_tx, broadcast_tx_{async,sync,commit}, unconfirmed_txs, num_unconfirmed_txs.
import { CheckTxType, type ResponseCheckTx } from '../../abci/index.js';
import { EMPTY_EXEC_TX_RESULT, execTxResultToJson, toBase64, toHex, txProofToJson, type JsonObject, type TxResultRecord } from '../../codec/index.js';
import { merkleProofs } from '../../crypto/index.js';
import { MAX_QUERY_LENGTH } from '../../query/index.js';
import { txHash } from '../../types/index.js';
import { afterWrites, perPageOf, serverError, storeCall, type RpcEnv } from '../env.js';
import { RpcError, invalidParams, type Params } from '../jsonrpc.js';
import type { RpcMethod } from '../server.js';

/** The tx index, or CometBFT's error for the null indexer. */
function txIndexOf(env: RpcEnv): NonNullable<RpcEnv['txIndex']> {
  if (!env.txIndex) throw serverError('transaction indexing is disabled');
  return env.txIndex;
}

export function txRoutes(env: RpcEnv): Record<string, RpcMethod> {
  const requireTx = (p: Params): Uint8Array => {
    const tx = p.bytes('tx', 'base64');
    if (!tx) throw invalidParams('tx: required');
    if (tx.length === 0) throw invalidParams('tx: empty');
    return tx;
  };
  /** Mempool rejections before the app (full, duplicate, too large) are errors, as in CometBFT. */
  const checkTx = async (tx: Uint8Array): Promise<ResponseCheckTx> => {
    try {
      return await env.mempool.checkTx(tx);
    } catch (e) {
      if (e instanceof RpcError) throw e;
      throw serverError((e as Error).message);
    }
  };

  const txToJson = async (r: TxResultRecord, prove: boolean): Promise<JsonObject> => {
    const out: JsonObject = { hash: toHex(txHash(r.tx)), height: String(r.height), index: r.index, tx_result: execTxResultToJson(r.result), tx: toBase64(r.tx) };
    if (prove) {
      const block = await env.blockStore.loadBlock(r.height);
      const proof = block && merkleProofs(block.data.txs.map(txHash));
      const leaf = proof?.proofs[r.index];
      if (proof && leaf) out.proof = txProofToJson(proof.root, r.tx, leaf);
    }
    return out;
  };

  return {
    tx: {
      params: ['hash', 'prove'],
      handler: async (p) => {
        const hash = p.hash('hash');
        if (!hash) throw invalidParams('hash: required');
        await afterWrites(env);
        const index = txIndexOf(env);
        const r = await storeCall(() => index.get(hash));
        if (!r) throw serverError(`tx (${toHex(hash)}) not found`);
        return txToJson(r, p.bool('prove') ?? false);
      },
    },

    tx_search: {
      params: ['query', 'prove', 'page', 'per_page', 'order_by'],
      handler: async (p) => {
        const query = p.string('query');
        if (query === undefined) throw invalidParams('query: required');
        if (query.length > MAX_QUERY_LENGTH) throw invalidParams('maximum query length exceeded');
        const orderBy = p.string('order_by') ?? '';
        if (orderBy !== '' && orderBy !== 'asc' && orderBy !== 'desc') throw invalidParams('expected order_by to be either `asc` or `desc` or empty');
        const prove = p.bool('prove') ?? false;
        await afterWrites(env);
        const index = txIndexOf(env);
        const found = await storeCall(() => index.search(query, { page: p.int('page') ?? 1, perPage: p.int('per_page') ?? 0, orderBy }));
        const txs = [];
        for (const r of found.items) txs.push(await txToJson(r, prove));
        return { txs, total_count: String(found.total) };
      },
    },

    check_tx: {
      params: ['tx'],
      // straight to the app, without adding to the mempool (CometBFT's check_tx)
      handler: async (p) => execTxResultToJson(await env.app.checkTx({ tx: requireTx(p), type: CheckTxType.New })),
    },

    // txHash (cached on the tx object) before CheckTx: the mempool then finds the hash computed
    broadcast_tx_async: {
      params: ['tx'],
      handler: (p) => {
        const tx = requireTx(p);
        const hash = toHex(txHash(tx));
        void checkTx(tx).catch(() => {}); // the caller learns nothing of CheckTx, as in CometBFT
        return { code: 0, data: '', log: '', codespace: '', hash };
      },
    },

    broadcast_tx_sync: {
      params: ['tx'],
      handler: async (p) => {
        const tx = requireTx(p);
        const hash = toHex(txHash(tx));
        const r = await checkTx(tx);
        return { code: r.code, data: toBase64(r.data), log: r.log, codespace: r.codespace, hash };
      },
    },

    broadcast_tx_commit: {
      params: ['tx'],
      handler: async (p) => {
        const tx = requireTx(p);
        const hash = toHex(txHash(tx));
        // registered before CheckTx, so a block that includes the tx at once is not missed
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
          return { check_tx: execTxResultToJson(r), tx_result: execTxResultToJson(EMPTY_EXEC_TX_RESULT), hash, height: '0' };
        }
        const committed = await waiter.promise;
        if (!committed) throw serverError(`timed out waiting for tx to be included in a block (${env.config.rpc.timeoutBroadcastTxCommitMs} ms)`);
        return { check_tx: execTxResultToJson(r), tx_result: execTxResultToJson(committed.result), hash, height: String(committed.height) };
      },
    },

    unconfirmed_txs: {
      params: ['limit'],
      handler: (p) => {
        const txs = env.mempool.txs(perPageOf(p, 'limit'));
        return { n_txs: String(txs.length), total: String(env.mempool.size()), total_bytes: String(env.mempool.sizeBytes()), txs: txs.map(toBase64) };
      },
    },

    num_unconfirmed_txs: {
      params: [],
      handler: () => ({ n_txs: String(env.mempool.size()), total: String(env.mempool.size()), total_bytes: String(env.mempool.sizeBytes()), txs: null }),
    },
  };
}
