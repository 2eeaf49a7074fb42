// >2/3 of the validators precommit a block whose parts never reached one of them: that node's
// core decides a block it does not have. It must wait for the block (the network fetches it
// from a peer through requestBlock) and go on — not stop (it used to stop with "block sync is
// needed" in a 4-process testnet).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { serialize } from '../../src/abci/index.js';
import { KVStoreApp } from '../../src/apps/kvstore/index.js';
import { toHex, type Part, type PartSetHeader, type Proposal, type Vote } from '../../src/codec/index.js';
import { ConsensusEngine, type ConsensusNetwork } from '../../src/consensus/engine.js';
import { BlockExecutor, handshake, stateFromGenesis } from '../../src/execution/index.js';
import { FileSigner } from '../../src/privval/index.js';
import { BlockStore, StateStore } from '../../src/store/index.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { TestMempool } from '../helpers/mempool.js';

const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };
const TIMEOUTS = { propose: 300, proposeDelta: 100, prevote: 200, prevoteDelta: 100, precommit: 200, precommitDelta: 100, commit: 10 };
const STARVED = 3; // never gets the parts of…
const STARVED_HEIGHT = 2; // …this height's proposals
const TARGET = 4;

const dir = mkdtempSync(join(tmpdir(), 'tally-missing-'));
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

describe('a decided block whose parts never arrived', () => {
  test('the node fetches it through requestBlock and keeps deciding with the others', async () => {
    const keys = testKeys(4);
    const genesis = testGenesis(keys);
    const engines: ConsensusEngine[] = [];
    const stores: BlockStore[] = [];
    const requested: number[] = [];
    const fatal: Error[] = [];

    const endpoint = (from: number): ConsensusNetwork => {
      const others = (): [number, ConsensusEngine][] => engines.map((e, i) => [i, e] as [number, ConsensusEngine]).filter(([i]) => i !== from);
      return {
        broadcastProposal: (p: Proposal, _h: PartSetHeader, parts: readonly Part[]) =>
          setImmediate(() => {
            for (const [i, e] of others()) {
              e.receiveProposal(p);
              if (i === STARVED && p.height === STARVED_HEIGHT) continue;
              for (const part of parts) e.receiveBlockPart(p.height, p.blockId, part);
            }
          }),
        broadcastVote: (v: Vote) => setImmediate(() => others().forEach(([, e]) => e.receiveVote(v))),
        // serve from any peer that stored the block, retrying until one has
        requestBlock: (height: number) => {
          requested.push(height);
          const serve = async (): Promise<void> => {
            for (const [i] of others()) {
              const [block, commit] = await Promise.all([stores[i]!.loadBlock(height), stores[i]!.loadSeenCommit(height)]);
              if (block && commit) return engines[from]!.receiveCommit(block, commit);
            }
            setTimeout(() => void serve(), 20);
          };
          void serve();
        },
      };
    };

    const states = [];
    for (let i = 0; i < keys.length; i++) {
      const d = join(dir, `node${i}`);
      const app = await KVStoreApp.open({ dir: join(d, 'app'), syncWrites: false });
      const sapp = serialize(app);
      const blockStore = new BlockStore({ path: join(d, 'blocks'), sync: false });
      const stateStore = new StateStore({ path: join(d, 'state'), sync: false });
      await blockStore.open();
      await stateStore.open();
      const executor = new BlockExecutor({ app: sapp, blockStore, stateStore, mempool: new TestMempool(), logger: quiet });
      const { state } = await handshake(stateFromGenesis(genesis), { genesis, app: sapp, blockStore, stateStore, executor, logger: quiet, version: 'test' });
      const engine = new ConsensusEngine(
        { chainId: genesis.chainId, timeouts: TIMEOUTS, walPath: join(d, 'cs.wal') },
        { executor, blockStore, signer: FileSigner.open(keys[i]!, join(d, 'pv_state.json')), network: endpoint(i), logger: quiet, onFatal: (e) => fatal.push(e) },
      );
      engines.push(engine);
      stores.push(blockStore);
      states.push(state);
      closers.push(async () => {
        await engine.stop();
        await blockStore.close();
        await stateStore.close();
        await app.close();
      });
    }
    for (let i = 0; i < engines.length; i++) await engines[i]!.start(states[i]!);
    const reached = Promise.all(engines.map((e) => e.waitForHeight(TARGET)));
    const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not all reached ${TARGET}; fatal: ${fatal.map((e) => e.message).join('; ')}`)), 30_000));
    await Promise.race([reached, deadline]);

    expect(fatal).toEqual([]);
    // the starved node decided height 2 without its parts, so it asked for the block
    expect(requested).toContain(STARVED_HEIGHT);
    for (let h = 1; h <= TARGET; h++) {
      const metas = await Promise.all(stores.map((s) => s.loadBlockMeta(h)));
      expect(new Set(metas.map((m) => toHex(m!.blockId.hash))).size, `block hashes at ${h}`).toBe(1);
      expect(new Set(metas.map((m) => toHex(m!.header.appHash))).size, `app hashes at ${h}`).toBe(1);
    }
  });
});
