// Block sync over libp2p, four validators in one process (as in test/p2p/network.test.ts).
// Three start from genesis through BlockSync (nobody is ahead: consensus starts at once) and
// make 30+ heights; the fourth starts from genesis far behind, block-syncs from several peers
// in parallel, switches to consensus, and then is needed: with one of the three stopped, the
// chain only goes on because the late node votes.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { ConsensusEngine } from '../../src/consensus/engine.js';
import { NodeNetwork } from '../../src/node/network.js';
import { FileSigner } from '../../src/privval/index.js';
import type { BlockStore } from '../../src/store/index.js';
import { BlockSync, type SyncNetwork } from '../../src/sync/index.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { NETWORK_TEST_TIMEOUTS, openChainParts, peerSetup, pollUntil, scratchDir, testLogger, testNetworkOptions, type TestLogger } from '../helpers/libp2p-chain.js';

// SYNC_TEST_LOG=1 prints each node's info/warn/error lines, SYNC_TEST_LOG=debug debug lines too
const logFor = (i: number): TestLogger => testLogger('SYNC_TEST_LOG', i);
const TIMEOUTS = { ...NETWORK_TEST_TIMEOUTS, commit: 20 };
const AHEAD = 32;

const { dir, closers } = scratchDir('tally-sync-net-');

interface TestNode {
  engine: ConsensusEngine;
  sync: BlockSync;
  blockStore: BlockStore;
  /** Blocks served to this node's block sync, by peer. */
  served: Map<string, number>;
  /** Blocks this node applied through block sync. */
  syncApplied: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

describe('block sync over libp2p', () => {
  test('a validator 30+ heights behind syncs from several peers, then takes part in consensus', async () => {
    const keys = testKeys(4);
    const genesis = testGenesis(keys, { chainId: 'sync-net-chain' });
    const { nodeKeys, ports, addrs } = await peerSetup(4);
    const fatals: Error[] = [];

    const nodes: TestNode[] = [];
    for (let i = 0; i < 4; i++) {
      const d = join(dir, `node${i}`);
      const { blockStore, mempool, executor, state, close } = await openChainParts(d, genesis);
      const network = new NodeNetwork(testNetworkOptions(genesis.chainId, i, ports, addrs), { privateKey: nodeKeys[i]!, mempool, blockStore, logger: logFor(i) });
      const engine = new ConsensusEngine(
        { chainId: genesis.chainId, timeouts: TIMEOUTS, walPath: join(d, 'cs.wal') },
        { executor, blockStore, signer: FileSigner.open(keys[i]!, join(d, 'pv_state.json')), network, logger: logFor(i), onFatal: (e) => fatals.push(e) },
      );
      const served = new Map<string, number>();
      const inner = network.syncNetwork();
      // counts who served what, to see the download spread over peers
      const counted: SyncNetwork = {
        peers: () => inner.peers(),
        status: (p, s) => inner.status(p, s),
        blocks: async (p, from, count, s) => {
          const got = await inner.blocks(p, from, count, s);
          served.set(p, (served.get(p) ?? 0) + got.length);
          return got;
        },
      };
      const node: TestNode = {
        engine,
        blockStore,
        served,
        syncApplied: 0,
        sync: undefined as unknown as BlockSync,
        start: async () => {
          await network.start(engine);
          await node.sync.start(state);
        },
        stop: async () => {
          await node.sync.stop();
          await engine.stop();
          await network.stop();
        },
      };
      node.sync = new BlockSync(
        { chainId: genesis.chainId, enabled: true, batchSize: 4, maxPendingPerPeer: 2, statusIntervalMs: 200 },
        { network: counted, executor, blockStore, consensus: engine, logger: logFor(i), onApplied: () => node.syncApplied++, onFatal: (e) => fatals.push(e) },
      );
      nodes.push(node);
      closers.push(async () => {
        await node.stop();
        await close();
      });
    }

    const first = nodes.slice(0, 3);
    await Promise.all(first.map((n) => n.start()));
    await pollUntil(`three validators at height ${AHEAD}`, () => fatals.length > 0 || first.every((n) => n.engine.running && n.engine.chainState.lastBlockHeight >= AHEAD), 45_000);
    expect(fatals.map((e) => e.message)).toEqual([]);
    // nobody was ahead of them: consensus started without syncing a block
    for (const n of first) expect(n.syncApplied).toBe(0);

    const late = nodes[3]!;
    const t0 = Date.now();
    await late.start();
    expect(late.sync.syncing).toBe(true);
    await pollUntil('the late node to switch to consensus', () => fatals.length > 0 || late.engine.running, 45_000);
    const seconds = (Date.now() - t0) / 1000;
    expect(fatals.map((e) => e.message)).toEqual([]);
    const synced = late.syncApplied;
    console.log(`block sync: ${synced} blocks in ${seconds.toFixed(2)} s (${(synced / seconds).toFixed(0)} blocks/s), served by ${JSON.stringify([...late.served.values()])}`);
    expect(synced).toBeGreaterThanOrEqual(AHEAD - 1);
    // the download was spread over at least two peers
    expect([...late.served.values()].filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);

    // with validator 0 stopped, three of four (30 of 40 power) are needed: the late node must vote
    await nodes[0]!.stop();
    const rest = nodes.slice(1);
    const from = Math.max(...rest.map((n) => n.engine.chainState.lastBlockHeight));
    const target = from + 3;
    await pollUntil(`heights up to ${target} without validator 0`, () => fatals.length > 0 || rest.every((n) => n.engine.chainState.lastBlockHeight >= target), 45_000);
    expect(fatals.map((e) => e.message)).toEqual([]);
    for (let h = 1; h <= target; h++) {
      const metas = await Promise.all(rest.map((n) => n.blockStore.loadBlockMeta(h)));
      expect(new Set(metas.map((m) => toHex(m!.blockId.hash))).size, `block hashes at ${h}`).toBe(1);
      expect(new Set(metas.map((m) => toHex(m!.header.appHash))).size, `app hashes at ${h}`).toBe(1);
    }
    // and its signature is in the commits of those heights
    const lateAddr = toHex(keys[3]!.pubKey.address);
    const signedByLate = await Promise.all(
      [target - 1, target].map(async (h) => (await nodes[1]!.blockStore.loadBlockCommit(h - 1))?.signatures.some((s) => toHex(s.validatorAddress) === lateAddr) ?? false),
    );
    expect(signedByLate).toContain(true);
  }, 90_000);
});
