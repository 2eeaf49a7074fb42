// End to end over real processes: `tally testnet --validators 4`, then `tally start` for each
// home. The four validators find each other through their persistent peers (libp2p on
// 127.0.0.1), commit the same blocks, and a tx sent to one node's RPC is committed and
// queryable on another. All stop cleanly on SIGTERM.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { toHex } from '../../src/codec/index.js';
import { ok, startTally, type Running } from '../helpers/tally.js';
import { freeBasePort, logLines as jsonLines, rpc, RPC_PORT, until } from '../helpers/testnet.js';

const VALIDATORS = 4;
const TARGET = 5;
const enc = new TextEncoder();

let dir = '';
const running: Running[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const logLines = (r: Running): LogLine[] => jsonLines<LogLine>(r);

interface LogLine {
  readonly msg?: string;
  readonly height?: number;
  readonly hash?: string;
  /** pino's level label ("info", "warn", "error" …). */
  readonly level?: string;
}

/** Height → block hash, from the "committed block" log lines. */
function committed(r: Running): Map<number, string> {
  const m = new Map<number, string>();
  for (const l of logLines(r)) if (l.msg === 'committed block' && l.height !== undefined && l.hash) m.set(l.height, l.hash);
  return m;
}

describe('a four-validator testnet in four processes', () => {
  test('reaches consensus over libp2p; a tx sent to one node is queryable on another', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tally-testnet-'));
    const base = await freeBasePort(VALIDATORS, 41_000);
    await ok(['testnet', '--validators', String(VALIDATORS), '--output', dir, '--base-port', String(base), '--consensus.timeout_commit', '200ms']);
    for (let i = 0; i < VALIDATORS; i++) running.push(startTally(['start', '--home', join(dir, `node${i}`), '--log_format', 'json', '--rpc.laddr', 'tcp://127.0.0.1:0']));
    const dump = (): string => running.map((r, i) => `--- node${i}:\n${r.output().split('\n').slice(-15).join('\n')}`).join('\n');
    const rpcPorts = await Promise.all(running.map(async (r) => Number((await r.waitFor(RPC_PORT, 30_000))[1])));

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
