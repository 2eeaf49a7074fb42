// The client commands against a running node: tally tx / query / status, readable and --json.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ok, tally } from '../helpers/tally.js';
import { startNode, waitForHeight, type TestNode } from './helpers.js';

/** A port nothing listens on (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

let node: TestNode;
beforeAll(async () => {
  node = await startNode();
  await waitForHeight(node.url, 1);
});
afterAll(() => node?.stop());

describe('tally tx / query / status', () => {
  test('tx commits by default; query reads the value back; --json for scripts', async () => {
    const tx = await ok(['tx', 'color=blue', '--node', node.url]);
    expect(tx.stdout).toMatch(/^committed at height \d+\nhash {4}[0-9A-F]{64}\n$/);
    const q = await ok(['query', 'color', '--node', node.url]);
    expect(q.stdout).toMatch(/^color = blue \(height \d+\)\n$/);
    const qj = JSON.parse((await ok(['query', 'color', '--node', node.url.replace('http://', 'tcp://'), '--json'])).stdout) as { response: { value: string } };
    expect(Buffer.from(qj.response.value, 'base64').toString()).toBe('blue');
    const missing = await tally(['query', 'nothing-here', '--node', node.url]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/^nothing-here: not found/);
  });

  test('--sync and --async; one mode at a time', async () => {
    const sync = JSON.parse((await ok(['tx', 'mode=sync', '--sync', '--json', '--node', node.url])).stdout) as { code: number; hash: string };
    expect(sync.code).toBe(0);
    expect(sync.hash).toMatch(/^[0-9A-F]{64}$/);
    const a = await ok(['tx', 'mode=async', '--async', '--node', node.url]);
    expect(a.stdout).toMatch(/^sent \(not checked yet\)\nhash/);
    const both = await tally(['tx', 'x=y', '--sync', '--commit', '--node', node.url]);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/^tally tx: choose one of --async, --sync, --commit/);
  });

  test('status: readable and JSON', async () => {
    const s = await ok(['status', '--node', node.url]);
    expect(s.stdout).toMatch(/^node {8}[0-9a-f]{40} \(/);
    expect(s.stdout).toMatch(/\nheight {6}\d+ at \d{4}-/);
    const j = JSON.parse((await ok(['status', '--json', '--node', node.url])).stdout) as { node_info: { version: string } };
    expect(j.node_info.version).toMatch(/^0\.38\./);
  });

  test('a node that is not there, and RPC errors, are one-line errors with exit code 1', async () => {
    const port = await freePort();
    const down = await tally(['status', '--node', `127.0.0.1:${port}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(`tally status: cannot reach the node at http://127.0.0.1:${port}: ECONNREFUSED\n`);
    const bad = await tally(['query', 'k', '--height', 'x', '--node', node.url]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--height must be a non-negative integer/);
    const future = await tally(['query', 'k', '--height', '99999999', '--node', node.url]);
    expect(future.code).toBe(1);
  });
});
