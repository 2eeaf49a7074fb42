// Thousands of malformed, oversized and wrong-typed requests, fuzzed from valid ones (fast-check
// with a fixed seed, printed with any failing case), over HTTP POST, URI GET and the websocket
// of a running node. Every request gets a JSON-RPC answer (an error wherever the input is
// invalid), no answer carries a stack trace, the node keeps committing blocks, and its memory
// stays within a generous bound.
import fc from 'fast-check';
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Json, JsonObject } from '../../src/codec/index.js';
import { openWs, result, startNode, waitForHeight, type TestNode } from './helpers.js';

const SEED = Number(process.env.RPC_FUZZ_SEED ?? 0x7a11e);
const HTTP_CASES = 2400;
const URI_CASES = 600;
const WS_CASES = 800;
const CONCURRENCY = 16;

let node: TestNode;
let port: number;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

beforeAll(async () => {
  node = await startNode();
  port = Number(new URL(node.url).port);
  await waitForHeight(node.url, 2);
});
afterAll(async () => {
  agent.destroy();
  await node?.stop();
});

interface Reply {
  status: number;
  text: string;
}

function httpRequest(method: 'GET' | 'POST', path: string, body?: string, context = ''): Promise<Reply> {
  return new Promise<Reply>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  }).catch((e: unknown) => {
    throw new Error(`${context}: ${(e as Error).message}`);
  });
}

/** Runs `fn` over `items` with at most CONCURRENCY in flight. */
async function pool<T>(items: readonly T[], fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

// ---- valid requests to fuzz from ------------------------------------------------------------

const HASH = 'AB'.repeat(32);
const TEMPLATES: { method: string; params: JsonObject }[] = [
  { method: 'status', params: {} },
  { method: 'health', params: {} },
  { method: 'net_info', params: {} },
  { method: 'genesis', params: {} },
  { method: 'genesis_chunked', params: { chunk: '0' } },
  { method: 'blockchain', params: { minHeight: '1', maxHeight: '5' } },
  { method: 'block', params: { height: '1' } },
  { method: 'block_by_hash', params: { hash: HASH } },
  { method: 'header', params: { height: '1' } },
  { method: 'header_by_hash', params: { hash: HASH } },
  { method: 'commit', params: { height: '1' } },
  { method: 'block_results', params: { height: '1' } },
  { method: 'validators', params: { height: '1', page: '1', per_page: '30' } },
  { method: 'consensus_params', params: { height: '1' } },
  { method: 'consensus_state', params: {} },
  { method: 'dump_consensus_state', params: {} },
  { method: 'tx', params: { hash: Buffer.from(HASH, 'hex').toString('base64'), prove: true } },
  { method: 'tx_search', params: { query: "tx.height > 0 AND app.key = 'a'", prove: false, page: '1', per_page: '5', order_by: 'asc' } },
  { method: 'block_search', params: { query: 'block.height >= 1', page: '1', per_page: '5', order_by: 'desc' } },
  { method: 'check_tx', params: { tx: 'Zm9vPWJhcg==' } },
  { method: 'unconfirmed_txs', params: { limit: '5' } },
  { method: 'num_unconfirmed_txs', params: {} },
  { method: 'broadcast_tx_sync', params: { tx: 'ZnV6ej0x' } },
  { method: 'broadcast_tx_async', params: { tx: 'ZnV6ej0y' } },
  { method: 'abci_query', params: { path: '/store', data: '666F6F', height: '0', prove: false } },
  { method: 'abci_info', params: {} },
  { method: 'broadcast_evidence', params: { evidence: { type: 'tendermint/DuplicateVoteEvidence', value: {} } } },
  { method: 'dial_seeds', params: { seeds: ['x'] } },
  { method: 'unsafe_flush_mempool', params: {} },
  { method: 'subscribe', params: { query: "tm.event='NewBlock'" } },
];

/** Values of every JSON type, including the awkward ones. */
const weird: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>('', '-1', '0', '-9223372036854775809', '99999999999999999999', '1e9', '0x10', 'NaN', '"', "'", 'tm.event', "tm.event='", 'AND', '%00', '\u0000', 'ZZZ=', '====', null, true, -1, 1.5, 2 ** 53, -(2 ** 63), [], {}),
  fc.string({ maxLength: 300 }),
  fc.integer(),
  fc.double(),
);

