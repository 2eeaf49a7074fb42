// A real `tally start` child process for RPC tests: its own home in a temp dir, RPC on a free
// port (parsed from the "node started" log line), fast block times; plus small JSON-RPC helpers.
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Json, JsonObject } from '../../src/codec/index.js';
import { ok, startTally, type Running } from '../helpers/tally.js';

export interface TestNode {
  readonly url: string;
  readonly wsUrl: string;
  readonly home: string;
  readonly run: Running;
  /** Resident set size of the node process, in bytes (Linux /proc). */
  rss(): number;
  stop(): Promise<void>;
}

export async function startNode(extraArgs: string[] = []): Promise<TestNode> {
  const home = await mkdtemp(join(tmpdir(), 'tally-rpc-'));
  await ok(['init', '--home', home]);
  const run = startTally([
    'start',
    '--home',
    home,
    '--rpc.laddr',
    'tcp://127.0.0.1:0',
    '--consensus.timeout_commit',
    '100ms',
    '--consensus.timeout_propose',
    '1s',
    '--log_format',
    'json',
    ...extraArgs,
  ]);
  let port: string;
  try {
    const m = await run.waitFor(/"rpc":"tcp:\/\/127\.0\.0\.1:(\d+)"[^\n]*"msg":"node started"/, 30_000);
    port = m[1]!;
  } catch (e) {
    await run.stop('SIGKILL');
    await rm(home, { recursive: true, force: true });
    throw e;
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    home,
    run,
    rss: () => {
      const status = readFileSync(`/proc/${run.child.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status);
      return kb ? Number(kb[1]) * 1024 : 0;
    },
    async stop() {
      const code = await run.stop();
      await rm(home, { recursive: true, force: true });
      if (code !== 0 && code !== null) throw new Error(`tally exited ${code}:\n${run.output().slice(-2000)}`);
    },
  };
}

export interface RpcReply {
  readonly status: number;
  readonly body: JsonObject;
}

/** POSTs one JSON-RPC call; returns the parsed reply (throws only on transport failure). */
export async function call(url: string, method: string, params: Json = {}, id: Json = 1): Promise<RpcReply> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id, method, params }) });
  return { status: r.status, body: (await r.json()) as JsonObject };
}

/** The result of a call that must succeed. */
export async function result(url: string, method: string, params: Json = {}): Promise<JsonObject> {
  const { body } = await call(url, method, params);
  if (!('result' in body)) throw new Error(`${method} failed: ${JSON.stringify(body.error)}`);
  return body.result as JsonObject;
}

/** Waits until the chain is at least at `height`. */
export async function waitForHeight(url: string, height: number, timeoutMs = 20_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await result(url, 'status');
    const h = Number((s.sync_info as JsonObject).latest_block_height);
    if (h >= height) return h;
    if (Date.now() > end) throw new Error(`height ${height} not reached (at ${h})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A raw websocket client that records every message it gets. */
export interface RawWs {
  readonly ws: WebSocket;
  readonly messages: JsonObject[];
  send(method: string, params: Json, id: Json): void;
  /** Resolves with the first recorded message satisfying `pred` (waits for it). */
  next(pred: (m: JsonObject) => boolean, timeoutMs?: number): Promise<JsonObject>;
  close(): Promise<void>;
}

export function openWs(wsUrl: string): Promise<RawWs> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}/websocket`);
    const messages: JsonObject[] = [];
    const waiters = new Set<() => void>();
    ws.on('message', (d) => {
      messages.push(JSON.parse(String(d)) as JsonObject);
      for (const w of [...waiters]) w();
    });
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        messages,
        send: (method, params, id) => ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params })),
        next: (pred, timeoutMs = 15_000) =>
          new Promise((res, rej) => {
            const check = (): void => {
              const m = messages.find(pred);
              if (m) {
                waiters.delete(check);
                clearTimeout(timer);
                res(m);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              rej(new Error(`no matching websocket message; got ${messages.length}: ${JSON.stringify(messages.slice(-3)).slice(0, 1500)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
        close: () =>
          new Promise<void>((res) => {
            if (ws.readyState === ws.CLOSED) return res();
            ws.once('close', () => res());
            ws.close();
            setTimeout(() => {
              ws.terminate();
              res();
            }, 2000).unref();
          }),
      }),
    );
  });
}
