// RPC throughput and latency: a single validator as a child process, driven by N concurrent
// keep-alive HTTP clients (node's http.Agent) calling `status`, `abci_query` (a key written
// first) and `broadcast_tx_sync` (a distinct kvstore tx per call) for BENCH_SECONDS each.
// Client and node share the machine. Prints one JSON line.
import '../src/polyfill/index.js';
import { cpus } from 'node:os';
import { post, startBenchNode, type BenchNode } from './rpc-node.js';

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
    bench: 'rpc',
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
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
