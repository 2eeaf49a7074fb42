// The CPU one node spends per transaction to receive, check, execute and store a block, in
// process, by phase. Every validator does all of this for every block (a 4-validator testnet on
// 2 cores executes each tx four times), so µs per tx here bounds the chain's throughput.
//
// Each run: a fresh single-validator chain with the kvstore app and the node's stores (fsync on,
// as the node opens them); BLOCKS blocks of TXS_PER_BLOCK distinct TX_BYTES-byte "key=value"
// txs. A block is proposed (not measured), cut into parts, and then received as a peer's
// proposal would be: parts verified and decoded, ProcessProposal, block store write, then the
// steps of BlockExecutor.applyBlock one at a time so each phase gets its own figure. CPU is
// process.cpuUsage() (user + system, every thread: LevelDB's work in the libuv pool counts), which
// a busy machine does not inflate as it does wall time. RUNS runs; per phase the median run.
// Prints one JSON line.
import '../src/polyfill/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeResponseFinalizeBlock, serialize } from '../src/abci/index.js';
import { KVStoreApp } from '../src/apps/kvstore/index.js';
import { BlockIDFlag, SignedMsgType, type Commit } from '../src/codec/index.js';
import { BlockExecutor, handshake, stateFromGenesis, updateState } from '../src/execution/index.js';
import { BlockIndex, BlockStore, StateStore, TxIndex } from '../src/store/index.js';
import { PartSet, headerHash, voteSignBytes } from '../src/types/index.js';
import { benchChain, lineHead } from './shared.js';

const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 30);
const WARMUP = 5;
const TXS_PER_BLOCK = Number(process.env.BENCH_TXS ?? 1000);
const TX_BYTES = 200;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const PHASES = ['receive', 'validate', 'block_save', 'finalize', 'results_save', 'commit', 'index', 'state_save'] as const;
type Phase = (typeof PHASES)[number];

/** A distinct TX_BYTES-byte kvstore tx: a unique key, '=', filler value. */
function makeTx(block: number, i: number): Uint8Array {
  const key = `key-${String(block).padStart(4, '0')}-${String(i).padStart(6, '0')}`;
  const value = `v${i}-`.padEnd(TX_BYTES - key.length - 1, 'x');
  return new TextEncoder().encode(`${key}=${value}`);
}

const quiet = { info: () => {}, warn: () => {}, debug: () => {} };

