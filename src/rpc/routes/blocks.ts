// The chain as stored: blockchain (metas), block, block_by_hash, header, header_by_hash, commit,
// block_results, validators, consensus_params, block_search.
import { decodeResponseFinalizeBlock } from '../../abci/index.js';
import {
  ZERO_BLOCK_ID,
  blockIdToJson,
  blockMetaToJson,
  blockToJson,
  commitToJson,
  consensusParamUpdatesToJson,
  consensusParamsToJson,
  eventsToJson,
  execTxResultToJson,
  headerToJson,
  toBase64,
  validatorToJson,
  validatorUpdateToJson,
  type JsonObject,
} from '../../codec/index.js';
import { afterWrites, heightParam, pageSlice, perPageOf, resolveHeight, serverError, storeCall, type RpcEnv } from '../env.js';
import { invalidParams, type Params } from '../jsonrpc.js';
import type { RpcMethod } from '../server.js';

/** At most this many metas per `blockchain` call (CometBFT's limit). */
const BLOCKCHAIN_LIMIT = 20;

export function blockRoutes(env: RpcEnv): Record<string, RpcMethod> {
  const store = env.blockStore;

  const blockAt = async (height: number): Promise<JsonObject> => {
    const [block, meta] = await Promise.all([store.loadBlock(height), store.loadBlockMeta(height)]);
    return { block_id: blockIdToJson(meta?.blockId ?? ZERO_BLOCK_ID), block: block ? blockToJson(block) : null };
  };
  /**
   * The height being decided (the default) or the requested one. The next height's validators
   * and params are stored with the state, a moment after the block store has moved on: in that
   * moment the default falls back to the height before (whose entry is there).
   */
  const loadAtHeight = async <T>(p: Params, load: (height: number) => Promise<T>): Promise<{ height: number; value: T }> => {
    const requested = heightParam(p);
    const height = resolveHeight(env, store.height() + 1, requested);
    try {
      return { height, value: await storeCall(() => load(height)) };
    } catch (e) {
      if (requested !== undefined || height <= Math.max(1, store.base())) throw e;
      return { height: height - 1, value: await storeCall(() => load(height - 1)) };
    }
  };
  const hashParam = (p: Params): Uint8Array => {
    const h = p.hash('hash');
    if (!h) throw invalidParams('hash: required');
    return h;
  };

  return {
    blockchain: {
      params: ['minHeight', 'maxHeight'],
      handler: async (p) => {
        const base = store.base();
        const height = store.height();
        let min = p.int('minHeight') ?? 0;
        let max = p.int('maxHeight') ?? 0;
        if (min < 0 || max < 0) throw invalidParams('heights must be non-negative');
        // CometBFT's filterMinMax: 0 means "from the base"/"to the tip"; at most 20, newest first.
        if (min === 0) min = 1;
        if (max === 0) max = height;
        max = Math.min(height, max);
        min = Math.max(base, min, max - BLOCKCHAIN_LIMIT + 1);
        if (min > max) throw invalidParams(`min height ${min} can't be greater than max height ${max}`);
        const metas = [];
        for (let h = max; h >= min; h--) {
          const m = await store.loadBlockMeta(h);
          if (m) metas.push(blockMetaToJson(m));
        }
        return { last_height: String(height), block_metas: metas };
      },
    },

    block: { params: ['height'], handler: async (p) => blockAt(resolveHeight(env, store.height(), heightParam(p))) },

    block_by_hash: {
      params: ['hash'],
      handler: async (p) => {
        const meta = await store.loadBlockMetaByHash(hashParam(p));
        if (!meta) return { block_id: blockIdToJson(ZERO_BLOCK_ID), block: null };
        return blockAt(meta.header.height);
      },
    },

    header: {
      params: ['height'],
      handler: async (p) => {
        const meta = await store.loadBlockMeta(resolveHeight(env, store.height(), heightParam(p)));
        return { header: meta ? headerToJson(meta.header) : null };
      },
    },

    header_by_hash: {
      params: ['hash'],
      handler: async (p) => {
        const meta = await store.loadBlockMetaByHash(hashParam(p));
        return { header: meta ? headerToJson(meta.header) : null };
      },
    },

    commit: {
      params: ['height'],
      handler: async (p) => {
        const latest = store.height();
        const height = resolveHeight(env, latest, heightParam(p));
        const meta = await store.loadBlockMeta(height);
        if (!meta) throw serverError(`no block stored at height ${height}`);
        // The latest block has only the commit this node saw; earlier ones the canonical one
        // carried by the next block.
        const canonical = height !== latest;
        const commit = canonical ? await store.loadBlockCommit(height) : await store.loadSeenCommit(height);
        if (!commit) throw serverError(`no commit stored for height ${height}`);
        return { signed_header: { header: headerToJson(meta.header), commit: commitToJson(commit) }, canonical };
      },
    },

    block_results: {
      params: ['height'],
      handler: async (p) => {
        const requested = heightParam(p);
        let height = resolveHeight(env, store.height(), requested);
        let raw = await env.stateStore.loadFinalizeBlockResponse(height);
        if (!raw && requested === undefined && env.config.storage.discardAbciResponses) {
          // the latest: its response is written alongside its block, and the one before it is
          // deleted once the next block's writes are done; between the two, it is one of these
          for (const h of [store.height(), store.height() - 1]) {
            raw = h > 0 ? await env.stateStore.loadFinalizeBlockResponse(h) : undefined;
            if (raw) {
              height = h;
              break;
            }
          }
        }
        if (!raw) {
          // CometBFT's words for it, then which heights this node does keep
          if (env.config.storage.discardAbciResponses)
            throw serverError(`node is not persisting finalize block responses: storage.discard_abci_responses = true keeps only the latest height's (asked for #${height})`);
          throw serverError(`could not find results for height #${height}`);
        }
        const r = decodeResponseFinalizeBlock(raw);
        return {
          height: String(height),
          txs_results: r.txResults.map(execTxResultToJson),
          finalize_block_events: eventsToJson(r.events),
          validator_updates: r.validatorUpdates.map(validatorUpdateToJson),
          consensus_param_updates: consensusParamUpdatesToJson(r.consensusParamUpdates),
          app_hash: toBase64(r.appHash),
        };
      },
    },

    validators: {
      params: ['height', 'page', 'per_page'],
      handler: async (p) => {
        // the default is the height being decided: its set is known one block ahead
        await afterWrites(env);
        const { height, value: set } = await loadAtHeight(p, (h) => env.stateStore.loadValidators(h));
        const all = set.validators;
        const { start, end } = pageSlice(p, perPageOf(p), all.length);
        const page = all.slice(start, end);
        return { block_height: String(height), validators: page.map(validatorToJson), count: String(page.length), total: String(all.length) };
      },
    },

    consensus_params: {
      params: ['height'],
      handler: async (p) => {
        await afterWrites(env);
        const { height, value: params } = await loadAtHeight(p, (h) => env.stateStore.loadConsensusParams(h));
        return { block_height: String(height), consensus_params: consensusParamsToJson(params) };
      },
    },

    block_search: {
      params: ['query', 'page', 'per_page', 'order_by'],
      handler: async (p) => {
        const query = p.string('query');
        if (query === undefined) throw invalidParams('query: required');
        if (query.length > 512) throw invalidParams('maximum query length exceeded');
        const orderBy = p.string('order_by') ?? '';
        if (orderBy !== '' && orderBy !== 'asc' && orderBy !== 'desc') throw invalidParams('expected order_by to be either `asc` or `desc` or empty');
        // block_search lists the newest first unless asked otherwise (CometBFT 0.38)
        await afterWrites(env);
        const index = env.blockIndex;
        // CometBFT's words for the null indexer
        if (!index) throw serverError('block indexing is disabled');
        const found = await storeCall(() => index.search(query, { page: p.int('page') ?? 1, perPage: p.int('per_page') ?? 0, orderBy: orderBy || 'desc' }));
        const blocks = [];
        for (const h of found.items) {
          const b = await blockAt(h);
          if (b.block !== null) blocks.push(b); // pruned since indexed: skipped, as CometBFT does
        }
        return { blocks, total_count: String(found.total) };
      },
    },
  };
}