/** A template with one or more params replaced, dropped, or added. */
const mutatedParams: fc.Arbitrary<{ method: string; params: Json }> = fc
  .tuple(fc.constantFrom(...TEMPLATES), fc.array(fc.tuple(fc.oneof(fc.constantFrom('height', 'hash', 'tx', 'query', 'page', 'per_page', 'order_by', 'prove', 'data', 'path', 'chunk', 'minHeight', 'maxHeight', 'limit', 'evidence', 'seeds'), fc.string({ maxLength: 12 })), weird), { minLength: 1, maxLength: 3 }), fc.boolean())
  .map(([t, changes, asArray]) => {
    const params: JsonObject = { ...t.params };
    for (const [k, v] of changes) params[k] = v;
    return { method: t.method, params: asArray ? Object.values(params) : params };
  });

/** A valid request's text with a few characters replaced, inserted or cut. */
const mutatedText: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...TEMPLATES), fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 4 }), fc.nat(3)), { minLength: 1, maxLength: 4 }))
  .map(([t, edits]) => {
    let s = JSON.stringify({ jsonrpc: '2.0', id: 1, method: t.method, params: t.params });
    for (const [pos, insert, cut] of edits) {
      const i = pos % (s.length + 1);
      s = s.slice(0, i) + insert + s.slice(i + cut);
    }
    return s;
  });

/** Envelopes that are wrong whatever the method. */
const badEnvelope: fc.Arbitrary<string> = fc.oneof(
  fc.record({ jsonrpc: fc.constantFrom<Json>('1.0', 2, null, '2.0'), id: fc.constantFrom<Json>({}, [], true, null, 1.5), method: fc.constantFrom<Json>('status', 5, null, '', 'no_such_method', '__proto__', 'constructor') }).map((o) => JSON.stringify(o)),
  fc.constantFrom('', '{', '[', 'null', 'true', '[]', '[1,2]', '"x"', '{"id":1}', '{"id":1,"method":"status","params":"x"}', '[' .repeat(5000), '{"a":'.repeat(3000)),
  fc.array(fc.record({ jsonrpc: fc.constant('2.0'), id: fc.nat(), method: fc.constantFrom('status', 'block', 'nope') }), { minLength: 11, maxLength: 30 }).map((a) => JSON.stringify(a)),
  fc.string({ maxLength: 500 }),
);

const bodies = fc.sample(
  fc.oneof(
    { weight: 5, arbitrary: mutatedParams.map((r) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: r.method, params: r.params })) },
    { weight: 3, arbitrary: mutatedText },
    { weight: 2, arbitrary: badEnvelope },
  ),
  { seed: SEED, numRuns: HTTP_CASES },
);
const uris = fc.sample(
  fc.tuple(fc.constantFrom(...TEMPLATES.map((t) => t.method), 'nope', '', 'websocket', '..%2f', 'status/x'), fc.array(fc.tuple(fc.constantFrom('height', 'hash', 'tx', 'query', 'page', 'per_page', 'prove', 'data', 'chunk', 'x'), fc.string({ maxLength: 40 })), { maxLength: 3 })).map(
    ([m, qs]) => `/${m}?${qs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`,
  ),
  { seed: SEED + 1, numRuns: URI_CASES },
);
const wsMessages = fc.sample(
  fc.oneof(mutatedParams.map((r) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: r.method, params: r.params })), mutatedText, badEnvelope),
  { seed: SEED + 2, numRuns: WS_CASES },
);

const where = (kind: string, i: number, input: string): string => `seed=${SEED} ${kind} case #${i}: ${JSON.stringify(input.slice(0, 300))}`;

/** A JSON-RPC reply (single or batch) with `result` or `error`, never a stack trace. */
function checkReply(text: string, context: string): { errors: number; results: number } {
  expect(text, context).not.toMatch(/\n\s+at |\.ts:\d+:\d+|\.js:\d+:\d+/);
  const parsed = JSON.parse(text) as Json;
  const replies = Array.isArray(parsed) ? parsed : [parsed];
  let errors = 0;
  let results = 0;
  for (const r of replies) {
    const o = r as JsonObject;
    expect(o.jsonrpc, context).toBe('2.0');
    if ('error' in o) {
      const e = o.error as JsonObject;
      expect(typeof e.code, context).toBe('number');
      expect([-32700, -32600, -32601, -32602, -32603, -32000], context).toContain(e.code);
      expect(typeof e.message, context).toBe('string');
      errors++;
    } else {
      expect('result' in o, context).toBe(true);
      results++;
    }
  }
  return { errors, results };
}

