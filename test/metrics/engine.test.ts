// The hooks wired into a real single-validator consensus engine, as the node wires them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { serialize } from '../../src/abci/index.js';
import { CounterApp } from '../../src/apps/index.js';
import { ConsensusEngine, LOOPBACK_NETWORK } from '../../src/consensus/engine.js';
import { BlockExecutor, handshake, stateFromGenesis } from '../../src/execution/index.js';
import { createNodeMetrics } from '../../src/metrics/index.js';
import { FileSigner } from '../../src/privval/index.js';
import { BlockStore, StateStore, TxIndex } from '../../src/store/index.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { TestMempool } from '../helpers/mempool.js';
import { httpGet, key, parseExposition, recordingLogger } from './helpers.js';

const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };
const TIMEOUTS = { propose: 300, proposeDelta: 100, prevote: 100, prevoteDelta: 50, precommit: 100, precommitDelta: 50, commit: 20 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test('a running engine feeds height, txs, block interval and step durations', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-metrics-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const keys = testKeys(1);
  const genesis = testGenesis(keys);

  const logger = recordingLogger();
  const metrics = createNodeMetrics({ enabled: true, namespace: 'tally', listenAddr: '127.0.0.1:0' }, { logger });
  await metrics.server.start();
  cleanups.push(() => metrics.server.stop());

  const blockStore = new BlockStore({ path: join(dir, 'blockstore') });
  const stateStore = new StateStore({ path: join(dir, 'state') });
  const txIndex = new TxIndex({ path: join(dir, 'txindex') });
  for (const s of [blockStore, stateStore, txIndex]) await s.open();
  cleanups.push(async () => {
    for (const s of [blockStore, stateStore, txIndex]) await s.close();
  });
  const mempool = new TestMempool();
  const app = serialize(new CounterApp());
  const executor = new BlockExecutor({ app, blockStore, stateStore, txIndex, mempool, logger: quiet });
  const { state } = await handshake(stateFromGenesis(genesis), { genesis, app, blockStore, stateStore, executor, logger: quiet, version: 'test' });
  metrics.consensus.recordState(state);
  const engine = new ConsensusEngine(
    { chainId: genesis.chainId, timeouts: TIMEOUTS, walPath: join(dir, 'cs.wal') },
    {
      executor,
      blockStore,
      signer: FileSigner.open(keys[0]!, join(dir, 'priv_validator_state.json')),
      network: LOOPBACK_NETWORK,
      logger: quiet,
      onDecided: metrics.hooks.onDecided,
      onEvent: metrics.hooks.onEvent,
    },
  );
  await engine.start(state);
  let engineRunning = true;
  cleanups.push(async () => {
    if (engineRunning) await engine.stop();
  });

  mempool.txs.push(new Uint8Array([0]), new Uint8Array([1])); // CounterApp: big-endian 0, 1
  await engine.waitForHeight(4);
  await engine.stop(); // so that no block lands between the scrape and the comparison
  engineRunning = false;
  const r = await httpGet(metrics.server.address()!.port, '/metrics');
  const s = parseExposition(r.body);
  const latest = engine.chainState.lastBlockHeight;
  expect(s.get('tally_consensus_latest_block_height')).toBe(latest);
  expect(s.get('tally_consensus_height')).toBe(latest + 1);
  expect(s.get('tally_consensus_total_txs')).toBe(2);
  expect(s.get('tally_consensus_validators')).toBe(1);
  expect(s.get('tally_consensus_validators_power')).toBe(10);
  expect(s.get('tally_consensus_missing_validators')).toBe(0);
  expect(s.get('tally_consensus_rounds')).toBe(0);
  expect(s.get('tally_consensus_block_size_bytes')).toBeGreaterThan(100);
  // every block after the first has an interval
  expect(s.get('tally_consensus_block_interval_seconds_count')).toBe(latest - 1);
  expect(s.get(key('tally_consensus_step_duration_seconds_count', { step: 'Propose' }))).toBeGreaterThanOrEqual(latest - 1);
  expect(s.get('tally_consensus_round_duration_seconds_count')).toBeGreaterThanOrEqual(latest - 1);
  expect(logger.warnings).toEqual([]);
});
