// The transaction index behind RPC `tx` and `tx_search`.
//
// Key layout (may share a database with the block index; prefixes are disjoint):
//
//   "TX:" hash(32)                                  → TxResultRecord {height, index, tx, result}
//   "TH:" height(8) index(4)                        → hash     (every tx, in block order)
//   "TE:" key value height(8) index(4) seq(4)       → ∅        (indexed event attributes, see event-index.ts)
//
// One record per hash. A hash seen again replaces the older record (and its TH/TE entries, so
// the index never points at a record that says otherwise) — unless the new result failed and
// the old one succeeded: a replayed tx that fails must not hide the one that took effect
// (CometBFT's rule). Indexing one block is one batch.
//
// Search: CometBFT 0.38 tx_search semantics. `tx.hash = '<hex>'` looks the tx up directly;
// `tx.height` conditions filter heights (all of them — CometBFT sometimes dropped one); other
// conditions are event conditions that one event of the tx must satisfy together (see
// event-index.ts). Results are ordered by height, then index; total is counted before paging.
import type { ExecTxResult, TxResultRecord } from '../codec/index.js';
import { encodeTxResultRecord, readTxResultRecord } from '../codec/index.js';
import { txHash } from '../types/block.js';
import { conditionMatchesValue, parseQuery, type Condition, type Query } from '../query/index.js';
import { ascii, concatBytes, del, LevelStore, put, readU32, readU64, u32, u64, type BatchOp, type StoreModules } from './db.js';
import { StoreError } from './errors.js';
import { bytesKey, eventEntryKeys, eventEntryPuts, eventsSatisfy, matchEventConditions } from './event-index.js';
import { DEFAULT_MAX_MATCHES, descending, heightRange, pageWindow, type SearchOptions, type SearchResult } from './search.js';

export const TX_HASH_KEY = 'tx.hash';
export const TX_HEIGHT_KEY = 'tx.height';
const RESERVED: ReadonlySet<string> = new Set([TX_HASH_KEY, TX_HEIGHT_KEY]);

// ---- keys --------------------------------------------------------------------------------------

const RECORD = ascii('TX:');
const BY_HEIGHT = ascii('TH:');
const EVENT = ascii('TE:');
/** The last height indexed (written with each block's batch), where re-indexing after a crash starts. */
const LAST_HEIGHT = ascii('TL:');
const ID_LENGTH = 12;

const recordKey = (hash: Uint8Array): Uint8Array => concatBytes(RECORD, hash);
const txId = (height: number, index: number): Uint8Array => concatBytes(u64(height), u32(index));
const heightKey = (height: number, index: number): Uint8Array => concatBytes(BY_HEIGHT, txId(height, index));

export interface TxIndexOptions {
  /** Database directory (e.g. <home>/data/tx_index.db); not needed when a database is passed in. */
  readonly path?: string;
  /** fsync each indexed block (default true). */
  readonly sync?: boolean;
  /** Largest number of matches one search may collect before paging (default 100,000). */
  readonly maxMatches?: number;
}

const hexUpper = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

function parseHash(text: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text) || text.length !== 64)
    throw new StoreError('invalid_query', `tx.hash must be 64 hex digits, got '${text}'`, { hash: text });
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

/** tx.hash conditions compare against the upper-case hex hash; string operands are case-insensitive. */
function hashCondition(c: Condition): Condition {
  if (c.op === 'EXISTS' || c.operand.type !== 'string') return c;
  return { ...c, operand: { type: 'string', value: c.operand.value.toUpperCase() } } as Condition;
}

export class TxIndex extends LevelStore {
  private readonly sync: boolean;
  private readonly maxMatches: number;
  /** LAST_HEIGHT's value once read (this instance is the only writer of its database). */
  private lastHeight: number | undefined;

  constructor(opts: TxIndexOptions, modules: StoreModules = {}) {
    super('tx index', opts.path, modules.db);
    this.sync = opts.sync ?? true;
    this.maxMatches = opts.maxMatches ?? DEFAULT_MAX_MATCHES;
  }

