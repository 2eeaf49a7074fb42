// How the kvstore lays its state out in classic-level, and the working copy a block mutates.
//
//   0x00                    meta: version 1 ‖ height u64 ‖ entries u64 ‖ LtHash16 state (2048 B)
//   0x01 ‖ 'k' ‖ key        a key-value pair
//   0x01 ‖ 'v' ‖ pubkey     a validator; value = its power in decimal ASCII
//
// The part after 0x01 is the *state key*: the unit of the app hash and of snapshots. Meta is
// written in the same batch as the block's writes, so height, hash and data never disagree.
import type { ClassicLevel } from 'classic-level';
import { ByteSlab, ON_HEAP_MAX, packSmall, writeU32 } from '../../codec/index.js';
import { LTHASH_BYTES, LtHash16 } from './lthash.js';

export type KVDatabase = ClassicLevel<Uint8Array, Uint8Array>;

export const META_KEY = Uint8Array.of(0x00);
export const STATE_PREFIX = 0x01;
export const STATE_RANGE = { gte: Uint8Array.of(STATE_PREFIX), lt: Uint8Array.of(STATE_PREFIX + 1) } as const;
export const NS_KV = 0x6b; // 'k'
export const NS_VALIDATOR = 0x76; // 'v'

export class KVStoreError extends Error {
  override readonly name = 'KVStoreError';
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function prefixed(prefix: number, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(rest.length + 1);
  out[0] = prefix;
  out.set(rest, 1);
  return out;
}

export const kvStateKey = (key: Uint8Array): Uint8Array => prefixed(NS_KV, key);
export const validatorStateKey = (pubKey: Uint8Array): Uint8Array => prefixed(NS_VALIDATOR, pubKey);
export const dbKey = (stateKey: Uint8Array): Uint8Array => prefixed(STATE_PREFIX, stateKey);

/** A plain Uint8Array view of what classic-level returns (a Buffer), for callers that compare bytes. */
export function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** The LtHash element of a state entry: a length-prefixed (state key, value) pair, unambiguous. */
export function stateElement(stateKey: Uint8Array, value: Uint8Array): Uint8Array {
  return writeElement(new Uint8Array(8 + stateKey.length + value.length), stateKey, value);
}

function writeElement(out: Uint8Array, stateKey: Uint8Array, value: Uint8Array): Uint8Array {
  writeU32(out, 0, stateKey.length);
  out.set(stateKey, 4);
  writeU32(out, 4 + stateKey.length, value.length);
  out.set(value, 8 + stateKey.length);
  return out;
}

let scratch = new Uint8Array(new ArrayBuffer(1024));

/**
 * stateElement in a buffer that the next call reuses, for an element hashed at once: a write
 * hashes one or two elements, and a fresh buffer each was a malloc, a sweep and a free apiece.
 */
function scratchElement(stateKey: Uint8Array, value: Uint8Array): Uint8Array {
  const n = 8 + stateKey.length + value.length;
  if (n > scratch.length) scratch = new Uint8Array(new ArrayBuffer(Math.max(n, 2 * scratch.length)));
  return writeElement(scratch.subarray(0, n), stateKey, value);
}

export interface CommittedState {
  readonly height: number;
  readonly entries: number;
  readonly ltHash: LtHash16;
}

export const EMPTY_COMMITTED: CommittedState = { height: 0, entries: 0, ltHash: LtHash16.empty() };

const META_VERSION = 1;
const META_SIZE = 1 + 8 + 8 + LTHASH_BYTES;

export function encodeMeta(s: CommittedState): Uint8Array {
  const out = new Uint8Array(META_SIZE);
  const dv = new DataView(out.buffer);
  out[0] = META_VERSION;
  dv.setBigUint64(1, BigInt(s.height));
  dv.setBigUint64(9, BigInt(s.entries));
  out.set(s.ltHash.toBytes(), 17);
  return out;
}

export function decodeMeta(b: Uint8Array): CommittedState {
  if (b.length !== META_SIZE || b[0] !== META_VERSION) {
    throw new KVStoreError('kvstore meta record is corrupt or of an unknown version', { length: b.length, version: b[0] });
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const height = Number(dv.getBigUint64(1));
  const entries = Number(dv.getBigUint64(9));
  if (!Number.isSafeInteger(height) || !Number.isSafeInteger(entries)) throw new KVStoreError('kvstore meta record out of range', { height, entries });
  return { height, entries, ltHash: LtHash16.fromBytes(b.subarray(17)) };
}

export interface StagedWrite {
  readonly key: Uint8Array;
  /** null deletes. */
  readonly value: Uint8Array | null;
}

/**
 * The state as a block changes it: committed data underneath, staged writes on top, and the
 * LtHash and entry count kept current write by write (remove the old element, add the new one).
 * Nothing reaches the database until commit writes `writes` in one batch.
 */
export class WorkingState {
  readonly writes = new Map<string, StagedWrite>();
  /** Committed values already read: the database does not change while a block executes. */
  private readonly reads = new Map<string, Uint8Array | null>();
  private readonly slab = new ByteSlab();

  constructor(
    private readonly db: KVDatabase,
    readonly ltHash: LtHash16,
    public entries: number,
  ) {}

  static over(db: KVDatabase, base: CommittedState): WorkingState {
    return new WorkingState(db, base.ltHash.clone(), base.entries);
  }

  clone(): WorkingState {
    const w = new WorkingState(this.db, this.ltHash.clone(), this.entries);
    for (const [k, v] of this.writes) w.writes.set(k, v);
    for (const [k, v] of this.reads) w.reads.set(k, v);
    return w;
  }

  /** The value of map key `k` if known without the database (staged, or read before). */
  private known(k: string): Uint8Array | null | undefined {
    const staged = this.writes.get(k);
    return staged !== undefined ? staged.value : this.reads.get(k);
  }

  private async read(k: string, stateKey: Uint8Array): Promise<Uint8Array | null> {
    const v = await this.db.get(dbKey(stateKey));
    const value = v === undefined ? null : plain(v);
    this.reads.set(k, value);
    return value;
  }

  async get(stateKey: Uint8Array): Promise<Uint8Array | null> {
    const k = mapKey(stateKey);
    const v = this.known(k);
    return v !== undefined ? v : this.read(k, stateKey);
  }

  /** Takes committed values read ahead (see ReadAhead) as if this state had read them. */
  adopt(values: ReadonlyMap<string, Uint8Array | null>): void {
    for (const [k, v] of values) if (!this.reads.has(k)) this.reads.set(k, v);
  }

  /** Reads the committed values of many keys in one database call (a block's worth of txs). */
  async prefetch(stateKeys: readonly Uint8Array[]): Promise<void> {
    const missing = stateKeys.filter((key) => {
      const k = mapKey(key);
      return !this.writes.has(k) && !this.reads.has(k);
    });
    if (missing.length === 0) return;
    const values = await this.db.getMany(packSmall(missing.map(dbKey)));
    missing.forEach((key, i) => {
      const v = values[i];
      this.reads.set(mapKey(key), v === undefined ? null : plain(v));
    });
  }

  async set(stateKey: Uint8Array, value: Uint8Array | null): Promise<void> {
    const k = mapKey(stateKey);
    const old = this.known(k);
    this.write(k, stateKey, old !== undefined ? old : await this.read(k, stateKey), value);
  }

  /**
   * set() without waiting, when the old value is known (staged or prefetched); false, and
   * nothing done, when it must be read first. A block's txs, prefetched, take no await each.
   */
  trySet(stateKey: Uint8Array, value: Uint8Array | null): boolean {
    const k = mapKey(stateKey);
    const old = this.known(k);
    if (old === undefined) return false;
    this.write(k, stateKey, old, value);
    return true;
  }

  private write(k: string, stateKey: Uint8Array, old: Uint8Array | null, value: Uint8Array | null): void {
    if (old !== null) {
      this.ltHash.remove(scratchElement(stateKey, old));
      this.entries--;
    }
    if (value !== null) {
      this.ltHash.add(scratchElement(stateKey, value));
      this.entries++;
    }
    // copies: a tx's bytes belong to the caller, who may reuse the buffer (into the block's slab:
    // they live until its commit)
    this.writes.set(k, { key: this.slab.copy(stateKey), value: value === null ? null : this.slab.copy(value) });
  }
}

/** Keys read ahead per committed version at most: a bound on memory under many rounds. */
export const READ_AHEAD_MAX_KEYS = 100_000;

/**
 * Committed values read before FinalizeBlock needs them. A proposal's keys are read when it is
 * prepared or processed, while the votes on it run, so executing the decided block finds them
 * in memory instead of waiting for the database (a thread-pool round trip: ~2 ms of a height's
 * critical path on a busy machine). Valid for one committed version: the app drops it before
 * it writes the next, and a read still running then is discarded when it lands.
 */
export class ReadAhead {
  private readonly values = new Map<string, Uint8Array | null>();
  private readonly requested = new Set<string>();
  private readonly reading: Promise<void>[] = [];
  private dropped = false;

  constructor(
    private readonly db: KVDatabase,
    /** The committed height these values belong to. */
    readonly height: number,
  ) {}

  /** Starts reading the keys not asked for yet; never throws (finalize reads what is missing). */
  start(stateKeys: readonly Uint8Array[]): void {
    if (this.dropped) return;
    const missing: Uint8Array[] = [];
    const ids: string[] = [];
    for (const key of stateKeys) {
      const k = mapKey(key);
      if (this.requested.has(k)) continue;
      this.requested.add(k);
      missing.push(key);
      ids.push(k);
    }
    if (missing.length === 0 || this.requested.size > READ_AHEAD_MAX_KEYS) return;
    const read = this.db.getMany(packSmall(missing.map(dbKey))).then(
      (values) => {
        if (this.dropped) return;
        ids.forEach((k, i) => {
          const v = values[i];
          this.values.set(k, v === undefined ? null : plain(v));
        });
      },
      () => {}, // finalize reads these keys itself
    );
    this.reading.push(read);
  }

  /** Waits for the reads started, then hands their values to `work`. */
  async into(work: WorkingState): Promise<void> {
    if (this.dropped) return;
    await Promise.all(this.reading);
    if (!this.dropped) work.adopt(this.values);
  }

  /** The committed state is about to change: nothing read so far, or landing later, is used. */
  drop(): void {
    this.dropped = true;
    this.values.clear();
  }
}

/** A one-to-one string form of bytes, for Map keys. */
function mapKey(b: Uint8Array): string {
  // read in place: `b.buffer` would first move a small (on-heap) array into a buffer of its own.
  // apply, not a spread: a spread walks the iterator protocol (an object per byte; 3x the time)
  if (b.length <= ON_HEAP_MAX) return String.fromCharCode.apply(null, b as unknown as number[]);
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}
