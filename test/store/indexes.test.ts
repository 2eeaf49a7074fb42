import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Event, ExecTxResult } from '../../src/codec/index.js';
import { sha256 } from '../../src/crypto/index.js';
import { QuerySyntaxError } from '../../src/query/index.js';
import { BlockIndex, createLevelDb, TxIndex, type LevelDb, type TxResultRecord } from '../../src/store/index.js';
import { storeError, tempDir } from './fixtures.js';

let dir: { path: string; remove: () => Promise<void> };
let shared: LevelDb;
let txs: TxIndex;
let blocks: BlockIndex;

const enc = new TextEncoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

function ev(type: string, attrs: Record<string, string>, notIndexed: string[] = []): Event {
  return { type, attributes: Object.entries(attrs).map(([key, value]) => ({ key, value, index: !notIndexed.includes(key) })) };
}

function result(events: Event[], code = 0): ExecTxResult {
  return { code, data: new Uint8Array([code]), log: code === 0 ? '' : 'failed', info: '', gasWanted: 10n, gasUsed: 5n, events, codespace: '' };
}

interface Tx {
  name: string;
  tx: Uint8Array;
  result: ExecTxResult;
}
const tx = (name: string, events: Event[], code = 0): Tx => ({ name, tx: enc.encode(name), result: result(events, code) });

/** Block height → its txs. Heights 6..40 hold two "bulk" txs each for paging. */
const BLOCKS = new Map<number, Tx[]>([
  [
    1,
    [
      tx('a1', [ev('transfer', { sender: 'alice', recipient: 'bob', amount: '10' }), ev('message', { action: 'send', note: 'hidden' }, ['note'])]),
      tx('a2', [ev('transfer', { sender: 'bob', recipient: 'carol', amount: '250stake' }), ev('message', { action: 'send' })]),
    ],
  ],
  [2, [tx('b1', [ev('transfer', { sender: 'alice', recipient: 'carol', amount: '3.5' })]), tx('b2', [ev('account', { number: '1' }), ev('account', { owner: 'Ivan' })])]],
  [3, [tx('c1', [ev('account', { number: '2', owner: 'Ana' }), ev('time', { at: '2013-05-03T14:45:00Z', day: '2013-05-03' }), ev('', { orphan: 'x' }), ev('tx', { height: '999' })])]],
  [4, []],
  [5, [tx('e0', [ev('flag', { on: 'yes' })]), tx('e1', [ev('flag', { on: 'no' })]), tx('e2', [])]],
]);
for (let h = 6; h <= 40; h++) BLOCKS.set(h, [tx(`bulk-${h}-0`, [ev('bulk', { kind: 'x', h: String(h) })]), tx(`bulk-${h}-1`, [ev('bulk', { kind: 'x', h: String(h) })])]);

const names = (items: readonly TxResultRecord[]): string[] => items.map((r) => new TextDecoder().decode(r.tx));

async function search(query: string, opts: { page?: number; perPage?: number; orderBy?: string } = {}): Promise<string[]> {
  const r = await txs.search(query, opts);
  expect(r.items.length).toBeLessThanOrEqual(r.total);
  return names(r.items);
}

beforeAll(async () => {
  dir = await tempDir('indexes');
  // One database for both indexes, as CometBFT keeps them (tx_index.db).
  shared = createLevelDb(join(dir.path, 'tx_index.db'));
  await shared.open();
  txs = new TxIndex({}, { db: shared });
  blocks = new BlockIndex({}, { db: shared });
  await txs.open();
  await blocks.open();
  for (const [h, list] of BLOCKS) {
    await txs.indexBlock(
      h,
      list.map((t) => t.tx),
      list.map((t) => t.result),
    );
  }
});

afterAll(async () => {
  await txs.close();
  await blocks.close();
  await shared.close();
  await dir.remove();
});

describe('tx index: lookups', () => {
  it('gets a tx by hash with its height, index and result', async () => {
    const a2 = BLOCKS.get(1)![1]!;
    expect(await txs.get(sha256(a2.tx))).toEqual({ height: 1, index: 1, tx: a2.tx, result: a2.result });
    expect(await txs.get(sha256(enc.encode('nope')))).toBeUndefined();
    expect(await txs.get(new Uint8Array(0))).toBeUndefined();
  });

  it('lists the txs of a height in block order', async () => {
    expect(names(await txs.txsAtHeight(5))).toEqual(['e0', 'e1', 'e2']);
    expect(await txs.txsAtHeight(4)).toEqual([]);
  });
});