describe('bad input on a running node', () => {
  test(`${HTTP_CASES} POST bodies, ${URI_CASES} URI calls, ${WS_CASES} websocket messages: all answered, node commits, memory bounded`, async () => {
    // warm up (JIT, caches) before measuring memory
    for (let i = 0; i < 200; i++) await httpRequest('POST', '/', JSON.stringify({ jsonrpc: '2.0', id: i, method: 'status' }));
    const rssBefore = node.rss();
    const heightBefore = Number(((await result(node.url, 'status')).sync_info as JsonObject).latest_block_height);
    let errors = 0;
    let results = 0;
    let noContent = 0;

    await pool(bodies, async (body, i) => {
      const ctx = where('POST', i, body);
      const r = await httpRequest('POST', '/', body, ctx);
      expect([200, 204], ctx).toContain(r.status);
      if (r.status === 204) {
        noContent++; // only notifications (no id): JSON-RPC says no reply
        return;
      }
      const c = checkReply(r.text, ctx);
      errors += c.errors;
      results += c.results;
    });

    await pool(uris, async (path, i) => {
      const ctx = where('GET', i, path);
      const r = await httpRequest('GET', path, undefined, ctx);
      expect([200, 404], ctx).toContain(r.status);
      const c = checkReply(r.text, ctx);
      errors += c.errors;
      results += c.results;
    });

    // oversized bodies: refused at the transport, the connection stays usable for others
    for (let i = 0; i < 5; i++) {
      const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'broadcast_tx_sync', params: { tx: 'A'.repeat(1_100_000 + i) } });
      const r = await httpRequest('POST', '/', big, 'oversized body');
      expect(r.status).toBe(413);
      checkReply(r.text, 'oversized');
    }

    const sockets = await Promise.all(Array.from({ length: 4 }, () => openWs(node.wsUrl)));
    wsMessages.forEach((m, i) => sockets[i % sockets.length]!.ws.send(m));
    for (const s of sockets) s.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'last', method: 'health' }));
    for (const s of sockets) await s.next((m) => m.id === 'last', 30_000);
    let wsReplies = 0;
    for (const s of sockets) {
      for (const m of s.messages) {
        const data = (m.result as JsonObject | undefined)?.data;
        if (data !== undefined) continue; // an event of a subscription a fuzzed message made
        checkReply(JSON.stringify(m), `seed=${SEED} websocket reply ${JSON.stringify(m).slice(0, 200)}`);
        wsReplies++;
      }
    }
    await Promise.all(sockets.map((s) => s.close()));

    const heightAfter = await waitForHeight(node.url, heightBefore + 5);
    const rssAfter = node.rss();
    console.log(
      `bad input: seed=${SEED} http errors=${errors} results=${results} no-content=${noContent} ws replies=${wsReplies}; ` +
        `height ${heightBefore}→${heightAfter}; rss ${(rssBefore / 2 ** 20).toFixed(0)}→${(rssAfter / 2 ** 20).toFixed(0)} MiB`,
    );
    // A mutation can leave a request valid (an unknown parameter is ignored, as CometBFT does; a
    // replaced value can happen to be a good one), so not every case is an error — most are.
    expect(errors).toBeGreaterThan((HTTP_CASES + URI_CASES) * 0.6);
    expect(wsReplies).toBeGreaterThan(WS_CASES * 0.5);
    expect(rssAfter - rssBefore).toBeLessThan(150 * 2 ** 20);
  });

  test('unsafe endpoints are absent without rpc.unsafe', async () => {
    for (const m of ['dial_seeds', 'dial_peers', 'unsafe_flush_mempool']) {
      const r = await httpRequest('POST', '/', JSON.stringify({ jsonrpc: '2.0', id: 1, method: m, params: {} }));
      expect((JSON.parse(r.text) as { error: { code: number } }).error.code).toBe(-32601);
    }
  });
});
