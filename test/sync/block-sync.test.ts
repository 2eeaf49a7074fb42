// BlockSync with fake peers serving a real chain (made by a lone validator in this process):
// blocks come from several peers, a peer whose commits do not verify is dropped and reported,
// the synced node ends with the same blocks and app hashes, consensus starts once caught up,
// and a node whose consensus falls behind goes back to block sync by itself.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { LOOPBACK_NETWORK, ConsensusEngine } from '../../src/consensus/engine.js';
import { FileSigner } from '../../src/privval/index.js';
import type { BlockStore, State } from '../../src/store/index.js';
import { extendedCommitToCommit } from '../../src/types/index.js';
import { BlockSync, type ConsensusControl, type SyncBlock, type SyncNetwork } from '../../src/sync/index.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { QUIET, openChainParts, pollUntil, scratchDir } from '../helpers/libp2p-chain.js';

const nop = (): void => {};
const TIMEOUTS = { propose: 1000, proposeDelta: 0, prevote: 1000, prevoteDelta: 0, precommit: 1000, precommitDelta: 0, commit: 5 };

const { dir, closers } = scratchDir('tally-blocksync-');

const keys = testKeys(1);
const genesis = testGenesis(keys, { chainId: 'block-sync-chain' });

async function stores(name: string) {
  const d = join(dir, name);
  const { blockStore, stateStore, executor, state, close } = await openChainParts(d, genesis, { mempool: false });
  closers.push(close);
  return { d, blockStore, stateStore, executor, state };
}

/** Polls every 20 ms. */
const until = (what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> => pollUntil(what, cond, timeoutMs, 20);

/** Peers that serve `source`'s store; "evil" corrupts every commit it sends. */
function fakeNetwork(source: BlockStore, peers: string[]) {
  const served = new Map<string, number>();
  const net: SyncNetwork = {
    peers: () => peers,
    status: async () => ({ base: source.base(), height: source.height() }),
    blocks: async (peer, from, count) => {
      const out: SyncBlock[] = [];
      for (let h = from; h < from + count && h <= source.height(); h++) {
        const block = (await source.loadBlock(h))!;
        const ext = await source.loadExtendedCommit(h);
        let commit = ext ? extendedCommitToCommit(ext) : (await source.loadCommit(h))!;
        if (peer === 'evil') commit = { ...commit, signatures: commit.signatures.map((s) => ({ ...s, signature: s.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) })) };
        out.push({ block, commit, extendedCommit: null });
      }
      served.set(peer, (served.get(peer) ?? 0) + out.length);
      await new Promise((r) => setTimeout(r, 2)); // a little latency, so requests overlap
      return out;
    },
  };
  return { net, served };
}

/** Consensus that does not move by itself: records when block sync starts and stops it. */
function fakeConsensus() {
  const c = {
    running: false,
    chainState: undefined as unknown as State,
    starts: [] as number[],
    stops: 0,
    async start(state: State) {
      c.running = true;
      c.chainState = state;
      c.starts.push(state.lastBlockHeight);
    },
    async stop() {
      c.running = false;
      c.stops++;
    },
  };
  return c satisfies ConsensusControl;
}

