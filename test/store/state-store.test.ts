import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZERO_BLOCK_ID, type ConsensusParams } from '../../src/codec/index.js';
import { StateStore, type State } from '../../src/store/index.js';
import { ValidatorSet, type ValidatorUpdate } from '../../src/types/validator-set.js';
import { bytes, storeError, tempDir } from './fixtures.js';

let dir: { path: string; remove: () => Promise<void> };
const opened: StateStore[] = [];

async function openStore(name: string, checkpoint?: number): Promise<StateStore> {
  const s = new StateStore({ path: join(dir.path, name), validatorCheckpointInterval: checkpoint });
  await s.open();
  opened.push(s);
  return s;
}

async function closeStore(s: StateStore): Promise<void> {
  await s.close();
  opened.splice(opened.indexOf(s), 1);
}

beforeAll(async () => {
  dir = await tempDir('state-store');
});

afterAll(async () => {
  for (const s of [...opened]) await s.close();
  await dir.remove();
});

const pub = (i: number): Uint8Array => bytes(`validator-${i}`);
const upd = (i: number, votingPower: bigint): ValidatorUpdate => ({ pubKey: pub(i), votingPower });

const PARAMS: ConsensusParams = {
  block: { maxBytes: 22020096n, maxGas: -1n },
  evidence: { maxAgeNumBlocks: 100000n, maxAgeDuration: { seconds: 172800, nanos: 0 }, maxBytes: 1048576n },
  validator: { pubKeyTypes: ['ed25519'] },
  version: { app: 0n },
  abci: { voteExtensionsEnableHeight: 0n },
};

/** Validator updates returned by FinalizeBlock of these heights (they take effect at height + 2). */
const CHANGES: Record<number, ValidatorUpdate[]> = {
  3: [upd(4, 25n)],
  4: [upd(0, 0n)],
  9: [upd(1, 7n), upd(5, 3n)],
  10: [upd(2, 100n)],
  23: [upd(4, 0n), upd(6, 12n)],
};
/** Heights whose FinalizeBlock changes the params (effective from height + 1). */
const PARAM_CHANGES: Record<number, ConsensusParams> = {
  6: { ...PARAMS, block: { maxBytes: 1048576n, maxGas: 5_000_000n } },
  20: { ...PARAMS, abci: { voteExtensionsEnableHeight: 25n } },
};

interface Chain {
  states: State[];
  /** Exact validator set of each height. */
  validators: Map<number, ValidatorSet>;
  params: Map<number, ConsensusParams>;
}

/** A chain advanced as CometBFT's state transition does: apply updates to next, then increment once. */
function simulate(n: number): Chain {
  const genesisSet = ValidatorSet.create([upd(0, 10n), upd(1, 20n), upd(2, 30n), upd(3, 5n)]);
  let state: State = {
    chainId: 'state-test',
    initialHeight: 1,
    lastBlockHeight: 0,
    lastBlockId: ZERO_BLOCK_ID,
    lastBlockTime: { seconds: 1_700_000_000, nanos: 0 },
    nextValidators: genesisSet.copyIncrementProposerPriority(1),
    validators: genesisSet,
    lastValidators: ValidatorSet.fromValidators([]),
    lastHeightValidatorsChanged: 1,
    consensusParams: PARAMS,
    lastHeightConsensusParamsChanged: 1,
    lastResultsHash: new Uint8Array(0),
    appHash: new Uint8Array(0),
    appVersion: (1n << 60n) + 1n,
  };
  const chain: Chain = { states: [state], validators: new Map([[1, state.validators], [2, state.nextValidators]]), params: new Map([[1, PARAMS]]) };
  for (let h = 1; h <= n; h++) {
    let next = state.nextValidators;
    let lastChanged = state.lastHeightValidatorsChanged;
    const changes = CHANGES[h];
    if (changes) {
      next = next.updateWithChangeSet(changes);
      lastChanged = h + 2;
    }
    next = next.copyIncrementProposerPriority(1);
    const params = PARAM_CHANGES[h] ?? state.consensusParams;
    state = {
      ...state,
      lastBlockHeight: h,
      lastBlockId: { hash: bytes(`block-${h}`), partSetHeader: { total: 1, hash: bytes(`parts-${h}`) } },
      lastBlockTime: { seconds: 1_700_000_000 + h, nanos: h },
      lastValidators: state.validators,
      validators: state.nextValidators,
      nextValidators: next,
      lastHeightValidatorsChanged: lastChanged,
      consensusParams: params,
      lastHeightConsensusParamsChanged: PARAM_CHANGES[h] ? h + 1 : state.lastHeightConsensusParamsChanged,
      lastResultsHash: bytes(`results-${h}`),
      appHash: bytes(`app-${h}`),
    };
    chain.states.push(state);
    chain.validators.set(h + 2, next);
    chain.params.set(h + 1, params);
  }
  return chain;
}

