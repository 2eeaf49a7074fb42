// Helpers for end-to-end tests over real `tally` processes: free ports for a testnet's fixed
// layout (node i: p2p P+10i, RPC P+10i+1), JSON-RPC calls, waiting for a condition with a dump
// of the processes' output on timeout, and reading their JSON log lines.
import { createServer } from 'node:net';
import type { Running } from './tally.js';

export async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port in [from, from + 3900) whose p2p ports (P+10i) for `nodes` nodes are free now. */
export async function freeBasePort(nodes: number, from: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = from + 10 * Math.floor(Math.random() * 390);
    const ports = Array.from({ length: nodes }, (_, i) => base + 10 * i);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error(`no free base port in ${from}–${from + 3900}`);
}

/** One JSON-RPC call to 127.0.0.1:port; throws with the error object when there is no result. */
export async function rpc<T = Record<string, unknown>>(port: number, method: string, params: Record<string, unknown>): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${port}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await r.json()) as { result?: T; error?: unknown };
  if (!body.result) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

/** Polls `cond` until it holds; on timeout throws naming `what`, with `dump()` (the processes' output). */
export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, dump: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${dump()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The process's JSON log lines so far (a line still being written is skipped). */
export function logLines<T extends object>(r: Running): T[] {
  const out: T[] = [];
  for (const line of r.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a line still being written
    }
  }
  return out;
}

/** The RPC port from a process's "node started" line (started with --log_format json). */
export const RPC_PORT = /"rpc":"tcp:\/\/127\.0\.0\.1:(\d+)"[^\n]*"msg":"node started"/;
