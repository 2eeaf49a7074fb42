// End to end over real processes: four validators from `tally testnet`, txs sent to each of them
// are committed; then a fifth node started from genesis and given only one seed (validator 0)
// finds the other three through peer exchange, block-syncs the chain, and follows it — the same
// block hashes and app hashes as the validators at every height, and every tx queryable on it.
import { copyFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ok, startTally, type Running } from '../helpers/tally.js';

const VALIDATORS = 4;

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

/** A base port in 41000–44900 whose p2p ports (P+10i, five nodes) are free now. */
async function basePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 41_000 + 10 * Math.floor(Math.random() * 390);
    const ports = Array.from({ length: VALIDATORS + 1 }, (_, i) => base + 10 * i);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error('no free base port in 41000–44900');
}

async function rpc<T = Record<string, unknown>>(port: number, method: string, params: Record<string, unknown>): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${port}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await r.json()) as { result?: T; error?: unknown };
  if (!body.result) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

const height = async (port: number): Promise<number> => Number((await rpc<{ sync_info: { latest_block_height: string } }>(port, 'status', {})).sync_info.latest_block_height);

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, dump: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${dump()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const RPC_PORT = /"rpc":"tcp:\/\/127\.0\.0\.1:(\d+)"[^\n]*"msg":"node started"/;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('a fifth node with one seed', () => {
  test('discovers the four validators, block-syncs, and follows the chain with equal hashes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tally-fifth-'));
    const base = await basePort();
    await ok(['testnet', '--validators', String(VALIDATORS), '--output', dir, '--base-port', String(base), '--consensus.timeout_commit', '100ms', '--consensus.timeout_propose', '1s']);
    const procs: Running[] = [];
    const dump = (): string => procs.map((r, i) => `--- node${i}:\n${r.output().split('\n').slice(-12).join('\n')}`).join('\n');
    for (let i = 0; i < VALIDATORS; i++) {
      procs.push(startTally(['start', '--home', join(dir, `node${i}`), '--log_format', 'json', '--rpc.laddr', 'tcp://127.0.0.1:0']));
      running.push(procs[i]!);
    }
    const ports = await Promise.all(procs.map(async (r) => Number((await r.waitFor(RPC_PORT, 30_000))[1])));

    // a tx to each validator, committed
    for (let i = 0; i < VALIDATORS; i++) {
      const res = await rpc<{ check_tx: { code: number }; tx_result: { code: number }; height: string }>(ports[i]!, 'broadcast_tx_commit', { tx: b64(`via${i}=node${i}`) });
      expect(res.check_tx.code).toBe(0);
      expect(res.tx_result.code).toBe(0);
    }
    await until('height 8 on the validators', async () => (await Promise.all(ports.map(height))).every((h) => h >= 8), 60_000, dump);

    // the fifth node: a fresh home with the same genesis; its only peer is a seed (validator 0)
    const home = join(dir, 'node4');
    await ok(['init', '--home', home, '--moniker', 'node4']);
    copyFileSync(join(dir, 'node0', 'config', 'genesis.json'), join(home, 'config', 'genesis.json'));
    const manifest = JSON.parse(readFileSync(join(dir, 'testnet.json'), 'utf8')) as { nodes: { p2p: string }[] };
    const fifth = startTally([
      'start', '--home', home, '--log_format', 'json', '--rpc.laddr', 'tcp://127.0.0.1:0',
      '--p2p.laddr', `/ip4/127.0.0.1/tcp/${base + 10 * VALIDATORS}`, '--p2p.seeds', manifest.nodes[0]!.p2p, '--p2p.pex', 'true',
    ]);
    running.push(fifth);
    procs.push(fifth);
    const fifthPort = Number((await fifth.waitFor(RPC_PORT, 30_000))[1]);

    // discovery: connected to all four validators though it was told of one
    await until('the fifth node to have 4 peers', async () => Number((await rpc<{ n_peers: string }>(fifthPort, 'net_info', {})).n_peers) >= VALIDATORS, 60_000, dump);
    // sync: it reaches the validators' height and keeps following
    const target = Math.max(...(await Promise.all(ports.map(height))));
    await until(`the fifth node at height ${target + 2}`, async () => (await height(fifthPort)) >= target + 2, 60_000, dump);
    expect(fifth.output()).toMatch(/"msg":"block sync caught up: switching to consensus"/);

    // the same chain everywhere
    const all = [...ports, fifthPort];
    const common = Math.min(...(await Promise.all(all.map(height))));
    for (let h = 1; h <= common; h++) {
      const blocks = await Promise.all(all.map((p) => rpc<{ block_id: { hash: string }; block: { header: { app_hash: string } } }>(p, 'block', { height: String(h) })));
      expect(new Set(blocks.map((b) => b.block_id.hash)).size, `block hashes at ${h}`).toBe(1);
      expect(new Set(blocks.map((b) => b.block.header.app_hash)).size, `app hashes at ${h}`).toBe(1);
    }
    for (let i = 0; i < VALIDATORS; i++) {
      const q = await rpc<{ response: { value: string } }>(fifthPort, 'abci_query', { data: Buffer.from(`via${i}`).toString('hex') });
      expect(Buffer.from(q.response.value, 'base64').toString()).toBe(`node${i}`);
    }
    const codes = await Promise.all(procs.map((r) => r.stop()));
    expect(codes).toEqual(Array(VALIDATORS + 1).fill(0));
  }, 180_000);
});
