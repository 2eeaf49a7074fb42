// The transaction index behind RPC `tx` and `tx_search`.
//
// Key layout (may share a database with the block index; prefixes are disjoint):
//
//   "TX:" hash(32)                  → where the record is: height(8) ‖ index(4)
//   "TR:" height(8)                 → the block's TxResultRecords {height, index, tx, result}, one per
//                                     position (empty where none; codec encodeTxResultRecords)  (records database)
//   "RL:"                           → the last height whose records are written  (records database)
//   "TH:" height(8)                 → the block's txs: index(4) ‖ hash(32) each, by index
//   "TE:" key value height(8)       → the block's txs with this indexed attribute: index(4) ‖ event seq(4) each, in order
//   "TL:"                           → the last height indexed
//   "TV:"                           → the layout version (3)
//
// Records are stored by position, not by hash (layout 3), in a database of their own (<path>/records)
// when the index has a path: keyed by hash, LevelDB merged every record (tx and result, ~660
// bytes) again at each compaction, and that thread took ~7 % of each validator's CPU at 1024
// clients. Records by height arrive in key order and LevelDB moves its files down the levels
// without rewriting them; only the ~170 bytes per tx of pointers and lists are merged. A block's
// records are one value, encoded in one pass: one write instead of one per tx.
//
// A power cut can lose either database's unsynced tail. At open, if a height above the records'
// last one has txs in the main database's lists, the last indexed height is lowered below it, so
// the node re-indexes from there. A record that a tx replayed in a later block supersedes stays at its position;
// nothing points at it.
//
// Lists per block rather than an entry per tx and attribute: an attribute that many txs share
// (a module, a sender, a constant flag) is one write per block, and a block of kvstore txs takes
// three writes per tx instead of eight (the per-entry layout was 40% of a node's CPU per tx).
// An index of an earlier layout (no "TV:", or 2) is dropped when opened; the node then rebuilds
// it from its stored blocks and results (BlockExecutor.recoverIndexes).
//
// One record per hash. A hash seen again replaces the older record (and takes its index out of
// the older block's lists, so the index never points at a record that says otherwise) — unless
// the new result failed and the old one succeeded: a replayed tx that fails must not hide the one
// that took effect (CometBFT's rule). Indexing one block is one batch.
//
// Search: CometBFT 0.38 tx_search semantics. `tx.hash = '<hex>'` looks the tx up directly;
// `tx.height` conditions filter heights (all of them — CometBFT sometimes dropped one); other
// conditions are event conditions that one event of the tx must satisfy together (see
// event-index.ts). Results are ordered by height, then index; total is counted before paging.
import type { ExecTxResult, TxResultRecord } from '../codec/index.js';
import { ByteSlab, encodeTxResultRecords, readTxResultRecordAt, writeU32 } from '../codec/index.js';
import { bytesEqual, compareBytes } from '../crypto/index.js';
import { txHash } from '../types/block.js';
import { conditionMatchesValue, parseQuery, type Condition, type Query } from '../query/index.js';
import { join } from 'node:path';
import { ascii, concatBytes, createLevelDb, del, keyString, LevelStore, type LevelDb, prefixEnd, put, readU32, readU64, u64, type BatchOp, type StoreModules } from './db.js';
import { StoreError } from './errors.js';
import { bytesKey, eventsSatisfy, forEachIndexedAttribute, matchEventConditions } from './event-index.js';
import { DEFAULT_MAX_MATCHES, descending, heightRange, pageWindow, type SearchOptions, type SearchResult } from './search.js';

export const TX_HASH_KEY = 'tx.hash';
export const TX_HEIGHT_KEY = 'tx.height';
const RESERVED: ReadonlySet<string> = new Set([TX_HASH_KEY, TX_HEIGHT_KEY]);

// ---- keys --------------------------------------------------------------------------------------

