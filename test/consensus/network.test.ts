// Four validators in one process, connected by an in-memory network: the engine's peer paths
// (proposals as block parts, votes from others) and vote extensions end to end — precommits
// carry the app's extension, peers verify it, and the next proposer's PrepareProposal sees them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  serialize,
  VerifyVoteExtensionStatus,
  type Application,
  type RequestExtendVote,
  type RequestPrepareProposal,
  type RequestVerifyVoteExtension,
} from '../../src/abci/index.js';
import { KVStoreApp } from '../../src/apps/kvstore/index.js';
import { BlockIDFlag, toHex, type Part, type PartSetHeader, type Proposal, type Vote } from '../../src/codec/index.js';
import { ConsensusEngine, type ConsensusNetwork } from '../../src/consensus/engine.js';
import { BlockExecutor, handshake, stateFromGenesis } from '../../src/execution/index.js';
import { FileSigner } from '../../src/privval/index.js';
import { BlockStore, StateStore } from '../../src/store/index.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { TestMempool } from '../helpers/mempool.js';

const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };
const TIMEOUTS = { propose: 1000, proposeDelta: 200, prevote: 300, prevoteDelta: 100, precommit: 300, precommitDelta: 100, commit: 10 };
const TARGET = 6;
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);


/** The kvstore, plus vote extensions "ext:<height>:<address>", checked by peers and recorded as seen by PrepareProposal. */
class ExtensionApp implements Application {
  readonly prepared: RequestPrepareProposal[] = [];
  readonly verified: RequestVerifyVoteExtension[] = [];
  constructor(private readonly inner: KVStoreApp, private readonly address: Uint8Array) {}
  info: Application['info'] = (r) => this.inner.info(r);
  query: Application['query'] = (r) => this.inner.query(r);
  checkTx: Application['checkTx'] = (r) => this.inner.checkTx(r);
  initChain: Application['initChain'] = (r) => this.inner.initChain(r);
  prepareProposal: Application['prepareProposal'] = (r) => {
    this.prepared.push(r);
    return this.inner.prepareProposal(r);
  };
  processProposal: Application['processProposal'] = (r) => this.inner.processProposal(r);
  extendVote = async (r: RequestExtendVote): Promise<{ voteExtension: Uint8Array }> => ({ voteExtension: enc(`ext:${r.height}:${toHex(this.address)}`) });
  verifyVoteExtension = async (r: RequestVerifyVoteExtension): Promise<{ status: VerifyVoteExtensionStatus }> => {
    this.verified.push(r);
    const ok = new TextDecoder().decode(r.voteExtension) === `ext:${r.height}:${toHex(r.validatorAddress)}`;
    return { status: ok ? VerifyVoteExtensionStatus.Accept : VerifyVoteExtensionStatus.Reject };
  };
  finalizeBlock: Application['finalizeBlock'] = (r) => this.inner.finalizeBlock(r);
  commit: Application['commit'] = () => this.inner.commit();
  listSnapshots: Application['listSnapshots'] = () => this.inner.listSnapshots();
  offerSnapshot: Application['offerSnapshot'] = (r) => this.inner.offerSnapshot(r);
  loadSnapshotChunk: Application['loadSnapshotChunk'] = (r) => this.inner.loadSnapshotChunk(r);
  applySnapshotChunk: Application['applySnapshotChunk'] = (r) => this.inner.applySnapshotChunk(r);
}

