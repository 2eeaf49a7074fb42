// A single validator as a real process: blocks/s with empty blocks, blocks/s and txs/s with
// 1000-tx blocks, and the time from restart (after kill -9) to the first committed block.
// Prints one JSON line.
import '../src/polyfill/index.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineHead, onInterrupt, stopChild } from './shared.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TXS_PER_BLOCK = 1000;

interface Proc {
  child: ChildProcess;
  out: () => string;
  waitFor: (re: RegExp, ms?: number) => Promise<RegExpMatchArray>;
}

/** The node processes running now: stopped if the bench is interrupted. */
const live = new Set<ChildProcess>();

function run(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    out: () => out,
    waitFor: (re, ms = 30_000) =>
      new Promise((resolve, reject) => {
        const start = Date.now();
        const tick = (): void => {
          const m = out.match(re);
          if (m) return resolve(m);
          if (Date.now() - start > ms || child.exitCode !== null) return reject(new Error(`no ${re} in:\n${out.slice(-2000)}`));
          setTimeout(tick, 5);
        };
        tick();
      }),
  };
}

function heights(out: string): number[] {
  return [...out.matchAll(/"height":(\d+),[^\n]*"txs":(\d+),[^\n]*"msg":"committed block"/g)].map((m) => Number(m[1]));
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function rpc(port: number, method: string, params: object): Promise<string> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', () => resolve(''));
    req.end(body);
  });
}

/**
 * The validator's block pipeline in-process, with full 1000-tx blocks: reap, PrepareProposal,
 * ProcessProposal, sign the commit, store the block, FinalizeBlock, Commit, index, save state.
 */