const POINTER = ascii('TX:');
const RECORD = ascii('TR:');
const BY_HEIGHT = ascii('TH:');
const EVENT = ascii('TE:');
/** The last height indexed (written with each block's batch), where re-indexing after a crash starts. */
const LAST_HEIGHT = ascii('TL:');
const RECORDS_HEIGHT = ascii('RL:');
const VERSION = ascii('TV:');
const LAYOUT_VERSION = 3;
/** Earlier layouts, dropped and rebuilt when opened. */
const OLD_LAYOUTS: ReadonlySet<number> = new Set([2]);
/** What an index of another layout may hold. */
const LAYOUT_PREFIXES = [POINTER, RECORD, BY_HEIGHT, EVENT, LAST_HEIGHT, RECORDS_HEIGHT];

const HASH_BYTES = 32;
/** A "TH:" list record: index(4) ‖ hash(32). */
const HEIGHT_RECORD = 4 + HASH_BYTES;
/** A "TE:" list record: index(4) ‖ event seq(4). */
const EVENT_RECORD = 8;
/** A tx's id in event matching: height(8) ‖ index(4). */
const ID_LENGTH = 12;

const pointerKey = (hash: Uint8Array): Uint8Array => concatBytes(POINTER, hash);
/** A pointer's value, and a record's key after "TR:": height(8) ‖ index(4). */
function position(height: number, index: number): Uint8Array {
  const out = new Uint8Array(12);
  out.set(u64(height), 0);
  writeU32(out, 8, index);
  return out;
}
const recordsKey = (height: number): Uint8Array => concatBytes(RECORD, u64(height));
/** Blocks' records recently read (a search reads many of one block); a write drops its height's. */
const CACHED_BLOCKS = 8;
const heightKey = (height: number): Uint8Array => concatBytes(BY_HEIGHT, u64(height));
// "TE:" ‖ keyString(key) of recent attribute keys (bounded: keys are app-defined)
const MAX_CACHED_KEYS = 1024;
const eventKeyPrefixes = new Map<string, Uint8Array>();

/** "TE:" key value height(8), in one allocation past the cached key prefix (two lists per tx). */
function eventKey(key: string, value: string, height: number, slab: ByteSlab): Uint8Array {
  let prefix = eventKeyPrefixes.get(key);
  if (!prefix) {
    if (eventKeyPrefixes.size >= MAX_CACHED_KEYS) eventKeyPrefixes.clear();
    eventKeyPrefixes.set(key, (prefix = concatBytes(EVENT, keyString(key))));
  }
  // in the block's slab: they live until its batch is written (see codec/slab.ts)
  const v = keyString(value, (n) => slab.alloc(n));
  const out = slab.alloc(prefix.length + v.length + 8);
  out.set(prefix, 0);
  out.set(v, prefix.length);
  out.set(u64(height), prefix.length + v.length);
  return out;
}