describe('tx index: search', () => {
  const hashOf = (name: string): string => hex(sha256(enc.encode(name)));

  it.each([
    // tx.hash: direct lookup, any case; other conditions still apply
    [`tx.hash='${hashOf('b1')}'`, ['b1']],
    [`tx.hash = '${hashOf('b1').toLowerCase()}'`, ['b1']],
    [`tx.hash='${hashOf('b1')}' AND tx.height=2`, ['b1']],
    [`tx.hash='${hashOf('b1')}' AND tx.height=3`, []],
    [`tx.hash='${hashOf('b1')}' AND transfer.sender='alice'`, ['b1']],
    [`tx.hash='${hashOf('b1')}' AND transfer.sender='bob'`, []],
    [`tx.hash='${hex(new Uint8Array(32))}'`, []],
    // tx.height: every operator, ranges, order by height then index
    ['tx.height=5', ['e0', 'e1', 'e2']],
    ["tx.height='5'", ['e0', 'e1', 'e2']],
    ['tx.height=4', []],
    ['tx.height >= 2 AND tx.height <= 3', ['b1', 'b2', 'c1']],
    ['tx.height > 1 AND tx.height < 3', ['b1', 'b2']],
    ['tx.height < 2', ['a1', 'a2']],
    ['tx.height > 39', ['bulk-40-0', 'bulk-40-1']],
    ['tx.height = 2.5', []],
    ['tx.height > 1.5 AND tx.height < 2.5', ['b1', 'b2']],
    ['tx.height = 3 AND tx.height = 2', []],
    // event conditions: =, <, <=, >, >=, CONTAINS, EXISTS
    ["transfer.sender = 'alice'", ['a1', 'b1']],
    ["transfer.sender = 'dave'", []],
    ['transfer.amount > 5', ['a1', 'a2']],
    ['transfer.amount >= 10', ['a1', 'a2']],
    ['transfer.amount < 10', ['b1']],
    ['transfer.amount <= 10', ['a1', 'b1']],
    ['transfer.amount = 250', ['a2']],
    ['transfer.amount > 3.4 AND transfer.amount < 3.6', ['b1']],
    ["transfer.recipient CONTAINS 'ar'", ['a2', 'b1']],
    ["transfer.recipient CONTAINS 'z'", []],
    ['account.number EXISTS', ['b2', 'c1']],
    ['flag.on EXISTS', ['e0', 'e1']],
    ['time.at >= TIME 2013-05-03T14:00:00Z', ['c1']],
    ['time.at < TIME 2013-05-03T16:45:00+02:00', []],
    ['time.day = DATE 2013-05-03', ['c1']],
    ['time.day > DATE 2013-05-03', []],
    // AND: all event conditions must hold in ONE event (CometBFT 0.38)
    ["account.number = 2 AND account.owner = 'Ana'", ['c1']],
    ["account.number = 1 AND account.owner = 'Ivan'", []],
    ["transfer.sender = 'alice' AND transfer.amount > 5", ['a1']],
    ["transfer.sender = 'alice' AND message.action = 'send'", []],
    // event conditions with heights
    ["transfer.sender = 'alice' AND tx.height = 2", ['b1']],
    ["transfer.sender = 'alice' AND tx.height >= 1 AND tx.height < 2", ['a1']],
    ["bulk.kind = 'x' AND tx.height > 38", ['bulk-39-0', 'bulk-39-1', 'bulk-40-0', 'bulk-40-1']],
    // only indexed attributes, non-empty types; app events may not claim reserved keys
    ['message.note EXISTS', []],
    ["message.action = 'send'", ['a1', 'a2']],
    ['.orphan EXISTS', []],
    ['tx.height = 999', []],
  ])('%s', async (query, expected) => {
    expect(await search(query)).toEqual(expected);
  });

  it('orders by height then index, ascending or descending', async () => {
    expect(await search('tx.height <= 2', { orderBy: 'desc' })).toEqual(['b2', 'b1', 'a2', 'a1']);
    expect(await search('tx.height <= 2', { orderBy: 'asc' })).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect(await search('tx.height <= 2', { orderBy: '' })).toEqual(['a1', 'a2', 'b1', 'b2']);
    expect((await storeError(txs.search('tx.height <= 2', { orderBy: 'up' }))).code).toBe('invalid_argument');
  });

  it('pages with CometBFT rules: total before paging, 30 per page by default, at most 100', async () => {
    const all = await txs.search("bulk.kind = 'x'", { perPage: 100 });
    expect(all.total).toBe(70);
    expect(names(all.items)[0]).toBe('bulk-6-0');
    const p1 = await txs.search("bulk.kind = 'x'");
    expect([p1.total, p1.items.length]).toEqual([70, 30]);
    const p3 = await txs.search("bulk.kind = 'x'", { page: 3 });
    expect([p3.total, p3.items.length]).toEqual([70, 10]);
    expect(names(p3.items)).toEqual(names(all.items).slice(60));
    const pages = [];
    for (let page = 1; page <= 8; page++) pages.push(...names((await txs.search("bulk.kind = 'x'", { page, perPage: 9 })).items));
    expect(pages).toEqual(names(all.items));
    const desc = await txs.search("bulk.kind = 'x'", { page: 1, perPage: 2, orderBy: 'desc' });
    expect(names(desc.items)).toEqual(['bulk-40-1', 'bulk-40-0']);
    expect((await txs.search('tx.height > 0', { perPage: 500 })).items.length).toBe(78);
    expect((await txs.search("bulk.kind = 'x'", { perPage: 0 })).items.length).toBe(30);
    expect((await txs.search("bulk.kind = 'x'", { perPage: -5 })).items.length).toBe(30);
  });

  it('rejects a page past the last one, and page 0, with the valid range', async () => {
    const e = await storeError(txs.search("bulk.kind = 'x'", { page: 4 }));
    expect(e.code).toBe('page_out_of_range');
    expect(e.message).toBe('page should be within [1, 3] range, given 4');
    expect((await storeError(txs.search("bulk.kind = 'x'", { page: 0 }))).code).toBe('page_out_of_range');
    // No results is one empty page.
    expect(await txs.search("transfer.sender = 'dave'", { page: 1 })).toEqual({ total: 0, items: [] });
    expect((await storeError(txs.search("transfer.sender = 'dave'", { page: 2 }))).message).toMatch(/\[1, 1\]/);
  });

  it('reports bad queries: syntax errors as QuerySyntaxError, a non-hex tx.hash as invalid_query', async () => {
    await expect(txs.search('tx.height ==5')).rejects.toBeInstanceOf(QuerySyntaxError);
    expect((await storeError(txs.search("tx.hash = 'XYZ'"))).code).toBe('invalid_query');
  });

  it('bounds the matches of one search', async () => {
    const small = new TxIndex({ maxMatches: 10 }, { db: shared });
    await small.open();
    expect((await storeError(small.search("bulk.kind = 'x'"))).code).toBe('too_many_results');
    expect((await storeError(small.search('tx.height > 5'))).code).toBe('too_many_results');
    expect((await small.search("bulk.kind = 'x' AND tx.height = 7")).total).toBe(2);
    await small.close();
    expect(shared.status).toBe('open');
  });
});

