// A validator restarted mid-height hands its own proposal and votes from the WAL to the network
// again. Its core already holds them and will not vote again in those steps, so if they were
// lost with the crash, peers that restarted too would wait for them forever (a 4-validator
// testnet stopped and started at once stalled at the height it stopped in).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { SignedMsgType, toHex, type Proposal, type Vote } from '../../src/codec/index.js';
import { ConsensusEngine, type ConsensusNetwork } from '../../src/consensus/engine.js';
import { FileSigner } from '../../src/privval/index.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { openEngineStores } from '../helpers/engine-stores.js';

const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };
// long prevote/precommit timeouts: nothing but the restart itself may make the engine vote again
const TIMEOUTS = { propose: 50, proposeDelta: 10, prevote: 60_000, prevoteDelta: 0, precommit: 60_000, precommitDelta: 0, commit: 5 };

class Recorder implements ConsensusNetwork {
  readonly votes: Vote[] = [];
  readonly proposals: Proposal[] = [];
  broadcastProposal(p: Proposal): void {
    this.proposals.push(p);
  }
  broadcastVote(v: Vote): void {
    this.votes.push(v);
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('consensus engine restart', () => {
  // one validator of four: it cannot decide alone, so it stays in the height it voted in
  for (const index of [0, 1, 2, 3]) {
    test(`validator ${index} of 4 re-announces its own votes (and proposal) of the current height from the WAL`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tally-restart-'));
      dirs.push(dir);
      const keys = testKeys(4);
      const genesis = testGenesis(keys);
      const run = async (network: Recorder): Promise<() => Promise<void>> => {
        const { blockStore, executor, state, close } = await openEngineStores(dir, genesis);
        const engine = new ConsensusEngine(
          { chainId: genesis.chainId, timeouts: TIMEOUTS, walPath: join(dir, 'cs.wal') },
          { executor, blockStore, signer: FileSigner.open(keys[index]!, join(dir, 'pv_state.json')), network, logger: quiet, onFatal: (e) => { throw e; } },
        );
        await engine.start(state);
        return async () => {
          await engine.stop();
          await close();
        };
      };

      const first = new Recorder();
      const stop1 = await run(first);
      await until(() => first.votes.some((v) => v.type === SignedMsgType.Prevote), 'the first prevote');
      await stop1();
      const prevote = first.votes.find((v) => v.type === SignedMsgType.Prevote)!;
      expect(prevote.height).toBe(1);

      const second = new Recorder();
      const stop2 = await run(second);
      try {
        await until(() => second.votes.length > 0, 'a vote after the restart');
        const again = second.votes.find((v) => v.type === SignedMsgType.Prevote && v.round === prevote.round);
        expect(again && toHex(again.signature)).toBe(toHex(prevote.signature));
        // a proposer's proposal goes out again too, the same signed message
        for (const p of first.proposals) expect(second.proposals.map((q) => toHex(q.signature))).toContain(toHex(p.signature));
      } finally {
        await stop2();
      }
    });
  }
});
