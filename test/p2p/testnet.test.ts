// End to end over real processes: `tally testnet --validators 4`, then `tally start` for each
// home. The four validators find each other through their persistent peers (libp2p on
// 127.0.0.1), commit the same blocks, and a tx sent to one node's RPC is committed and
// queryable on another. All stop cleanly on SIGTERM.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { ok, startTally, type Running } from '../helpers/tally.js';

const VALIDATORS = 4;
const TARGET = 5;
const enc = new TextEncoder();

let dir = '';
const running: Running[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port in 41000–44900 whose p2p ports (P+10i) are free now. */
async function basePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 41_000 + 10 * Math.floor(Math.random() * 390);
    const ports = Array.from({ length: VALIDATORS }, (_, i) => base + 10 * i);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no free base port in 41000–44900');
}

interface LogLine {
  readonly msg?: string;
  readonly height?: number;
  readonly hash?: string;
  /** pino's level label ("info", "warn", "error" …). */
  readonly level?: string;
}

function logLines(r: Running): LogLine[] {
  const out: LogLine[] = [];
  for (const line of r.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a line still being written
    }
  }
  return out;
}

/** Height → block hash, from the "committed block" log lines. */
function committed(r: Running): Map<number, string> {
  const m = new Map<number, string>();
  for (const l of logLines(r)) if (l.msg === 'committed block' && l.height !== undefined && l.hash) m.set(l.height, l.hash);
  return m;
}

async function rpc(port: number, method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await fetch(`http://127.0.0.1:${port}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await r.json()) as { result?: Record<string, unknown>; error?: unknown };
  if (!body.result) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, dump: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${dump()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a four-validator testnet in four processes', () => {
  test('reaches consensus over libp2p; a tx sent to one node is queryable on another', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tally-testnet-'));
    const base = await basePort();
    await ok(['testnet', '--validators', String(VALIDATORS), '--output', dir, '--base-port', String(base), '--consensus.timeout_commit', '200ms']);
    for (let i = 0; i < VALIDATORS; i++) running.push(startTally(['start', '--home', join(dir, `node${i}`), '--log_format', 'json', '--rpc.laddr', 'tcp://127.0.0.1:0']));
    const dump = (): string => running.map((r, i) => `--- node${i}:\n${r.output().split('\n').slice(-15).join('\n')}`).join('\n');
    const rpcPorts = await Promise.all(running.map(async (r) => Number((await r.waitFor(/"rpc":"tcp:\/\/127\.0\.0\.1:(\d+)"[^\n]*"msg":"node started"/, 30_000))[1])));

    // every node commits; where two nodes committed the same height, the block is the same
    await until(`height ${TARGET} on every node`, () => running.every((r) => committed(r).has(TARGET)), 30_000, dump);
    const maps = running.map(committed);
    for (let h = 1; h <= TARGET; h++) expect(new Set(maps.map((m) => m.get(h))).size, `hashes at height ${h}`).toBe(1);

    // a tx to node 0's RPC is gossiped to whoever proposes, committed, and node 2 serves it
    const value = `v${Date.now()}`;
    const res = await rpc(rpcPorts[0]!, 'broadcast_tx_commit', { tx: Buffer.from(enc.encode(`e2e=${value}`)).toString('base64') });
    expect((res.check_tx as { code: number }).code).toBe(0);
    expect((res.tx_result as { code: number }).code).toBe(0);
    const txHeight = Number(res.height);
    expect(txHeight).toBeGreaterThan(0);
    let served = '';
    await until(
      'the tx on node 2',
      async () => {
        const q = (await rpc(rpcPorts[2]!, 'abci_query', { path: '/store', data: toHex(enc.encode('e2e')) })).response as { value?: string };
        served = q.value ? Buffer.from(q.value, 'base64').toString() : '';
        return served === value;
      },
      15_000,
      dump,
    );
    expect(served).toBe(value);

    // after all that, the chains still agree at every height all four have
    await until(`height ${txHeight} on every node`, () => running.every((r) => committed(r).has(txHeight)), 15_000, dump);
    const after = running.map(committed);
    const common = Math.min(...after.map((m) => Math.max(...m.keys())));
    expect(common).toBeGreaterThanOrEqual(txHeight);
    for (let h = 1; h <= common; h++) expect(new Set(after.map((m) => m.get(h))).size, `hashes at height ${h}`).toBe(1);
    // nothing went wrong on the way
    for (const r of running) expect(logLines(r).filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);

    const codes = await Promise.all(running.map((r) => r.stop()));
    expect(codes).toEqual(Array(VALIDATORS).fill(0));
  }, 90_000);
});
