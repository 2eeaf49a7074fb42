// Snapshot format 1 of the kvstore, and the on-disk store of snapshots.
//
// The state is serialized as one byte stream, cut into chunks of `chunkSize` bytes (the last one
// shorter); records may straddle chunks, so a chunk is only meaningful after the ones before it:
//
//   header   "TKVS" ‖ format (u8 = 1) ‖ height (u64 big-endian)
//   entry*   uvarint(len key) ‖ key ‖ uvarint(len value) ‖ value     len key ≥ 1, keys ascending
//   trailer  uvarint(0) ‖ uvarint(number of entries)
//
// Keys are the app's state keys (namespace byte + raw key), in strictly ascending byte order, so
// a state has exactly one serialization and equal states give byte-equal snapshots. metadata is
// the concatenated SHA-256 of every chunk, so each chunk is checked on arrival; the snapshot hash
// is SHA-256(metadata).
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesEqual, compareBytes, sha256 } from '../../crypto/index.js';
import { fsyncDir } from '../../fsutil/index.js';
import type { Snapshot } from '../../abci/index.js';

export const SNAPSHOT_FORMAT = 1;
export const DEFAULT_CHUNK_SIZE = 1 << 20;
/** Longest key or value a restore accepts: a bound on what a hostile snapshot makes us buffer. */
export const MAX_ENTRY_PART_BYTES = 64 << 20;
/** Most chunks a snapshot may declare (100 GiB at the default chunk size). */
export const MAX_SNAPSHOT_CHUNKS = 100_000;
const CHUNK_HASH_SIZE = 32;
const MAGIC = [0x54, 0x4b, 0x56, 0x53]; // "TKVS"
const HEADER_SIZE = MAGIC.length + 1 + 8;

/** A snapshot stream is malformed. Only possible if its producer lied: chunks match their hashes. */
export class SnapshotFormatError extends Error {
  override readonly name = 'SnapshotFormatError';
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export type Entry = readonly [key: Uint8Array, value: Uint8Array];

export { compareBytes };

function uvarint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}

/** Reads a uvarint of at most `maxBytes` bytes; null if the buffer ends first. */
function readUvarint(buf: Uint8Array, pos: number, maxBytes: number): { value: number; next: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < maxBytes; i++) {
    if (pos + i >= buf.length) return null;
    const b = buf[pos + i]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return { value, next: pos + i + 1 };
    scale *= 0x80;
  }
  throw new SnapshotFormatError('varint too long', { offset: pos });
}

function header(height: number): Uint8Array {
  const h = new Uint8Array(HEADER_SIZE);
  h.set(MAGIC, 0);
  h[MAGIC.length] = SNAPSHOT_FORMAT;
  new DataView(h.buffer).setBigUint64(MAGIC.length + 1, BigInt(height));
  return h;
}

