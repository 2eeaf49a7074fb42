import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { encodeResponseFinalizeBlock, serialize } from '../../src/abci/index.js';
import { KVStoreApp } from '../../src/apps/kvstore/index.js';
import { toHex, type Block, type Commit } from '../../src/codec/index.js';
import type { PrivKey } from '../../src/crypto/index.js';
import { BlockExecutor, ExecutionError, handshake, stateFromGenesis, type AppliedBlock } from '../../src/execution/index.js';
import { BlockIndex, BlockStore, StateStore, TxIndex, type State } from '../../src/store/index.js';
import type { GenesisDoc } from '../../src/types/genesis.js';
import { signCommit, testGenesis, testKeys } from '../helpers/chain.js';
import { TestMempool } from '../helpers/mempool.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);


interface Env {
  dir: string;
  app: KVStoreApp;
  blockStore: BlockStore;
  stateStore: StateStore;
  txIndex: TxIndex;
  blockIndex: BlockIndex;
  mempool: TestMempool;
  executor: BlockExecutor;
  close(): Promise<void>;
}

const silent = { info: () => {}, warn: () => {}, debug: () => {} };
const dirs: string[] = [];
const envs: Env[] = [];
afterEach(async () => {
  for (const e of envs.splice(0)) await e.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function openEnv(dir: string, appDir = join(dir, 'app'), onApplied?: (a: AppliedBlock) => void, discardFinalizeBlockResponses = false): Promise<Env> {
  const app = await KVStoreApp.open({ dir: appDir, syncWrites: false });
  const blockStore = new BlockStore({ path: join(dir, 'blockstore') });
  const stateStore = new StateStore({ path: join(dir, 'state') });
  const txIndex = new TxIndex({ path: join(dir, 'txindex') });
  const blockIndex = new BlockIndex({ path: join(dir, 'blockindex') });
  for (const s of [blockStore, stateStore, txIndex, blockIndex]) await s.open();
  const mempool = new TestMempool();
  const executor = new BlockExecutor({ app: serialize(app), blockStore, stateStore, txIndex, blockIndex, mempool, logger: silent, discardFinalizeBlockResponses, ...(onApplied ? { onApplied } : {}) });
  const env: Env = {
    dir,
    app,
    blockStore,
    stateStore,
    txIndex,
    blockIndex,
    mempool,
    executor,
    close: async () => {
      for (const s of [blockStore, stateStore, txIndex, blockIndex]) await s.close();
      await app.close();
    },
  };
  envs.push(env);
  return env;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tally-exec-'));
  dirs.push(d);
  return d;
}

/** Close `env` as a crash or a stop would, and drop it from the after-test cleanup. */
async function closeEnv(env: Env): Promise<void> {
  await env.close();
  envs.splice(envs.indexOf(env), 1);
}

/** Build, sign and store the next block with `tx` in it, without applying it. */
async function storeNextBlock(env: Env, state: State, keys: readonly PrivKey[], commit: Commit | null, tx: string): Promise<Block> {
  env.mempool.txs.push(enc(tx));
  const { block, blockId, parts, partSetHeader } = await env.executor.createProposalBlock(state, keys[0]!.pubKey.address, commit, null);
  const height = block.header.height;
  await env.blockStore.saveBlock(block, signCommit(state.chainId, state.validators, keys, height, 0, blockId, block.header.time), { header: partSetHeader, parts });
  return block;
}

async function boot(env: Env, genesis: GenesisDoc): Promise<State> {
  const stored = await env.stateStore.load();
  const { state } = await handshake(stored ?? stateFromGenesis(genesis), { genesis, app: serialize(env.app), blockStore: env.blockStore, stateStore: env.stateStore, executor: env.executor, logger: silent, version: 'test' });
  return state;
}

/** One height as a single validator does it: propose, check, sign, store, apply. */
async function produce(env: Env, state: State, keys: readonly PrivKey[], lastCommit: Commit | null): Promise<{ state: State; commit: Commit; block: Block }> {
  const proposer = state.validators.getProposer();
  const { block, blockId, parts, partSetHeader } = await env.executor.createProposalBlock(state, proposer.address, lastCommit, null);
  expect(await env.executor.processProposal(state, block)).toEqual({ valid: true });
  const time = { seconds: block.header.time.seconds + 1, nanos: 0 };
  const commit = signCommit(state.chainId, state.validators, keys, block.header.height, 0, blockId, time);
  await env.blockStore.saveBlock(block, commit, { header: partSetHeader, parts });
  const applied = await env.executor.applyBlock(state, blockId, block);
  return { state: applied.state, commit, block };
}

/** A fresh single-validator chain with `blocks` blocks of one tx `<prefix><i>=v<i>` each. */
async function chainOf(blocks: number, prefix: string): Promise<{ dir: string; env: Env; state: State; commit: Commit | null; genesis: GenesisDoc; keys: PrivKey[] }> {
  const keys = testKeys(1);
  const genesis = testGenesis(keys);
  const dir = tempDir();
  const env = await openEnv(dir);
  let state = await boot(env, genesis);
  let commit: Commit | null = null;
  for (let i = 0; i < blocks; i++) {
    env.mempool.txs.push(enc(`${prefix}${i}=v${i}`));
    ({ state, commit } = await produce(env, state, keys, commit));
  }
  return { dir, env, state, commit, genesis, keys };
}

/** Holds every state save of `env` until the returned function is called. */
function holdStateSaves(env: Env): () => void {
  const realSave = env.stateStore.save.bind(env.stateStore);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  env.stateStore.save = async (s) => {
    await gate;
    return realSave(s);
  };
  return release;
}

describe('block execution with the kvstore app', () => {
  test('txs become queryable, indexed, and the chain moves forward block by block', async () => {
    const keys = testKeys(1);
    const genesis = testGenesis(keys);
    const env = await openEnv(tempDir());
    let state = await boot(env, genesis);
    let commit: Commit | null = null;
    env.mempool.txs.push(enc('name=satoshi'), enc('lang=ts'));
    for (let i = 0; i < 3; i++) ({ state, commit } = await produce(env, state, keys, commit));
    expect(state.lastBlockHeight).toBe(3);
    expect(env.blockStore.height()).toBe(3);
    expect(env.mempool.txs).toEqual([]);
    const q = await env.app.query({ data: enc('name'), path: '/key', height: 0, prove: false });
    expect(dec(q.value)).toBe('satoshi');
    expect(q.height).toBe(3);
    // block 2 carries the app hash after block 1, and the state the one after block 3
    const b2 = await env.blockStore.loadBlock(2);
    const info = await env.app.info({ version: '', blockVersion: 11n, p2pVersion: 8n, abciVersion: '' });
    expect(toHex(info.lastBlockAppHash)).toBe(toHex(state.appHash));
    expect(b2!.header.appHash.length).toBe(32);
    const found = await env.txIndex.search("tx.height=1");
    expect(found.total).toBe(2);
    // BFT time: block 3's time is the median of block 2's commit timestamps
    const b3 = await env.blockStore.loadBlock(3);
    expect(b3!.header.time).toEqual(b3!.lastCommit!.signatures[0]!.timestamp);
  });

  test('a block that does not follow the state is rejected by ProcessProposal with a reason', async () => {
    const keys = testKeys(1);
    const env = await openEnv(tempDir());
    let state = await boot(env, testGenesis(keys));
    let commit: Commit | null = null;
    ({ state, commit } = await produce(env, state, keys, commit));
    const { block } = await env.executor.createProposalBlock(state, keys[0]!.pubKey.address, commit, null);
    const bad: Block[] = [
      { ...block, header: { ...block.header, appHash: new Uint8Array(32) } },
      { ...block, header: { ...block.header, height: 5 } },
      { ...block, header: { ...block.header, time: { seconds: 1, nanos: 0 } } },
      { ...block, data: { txs: [enc('x=1')] } },
      { ...block, lastCommit: { ...commit, signatures: commit.signatures.map((s) => ({ ...s, signature: new Uint8Array(64).fill(7) })) } },
    ];
    for (const b of bad) {
      const r = await env.executor.processProposal(state, b);
      expect(r.valid).toBe(false);
      expect(r.reason).toBeTruthy();
    }
  });

  test('a block validated by ProcessProposal does not vouch for another block with the same header', async () => {
    const keys = testKeys(1);
    const env = await openEnv(tempDir());
    let state = await boot(env, testGenesis(keys));
    let commit: Commit | null = null;
    ({ state, commit } = await produce(env, state, keys, commit));
    env.mempool.txs.push(enc('a=1'));
    const { block, blockId } = await env.executor.createProposalBlock(state, keys[0]!.pubKey.address, commit, null);
    expect((await env.executor.processProposal(state, block)).valid).toBe(true);
    const swapped = { ...block, data: { txs: [enc('a=2')] } };
    await expect(env.executor.applyBlock(state, blockId, swapped)).rejects.toThrow(/data_hash/);
    // the validated block itself still applies
    expect((await env.executor.applyBlock(state, blockId, block)).state.lastBlockHeight).toBe(2);
  });

  test('a decided block with a different app hash stops execution, naming both hashes and the height', async () => {
    const keys = testKeys(1);
    const env = await openEnv(tempDir());
    let state = await boot(env, testGenesis(keys));
    let commit: Commit | null = null;
    ({ state, commit } = await produce(env, state, keys, commit));
    const { block, blockId } = await env.executor.createProposalBlock(state, keys[0]!.pubKey.address, commit, null);
    const forged = { ...block, header: { ...block.header, appHash: new Uint8Array(32).fill(0xab) } };
    const err = await env.executor.applyBlock(state, blockId, forged).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutionError);
    expect((err as ExecutionError).kind).toBe('app_hash_mismatch');
    expect((err as ExecutionError).message).toContain('height 2');
    expect((err as ExecutionError).message).toContain(toHex(state.appHash));
    expect((err as ExecutionError).message).toContain('AB'.repeat(32));
  });
});

describe('start-up handshake', () => {
  test('an app behind by any number of blocks is replayed up to the store', async () => {
    const { dir, env: first, state, genesis } = await chainOf(5, 'k');
    let env = first;
    const finalHash = toHex(state.appHash);
    await closeEnv(env);
    // a brand-new app directory: the app is at height 0, the store at 5
    env = await openEnv(dir, join(dir, 'fresh-app'));
    const restarted = await boot(env, genesis);
    expect(restarted.lastBlockHeight).toBe(5);
    expect(toHex(restarted.appHash)).toBe(finalHash);
    const q = await env.app.query({ data: enc('k4'), path: '/key', height: 0, prove: false });
    expect(dec(q.value)).toBe('v4');
  });

  test('store one block ahead of the state (crash after saving the block) is applied on start', async () => {
    const { dir, env: first, state, commit, genesis, keys } = await chainOf(1, 'p');
    let env = first;
    await storeNextBlock(env, state, keys, commit, 'late=yes');
    await closeEnv(env); // "crash" before applyBlock
    env = await openEnv(dir);
    const restarted = await boot(env, genesis);
    expect(restarted.lastBlockHeight).toBe(2);
    expect(dec((await env.app.query({ data: enc('late'), path: '', height: 0, prove: false })).value)).toBe('yes');
  });

  test('app committed but the state was not saved: rebuilt from the stored FinalizeBlock response', async () => {
    const { dir, env: first, state, commit, genesis, keys } = await chainOf(1, 'p');
    let env = first;
    const block = await storeNextBlock(env, state, keys, commit, 'once=only');
    // the first half of applyBlock, then a "crash" before the state is saved
    const resp = await env.executor.finalize(state, block);
    await env.stateStore.saveFinalizeBlockResponse(2, encodeResponseFinalizeBlock(resp));
    await env.executor.commit(2, block.data.txs, resp.txResults);
    await closeEnv(env);
    env = await openEnv(dir);
    const restarted = await boot(env, genesis);
    expect(restarted.lastBlockHeight).toBe(2);
    expect(toHex(restarted.appHash)).toBe(toHex(resp.appHash));
    // the tx was executed exactly once and is indexed
    expect((await env.txIndex.search("tx.height=2")).total).toBe(1);
  });

  test('storage.discard_abci_responses: only the latest height keeps its response, and a crash after Commit still recovers', async () => {
    const keys = testKeys(1);
    const genesis = testGenesis(keys);
    const dir = tempDir();
    let env = await openEnv(dir, undefined, undefined, true);
    let state = await boot(env, genesis);
    let commit: Commit | null = null;
    const stored = async (): Promise<number[]> => {
      const out: number[] = [];
      for (let h = 1; h <= env.blockStore.height(); h++) if (await env.stateStore.loadFinalizeBlockResponse(h)) out.push(h);
      return out;
    };
    for (let i = 0; i < 4; i++) {
      env.mempool.txs.push(enc(`d${i}=v${i}`));
      ({ state, commit } = await produce(env, state, keys, commit));
      expect(await stored()).toEqual([state.lastBlockHeight]);
    }
    // the first half of height 5's applyBlock, then a "crash" before its state, index and deletion
    const block = await storeNextBlock(env, state, keys, commit, 'late=one');
    const resp = await env.executor.finalize(state, block);
    await env.stateStore.saveFinalizeBlockResponse(5, encodeResponseFinalizeBlock(resp));
    await env.executor.commit(5, block.data.txs, resp.txResults);
    await closeEnv(env);
    env = await openEnv(dir, undefined, undefined, true);
    const restarted = await boot(env, genesis);
    expect(restarted.lastBlockHeight).toBe(5);
    expect(toHex(restarted.appHash)).toBe(toHex(resp.appHash));
    // the handshake rebuilt height 5 from its kept response, and indexed it as it did
    expect(await env.executor.recoverIndexes(restarted)).toBe(0);
    expect((await env.txIndex.search('tx.height>0')).total).toBe(5);
    expect(await stored()).toEqual([5]);
  });

  test('storage.discard_abci_responses turned on for a chain that kept every response drops the old ones at start', async () => {
    const { dir, env: first, genesis } = await chainOf(3, 'k');
    let env = first;
    expect(await env.stateStore.loadFinalizeBlockResponse(1)).toBeDefined();
    await closeEnv(env);
    env = await openEnv(dir, undefined, undefined, true);
    const restarted = await boot(env, genesis);
    expect(await env.executor.recoverIndexes(restarted)).toBe(0);
    for (const h of [1, 2]) expect(await env.stateStore.loadFinalizeBlockResponse(h)).toBeUndefined();
    expect(await env.stateStore.loadFinalizeBlockResponse(3)).toBeDefined();
  });

  test('indexes a crash left behind the state are rebuilt on start from the stored blocks and results', async () => {
    const { dir, env: first, state, genesis } = await chainOf(3, 'r');
    let env = first;
    expect(await env.executor.recoverIndexes(state)).toBe(0); // nothing missing
    expect(await env.txIndex.lastIndexedHeight()).toBe(3);
    await closeEnv(env);
    // the indexes are lost (as if the state write landed and theirs did not)
    rmSync(join(dir, 'txindex'), { recursive: true, force: true });
    rmSync(join(dir, 'blockindex'), { recursive: true, force: true });
    env = await openEnv(dir);
    const restarted = await boot(env, genesis);
    expect((await env.txIndex.search("tx.height>0")).total).toBe(0);
    expect(await env.executor.recoverIndexes(restarted)).toBe(3);
    expect((await env.txIndex.search("tx.height>0")).total).toBe(3);
    expect((await env.blockIndex.search('block.height >= 1')).total).toBe(3);
    expect(await env.txIndex.lastIndexedHeight()).toBe(3);
  });

  test('a block index behind the tx index (separate unsynced databases) is filled in from the gap', async () => {
    const { dir, env: first, genesis } = await chainOf(4, 'g');
    let env = first;
    await closeEnv(env);
    // only the block index lost its last heights (a power cut kept the tx index's writes)
    rmSync(join(dir, 'blockindex'), { recursive: true, force: true });
    env = await openEnv(dir);
    for (let h = 1; h <= 2; h++) await env.blockIndex.index(h, []);
    const restarted = await boot(env, genesis);
    expect(await env.txIndex.lastIndexedHeight()).toBe(4);
    expect(await env.executor.recoverIndexes(restarted)).toBe(2);
    expect((await env.blockIndex.search('block.height >= 1')).total).toBe(4);
    expect((await env.txIndex.search('tx.height>0')).total).toBe(4); // re-indexing heights 3 and 4 added no duplicates
  });

  test('in the background, applyBlock returns before the state is durable; the next block and settled() wait for it', async () => {
    const { env, state, commit, keys } = await chainOf(1, 'b');
    const release = holdStateSaves(env);
    const block = await storeNextBlock(env, state, keys, commit, 'bg=1');
    const blockId = (await env.blockStore.loadBlockMeta(2))!.blockId;
    const applied = await env.executor.applyBlock(state, blockId, block, undefined, { background: true });
    expect(applied.state.lastBlockHeight).toBe(2); // the new state, for consensus to go on with
    expect((await env.stateStore.load())!.lastBlockHeight).toBe(1); // not yet on disk
    let settled = false;
    const waiting = env.executor.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    release();
    await waiting;
    expect((await env.stateStore.load())!.lastBlockHeight).toBe(2);
    expect((await env.txIndex.search('tx.height=2')).total).toBe(1);
  });

  test('onApplied is told once the app committed the block, while its index and state writes may still run', async () => {
    const keys = testKeys(1);
    const genesis = testGenesis(keys);
    const told: [number, number][] = [];
    const env = await openEnv(tempDir(), undefined, (a) => told.push([a.block.header.height, a.response.txResults.length]));
    const state = await boot(env, genesis);
    const release = holdStateSaves(env);
    const block = await storeNextBlock(env, state, keys, null, 'early=1');
    const blockId = (await env.blockStore.loadBlockMeta(1))!.blockId;
    await env.executor.applyBlock(state, blockId, block, undefined, { background: true });
    expect(told).toEqual([[1, 1]]);
    expect((await env.stateStore.load())?.lastBlockHeight ?? 0).toBe(0); // the state save is still held
    expect((await env.app.info({ version: '', blockVersion: 0n, p2pVersion: 0n, abciVersion: '' })).lastBlockHeight).toBe(1); // but the app committed
    expect((await env.stateStore.loadFinalizeBlockResponse(1)) !== undefined).toBe(true); // and the results are stored
    release();
    await env.executor.settled();
    expect((await env.stateStore.load())!.lastBlockHeight).toBe(1);
  });

  test('a failed background state save is reported by settled() and refuses the next block', async () => {
    const { env, state, commit, keys } = await chainOf(1, 'f');
    env.stateStore.save = () => Promise.reject(new Error('disk full'));
    const block = await storeNextBlock(env, state, keys, commit, 'f=1');
    const blockId = (await env.blockStore.loadBlockMeta(2))!.blockId;
    const applied = await env.executor.applyBlock(state, blockId, block, undefined, { background: true });
    expect(applied.state.lastBlockHeight).toBe(2);
    await expect(env.executor.settled()).rejects.toThrow('disk full');
    // executing anything more on top of a state that never reached the disk is refused
    await expect(env.executor.applyBlock(state, blockId, block)).rejects.toThrow('disk full');
    await expect(env.executor.applyCommittedResponse(state, blockId, block, applied.response)).rejects.toThrow('disk full');
  });

  test('an app ahead of the store is refused with a clear error', async () => {
    const keys = testKeys(1);
    const genesis = testGenesis(keys);
    const dir = tempDir();
    let env = await openEnv(dir);
    let state = await boot(env, genesis);
    ({ state } = await produce(env, state, keys, null));
    await closeEnv(env);
    // a new node home, but the old app directory (at height 1)
    const other = tempDir();
    env = await openEnv(other, join(dir, 'app'));
    await expect(boot(env, genesis)).rejects.toThrow(/ahead of the block store/);
    expect(state.lastBlockHeight).toBe(1);
  });
});
