// `tally localnet`: creates a 4-validator testnet on first use, runs every node as a child
// process with its name before each log line, stops them all on Ctrl-C (SIGINT) and exits 0;
// a second run reuses the homes and continues the same chain.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { startTally, type Running } from '../helpers/tally.js';
import { freeBasePort, until } from '../helpers/testnet.js';

let dir = '';
const running: Running[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop('SIGKILL')));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

/** SIGINT (Ctrl-C) once, then the exit code — no second signal, which would mean "kill". */
function interrupt(r: Running): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => {
    if (r.child.exitCode !== null || r.child.signalCode !== null) resolve(r.child.exitCode);
    else r.child.once('exit', (code) => resolve(code));
  });
  r.child.kill('SIGINT');
  return exited;
}

/** The highest height each node logged as committed. */
function heights(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const match of out.matchAll(/^(node\d) \| .*committed block.*\bheight=(\d+)/gm)) m.set(match[1]!, Math.max(m.get(match[1]!) ?? 0, Number(match[2])));
  return m;
}

// each wait ends, with the output, well before the test's own timeout (which would show neither)
const WAIT_MS = 50_000;
const tail = (r: Running) => (): string => r.output().slice(-4000);

describe('tally localnet', () => {
  test('runs 4 validators with prefixed logs, stops them all on Ctrl-C, and continues the chain when run again', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tally-localnet-'));
    const out = join(dir, 'net');
    // free ports, as the other testnet tests pick them: a random base once collided with a port in use
    const base = await freeBasePort(4, 48_000);
    const args = ['localnet', '--output', out, '--base-port', String(base), '--timeout-commit', '50ms'];

    const first = startTally(args);
    running.push(first);
    await until('all four nodes to commit height 3', () => [...heights(first.output()).values()].filter((h) => h >= 3).length === 4, WAIT_MS, tail(first));
    const rpcPorts = (JSON.parse(readFileSync(join(out, 'testnet.json'), 'utf8')) as { nodes: { rpc: string }[] }).nodes.map((n) => Number(new URL(n.rpc).port));
    expect(rpcPorts).toHaveLength(4);
    expect(await interrupt(first)).toBe(0);
    expect(first.output()).toContain('localnet: all nodes stopped');
    // every node is gone: no RPC port answers
    for (const p of rpcPorts) expect(await portOpen(p), `rpc port ${p}`).toBe(false);
    const reached = Math.min(...heights(first.output()).values());

    const second = startTally(args);
    running.push(second);
    await until(`all four nodes past height ${reached + 1}`, () => [...heights(second.output()).values()].filter((h) => h > reached + 1).length === 4, WAIT_MS, tail(second));
    expect(second.output()).not.toContain('Successfully initialized'); // reused, not re-created
    expect(await interrupt(second)).toBe(0);
  }, 150_000);
});
