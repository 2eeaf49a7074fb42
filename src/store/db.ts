// What every store shares: a classic-level database of byte keys and values, opened and closed
// with the component, writers serialised, stored bytes decoded into StoreError('corrupt') on
// failure, and binary key helpers (heights big-endian, so key order is height order).
import { ClassicLevel } from 'classic-level';
import { DecodeError, decodeWith, packSmall, writeU32, type ProtoReader } from '../codec/index.js';
import { StoreError } from './errors.js';

export type LevelDb = ClassicLevel<Uint8Array, Uint8Array>;

/**
 * LevelDB's defaults (4 MiB memtable, snappy) cost the 4-validator benchmark's nodes ~11 % of
 * their CPU in compaction at 1024 clients (perf); a 32 MiB memtable (fewer, larger level-0 files
 * to merge) and no snappy (txs are mostly incompressible; it also ran on every read) measured
 * +16–18 % tx/s in interleaved runs, for ~100 MB more RSS under that load. A memtable holds only
 * what was written, so a quiet node does not grow.
 */
export const LEVEL_OPTIONS = { compression: false, writeBufferSize: 32 * 1024 * 1024 } as const;

/** A database with Uint8Array keys and values ('view' encodings), not yet opened. */
export function createLevelDb(path: string): LevelDb {
  return new ClassicLevel<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view', ...LEVEL_OPTIONS });
}

export type BatchOp = { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array } | { readonly type: 'del'; readonly key: Uint8Array };

export const put = (key: Uint8Array, value: Uint8Array): BatchOp => ({ type: 'put', key, value });
export const del = (key: Uint8Array): BatchOp => ({ type: 'del', key });

export interface StoreModules {
  /**
   * A database shared with other components (e.g. the tx and block indexes in one directory,
   * as CometBFT keeps them). Its owner closes it; the store only opens it if needed.
   */
  readonly db?: LevelDb;
}

export abstract class LevelStore {
  private handle: LevelDb | undefined;
  private writes: Promise<unknown> = Promise.resolve();

  protected constructor(
    private readonly storeName: string,
    private readonly path: string | undefined,
    private readonly shared: LevelDb | undefined,
  ) {
    if (path === undefined && shared === undefined) throw new StoreError('invalid_argument', `${storeName}: needs a path or a database`);
  }

  async open(): Promise<void> {
    if (this.handle) return;
    const db = this.shared ?? createLevelDb(this.path!);
    await db.open();
    this.handle = db;
    try {
      await this.afterOpen();
    } catch (e) {
      this.handle = undefined;
      if (!this.shared) await db.close();
      throw e;
    }
  }

  /** Load in-memory state after the database is open. */
  protected async afterOpen(): Promise<void> {}

  /** Waits for pending writes, then closes the database if this store opened it. */
  async close(): Promise<void> {
    const db = this.handle;
    if (!db) return;
    await this.writes;
    this.handle = undefined;
    if (!this.shared) await db.close();
  }

  get isOpen(): boolean {
    return this.handle !== undefined;
  }

  protected get db(): LevelDb {
    if (!this.handle) throw new StoreError('not_open', `${this.storeName} is not open`);
    return this.handle;
  }

  /**
   * Run `fn` after every earlier exclusive call has finished: writers that read, then write
   * derived state (base/height) must not interleave across their awaits.
   */
  protected exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writes.then(fn);
    this.writes = run.catch(() => undefined);
    return run;
  }

  /**
   * One atomic LevelDB write; `sync` waits for fsync (durability before acknowledgement). To this
   * store's database, or to `db` (a second database the store keeps).
   */
  protected async writeBatch(ops: readonly BatchOp[], sync: boolean, db: LevelDb = this.db): Promise<void> {
    if (ops.length === 0) return;
    // The chained form: abstract-level's array form validates and copies every operation and
    // measured 8x slower here (200 ms against 26 ms for 10,000 puts).
    // small keys and values moved into one buffer first (see codec/slab.ts): one allocation per
    // batch instead of one per key that LevelDB's binding touches
    const bytes: Uint8Array[] = [];
    for (const o of ops) {
      bytes.push(o.key);
      if (o.type === 'put') bytes.push(o.value);
    }
    const packed = packSmall(bytes);
    const batch = db.batch();
    let i = 0;
    for (const o of ops) {
      if (o.type === 'put') {
        batch.put(packed[i]!, packed[i + 1]!);
        i += 2;
      } else batch.del(packed[i++]!);
    }
    await batch.write({ sync });
  }

  protected async getRaw(key: Uint8Array): Promise<Uint8Array | undefined> {
    const v = await this.db.get(key);
    return v === undefined ? undefined : Uint8Array.from(v);
  }

  /** Many keys in one round trip to the database (one await per key costs a thread-pool hop each). */
  protected async getManyRaw(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (keys.length === 0) return [];
    const values = await this.db.getMany(packSmall(keys));
    return values.map((v) => (v === undefined ? undefined : Uint8Array.from(v)));
  }

  /** Decode stored bytes; a failure means the database is damaged, so it says which record. */
  protected decode<T>(what: string, bytes: Uint8Array, read: (r: ProtoReader) => T, context: Record<string, unknown> = {}): T {
    try {
      return decodeWith(what, bytes, read);
    } catch (e) {
      if (e instanceof DecodeError) throw new StoreError('corrupt', `${this.storeName}: cannot decode ${what}: ${e.message}`, { ...context, path: e.path });
      throw e;
    }
  }

  /** Keys (copied) in [gte, lt), optionally newest first, at most `limit`. */
  protected async keysIn(gte: Uint8Array, lt: Uint8Array, opts: { reverse?: boolean; limit?: number } = {}): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for await (const k of this.db.keys({ gte, lt, reverse: opts.reverse ?? false, limit: opts.limit ?? -1 })) out.push(Uint8Array.from(k));
    return out;
  }
}

