import { Agent, request } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { SignedMsgType, encodeBlock, type Block, type BlockID, type DuplicateVoteEvidence, type Timestamp, type Vote } from '../../src/codec/index.js';
import type { ConsensusEvent, ConsensusStep, DecidedBlock } from '../../src/consensus/engine.js';
import { makeBlock, stateFromGenesis } from '../../src/execution/index.js';
import { Mempool } from '../../src/mempool/index.js';
import { MAX_LABEL_VALUES, MetricsError, createNodeMetrics, metricsOptionsFromConfig, type NodeMetrics } from '../../src/metrics/index.js';
import type { State } from '../../src/store/index.js';
import { signCommit, testGenesis, testKeys } from '../helpers/chain.js';
import { ScriptedApp, enc } from '../mempool/helpers.js';
import { eventually, freePort, httpGet, key, parseExposition, recordingLogger, settledTcpHandles, tcpHandles } from './helpers.js';

const started: NodeMetrics[] = [];
afterEach(async () => {
  for (const m of started.splice(0)) await m.server.stop();
});

async function startMetrics(listenAddr = '127.0.0.1:0', namespace = 'tally', now?: () => number): Promise<{ m: NodeMetrics; port: number }> {
  const m = createNodeMetrics({ enabled: true, namespace, listenAddr }, now ? { logger: recordingLogger(), now } : { logger: recordingLogger() });
  started.push(m);
  await m.server.start();
  const a = m.server.address();
  if (!a) throw new Error('metrics server has no address');
  return { m, port: a.port };
}

async function scrape(port: number): Promise<Map<string, number>> {
  const r = await httpGet(port, '/metrics');
  expect(r.status).toBe(200);
  return parseExposition(r.body);
}

// ---- a small chain to feed the consensus hooks ------------------------------------------------

const keys = testKeys(4);
const genesis = testGenesis(keys);
const T1: Timestamp = { seconds: 1_700_000_100, nanos: 0 };
const T2: Timestamp = { seconds: 1_700_000_101, nanos: 500_000_000 }; // 1.5 s after T1

const fakeId = (b: number): BlockID => ({ hash: new Uint8Array(32).fill(b), partSetHeader: { total: 1, hash: new Uint8Array(32).fill(b + 1) } });

function vote(blockByte: number, validatorAddress: Uint8Array): Vote {
  return {
    type: SignedMsgType.Prevote,
    height: 1,
    round: 0,
    blockId: fakeId(blockByte),
    timestamp: T1,
    validatorAddress,
    validatorIndex: 0,
    signature: new Uint8Array(64).fill(blockByte),
    extension: new Uint8Array(0),
    extensionSignature: new Uint8Array(0),
  };
}

function decided(height: number, round: number, block: Block, blockId: BlockID, state: State): DecidedBlock {
  return { height, round, block, blockId, commit: { height, round, blockId, signatures: [] }, state };
}

/** Two blocks: the first with 2 txs; the second in round 1 with 3 txs, one absent signer and one evidence. */
function twoBlocks(): { state0: State; d1: DecidedBlock; d2: DecidedBlock } {
  const state0 = stateFromGenesis(genesis);
  const proposer = state0.validators.validators[0]!.address;
  const noCommit = { height: 0, round: 0, blockId: fakeId(0), signatures: [] };
  const id1 = fakeId(1);
  const block1 = makeBlock(state0, 1, [enc('a=1'), enc('b=2')], noCommit, [], proposer, T1);
  const state1: State = { ...state0, lastBlockHeight: 1, lastBlockId: id1, lastBlockTime: T1, lastValidators: state0.validators };
  // the commit for block 1 signed by three of the four validators
  const lastCommit = signCommit(genesis.chainId, state1.lastValidators, keys.slice(0, 3), 1, 0, id1, T1);
  const byzantine = state0.validators.validators[1]!;
  const evidence: DuplicateVoteEvidence = { kind: 'duplicate_vote', voteA: vote(7, byzantine.address), voteB: vote(8, byzantine.address), totalVotingPower: 40n, validatorPower: 10n, timestamp: T1 };
  const id2 = fakeId(2);
  const block2 = makeBlock(state1, 2, [enc('c=3'), enc('d=4'), enc('e=5')], lastCommit, [evidence], proposer, T2);
  const state2: State = { ...state1, lastBlockHeight: 2, lastBlockId: id2, lastBlockTime: T2 };
  return { state0, d1: decided(1, 0, block1, id1, state1), d2: decided(2, 1, block2, id2, state2) };
}

