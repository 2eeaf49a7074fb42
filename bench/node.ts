// A single validator as a real process: blocks/s with empty blocks, blocks/s and txs/s with
// 1000-tx blocks, and the time from restart (after kill -9) to the first committed block.
// Prints one JSON line.
import '../src/polyfill/index.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TXS_PER_BLOCK = 1000;

interface Proc {
  child: ChildProcess;
  out: () => string;
  waitFor: (re: RegExp, ms?: number) => Promise<RegExpMatchArray>;
}

function run(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Mempool size, from num_unconfirmed_txs. */
async function pending(port: number): Promise<number> {
  const m = /"n_txs":"(\d+)"/.exec(await rpc(port, 'num_unconfirmed_txs', {}));
  return m ? Number(m[1]) : 0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-node-'));
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

    // 1. empty blocks
    let node = run(args);
    const port = Number((await node.waitFor(/"rpc":"tcp:\/\/[\d.]+:(\d+)"/))[1]);
    await node.waitFor(/"height":5,[^\n]*committed block/);
    const h0 = Math.max(...heights(node.out()));
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const emptyBlocksPerS = (Math.max(...heights(node.out())) - h0) / ((Date.now() - t0) / 1000);

    // 2. 1000-tx blocks: keep the mempool topped up to about two blocks' worth (a steady load,
    // not a flood: every tx left in the mempool is rechecked after each block)
    let sent = 0;
    let filling = true;
    let backlog = 0;
    const poller = (async () => {
      while (filling) {
        backlog = await pending(port);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const filler = (async () => {
      const workers = Array.from({ length: 32 }, async (_, w) => {
        for (let i = w; filling; i += 32) {
          if (backlog > TXS_PER_BLOCK * 2.5) {
            await new Promise((r) => setTimeout(r, 10));
            i -= 32;
            continue;
          }
          await rpc(port, 'broadcast_tx_async', { tx: Buffer.from(`k${String(i).padStart(7, '0')}=v${String(i).padStart(7, '0')}`).toString('base64') });
          sent++;
          backlog++;
        }
      });
      await Promise.all(workers);
    })();
    while (sent < TXS_PER_BLOCK * 2) await new Promise((r) => setTimeout(r, 50));
    const before = node.out().length;
    const t1 = Date.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const window = node.out().slice(before);
    const full = [...window.matchAll(/"txs":(\d+),[^\n]*"msg":"committed block"/g)].map((m) => Number(m[1]));
    const secs = (Date.now() - t1) / 1000;
    filling = false;
    await filler;
    await poller;
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
        bench: 'node',
        date: new Date().toISOString().slice(0, 10),
        node: process.version,
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        validators: 1,
        duration_s: SECONDS,
        empty_blocks_per_s: Number(emptyBlocksPerS.toFixed(1)),
        tx_blocks_per_s: Number((full.length / secs).toFixed(1)),
        txs_per_block_avg: full.length ? Math.round(txsCommitted / full.length) : 0,
        txs_committed_per_s: Math.round(txsCommitted / secs),
        restart_to_first_block_ms_median: restarts[2],
        restart_to_first_block_ms_max: restarts[4],
      }),
    );
  } finally {
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