describe('tx index: the same tx in several blocks', () => {
  it('keeps a successful result over a later failed one, and replaces a failed one (with its entries)', async () => {
    const a1 = BLOCKS.get(1)![0]!;
    // A replay of a1 that fails: a1 stays at height 1.
    await txs.indexBlock(41, [a1.tx], [result([ev('transfer', { sender: 'mallory' })], 7)]);
    expect((await txs.get(sha256(a1.tx)))!.height).toBe(1);
    expect(await search("transfer.sender = 'mallory'")).toEqual([]);
    expect(await search('tx.height = 41')).toEqual([]);

    // A tx that failed first and succeeded later: the later one replaces it everywhere.
    const x = enc.encode('x-retry');
    await txs.indexBlock(42, [x], [result([ev('retry', { attempt: 'first' })], 1)]);
    expect(await search("retry.attempt = 'first'")).toEqual(['x-retry']);
    await txs.indexBlock(43, [x], [result([ev('retry', { attempt: 'second' })])]);
    expect(await search('retry.attempt EXISTS')).toEqual(['x-retry']);
    expect(await search("retry.attempt = 'first'")).toEqual([]);
    expect(await search('tx.height = 42')).toEqual([]);
    expect(await search('tx.height = 43')).toEqual(['x-retry']);
    expect(await txs.get(sha256(x))).toMatchObject({ height: 43, index: 0 });

    // Within one block the same rule applies; re-indexing a block is idempotent.
    const y = enc.encode('y-dup');
    const pair = [result([ev('dup', { n: '0' })]), result([ev('dup', { n: '1' })], 3)];
    await txs.indexBlock(44, [y, y], pair);
    await txs.indexBlock(44, [y, y], pair);
    expect(await txs.get(sha256(y))).toMatchObject({ height: 44, index: 0 });
    expect(await search('dup.n EXISTS')).toEqual(['y-dup']);
    expect((await storeError(txs.indexBlock(45, [y], []))).code).toBe('mismatch');

    // A block indexed again with its txs in other positions: each record moves, none is lost
    // (a superseded position's deletion must not remove the record written there).
    const [p1, q1] = [enc.encode('p-move'), enc.encode('q-move')];
    await txs.indexBlock(46, [p1, q1], [result([ev('mv', { n: 'p' })]), result([ev('mv', { n: 'q' })])]);
    await txs.indexBlock(46, [q1, p1], [result([ev('mv', { n: 'q' })]), result([ev('mv', { n: 'p' })])]);
    expect(await txs.get(sha256(p1))).toMatchObject({ height: 46, index: 1 });
    expect(await txs.get(sha256(q1))).toMatchObject({ height: 46, index: 0 });
    expect(await search('tx.height = 46')).toEqual(['q-move', 'p-move']);
    expect(await search("mv.n = 'p'")).toEqual(['p-move']);
  });
});

