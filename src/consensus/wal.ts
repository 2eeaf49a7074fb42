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
// with the CRC over epoch ‖ payload. Each height's log has a random epoch; reading takes frames
// from the start while they are intact and carry the first frame's epoch. What follows — zeros,
// frames of an older height, a frame torn by a crash — ends the log. The epoch is random, not a
// counter, because after a crash frames of a newer height may sit further in the file while its
// start still holds an older one; a counter could later repeat and let such a frame continue a log.
//
// A torn or corrupt frame of the current height — the normal result of a crash mid-write — is
// reported and ignored; it never stops the node from starting (a CometBFT pain point). A file of
// the previous format (frames without header and epoch, appended) is read and rewritten in this one.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { fsyncDir } from '../fsutil/index.js';

const MAGIC = Buffer.from('TALLYWAL', 'ascii');
const VERSION = 2;
const FILE_HEADER = 16;
const FRAME_HEADER = 16;
const OLD_FRAME_HEADER = 8;
/** Allocation unit: room for a height's votes and several blocks of ordinary size. */
const CHUNK = 1024 * 1024;
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
  ) {
    super(`${path}: ${message}`);
  }
}

/** What opening found: the records of the current height, and what (if anything) was cut off. */
export interface WALOpenResult {
  readonly wal: WAL;
  readonly records: Uint8Array[];
  readonly truncated?: { readonly offset: number; readonly droppedBytes: number; readonly reason: string };
}

interface Scan {
  readonly records: Uint8Array[];
  /** Where the next frame goes. */
  readonly end: number;
  /** The epoch to continue with, or undefined when the file holds no records. */
  readonly epoch?: Buffer;
  /** Set when reading stopped at a damaged frame of the current height (not at a clean end). */
  readonly torn?: { readonly reason: string; readonly dropped: number };
}

function frameCrc(epoch: Uint8Array, payload: Uint8Array): number {
  return crc32(payload, crc32(epoch));
}

/** Frames of the current format from FILE_HEADER, up to the first that is not the log's continuation. */
function scan(buf: Buffer, maxRecordBytes: number): Scan {
  const records: Uint8Array[] = [];
  let off = FILE_HEADER;
  let epoch: Buffer | undefined;
  while (buf.length - off >= FRAME_HEADER) {
    const crc = buf.readUInt32BE(off);
    const len = buf.readUInt32BE(off + 4);
    const e = buf.subarray(off + 8, off + 16);
    if (e.every((b) => b === 0)) break; // never-written space: the clean end
    if (epoch && !e.equals(epoch)) break; // a frame of an older height: the clean end
    const torn = (reason: string, dropped: number): Scan => ({ records, end: off, ...(epoch ? { epoch } : {}), torn: { reason, dropped } });
    if (len > maxRecordBytes) return torn(`record length ${len} exceeds ${maxRecordBytes}`, FRAME_HEADER);
    if (buf.length - off - FRAME_HEADER < len) return torn('incomplete record', buf.length - off);
    const payload = buf.subarray(off + FRAME_HEADER, off + FRAME_HEADER + len);
    if (frameCrc(e, payload) !== crc) {
      // a bad first frame is as likely stale bytes as a torn write: only a later one is reported
      if (!epoch) break;
      return torn('checksum mismatch', FRAME_HEADER + len);
    }
    epoch ??= Buffer.from(e);
    records.push(new Uint8Array(payload));
    off += FRAME_HEADER + len;
  }
  // an allocated file always has zeros after its last frame: a short tail was cut off
  if (epoch && off < buf.length && buf.length - off < FRAME_HEADER) return { records, end: off, epoch, torn: { reason: 'incomplete frame header', dropped: buf.length - off } };
  return epoch ? { records, end: off, epoch } : { records, end: off };
}

/** The previous format: appended [crc32 | length | payload] frames, no file header. */
function scanOld(buf: Buffer, maxRecordBytes: number): { records: Uint8Array[]; end: number; reason?: string } {
  const records: Uint8Array[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < OLD_FRAME_HEADER) return { records, end: off, reason: 'incomplete frame header' };
    const crc = buf.readUInt32BE(off);
    const len = buf.readUInt32BE(off + 4);
    if (len > maxRecordBytes) return { records, end: off, reason: `record length ${len} exceeds ${maxRecordBytes}` };
    if (buf.length - off - OLD_FRAME_HEADER < len) return { records, end: off, reason: 'incomplete record' };
    const payload = buf.subarray(off + OLD_FRAME_HEADER, off + OLD_FRAME_HEADER + len);
    if (crc32(payload) !== crc) return { records, end: off, reason: 'checksum mismatch' };
    records.push(new Uint8Array(payload));
    off += OLD_FRAME_HEADER + len;
  }
  return { records, end: off };
}

