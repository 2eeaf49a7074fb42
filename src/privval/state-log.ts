// The signer's fast durable record. Replacing priv_validator_state.json atomically costs a new
// file, two fsyncs (file and directory) and a rename — two filesystem-journal commits — for every
// signature, and the journal is one queue shared by every process on the disk. This log is a file
// allocated (and made durable) once; each signature's state is written in place as one
// CRC-framed record and fdatasync'ed, which flushes data only. When the log is full, the state
// file is replaced atomically (as before) and the log starts again from its beginning.
//
// Reading takes the highest (height, round, step) of the state file and every intact record:
// the state only ever moves forward, so records left from an earlier pass, or a record torn by a
// crash (never acknowledged: its signature had not left), can only be older than the truth.
import { closeSync, existsSync, fdatasyncSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { fsyncDir } from '../fsutil/index.js';

const HEADER = 8;
/** Room for ~120 states of ~500 bytes: one atomic state-file write per ~40 heights. */
export const DEFAULT_STATE_LOG_BYTES = 64 * 1024;
const MIN_STATE_LOG_BYTES = 4096;

export class SignStateLog {
  private offset = 0;

  private constructor(
    readonly path: string,
    private fd: number | undefined,
    private readonly size: number,
  ) {}

  /** Opens the log (creating and allocating it durably if missing) and returns the records it holds, oldest first. */
  static open(path: string, size = DEFAULT_STATE_LOG_BYTES): { log: SignStateLog; records: Uint8Array[] } {
    if (!existsSync(path)) {
      const fd = openSync(path, 'wx', 0o600);
      try {
        const zeros = Buffer.alloc(Math.max(size, MIN_STATE_LOG_BYTES));
        let off = 0;
        while (off < zeros.length) off += writeSync(fd, zeros, off, zeros.length - off, off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      fsyncDir(dirname(path));
    }
    const fd = openSync(path, 'r+');
    const actual = fstatSync(fd).size;
    const buf = Buffer.alloc(actual);
    let off = 0;
    while (off < actual) {
      const n = readSync(fd, buf, off, actual - off, off);
      if (n === 0) break;
      off += n;
    }
    return { log: new SignStateLog(path, fd, actual), records: scan(buf) };
  }

  private get handle(): number {
    if (this.fd === undefined) throw new Error(`${this.path}: signer state log used after close`);
    return this.fd;
  }

  /** Writes a record durably; false (nothing written) when it does not fit before the end. */
  append(payload: Uint8Array): boolean {
    if (this.offset + HEADER + payload.length > this.size || this.size < MIN_STATE_LOG_BYTES) return false;
    const frame = Buffer.allocUnsafe(HEADER + payload.length);
    frame.writeUInt32BE(crc32(payload), 0);
    frame.writeUInt32BE(payload.length, 4);
    frame.set(payload, HEADER);
    let off = 0;
    while (off < frame.length) off += writeSync(this.handle, frame, off, frame.length - off, this.offset + off);
    fdatasyncSync(this.handle);
    this.offset += frame.length;
    return true;
  }

  /** The next record goes to the beginning (after the state file was replaced with the newest state). */
  restart(): void {
    this.offset = 0;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Intact records from the start up to the first frame that is empty, cut short or corrupt. */
function scan(buf: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (buf.length - off >= HEADER) {
    const crc = buf.readUInt32BE(off);
    const len = buf.readUInt32BE(off + 4);
    if (len === 0 || len > buf.length - off - HEADER) break; // the zeroed rest, or a torn header
    const payload = buf.subarray(off + HEADER, off + HEADER + len);
    if (crc32(payload) !== crc) break;
    out.push(new Uint8Array(payload));
    off += HEADER + len;
  }
  return out;
}