/** The hash of tx `index` in a "TH:" list (records sorted by index), or undefined. */
function hashInList(list: Uint8Array, index: number): Uint8Array | undefined {
  let lo = 0;
  let hi = Math.floor(list.length / HEIGHT_RECORD) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = readU32(list, mid * HEIGHT_RECORD);
    if (at === index) return list.subarray(mid * HEIGHT_RECORD + 4, (mid + 1) * HEIGHT_RECORD);
    if (at < index) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** Tx id ‖ event seq of every record of a "TE:" entry (key rest = height(8)). */
function eventItems(rest: Uint8Array, value: Uint8Array): Uint8Array[] | undefined {
  if (rest.length !== 8 || value.length % EVENT_RECORD !== 0) return undefined;
  const out: Uint8Array[] = [];
  for (let off = 0; off < value.length; off += EVENT_RECORD) {
    const idSeq = new Uint8Array(ID_LENGTH + 4);
    idSeq.set(rest, 0);
    idSeq.set(value.subarray(off, off + EVENT_RECORD), 8);
    out.push(idSeq);
  }
  return out;
}

/**
 * One per-block list ("TH:" or "TE:") as one indexBlock call changes it: the txs (by index)
 * whose records leave it, and the records it gains, in index order.
 */
class ListEdit {
  readonly dropped = new Set<number>();
  /** "TE:": index, seq pairs; "TH:": indexes, with the hashes in `hashes`. */
  readonly added: number[] = [];
  readonly hashes: Uint8Array[] = [];

  constructor(
    readonly key: Uint8Array,
    readonly height: number,
    readonly recordSize: number,
  ) {}

  private addedBytes(): Uint8Array {
    const events = this.recordSize === EVENT_RECORD;
    const n = events ? this.added.length / 2 : this.added.length;
    const out = new Uint8Array(n * this.recordSize);
    for (let i = 0; i < n; i++) {
      const off = i * this.recordSize;
      if (events) {
        writeU32(out, off, this.added[2 * i]!);
        writeU32(out, off + 4, this.added[2 * i + 1]!);
      } else {
        writeU32(out, off, this.added[i]!);
        out.set(this.hashes[i]!, off + 4);
      }
    }
    return out;
  }

  /** The list after the edit, from what is stored (undefined: nothing). */
  apply(stored: Uint8Array | undefined): Uint8Array {
    const added = this.addedBytes();
    if (stored === undefined || stored.length === 0) return added;
    // the rare path (a block indexed again, a tx replaced): merge record by record
    const size = this.recordSize;
    const replaced = new Set(this.dropped);
    const step = size === EVENT_RECORD ? 2 : 1;
    for (let i = 0; i < this.added.length; i += step) replaced.add(this.added[i]!);
    const records: Uint8Array[] = [];
    for (let off = 0; off + size <= stored.length; off += size) {
      if (!replaced.has(readU32(stored, off))) records.push(stored.subarray(off, off + size));
    }
    for (let off = 0; off < added.length; off += size) records.push(added.subarray(off, off + size));
    records.sort(compareBytes);
    return concatBytes(...records);
  }
}

/** The lists one indexBlock call touches, by height, then attribute key and value. */
class ListEdits {
  readonly slab = new ByteSlab();
  private readonly heights = new Map<number, { txs: ListEdit; events: Map<string, Map<string, ListEdit>> }>();

  private at(height: number): { txs: ListEdit; events: Map<string, Map<string, ListEdit>> } {
    let h = this.heights.get(height);
    if (!h) this.heights.set(height, (h = { txs: new ListEdit(heightKey(height), height, HEIGHT_RECORD), events: new Map() }));
    return h;
  }

  txs(height: number): ListEdit {
    return this.at(height).txs;
  }

  event(key: string, value: string, height: number): ListEdit {
    const events = this.at(height).events;
    let byValue = events.get(key);
    if (!byValue) events.set(key, (byValue = new Map()));
    let e = byValue.get(value);
    if (!e) byValue.set(value, (e = new ListEdit(eventKey(key, value, height, this.slab), height, EVENT_RECORD)));
    return e;
  }

  all(): ListEdit[] {
    const out: ListEdit[] = [];
    for (const h of this.heights.values()) {
      out.push(h.txs);
      for (const byValue of h.events.values()) for (const e of byValue.values()) out.push(e);
    }
    return out;
  }
}

export interface TxIndexOptions {
  /**
   * Database directory (e.g. <home>/data/tx_index.db), the records in <path>/records; not needed
   * when a database is passed in (the records then share it).
   */
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

/** A record read at a position, which must be there, say so, and be of the tx with this hash. */
function checked(rec: TxResultRecord | undefined, height: number, index: number, hash: Uint8Array): TxResultRecord {
  if (!rec || rec.height !== height || rec.index !== index || !bytesEqual(txHash(rec.tx), hash))
    throw new StoreError('corrupt', `tx index entry ${height}/${index} points at a record that is not there`, { height, index, hash: hexUpper(hash) });
  return rec;
}

export class TxIndex extends LevelStore {
  private readonly sync: boolean;
  private readonly maxMatches: number;
  /** LAST_HEIGHT's value once read (this instance is the only writer of its database). */
  private lastHeight: number | undefined;
  private readonly recordsPath: string | undefined;
  /** The records' database while open: its own (recordsPath) or the main one. */
  private recordsDb: LevelDb | undefined;
  private readonly blocks = new Map<number, Promise<Uint8Array | undefined>>();
  /** RECORDS_HEIGHT's value: the last height with txs whose records are written. */
  private recordsHeight = 0;

  constructor(opts: TxIndexOptions, modules: StoreModules = {}) {
    super('tx index', opts.path, modules.db);
    this.sync = opts.sync ?? true;
    this.maxMatches = opts.maxMatches ?? DEFAULT_MAX_MATCHES;
    this.recordsPath = modules.db === undefined && opts.path !== undefined ? join(opts.path, 'records') : undefined;
  }

  private get records(): LevelDb {
    if (!this.recordsDb) throw new StoreError('not_open', 'tx index is not open');
    return this.recordsDb;
  }

  override async close(): Promise<void> {
    await super.close();
    const own = this.recordsPath !== undefined ? this.recordsDb : undefined;
    this.recordsDb = undefined;
    await own?.close();
  }

  private async storedRecordsHeight(): Promise<number> {
    const raw = await this.records.get(RECORDS_HEIGHT);
    return raw && raw.length === 8 ? readU64(raw, 0) : 0;
  }

  /** Drops an index of another layout (see the top of this file), so the node rebuilds it. */
  protected override async afterOpen(): Promise<void> {
    const v = await this.getRaw(VERSION);
    const current = v !== undefined && v.length === 1 && v[0] === LAYOUT_VERSION;
    if (v !== undefined && !current && !(v.length === 1 && OLD_LAYOUTS.has(v[0]!)))
      throw new StoreError('corrupt', `tx index: unknown layout version ${Buffer.from(v).toString('hex')}`, { version: Buffer.from(v).toString('hex') });
    if (this.recordsPath === undefined) this.recordsDb = this.db;
    else {
      const db = createLevelDb(this.recordsPath);
      await db.open();
      this.recordsDb = db;
    }
    try {
      await this.reconcile(current);
    } catch (e) {
      if (this.recordsPath !== undefined) await this.recordsDb.close();
      this.recordsDb = undefined;
      throw e;
    }
  }

  private async reconcile(current: boolean): Promise<void> {
    if (current) {
      // A power cut took the records of a height whose main batch survived: the first height
      // above the records' with txs (a "TH:" list). The node re-indexes from there.
      this.recordsHeight = await this.storedRecordsHeight();
      const last = await this.lastIndexedHeight();
      const [next] = await this.keysIn(heightKey(this.recordsHeight + 1), prefixEnd(BY_HEIGHT), { limit: 1 });
      const lost = next && next.length === BY_HEIGHT.length + 8 ? readU64(next, BY_HEIGHT.length) : undefined;
      if (lost !== undefined && lost <= last) {
        await this.writeBatch([put(LAST_HEIGHT, u64(lost - 1))], this.sync);
        this.lastHeight = lost - 1;
      }
      return;
    }
    this.recordsHeight = 0;
    for (const p of LAYOUT_PREFIXES) await this.db.clear({ gte: p, lt: prefixEnd(p) });
    if (this.recordsPath !== undefined) await this.records.clear();
    await this.writeBatch([put(VERSION, Uint8Array.of(LAYOUT_VERSION))], this.sync);
    this.lastHeight = 0;
  }

  /** Index the transactions of block `height` (results in the same order as txs), in one batch. */
  async indexBlock(height: number, txs: readonly Uint8Array[], results: readonly ExecTxResult[]): Promise<void> {
    if (txs.length !== results.length)
      throw new StoreError('mismatch', `block ${height} has ${txs.length} txs but ${results.length} results`, { height, txs: txs.length, results: results.length });
    u64(height); // a valid height, before anything is written
    return this.exclusive(async () => {
      // The last occurrence of a hash within the block wins, by the same rule as across blocks.
      const winners = new Map<string, TxResultRecord & { hash: Uint8Array }>();
      txs.forEach((tx, index) => {
        const hash = txHash(tx);
        const record = { height, index, tx, result: results[index]!, hash };
        const key = bytesKey(hash);
        const prev = winners.get(key);
        if (prev && prev.result.code === 0 && record.result.code !== 0) return;
        winners.set(key, record);
      });
      // in index order: each list's records are then appended in order
      const entries = [...winners.values()].sort((a, b) => a.index - b.index);
      const olds = await this.getManyRaw(entries.map((e) => pointerKey(e.hash)));
      const lists = new ListEdits();
      const ops: BatchOp[] = [];
      const slots: (TxResultRecord | undefined)[] = new Array<TxResultRecord | undefined>(txs.length).fill(undefined);
      // a tx of this block whose record here stays (a failed replay of it is not written)
      const kept: TxResultRecord[] = [];
      for (let i = 0; i < entries.length; i++) {
        const { hash, ...record } = entries[i]!;
        const old = olds[i];
        // a pointer at this height or above whose record is missing: a power cut took that
        // height's records, which this re-indexing writes again (see the top of the file)
        const previous = old && (await this.recordAt(old, hash, height));
        if (previous) {
          if (previous.result.code === 0 && record.result.code !== 0) {
            if (previous.height === height) kept.push(previous);
            continue;
          }
          lists.txs(previous.height).dropped.add(previous.index);
          forEachIndexedAttribute(previous.result.events, RESERVED, (_seq, key, value) => lists.event(key, value, previous.height).dropped.add(previous.index));
        }
        ops.push(put(pointerKey(hash), position(height, record.index)));
        slots[record.index] = record;
        const own = lists.txs(height);
        own.added.push(record.index);
        own.hashes.push(hash);
        forEachIndexedAttribute(record.result.events, RESERVED, (seq, key, value) => lists.event(key, value, height).added.push(record.index, seq));
      }
      // A list above the last indexed height cannot be stored yet: only a block indexed again
      // and the blocks of replaced txs read what their lists hold.
      const last = await this.lastIndexedHeight();
      const edits = lists.all();
      const merged = edits.filter((e) => e.height <= last);
      const stored = await this.getManyRaw(merged.map((e) => e.key));
      const storedOf = new Map(merged.map((e, i) => [e, stored[i]]));
      for (const e of edits) {
        const list = e.apply(storedOf.get(e));
        ops.push(list.length === 0 ? del(e.key) : put(e.key, list));
      }
      const advances = height > last;
      if (advances) ops.push(put(LAST_HEIGHT, u64(height)));
      for (const k of kept) slots[k.index] ??= k;
      // An empty block has no records to write (and no "TH:" list that reconcile would look for).
      // The two batches go out together: their order on disk is not guaranteed either way.
      const records: BatchOp[] = [];
      if (txs.length > 0) records.push(put(recordsKey(height), encodeTxResultRecords(slots)));
      const recordsAdvance = txs.length > 0 && height > this.recordsHeight;
      if (recordsAdvance) records.push(put(RECORDS_HEIGHT, u64(height)));
      await Promise.all([this.writeBatch(records, this.sync, this.records), this.writeBatch(ops, this.sync)]);
      // a read during the writes may have cached the block's records as they were
      this.blocks.delete(height);
      if (recordsAdvance) this.recordsHeight = height;
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
    const at = await this.getRaw(pointerKey(hash));
    return at && this.recordAt(at, hash);
  }

  /**
   * The record a pointer names, which must be there and be of that tx — except, when
   * `missingFrom` is given, at that height or above: then a missing record is undefined.
   */
  private async recordAt(at: Uint8Array, hash: Uint8Array): Promise<TxResultRecord>;
  private async recordAt(at: Uint8Array, hash: Uint8Array, missingFrom: number): Promise<TxResultRecord | undefined>;
  private async recordAt(at: Uint8Array, hash: Uint8Array, missingFrom?: number): Promise<TxResultRecord | undefined> {
    if (at.length !== 12) throw new StoreError('corrupt', `tx index pointer of ${at.length} bytes, expected 12`, { hash: hexUpper(hash) });
    const height = readU64(at, 0);
    const index = readU32(at, 8);
    const rec = await this.recordOf(height, index, hash);
    if (rec === undefined && missingFrom !== undefined && height >= missingFrom) return undefined;
    return checked(rec, height, index, hash);
  }

  /** Every indexed tx of block `height`, in block order. */
  async txsAtHeight(height: number): Promise<TxResultRecord[]> {
    const list = await this.getRaw(heightKey(height));
    const out: TxResultRecord[] = [];
    if (!list) return out;
    for (let off = 0; off + HEIGHT_RECORD <= list.length; off += HEIGHT_RECORD) {
      out.push(await this.checkedRecord(height, readU32(list, off), list.subarray(off + 4, off + HEIGHT_RECORD)));
    }
    return out;
  }

  /** Block `height`'s records as stored, through the small cache. */
  private blockRecords(height: number): Promise<Uint8Array | undefined> {
    let b = this.blocks.get(height);
    if (!b) {
      if (this.blocks.size >= CACHED_BLOCKS) this.blocks.delete(this.blocks.keys().next().value!);
      b = this.records.get(recordsKey(height)).then((v) => v && Uint8Array.from(v));
      this.blocks.set(height, b);
      // a failed read is not remembered
      b.catch(() => this.blocks.delete(height));
    }
    return b;
  }

  /** The record at a position, or undefined if there is none. */
  private async recordOf(height: number, index: number, hash: Uint8Array): Promise<TxResultRecord | undefined> {
    const block = await this.blockRecords(height);
    return block && this.decode('TxResult', block, (r) => readTxResultRecordAt(r, index), { height, index, hash: hexUpper(hash) });
  }

  /** The record at a position, which must say it is there and be of the tx with this hash. */
  private async checkedRecord(height: number, index: number, hash: Uint8Array): Promise<TxResultRecord> {
    return checked(await this.recordOf(height, index, hash), height, index, hash);
  }

  /** Reads "TH:" lists, each once per search. */
  private heightLists(): (height: number) => Promise<Uint8Array | undefined> {
    const lists = new Map<number, Promise<Uint8Array | undefined>>();
    return (height) => {
      let l = lists.get(height);
      if (!l) lists.set(height, (l = this.getRaw(heightKey(height))));
      return l;
    };
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
    const listAt = this.heightLists();

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
        items: eventItems,
      });
      ids = found.map((id) => ({ height: readU64(id, 0), index: readU32(id, 8) }));
      if (hashConds.length > 0) {
        const kept: typeof ids = [];
        for (const id of ids) {
          const list = await listAt(id.height);
          const hash = list && hashInList(list, id.index);
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
      const list = await listAt(id.height);
      const hash = list && hashInList(list, id.index);
      if (hash) items.push(await this.checkedRecord(id.height, id.index, hash));
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
    const end = hi >= Number.MAX_SAFE_INTEGER ? prefixEnd(BY_HEIGHT) : heightKey(hi + 1);
    for await (const [k, v] of this.db.iterator({ gte: heightKey(lo), lt: end })) {
      if (k.length !== BY_HEIGHT.length + 8) continue;
      const height = readU64(Uint8Array.from(k), BY_HEIGHT.length);
      if (!heightOk(height)) continue;
      const list = Uint8Array.from(v);
      for (let off = 0; off + HEIGHT_RECORD <= list.length; off += HEIGHT_RECORD) {
        if (!hashOk(list.subarray(off + 4, off + HEIGHT_RECORD))) continue;
        out.push({ height, index: readU32(list, off) });
        if (out.length > this.maxMatches)
          throw new StoreError('too_many_results', `query matches more than ${this.maxMatches} txs; narrow it (e.g. with a height range)`, { maxMatches: this.maxMatches });
      }
    }
    return out;
  }
}
