// What several benchmarks set up the same way.
import { PrivKey, sha256 } from '../src/crypto/index.js';
import { DEFAULT_CONSENSUS_PARAMS, type GenesisDoc } from '../src/types/genesis.js';

/** A one-validator chain for in-process pipelines: the key signs its commits. */
export function benchChain(): { key: PrivKey; genesis: GenesisDoc } {
  const key = PrivKey.fromSeed(sha256(new TextEncoder().encode('bench')));
  const genesis: GenesisDoc = {
    genesisTime: { seconds: 1_700_000_000, nanos: 0 },
    chainId: 'bench',
    initialHeight: 1,
    consensusParams: DEFAULT_CONSENSUS_PARAMS,
    validators: [{ address: key.pubKey.address, pubKey: key.pubKey.bytes, power: 10n, name: 'v' }],
    appHash: new Uint8Array(0),
    appState: undefined,
  };
  return { key, genesis };
}

/** Node flags for load benchmarks: room for every client's txs and connections. */
export const LOAD_NODE_FLAGS: readonly string[] = [
  '--mempool.size',
  '100000',
  '--mempool.max_txs_bytes',
  String(1 << 30),
  '--mempool.cache_size',
  '200000',
  '--rpc.max_open_connections',
  '2000',
];
