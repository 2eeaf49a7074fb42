// The node serves Prometheus metrics when [instrumentation] prometheus is on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { ok, startTally } from '../helpers/tally.js';

const dir = mkdtempSync(join(tmpdir(), 'tally-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a running node reports its height and block intervals on /metrics', async () => {
  const home = join(dir, 'home');
  await ok(['init', '--home', home]);
  const node = startTally(['start', '--home', home, '--log_format', 'json', '--rpc.laddr', 'tcp://127.0.0.1:0', '--p2p.laddr', '/ip4/127.0.0.1/tcp/0', '--consensus.timeout_commit', '50ms', '--instrumentation.prometheus', '--instrumentation.prometheus_listen_addr', '127.0.0.1:0']);
  try {
    const url = (await node.waitFor(/"metrics":"(http:[^"]+)"/))[1]!;
    await node.waitFor(/"height":4,[^\n]*"msg":"committed block"/);
    const text = await (await fetch(url)).text();
    const height = Number(/^tally_consensus_height (\d+)$/m.exec(text)?.[1]);
    expect(height).toBeGreaterThanOrEqual(4);
    expect(Number(/^tally_consensus_block_interval_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/^tally_mempool_size 0$/m);
  } finally {
    expect(await node.stop()).toBe(0);
  }
});