describe('block index', () => {
  beforeAll(async () => {
    for (let h = 1; h <= 30; h++) {
      const events: Event[] = [];
      if (h % 2 === 0) events.push(ev('reward', { amount: String(h * 10), validator: `v${h % 3}` }));
      if (h % 5 === 0) events.push(ev('slash', { who: 'v1', reason: 'downtime' }, ['reason']));
      await blocks.index(h, events);
    }
  });

  const heights = async (query: string, opts: { page?: number; perPage?: number; orderBy?: string } = {}): Promise<number[]> => (await blocks.search(query, opts)).items;

  it.each([
    ['block.height = 5', [5]],
    ['block.height = 31', []],
    ['block.height > 27', [28, 29, 30]],
    ['block.height >= 10 AND block.height < 13 AND reward.amount > 100', [12]],
    ["reward.validator = 'v0'", [6, 12, 18, 24, 30]],
    ['slash.who EXISTS', [5, 10, 15, 20, 25, 30]],
    ['slash.reason EXISTS', []],
    ["reward.amount >= 200 AND reward.validator = 'v2'", [20, 26]],
    ["reward.amount >= 200 AND slash.who = 'v1'", []],
    ["reward.validator CONTAINS '1' AND block.height <= 10", [4, 10]],
  ])('%s', async (query, expected) => {
    expect(await heights(query)).toEqual(expected);
  });

  it('orders and pages', async () => {
    expect(await heights("reward.validator = 'v0'", { orderBy: 'desc' })).toEqual([30, 24, 18, 12, 6]);
    const r = await blocks.search('block.height > 0', { page: 5, perPage: 7 });
    expect(r).toEqual({ total: 30, items: [29, 30] });
    expect((await storeError(blocks.search('block.height > 0', { page: 6, perPage: 7 }))).code).toBe('page_out_of_range');
  });

  it('knows which heights are indexed', async () => {
    expect(await blocks.has(3)).toBe(true);
    expect(await blocks.has(31)).toBe(false);
  });
});

describe('tx index layout', () => {
  it('drops an index of the earlier per-entry layout when opened (the node rebuilds it), keeping the block index beside it', async () => {
    const db = createLevelDb(join(dir.path, 'old-layout.db'));
    await db.open();
    const key = (s: string, ...rest: number[]): Uint8Array => Uint8Array.from([...enc.encode(s), ...rest]);
    await db.put(key('TL:', 0, 0, 0, 0, 0, 0, 0, 7), key('', 0, 0, 0, 0, 0, 0, 0, 7));
    await db.put(key('TH:', 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0), sha256(enc.encode('old')));
    await db.put(key('BI:', 0, 0, 0, 0, 0, 0, 0, 7), new Uint8Array(0));
    const t = new TxIndex({}, { db });
    const b = new BlockIndex({}, { db });
    await t.open();
    await b.open();
    expect(await t.lastIndexedHeight()).toBe(0);
    expect((await t.search('tx.height >= 0')).total).toBe(0);
    expect(await b.has(7)).toBe(true);
    await t.indexBlock(7, [enc.encode('new')], [result([ev('n', { k: 'v' })])]);
    await t.close();
    // reopened: the current layout is kept
    const again = new TxIndex({}, { db });
    await again.open();
    expect(await again.lastIndexedHeight()).toBe(7);
    expect(names((await again.search("n.k = 'v' AND tx.height = 7")).items)).toEqual(['new']);
    await again.close();
    await b.close();
    await db.close();
  });

  it('drops an index of layout 2 (records keyed by hash) when opened', async () => {
    const db = createLevelDb(join(dir.path, 'layout2.db'));
    await db.open();
    const key = (s: string, ...rest: number[]): Uint8Array => Uint8Array.from([...enc.encode(s), ...rest]);
    await db.put(key('TV:'), Uint8Array.of(2));
    await db.put(key('TL:'), key('', 0, 0, 0, 0, 0, 0, 0, 9));
    await db.put(Uint8Array.from([...key('TX:'), ...sha256(enc.encode('old'))]), enc.encode('a layout-2 record'));
    const t = new TxIndex({}, { db });
    await t.open();
    expect(await t.lastIndexedHeight()).toBe(0);
    expect(await t.get(sha256(enc.encode('old')))).toBeUndefined();
    await t.indexBlock(1, [enc.encode('new')], [result([])]);
    expect(await t.get(sha256(enc.encode('new')))).toMatchObject({ height: 1, index: 0 });
    await t.close();
    // a layout this version does not know is refused, not dropped
    await db.put(key('TV:'), Uint8Array.of(9));
    expect((await storeError(new TxIndex({}, { db }).open())).code).toBe('corrupt');
    await db.close();
  });

  it('filters event matches by tx.hash through the per-block lists', async () => {
    // alice sends in a1 and b1; only a1's hash contains this
    const a1 = BLOCKS.get(1)![0]!;
    expect(await search(`transfer.sender = 'alice' AND tx.hash CONTAINS '${hex(sha256(a1.tx)).slice(0, 16)}'`)).toEqual(['a1']);
  });
});

