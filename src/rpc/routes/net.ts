// net_info, and the unsafe dial_seeds / dial_peers / unsafe_flush_mempool (registered only with
// rpc.unsafe = true).
import { serverError, type RpcEnv, type RpcP2P } from '../env.js';
import { invalidParams } from '../jsonrpc.js';
import type { RpcMethod } from '../server.js';

export function netRoutes(env: RpcEnv): Record<string, RpcMethod> {
  return {
    net_info: {
      params: [],
      handler: () => {
        const peers = env.p2p?.peers() ?? [];
        return {
          listening: env.p2p?.listening ?? false,
          listeners: [...(env.p2p?.listeners ?? [])],
          n_peers: String(peers.length),
          peers: peers.map((p) => ({
            node_info: { id: p.id, listen_addr: p.listenAddr, network: env.genesis.chainId, moniker: p.moniker },
            is_outbound: p.isOutbound,
            connection_status: {},
            remote_ip: p.remoteIp,
          })),
        };
      },
    },
  };
}

export function unsafeRoutes(env: RpcEnv): Record<string, RpcMethod> {
  const p2p = (): RpcP2P => {
    if (!env.p2p) throw serverError('this node runs without p2p: there is nothing to dial');
    return env.p2p;
  };
  return {
    dial_seeds: {
      params: ['seeds'],
      handler: async (p) => {
        const seeds = p.stringList('seeds');
        if (!seeds || seeds.length === 0) throw invalidParams('no seeds provided');
        await p2p().dialSeeds(seeds);
        return { log: 'Dialing seeds in progress. See /net_info for details' };
      },
    },
    dial_peers: {
      params: ['peers', 'persistent', 'unconditional', 'private'],
      handler: async (p) => {
        const peers = p.stringList('peers');
        if (!peers || peers.length === 0) throw invalidParams('no peers provided');
        await p2p().dialPeers(peers, { persistent: p.bool('persistent') ?? false, unconditional: p.bool('unconditional') ?? false, private: p.bool('private') ?? false });
        return { log: 'Dialing peers in progress. See /net_info for details' };
      },
    },
    unsafe_flush_mempool: {
      params: [],
      handler: () => {
        env.mempool.flush();
        return {};
      },
    },
  };
}
