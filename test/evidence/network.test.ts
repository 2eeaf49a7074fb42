// Four validators in one process over libp2p on 127.0.0.1, each with its evidence pool wired as
// the node wires it (consensus reports → pool, pool ↔ gossip, pool → executor). Validator 3
// double-signs: two prevotes for different blocks at the height and round being decided,
// signed with its key and published on the vote topic. The honest nodes' vote keepers see the
// conflict, their pools turn it into evidence once the height is committed, a proposer puts it
// in a block, and every node commits that block and tells its app. Then evidence given to one
// node's pool (as broadcast_evidence does) reaches the others by gossip and is committed too.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MisbehaviorType } from '../../src/abci/index.js';
import { toHex, type Block, type DuplicateVoteEvidence } from '../../src/codec/index.js';
import { ConsensusEngine } from '../../src/consensus/engine.js';
import { EvidencePool, evidenceKey } from '../../src/evidence/index.js';
import { NodeNetwork } from '../../src/node/network.js';
import { FileSigner } from '../../src/privval/index.js';
import type { BlockStore } from '../../src/store/index.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { NETWORK_TEST_TIMEOUTS, openChainParts, peerSetup, pollUntil, scratchDir, testLogger, testNetworkOptions, type TestLogger } from '../helpers/libp2p-chain.js';
import { RecordingApp, conflictingVotes } from './helpers.js';

// EVIDENCE_TEST_LOG=1 prints each node's info/warn/error lines, EVIDENCE_TEST_LOG=debug debug lines too
const logFor = (i: number): TestLogger => testLogger('EVIDENCE_TEST_LOG', i);
/** Polls every 50 ms. */
const until = (what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, tick?: () => void): Promise<void> => pollUntil(what, cond, timeoutMs, 50, tick);

const { dir, closers } = scratchDir('tally-evidence-net-');

interface TestNode {
  engine: ConsensusEngine;
  network: NodeNetwork;
  blockStore: BlockStore;
  pool: EvidencePool;
  app: RecordingApp;
  reports: number;
}

/** The first block (height, block) of `n` that holds evidence matching `pred`, if any. */
async function blockWithEvidence(n: TestNode, pred: (e: DuplicateVoteEvidence) => boolean): Promise<{ height: number; block: Block } | undefined> {
  for (let h = 1; h <= n.blockStore.height(); h++) {
    const block = await n.blockStore.loadBlock(h);
    if (block?.evidence.some(pred)) return { height: h, block };
  }
  return undefined;
}

