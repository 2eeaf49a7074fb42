// What a consensus engine runs over in a test: the kvstore app, a block store and a state store in
// `dir` (no indexes), an executor, and the state after the start-up handshake.
import { join } from 'node:path';
import { serialize } from '../../src/abci/index.js';
import { KVStoreApp } from '../../src/apps/kvstore/index.js';
import { BlockExecutor, handshake, stateFromGenesis } from '../../src/execution/index.js';
import { BlockStore, StateStore, type State } from '../../src/store/index.js';
import type { GenesisDoc } from '../../src/types/genesis.js';
import { TestMempool } from './mempool.js';

const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };

export interface EngineStores {
  readonly blockStore: BlockStore;
  readonly executor: BlockExecutor;
  /** The handshake's state: where an engine over these stores starts. */
  readonly state: State;
  close(): Promise<void>;
}

export async function openEngineStores(dir: string, genesis: GenesisDoc): Promise<EngineStores> {
  const app = await KVStoreApp.open({ dir: join(dir, 'app'), syncWrites: false });
  const blockStore = new BlockStore({ path: join(dir, 'blockstore') });
  const stateStore = new StateStore({ path: join(dir, 'state') });
  for (const s of [blockStore, stateStore]) await s.open();
  const sapp = serialize(app);
  const executor = new BlockExecutor({ app: sapp, blockStore, stateStore, mempool: new TestMempool(), logger: quiet });
  const { state } = await handshake((await stateStore.load()) ?? stateFromGenesis(genesis), { genesis, app: sapp, blockStore, stateStore, executor, logger: quiet, version: 'test' });
  return {
    blockStore,
    executor,
    state,
    close: async () => {
      for (const s of [blockStore, stateStore]) await s.close();
      await app.close();
    },
  };
}
