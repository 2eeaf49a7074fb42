// Node and application information: health, status, genesis (whole and chunked), abci_info,
// abci_query.
import { formatTime, pubKeyToJson, toBase64, toHex, type BlockMeta, type Json } from '../../codec/index.js';
import { addressOf } from '../../crypto/index.js';
import { genesisToJson } from '../../types/genesis.js';
import { serverError, type RpcEnv } from '../env.js';
import { invalidParams } from '../jsonrpc.js';
import type { RpcMethod } from '../server.js';

/** CometBFT serves the genesis document in chunks of this many bytes (before base64). */
export const GENESIS_CHUNK_SIZE = 16 * 1024 * 1024;

/** CometBFT's p2p channel ids, as its status reports them (cosmjs only checks it is a string). */
const CHANNELS = '40202122233038606100';

export function infoRoutes(env: RpcEnv): Record<string, RpcMethod> {
  let genesisChunks: string[] | undefined;
  const chunks = (): string[] => {
    if (!genesisChunks) {
      const bytes = Buffer.from(JSON.stringify(genesisToJson(env.genesis)), 'utf8');
      genesisChunks = [];
      for (let i = 0; i < bytes.length; i += GENESIS_CHUNK_SIZE) genesisChunks.push(bytes.subarray(i, i + GENESIS_CHUNK_SIZE).toString('base64'));
    }
    return genesisChunks;
  };
  // Stored block metas never change, so the two status reads (latest, earliest) are cached.
  const metas = new Map<number, BlockMeta>();
  const meta = async (height: number): Promise<BlockMeta | undefined> => {
    const hit = metas.get(height);
    if (hit) return hit;
    const m = await env.blockStore.loadBlockMeta(height);
    if (m) {
      if (metas.size >= 4) metas.delete(metas.keys().next().value!);
      metas.set(height, m);
    }
    return m;
  };
  // CometBFT's node id is the hex address of the node key; the libp2p peer id goes in `other`.
  const nodeId = env.nodeKeyPubKey ? toHex(addressOf(env.nodeKeyPubKey)).toLowerCase() : env.nodeId;

  return {
    health: { params: [], handler: () => ({}) },

    status: {
      params: [],
      handler: async () => {
        // the engine's in-memory state, not a store read: status is the most polled method
        const state = env.consensus.chainState ?? (await env.stateStore.load());
        const latest = env.blockStore.height();
        const earliest = env.blockStore.base();
        const latestMeta = latest > 0 ? await meta(latest) : undefined;
        const earliestMeta = earliest > 0 ? await meta(earliest) : undefined;
        const own = state?.validators.getByAddress(addressOf(env.validatorPubKey));
        return {
          node_info: {
            protocol_version: { p2p: '8', block: '11', app: (state?.appVersion ?? 0n).toString() },
            id: nodeId,
            listen_addr: env.config.p2p.laddr,
            network: env.genesis.chainId,
            version: env.version,
            channels: CHANNELS,
            moniker: env.config.moniker,
            other: { tx_index: env.txIndex ? 'on' : 'off', rpc_address: env.config.rpc.laddr, tally_version: env.tallyVersion, peer_id: env.nodeId },
          },
          sync_info: {
            latest_block_hash: latestMeta ? toHex(latestMeta.blockId.hash) : '',
            // the app hash after the latest block (non-empty from genesis on; clients require it)
            latest_app_hash: toHex(state?.appHash ?? new Uint8Array(0)),
            latest_block_height: String(latest),
            latest_block_time: formatTime(latestMeta?.header.time ?? env.genesis.genesisTime),
            earliest_block_hash: earliestMeta ? toHex(earliestMeta.blockId.hash) : '',
            earliest_app_hash: earliestMeta ? toHex(earliestMeta.header.appHash) : '',
            earliest_block_height: String(earliest),
            earliest_block_time: formatTime(earliestMeta?.header.time ?? env.genesis.genesisTime),
            catching_up: env.consensus.catchingUp ?? false,
          },
          validator_info: {
            address: toHex(addressOf(env.validatorPubKey)),
            pub_key: pubKeyToJson(env.validatorPubKey),
            voting_power: (own?.validator.votingPower ?? 0n).toString(),
          },
        };
      },
    },

    genesis: {
      params: [],
      handler: () => {
        if (chunks().length > 1) throw serverError('genesis response is large, please use the genesis_chunked API instead');
        return { genesis: genesisToJson(env.genesis) };
      },
    },

    genesis_chunked: {
      params: ['chunk'],
      handler: (p) => {
        const all = chunks();
        const id = p.int('chunk') ?? 0;
        if (all.length === 0) throw serverError('service configuration error, genesis chunks are not initialized');
        if (id < 0 || id > all.length - 1) throw invalidParams(`there are ${all.length} chunks, ${id} is invalid`);
        return { chunk: String(id), total: String(all.length), data: all[id]! };
      },
    },

    abci_info: {
      params: [],
      handler: async () => {
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
      },
    },

    abci_query: {
      params: ['path', 'data', 'height', 'prove'],
      handler: async (p) => {
        const r = await env.app.query({
          path: p.string('path') ?? '',
          data: p.bytes('data', 'hex') ?? new Uint8Array(0),
          height: p.int('height', { min: 0 }) ?? 0,
          prove: p.bool('prove') ?? false,
        });
        const proofOps: Json = r.proofOps ? { ops: r.proofOps.ops.map((o) => ({ type: o.type, key: toBase64(o.key), data: toBase64(o.data) })) } : null;
        return {
          response: {
            code: r.code,
            log: r.log,
            info: r.info,
            index: String(r.index),
            key: toBase64(r.key),
            value: toBase64(r.value),
            proofOps,
            height: String(r.height),
            codespace: r.codespace,
          },
        };
      },
    },
  };
}