/** Delivers every broadcast to the other nodes, asynchronously (as a network would). */
class MemoryNetwork {
  readonly engines: ConsensusEngine[] = [];
  endpoint(from: number): ConsensusNetwork {
    const others = (): ConsensusEngine[] => this.engines.filter((_, i) => i !== from);
    return {
      broadcastProposal: (p: Proposal, _h: PartSetHeader, parts: readonly Part[]) =>
        setImmediate(() => {
          for (const e of others()) {
            e.receiveProposal(p);
            for (const part of parts) e.receiveBlockPart(p.height, p.blockId, part);
          }
        }),
      broadcastVote: (v: Vote) => setImmediate(() => others().forEach((e) => e.receiveVote(v))),
    };
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tally-net-'));
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

describe('four validators over an in-memory network, vote extensions on from height 2', () => {
  test('they agree on every block and app hash; extensions reach the next proposer', async () => {
    const keys = testKeys(4);
    const base = testGenesis(keys);
    const genesis = { ...base, consensusParams: { ...base.consensusParams, abci: { voteExtensionsEnableHeight: 2n } } };
    const net = new MemoryNetwork();
    const nodes: { engine: ConsensusEngine; app: ExtensionApp; blockStore: BlockStore; mempool: TestMempool; state: Awaited<ReturnType<typeof handshake>>['state'] }[] = [];
    for (let i = 0; i < keys.length; i++) {
      const d = join(dir, `node${i}`);
      const kv = await KVStoreApp.open({ dir: join(d, 'app'), syncWrites: false });
      const app = new ExtensionApp(kv, keys[i]!.pubKey.address);
      const sapp = serialize(app);
      const blockStore = new BlockStore({ path: join(d, 'blocks'), sync: false });
      const stateStore = new StateStore({ path: join(d, 'state'), sync: false });
      await blockStore.open();
      await stateStore.open();
      const mempool = new TestMempool();
      const executor = new BlockExecutor({ app: sapp, blockStore, stateStore, mempool, logger: quiet });
      const { state } = await handshake(stateFromGenesis(genesis), { genesis, app: sapp, blockStore, stateStore, executor, logger: quiet, version: 'test' });
      const engine = new ConsensusEngine(
        { chainId: genesis.chainId, timeouts: TIMEOUTS, walPath: join(d, 'cs.wal') },
        { executor, blockStore, signer: FileSigner.open(keys[i]!, join(d, 'pv_state.json')), network: net.endpoint(i), logger: quiet, onFatal: (e) => { throw e; } },
      );
      net.engines.push(engine);
      nodes.push({ engine, app, blockStore, mempool, state });
      closers.push(async () => {
        await engine.stop();
        await blockStore.close();
        await stateStore.close();
        await kv.close();
      });
    }
    // every node knows the same tx, as if gossiped; whoever proposes includes it
    for (const n of nodes) n.mempool.txs.push(enc('shared=yes'));
    for (const n of nodes) await n.engine.start(n.state);
    await Promise.all(nodes.map((n) => n.engine.waitForHeight(TARGET)));

    // agreement: the same block and the same app hash at every height, on every node
    let txsCommitted = 0;
    for (let h = 1; h <= TARGET; h++) {
      const blocks = await Promise.all(nodes.map((n) => n.blockStore.loadBlockMeta(h)));
      const hashes = new Set(blocks.map((m) => toHex(m!.blockId.hash)));
      const appHashes = new Set(blocks.map((m) => toHex(m!.header.appHash)));
      expect(hashes.size, `block hashes at ${h}`).toBe(1);
      expect(appHashes.size, `app hashes at ${h}`).toBe(1);
      txsCommitted += blocks[0]!.numTxs;
    }
    expect(txsCommitted).toBe(1);
    // proposers rotate: more than one validator proposed
    const proposers = new Set<string>();
    for (let h = 1; h <= TARGET; h++) proposers.add(toHex((await nodes[0]!.blockStore.loadBlockMeta(h))!.header.proposerAddress));
    expect(proposers.size).toBeGreaterThan(1);

    // extensions: peers verified others' extensions (and accepted: consensus went on)
    const verified = nodes.flatMap((n) => n.app.verified);
    expect(verified.length).toBeGreaterThan(0);
    expect(verified.every((v) => v.height >= 2)).toBe(true);
    // the proposer of h >= 3 saw h-1's extensions, one per COMMIT vote, each the signer's own
    const prepared = nodes.flatMap((n) => n.app.prepared).filter((r) => r.height >= 3);
    expect(prepared.length).toBeGreaterThan(0);
    for (const r of prepared) {
      const commits = r.localLastCommit.votes.filter((v) => v.blockIdFlag === BlockIDFlag.Commit);
      expect(commits.length * 3, `votes for ${r.height - 1}`).toBeGreaterThan(nodes.length * 2);
      for (const v of commits) expect(new TextDecoder().decode(v.voteExtension)).toBe(`ext:${r.height - 1}:${toHex(v.validator.address)}`);
    }
    // and the block store kept the extended commit
    const stored = await nodes[0]!.blockStore.loadExtendedCommit(TARGET - 1);
    expect(stored?.extendedSignatures.some((s) => s.extension.length > 0)).toBe(true);
  }, 60_000);
});