  /** Index the transactions of block `height` (results in the same order as txs), in one batch. */
  async indexBlock(height: number, txs: readonly Uint8Array[], results: readonly ExecTxResult[]): Promise<void> {
    if (txs.length !== results.length)
      throw new StoreError('mismatch', `block ${height} has ${txs.length} txs but ${results.length} results`, { height, txs: txs.length, results: results.length });
    return this.exclusive(async () => {
      // The last occurrence of a hash within the block wins, by the same rule as across blocks.
      const winners = new Map<string, TxResultRecord & { hash: Uint8Array }>();
      txs.forEach((tx, index) => {
        const hash = txHash(tx);
        const record = { height, index, tx, result: results[index]!, hash };
        const prev = winners.get(bytesKey(hash));
        if (prev && prev.result.code === 0 && record.result.code !== 0) return;
        winners.set(bytesKey(hash), record);
      });
      const deletions: BatchOp[] = [];
      const puts: BatchOp[] = [];
      const entries = [...winners.values()];
      const olds = await this.getManyRaw(entries.map((e) => recordKey(e.hash)));
      for (const [i, { hash, ...record }] of entries.entries()) {
        const old = olds[i];
        if (old) {
          const previous = this.decode('TxResult', old, readTxResultRecord, { hash: hexUpper(hash) });
          if (previous.result.code === 0 && record.result.code !== 0) continue;
          const oldId = txId(previous.height, previous.index);
          deletions.push(del(heightKey(previous.height, previous.index)));
          for (const k of eventEntryKeys(EVENT, oldId, previous.result.events, RESERVED)) deletions.push(del(k));
        }
        const id = txId(height, record.index);
        puts.push(put(recordKey(hash), encodeTxResultRecord(record)), put(heightKey(height, record.index), hash));
        puts.push(...eventEntryPuts(EVENT, id, record.result.events, RESERVED));
      }
      // Deletions first: re-indexing the same block deletes and re-puts the same keys.
      const advances = height > (await this.lastIndexedHeight());
      if (advances) puts.push(put(LAST_HEIGHT, u64(height)));
      await this.writeBatch([...deletions, ...puts], this.sync);
      if (advances) this.lastHeight = height;
    });
  }

  /** The highest height indexed so far (0 when none); read once, then kept as blocks are indexed. */
  async lastIndexedHeight(): Promise<number> {
    if (this.lastHeight === undefined) {
      const raw = await this.getRaw(LAST_HEIGHT);
      this.lastHeight = raw && raw.length === 8 ? readU64(raw, 0) : 0;
    }
    return this.lastHeight;
  }

  /** The indexed tx with this hash (SHA-256 of the tx bytes), or undefined. */
  async get(hash: Uint8Array): Promise<TxResultRecord | undefined> {
    if (hash.length === 0) return undefined;
    const raw = await this.getRaw(recordKey(hash));
    return raw && this.decode('TxResult', raw, readTxResultRecord, { hash: hexUpper(hash) });
  }

  /** Every indexed tx of block `height`, in block order. */
  async txsAtHeight(height: number): Promise<TxResultRecord[]> {
    const prefix = concatBytes(BY_HEIGHT, u64(height));
    const out: TxResultRecord[] = [];
    for (const key of await this.keysIn(prefix, concatBytes(BY_HEIGHT, u64(height + 1)))) {
      const rec = await this.recordAt(readU64(key, BY_HEIGHT.length), readU32(key, BY_HEIGHT.length + 8));
      if (rec) out.push(rec);
    }
    return out;
  }

  private async recordAt(height: number, index: number): Promise<TxResultRecord | undefined> {
    const hash = await this.getRaw(heightKey(height, index));
    if (!hash) return undefined;
    const rec = await this.get(hash);
    if (!rec || rec.height !== height || rec.index !== index)
      throw new StoreError('corrupt', `tx index entry ${height}/${index} points at a record that is not there`, { height, index, hash: hexUpper(hash) });
    return rec;
  }