async function run(dir: string): Promise<{ cpu: Record<Phase, number>; wallMsPerBlock: number }> {
  const { key, genesis } = benchChain();
  const kv = await KVStoreApp.open({ dir: join(dir, 'app') });
  const app = serialize(kv);
  const blockStore = new BlockStore({ path: join(dir, 'blockstore.db') });
  const stateStore = new StateStore({ path: join(dir, 'state.db') });
  const txIndex = new TxIndex({ path: join(dir, 'tx_index.db') });
  const blockIndex = new BlockIndex({ path: join(dir, 'block_index.db') });
  const stores = [blockStore, stateStore, txIndex, blockIndex];
  for (const s of stores) await s.open();
  let txs: Uint8Array[] = [];
  const mempool = { reapMaxBytesMaxGas: () => txs, update: () => {}, withLock: <T>(f: () => Promise<T>) => f() };
  const executor = new BlockExecutor({ app, blockStore, stateStore, txIndex, blockIndex, mempool, logger: quiet });
  let { state } = await handshake(stateFromGenesis(genesis), { genesis, app, blockStore, stateStore, executor, logger: quiet, version: 'bench' });

  const cpu = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  let measuring = false;
  const phase = async <T>(p: Phase, fn: () => Promise<T> | T): Promise<T> => {
    const c0 = process.cpuUsage();
    const out = await fn();
    const d = process.cpuUsage(c0);
    if (measuring) cpu[p] += d.user + d.system;
    return out;
  };

  let last: Commit | null = null;
  let wall = 0;
  for (let b = 0; b < BLOCKS; b++) {
    txs = Array.from({ length: TXS_PER_BLOCK }, (_, i) => makeTx(b, i));
    const proposal = await executor.createProposalBlock(state, key.pubKey.address, last, null);
    if (proposal.block.data.txs.length !== TXS_PER_BLOCK) throw new Error(`block held ${proposal.block.data.txs.length} txs`);
    const timestamp = { seconds: proposal.block.header.time.seconds + 1, nanos: 0 };
    const signature = key.sign(voteSignBytes('bench', { type: SignedMsgType.Precommit, height: proposal.block.header.height, round: 0, blockId: proposal.blockId, timestamp }));
    const commit: Commit = {
      height: proposal.block.header.height,
      round: 0,
      blockId: proposal.blockId,
      signatures: [{ blockIdFlag: BlockIDFlag.Commit, validatorAddress: key.pubKey.address, timestamp, signature }],
    };
    // what arrives from the network: copies of the parts, nothing shared with the proposer's objects
    const wire = proposal.parts.map((p) => ({ index: p.index, bytes: p.bytes.slice(), proof: { ...p.proof, leafHash: p.proof.leafHash.slice(), aunts: p.proof.aunts.map((a) => a.slice()) } }));

    measuring = b >= WARMUP; // the first blocks warm up the JIT
    const t0 = performance.now();
    const { block, set } = await phase('receive', () => {
      const set = new PartSet(proposal.partSetHeader);
      for (const p of wire) set.add(p);
      const block = set.assembleBlock();
      if (headerHash(block.header).length !== 32) throw new Error('no header hash');
      return { block, set };
    });
    const blockId = proposal.blockId;
    const verdict = await phase('validate', () => executor.processProposal(state, block));
    if (!verdict.valid) throw new Error(`proposal rejected: ${verdict.reason}`);
    await phase('block_save', () => blockStore.saveBlock(block, commit, { header: set.header, parts: set.allParts() }));
    // BlockExecutor.applyBlock, step by step
    const response = await phase('finalize', () => executor.finalize(state, block));
    await phase('results_save', () => stateStore.saveFinalizeBlockResponse(block.header.height, encodeResponseFinalizeBlock(response)));
    const next = await phase('state_save', () => updateState(state, blockId, block.header, response));
    await phase('commit', () => executor.commit(block.header.height, block.data.txs, response.txResults, next));
    await phase('index', () => Promise.all([txIndex.indexBlock(block.header.height, block.data.txs, response.txResults), blockIndex.index(block.header.height, response.events)]));
    await phase('state_save', () => stateStore.save(next));
    if (measuring) wall += performance.now() - t0;
    state = next;
    last = commit;
  }
  for (const s of stores) await s.close();
  await kv.close();
  const measured = (BLOCKS - WARMUP) * TXS_PER_BLOCK;
  for (const p of PHASES) cpu[p] /= measured;
  return { cpu, wallMsPerBlock: wall / (BLOCKS - WARMUP) };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round1 = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const runs: Awaited<ReturnType<typeof run>>[] = [];
  for (let r = 0; r < RUNS; r++) {
    const dir = mkdtempSync(join(tmpdir(), 'tally-bench-pipeline-'));
    try {
      runs.push(await run(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const perPhase = Object.fromEntries(PHASES.map((p) => [p, round1(median(runs.map((r) => r.cpu[p])))]));
  const totals = runs.map((r) => PHASES.reduce((n, p) => n + r.cpu[p], 0));
  console.log(
    JSON.stringify({
      ...lineHead('pipeline'),
      runs: RUNS,
      blocks: BLOCKS - WARMUP,
      txs_per_block: TXS_PER_BLOCK,
      tx_bytes: TX_BYTES,
      cpu_us_per_tx: round1(median(totals)),
      cpu_us_per_tx_runs: totals.map(round1),
      cpu_us_per_tx_by_phase: perPhase,
      wall_ms_per_block: round1(median(runs.map((r) => r.wallMsPerBlock))),
    }),
  );
}

await main();