describe('tx index records on their own database', () => {
  it('keeps the records in <path>/records, and re-indexes from their height when a power cut took the newest', async () => {
    const path = join(dir.path, 'split.db');
    const a = new TxIndex({ path });
    await a.open();
    for (let h = 1; h <= 3; h++) await a.indexBlock(h, [enc.encode(`s${h}`)], [result([ev('split', { h: String(h) })])]);
    // empty blocks write no records; reopening after them re-indexes nothing
    await a.indexBlock(4, [], []);
    await a.indexBlock(5, [], []);
    await a.close();
    expect(existsSync(join(path, 'records', 'CURRENT'))).toBe(true);
    const whole = new TxIndex({ path });
    await whole.open();
    expect(await whole.lastIndexedHeight()).toBe(5);
    await whole.close();
    // the records database as it was after height 2 (its height-3 batch lost; the main one kept)
    const records = createLevelDb(join(path, 'records'));
    await records.open();
    const h3 = Uint8Array.from([...enc.encode('TR:'), 0, 0, 0, 0, 0, 0, 0, 3]);
    expect(await records.get(h3)).toBeDefined();
    await records.batch().del(h3).put(enc.encode('RL:'), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 2)).write();
    await records.close();
    const b = new TxIndex({ path });
    await b.open();
    expect(await b.lastIndexedHeight()).toBe(2);
    // re-indexing from height 3 (what the node's recovery does) restores it
    await b.indexBlock(3, [enc.encode('s3')], [result([ev('split', { h: '3' })])]);
    await b.indexBlock(4, [], []);
    await b.indexBlock(5, [], []);
    expect(await b.lastIndexedHeight()).toBe(5);
    expect(names((await b.search('split.h EXISTS')).items)).toEqual(['s1', 's2', 's3']);
    expect(await b.get(sha256(enc.encode('s3')))).toMatchObject({ height: 3, index: 0 });
    await b.close();
  });
});

describe('indexes on their own databases', () => {
  it('persist across a reopen', async () => {
    const path = join(dir.path, 'own.db');
    const a = new TxIndex({ path });
    await a.open();
    await a.indexBlock(1, [enc.encode('solo')], [result([ev('solo', { k: 'v' })])]);
    await a.close();
    const b = new TxIndex({ path });
    await b.open();
    expect(names((await b.search("solo.k = 'v'")).items)).toEqual(['solo']);
    // At most 100 per page, whatever is asked.
    const many = Array.from({ length: 120 }, (_, i) => enc.encode(`many-${i}`));
    await b.indexBlock(2, many, many.map(() => result([])));
    const page = await b.search('tx.height = 2', { perPage: 500 });
    expect([page.total, page.items.length]).toEqual([120, 100]);
    expect(names((await b.search('tx.height = 2', { page: 2, perPage: 500 })).items)).toEqual(many.slice(100).map((t) => new TextDecoder().decode(t)));
    await b.close();
    expect((await storeError(b.search("solo.k = 'v'"))).code).toBe('not_open');
  });
});
