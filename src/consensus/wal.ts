// The consensus write-ahead log: what the node saw and did in the current height, so a restart
// resumes where it stopped.
//
// The file is allocated once (zeros written, not a sparse hole) and written in place: appending a
// record and starting a new height change neither its size nor its blocks, so an fdatasync
// flushes data only. An append that grew the file, or a truncation per height, would also commit
// the file's metadata through the filesystem journal — one queue shared by every process on the
// disk (a testnet's four validators). Growth happens only when a height's records outgrow the file.
//
// Layout: a 16-byte file header (magic, version), then frames
//   [crc32 (4, BE) | length (4, BE) | epoch (8) | payload]
// with the CRC over everything after it (length ‖ epoch ‖ payload). Each log has a random
// epoch; reading takes frames from the start while they are intact and carry the first frame's
// epoch. What follows — zeros, frames of an older log, a frame torn by a crash — ends the log.
// The epoch is random, not a counter, because after a crash frames of a newer log may sit further
// in the file while its start still holds an older one; a counter could later repeat and let such
// a frame continue a log. For the same reason an epoch is written once, front to back: opening a
// file that holds records rewrites them under a new epoch (atomically, beside it), so that frames
// a crash left beyond the end — appended but never synced — cannot be read back later behind
// records appended after the restart.
//
// What survives a crash is a prefix of one log, never a mix of two: of the current height's,
// at least what was appended up to its last sync (unsynced records are written in batches); after a reset and before the next sync, possibly
// only a prefix of the previous height's (see reset). A torn or corrupt frame of the current log —
// the normal result of a crash mid-write — is reported and dropped; it never stops the node from
// starting (a CometBFT pain point). Files of the earlier formats (1: appended [crc32 | length | payload] frames without a
// header; 2: this layout with the CRC over epoch ‖ payload only) are read and rewritten in this one.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { replaceFileSync } from '../fsutil/index.js';

const MAGIC = Buffer.from('TALLYWAL', 'ascii');
const VERSION = 3;
/** The previous version with a file header; read, then rewritten as VERSION. */
const VERSION_2 = 2;
const FILE_HEADER = 16;
const FRAME_HEADER = 16;
const OLD_FRAME_HEADER = 8;
/** Allocation unit: room for a height's votes and several blocks of ordinary size. */
const CHUNK = 1024 * 1024;
/** Unsynced records are written after at most this long, or once this many bytes wait. */
const FLUSH_MS = 50;
const FLUSH_BYTES = 256 * 1024;
/**
 * Default bound on one record: a whole block is one record, so this is CometBFT's absolute
 * maximum block size (100 MiB) plus room for the record's own fields. A length beyond it can
 * only be corruption.
 */
export const DEFAULT_MAX_RECORD_BYTES = 100 * 1024 * 1024 + 64 * 1024;

export class WALError extends Error {
  override readonly name = 'WALError';
  constructor(
    message: string,
    readonly path: string,
    readonly context: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(`${path}: ${message}`, options);
  }
}

/** What opening found: the records of the current height, and what (if anything) was cut off. */
export interface WALOpenResult {
  readonly wal: WAL;
  readonly records: Uint8Array[];
  readonly truncated?: { readonly offset: number; readonly droppedBytes: number; readonly reason: string };
}

type Truncated = NonNullable<WALOpenResult['truncated']>;

/** What a file holds: its records, and where reading stopped at damage (not at a clean end). */
interface Found {
  readonly records: Uint8Array[];
  readonly torn?: Truncated;
}

/** Where the log goes on: its epoch, where the next frame goes, the allocated size. */
interface Place {
  readonly epoch: Buffer;
  readonly end: number;
  readonly size: number;
}

/** CRC of a frame from its length field on; version 2 left the length out. */
function frameCrc(buf: Buffer, off: number, len: number, version: number): number {
  if (version === VERSION_2) return crc32(buf.subarray(off + FRAME_HEADER, off + FRAME_HEADER + len), crc32(buf.subarray(off + 8, off + FRAME_HEADER)));
  return crc32(buf.subarray(off + 4, off + FRAME_HEADER + len));
}