function expectSameSet(actual: ValidatorSet, expected: ValidatorSet, height: number): void {
  expect(actual.validators, `validators at ${height}`).toEqual(expected.validators);
  expect(actual.getProposer().address, `proposer at ${height}`).toEqual(expected.getProposer().address);
  expect(actual.hash()).toEqual(expected.hash());
}

function expectSameState(actual: State | undefined, expected: State): void {
  expect(actual).toBeDefined();
  const { nextValidators, validators, lastValidators, ...rest } = actual!;
  const { nextValidators: en, validators: ev, lastValidators: el, ...erest } = expected;
  expect(rest).toEqual(erest);
  expectSameSet(nextValidators, en, -1);
  expectSameSet(validators, ev, 0);
  expect(lastValidators.validators).toEqual(el.validators);
}

describe('state store', () => {
  const N = 40;
  const chain = simulate(N);

  it('is empty before the first save', async () => {
    const s = await openStore('empty');
    expect(await s.load()).toBeUndefined();
    expect((await storeError(s.loadValidators(1))).code).toBe('not_found');
    expect((await storeError(s.loadValidators(0))).code).toBe('invalid_argument');
    expect(await s.loadFinalizeBlockResponse(1)).toBeUndefined();
  });

  for (const checkpoint of [4, 1000]) {
    it(`saves state and loads the exact validator set and params of every height (checkpoint every ${checkpoint})`, async () => {
      const name = `history-${checkpoint}`;
      const s = await openStore(name, checkpoint);
      for (const st of chain.states) {
        await s.save(st);
        expectSameState(await s.load(), st);
        if (st.lastBlockHeight > 0) await s.saveFinalizeBlockResponse(st.lastBlockHeight, bytes(`response-${st.lastBlockHeight}`, 17));
      }
      const check = async (store: StateStore): Promise<void> => {
        expectSameState(await store.load(), chain.states[N]!);
        for (let h = 1; h <= N + 2; h++) expectSameSet(await store.loadValidators(h), chain.validators.get(h)!, h);
        for (let h = 1; h <= N + 1; h++) expect(await store.loadConsensusParams(h), `params at ${h}`).toEqual(chain.params.get(h));
        for (let h = 1; h <= N; h++) expect(await store.loadFinalizeBlockResponse(h)).toEqual(bytes(`response-${h}`, 17));
        expect((await storeError(store.loadValidators(N + 3))).code).toBe('not_found');
        expect((await storeError(store.loadConsensusParams(N + 2))).code).toBe('not_found');
      };
      await check(s);
      // The proposer rotates at every height, and the changes really changed the set.
      expect(new Set([...chain.validators.values()].map((v) => Buffer.from(v.getProposer().address).toString('hex'))).size).toBeGreaterThan(3);
      expect(chain.validators.get(5)!.hash()).not.toEqual(chain.validators.get(4)!.hash());
      expect(chain.validators.get(12)!.size).toBe(5);
      await closeStore(s);
      await check(await openStore(name, checkpoint));
    });
  }

  it('keeps a uint64 app version above 2^53 exactly', async () => {
    const s = await openStore('appversion');
    await s.save(chain.states[0]!);
    expect((await s.load())!.appVersion).toBe((1n << 60n) + 1n);
  });

  it('rewriting a height without a change does not leave a stale full set behind', async () => {
    const s = await openStore('rewrite', 1000);
    for (const st of chain.states.slice(0, 4)) await s.save(st); // height 3 returns a change → full set stored for 5
    expectSameSet(await s.loadValidators(5), chain.validators.get(5)!, 5);
    // Replay height 3 as if it had returned no change (e.g. after a rollback): the set of 5 is then 4's, incremented.
    const replayed = { ...chain.states[3]!, nextValidators: chain.validators.get(4)!.copyIncrementProposerPriority(1), lastHeightValidatorsChanged: 1 };
    await s.save(replayed);
    expectSameSet(await s.loadValidators(5), replayed.nextValidators, 5);
  });

  it('prunes history below a retain height but keeps the validators that signed the earliest kept block', async () => {
    const s = await openStore('prune', 1000);
    for (const st of chain.states) {
      await s.save(st);
      if (st.lastBlockHeight > 0) await s.saveFinalizeBlockResponse(st.lastBlockHeight, bytes(`r-${st.lastBlockHeight}`));
    }
    expect((await storeError(s.prune(N + 1))).code).toBe('invalid_argument');
    const result = await s.prune(20);
    expect(result).toEqual({ validatorSets: 18, consensusParams: 18, finalizeBlockResponses: 19 });
    // Height 19's set (needed to verify block 20's last commit) was a pointer to 12; it is kept, exact.
    for (let h = 19; h <= N + 2; h++) expectSameSet(await s.loadValidators(h), chain.validators.get(h)!, h);
    for (let h = 19; h <= N + 1; h++) expect(await s.loadConsensusParams(h)).toEqual(chain.params.get(h));
    expect((await storeError(s.loadValidators(18))).code).toBe('not_found');
    expect((await storeError(s.loadConsensusParams(18))).code).toBe('not_found');
    expect(await s.loadFinalizeBlockResponse(19)).toBeUndefined();
    expect(await s.loadFinalizeBlockResponse(20)).toEqual(bytes('r-20'));
    // Pruning again to the same height finds nothing left; the chain continues to load after it.
    expect(await s.prune(20)).toEqual({ validatorSets: 0, consensusParams: 0, finalizeBlockResponses: 0 });
    await closeStore(s);
    const again = await openStore('prune', 1000);
    expectSameSet(await again.loadValidators(30), chain.validators.get(30)!, 30);
  });

  it('bootstraps from a light-verified state with no history beneath it, then continues', async () => {
    const s = await openStore('bootstrap', 1000);
    const base = chain.states[15]!; // after block 15: validators of 16, next of 17, last of 15
    await s.bootstrap(base);
    expectSameState(await s.load(), base);
    for (let h = 15; h <= 17; h++) expectSameSet(await s.loadValidators(h), chain.validators.get(h)!, h);
    expect(await s.loadConsensusParams(16)).toEqual(chain.params.get(16));
    expect((await storeError(s.loadValidators(14))).code).toBe('not_found');
    // Saves after it point below the bootstrap height (lastHeightValidatorsChanged is 13); loads still resolve.
    for (const st of chain.states.slice(16, 30)) await s.save(st);
    for (let h = 15; h <= 31; h++) expectSameSet(await s.loadValidators(h), chain.validators.get(h)!, h);
    for (let h = 16; h <= 30; h++) expect(await s.loadConsensusParams(h)).toEqual(chain.params.get(h));
  });

  it('refuses inconsistent change heights before writing anything', async () => {
    const s = await openStore('invalid');
    const bad = { ...chain.states[5]!, lastHeightValidatorsChanged: 100 };
    expect((await storeError(s.save(bad))).code).toBe('invalid_argument');
    expect(await s.load()).toBeUndefined();
  });
});