describe('evidence over libp2p', () => {
  test('a double-signing validator is caught by consensus, and its evidence is committed on every node', async () => {
    const keys = testKeys(4);
    const genesis = testGenesis(keys, { chainId: 'evidence-net-chain' });
    const { nodeKeys, ports, addrs } = await peerSetup(4);
    const fatals: Error[] = [];
    const nodes: TestNode[] = [];

    for (let i = 0; i < 4; i++) {
      const d = join(dir, `node${i}`);
      const app = new RecordingApp();
      let pool!: EvidencePool;
      const { blockStore, mempool, executor, state, close } = await openChainParts(d, genesis, {
        app,
        logger: logFor(i),
        evidence: async ({ stateStore, blockStore }) => {
          pool = new EvidencePool({ chainId: genesis.chainId, path: join(d, 'evidence'), sync: false, rebroadcastIntervalMs: 500 }, { stateStore, blockStore, logger: logFor(i) });
          await pool.open();
          return pool;
        },
      });
      await pool.start(state);
      const network = new NodeNetwork(testNetworkOptions(genesis.chainId, i, ports, addrs), { privateKey: nodeKeys[i]!, mempool, blockStore, evidence: pool, logger: logFor(i) });
      pool.onEvidence((e, resend) => network.broadcastEvidence(e, resend));
      const node: TestNode = { engine: undefined as unknown as ConsensusEngine, network, blockStore, pool, app, reports: 0 };
      node.engine = new ConsensusEngine(
        { chainId: genesis.chainId, timeouts: NETWORK_TEST_TIMEOUTS, walPath: join(d, 'cs.wal') },
        {
          executor,
          blockStore,
          signer: FileSigner.open(keys[i]!, join(d, 'pv_state.json')),
          network,
          logger: logFor(i),
          onFatal: (e) => fatals.push(e),
          onEvidence: (e) => {
            node.reports++;
            pool.reportConflictingVotes(e);
          },
        },
      );
      nodes.push(node);
      await node.engine.start(state);
      await network.start(node.engine);
      closers.push(async () => {
        await network.stop();
        await node.engine.stop();
        await close();
      });
    }

    await until('four validators at height 2', () => fatals.length > 0 || nodes.every((n) => n.engine.chainState.lastBlockHeight >= 2), 30_000);
    expect(fatals.map((e) => e.message)).toEqual([]);

    // validator 3 double-signs at the height and round being decided (published through its
    // own host; gossipsub does not deliver to self, so its own engine never sees them)
    const byz = keys[3]!;
    const byzAddr = toHex(byz.pubKey.address);
    let fill = 1;
    const doubleSign = (): void => {
      const e = nodes[0]!.engine;
      const index = e.chainState.validators.getByAddress(byz.pubKey.address)!.index;
      for (const v of conflictingVotes(genesis.chainId, byz, index, e.height, e.round, fill)) nodes[3]!.network.gossip.publishVote(v);
      fill = (fill + 2) % 250;
    };
    doubleSign();
    // a height can end before the votes arrive: sign again until an honest vote keeper caught it
    await until('an honest node to detect the double sign', () => nodes.slice(0, 3).some((n) => n.reports > 0), 30_000, doubleSign);

    const byValidator3 = (e: DuplicateVoteEvidence): boolean => toHex(e.voteA.validatorAddress) === byzAddr;
    const found: ({ height: number; block: Block } | undefined)[] = [];
    await until(
      'the evidence in a committed block on every node',
      async () => {
        for (const [i, n] of nodes.entries()) found[i] ??= await blockWithEvidence(n, byValidator3);
        return found.every((f) => f !== undefined);
      },
      60_000,
    );
    expect(fatals.map((e) => e.message)).toEqual([]);
    // the same block on every node
    const first = found[0]!;
    expect(new Set(found.map((f) => f!.height))).toEqual(new Set([first.height]));
    expect(new Set(found.map((f) => toHex(f!.block.header.evidenceHash))).size).toBe(1);
    const ev = first.block.evidence.find(byValidator3)!;
    expect(ev.validatorPower).toBe(10n);
    expect(ev.totalVotingPower).toBe(40n);
    // stamped with the time of the block of the height the votes were for
    expect(ev.timestamp).toEqual((await nodes[0]!.blockStore.loadBlockMeta(ev.voteA.height))!.header.time);
    for (const n of nodes) {
      // every app heard of it in FinalizeBlock
      const fin = n.app.finalized.find((r) => r.height === first.height)!;
      expect(fin.misbehavior.some((m) => m.type === MisbehaviorType.DuplicateVote && toHex(m.validator.address) === byzAddr && m.height === ev.voteA.height)).toBe(true);
      // and it is committed in every pool, never to be proposed again
      expect(await n.pool.isCommitted(ev)).toBe(true);
      expect(n.pool.isPending(evidenceKey(ev))).toBe(false);
    }

    // evidence handed to one node's pool (what broadcast_evidence does) is gossiped and committed everywhere
    const e0 = nodes[0]!;
    const past = 2;
    const meta = await e0.blockStore.loadBlockMeta(past);
    expect(meta).toBeDefined();
    const key2 = keys[2]!;
    const index2 = e0.engine.chainState.validators.getByAddress(key2.pubKey.address)!.index;
    const [voteA, voteB] = conflictingVotes(genesis.chainId, key2, index2, past, 5, 100);
    const rpcEvidence: DuplicateVoteEvidence = { kind: 'duplicate_vote', voteA, voteB, validatorPower: 10n, totalVotingPower: 40n, timestamp: meta!.header.time };
    const received = nodes.map((n) => n.network.gossip.stats.received.evidence);
    expect(await e0.pool.add(rpcEvidence)).toBe('added');
    const hash = toHex(evidenceKey(rpcEvidence));
    const isIt = (e: DuplicateVoteEvidence): boolean => toHex(evidenceKey(e)) === hash;
    const committedAt: (number | undefined)[] = [];
    await until(
      'the gossiped evidence in a committed block on every node',
      async () => {
        for (const [i, n] of nodes.entries()) committedAt[i] ??= (await blockWithEvidence(n, isIt))?.height;
        return committedAt.every((h) => h !== undefined);
      },
      60_000,
    );
    expect(new Set(committedAt).size).toBe(1);
    // the other nodes got it over the evidence topic
    for (let i = 1; i < 4; i++) expect(nodes[i]!.network.gossip.stats.received.evidence).toBeGreaterThan(received[i]!);
    expect(fatals.map((e) => e.message)).toEqual([]);
  }, 180_000);
});
