// The network benchmark: a V-validator testnet (`tally testnet`) started as real processes on
// this machine, driven over JSON-RPC with keep-alive connections spread over the validators.
//
//   --mode commit   C clients in a closed loop, each sending broadcast_tx_commit and waiting for
//                   the committed result (a write that returns after replication), like the etcd
//                   anchor's clients.
//   --mode async    an open loop at --rate txs/s of broadcast_tx_async; latency is submission to
//                   the moment the block holding the tx is seen (NewBlock over a websocket).
//
// Each run starts a fresh testnet and prints one JSON line. Without --concurrency it sweeps
// 1, 64, 256 and 1024 clients (commit mode). Options: --validators --duration --concurrency
// --tx-bytes --mode --rate --timeout-commit --create-empty-blocks --empty-proposal-delay (20ms)
// --indexer --warmup --rpc-nodes --keep-logs --http-client, and --etcd to run the etcd anchor
// (../shared/anchors/etcd/run.sh) with the same shape after each run; --repeat N runs each point
// N times (Tally and etcd alternating) and prints the median run.
import '../src/polyfill/index.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { HttpConn } from './http-conn.js';
import { post as postVia } from './rpc-node.js';
import { LOAD_NODE_FLAGS, lineHead, onInterrupt, stopChild } from './shared.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

const { values: args } = parseArgs({
  options: {
    validators: { type: 'string', default: '4' },
    duration: { type: 'string', default: '20' },
    // a fresh node spends its first minute JIT-compiling: perf on an idle 4-validator testnet put
    // V8's optimizing compiler at 20 % of all CPU 9–21 s after start, 10 % at 55–67 s, 3 % at
    // 125–137 s; a validator runs for days, so the measured window starts well into that decline
    warmup: { type: 'string', default: '30' },
    concurrency: { type: 'string' },
    'tx-bytes': { type: 'string', default: '200' },
    mode: { type: 'string', default: 'commit' },
    rate: { type: 'string', default: '2000' },
    'timeout-commit': { type: 'string', default: '0ms' },
    'create-empty-blocks': { type: 'string', default: 'true' },
    'empty-proposal-delay': { type: 'string', default: '20ms' },
    indexer: { type: 'string', default: 'kv' },
    'keep-logs': { type: 'string' },
    // load only the first K validators' RPC (the others still gossip, check and execute every tx):
    // with K = 1 the first node's CPU less another's is what serving the RPC costs
    'rpc-nodes': { type: 'string' },
    // run ../shared/anchors/etcd (a 4-member etcd cluster, same closed-loop load) after each
    // commit-mode run and add its figures and the ratio to the line; needs etcd installed
    etcd: { type: 'boolean', default: false },
    // runs per concurrency (Tally then etcd, alternating): the line is the median run's, with every
    // run's figure beside it, since one run here varies by ±10-15 % (the machine is shared)
    repeat: { type: 'string', default: '1' },
    // the closed loop's HTTP client: "node" (node:http with a keep-alive agent: what the etcd
    // anchor's load generator uses, so the side by side is like for like) or "lean"
    // (bench/http-conn.ts, a keep-alive socket per client: a third of the CPU per request, which
    // the validators on the same cores then get — not comparable with the anchor's figures)
    'http-client': { type: 'string', default: 'node' },
  },
  strict: true,
});

const VALIDATORS = Number(args.validators);
const DURATION_S = Number(args.duration);
const WARMUP_S = Number(args.warmup);
const TX_BYTES = Number(args['tx-bytes']);
const MODE = args.mode;
const RPC_NODES = args['rpc-nodes'] === undefined ? VALIDATORS : Number(args['rpc-nodes']);
if (!Number.isInteger(RPC_NODES) || RPC_NODES < 1 || RPC_NODES > VALIDATORS) throw new Error(`--rpc-nodes: expected 1..${VALIDATORS}, got ${args['rpc-nodes']}`);
if (MODE !== 'commit' && MODE !== 'async') throw new Error(`--mode: expected commit or async, got ${MODE}`);
if (!(TX_BYTES >= 16)) throw new Error('--tx-bytes: at least 16');
const HTTP_CLIENT = args['http-client'];
if (HTTP_CLIENT !== 'lean' && HTTP_CLIENT !== 'node') throw new Error(`--http-client: expected lean or node, got ${HTTP_CLIENT}`);