describe('metrics served over HTTP', () => {
  test('consensus values from a loaded state, two decided blocks and round events', async () => {
    let clock = 100;
    const { m, port } = await startMetrics('127.0.0.1:0', 'tally', () => clock);
    const { state0, d1, d2 } = twoBlocks();

    m.consensus.recordState(state0);
    let s = await scrape(port);
    expect(s.get('tally_consensus_height')).toBe(1);
    expect(s.get('tally_consensus_latest_block_height')).toBe(0);
    expect(s.get('tally_consensus_validators')).toBe(4);
    expect(s.get('tally_consensus_validators_power')).toBe(40);

    // height 1, round 0: NewRound 0.2 s, Propose 0.3 s, Prevote 0.2 s, Precommit 0.3 s, Commit 0
    const ev: ConsensusEvent[] = [];
    const step = (st: ConsensusStep, height = 1): ConsensusEvent => ({ kind: 'newStep', height, round: 0, step: st });
    const at = (t: number, e: ConsensusEvent): void => {
      clock = t;
      ev.push(e);
      m.hooks.onEvent(e);
    };
    at(100, step('NewRound'));
    at(100, { kind: 'newRound', height: 1, round: 0, proposer: { address: new Uint8Array(20), index: 0 } });
    at(100.2, step('Propose'));
    at(100.5, step('Prevote'));
    at(100.7, step('Precommit'));
    at(101, step('Commit'));
    clock = 101;
    m.hooks.onDecided(d1);
    at(101, step('NewHeight', 2));
    m.hooks.onDecided(d2);

    s = await scrape(port);
    expect(s.get('tally_consensus_height')).toBe(3);
    expect(s.get('tally_consensus_latest_block_height')).toBe(2);
    expect(s.get('tally_consensus_rounds')).toBe(1);
    expect(s.get('tally_consensus_num_txs')).toBe(3);
    expect(s.get('tally_consensus_total_txs')).toBe(5);
    expect(s.get('tally_consensus_block_size_bytes')).toBe(encodeBlock(d2.block).length);
    // only block 2 has a previous block to measure from: 1.5 s, in the le=2 bucket, not le=1
    expect(s.get('tally_consensus_block_interval_seconds_count')).toBe(1);
    expect(s.get('tally_consensus_block_interval_seconds_sum')).toBeCloseTo(1.5, 9);
    expect(s.get(key('tally_consensus_block_interval_seconds_bucket', { le: '1' }))).toBe(0);
    expect(s.get(key('tally_consensus_block_interval_seconds_bucket', { le: '2' }))).toBe(1);
    expect(s.get('tally_consensus_missing_validators')).toBe(1);
    expect(s.get('tally_consensus_missing_validators_power')).toBe(10);
    expect(s.get('tally_consensus_byzantine_validators')).toBe(1);
    expect(s.get('tally_consensus_byzantine_validators_power')).toBe(10);
    expect(s.get('tally_consensus_round_duration_seconds_count')).toBe(1);
    expect(s.get('tally_consensus_round_duration_seconds_sum')).toBeCloseTo(1, 9);
    const stepSum = (st: string): number | undefined => s.get(key('tally_consensus_step_duration_seconds_sum', { step: st }));
    expect(stepSum('NewRound')).toBeCloseTo(0.2, 9);
    expect(stepSum('Propose')).toBeCloseTo(0.3, 9);
    expect(stepSum('Prevote')).toBeCloseTo(0.2, 9);
    expect(stepSum('Precommit')).toBeCloseTo(0.3, 9);
    expect(stepSum('Commit')).toBe(0);
    expect(stepSum('NewHeight')).toBeUndefined(); // still in it
  });

  test('a block after a gap (no previous block known) records no interval', async () => {
    const { m, port } = await startMetrics();
    const { d2 } = twoBlocks();
    m.hooks.onDecided(d2); // block 2 without block 1 or a loaded state
    const s = await scrape(port);
    expect(s.get('tally_consensus_latest_block_height')).toBe(2);
    expect(s.get('tally_consensus_block_interval_seconds_count')).toBe(0);
    expect(s.get('tally_consensus_missing_validators')).toBe(1);
    expect(s.get('tally_consensus_missing_validators_power')).toBe(0); // unknown: left at its initial value
  });

  test('mempool values through the real mempool and its MempoolMetrics hooks', async () => {
    const { m, port } = await startMetrics();
    const app = new ScriptedApp();
    app.invalid.add('bad');
    const pool = new Mempool({ size: 10, maxTxBytes: 8, maxTxsBytes: 1000 }, { app, metrics: m.mempool });
    try {
      await pool.checkTx(enc('tx-1'));
      await pool.checkTx(enc('tx-22'));
      await pool.checkTx(enc('bad'));
      await expect(pool.checkTx(enc('tx-1'))).rejects.toMatchObject({ reason: 'already_in_cache' });
      await expect(pool.checkTx(enc('much too large'))).rejects.toMatchObject({ reason: 'tx_too_large' });
      const s = await scrape(port);
      expect(s.get('tally_mempool_size')).toBe(2);
      expect(s.get('tally_mempool_size_bytes')).toBe(9);
      expect(s.get('tally_mempool_tx_size_bytes_count')).toBe(2);
      expect(s.get('tally_mempool_tx_size_bytes_sum')).toBe(9);
      expect(s.get('tally_mempool_failed_txs')).toBe(1);
      expect(s.get(key('tally_mempool_rejected_txs', { reason: 'already_in_cache' }))).toBe(1);
      expect(s.get(key('tally_mempool_rejected_txs', { reason: 'tx_too_large' }))).toBe(1);
    } finally {
      await pool.stop();
    }
  });

  test('p2p and sync values; topic and reason labels are capped', async () => {
    const { m, port } = await startMetrics();
    m.p2p.peers(3);
    m.p2p.messageReceived('votes', 100);
    m.p2p.messageReceived('votes', 120);
    m.p2p.messageReceived('proposals');
    m.p2p.messageSent('txs', 50);
    m.p2p.peerBanned('invalid_signature');
    m.p2p.peerBanned('invalid_signature');
    m.p2p.peerBanned('flood');
    m.p2p.messageSent('txs', -5); // a bad size is not counted (a counter cannot go down)
    m.sync.blockSyncing(true);
    m.sync.blockSyncProgress(90, 120);
    m.sync.stateSyncing(false);
    m.sync.stateSyncChunks(3, 10);
    let s = await scrape(port);
    expect(s.get('tally_p2p_peers')).toBe(3);
    expect(s.get(key('tally_p2p_gossip_received_messages_total', { topic: 'votes' }))).toBe(2);
    expect(s.get(key('tally_p2p_gossip_received_bytes_total', { topic: 'votes' }))).toBe(220);
    expect(s.get(key('tally_p2p_gossip_received_messages_total', { topic: 'proposals' }))).toBe(1);
    expect(s.get(key('tally_p2p_gossip_sent_messages_total', { topic: 'txs' }))).toBe(2);
    expect(s.get(key('tally_p2p_gossip_sent_bytes_total', { topic: 'txs' }))).toBe(50);
    expect(s.get(key('tally_p2p_peer_bans_total', { reason: 'invalid_signature' }))).toBe(2);
    expect(s.get(key('tally_p2p_peer_bans_total', { reason: 'flood' }))).toBe(1);
    expect(s.get('tally_blocksync_syncing')).toBe(1);
    expect(s.get('tally_blocksync_synced_height')).toBe(90);
    expect(s.get('tally_blocksync_target_height')).toBe(120);
    expect(s.get('tally_statesync_syncing')).toBe(0);
    expect(s.get('tally_statesync_chunks_applied')).toBe(3);
    expect(s.get('tally_statesync_snapshot_chunks')).toBe(10);

    for (let i = 0; i < MAX_LABEL_VALUES + 10; i++) m.p2p.messageReceived(`topic-${i}`);
    s = await scrape(port);
    const topics = [...s.keys()].filter((k) => k.startsWith('tally_p2p_gossip_received_messages_total{'));
    // votes, proposals and txs (sent) took 3 of the 32 values, topic-0 … topic-28 the rest
    expect(topics.length).toBe(2 + 29 + 1);
    expect(s.get(key('tally_p2p_gossip_received_messages_total', { topic: 'topic-28' }))).toBe(1);
    expect(s.get(key('tally_p2p_gossip_received_messages_total', { topic: 'topic-29' }))).toBeUndefined();
    expect(s.get(key('tally_p2p_gossip_received_messages_total', { topic: 'other' }))).toBe(MAX_LABEL_VALUES + 10 - 29);
  });

  test('the exposition has types, help, process metrics and a namespace of choice', async () => {
    const { m, port } = await startMetrics('127.0.0.1:0', 'chain_a');
    m.p2p.peers(1);
    const r = await httpGet(port, '/metrics');
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.body).toContain('# TYPE chain_a_consensus_block_interval_seconds histogram\n');
    expect(r.body).toContain('# TYPE chain_a_consensus_total_txs counter\n');
    expect(r.body).toContain('# HELP chain_a_p2p_peers Number of connected peers.\n');
    expect(r.body).not.toContain('tally_');
    const s = parseExposition(r.body);
    expect(s.get('chain_a_p2p_peers')).toBe(1);
    expect(s.get('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(s.get('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(await m.scrape()).toContain('chain_a_p2p_peers 1');
  });

  test('only GET and HEAD /metrics are served', async () => {
    const { port } = await startMetrics();
    expect((await httpGet(port, '/')).status).toBe(404);
    expect((await httpGet(port, '/metricsx')).status).toBe(404);
    expect((await httpGet(port, '/metrics/')).status).toBe(404);
    const post = await httpGet(port, '/metrics', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await httpGet(port, '/metrics', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect((await httpGet(port, '/metrics?x=1')).status).toBe(200);
  });

  test('":0" listens on every interface', async () => {
    const { m, port } = await startMetrics(':0');
    expect(port).toBeGreaterThan(0);
    expect(['::', '0.0.0.0']).toContain(m.server.address()?.host);
    expect((await httpGet(port, '/metrics', 'GET', '127.0.0.1')).status).toBe(200);
  });

  test('hooks never throw into consensus; a failure is logged once', async () => {
    const logger = recordingLogger();
    const m = createNodeMetrics({ enabled: true, namespace: 'tally', listenAddr: '' }, { logger });
    const broken = { height: 1, round: 0 } as unknown as DecidedBlock; // no block: reading it fails
    expect(() => m.hooks.onDecided(broken)).not.toThrow();
    expect(() => m.hooks.onDecided(broken)).not.toThrow();
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]!.obj).toMatchObject({ metric: 'consensus.onDecided' });
  });
});

describe('configuration and lifecycle', () => {
  test('options come from [instrumentation]', () => {
    expect(metricsOptionsFromConfig({ prometheus: true, prometheusListenAddr: ':26660', namespace: 'cometbft' })).toEqual({ enabled: true, namespace: 'cometbft', listenAddr: ':26660' });
  });

  test('a bad namespace or address is refused when enabled', () => {
    const logger = recordingLogger();
    expect(() => createNodeMetrics({ enabled: true, namespace: '1tally', listenAddr: ':26660' }, { logger })).toThrow(MetricsError);
    expect(() => createNodeMetrics({ enabled: true, namespace: 'tally', listenAddr: 'localhost' }, { logger })).toThrow(/prometheus_listen_addr/);
  });

  test('disabled: same surface, nothing collected, nothing listening', async () => {
    const port = await freePort();
    const before = await settledTcpHandles();
    const m = createNodeMetrics({ enabled: false, namespace: 'tally', listenAddr: `127.0.0.1:${port}` }, { logger: recordingLogger() });
    await m.server.start();
    expect(m.enabled).toBe(false);
    expect(m.server.address()).toBeUndefined();
    expect(tcpHandles()).toBe(before);
    await expect(httpGet(port, '/metrics')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const { state0, d1 } = twoBlocks();
    m.consensus.recordState(state0);
    m.hooks.onDecided(d1);
    m.hooks.onEvent({ kind: 'newStep', height: 2, round: 0, step: 'NewHeight' });
    m.mempool.size(1, 2);
    m.mempool.txRejected('mempool_full');
    m.p2p.peers(2);
    m.p2p.messageReceived('votes', 1);
    m.p2p.peerBanned('flood');
    m.sync.blockSyncProgress(1, 2);
    expect(await m.scrape()).toBe('');
    expect(m.registry.getMetricsAsArray()).toHaveLength(0);
    await m.server.stop();
  });

  test('enabled without an address: collected, not served', async () => {
    const m = createNodeMetrics({ enabled: true, namespace: 'tally', listenAddr: '' }, { logger: recordingLogger() });
    await m.server.start();
    expect(m.server.address()).toBeUndefined();
    m.p2p.peers(4);
    expect(parseExposition(await m.scrape()).get('tally_p2p_peers')).toBe(4);
    await m.server.stop();
  });

  test('a port in use is a clear error and leaves nothing open', async () => {
    const { port } = await startMetrics();
    const before = await settledTcpHandles();
    const m = createNodeMetrics({ enabled: true, namespace: 'tally', listenAddr: `127.0.0.1:${port}` }, { logger: recordingLogger() });
    await expect(m.server.start()).rejects.toThrow(new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    expect(m.server.address()).toBeUndefined();
    expect(await eventually(() => tcpHandles() === before)).toBe(true);
  });

  test('stop closes the listener and open keep-alive connections; twice is fine', async () => {
    const before = await settledTcpHandles();
    const m = createNodeMetrics({ enabled: true, namespace: 'tally', listenAddr: '127.0.0.1:0' }, { logger: recordingLogger() });
    await m.server.start();
    await m.server.start(); // no second listener
    const port = m.server.address()!.port;
    const agent = new Agent({ keepAlive: true });
    try {
      // a scraper that keeps its connection open between scrapes
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/metrics', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
      expect(tcpHandles()).toBeGreaterThan(before);
      const t0 = Date.now();
      await m.server.stop();
      expect(Date.now() - t0).toBeLessThan(1_000);
      await m.server.stop();
      expect(m.server.address()).toBeUndefined();
      // the client's end of the closed connection goes away too
      expect(await eventually(() => tcpHandles() === before)).toBe(true);
      await expect(httpGet(port, '/metrics')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      agent.destroy();
    }
  });
});
