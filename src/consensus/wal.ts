// The consensus write-ahead log: what the node saw and did in the current height, so a restart
// resumes where it stopped. Frames are [crc32 (4, BE) | length (4, BE) | payload]. A torn or
// corrupt tail — the normal result of a crash mid-write — is cut off with a warning; it never
// stops the node from starting (a CometBFT pain point).
import { closeSync, existsSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { fsyncDir } from '../fsutil/index.js';
import { dirname } from 'node:path';

const HEADER = 8;
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

/** What opening found: the records of the valid prefix, and what (if anything) was cut off. */
export interface WALOpenResult {
  readonly wal: WAL;
  readonly records: Uint8Array[];
  readonly truncated?: { readonly offset: number; readonly droppedBytes: number; readonly reason: string };
}

function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt32BE(crc32(payload), 0);
  out.writeUInt32BE(payload.length, 4);
  out.set(payload, HEADER);
  return out;
}

/** Reads frames up to the first bad one; returns the records and where the valid prefix ends. */
function scan(buf: Buffer, maxRecordBytes: number): { records: Uint8Array[]; end: number; reason?: string } {
  const records: Uint8Array[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < HEADER) return { records, end: off, reason: 'incomplete frame header' };
    const crc = buf.readUInt32BE(off);
    const len = buf.readUInt32BE(off + 4);
    if (len > maxRecordBytes) return { records, end: off, reason: `record length ${len} exceeds ${maxRecordBytes}` };
    if (buf.length - off - HEADER < len) return { records, end: off, reason: 'incomplete record' };
    const payload = buf.subarray(off + HEADER, off + HEADER + len);
    if (crc32(payload) !== crc) return { records, end: off, reason: 'checksum mismatch' };
    records.push(new Uint8Array(payload));
    off += HEADER + len;
  }
  return { records, end: off };
}

export class WAL {
  private fd: number | undefined;
  /** Bytes written (or a truncation) since the last fdatasync. */
  private dirty = false;

  private constructor(
    readonly path: string,
    private readonly maxRecordBytes: number,
  ) {
    this.fd = openSync(path, 'a');
  }

  /** Opens (creating if needed), truncating a torn or corrupt tail. */
  static open(path: string, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): WALOpenResult {
    const created = !existsSync(path);
    if (created) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const buf = created ? Buffer.alloc(0) : readFileSync(path);
    const { records, end, reason } = scan(buf, maxRecordBytes);
    let truncated: WALOpenResult['truncated'];
    if (reason !== undefined) {
      const fd = openSync(path, 'r+');
      try {
        ftruncateSync(fd, end);
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
      truncated = { offset: end, droppedBytes: buf.length - end, reason };
    }
    const wal = new WAL(path, maxRecordBytes);
    if (created) fsyncDir(dirname(path));
    return truncated ? { wal, records, truncated } : { wal, records };
  }

  private get handle(): number {
    if (this.fd === undefined) throw new WALError('write after close', this.path);
    return this.fd;
  }

  /** Appends a record; with `sync`, it is on disk when this returns (for what a restart depends on). */
  append(record: Uint8Array, sync: boolean): void {
    if (record.length > this.maxRecordBytes)
      throw new WALError('record too large', this.path, { size: record.length, max: this.maxRecordBytes });
    const bytes = frame(record);
    let off = 0;
    while (off < bytes.length) off += writeSync(this.handle, bytes, off, bytes.length - off);
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
   * Drops every record (a new height starts: the block store now holds what the old ones
   * recorded). Not synced by itself: the next synced append makes the truncation durable, and
   * a crash before it leaves either the old records (of a height already stored, so ignored at
   * start) or none.
   */
  reset(): void {
    ftruncateSync(this.handle, 0);
    this.dirty = true;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