interface Testnet {
  readonly rpcPorts: number[];
  readonly children: ChildProcess[];
  readonly dir: string;
  stop(): Promise<void>;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function basePort(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 45_000 + 10 * Math.floor(Math.random() * 390);
    const ports = Array.from({ length: n }, (_, i) => [base + 10 * i, base + 10 * i + 1]).flat();
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no free base port in 45000–48900');
}

async function startTestnet(): Promise<Testnet> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-net-'));
  const base = await basePort(VALIDATORS);
  const init = spawnSync(
    process.execPath,
    [
      CLI,
      'testnet',
      '--validators',
      String(VALIDATORS),
      '--output',
      dir,
      '--base-port',
      String(base),
      '--consensus.timeout_commit',
      args['timeout-commit'],
      '--consensus.create_empty_blocks',
      args['create-empty-blocks'],
      '--consensus.empty_proposal_delay',
      args['empty-proposal-delay'],
      '--tx_index.indexer',
      args.indexer,
      ...LOAD_NODE_FLAGS,
      '--rpc.timeout_broadcast_tx_commit',
      '30s',
      '--log_level',
      'info',
      '--log_format',
      'json',
    ],
    { encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`tally testnet failed: ${init.stderr}`);
  const rpcPorts = Array.from({ length: VALIDATORS }, (_, i) => base + 10 * i + 1);
  const logs = args['keep-logs'];
  if (logs) mkdirSync(logs, { recursive: true });
  const children = Array.from({ length: VALIDATORS }, (_, i) => {
    // BENCH_NODE_ARGS: extra node flags for the validators, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
    const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, CLI, 'start', '--home', join(dir, `node${i}`)], { stdio: ['ignore', logs ? 'pipe' : 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (err.length < 1 << 16) err += d.toString();
    });
    child.once('exit', (code, signal) => {
      if (code !== 0 && signal !== 'SIGTERM' && !stopping) process.stderr.write(`node${i} exited (${code ?? signal}):\n${err.slice(-4000)}\n`);
    });
    if (logs) {
      const chunks: Buffer[] = [];
      child.stdout!.on('data', (d: Buffer) => chunks.push(d));
      child.once('exit', () => writeFileSync(join(logs, `node${i}.log`), Buffer.concat(chunks)));
    }
    return child;
  });
  let stopping = false;
  const net: Testnet = {
    rpcPorts,
    children,
    dir,
    stop: async () => {
      stopping = true;
      forget();
      await Promise.all(children.map((c) => stopChild(c, 10_000)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // an interrupted bench stops the testnet and removes its homes
  const forget = onInterrupt(() => net.stop());
  return net;
}

const agents = new Map<number, Agent>();
function agentFor(port: number): Agent {
  let a = agents.get(port);
  if (!a) agents.set(port, (a = new Agent({ keepAlive: true, maxSockets: 4096 })));
  return a;
}

const post = (port: number, body: string): Promise<{ status: number; text: string }> => postVia(port, body, agentFor(port));

async function call<T>(port: number, method: string, params: Record<string, unknown>): Promise<T> {
  const r = await post(port, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
  const body = JSON.parse(r.text) as { result?: T; error?: unknown };
  if (body.result === undefined) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

async function latestHeight(port: number): Promise<number> {
  const s = await call<{ sync_info: { latest_block_height: string } }>(port, 'status', {});
  return Number(s.sync_info.latest_block_height);
}

async function waitForHeight(ports: number[], h: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const hs = await Promise.all(ports.map((p) => latestHeight(p).catch(() => 0)));
    if (hs.every((x) => x >= h)) return;
    if (Date.now() > end) throw new Error(`testnet did not reach height ${h} in ${timeoutMs} ms (heights ${hs.join(',')})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let txSeq = 0;
const runTag = Date.now().toString(36);
/** A distinct kvstore tx `k…=v…` of exactly TX_BYTES bytes. */
function makeTx(): Buffer {
  const key = `b${runTag}-${txSeq++}`;
  const pad = TX_BYTES - key.length - 1;
  return Buffer.from(`${key}=${'v'.repeat(Math.max(1, pad))}`);
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const round2 = (x: number): number => Math.round(x * 100) / 100;

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function cpuTicks(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
  } catch {
    return 0;
  }
}

interface Window {
  readonly start: number;
  readonly end: number;
}

/** Blocks and their header times between two heights (inclusive), from `blockchain`. */
async function blockTimes(port: number, from: number, to: number): Promise<{ height: number; time: number; txs: number }[]> {
  const out: { height: number; time: number; txs: number }[] = [];
  for (let max = to; max >= from; max -= 20) {
    const min = Math.max(from, max - 19);
    const r = await call<{ block_metas: { header: { height: string; time: string }; num_txs: string }[] }>(port, 'blockchain', { minHeight: String(min), maxHeight: String(max) });
    for (const m of r.block_metas) out.push({ height: Number(m.header.height), time: Date.parse(m.header.time), txs: Number(m.num_txs) });
  }
  return out.sort((a, b) => a.height - b.height);
}

async function runCommit(net: Testnet, concurrency: number): Promise<{ latencies: number[]; committed: number; errors: number; window: Window }> {
  const latencies: number[] = [];
  let committed = 0;
  let errors = 0;
  let firstError = '';
  const t0 = Date.now();
  const measureFrom = t0 + WARMUP_S * 1000;
  const end = measureFrom + DURATION_S * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      const port = net.rpcPorts[c % RPC_NODES]!;
      const conn = HTTP_CLIENT === 'lean' ? new HttpConn(port) : undefined;
      const send = (body: string): Promise<{ status: number; text: string }> => (conn ? conn.post(body) : post(port, body));
      while (Date.now() < end) {
        const tx = makeTx().toString('base64');
        const sent = Date.now();
        let good = false;
        try {
          const r = await send(`{"jsonrpc":"2.0","id":${c},"method":"broadcast_tx_commit","params":{"tx":"${tx}"}}`);
          const body = JSON.parse(r.text) as { result?: { check_tx: { code: number; log?: string }; tx_result: { code: number; log?: string } }; error?: unknown };
          good = r.status === 200 && body.result?.check_tx.code === 0 && body.result.tx_result.code === 0;
          if (!good && !firstError) firstError = r.text.slice(0, 300);
        } catch (e) {
          if (!firstError) firstError = (e as Error).message;
        }
        const done = Date.now();
        if (sent >= measureFrom && done <= end) {
          if (good) {
            committed++;
            latencies.push(done - sent);
          } else errors++;
        }
      }
      conn?.close();
    }),
  );
  if (firstError) process.stderr.write(`first error: ${firstError}\n`);
  return { latencies, committed, errors, window: { start: measureFrom, end } };
}

async function runAsync(net: Testnet, rate: number): Promise<{ latencies: number[]; committed: number; errors: number; window: Window }> {
  const pending = new Map<string, number>(); // tx hash → submitted at
  const latencies: number[] = [];
  let committed = 0;
  let errors = 0;
  const t0 = Date.now();
  const measureFrom = t0 + WARMUP_S * 1000;
  const end = measureFrom + DURATION_S * 1000;
  const ws = new WebSocket(`ws://127.0.0.1:${net.rpcPorts[0]}/websocket`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: { query: "tm.event='NewBlock'" } }));
  ws.on('message', (data: Buffer) => {
    const seen = Date.now();
    const msg = JSON.parse(data.toString()) as { result?: { data?: { value?: { block?: { data: { txs: string[] | null } } } } } };
    for (const b64 of msg.result?.data?.value?.block?.data.txs ?? []) {
      const h = createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex');
      const sent = pending.get(h);
      if (sent === undefined) continue;
      pending.delete(h);
      if (sent >= measureFrom && sent <= end) {
        committed++;
        latencies.push(seen - sent);
      }
    }
  });
  // open loop: every 5 ms send what the rate owes, spread over the validators
  let sentCount = 0;
  const inflight = new Set<Promise<void>>();
  while (Date.now() < end) {
    const owed = Math.floor(((Date.now() - t0) / 1000) * rate) - sentCount;
    for (let i = 0; i < owed; i++) {
      const tx = makeTx();
      const port = net.rpcPorts[sentCount % RPC_NODES]!;
      sentCount++;
      const sent = Date.now();
      pending.set(createHash('sha256').update(tx).digest('hex'), sent);
      const p = post(port, `{"jsonrpc":"2.0","id":1,"method":"broadcast_tx_async","params":{"tx":"${tx.toString('base64')}"}}`)
        .then((r) => {
          if (r.status !== 200 || !r.text.includes('"code":0')) {
            if (sent >= measureFrom) errors++;
          }
        })
        .catch(() => {
          if (sent >= measureFrom) errors++;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(inflight);
  // let the last submissions commit (they count if sent inside the window)
  const drain = Date.now() + 10_000;
  while (Date.now() < drain && [...pending.values()].some((s) => s >= measureFrom && s <= end)) await new Promise((r) => setTimeout(r, 50));
  ws.close();
  return { latencies, committed, errors, window: { start: measureFrom, end } };
}

async function runOnce(concurrency: number): Promise<Record<string, unknown>> {
  const net = await startTestnet();
  let rssMax = 0;
  const sampler = setInterval(() => {
    for (const c of net.children) if (c.pid) rssMax = Math.max(rssMax, rssMb(c.pid));
  }, 500);
  try {
    // with create_empty_blocks = false the chain waits at height 1 for the first txs
    await waitForHeight(net.rpcPorts, args['create-empty-blocks'] === 'true' ? 2 : 1, 60_000);
    const startHeight = await latestHeight(net.rpcPorts[0]!);
    const cpu0 = net.children.map((c) => cpuTicks(c.pid!));
    const ownCpu0 = process.cpuUsage();
    const wall0 = Date.now();
    const r = MODE === 'commit' ? await runCommit(net, concurrency) : await runAsync(net, Number(args.rate));
    const cpuEach = net.children.map((c, i) => (cpuTicks(c.pid!) - cpu0[i]!) / 100);
    const cpuS = cpuEach.reduce((s, x) => s + x, 0);
    const wallS = (Date.now() - wall0) / 1000;
    const ownCpu = process.cpuUsage(ownCpu0);
    const loadgenCpuS = (ownCpu.user + ownCpu.system) / 1e6;
    const endHeight = await latestHeight(net.rpcPorts[0]!);
    const blocks = (await blockTimes(net.rpcPorts[0]!, startHeight, endHeight)).filter((b) => b.time >= r.window.start && b.time <= r.window.end);
    const intervals = blocks.slice(1).map((b, i) => b.time - blocks[i]!.time).sort((a, b) => a - b);
    r.latencies.sort((a, b) => a - b);
    return {
      ...lineHead('testnet'),
      validators: VALIDATORS,
      mode: MODE,
      concurrency: MODE === 'commit' ? concurrency : null,
      rate: MODE === 'async' ? Number(args.rate) : null,
      tx_bytes: TX_BYTES,
      duration_s: DURATION_S,
      warmup_s: WARMUP_S,
      committed_tx: r.committed,
      tx_per_s: Math.round(r.committed / DURATION_S),
      latency_p50_ms: round2(percentile(r.latencies, 0.5)),
      latency_p99_ms: round2(percentile(r.latencies, 0.99)),
      blocks: blocks.length,
      block_interval_p50_ms: percentile(intervals, 0.5),
      txs_per_block_max: Math.max(0, ...blocks.map((b) => b.txs)),
      rss_mb_max: Math.round(rssMax),
      nodes_cpu_pct_of_one_core: Math.round((cpuS / wallS) * 100),
      node_cpu_pct_each: cpuEach.map((x) => Math.round((x / wallS) * 100)),
      rpc_nodes: RPC_NODES,
      loadgen_cpu_pct_of_one_core: Math.round((loadgenCpuS / wallS) * 100),
      http_client: MODE === 'commit' ? HTTP_CLIENT : 'node',
      loadavg_1m: round2(loadavg()[0]!),
      timeout_commit: args['timeout-commit'],
      create_empty_blocks: args['create-empty-blocks'] === 'true',
      empty_proposal_delay: args['empty-proposal-delay'],
      indexer: args.indexer,
      errors: r.errors,
    };
  } finally {
    clearInterval(sampler);
    await net.stop();
  }
}

const ETCD_RUN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'anchors', 'etcd', 'run.sh');

/** The etcd anchor at the same member count, concurrency, value size and duration. */
function runEtcd(concurrency: number): Record<string, unknown> {
  const r = spawnSync(ETCD_RUN, [String(VALIDATORS), String(DURATION_S), String(concurrency), String(TX_BYTES)], { encoding: 'utf8', timeout: 600_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`etcd anchor failed (${r.status}): ${r.stderr.slice(-1000)}`);
  const e = JSON.parse(line) as { writes_per_s: number; p50_ms: number; p99_ms: number };
  return { etcd_writes_per_s: e.writes_per_s, etcd_p50_ms: e.p50_ms, etcd_p99_ms: e.p99_ms };
}

/** The run with the median `key` (the lower one of an even count): its figures stay consistent with each other. */
function medianRun(runs: readonly Record<string, unknown>[], key: string): Record<string, unknown> {
  const sorted = [...runs].sort((a, b) => (a[key] as number) - (b[key] as number));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

const REPEAT = Number(args.repeat);
if (!Number.isInteger(REPEAT) || REPEAT < 1) throw new Error(`--repeat: a whole number of runs, at least 1, got ${args.repeat}`);
const sweep = args.concurrency !== undefined ? args.concurrency.split(',').map(Number) : MODE === 'commit' ? [1, 64, 256, 1024] : [0];
let failed = false;
for (const c of sweep) {
  try {
    const runs: Record<string, unknown>[] = [];
    const etcdRuns: Record<string, unknown>[] = [];
    for (let i = 0; i < REPEAT; i++) {
      runs.push(await runOnce(c));
      if (args.etcd && MODE === 'commit') etcdRuns.push(runEtcd(c));
    }
    const line = { ...medianRun(runs, 'tx_per_s') };
    if (REPEAT > 1) Object.assign(line, { runs: REPEAT, tx_per_s_runs: runs.map((r) => r.tx_per_s), latency_p50_ms_runs: runs.map((r) => r.latency_p50_ms), errors_runs: runs.map((r) => r.errors) });
    if (etcdRuns.length > 0) {
      const etcd = medianRun(etcdRuns, 'etcd_writes_per_s');
      Object.assign(line, etcd, { tally_to_etcd: Math.round(((line.tx_per_s as number) / (etcd.etcd_writes_per_s as number)) * 100) / 100 });
      if (REPEAT > 1) Object.assign(line, { etcd_writes_per_s_runs: etcdRuns.map((r) => r.etcd_writes_per_s) });
    }
    console.log(JSON.stringify(line));
  } catch (e) {
    failed = true;
    process.stderr.write(`run with concurrency ${c} failed: ${(e as Error).stack ?? String(e)}\n`);
  }
}
for (const a of agents.values()) a.destroy();
process.exit(failed ? 1 : 0);
