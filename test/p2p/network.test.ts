// Four validators in one process, each with its own libp2p host on 127.0.0.1 (NodeNetwork:
// gossip for proposals, votes and txs; the commit protocol for catch-up). Three start and make
// blocks; a tx given to one node's RPC-facing mempool is gossiped and committed; then the fourth
// starts late, catches up through peers' commits, and takes part in consensus again.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { ConsensusEngine } from '../../src/consensus/engine.js';
import { NodeNetwork, catchUpAction } from '../../src/node/network.js';
import { FileSigner } from '../../src/privval/index.js';
import type { BlockStore } from '../../src/store/index.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { NETWORK_TEST_TIMEOUTS, openChainParts, peerSetup, pollUntil, scratchDir, testLogger, testNetworkOptions, type TestLogger } from '../helpers/libp2p-chain.js';

// P2P_TEST_LOG=1 prints each node's info/warn/error lines, P2P_TEST_LOG=debug debug lines too
const logFor = (i: number): TestLogger => testLogger('P2P_TEST_LOG', i);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const { dir, closers } = scratchDir('tally-p2p-net-');

interface TestNode {
  engine: ConsensusEngine;
  network: NodeNetwork;
  blockStore: BlockStore;
  start(): Promise<void>;
}

describe('four validators over libp2p on 127.0.0.1', () => {
  test('agree on blocks, gossip a tx to commit, and a late validator catches up and joins', async () => {
    const keys = testKeys(4);
    const genesis = testGenesis(keys, { chainId: 'p2p-net-chain' });
    const { nodeKeys, ports, addrs } = await peerSetup(4);

    const nodes: TestNode[] = [];
    const fatals: Error[] = [];
    for (let i = 0; i < 4; i++) {
      const d = join(dir, `node${i}`);
      const { blockStore, mempool, executor, state, close } = await openChainParts(d, genesis);
      const network = new NodeNetwork(testNetworkOptions(genesis.chainId, i, ports, addrs), { privateKey: nodeKeys[i]!, mempool, blockStore, logger: logFor(i) });
      const engine = new ConsensusEngine(
        { chainId: genesis.chainId, timeouts: NETWORK_TEST_TIMEOUTS, walPath: join(d, 'cs.wal') },
        { executor, blockStore, signer: FileSigner.open(keys[i]!, join(d, 'pv_state.json')), network, logger: logFor(i), onFatal: (e) => fatals.push(e) },
      );
      nodes.push({
        engine,
        network,
        blockStore,
        start: async () => {
          await engine.start(state);
          await network.start(engine);
        },
      });
      closers.push(async () => {
        await network.stop();
        await engine.stop();
        await close();
      });
    }

    const first = nodes.slice(0, 3);
    for (const n of first) await n.start();
    await pollUntil('three validators at height 3', () => fatals.length > 0 || first.every((n) => n.engine.chainState.lastBlockHeight >= 3), 30_000);
    expect(fatals.map((e) => e.message)).toEqual([]);

    // a tx through node 0's RPC-facing mempool is gossiped; whoever proposes next includes it
    const tx = enc('gossiped=yes');
    const res = await first[0]!.network.mempool.checkTx(tx);
    expect(res.code).toBe(0);
    let txHeight = 0;
    const txCommitted = async (): Promise<void> => {
      const top = first[1]!.engine.chainState.lastBlockHeight;
      for (let h = 1; h <= top && txHeight === 0; h++) {
        const b = await first[1]!.blockStore.loadBlock(h);
        if (b?.data.txs.some((t) => toHex(t) === toHex(tx))) txHeight = h;
      }
    };
    const end = Date.now() + 20_000;
    while (txHeight === 0 && Date.now() < end) {
      await txCommitted();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(txHeight).toBeGreaterThan(0);

    // the fourth validator starts far behind: it catches up through the commit protocol
    const ahead = Math.max(...first.map((n) => n.engine.chainState.lastBlockHeight));
    const late = nodes[3]!;
    await late.start();
    await pollUntil('the late node to catch up', () => late.engine.chainState.lastBlockHeight >= ahead, 30_000);
    // …and then goes on with the others: four more heights with everyone
    const target = ahead + 4;
    await Promise.all(nodes.map((n) => n.engine.waitForHeight(target)));

    for (let h = 1; h <= target; h++) {
      const metas = await Promise.all(nodes.map((n) => n.blockStore.loadBlockMeta(h)));
      expect(new Set(metas.map((m) => toHex(m!.blockId.hash))).size, `block hashes at ${h}`).toBe(1);
      expect(new Set(metas.map((m) => toHex(m!.header.appHash))).size, `app hashes at ${h}`).toBe(1);
    }
    // the late node's own seen commits verify (a catch-up commit, not its partial precommits)
    const seen = await late.blockStore.loadSeenCommit(ahead);
    expect(seen?.signatures.filter((s) => s.blockIdFlag === 2).length).toBeGreaterThanOrEqual(3);
    // every node is connected to the three others
    for (const n of nodes) expect(n.network.peers().length).toBe(3);
  }, 90_000);
});

describe('when the catch-up delay ends', () => {
  test('a node that caught up does nothing, one that made no progress fetches commits, one still behind after progress waits again', () => {
    // needed 200 when the delay began; peers were seen at 203
    expect(catchUpAction(200, 204, [203])).toBe('none');
    expect(catchUpAction(200, 203, [202, 203])).toBe('none'); // needs 203: the peers have not committed it
    expect(catchUpAction(200, 200, [203])).toBe('catch_up');
    // the case that stalled a 4-validator testnet for 4 s: the node moved from 200 to 201 but the
    // peers were at 203 and waiting for it (their proposer) — it must not be forgotten
    expect(catchUpAction(200, 201, [203, 202])).toBe('wait_again');
    expect(catchUpAction(201, 201, [203, 202])).toBe('catch_up');
    expect(catchUpAction(5, 5, [])).toBe('none');
  });
});