describe('BlockSync with fake peers over a real chain', () => {
  test('syncs from several peers, drops the bad one, starts consensus, and syncs again when fallen behind', async () => {
    // the chain: a lone validator making blocks
    const src = await stores('source');
    const producer = new ConsensusEngine(
      { chainId: genesis.chainId, timeouts: TIMEOUTS, walPath: join(src.d, 'cs.wal') },
      { executor: src.executor, blockStore: src.blockStore, signer: FileSigner.open(keys[0]!, join(src.d, 'pv_state.json')), network: LOOPBACK_NETWORK, logger: QUIET },
    );
    closers.push(() => producer.stop());
    await producer.start(src.state);
    await producer.waitForHeight(40);

    const node = await stores('follower');
    const { net, served } = fakeNetwork(src.blockStore, ['good1', 'evil', 'good2']);
    const consensus = fakeConsensus();
    const bad: { peer: string; reason: string }[] = [];
    const syncing: boolean[] = [];
    let applied = 0;
    const sync = new BlockSync(
      { chainId: genesis.chainId, enabled: true, batchSize: 5, maxPendingPerPeer: 2, statusIntervalMs: 50, watchIntervalMs: 50, switchLag: 3 },
      {
        network: net,
        executor: node.executor,
        blockStore: node.blockStore,
        consensus,
        logger: QUIET,
        metrics: { blockSyncing: (a) => syncing.push(a), blockSyncProgress: nop },
        onBadPeer: (peer, reason) => bad.push({ peer, reason }),
        onApplied: () => applied++,
      },
    );
    closers.push(() => sync.stop());
    await sync.start(node.state);
    await until('consensus started after block sync', () => consensus.starts.length === 1);

    // caught up: within one height of the source at the time
    expect(consensus.starts[0]).toBeGreaterThanOrEqual(40);
    expect(bad.map((b) => b.peer)).toEqual(['evil']);
    expect(bad[0]!.reason).toMatch(/commit does not verify/);
    // both good peers served blocks (requests were spread), and every applied block verified
    expect(served.get('good1') ?? 0).toBeGreaterThan(0);
    expect(served.get('good2') ?? 0).toBeGreaterThan(0);
    expect(applied).toBe(consensus.starts[0]);
    expect(syncing).toEqual([true, false]);
    for (let h = 1; h <= consensus.starts[0]!; h++) {
      const [a, b] = await Promise.all([src.blockStore.loadBlockMeta(h), node.blockStore.loadBlockMeta(h)]);
      expect(toHex(b!.blockId.hash), `block ${h}`).toBe(toHex(a!.blockId.hash));
    }
    // the app is level with the chain: its hash after H is what block H+1 carries
    const nextMeta = await src.blockStore.loadBlockMeta(consensus.starts[0]! + 1);
    expect(toHex(consensus.chainState.appHash)).toBe(toHex(nextMeta!.header.appHash));

    // the fake consensus does not move while the chain goes on: more than 3 behind, block sync takes over
    const first = consensus.starts[0]!;
    await producer.waitForHeight(first + 10);
    await until('block sync to run again and restart consensus', () => consensus.starts.length === 2);
    expect(consensus.stops).toBe(1);
    expect(sync.syncRuns).toBe(2);
    expect(consensus.starts[1]).toBeGreaterThan(first + 3); // more than switch_lag behind, then caught up
    const h = consensus.starts[1]!;
    const [a, b] = await Promise.all([src.blockStore.loadBlockMeta(h), node.blockStore.loadBlockMeta(h)]);
    expect(toHex(b!.blockId.hash)).toBe(toHex(a!.blockId.hash));
    expect(toHex(b!.header.appHash)).toBe(toHex(a!.header.appHash));
    await producer.stop();
  });

  test('stops and restarts a real engine: a follower whose consensus hears nothing is kept level by block sync', async () => {
    const src = await stores('source2');
    const producer = new ConsensusEngine(
      { chainId: genesis.chainId, timeouts: TIMEOUTS, walPath: join(src.d, 'cs.wal') },
      { executor: src.executor, blockStore: src.blockStore, signer: FileSigner.open(keys[0]!, join(src.d, 'pv_state.json')), network: LOOPBACK_NETWORK, logger: QUIET },
    );
    closers.push(() => producer.stop());
    await producer.start(src.state);
    await producer.waitForHeight(10);

    const node = await stores('follower2');
    // a non-validator whose consensus gets no messages (LOOPBACK): only block sync moves it
    const engine = new ConsensusEngine(
      { chainId: genesis.chainId, timeouts: TIMEOUTS, walPath: join(node.d, 'cs.wal') },
      { executor: node.executor, blockStore: node.blockStore, signer: null, network: LOOPBACK_NETWORK, logger: QUIET },
    );
    closers.push(() => engine.stop());
    expect(engine.running).toBe(false);
    const { net } = fakeNetwork(src.blockStore, ['p1', 'p2']);
    const sync = new BlockSync(
      { chainId: genesis.chainId, enabled: true, batchSize: 3, statusIntervalMs: 50, watchIntervalMs: 50, switchLag: 3 },
      { network: net, executor: node.executor, blockStore: node.blockStore, consensus: engine, logger: QUIET },
    );
    closers.push(() => sync.stop());
    await sync.start(node.state);
    await until('consensus started', () => engine.running);
    // waitForHeight resolves for heights block sync applied before consensus started
    await engine.waitForHeight(engine.chainState.lastBlockHeight);
    // start() reads the seen commit and the WAL before it enters its first height (running is
    // true from the call on): on a busy machine this line can come first
    await until('consensus to enter its first height', () => engine.height > 0);
    const firstStart = engine.chainState.lastBlockHeight;
    expect(firstStart).toBeGreaterThanOrEqual(9);
    expect(engine.height).toBe(firstStart + 1);

    await producer.waitForHeight(firstStart + 12);
    // (the same wait as at the first start: running is true before the engine enters its height)
    await until('block sync to stop, sync and restart the engine', () => sync.syncRuns >= 2 && engine.running && engine.height > 0 && engine.chainState.lastBlockHeight > firstStart + 3);
    const h = engine.chainState.lastBlockHeight;
    expect(engine.height).toBe(h + 1);
    // the engine restarted from the synced seen commit, and the stores agree with the source
    const [a, b] = await Promise.all([src.blockStore.loadBlockMeta(h), node.blockStore.loadBlockMeta(h)]);
    expect(toHex(b!.blockId.hash)).toBe(toHex(a!.blockId.hash));
    expect(engine.votesFor(h + 1, 0)).toEqual([]);
    await producer.stop();
  });
});
