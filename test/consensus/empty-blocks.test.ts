// consensus.create_empty_blocks = false: after a block that left the app hash as it was, the next
// height waits for txs; a block that changed the app hash is followed by one proof block (so the
// new app hash is committed in a header); create_empty_blocks_interval still makes an empty block
// after that long.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { serialize } from '../../src/abci/index.js';
import { KVStoreApp } from '../../src/apps/kvstore/index.js';
import { ConsensusEngine, LOOPBACK_NETWORK } from '../../src/consensus/engine.js';
import { BlockExecutor, handshake, stateFromGenesis } from '../../src/execution/index.js';
import { FileSigner } from '../../src/privval/index.js';
import { BlockStore, StateStore } from '../../src/store/index.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { TestMempool } from '../helpers/mempool.js';

const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };
const TIMEOUTS = { propose: 300, proposeDelta: 100, prevote: 100, prevoteDelta: 50, precommit: 100, precommitDelta: 50, commit: 5 };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A mempool whose "txs available" signal the test controls. */
class WaitableMempool extends TestMempool {
  private waiters: (() => void)[] = [];
  waits = 0;
  add(tx: Uint8Array): void {
    this.txs.push(tx);
    for (const w of this.waiters.splice(0)) w();
  }
  wait(signal: AbortSignal): Promise<void> {
    this.waits++;
    if (this.txs.length > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push(resolve);
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface StartOptions {
  readonly createEmptyBlocks?: boolean;
  readonly emptyBlocksIntervalMs?: number;
  readonly emptyProposalDelayMs?: number;
  readonly timeouts?: typeof TIMEOUTS;
}

async function start(opts: StartOptions = {}): Promise<{ engine: ConsensusEngine; mempool: WaitableMempool; blockStore: BlockStore }> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-empty-'));
  const keys = testKeys(1);
  const genesis = testGenesis(keys);
  const app = await KVStoreApp.open({ dir: join(dir, 'app'), syncWrites: false });
  const blockStore = new BlockStore({ path: join(dir, 'blocks'), sync: false });
  const stateStore = new StateStore({ path: join(dir, 'state'), sync: false });
  for (const s of [blockStore, stateStore]) await s.open();
  const mempool = new WaitableMempool();
  const sapp = serialize(app);
  const executor = new BlockExecutor({ app: sapp, blockStore, stateStore, mempool, logger: quiet });
  const { state } = await handshake(stateFromGenesis(genesis), { genesis, app: sapp, blockStore, stateStore, executor, logger: quiet, version: 'test' });
  const engine = new ConsensusEngine(
    {
      chainId: genesis.chainId,
      timeouts: opts.timeouts ?? TIMEOUTS,
      walPath: join(dir, 'cs.wal'),
      createEmptyBlocks: opts.createEmptyBlocks ?? false,
      emptyBlocksIntervalMs: opts.emptyBlocksIntervalMs ?? 0,
      emptyProposalDelayMs: opts.emptyProposalDelayMs ?? 0,
    },
    {
      executor,
      blockStore,
      signer: FileSigner.open(keys[0]!, join(dir, 'pv.json')),
      network: LOOPBACK_NETWORK,
      logger: quiet,
      onFatal: (e) => {
        throw e;
      },
      txsAvailable: (s) => mempool.wait(s),
      mempoolSize: () => mempool.txs.length,
    },
  );
  await engine.start(state);
  cleanups.push(async () => {
    await engine.stop();
    for (const s of [blockStore, stateStore]) await s.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { engine, mempool, blockStore };
}

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('create_empty_blocks = false', () => {
  test('waits for txs; a block that changed the app hash is followed by one proof block, then it waits again', async () => {
    const { engine, mempool, blockStore } = await start();
    await engine.waitForHeight(1); // the first height is always made
    // nothing in the mempool: the engine is waiting for txs, not making blocks
    while (mempool.waits === 0) await settle(5);
    const idle = blockStore.height();
    await settle(300);
    expect(blockStore.height()).toBe(idle);

    mempool.add(enc('k=v'));
    await engine.waitForHeight(idle + 2);
    const withTx = await blockStore.loadBlock(idle + 1);
    const proof = await blockStore.loadBlock(idle + 2);
    expect(withTx!.data.txs.length).toBe(1);
    expect(proof!.data.txs.length).toBe(0);
    // the proof block carries the app hash the tx led to; then the engine waits again
    expect(proof!.header.appHash).not.toEqual(withTx!.header.appHash);
    await settle(300);
    expect(blockStore.height()).toBe(idle + 2);
  });

  test('create_empty_blocks_interval makes an empty block after that long without txs', async () => {
    const { engine, blockStore } = await start({ emptyBlocksIntervalMs: 200 });
    await engine.waitForHeight(1);
    const h = blockStore.height();
    await engine.waitForHeight(h + 2); // ~every 200 ms, no txs at all
    const b = await blockStore.loadBlock(h + 1);
    expect(b!.data.txs.length).toBe(0);
  });
});

describe('create_empty_blocks = true', () => {
  test('a non-zero create_empty_blocks_interval waits for txs, as in CometBFT (WaitForTxs)', async () => {
    const { engine, mempool, blockStore } = await start({ createEmptyBlocks: true, emptyBlocksIntervalMs: 60_000 });
    await engine.waitForHeight(1);
    while (mempool.waits === 0) await settle(5);
    const idle = blockStore.height();
    await settle(300); // with timeout_commit 5 ms, a chain that did not wait would be heights ahead
    expect(blockStore.height()).toBe(idle);
    mempool.add(enc('k=v'));
    await engine.waitForHeight(idle + 1);
    expect((await blockStore.loadBlock(idle + 1))!.data.txs.length).toBe(1);
  });
});

describe('empty_proposal_delay', () => {
  // timeout_propose far above the delay: the proposer's wait must end the round, not the timeout
  const slowPropose = { ...TIMEOUTS, propose: 60_000 };

  test('a proposer with an empty mempool waits for a tx and proposes it at once, a proof block included', async () => {
    const { engine, mempool, blockStore } = await start({ createEmptyBlocks: true, emptyProposalDelayMs: 30_000, timeouts: slowPropose });
    // the first height's proposer (this node) is already waiting
    while (mempool.waits === 0) await settle(5);
    const idle = blockStore.height();
    await settle(300);
    expect(blockStore.height()).toBe(idle); // waiting: no empty blocks meanwhile

    mempool.add(enc('a=1'));
    await engine.waitForHeight(idle + 1);
    expect((await blockStore.loadBlock(idle + 1))!.data.txs.length).toBe(1);
    // the next height must carry the new app hash (a proof block), yet its proposer still waits for
    // txs: the client's next tx rides in it instead of in the height after an empty proof block
    const waits = mempool.waits;
    while (mempool.waits === waits) await settle(5);
    await settle(100);
    expect(blockStore.height()).toBe(idle + 1);
    mempool.add(enc('b=2'));
    await engine.waitForHeight(idle + 2);
    const next = (await blockStore.loadBlock(idle + 2))!;
    expect(next.data.txs.length).toBe(1);
    expect(next.header.appHash).not.toEqual((await blockStore.loadBlock(idle + 1))!.header.appHash);
  });

  test('without txs the proposer proposes an empty block once the delay has passed', async () => {
    const { engine, blockStore } = await start({ createEmptyBlocks: true, emptyProposalDelayMs: 50, timeouts: slowPropose });
    await engine.waitForHeight(1);
    const h = blockStore.height();
    await engine.waitForHeight(h + 3);
    for (let i = h + 1; i <= h + 3; i++) expect((await blockStore.loadBlock(i))!.data.txs.length).toBe(0);
  });
});