/** The chunks of format 1 for a state at `height`; `entries` must come in ascending key order. */
export async function* encodeSnapshot(height: number, entries: AsyncIterable<Entry>, chunkSize: number): AsyncGenerator<Uint8Array> {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunk size must be a positive integer, got ${chunkSize}`);
  let parts: Uint8Array[] = [header(height)];
  let buffered = HEADER_SIZE;
  // cut whole chunks off the buffered parts; the remainder stays buffered
  function* cut(final: boolean): Generator<Uint8Array> {
    if (buffered < chunkSize && !(final && buffered > 0)) return;
    const all = concat(parts, buffered);
    let off = 0;
    while (all.length - off >= chunkSize) {
      yield all.slice(off, off + chunkSize);
      off += chunkSize;
    }
    if (final && off < all.length) {
      yield all.slice(off);
      off = all.length;
    }
    parts = off < all.length ? [all.slice(off)] : [];
    buffered = all.length - off;
  }
  let previous: Uint8Array | null = null;
  let count = 0;
  for await (const [key, value] of entries) {
    if (key.length === 0) throw new SnapshotFormatError('empty key in state');
    if (previous !== null && compareBytes(previous, key) >= 0) throw new SnapshotFormatError('state keys not strictly ascending');
    previous = key;
    count++;
    for (const p of [uvarint(key.length), key, uvarint(value.length), value]) {
      parts.push(p);
      buffered += p.length;
    }
    yield* cut(false);
  }
  const trailer = [uvarint(0), uvarint(count)];
  for (const p of trailer) {
    parts.push(p);
    buffered += p.length;
  }
  yield* cut(true);
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Incremental parser of the format-1 stream: feed chunks in order, get the complete entries each
 * one finishes. Validates everything a producer could get wrong — magic, height, key order,
 * lengths, entry count, trailing bytes — and throws SnapshotFormatError.
 */
export class SnapshotDecoder {
  private carry: Uint8Array = new Uint8Array(0);
  private headerSeen = false;
  private ended = false;
  private count = 0;
  private lastKey: Uint8Array | null = null;

  constructor(readonly height: number) {}

  get entries(): number {
    return this.count;
  }

  push(chunk: Uint8Array): Entry[] {
    if (this.ended) {
      if (chunk.length > 0) throw new SnapshotFormatError('data after the end of the snapshot');
      return [];
    }
    const buf = this.carry.length === 0 ? chunk : concat([this.carry, chunk], this.carry.length + chunk.length);
    let pos = 0;
    if (!this.headerSeen) {
      if (buf.length < HEADER_SIZE) {
        this.carry = buf.slice();
        return [];
      }
      for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) throw new SnapshotFormatError('not a kvstore snapshot (bad magic)');
      if (buf[MAGIC.length] !== SNAPSHOT_FORMAT) throw new SnapshotFormatError('unsupported format', { format: buf[MAGIC.length] });
      const h = new DataView(buf.buffer, buf.byteOffset, buf.length).getBigUint64(MAGIC.length + 1);
      if (h !== BigInt(this.height)) throw new SnapshotFormatError('height in the stream differs from the offered snapshot', { stream: h, offered: this.height });
      pos = HEADER_SIZE;
      this.headerSeen = true;
    }
    const out: Entry[] = [];
    for (;;) {
      const k = readUvarint(buf, pos, 4);
      if (k === null) break;
      if (k.value === 0) {
        const c = readUvarint(buf, k.next, 8);
        if (c === null) break;
        if (c.value !== this.count + out.length) {
          throw new SnapshotFormatError('entry count in the trailer is wrong', { trailer: c.value, seen: this.count + out.length });
        }
        if (c.next !== buf.length) throw new SnapshotFormatError('data after the end of the snapshot');
        this.ended = true;
        pos = c.next;
        break;
      }
      if (k.value > MAX_ENTRY_PART_BYTES) throw new SnapshotFormatError('key too long', { length: k.value });
      const v = readUvarint(buf, k.next + k.value, 4);
      if (v === null) break;
      if (v.value > MAX_ENTRY_PART_BYTES) throw new SnapshotFormatError('value too long', { length: v.value });
      if (v.next + v.value > buf.length) break;
      const key = buf.subarray(k.next, k.next + k.value);
      if (this.lastKey !== null && compareBytes(this.lastKey, key) >= 0) throw new SnapshotFormatError('keys not strictly ascending');
      this.lastKey = key;
      out.push([key, buf.subarray(v.next, v.next + v.value)]);
      pos = v.next + v.value;
    }
    this.count += out.length;
    // copy the unfinished tail so it does not pin the whole buffer
    this.carry = buf.slice(pos);
    if (this.lastKey !== null) this.lastKey = this.lastKey.slice();
    return out;
  }

  /** Throws unless the stream ended exactly with its trailer. */
  finish(): void {
    if (!this.ended) throw new SnapshotFormatError('snapshot stream is truncated', { entries: this.count, pendingBytes: this.carry.length });
  }
}

/** Checks the shape of an offered snapshot's metadata; null if fine, else why not. */
export function checkSnapshotShape(s: Snapshot): string | null {
  if (!Number.isSafeInteger(s.height) || s.height < 1) return `bad height ${s.height}`;
  if (!Number.isSafeInteger(s.chunks) || s.chunks < 1 || s.chunks > MAX_SNAPSHOT_CHUNKS) return `bad chunk count ${s.chunks}`;
  if (s.metadata.length !== s.chunks * CHUNK_HASH_SIZE) return 'metadata is not one hash per chunk';
  if (!bytesEqual(sha256(s.metadata), s.hash)) return 'snapshot hash does not match its metadata';
  return null;
}

/** The expected SHA-256 of chunk `index`, from the snapshot metadata. */
export function chunkHash(metadata: Uint8Array, index: number): Uint8Array {
  return metadata.subarray(index * CHUNK_HASH_SIZE, (index + 1) * CHUNK_HASH_SIZE);
}

// ---------------------------------------------------------------------------------------------
// On-disk store: <dir>/<height>/{0,1,…,manifest.json}, written under <height>.tmp and renamed
// into place once complete, so a listed snapshot is always whole.

interface Manifest {
  height: number;
  format: number;
  chunks: number;
  hash: string;
  metadata: string;
  appHash: string;
}

const MANIFEST = 'manifest.json';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

function manifestFrom(text: string, height: number): Snapshot | null {
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(text) as Partial<Manifest>;
  } catch {
    return null;
  }
  if (m.height !== height || m.format !== SNAPSHOT_FORMAT || typeof m.chunks !== 'number') return null;
  if (typeof m.hash !== 'string' || typeof m.metadata !== 'string') return null;
  const s: Snapshot = { height, format: m.format, chunks: m.chunks, hash: unhex(m.hash), metadata: unhex(m.metadata) };
  return checkSnapshotShape(s) === null ? s : null;
}

async function writeDurable(path: string, data: Uint8Array): Promise<void> {
  const fh = await open(path, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class SnapshotStore {
  private readonly byHeight = new Map<number, Snapshot>();

  private constructor(
    readonly dir: string,
    readonly keepRecent: number,
  ) {}

  /** Opens (creating) the directory, lists complete snapshots and removes unfinished ones. */
  static async open(dir: string, keepRecent: number): Promise<SnapshotStore> {
    if (!Number.isSafeInteger(keepRecent) || keepRecent < 1) throw new RangeError(`snapshotKeepRecent must be ≥ 1, got ${keepRecent}`);
    await mkdir(dir, { recursive: true });
    const store = new SnapshotStore(dir, keepRecent);
    for (const name of await readdir(dir)) {
      if (name.endsWith('.tmp')) {
        await rm(join(dir, name), { recursive: true, force: true });
        continue;
      }
      if (!/^[1-9][0-9]*$/.test(name)) continue;
      const height = Number(name);
      const text = await readFile(join(dir, name, MANIFEST), 'utf8').catch(() => null);
      const s = text === null ? null : manifestFrom(text, height);
      if (s !== null) store.byHeight.set(height, s);
    }
    return store;
  }

  /** Newest first. */
  list(): Snapshot[] {
    return [...this.byHeight.values()].sort((a, b) => b.height - a.height);
  }

  /** Writes a snapshot from its chunks, then prunes to keepRecent. */
  async create(height: number, chunks: AsyncIterable<Uint8Array>, appHash: Uint8Array): Promise<Snapshot> {
    const tmp = join(this.dir, `${height}.tmp`);
    const final = join(this.dir, String(height));
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    const hashes: Uint8Array[] = [];
    for await (const chunk of chunks) {
      await writeDurable(join(tmp, String(hashes.length)), chunk);
      hashes.push(sha256(chunk));
    }
    const metadata = concat(hashes, hashes.length * CHUNK_HASH_SIZE);
    const snapshot: Snapshot = { height, format: SNAPSHOT_FORMAT, chunks: hashes.length, hash: sha256(metadata), metadata };
    const manifest: Manifest = { ...snapshot, hash: hex(snapshot.hash), metadata: hex(metadata), appHash: hex(appHash) };
    await writeDurable(join(tmp, MANIFEST), new TextEncoder().encode(JSON.stringify(manifest)));
    fsyncDir(tmp);
    this.byHeight.delete(height);
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
    fsyncDir(this.dir);
    this.byHeight.set(height, snapshot);
    await this.prune();
    return snapshot;
  }

  /** Chunk `index` of the snapshot, or empty if it is not (or no longer) here. */
  async loadChunk(height: number, format: number, index: number): Promise<Uint8Array> {
    const s = this.byHeight.get(height);
    if (s === undefined || format !== s.format || !Number.isSafeInteger(index) || index < 0 || index >= s.chunks) return new Uint8Array(0);
    try {
      return new Uint8Array(await readFile(join(this.dir, String(height), String(index))));
    } catch {
      // pruned between the lookup and the read
      return new Uint8Array(0);
    }
  }

  private async prune(): Promise<void> {
    for (const s of this.list().slice(this.keepRecent)) {
      // unlist first, so nobody is offered a snapshot that is being deleted
      this.byHeight.delete(s.height);
      await rm(join(this.dir, String(s.height)), { recursive: true, force: true });
    }
  }
}
