import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { serialize } from '../../src/abci/index.js';
import { KVStoreApp } from '../../src/apps/kvstore/index.js';
import { toHex } from '../../src/codec/index.js';
import { ConsensusEngine, LOOPBACK_NETWORK } from '../../src/consensus/engine.js';
import { BlockExecutor, handshake, stateFromGenesis } from '../../src/execution/index.js';
import { FileSigner } from '../../src/privval/index.js';
import { BlockStore, StateStore, TxIndex } from '../../src/store/index.js';
import type { GenesisDoc } from '../../src/types/genesis.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { TestMempool } from '../helpers/mempool.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };
const TIMEOUTS = { propose: 300, proposeDelta: 100, prevote: 100, prevoteDelta: 50, precommit: 100, precommitDelta: 50, commit: 5 };


interface Node {
  engine: ConsensusEngine;
  app: KVStoreApp;
  mempool: TestMempool;
  blockStore: BlockStore;
  stop(): Promise<void>;
}

const dirs: string[] = [];
const running: Node[] = [];
afterEach(async () => {
  for (const n of running.splice(0)) await n.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function startNode(dir: string, genesis: GenesisDoc, key = testKeys(1)[0]!): Promise<Node> {
  const app = await KVStoreApp.open({ dir: join(dir, 'app'), syncWrites: false });
  const blockStore = new BlockStore({ path: join(dir, 'blockstore') });
  const stateStore = new StateStore({ path: join(dir, 'state') });
  const txIndex = new TxIndex({ path: join(dir, 'txindex') });
  for (const s of [blockStore, stateStore, txIndex]) await s.open();
  const mempool = new TestMempool();
  const sapp = serialize(app);
  const executor = new BlockExecutor({ app: sapp, blockStore, stateStore, txIndex, mempool, logger: quiet });
  const { state } = await handshake((await stateStore.load()) ?? stateFromGenesis(genesis), { genesis, app: sapp, blockStore, stateStore, executor, logger: quiet, version: 'test' });
  const signer = FileSigner.open(key, join(dir, 'priv_validator_state.json'));
  const engine = new ConsensusEngine(
    { chainId: genesis.chainId, timeouts: TIMEOUTS, walPath: join(dir, 'cs.wal') },
    { executor, blockStore, signer, network: LOOPBACK_NETWORK, logger: quiet, onFatal: (e) => { throw e; } },
  );
  await engine.start(state);
  const node: Node = {
    engine,
    app,
    mempool,
    blockStore,
    stop: async () => {
      await engine.stop();
      for (const s of [blockStore, stateStore, txIndex]) await s.close();
      await app.close();
    },
  };
  running.push(node);
  return node;
}

describe('consensus engine, one validator', () => {
  test('produces blocks; a kvstore write becomes queryable; a restart continues the chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-engine-'));
    dirs.push(dir);
    const genesis = testGenesis(testKeys(1));
    let node = await startNode(dir, genesis);
    await node.engine.waitForHeight(2);
    node.mempool.txs.push(enc('color=blue'));
    await node.engine.waitForHeight(node.engine.chainState.lastBlockHeight + 2);
    const q = await node.app.query({ data: enc('color'), path: '/key', height: 0, prove: false });
    expect(dec(q.value)).toBe('blue');
    expect(q.height).toBeGreaterThan(0);
    const heightBefore = node.engine.chainState.lastBlockHeight;
    const hashBefore = toHex((await node.blockStore.loadBlock(heightBefore))!.header.appHash);
    await node.stop();
    running.splice(running.indexOf(node), 1);

    node = await startNode(dir, genesis);
    expect(node.engine.chainState.lastBlockHeight).toBeGreaterThanOrEqual(heightBefore);
    expect(toHex((await node.blockStore.loadBlock(heightBefore))!.header.appHash)).toBe(hashBefore);
    await node.engine.waitForHeight(heightBefore + 2);
    expect(dec((await node.app.query({ data: enc('color'), path: '', height: 0, prove: false })).value)).toBe('blue');
  });
});
