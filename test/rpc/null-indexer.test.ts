// tx_index.indexer = "null": the node keeps no tx or block index (no tx_index.db or
// block_index.db is created), commits as usual, and the index queries answer CometBFT's errors.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { call, result, startNode, waitForHeight, type RpcReply, type TestNode } from './helpers.js';

const errorData = (r: RpcReply): unknown => (r.body.error as { data?: unknown } | undefined)?.data;

let node: TestNode;

beforeAll(async () => {
  node = await startNode(['--tx_index.indexer', 'null']);
  await waitForHeight(node.url, 2);
});
afterAll(async () => {
  await node?.stop();
});

describe('tx_index.indexer = "null"', () => {
  test('txs commit; tx, tx_search and block_search say indexing is disabled; status says tx_index off', async () => {
    const tx = Buffer.from('nullidx=1').toString('base64');
    const committed = await result(node.url, 'broadcast_tx_commit', { tx });
    expect((committed.tx_result as { code: number }).code).toBe(0);
    const hash = committed.hash as string;

    const byHash = await call(node.url, 'tx', { hash: Buffer.from(hash, 'hex').toString('base64') });
    expect(errorData(byHash)).toBe('transaction indexing is disabled');
    const search = await call(node.url, 'tx_search', { query: "app.key = 'nullidx'" });
    expect(errorData(search)).toBe('transaction indexing is disabled');
    const blocks = await call(node.url, 'block_search', { query: 'block.height > 0' });
    expect(errorData(blocks)).toBe('block indexing is disabled');

    const status = await result(node.url, 'status');
    expect((status.node_info as { other: { tx_index: string } }).other.tx_index).toBe('off');
    // the committed tx is still in its block
    const height = Number(committed.height);
    const block = await result(node.url, 'block', { height: String(height) });
    expect((block.block as { data: { txs: string[] } }).data.txs).toContain(tx);

    const data = join(node.home, 'data');
    expect(existsSync(join(data, 'blockstore.db'))).toBe(true);
    expect(existsSync(join(data, 'tx_index.db'))).toBe(false);
    expect(existsSync(join(data, 'block_index.db'))).toBe(false);
  });
});
