// ConsensusEngine.receiveCommit, the engine side of catch-up: a commit from a peer is verified
// against the height's validators before the node decides with it; a forged or mismatched one
// changes nothing; a valid one decides the height and is what the node stores as its seen commit.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BlockIDFlag, DecodeError, ProtoWriter, SignedMsgType, encodeBlock, encodeCommit, encodeExtendedCommit, type Commit, type ExtendedCommit } from '../../src/codec/index.js';
import { LOOPBACK_NETWORK, ConsensusEngine, type ConsensusNetwork } from '../../src/consensus/engine.js';
import { decodeCommitResponse, encodeCommitResponse } from '../../src/p2p/messages.js';
import { FileSigner } from '../../src/privval/index.js';
import type { GenesisDoc } from '../../src/types/genesis.js';
import { voteExtensionSignBytes } from '../../src/types/index.js';
import { signCommit, testGenesis, testKeys } from '../helpers/chain.js';
import { QUIET, openChainParts, pollUntil, scratchDir } from '../helpers/libp2p-chain.js';

// long timeouts: the lone validator of four never decides by itself during the test
const TIMEOUTS = { propose: 60_000, proposeDelta: 0, prevote: 60_000, prevoteDelta: 0, precommit: 60_000, precommitDelta: 0, commit: 10 };

const { dir, closers } = scratchDir('tally-catchup-');

const keys = testKeys(4);
const genesis = testGenesis(keys, { chainId: 'catch-up-chain' });

async function setup(name: string, keyIndex: number, onFatal?: (e: Error) => void, network: ConsensusNetwork = LOOPBACK_NETWORK, gen: GenesisDoc = genesis) {
  const d = join(dir, name);
  const { blockStore, executor, state, close } = await openChainParts(d, gen, { mempool: false });
  const engine = new ConsensusEngine(
    { chainId: gen.chainId, timeouts: TIMEOUTS, walPath: join(d, 'cs.wal') },
    { executor, blockStore, signer: FileSigner.open(keys[keyIndex]!, join(d, 'pv_state.json')), network, logger: QUIET, ...(onFatal ? { onFatal } : {}) },
  );
  closers.push(async () => {
    await engine.stop();
    await close();
  });
  return { engine, executor, blockStore, state };
}

describe('receiveCommit', () => {
  test('ignores forged and mismatched commits, decides with a valid one and stores it', async () => {
    // a block for height 1 as another validator would build it
    const builder = await setup('builder', 1);
    const built = await builder.executor.createProposalBlock(builder.state, keys[1]!.pubKey.address, null, null);
    const time = { seconds: genesis.genesisTime.seconds + 5, nanos: 0 };
    const commit = signCommit(genesis.chainId, builder.state.validators, keys.slice(0, 3), 1, 0, built.blockId, time);

    const node = await setup('node', 3);
    await node.engine.start(node.state);
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 150));

    // one signature altered: the commit does not verify
    const forged = { ...commit, signatures: commit.signatures.map((s, i) => (i === 0 ? { ...s, signature: s.signature.map((b, j) => (j === 0 ? b ^ 1 : b)) } : s)) };
    node.engine.receiveCommit(built.block, forged);
    // too little power: two of four validators
    node.engine.receiveCommit(built.block, signCommit(genesis.chainId, builder.state.validators, keys.slice(0, 2), 1, 0, built.blockId, time));
    // a valid commit, but for another block than the one sent with it
    const other = await builder.executor.createProposalBlock(builder.state, keys[2]!.pubKey.address, null, null);
    node.engine.receiveCommit(other.block, commit);
    await settle();
    expect(node.engine.chainState.lastBlockHeight).toBe(0);
    expect(await node.blockStore.loadBlock(1)).toBeUndefined();

    // the real thing
    node.engine.receiveCommit(built.block, commit);
    await node.engine.waitForHeight(1);
    expect(node.engine.chainState.lastBlockHeight).toBe(1);
    const stored = await node.blockStore.loadBlockMeta(1);
    expect(stored?.blockId.hash).toEqual(built.blockId.hash);
    expect(await node.blockStore.loadSeenCommit(1)).toEqual(commit);
  });

  test('a height decided by precommits for a block this node never got waits for the block instead of stopping', async () => {
    const builder = await setup('builder2', 1);
    const built = await builder.executor.createProposalBlock(builder.state, keys[1]!.pubKey.address, null, null);
    const time = { seconds: genesis.genesisTime.seconds + 5, nanos: 0 };
    const fatals: Error[] = [];
    const node = await setup('node2', 3, (e) => fatals.push(e));
    await node.engine.start(node.state);
    // +2/3 precommits for the block arrive, but neither the proposal nor its parts
    const commit = signCommit(genesis.chainId, builder.state.validators, keys.slice(0, 3), 1, 0, built.blockId, time);
    commit.signatures.forEach((sig, i) => {
      if (sig.blockIdFlag !== BlockIDFlag.Commit) return;
      node.engine.receiveVote({
        type: SignedMsgType.Precommit,
        height: 1,
        round: 0,
        blockId: built.blockId,
        timestamp: sig.timestamp,
        validatorAddress: sig.validatorAddress,
        validatorIndex: i,
        signature: sig.signature,
        extension: new Uint8Array(0),
        extensionSignature: new Uint8Array(0),
      });
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(fatals).toEqual([]);
    expect(node.engine.running).toBe(true);
    expect(node.engine.chainState.lastBlockHeight).toBe(0);
    // the block comes with a peer's commit (the network's catch-up): the height is decided
    node.engine.receiveCommit(built.block, commit);
    await node.engine.waitForHeight(1);
    expect((await node.blockStore.loadBlockMeta(1))?.blockId.hash).toEqual(built.blockId.hash);
    expect(fatals).toEqual([]);
  });

  test('precommits two heights ahead are kept: a node that catches up to that height decides it at once', async () => {
    // heights 1–3 as the other three validators made them
    const builder = await setup('builder3', 1);
    let st = builder.state;
    let last: Commit | null = null;
    const made = [];
    for (let h = 1; h <= 3; h++) {
      const built = await builder.executor.createProposalBlock(st, keys[1]!.pubKey.address, last, null);
      const commit = signCommit(genesis.chainId, st.validators, keys.slice(0, 3), h, 0, built.blockId, { seconds: genesis.genesisTime.seconds + 5 * h, nanos: 0 });
      st = (await builder.executor.applyBlock(st, built.blockId, built.block)).state;
      last = commit;
      made.push({ built, commit });
    }
    const requested: number[] = [];
    const fatals: Error[] = [];
    const node = await setup('node3', 3, (e) => fatals.push(e), { ...LOOPBACK_NETWORK, requestBlock: (h) => requested.push(h) });
    await node.engine.start(node.state);
    // at height 1 it hears height 3's precommits (and nothing else of heights 2–3)
    const third = made[2]!;
    third.commit.signatures.forEach((sig, i) => {
      if (sig.blockIdFlag !== BlockIDFlag.Commit) return;
      node.engine.receiveVote({ type: SignedMsgType.Precommit, height: 3, round: 0, blockId: third.built.blockId, timestamp: sig.timestamp, validatorAddress: sig.validatorAddress, validatorIndex: i, signature: sig.signature, extension: new Uint8Array(0), extensionSignature: new Uint8Array(0) });
    });
    // it catches up heights 1 and 2 through peers' commits
    node.engine.receiveCommit(made[0]!.built.block, made[0]!.commit);
    await node.engine.waitForHeight(1);
    node.engine.receiveCommit(made[1]!.built.block, made[1]!.commit);
    await node.engine.waitForHeight(2);
    // at height 3 it holds +2/3 precommits already: it decides and asks for the block it lacks
    await pollUntil('a request for block 3', () => requested.includes(3), 10_000);
    node.engine.receiveCommit(third.built.block, third.commit);
    await node.engine.waitForHeight(3);
    expect(requested).toEqual([3]);
    expect(fatals).toEqual([]);
  });
});

