// The mempool alone, in-process, in CPU µs per tx (process.cpuUsage: user + system): CheckTx
// (kvstore, behind the serialized app as in the node) and add for N txs with C concurrent callers
// as the RPC makes them, a full reap, then update() committing half of the pool and the recheck
// of the other half. BENCH_TXS (default 20000), BENCH_CONCURRENCY (default 256), BENCH_RUNS
// (default 3; the median is printed). Also the seen-cache alone at its default size, full, as a
// node uses it (each tx pushed when checked and again when committed a block later). Prints one
// JSON line.
import '../src/polyfill/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from '../src/abci/index.js';
import { KVStoreApp } from '../src/apps/kvstore/index.js';
import { Mempool } from '../src/mempool/index.js';
import { TxCache } from '../src/mempool/cache.js';
import { dataHash } from '../src/types/index.js';
import { lineHead } from './shared.js';

const N = Number(process.env.BENCH_TXS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 256);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

interface Figures {
  check_us: number;
  reap_us: number;
  update_us: number;
  recheck_us: number;
}

/** CPU µs (user + system) used by `fn`, awaited. */
async function cpuOf(fn: () => Promise<unknown> | unknown): Promise<number> {
  const before = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(before);
  return d.user + d.system;
}

async function once(run: number): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-mempool-'));
  const app = await KVStoreApp.open({ dir });
  try {
    const mempool = new Mempool({ size: 2 * N, maxTxsBytes: 1 << 30, cacheSize: 4 * N, recheck: true }, { app: serialize(app) });
    const pad = 'v'.repeat(180);
    // each caller hands over a fresh buffer, as the RPC's decoder does
    const txs = Array.from({ length: N }, (_, i) => Buffer.from(`m${run}-${i}=${pad}`));
    let next = 0;
    const check = await cpuOf(() =>
      Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let i = next++; i < N; i = next++) {
            const r = await mempool.checkTx(txs[i]!);
            if (r.code !== 0) throw new Error(`CheckTx refused tx ${i}: ${r.log}`);
          }
        }),
      ),
    );
    if (mempool.size() !== N) throw new Error(`pool holds ${mempool.size()} txs, expected ${N}`);

    const reapRounds = 10;
    let reaped: Uint8Array[] = [];
    const reap = await cpuOf(() => {
      for (let r = 0; r < reapRounds; r++) reaped = mempool.reapMaxBytesMaxGas(-1, -1);
    });

    // the block's txs are new buffers on every node but the proposer (decoded from the proposal),
    // already hashed by the block's validation (data_hash) when the mempool sees them
    const committed = reaped.slice(0, N / 2).map((tx) => Uint8Array.from(tx));
    dataHash(committed);
    const results = committed.map(() => ({ code: 0 }));
    await mempool.lock();
    const update = await cpuOf(() => mempool.update(1, committed, results));
    mempool.unlock();
    const recheck = await cpuOf(() => mempool.idle());
    if (mempool.size() !== N - N / 2) throw new Error(`pool holds ${mempool.size()} txs after update, expected ${N - N / 2}`);
    await mempool.stop();
    return { check_us: check / N, reap_us: reap / (reapRounds * N), update_us: update / (N / 2), recheck_us: recheck / (N - N / 2) };
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU µs per tx of the seen-cache: a new push, and a re-push one block (400 txs) later. */
async function cacheOnce(): Promise<number> {
  const capacity = 10_000; // mempool.cache_size's default
  const block = 400;
  const keys = Array.from({ length: 400_000 }, (_, i) => i.toString(16).padStart(64, '0'));
  const cache = new TxCache(capacity);
  const pass = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      cache.push(keys[i]!);
      if ((i + 1) % block === 0) for (let j = i + 1 - block; j <= i; j++) cache.push(keys[j]!);
    }
  };
  pass(0, 100_000); // fills the cache and reaches its steady state
  return (await cpuOf(() => pass(100_000, keys.length))) / (keys.length - 100_000);
}

const cacheRuns: number[] = [];
for (let r = 0; r < RUNS; r++) cacheRuns.push(await cacheOnce());
cacheRuns.sort((a, b) => a - b);
const runs: Figures[] = [];
for (let r = 0; r < RUNS; r++) runs.push(await once(r));
const median = (k: keyof Figures): number => {
  const xs = runs.map((f) => f[k]).sort((a, b) => a - b);
  return Number((xs[Math.floor(xs.length / 2)] ?? 0).toFixed(2));
};
const line = {
  ...lineHead('mempool'),
  txs: N,
  concurrency: CONCURRENCY,
  // CPU µs per tx, median of the runs
  check_tx_us: median('check_us'),
  reap_us: median('reap_us'),
  update_us_per_committed_tx: median('update_us'),
  recheck_us_per_remaining_tx: median('recheck_us'),
  seen_cache_us_per_tx: Number((cacheRuns[Math.floor(cacheRuns.length / 2)] ?? 0).toFixed(2)),
};
process.stdout.write(`${JSON.stringify(line)}\n`);