/** Frames with a file header, from FILE_HEADER up to the first that does not continue the log. */
function scan(buf: Buffer, version: number, maxRecordBytes: number): Found {
  const records: Uint8Array[] = [];
  let off = FILE_HEADER;
  let epoch: Buffer | undefined;
  const torn = (reason: string, dropped: number): Found => ({ records, torn: { offset: off, droppedBytes: dropped, reason } });
  while (buf.length - off >= FRAME_HEADER) {
    const crc = buf.readUInt32BE(off);
    const len = buf.readUInt32BE(off + 4);
    const e = buf.subarray(off + 8, off + 16);
    if (e.every((b) => b === 0)) break; // never-written space: the clean end
    if (epoch && !e.equals(epoch)) break; // a frame of an older log: the clean end
    if (len > maxRecordBytes) return torn(`record length ${len} exceeds ${maxRecordBytes}`, FRAME_HEADER);
    if (buf.length - off - FRAME_HEADER < len) return torn('incomplete record', buf.length - off);
    if (frameCrc(buf, off, len, version) !== crc) {
      // a bad first frame is as likely stale bytes as a torn write: only a later one is reported
      if (!epoch) break;
      return torn('checksum mismatch', FRAME_HEADER + len);
    }
    epoch ??= Buffer.from(e);
    records.push(new Uint8Array(buf.subarray(off + FRAME_HEADER, off + FRAME_HEADER + len)));
    off += FRAME_HEADER + len;
  }
  // an allocated file always has a frame header's room after its last frame: a short tail was cut off
  if (epoch && off < buf.length && buf.length - off < FRAME_HEADER) return torn('incomplete frame header', buf.length - off);
  return { records };
}

/** Format 1: appended [crc32 | length | payload] frames, no file header; damage is only ever at the tail. */
function scanOld(buf: Buffer, maxRecordBytes: number): Found {
  const records: Uint8Array[] = [];
  let off = 0;
  const torn = (reason: string): Found => ({ records, torn: { offset: off, droppedBytes: buf.length - off, reason } });
  while (off < buf.length) {
    if (buf.length - off < OLD_FRAME_HEADER) return torn('incomplete frame header');
    const crc = buf.readUInt32BE(off);
    const len = buf.readUInt32BE(off + 4);
    if (len > maxRecordBytes) return torn(`record length ${len} exceeds ${maxRecordBytes}`);
    if (buf.length - off - OLD_FRAME_HEADER < len) return torn('incomplete record');
    const payload = buf.subarray(off + OLD_FRAME_HEADER, off + OLD_FRAME_HEADER + len);
    if (crc32(payload) !== crc) return torn('checksum mismatch');
    records.push(new Uint8Array(payload));
    off += OLD_FRAME_HEADER + len;
  }
  return { records };
}

/** The records of any format this version reads, with whether the file is already in the current one. */
function parse(path: string, buf: Buffer, maxRecordBytes: number): Found & { readonly current: boolean } {
  // a format-1 file cannot start with the magic: its length field would be 'YWAL', over any bound
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return { ...scanOld(buf, maxRecordBytes), current: false };
  if (buf.length < FILE_HEADER) throw new WALError('incomplete file header', path, { size: buf.length });
  const version = buf.readUInt32BE(8);
  if (version !== VERSION && version !== VERSION_2) throw new WALError(`unsupported WAL version ${version}`, path, { version, supported: [VERSION_2, VERSION] });
  return { ...scan(buf, version, maxRecordBytes), current: version === VERSION };
}

function newEpoch(): Buffer {
  for (;;) {
    const e = randomBytes(8);
    if (!e.every((b) => b === 0)) return e; // zeros mark never-written space
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, position + off);
}

/** Writes zeros over [from, to): the file's blocks are allocated now, not at the first record. */
function allocate(fd: number, from: number, to: number): void {
  const zeros = Buffer.alloc(Math.min(CHUNK, to - from));
  for (let pos = from; pos < to; pos += zeros.length) writeAll(fd, zeros.subarray(0, Math.min(zeros.length, to - pos)), pos);
}

function fileHeader(): Buffer {
  const h = Buffer.alloc(FILE_HEADER);
  MAGIC.copy(h, 0);
  h.writeUInt32BE(VERSION, 8);
  return h;
}

function frame(epoch: Uint8Array, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  out.writeUInt32BE(payload.length, 4);
  out.set(epoch, 8);
  out.set(payload, FRAME_HEADER);
  out.writeUInt32BE(crc32(out.subarray(4)), 0);
  return out;
}

/**
 * Replaces `path` atomically with a new allocated file holding `records` under a new epoch:
 * durable on return, so a crash leaves the old file or the new one.
 */
function create(path: string, records: readonly Uint8Array[]): Place {
  const epoch = newEpoch();
  const frames = records.map((r) => frame(epoch, r));
  const end = FILE_HEADER + frames.reduce((n, f) => n + f.length, 0);
  const size = Math.ceil((end + FRAME_HEADER) / CHUNK) * CHUNK;
  replaceFileSync(
    path,
    (fd) => {
      allocate(fd, 0, size);
      writeAll(fd, fileHeader(), 0);
      let pos = FILE_HEADER;
      for (const f of frames) {
        writeAll(fd, f, pos);
        pos += f.length;
      }
    },
    0o600,
    `${path}.new`,
  );
  return { epoch, end, size };
}

