// consensus.double_sign_check_height: before voting, the engine looks at the last N blocks'
// commits for a precommit of its own key that this process did not sign, and refuses to start.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { PrivKey } from '../../src/crypto/index.js';
import { ConsensusEngine, ConsensusError, type ConsensusNetwork } from '../../src/consensus/engine.js';
import { FileSigner } from '../../src/privval/index.js';
import type { State } from '../../src/store/index.js';
import { openEngineStores } from '../helpers/engine-stores.js';
import { testGenesis, testKeys } from '../helpers/chain.js';

const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };
const TIMEOUTS = { propose: 200, proposeDelta: 10, prevote: 200, prevoteDelta: 0, precommit: 200, precommitDelta: 0, commit: 5 };
const silent: ConsensusNetwork = { broadcastProposal: () => {}, broadcastVote: () => {} };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// Two validators: A with 10 of 11 voting power commits blocks alone; B never signs any.
const [A, B] = testKeys(2) as [PrivKey, PrivKey];
const genesis = testGenesis([A, B]);
const powered = { ...genesis, validators: genesis.validators.map((v, i) => ({ ...v, power: i === 0 ? 10n : 1n })) };

interface Opened {
  readonly engine: ConsensusEngine;
  readonly state: State;
  close(): Promise<void>;
}

/** The stores in `dir` and an engine over them that signs with `key`; not started. */
async function open(dir: string, key: PrivKey, doubleSignCheckHeight: number): Promise<Opened> {
  const { blockStore, executor, state, close } = await openEngineStores(dir, powered);
  const signer = FileSigner.open(key, join(dir, `pv_state_${key === A ? 'a' : 'b'}.json`));
  const engine = new ConsensusEngine(
    { chainId: powered.chainId, timeouts: TIMEOUTS, walPath: join(dir, `cs_${key === A ? 'a' : 'b'}.wal`), doubleSignCheckHeight },
    { executor, blockStore, signer, network: silent, logger: quiet, onFatal: (e) => { throw e; } },
  );
  return {
    engine,
    state,
    close: async () => {
      await engine.stop();
      signer.close();
      await close();
    },
  };
}

/** An engine over `dir` signing with `key` starts (the check passes), then is closed. */
async function expectStarts(dir: string, key: PrivKey, doubleSignCheckHeight: number): Promise<void> {
  const n = await open(dir, key, doubleSignCheckHeight);
  try {
    await n.engine.start(n.state);
    expect(n.engine.running).toBe(true);
  } finally {
    await n.close();
  }
}

/** A home where validator A committed heights 1..5 and stopped. */
async function chainSignedByA(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-dscheck-'));
  dirs.push(dir);
  const n = await open(dir, A, 0);
  try {
    await n.engine.start(n.state);
    await n.engine.waitForHeight(5);
  } finally {
    await n.close();
  }
  return dir;
}

describe('double_sign_check_height', () => {
  test("a restart finds the key's own precommits in the last blocks and refuses to start; 0 starts", async () => {
    const dir = await chainSignedByA();
    const checked = await open(dir, A, 3);
    try {
      const last = checked.state.lastBlockHeight;
      expect(last).toBeGreaterThanOrEqual(5);
      const err = await checked.engine.start(checked.state).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConsensusError);
      expect((err as ConsensusError).message).toMatch(/double-sign risk: the commit of height \d+/);
      // the newest height is read first
      expect((err as ConsensusError).context).toMatchObject({ height: last, checkedTo: last, checkedFrom: last - 2 });
      expect(checked.engine.running).toBe(false);
    } finally {
      await checked.close();
    }
    await expectStarts(dir, A, 0);
  });

  test('a key with no precommit in the last blocks starts', async () => {
    await expectStarts(await chainSignedByA(), B, 100);
  });

  test("consensus started again in the same process (after block sync) skips the heights it precommitted in", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-dscheck-'));
    dirs.push(dir);
    const n = await open(dir, A, 100);
    try {
      await n.engine.start(n.state); // an empty chain: nothing to find
      await n.engine.waitForHeight(4);
      await n.engine.stop(); // as block sync does when the node falls behind
      await n.engine.start(n.engine.chainState);
      expect(n.engine.running).toBe(true);
    } finally {
      await n.close();
    }
  });
});
