// The node's JSON-RPC methods, in CometBFT 0.38's shapes (what @cosmjs/tendermint-rpc's
// Comet38Client decodes): int64 as strings, bytes as base64, hashes as uppercase hex. One file
// per area under routes/; the JSON forms themselves live in codec/json.ts.
import type { RpcEnv } from './env.js';
import { blockRoutes } from './routes/blocks.js';
import { consensusRoutes } from './routes/consensus.js';
import { eventRoutes } from './routes/events.js';
import { evidenceRoutes } from './routes/evidence.js';
import { infoRoutes } from './routes/info.js';
import { netRoutes, unsafeRoutes } from './routes/net.js';
import { txRoutes } from './routes/txs.js';
import type { RpcMethod } from './server.js';

export type { RpcEnv, RpcMempool, RpcConsensus, RpcP2P, RpcPeer, RpcEvidencePool } from './env.js';

/** Every method; the unsafe ones only when `rpc.unsafe` is set. */
export function buildRoutes(env: RpcEnv): Map<string, RpcMethod> {
  const areas = [infoRoutes, netRoutes, blockRoutes, txRoutes, consensusRoutes, evidenceRoutes, eventRoutes];
  if (env.config.rpc.unsafe) areas.push(unsafeRoutes);
  const routes = new Map<string, RpcMethod>();
  for (const area of areas) for (const [name, method] of Object.entries(area(env))) routes.set(name, method);
  return routes;
}
