// RPC throughput and latency: a single validator as a child process, driven by N concurrent
// keep-alive HTTP clients (node's http.Agent) calling `status`, `abci_query` (a key written
// first) and `broadcast_tx_sync` (a distinct kvstore tx per call) for BENCH_SECONDS each.
// Client and node share the machine. Prints one JSON line.
//
// `npm run bench -- rpc --cpu`: the node's CPU time per tx instead (user + system, from
// /proc/<pid>/stat, so the load the clients put on the shared machine does not count) for
// broadcast_tx_commit and broadcast_tx_sync at 64 and 256 concurrent clients, each run on a fresh
// node, BENCH_RUNS runs (default 3) per case; prints one JSON line per case with the median.
import '../src/polyfill/index.js';
import { post, processCpuSeconds, startBenchNode, type BenchNode } from './rpc-node.js';
import { LOAD_NODE_FLAGS, lineHead } from './shared.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

interface Figures {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function drive(node: BenchNode, body: (i: number) => string): Promise<Figures> {
  const latencies: number[] = [];
  let errors = 0;
  let seq = 0;
  // warm-up
  await Promise.all(Array.from({ length: CONCURRENCY }, () => post(node.port, body(seq++))));
  const end = Date.now() + SECONDS * 1000;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const t0 = process.hrtime.bigint();
        const r = await post(node.port, body(seq++));
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (r.status !== 200 || !r.text.includes('"result"') || /"code":[1-9]/.test(r.text.slice(0, 60))) errors++;
      }
    }),
  );
  const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    rps: Math.round(latencies.length / elapsedS),
    p50_ms: Number(percentile(latencies, 0.5).toFixed(2)),
    p99_ms: Number(percentile(latencies, 0.99).toFixed(2)),
    errors,
  };
}

const call = (method: string, params: object, id: number): string => JSON.stringify({ jsonrpc: '2.0', id, method, params });

if (process.argv[2] === '--cpu') {
  await cpuMode();
  process.exit(0);
}

/** Closed-loop clients sending distinct ~200-byte kvstore txs; resolves with the txs accepted. */
async function driveTxs(node: BenchNode, method: string, concurrency: number, seconds: number, tag: string): Promise<{ ok: number; errors: number }> {
  let seq = 0;
  let ok = 0;
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  const pad = 'v'.repeat(180);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const i = seq++;
        const tx = Buffer.from(`${tag}-${i}=${pad}`).toString('base64');
        const r = await post(node.port, call(method, { tx }, i));
        if (r.status === 200 && r.text.includes('"result"') && !/"code":[1-9]/.test(r.text)) ok++;
        else errors++;
      }
    }),
  );
  return { ok, errors };
}

async function cpuMode(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const warmupS = Number(process.env.BENCH_WARMUP ?? 2);
  const methods = (process.env.BENCH_METHODS ?? 'broadcast_tx_commit,broadcast_tx_sync').split(',');
  const concurrencies = (process.env.BENCH_CONCURRENCY ?? '64,256').split(',').map(Number);
  for (const method of methods) {
    for (const concurrency of concurrencies) {
      const perTx: number[] = [];
      const rates: number[] = [];
      let errors = 0;
      for (let run = 0; run < runs; run++) {
        // the testnet benchmark's settings: blocks back to back, room for a run's worth of txs
        const node = await startBenchNode([
          '--consensus.timeout_commit',
          '0ms',
          ...LOAD_NODE_FLAGS,
        ]);
        try {
          const tag = `c${Date.now().toString(36)}`;
          await driveTxs(node, method, concurrency, warmupS, `${tag}w`);
          const pid = node.child.pid!;
          const cpu0 = processCpuSeconds(pid);
          const t0 = process.hrtime.bigint();
          const r = await driveTxs(node, method, concurrency, SECONDS, tag);
          const wall = Number(process.hrtime.bigint() - t0) / 1e9;
          const cpu = processCpuSeconds(pid) - cpu0;
          perTx.push((cpu * 1e6) / Math.max(1, r.ok));
          rates.push(r.ok / wall);
          errors += r.errors;
        } finally {
          await node.stop();
        }
      }
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      const line = {
        ...lineHead('rpc-cpu'),
        method,
        concurrency,
        seconds: SECONDS,
        cpu_us_per_tx: Math.round(median(perTx)),
        cpu_us_per_tx_runs: perTx.map(Math.round),
        tx_per_s: Math.round(median(rates)),
        errors,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  }
}

// The mempool must hold a run's worth of txs, and blocks must take them at that pace.
const node = await startBenchNode([
  '--consensus.timeout_commit',
  '200ms',
  '--mempool.size',
  '200000',
  '--mempool.cache_size',
  '400000',
]);
try {
  const tx = (s: string): string => Buffer.from(s).toString('base64');
  await post(node.port, call('broadcast_tx_commit', { tx: tx('bench-key=bench-value') }, 0));
  const status = await drive(node, (i) => call('status', {}, i));
  const query = await drive(node, (i) => call('abci_query', { path: '/store', data: Buffer.from('bench-key').toString('hex') }, i));
  const stamp = Date.now();
  const broadcast = await drive(node, (i) => call('broadcast_tx_sync', { tx: tx(`b${stamp}-${i}=${i}`) }, i));
  const line = {
    ...lineHead('rpc'),
    concurrency: CONCURRENCY,
    seconds_per_method: SECONDS,
    status_rps: status.rps,
    status_p50_ms: status.p50_ms,
    status_p99_ms: status.p99_ms,
    abci_query_rps: query.rps,
    abci_query_p50_ms: query.p50_ms,
    abci_query_p99_ms: query.p99_ms,
    broadcast_tx_sync_rps: broadcast.rps,
    broadcast_tx_sync_p50_ms: broadcast.p50_ms,
    broadcast_tx_sync_p99_ms: broadcast.p99_ms,
    errors: status.errors + query.errors + broadcast.errors,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
} finally {
  await node.stop();
}