// ---- keys ------------------------------------------------------------------------------------

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export const ascii = (s: string): Uint8Array => utf8.encode(s);

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function u64(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new StoreError('invalid_argument', `not a height: ${n}`, { value: n });
  // Written byte by byte: a DataView per key was a tenth of indexing time.
  const b = new Uint8Array(8);
  const hi = Math.floor(n / 0x100000000);
  const lo = n >>> 0;
  b[0] = hi >>> 24;
  b[1] = (hi >>> 16) & 0xff;
  b[2] = (hi >>> 8) & 0xff;
  b[3] = hi & 0xff;
  b[4] = lo >>> 24;
  b[5] = (lo >>> 16) & 0xff;
  b[6] = (lo >>> 8) & 0xff;
  b[7] = lo & 0xff;
  return b;
}

export function u32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new StoreError('invalid_argument', `not a uint32: ${n}`, { value: n });
  const out = new Uint8Array(4);
  writeU32(out, 0, n);
  return out;
}

// Read byte by byte: a DataView needs `b.buffer`, which first moves a small (on-heap) array into
// a buffer of its own (see codec/slab.ts), and the lists and pointers read here are small.
export function readU64(b: Uint8Array, off: number): number {
  if (off < 0 || off + 8 > b.length) throw new RangeError(`offset ${off} + 8 is outside ${b.length} bytes`);
  // rounded once, at the addition, as Number(bigint) rounds
  return readU32(b, off) * 0x100000000 + readU32(b, off + 4);
}

export function readU32(b: Uint8Array, off: number): number {
  if (off < 0 || off + 4 > b.length) throw new RangeError(`offset ${off} + 4 is outside ${b.length} bytes`);
  return b[off]! * 0x1000000 + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!);
}

const newBytes = (n: number): Uint8Array => new Uint8Array(n);

/** A string inside a key: 4-byte length, then UTF-8, so no separator can be forged by content. */
export function keyString(s: string, alloc: (n: number) => Uint8Array = newBytes): Uint8Array {
  // most attribute keys and values are short ASCII: written directly, without Buffer's machinery
  if (s.length < 256) {
    const out = alloc(4 + s.length);
    writeU32(out, 0, s.length);
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      out[4 + i] = c;
    }
    if (i === s.length) return out;
  }
  const n = Buffer.byteLength(s, 'utf8');
  const out = alloc(4 + n);
  writeU32(out, 0, n);
  Buffer.from(out.buffer, out.byteOffset + 4, n).write(s, 'utf8');
  return out;
}

/** Reads a keyString at `off`; returns the string and the offset after it, or undefined if malformed. */
export function readKeyString(b: Uint8Array, off: number): { value: string; end: number } | undefined {
  if (off + 4 > b.length) return undefined;
  const n = readU32(b, off);
  if (off + 4 + n > b.length) return undefined;
  try {
    return { value: utf8Decoder.decode(b.subarray(off + 4, off + 4 + n)), end: off + 4 + n };
  } catch {
    return undefined;
  }
}

/** The least key greater than every key starting with `prefix` (the `lt` bound of a prefix scan). */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const out = Uint8Array.from(prefix);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]! < 0xff) {
      out[i] = out[i]! + 1;
      return out.subarray(0, i + 1);
    }
  }
  // All 0xff: no finite bound; a key of 0xff bytes one longer than any we write does.
  return new Uint8Array(prefix.length + 64).fill(0xff);
}
