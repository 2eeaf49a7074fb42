// A small chain for evidence tests: four validators with deterministic keys, the real stores,
// executor and evidence pool, and an app that records what consensus tells it. Blocks are
// made one at a time, each `secondsPerBlock` after the last, so both evidence age limits
// (blocks and time) can be driven exactly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize, type RequestFinalizeBlock, type RequestPrepareProposal, type RequestProcessProposal, type ResponseFinalizeBlock, type ResponsePrepareProposal, type ResponseProcessProposal } from '../../src/abci/index.js';
import { CounterApp } from '../../src/apps/index.js';
import { SignedMsgType, type Block, type BlockID, type Commit, type DuplicateVoteEvidence, type Part, type PartSetHeader, type Timestamp, type Vote } from '../../src/codec/index.js';
import type { PrivKey } from '../../src/crypto/index.js';
import { EvidencePool } from '../../src/evidence/index.js';
import { BlockExecutor, handshake, stateFromGenesis, type AppliedBlock } from '../../src/execution/index.js';
import { BlockStore, StateStore, type State } from '../../src/store/index.js';
import { DEFAULT_CONSENSUS_PARAMS, type GenesisDoc } from '../../src/types/genesis.js';
import { voteSignBytes } from '../../src/types/index.js';
import { signCommit, testGenesis, testKeys } from '../helpers/chain.js';
import { TestMempool } from '../helpers/mempool.js';

export const silent = { info: () => {}, warn: () => {}, debug: () => {} };

/** The counter app, recording the ABCI requests that carry misbehavior. */
export class RecordingApp extends CounterApp {
  readonly finalized: RequestFinalizeBlock[] = [];
  readonly prepared: RequestPrepareProposal[] = [];
  readonly processed: RequestProcessProposal[] = [];
  override async finalizeBlock(req: RequestFinalizeBlock): Promise<ResponseFinalizeBlock> {
    this.finalized.push(req);
    return super.finalizeBlock(req);
  }
  override async prepareProposal(req: RequestPrepareProposal): Promise<ResponsePrepareProposal> {
    this.prepared.push(req);
    return super.prepareProposal(req);
  }
  override async processProposal(req: RequestProcessProposal): Promise<ResponseProcessProposal> {
    this.processed.push(req);
    return super.processProposal(req);
  }
}

const dirs: string[] = [];
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tally-evidence-'));
  dirs.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface ChainOptions {
  readonly maxAgeNumBlocks?: bigint;
  readonly maxAgeSeconds?: number;
  readonly evidenceMaxBytes?: bigint;
  readonly secondsPerBlock?: number;
  /** The executor's onApplied hook (e.g. NodeEvents.blockApplied). */
  readonly onApplied?: (a: AppliedBlock) => void;
}

export class TestChain {
  readonly keys: PrivKey[] = testKeys(4);
  readonly genesis: GenesisDoc;
  readonly app = new RecordingApp();
  readonly mempool = new TestMempool();
  blockStore!: BlockStore;
  stateStore!: StateStore;
  pool!: EvidencePool;
  executor!: BlockExecutor;
  state!: State;
  lastCommit: Commit | null = null;
  private readonly secondsPerBlock: number;

  private constructor(
    readonly dir: string,
    private readonly opts: ChainOptions,
  ) {
    const base = testGenesis(this.keys, { chainId: 'evidence-chain' });
    const evidence = {
      maxAgeNumBlocks: opts.maxAgeNumBlocks ?? DEFAULT_CONSENSUS_PARAMS.evidence.maxAgeNumBlocks,
      maxAgeDuration: opts.maxAgeSeconds !== undefined ? { seconds: opts.maxAgeSeconds, nanos: 0 } : DEFAULT_CONSENSUS_PARAMS.evidence.maxAgeDuration,
      maxBytes: opts.evidenceMaxBytes ?? DEFAULT_CONSENSUS_PARAMS.evidence.maxBytes,
    };
    this.genesis = { ...base, consensusParams: { ...base.consensusParams, evidence } };
    this.secondsPerBlock = opts.secondsPerBlock ?? 1;
  }

  static async open(opts: ChainOptions = {}, dir = tempDir()): Promise<TestChain> {
    const c = new TestChain(dir, opts);
    await c.openStores();
    return c;
  }

  private async openStores(): Promise<void> {
    this.blockStore = new BlockStore({ path: join(this.dir, 'blocks'), sync: false });
    this.stateStore = new StateStore({ path: join(this.dir, 'state'), sync: false });
    await this.blockStore.open();
    await this.stateStore.open();
    this.pool = this.newPool();
    await this.pool.open();
    this.executor = new BlockExecutor({ app: serialize(this.app), blockStore: this.blockStore, stateStore: this.stateStore, mempool: this.mempool, evidence: this.pool, logger: silent, ...(this.opts.onApplied ? { onApplied: this.opts.onApplied } : {}) });
    const stored = await this.stateStore.load();
    const { state } = await handshake(stored ?? stateFromGenesis(this.genesis), {
      genesis: this.genesis,
      app: serialize(this.app),
      blockStore: this.blockStore,
      stateStore: this.stateStore,
      executor: this.executor,
      logger: silent,
      version: 'test',
    });
    this.state = state;
    await this.pool.start(state);
  }