function newEpoch(): Buffer {
  for (;;) {
    const e = randomBytes(8);
    if (!e.every((b) => b === 0)) return e;
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
  out.writeUInt32BE(frameCrc(epoch, payload), 0);
  out.writeUInt32BE(payload.length, 4);
  out.set(epoch, 8);
  out.set(payload, FRAME_HEADER);
  return out;
}

/** A new, durable, allocated file at `path` (atomically replacing what is there) holding `records`. */
function create(path: string, records: readonly Uint8Array[]): void {
  const tmp = `${path}.new`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    const epoch = newEpoch();
    const frames = records.map((r) => frame(epoch, r));
    const used = FILE_HEADER + frames.reduce((n, f) => n + f.length, 0);
    allocate(fd, 0, Math.ceil((used + FRAME_HEADER) / CHUNK) * CHUNK);
    writeAll(fd, fileHeader(), 0);
    let pos = FILE_HEADER;
    for (const f of frames) {
      writeAll(fd, f, pos);
      pos += f.length;
    }
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

export class WAL {
  private fd: number | undefined;
  /** Bytes written since the last fdatasync. */
  private dirty = false;

  private constructor(
    readonly path: string,
    private readonly maxRecordBytes: number,
    private epoch: Buffer,
    private pos: number,
    private size: number,
  ) {
    this.fd = openSync(path, 'r+');
  }

  /** Opens (creating if needed, converting a file of the previous format), reading the current height's records. */
  static open(path: string, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): WALOpenResult {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      create(path, []);
    }
    let buf = readFileSync(path);
    let truncated: WALOpenResult['truncated'];
    if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) {
      const old = scanOld(buf, maxRecordBytes);
      if (old.reason !== undefined) truncated = { offset: old.end, droppedBytes: buf.length - old.end, reason: old.reason };
      create(path, old.records);
      buf = readFileSync(path);
    } else if (buf.length < FILE_HEADER || buf.readUInt32BE(8) !== VERSION) {
      throw new WALError(`unsupported WAL version ${buf.length < FILE_HEADER ? '(short header)' : buf.readUInt32BE(8)}`, path, { size: buf.length });
    }
    const found = scan(buf, maxRecordBytes);
    // a later torn frame is dropped: the next append overwrites it
    if (found.torn !== undefined) truncated ??= { offset: found.end, droppedBytes: found.torn.dropped, reason: found.torn.reason };
    const wal = new WAL(path, maxRecordBytes, found.epoch ?? newEpoch(), found.end, buf.length);
    return truncated ? { wal, records: found.records, truncated } : { wal, records: found.records };
  }

  private get handle(): number {
    if (this.fd === undefined) throw new WALError('write after close', this.path);
    return this.fd;
  }

  /** Appends a record; with `sync`, it is on disk when this returns (for what a restart depends on). */
  append(record: Uint8Array, sync: boolean): void {
    if (record.length > this.maxRecordBytes)
      throw new WALError('record too large', this.path, { size: record.length, max: this.maxRecordBytes });
    const bytes = frame(this.epoch, record);
    // room for this frame and an empty frame header after it, so the end is always zeros or stale
    const need = this.pos + bytes.length + FRAME_HEADER;
    if (need > this.size) {
      const size = Math.max(this.size * 2, Math.ceil(need / CHUNK) * CHUNK);
      allocate(this.handle, this.size, size);
      this.size = size;
    }
    writeAll(this.handle, bytes, this.pos);
    this.pos += bytes.length;
    this.dirty = true;
    if (sync) this.sync();
  }

  /** Makes everything appended so far durable; free when nothing was appended since the last sync. */
  sync(): void {
    if (!this.dirty) return;
    fdatasyncSync(this.handle);
    this.dirty = false;
  }

  /**
   * Starts an empty log for a new height (the block store now holds what the old records
   * recorded). Not synced by itself: until the next synced append, a crash leaves either the old
   * height's records (of a height already stored, so ignored at start) or the new ones.
   */
  reset(): void {
    this.epoch = newEpoch();
    this.pos = FILE_HEADER;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

}
