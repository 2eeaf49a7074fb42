// End to end over real processes: a four-validator `tally testnet`; one validator is killed
// with SIGKILL, the other three keep committing; restarted, it block-syncs the heights it
// missed (its log says so, and /status reports catching_up meanwhile or not at all if quick),
// switches to consensus and commits new heights with the others — the same block hashes and
// app hashes at every height they all have.
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ok, startTally, type Running } from '../helpers/tally.js';
import { freeBasePort, logLines as jsonLines, rpc, RPC_PORT, until } from '../helpers/testnet.js';

const VALIDATORS = 4;
const MISSED = 6;

let dir = '';
const running: Running[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  // SYNC_E2E_DUMP=<dir>: keep every process's output there (for a failure's post-mortem)
  const keep = process.env.SYNC_E2E_DUMP;
  if (keep) running.forEach((r, i) => writeFileSync(join(keep, `proc${i}.log`), r.output()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const logLines = (r: Running): LogLine[] => jsonLines<LogLine>(r);

interface LogLine {
  readonly msg?: string;
  readonly height?: number;
  readonly synced?: number;
  readonly blocksPerSecond?: number;
  readonly seconds?: number;
  readonly level?: string;
}

/** The highest height this process committed through consensus. */
function top(r: Running): number {
  let h = 0;
  for (const l of logLines(r)) if (l.msg === 'committed block' && l.height !== undefined) h = Math.max(h, l.height);
  return h;
}

describe('a validator killed with SIGKILL and restarted', () => {
  test('block-syncs what it missed and rejoins consensus', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tally-sync-e2e-'));
    const base = await freeBasePort(VALIDATORS, 45_000);
    await ok(['testnet', '--validators', String(VALIDATORS), '--output', dir, '--base-port', String(base), '--consensus.timeout_commit', '100ms', '--consensus.timeout_propose', '1s']);
    const start = (i: number): Running => startTally(['start', '--home', join(dir, `node${i}`), '--log_format', 'json', '--rpc.laddr', 'tcp://127.0.0.1:0']);
    const procs: Running[] = [];
    for (let i = 0; i < VALIDATORS; i++) running.push((procs[i] = start(i)));
    const dump = (): string => procs.map((r, i) => `--- node${i}:\n${r.output().split("\n").slice(i === 3 ? -60 : -8).join("\n")}`).join("\n");
    const rpcPorts = await Promise.all(procs.map(async (r) => Number((await r.waitFor(RPC_PORT, 30_000))[1])));
    const exited = (): string[] => procs.flatMap((r, i) => (r.child.exitCode !== null || r.child.signalCode !== null)  ? [`node${i} exited (${r.child.exitCode ?? r.child.signalCode})`] : []);
    await until('height 3 on every node', () => procs.every((r) => top(r) >= 3), 30_000, dump);

    // kill -9 validator 3; the other three (30 of 40 power) go on without it
    const victim = procs[3]!;
    victim.child.kill('SIGKILL');
    await victim.stop();
    const killedAt = top(victim);
    const others = procs.slice(0, 3);
    await until(`${MISSED} heights without node 3`, () => others.every((r) => top(r) >= killedAt + MISSED), 40_000, dump);

    // restart: block sync first, then consensus
    const back = start(3);
    running.push(back);
    procs[3] = back;
    rpcPorts[3] = Number((await back.waitFor(RPC_PORT, 30_000))[1]);
    const caughtUp = await back.waitFor(/\{[^\n]*"msg":"block sync caught up: switching to consensus"[^\n]*\}/, 30_000);
    const line = JSON.parse(caughtUp[0]) as LogLine;
    console.log(`restarted node: block sync of ${line.synced} blocks in ${line.seconds} s (${line.blocksPerSecond} blocks/s)`);
    expect(line.synced).toBeGreaterThanOrEqual(MISSED - 1);
    // consensus again: it commits heights past where block sync left it
    await until('the restarted node to commit through consensus', () => top(back) >= line.height! + 3, 30_000, dump);
    const status = (await rpc(rpcPorts[3]!, 'status', {})).sync_info as { catching_up: boolean };
    expect(status.catching_up).toBe(false);

    // every node has the same blocks and app hashes at every height they all have
    expect(exited()).toEqual([]);
    const common = Math.min(...(await Promise.all(rpcPorts.map(async (p) => Number(((await rpc(p, 'status', {})).sync_info as { latest_block_height: string }).latest_block_height)))));
    expect(common).toBeGreaterThan(line.height!);
    const heights = Array.from({ length: common }, (_, i) => i + 1);
    const perHeight = await Promise.all(heights.map((h) => Promise.all(rpcPorts.map((p) => rpc(p, 'block', { height: String(h) })))));
    perHeight.forEach((blocks, i) => {
      const hashes = blocks.map((b) => (b.block_id as { hash: string }).hash);
      const appHashes = blocks.map((b) => (b.block as { header: { app_hash: string } }).header.app_hash);
      expect(new Set(hashes).size, `block hashes at ${i + 1}`).toBe(1);
      expect(new Set(appHashes).size, `app hashes at ${i + 1}`).toBe(1);
    });
    for (const r of procs) expect(logLines(r).filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
    const codes = await Promise.all(procs.map((r) => r.stop()));
    expect(codes).toEqual(Array(VALIDATORS).fill(0));
  }, 90_000);
});