/** A failed file operation as a WALError naming the file, with the system error code and `context`. */
function ioError(what: string, path: string, e: unknown, context: Record<string, unknown> = {}): WALError {
  if (e instanceof WALError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const message = e instanceof Error ? e.message : String(e);
  return new WALError(`${what}: ${message}`, path, code === undefined ? context : { code, ...context }, { cause: e });
}

export class WAL {
  private fd: number | undefined;
  /** Bytes written since the last fdatasync. */
  private dirty = false;
  /** Frames appended but not yet written, which start at file offset pendingAt. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingAt = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private epoch: Buffer;
  private pos: number;
  private size: number;

  private constructor(
    readonly path: string,
    private readonly maxRecordBytes: number,
    place: Place,
  ) {
    this.epoch = place.epoch;
    this.pos = place.end;
    this.size = place.size;
    this.fd = openSync(path, 'r+');
  }

  /**
   * Opens (creating if needed), reading the current height's records. A file that holds records,
   * or is of an earlier format, is rewritten first (see the top of this file).
   */
  static open(path: string, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): WALOpenResult {
    try {
      if (!existsSync(path)) {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        return { wal: new WAL(path, maxRecordBytes, create(path, [])), records: [] };
      }
      const buf = readFileSync(path);
      const found = parse(path, buf, maxRecordBytes);
      // nothing to keep: a new epoch is enough to leave whatever the file holds behind
      const place = found.current && found.records.length === 0 ? { epoch: newEpoch(), end: FILE_HEADER, size: buf.length } : create(path, found.records);
      const wal = new WAL(path, maxRecordBytes, place);
      return found.torn ? { wal, records: found.records, truncated: found.torn } : { wal, records: found.records };
    } catch (e) {
      throw ioError('cannot open the WAL', path, e);
    }
  }

  private get handle(): number {
    if (this.fd === undefined) throw new WALError('write after close', this.path);
    return this.fd;
  }

  /**
   * Appends a record; with `sync`, it is on disk when this returns (for what a restart depends on).
   * Without, it is kept in memory and written with the next sync, after FLUSH_MS, or once FLUSH_BYTES
   * wait, in one write: a height's received votes and parts cost one system call, not one each.
   * Such records were never promised to survive a crash (they were in the page cache, not on disk);
   * what they now risk in a process crash is the same: peers send them again.
   */
  append(record: Uint8Array, sync: boolean): void {
    if (record.length > this.maxRecordBytes)
      throw new WALError('record too large', this.path, { size: record.length, max: this.maxRecordBytes });
    if (this.fd === undefined) throw new WALError('write after close', this.path);
    const bytes = frame(this.epoch, record);
    if (this.pending.length === 0) this.pendingAt = this.pos;
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.pos += bytes.length;
    this.dirty = true;
    if (sync) this.sync();
    else if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      if (this.fd !== undefined) this.flush();
    }, FLUSH_MS).unref();
  }

  /**
   * Writes the records kept in memory to the file, without fdatasync: they survive the process
   * being killed, not a power cut.
   */
  flush(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.pending.length === 0) return;
    const fd = this.handle;
    const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    // room for these frames and a frame header after them, so the end is always zeros or stale bytes
    const need = this.pendingAt + bytes.length + FRAME_HEADER;
    try {
      if (need > this.size) {
        // the new size reaches the disk with the next fdatasync, which then commits metadata once
        const size = Math.max(this.size * 2, Math.ceil(need / CHUNK) * CHUNK);
        allocate(fd, this.size, size);
        this.size = size;
      }
      writeAll(fd, bytes, this.pendingAt);
    } catch (e) {
      throw ioError('append failed', this.path, e, { offset: this.pendingAt, bytes: bytes.length, size: this.size });
    }
  }

  /** Makes everything appended so far durable; free when nothing was appended since the last sync. */
  sync(): void {
    if (!this.dirty) return;
    this.flush();
    const fd = this.handle;
    try {
      fdatasyncSync(fd);
    } catch (e) {
      throw ioError('fdatasync failed', this.path, e);
    }
    this.dirty = false;
  }

  /**
   * Starts an empty log for a new height (the block store now holds what the old records
   * recorded): a new epoch from the first frame on, nothing written. Not synced by itself: until
   * the next sync, a crash leaves a prefix of the old height's records (of a height already
   * stored, so ignored at start) or of the new height's, never a mix.
   */
  reset(): void {
    // records not yet written belong to the height just stored: they need not be written at all
    this.pending = [];
    this.pendingBytes = 0;
    this.epoch = newEpoch();
    this.pos = FILE_HEADER;
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
