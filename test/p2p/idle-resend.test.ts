// An idle chain (create_empty_blocks = false, no txs) waits for txs, not for peers: each node
// re-sends its last messages only every 10th re-send tick, where a chain stalled on its peers
// re-sends every tick. Before, an idle chain re-sent (and every node re-verified) its last
// height's votes every tick, forever.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConsensusEngine } from '../../src/consensus/engine.js';
import { NodeNetwork } from '../../src/node/network.js';
import { FileSigner } from '../../src/privval/index.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { NETWORK_TEST_TIMEOUTS, QUIET, openChainParts, peerSetup, pollUntil, scratchDir, type TestLogger } from '../helpers/libp2p-chain.js';

const { dir, closers } = scratchDir('tally-p2p-idle-');
const RESEND_MS = 20;
const RESENT = 'consensus stalled: re-sent own messages';

/** Never resolves: no tx ever arrives (rejects when consensus stops waiting). */
const noTxs = (signal: AbortSignal): Promise<void> => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('no longer waiting'))));

describe('an idle chain over libp2p', () => {
  test('re-sends its last messages every 10th tick, not every tick', async () => {
    const keys = testKeys(4);
    const genesis = testGenesis(keys, { chainId: 'p2p-idle-chain' });
    const { nodeKeys, ports, addrs } = await peerSetup(4);
    const resent = [0, 0, 0, 0];
    const engines: ConsensusEngine[] = [];
    const fatals: Error[] = [];
    for (let i = 0; i < 4; i++) {
      const d = join(dir, `node${i}`);
      const logger: TestLogger = { ...QUIET, debug: (_ctx: unknown, msg?: string) => void (msg === RESENT && resent[i]!++) };
      const { blockStore, mempool, executor, state, close } = await openChainParts(d, genesis);
      const network = new NodeNetwork(
        { chainId: genesis.chainId, host: { listen: [`/ip4/127.0.0.1/tcp/${ports[i]}`], persistentPeers: addrs.filter((_, j) => j !== i), redialBaseMs: 100, redialMaxMs: 1000 }, maxTxBytes: 1024 * 1024, broadcastTxs: true, catchUpDelayMs: 300, resendIntervalMs: RESEND_MS },
        { privateKey: nodeKeys[i]!, mempool, blockStore, logger },
      );
      const engine = new ConsensusEngine(
        { chainId: genesis.chainId, timeouts: NETWORK_TEST_TIMEOUTS, walPath: join(d, 'cs.wal'), createEmptyBlocks: false },
        { executor, blockStore, signer: FileSigner.open(keys[i]!, join(d, 'pv_state.json')), network, logger: QUIET, onFatal: (e) => fatals.push(e), txsAvailable: noTxs },
      );
      engines.push(engine);
      closers.push(async () => {
        await network.stop();
        await engine.stop();
        await close();
      });
      await engine.start(state);
      await network.start(engine);
    }
    // the first height (and its proof block) are made without txs; then every node waits for txs
    await pollUntil('all four validators idle', () => fatals.length > 0 || engines.every((e) => e.waitingForTransactions), 30_000);
    expect(fatals.map((e) => e.message)).toEqual([]);
    const height = engines[0]!.chainState.lastBlockHeight;

    // an idle node still re-sends now and then (a peer that missed the last precommits needs them)
    await pollUntil('an idle re-send', () => resent.some((n) => n > 0), 20_000);
    const before = [...resent];
    const start = performance.now();
    await new Promise((r) => setTimeout(r, 1_500));
    const elapsed = performance.now() - start;
    // a timer fires at most once per interval: at most one re-send per 10 of them (+1 for the edges)
    const bound = Math.ceil(elapsed / RESEND_MS / 10) + 1;
    for (let i = 0; i < 4; i++) expect(resent[i]! - before[i]!, `node ${i}: re-sends in ${elapsed.toFixed(0)} ms (bound ${bound})`).toBeLessThanOrEqual(bound);
    // and nothing moved: idle means no new heights
    expect(engines.every((e) => e.chainState.lastBlockHeight === height && e.waitingForTransactions)).toBe(true);
  }, 60_000);
});
