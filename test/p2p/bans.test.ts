// Four validators in one process over libp2p on 127.0.0.1 (as in network.test.ts), and two
// misbehaving hosts that connect to validator 0: one gossips bytes that do not decode, the other
// gossips votes of the current height whose signatures are wrong. Validator 0 bans both (logged
// with the reason, counted), disconnects them, refuses their redials, and the chain keeps
// committing. No validator is blamed for anything (signatures are checked before forwarding).
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SignedMsgType, ZERO_BLOCK_ID, type Vote } from '../../src/codec/index.js';
import { ConsensusEngine } from '../../src/consensus/engine.js';
import { NodeNetwork } from '../../src/node/network.js';
import { P2PHost, encodeVoteMessage, gossipsubOptions, topicsFor } from '../../src/p2p/index.js';
import { FileSigner } from '../../src/privval/index.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { NETWORK_TEST_TIMEOUTS, QUIET, openChainParts, peerSetup, pollUntil, scratchDir, testNetworkOptions } from '../helpers/libp2p-chain.js';

const { dir, closers } = scratchDir('tally-p2p-bans-');

/** Polls every 20 ms. */
const until = (what: string, cond: () => boolean, timeoutMs: number): Promise<void> => pollUntil(what, cond, timeoutMs, 20);

describe('bans on a running network of four validators', () => {
  test('a peer gossiping garbage and one gossiping votes with invalid signatures are banned; the chain goes on', async () => {
    const CHAIN = 'p2p-bans-chain';
    const keys = testKeys(4);
    const genesis = testGenesis(keys, { chainId: CHAIN });
    const { nodeKeys, ports, ids, addrs } = await peerSetup(6);

    const fatals: Error[] = [];
    const bans: { node: number; reason: string }[] = [];
    const banLines: { node: number; fields: Record<string, unknown> }[] = [];
    const nodes: { engine: ConsensusEngine; network: NodeNetwork }[] = [];
    for (let i = 0; i < 4; i++) {
      const d = join(dir, `node${i}`);
      const { blockStore, mempool, executor, state, close } = await openChainParts(d, genesis);
      const logger = { ...QUIET, warn: (o: object, m: string) => (m === 'peer banned' ? banLines.push({ node: i, fields: o as Record<string, unknown> }) : undefined) };
      // the validators are each other's persistent peers (not the two misbehaving hosts)
      const network = new NodeNetwork(testNetworkOptions(CHAIN, i, ports, addrs.slice(0, 4), { host: { scores: { banDurationMs: 60_000 } }, pex: { intervalMs: 1000 } }), {
        privateKey: nodeKeys[i]!,
        mempool,
        blockStore,
        logger,
        metrics: { peers: () => {}, messageReceived: () => {}, messageSent: () => {}, peerBanned: (reason) => bans.push({ node: i, reason }) },
      });
      const engine = new ConsensusEngine(
        { chainId: CHAIN, timeouts: NETWORK_TEST_TIMEOUTS, walPath: join(d, 'cs.wal') },
        { executor, blockStore, signer: FileSigner.open(keys[i]!, join(d, 'pv_state.json')), network, logger: QUIET, onFatal: (e) => fatals.push(e) },
      );
      await engine.start(state);
      await network.start(engine);
      nodes.push({ engine, network });
      closers.push(async () => {
        await network.stop();
        await engine.stop();
        await close();
      });
    }
    await until('height 2 everywhere', () => fatals.length > 0 || nodes.every((n) => n.engine.chainState.lastBlockHeight >= 2), 30_000);
    expect(fatals).toEqual([]);

    // two misbehaving hosts, each connected to validator 0 only
    const bad: P2PHost[] = [];
    for (const i of [4, 5]) {
      const h = new P2PHost({ listen: [`/ip4/127.0.0.1/tcp/${ports[i]}`], gossipsub: gossipsubOptions(CHAIN) }, { privateKey: nodeKeys[i]! });
      await h.start();
      closers.push(() => h.stop());
      for (const t of Object.values(topicsFor(CHAIN))) h.pubsub.subscribe(t);
      await h.dial(addrs[0]!);
      bad.push(h);
    }
    const [garbler, forger] = bad as [P2PHost, P2PHost];
    const v0 = nodes[0]!.network;
    await until('validator 0 and the two to know each other’s subscriptions', () =>
      [ids[4]!, ids[5]!].every((id) => v0.gossip.subscribers().includes(id)) && bad.every((h) => h.pubsub.getSubscribers(topicsFor(CHAIN).vote).some((p) => p.toString() === ids[0])), 10_000);

    const started = Date.now();
    const topics = topicsFor(CHAIN);
    // the garbler: bytes that are no VoteMessage
    for (let k = 0; k < 12 && garbler.isRunning && garbler.peers().length > 0; k++) await garbler.pubsub.publish(topics.vote, Uint8Array.of(0xff, 0xfe, k)).catch(() => {});
    // the forger: well-formed votes of the current height for real validators, signed with garbage
    const forged = (k: number): Vote => {
      const engine = nodes[0]!.engine;
      const v = engine.chainState.validators.getByIndex(k % 4)!;
      return {
        type: SignedMsgType.Prevote,
        height: engine.chainState.lastBlockHeight + 1,
        round: 0,
        blockId: ZERO_BLOCK_ID,
        timestamp: { seconds: 1_700_000_000, nanos: k },
        validatorAddress: v.address,
        validatorIndex: k % 4,
        signature: new Uint8Array(64).fill(k + 1),
        extension: new Uint8Array(0),
        extensionSignature: new Uint8Array(0),
      };
    };
    for (let k = 0; k < 4 && forger.peers().length > 0; k++) await forger.pubsub.publish(topics.vote, encodeVoteMessage(forged(k))).catch(() => {});

    await until('both to be banned and disconnected by validator 0', () => [ids[4]!, ids[5]!].every((id) => v0.host.isBanned(id) && !v0.host.isConnected(id)), 10_000).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify({ scores: [ids[4], ids[5]].map((id) => v0.host.scores.score(id!)), banned: [ids[4], ids[5]].map((id) => v0.host.isBanned(id!)), connected: [ids[4], ids[5]].map((id) => v0.host.isConnected(id!)), stats: v0.gossip.stats, banLines })}`);
    });
    const banMs = Date.now() - started;
    console.log(`bans: both misbehaving peers banned and disconnected ${banMs} ms after they started`);
    expect(v0.host.scores.banOf(ids[4]!)?.reason).toBe('undecodable');
    expect(v0.host.scores.banOf(ids[5]!)?.reason).toBe('invalid_signature');
    expect(v0.gossip.stats.invalidSignatures).toBeGreaterThanOrEqual(2);
    // logged with peer and reason, and counted in metrics
    expect(banLines.filter((l) => l.node === 0).map((l) => [l.fields.peer, l.fields.reason])).toEqual(
      expect.arrayContaining([
        [ids[4], 'undecodable'],
        [ids[5], 'invalid_signature'],
      ]),
    );
    expect(bans.filter((b) => b.node === 0).map((b) => b.reason)).toEqual(expect.arrayContaining(['invalid_signature', 'undecodable']));
    // no validator was blamed: the forged votes and the garbage were never forwarded (other
    // validators may have met the two through peer exchange, and banned them too)
    expect(banLines.filter((l) => ids.slice(0, 4).includes(l.fields.peer as string))).toEqual([]);
    for (const n of nodes) for (const id of ids.slice(0, 4)) expect(n.network.host.scores.score(id)).toBe(0);

    // redials are refused while the ban lasts
    for (const h of bad) await h.dial(addrs[0]!).catch(() => {});
    await new Promise((r) => setTimeout(r, 500));
    for (const id of [ids[4]!, ids[5]!]) expect(v0.host.isConnected(id)).toBe(false);

    // and the chain goes on: three more heights on every validator
    const h = Math.max(...nodes.map((n) => n.engine.chainState.lastBlockHeight));
    await Promise.all(nodes.map((n) => n.engine.waitForHeight(h + 3)));
    expect(fatals).toEqual([]);
  }, 90_000);
});