async function pipeline1000(dir: string): Promise<Record<string, number>> {
  const { serialize } = await import('../src/abci/index.js');
  const { KVStoreApp } = await import('../src/apps/kvstore/index.js');
  const { BlockExecutor, handshake, stateFromGenesis } = await import('../src/execution/index.js');
  const { BlockIndex, BlockStore, StateStore, TxIndex } = await import('../src/store/index.js');
  const { voteSignBytes } = await import('../src/types/index.js');
  const { BlockIDFlag, SignedMsgType } = await import('../src/codec/index.js');
  const { key, genesis } = (await import('./shared.js')).benchChain();
  const quiet = { info: () => {}, warn: () => {}, debug: () => {} };
  const app = serialize(await KVStoreApp.open({ dir: join(dir, 'app') }));
  const stores = [new BlockStore({ path: join(dir, 'b') }), new StateStore({ path: join(dir, 's') }), new TxIndex({ path: join(dir, 't') }), new BlockIndex({ path: join(dir, 'bi') })] as const;
  for (const st of stores) await st.open();
  const [blockStore, stateStore, txIndex, blockIndex] = stores;
  let txs: Uint8Array[] = [];
  const mempool = { reapMaxBytesMaxGas: () => txs, update: () => {}, withLock: <T>(f: () => Promise<T>) => f() };
  const executor = new BlockExecutor({ app, blockStore, stateStore, txIndex, blockIndex, mempool, logger: quiet });
  let { state } = await handshake(stateFromGenesis(genesis), { genesis, app, blockStore, stateStore, executor, logger: quiet, version: 'bench' });
  let last: import('../src/codec/index.js').Commit | null = null;
  const times: number[] = [];
  for (let b = 0; b < 25; b++) {
    txs = Array.from({ length: TXS_PER_BLOCK }, (_, i) => new TextEncoder().encode(`k${String(b).padStart(3, '0')}_${String(i).padStart(4, '0')}=v${i}`));
    const t0 = performance.now();
    const p = await executor.createProposalBlock(state, key.pubKey.address, last, null);
    if ((await executor.processProposal(state, p.block)).valid !== true) throw new Error('proposal rejected');
    const timestamp = { seconds: p.block.header.time.seconds + 1, nanos: 0 };
    const signature = key.sign(voteSignBytes('bench', { type: SignedMsgType.Precommit, height: p.block.header.height, round: 0, blockId: p.blockId, timestamp }));
    last = { height: p.block.header.height, round: 0, blockId: p.blockId, signatures: [{ blockIdFlag: BlockIDFlag.Commit, validatorAddress: key.pubKey.address, timestamp, signature }] };
    await blockStore.saveBlock(p.block, last, { header: p.partSetHeader, parts: p.parts });
    state = (await executor.applyBlock(state, p.blockId, p.block)).state;
    if (p.block.data.txs.length !== TXS_PER_BLOCK) throw new Error(`block held ${p.block.data.txs.length} txs`);
    if (b >= 5) times.push(performance.now() - t0); // the first blocks warm up the JIT
  }
  for (const st of stores) await st.close();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  return {
    pipeline_txs_per_block: TXS_PER_BLOCK,
    pipeline_block_ms_p50: Math.round(median),
    pipeline_block_ms_max: Math.round(times[times.length - 1]!),
    pipeline_blocks_per_s: Number((1000 / median).toFixed(1)),
    pipeline_txs_per_s: Math.round((TXS_PER_BLOCK * 1000) / median),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-node-'));
  // an interrupted bench stops its node and removes the home
  const forget = onInterrupt(async () => {
    await Promise.all([...live].map((c) => stopChild(c, 10_000)));
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    const home = join(dir, 'home');
    spawnSync(process.execPath, [CLI, 'init', '--home', home, '--chain-id', 'bench'], { stdio: 'ignore' });
    // ~18 bytes a tx: a block limit that holds TXS_PER_BLOCK of them plus header and commit
    const genesisPath = join(home, 'config', 'genesis.json');
    const genesis = JSON.parse(readFileSync(genesisPath, 'utf8')) as { consensus_params: { block: { max_bytes: string }; evidence: { max_bytes: string } } };
    genesis.consensus_params.block.max_bytes = String(TXS_PER_BLOCK * 18 + 11 + 626 + 94 + 111);
    genesis.consensus_params.evidence.max_bytes = '0';
    writeFileSync(genesisPath, JSON.stringify(genesis, null, 2));
    const args = ['start', '--home', home, '--log_format', 'json', '--rpc.laddr', 'tcp://127.0.0.1:0', '--consensus.timeout_commit', '0ms', '--mempool.size', '200000', '--mempool.max_txs_bytes', '1073741824'];

    const pipeline = await pipeline1000(join(dir, 'pipeline'));

    // 1. empty blocks
    let node = run(args);
    await node.waitFor(/"rpc":"tcp:\/\/[\d.]+:\d+"/);
    await node.waitFor(/"height":5,[^\n]*committed block/);
    const h0 = Math.max(...heights(node.out()));
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const emptyBlocksPerS = (Math.max(...heights(node.out())) - h0) / ((Date.now() - t0) / 1000);

    // 2. 1000-tx blocks. Block processing is measured on its own: the node restarts with
    // mempool.recheck off (kvstore txs never turn invalid, so recheck is pure overhead here and
    // would throttle intake) and the mempool is filled ahead of consensus.
    node.child.kill('SIGTERM');
    await new Promise((r) => node.child.once('exit', r));
    node = run([...args, '--mempool.recheck=false']);
    const port2 = Number((await node.waitFor(/"rpc":"tcp:\/\/[\d.]+:(\d+)"/))[1]);
    const fillTarget = TXS_PER_BLOCK * SECONDS * 3;
    let sent = 0;
    const before = node.out().length;
    const t1 = Date.now();
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        for (let i = w; i < fillTarget; i += 32) {
          await rpc(port2, 'broadcast_tx_async', { tx: Buffer.from(`k${String(i).padStart(7, '0')}=v${String(i).padStart(7, '0')}`).toString('base64') });
          sent++;
        }
      }),
    );
    // the window: while txs were arriving
    const window = node.out().slice(before);
    const full = [...window.matchAll(/"txs":(\d+),[^\n]*"msg":"committed block"/g)].map((m) => Number(m[1])).filter((n) => n > 0);
    const secs = (Date.now() - t1) / 1000;
    const txsCommitted = full.reduce((a, b) => a + b, 0);

    // 3. restart after kill -9: from spawn to the first committed block
    const restarts: number[] = [];
    for (let i = 0; i < 5; i++) {
      node.child.kill('SIGKILL');
      await new Promise((r) => node.child.once('exit', r));
      const spawned = Date.now();
      node = run(args);
      await node.waitFor(/committed block/);
      restarts.push(Date.now() - spawned);
      await new Promise((r) => setTimeout(r, 300));
    }
    node.child.kill('SIGTERM');
    await new Promise((r) => node.child.once('exit', r));
    restarts.sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        ...lineHead('node'),
        validators: 1,
        duration_s: SECONDS,
        empty_blocks_per_s: Number(emptyBlocksPerS.toFixed(1)),
        rpc_intake_txs_sent: sent,
        rpc_intake_blocks_per_s: Number((full.length / secs).toFixed(1)),
        rpc_intake_txs_per_block_avg: full.length ? Math.round(txsCommitted / full.length) : 0,
        rpc_intake_txs_committed_per_s: Math.round(txsCommitted / secs),
        ...pipeline,
        restart_to_first_block_ms_median: restarts[2],
        restart_to_first_block_ms_max: restarts[4],
      }),
    );
  } finally {
    forget();
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
