// storage.discard_abci_responses on a running node: block_results answers for the latest height
// only, and says why for an earlier one; the node keeps committing.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { JsonObject } from '../../src/codec/index.js';
import { call, result, startNode, waitForHeight, type TestNode } from './helpers.js';

let node: TestNode;
beforeAll(async () => {
  node = await startNode(['--storage.discard_abci_responses', 'true']);
}, 60_000);
afterAll(() => node?.stop());

describe('storage.discard_abci_responses = true', () => {
  test('block_results: the latest height is served, an earlier one is an error naming the setting', async () => {
    await waitForHeight(node.url, 4);
    const earlier = await call(node.url, 'block_results', { height: '2' });
    expect(earlier.body.error).toMatchObject({ code: -32603 });
    expect(JSON.stringify(earlier.body.error)).toContain('node is not persisting finalize block responses');
    expect(JSON.stringify(earlier.body.error)).toContain('storage.discard_abci_responses');
    // no height: the latest, whose response is kept — every time, while blocks keep coming
    for (let i = 0; i < 20; i++) {
      const r = await call(node.url, 'block_results', {});
      expect(r.body.error).toBeUndefined();
      expect(Number((r.body.result as JsonObject).height)).toBeGreaterThanOrEqual(4);
    }
    expect((await result(node.url, 'status')).sync_info).toBeDefined();
  }, 60_000);
});
