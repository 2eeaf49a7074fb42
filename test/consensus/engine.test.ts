import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { serialize } from '../../src/abci/index.js';
import { KVStoreApp } from '../../src/apps/kvstore/index.js';
import { toHex } from '../../src/codec/index.js';
import { ConsensusEngine, LOOPBACK_NETWORK } from '../../src/consensus/engine.js';
import { WAL } from '../../src/consensus/wal.js';
import { SignedMsgType } from '../../src/codec/index.js';
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

describe('consensus engine, the WAL before each signature', () => {
  test('a precommit is signed after an fdatasync of the WAL; a prevote or proposal after a write of it, without one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-engine-'));
    dirs.push(dir);
    const events: string[] = [];
    const realSync = WAL.prototype.sync;
    const realFlush = WAL.prototype.flush;
    const syncSpy = vi.spyOn(WAL.prototype, 'sync').mockImplementation(function (this: WAL) {
      events.push('sync');
      realSync.call(this);
    });
    const flushSpy = vi.spyOn(WAL.prototype, 'flush').mockImplementation(function (this: WAL) {
      events.push('write');
      realFlush.call(this);
    });
    const realVote = FileSigner.prototype.signVote;
    const realProposal = FileSigner.prototype.signProposal;
    const voteSpy = vi.spyOn(FileSigner.prototype, 'signVote').mockImplementation(function (this: FileSigner, ...args: Parameters<FileSigner['signVote']>) {
      events.push(args[1].type === SignedMsgType.Prevote ? 'sign prevote' : 'sign precommit');
      return realVote.apply(this, args);
    });
    const proposalSpy = vi.spyOn(FileSigner.prototype, 'signProposal').mockImplementation(function (this: FileSigner, ...args: Parameters<FileSigner['signProposal']>) {
      events.push('sign proposal');
      return realProposal.apply(this, args);
    });
    try {
      const node = await startNode(dir, testGenesis(testKeys(1)));
      await node.engine.waitForHeight(3);
    } finally {
      for (const s of [syncSpy, flushSpy, voteSpy, proposalSpy]) s.mockRestore();
    }
    const signs = events.flatMap((e, i) => (e.startsWith('sign') ? [i] : []));
    expect(signs.length).toBeGreaterThanOrEqual(9); // three heights of proposal, prevote, precommit
    let prev = -1;
    for (const i of signs) {
      const between = events.slice(prev + 1, i);
      if (events[i] === 'sign precommit') expect(between, `before event ${i}: ${events.join(', ')}`).toContain('sync');
      else {
        expect(between, `before event ${i}: ${events.join(', ')}`).not.toContain('sync');
        expect(between.at(-1), `before event ${i}: ${events.join(', ')}`).toBe('write');
      }
      prev = i;
    }
  });
});