describe('receiveCommit with vote extensions on', () => {
  const extGenesis: GenesisDoc = { ...genesis, chainId: 'catch-up-ext', consensusParams: { ...genesis.consensusParams, abci: { voteExtensionsEnableHeight: 1n } } };

  /** `commit` with an extension signed by each validator that committed (by address, as in the set). */
  function extend(commit: Commit, tamper = -1): ExtendedCommit {
    return {
      height: commit.height,
      round: commit.round,
      blockId: commit.blockId,
      extendedSignatures: commit.signatures.map((s, i) => {
        if (s.blockIdFlag !== BlockIDFlag.Commit) return { ...s, extension: new Uint8Array(0), extensionSignature: new Uint8Array(0) };
        const key = keys.find((k) => Buffer.from(k.pubKey.address).equals(Buffer.from(s.validatorAddress)))!;
        const extension = new TextEncoder().encode(`extension of validator ${i}`);
        const extensionSignature = key.sign(voteExtensionSignBytes(extGenesis.chainId, { extension, height: commit.height, round: commit.round }));
        if (i === tamper) extensionSignature[0]! ^= 1;
        return { ...s, extension, extensionSignature };
      }),
    };
  }

  test('a commit whose extensions verify is stored with them (what the next proposer hands PrepareProposal); with a bad one the height is still decided, without extensions', async () => {
    const builder = await setup('ext-builder', 1, undefined, LOOPBACK_NETWORK, extGenesis);
    const built = await builder.executor.createProposalBlock(builder.state, keys[1]!.pubKey.address, null, null);
    const time = { seconds: extGenesis.genesisTime.seconds + 5, nanos: 0 };
    const commit = signCommit(extGenesis.chainId, builder.state.validators, keys.slice(0, 3), 1, 0, built.blockId, time);
    const extended = extend(commit);
    // it crosses the wire in place of the commit
    const wire = decodeCommitResponse(encodeCommitResponse({ block: built.block, commit: extended }));
    expect(wire?.commit).toEqual(extended);
    expect(decodeCommitResponse(encodeCommitResponse({ block: built.block, commit }))?.commit).toEqual(commit);
    // both forms at once is not a response
    const both = new ProtoWriter().message(1, encodeBlock(built.block)).message(2, encodeCommit(commit)).message(4, encodeExtendedCommit(extended)).finish();
    expect(() => decodeCommitResponse(both)).toThrow(DecodeError);

    const good = await setup('ext-good', 3, undefined, LOOPBACK_NETWORK, extGenesis);
    await good.engine.start(good.state);
    good.engine.receiveCommit(built.block, wire!.commit);
    await good.engine.waitForHeight(1);
    expect(await good.blockStore.loadExtendedCommit(1)).toEqual(extended);
    expect(await good.blockStore.loadSeenCommit(1)).toEqual(commit);

    const committed = extended.extendedSignatures.findIndex((s) => s.blockIdFlag === BlockIDFlag.Commit);
    for (const [name, ext] of [
      ['ext-tampered', extend(commit, committed)],
      ['ext-none', commit],
    ] as const) {
      const node = await setup(name, 3, undefined, LOOPBACK_NETWORK, extGenesis);
      await node.engine.start(node.state);
      node.engine.receiveCommit(built.block, ext);
      await node.engine.waitForHeight(1);
      expect(await node.blockStore.loadSeenCommit(1), name).toEqual(commit);
      expect(await node.blockStore.loadExtendedCommit(1), name).toBeUndefined();
    }
  });
});