  /** tx_search: the matching txs of the requested page and the total count. */
  async search(query: string | Query, opts: SearchOptions = {}): Promise<SearchResult<TxResultRecord>> {
    const q = typeof query === 'string' ? parseQuery(query) : query;
    const desc = descending(opts.orderBy);
    const heightConds = q.conditions.filter((c) => c.key === TX_HEIGHT_KEY);
    const hashConds = q.conditions.filter((c) => c.key === TX_HASH_KEY).map(hashCondition);
    const eventConds = q.conditions.filter((c) => !RESERVED.has(c.key));
    const heightOk = (h: number): boolean => heightConds.every((c) => conditionMatchesValue(c, String(h)));
    const hashOk = (hash: Uint8Array): boolean => hashConds.every((c) => conditionMatchesValue(c, hexUpper(hash)));

    let ids: { height: number; index: number }[];
    const lookup = hashConds.find((c) => c.op === '=' && c.operand.type === 'string');
    if (lookup && lookup.op === '=' && lookup.operand.type === 'string') {
      const hash = parseHash(lookup.operand.value);
      const rec = await this.get(hash);
      const ok = rec !== undefined && heightOk(rec.height) && hashOk(hash) && eventsSatisfy(eventConds, rec.result.events, RESERVED);
      ids = ok ? [{ height: rec.height, index: rec.index }] : [];
    } else if (eventConds.length > 0) {
      const found = await matchEventConditions(this.db, EVENT, ID_LENGTH, eventConds, {
        accept: (id) => heightOk(readU64(id, 0)),
        maxMatches: this.maxMatches,
      });
      ids = found.map((id) => ({ height: readU64(id, 0), index: readU32(id, 8) }));
      if (hashConds.length > 0) {
        const kept: typeof ids = [];
        for (const id of ids) {
          const hash = await this.getRaw(heightKey(id.height, id.index));
          if (hash && hashOk(hash)) kept.push(id);
        }
        ids = kept;
      }
    } else {
      ids = await this.scanHeights(heightConds, heightOk, hashOk);
    }

    ids.sort((a, b) => (a.height - b.height || a.index - b.index) * (desc ? -1 : 1));
    const { offset, limit } = pageWindow(ids.length, opts);
    const items: TxResultRecord[] = [];
    for (const id of ids.slice(offset, offset + limit)) {
      const rec = await this.recordAt(id.height, id.index);
      if (rec) items.push(rec);
    }
    return { total: ids.length, items };
  }

  /** Queries on tx.height / tx.hash alone: walk the by-height entries within the height bounds. */
  private async scanHeights(
    heightConds: readonly Condition[],
    heightOk: (h: number) => boolean,
    hashOk: (hash: Uint8Array) => boolean,
  ): Promise<{ height: number; index: number }[]> {
    const { lo, hi } = heightRange(heightConds);
    if (lo > hi) return [];
    const out: { height: number; index: number }[] = [];
    const end = hi >= Number.MAX_SAFE_INTEGER ? concatBytes(BY_HEIGHT, new Uint8Array(12).fill(0xff)) : concatBytes(BY_HEIGHT, u64(hi + 1));
    for await (const [k, v] of this.db.iterator({ gte: concatBytes(BY_HEIGHT, u64(lo)), lt: end })) {
      const key = Uint8Array.from(k);
      const height = readU64(key, BY_HEIGHT.length);
      if (!heightOk(height) || !hashOk(Uint8Array.from(v))) continue;
      out.push({ height, index: readU32(key, BY_HEIGHT.length + 8) });
      if (out.length > this.maxMatches)
        throw new StoreError('too_many_results', `query matches more than ${this.maxMatches} txs; narrow it (e.g. with a height range)`, { maxMatches: this.maxMatches });
    }
    return out;
  }
}
