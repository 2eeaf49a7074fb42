// The block index behind RPC `block_search`: heights by `block.height` and by the indexed
// attributes of their FinalizeBlock events.
//
// Key layout (may share a database with the tx index; prefixes are disjoint):
//
//   "BI:" height(8)                          → ∅   (the height is indexed: block.height)
//   "BE:" key value height(8) seq(4)         → ∅   (indexed event attributes, see event-index.ts)
//
// Search semantics are the tx index's: `block.height` conditions filter heights, the other
// conditions must be satisfied by one event of the block; results are heights, ordered, paged.
import type { Event } from '../codec/index.js';
import { conditionMatchesValue, parseQuery, type Query } from '../query/index.js';
import { ascii, concatBytes, LevelStore, put, readU64, u64, type BatchOp, type StoreModules } from './db.js';
import { StoreError } from './errors.js';
import { eventEntryPuts, matchEventConditions } from './event-index.js';
import { DEFAULT_MAX_MATCHES, descending, heightRange, pageWindow, type SearchOptions, type SearchResult } from './search.js';

export const BLOCK_HEIGHT_KEY = 'block.height';
const RESERVED: ReadonlySet<string> = new Set([BLOCK_HEIGHT_KEY]);

const HEIGHT = ascii('BI:');
const EVENT = ascii('BE:');
const ID_LENGTH = 8;

export interface BlockIndexOptions {
  /** Database directory; not needed when a database is passed in (CometBFT keeps it in tx_index.db). */
  readonly path?: string;
  /** fsync each indexed block (default true). */
  readonly sync?: boolean;
  /** Largest number of matches one search may collect before paging (default 100,000). */
  readonly maxMatches?: number;
}

export class BlockIndex extends LevelStore {
  private readonly sync: boolean;
  private readonly maxMatches: number;

  constructor(opts: BlockIndexOptions, modules: StoreModules = {}) {
    super('block index', opts.path, modules.db);
    this.sync = opts.sync ?? true;
    this.maxMatches = opts.maxMatches ?? DEFAULT_MAX_MATCHES;
  }

  /** Index block `height` with its FinalizeBlock events, in one batch (re-indexing a height is harmless). */
  async index(height: number, events: readonly Event[]): Promise<void> {
    return this.exclusive(async () => {
      const id = u64(height);
      const ops: BatchOp[] = [put(concatBytes(HEIGHT, id), new Uint8Array(0)), ...eventEntryPuts(EVENT, id, events, RESERVED)];
      await this.writeBatch(ops, this.sync);
    });
  }

  /** Has block `height` been indexed? (The indexer service re-indexes after a crash from here.) */
  async has(height: number): Promise<boolean> {
    return (await this.getRaw(concatBytes(HEIGHT, u64(height)))) !== undefined;
  }

  /** block_search: the matching heights of the requested page and the total count. */
  async search(query: string | Query, opts: SearchOptions = {}): Promise<SearchResult<number>> {
    const q = typeof query === 'string' ? parseQuery(query) : query;
    const desc = descending(opts.orderBy);
    const heightConds = q.conditions.filter((c) => c.key === BLOCK_HEIGHT_KEY);
    const eventConds = q.conditions.filter((c) => c.key !== BLOCK_HEIGHT_KEY);
    const heightOk = (h: number): boolean => heightConds.every((c) => conditionMatchesValue(c, String(h)));

    let heights: number[];
    if (eventConds.length > 0) {
      const ids = await matchEventConditions(this.db, EVENT, ID_LENGTH, eventConds, {
        accept: (id) => heightOk(readU64(id, 0)),
        maxMatches: this.maxMatches,
      });
      heights = ids.map((id) => readU64(id, 0));
    } else {
      heights = [];
      const { lo, hi } = heightRange(heightConds);
      if (lo <= hi) {
        const end = hi >= Number.MAX_SAFE_INTEGER ? concatBytes(HEIGHT, new Uint8Array(8).fill(0xff)) : concatBytes(HEIGHT, u64(hi + 1));
        for await (const key of this.db.keys({ gte: concatBytes(HEIGHT, u64(lo)), lt: end })) {
          const h = readU64(Uint8Array.from(key), HEIGHT.length);
          if (!heightOk(h)) continue;
          heights.push(h);
          if (heights.length > this.maxMatches)
            throw new StoreError('too_many_results', `query matches more than ${this.maxMatches} blocks; narrow it`, { maxMatches: this.maxMatches });
        }
      }
    }
    heights.sort((a, b) => (desc ? b - a : a - b));
    const { offset, limit } = pageWindow(heights.length, opts);
    return { total: heights.length, items: heights.slice(offset, offset + limit) };
  }
}
