// A `tally start` child process for the RPC benchmark and the docs generator: its own home in a
// temp dir, RPC on a free port (read from the "node started" log line), removed on stop.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onInterrupt, stopChild } from './shared.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

export interface BenchNode {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export async function startBenchNode(args: string[] = []): Promise<BenchNode> {
  const home = mkdtempSync(join(tmpdir(), 'tally-bench-rpc-'));
  const init = spawnSync(process.execPath, [CLI, 'init', '--home', home], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`tally init failed: ${init.stderr}`);
  // BENCH_NODE_ARGS: extra node flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'start', '--home', home, '--rpc.laddr', 'tcp://127.0.0.1:0', '--log_format', 'json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async (): Promise<void> => {
    forget();
    await stopChild(child, 20_000);
    rmSync(home, { recursive: true, force: true });
  };
  // an interrupted bench stops the node and removes its home, also while it is starting
  const forget = onInterrupt(stop);
  let out = '';
  const onData = (d: Buffer): void => {
    if (out.length < 1 << 20) out += d.toString(); // the start-up lines; later output is dropped
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let started = false;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /"rpc":"tcp:\/\/127\.0\.0\.1:(\d+)"[^\n]*"msg":"node started"/.exec(out);
      if (m) {
        clearInterval(timer);
        started = true;
        resolve(Number(m[1]));
      }
    }, 10);
    child.once('exit', (code) => {
      clearInterval(timer);
      if (started) return;
      // nobody gets a stop() for a node that never started: its home goes now
      void stop().finally(() => reject(new Error(`tally exited (${code}) before starting:\n${out.slice(-2000)}`)));
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    stop,
  };
}

export const keepAlive = new Agent({ keepAlive: true, maxSockets: 256 });

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (Linux). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the command name (which may hold spaces) start at field 3; utime, stime are 14, 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ: 100 on every Linux that node supports
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** One JSON-RPC POST over a keep-alive agent (by default the shared one); resolves with the body text. */
export function post(port: number, body: string, agent: Agent = keepAlive): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