  newPool(): EvidencePool {
    return new EvidencePool({ chainId: this.genesis.chainId, path: join(this.dir, 'evidence'), sync: false, rebroadcastIntervalMs: 0 }, { stateStore: this.stateStore, blockStore: this.blockStore, logger: silent });
  }

  /** Closes and reopens the pool only (a restart of the evidence database). */
  async reopenPool(): Promise<void> {
    await this.pool.stop();
    this.pool = this.newPool();
    await this.pool.start(this.state);
    this.executor = new BlockExecutor({
      app: serialize(this.app),
      blockStore: this.blockStore,
      stateStore: this.stateStore,
      mempool: this.mempool,
      evidence: this.pool,
      logger: silent,
      ...(this.opts.onApplied ? { onApplied: this.opts.onApplied } : {}),
    });
  }

  /** Propose (as the state's proposer), check, sign by all, store and apply one block. */
  async produce(): Promise<Block> {
    const proposer = this.state.validators.getProposer();
    const { block, blockId, parts, partSetHeader } = await this.executor.createProposalBlock(this.state, proposer.address, this.lastCommit, null);
    const verdict = await this.executor.processProposal(this.state, block);
    if (!verdict.valid) throw new Error(`own proposal rejected: ${verdict.reason}`);
    await this.commitBlock(block, blockId, parts, partSetHeader);
    return block;
  }

  /** Sign, store and apply `block` (already built) as the next block. */
  async commitBlock(block: Block, blockId: BlockID, parts: Part[], partSetHeader: PartSetHeader): Promise<void> {
    const t = block.header.time;
    const time = { seconds: t.seconds + this.secondsPerBlock, nanos: t.nanos };
    const commit = signCommit(this.state.chainId, this.state.validators, this.keys, block.header.height, 0, blockId, time);
    await this.blockStore.saveBlock(block, commit, { header: partSetHeader, parts });
    this.state = (await this.executor.applyBlock(this.state, blockId, block)).state;
    this.lastCommit = commit;
  }

  async produceUntil(height: number): Promise<void> {
    while (this.state.lastBlockHeight < height) await this.produce();
  }

  async blockTime(height: number): Promise<Timestamp> {
    const meta = await this.blockStore.loadBlockMeta(height);
    if (!meta) throw new Error(`no block ${height}`);
    return meta.header.time;
  }

  /** Validator `i` (by key index) double-signs at `height`: real evidence stamped with that block's time. */
  async evidence(i: number, height: number, opts: { round?: number; fill?: number } = {}): Promise<DuplicateVoteEvidence> {
    const vals = await this.stateStore.loadValidators(height);
    const key = this.keys[i]!;
    const found = vals.getByAddress(key.pubKey.address)!;
    const [voteA, voteB] = conflictingVotes(this.genesis.chainId, key, found.index, height, opts.round ?? 0, opts.fill ?? 1);
    return { kind: 'duplicate_vote', voteA, voteB, validatorPower: found.validator.votingPower, totalVotingPower: vals.totalVotingPower(), timestamp: await this.blockTime(height) };
  }

  async close(): Promise<void> {
    await this.pool.stop();
    await this.blockStore.close();
    await this.stateStore.close();
  }
}

/** A signed vote (prevote by default) by `key` for a made-up block filled with `fill`. */
export function signedVote(chainId: string, key: PrivKey, index: number, height: number, round: number, fill: number, type = SignedMsgType.Prevote): Vote {
  const unsigned: Vote = {
    type,
    height,
    round,
    blockId: { hash: new Uint8Array(32).fill(fill), partSetHeader: { total: 1, hash: new Uint8Array(32).fill(fill) } },
    timestamp: { seconds: 1_700_000_000, nanos: 0 },
    validatorAddress: key.pubKey.address,
    validatorIndex: index,
    signature: new Uint8Array(0),
    extension: new Uint8Array(0),
    extensionSignature: new Uint8Array(0),
  };
  return { ...unsigned, signature: key.sign(voteSignBytes(chainId, unsigned)) };
}

/** Two prevotes of one validator for different blocks, in evidence order (lower block id key first). */
export function conflictingVotes(chainId: string, key: PrivKey, index: number, height: number, round: number, fill: number): [Vote, Vote] {
  return [signedVote(chainId, key, index, height, round, fill), signedVote(chainId, key, index, height, round, fill + 1)];
}
