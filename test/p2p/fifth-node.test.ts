// End to end over real processes: four validators from `tally testnet`, txs sent to each of them
// are committed; then a fifth node started from genesis and given only one seed (validator 0)
// finds the other three through peer exchange, block-syncs the chain, and follows it — the same
// block hashes and app hashes as the validators at every height, and every tx queryable on it.
import { copyFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ok, startTally, type Running } from '../helpers/tally.js';
import { freeBasePort, rpc, RPC_PORT, until } from '../helpers/testnet.js';

const VALIDATORS = 4;

let dir = '';
const running: Running[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const height = async (port: number): Promise<number> => Number((await rpc<{ sync_info: { latest_block_height: string } }>(port, 'status', {})).sync_info.latest_block_height);

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('a fifth node with one seed', () => {
  test('discovers the four validators, block-syncs, and follows the chain with equal hashes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tally-fifth-'));
    const base = await freeBasePort(VALIDATORS + 1, 41_000);
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

    const tipAtStart = Math.min(...(await Promise.all(ports.map(height))));
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
    // sync: block sync catches up with the moving tip (on a busy machine it may chase it for a
    // while), then consensus takes over and the node keeps following
    // (it may have caught up while discovery went on, so the bar is the tip when it started)
    const caughtUp = JSON.parse((await fifth.waitFor(/\{[^\n]*"msg":"block sync caught up: switching to consensus"[^\n]*\}/, 90_000))[0]) as { height: number };
    expect(caughtUp.height).toBeGreaterThanOrEqual(tipAtStart - 1);
    await until(`the fifth node following past height ${caughtUp.height + 2}`, async () => (await height(fifthPort)) >= caughtUp.height + 2, 60_000, dump);

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
  }, 300_000);
});
