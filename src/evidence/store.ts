// The evidence pool's database (classic-level, <db_dir>/evidence.db), written with fsync: pending
// evidence must survive a restart to be proposed later, and committed evidence must never be
// included again.
//
//   "P" height hash → tendermint.types.Evidence protobuf (pending)
//   "C" height hash → committed-at height (u64) ‖ evidence time seconds (u64) ‖ nanos (u64)
//
// Heights are 8-byte big-endian, so a prefix scan lists evidence oldest first (the order it is
// proposed in, and the order it expires in).
import { encodeEvidence, readEvidence, type Evidence, type Timestamp } from '../codec/index.js';
import { LevelStore, ascii, concatBytes, del, prefixEnd, put, readU64, u64, type BatchOp } from '../store/index.js';

const PENDING = ascii('P');
const COMMITTED = ascii('C');

export interface EvidenceStoreOptions {
  /** Database directory (e.g. <home>/data/evidence.db). */
  readonly path: string;
  /** fsync every write (default true; tests may turn it off). */
  readonly sync?: boolean;
}

export interface StoredEvidence {
  readonly evidence: Evidence;
  /** CometBFT's Evidence.Hash(). */
  readonly hash: Uint8Array;
}

export interface CommittedRecord {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly committedAt: number;
  readonly time: Timestamp;
}

const keyOf = (prefix: Uint8Array, height: number, hash: Uint8Array): Uint8Array => concatBytes(prefix, u64(height), hash);

export class EvidenceStore extends LevelStore {
  private readonly sync: boolean;
  /**
   * The oldest committed record as the last scan left it (null: there is none; undefined: not
   * known). committedWhile runs after every block and used to open a LevelDB iterator each time
   * to find nothing expired; with this it opens one only when the oldest record may have expired.
   */
  private oldest: CommittedRecord | null | undefined = undefined;

  constructor(opts: EvidenceStoreOptions) {
    super('evidence store', opts.path, undefined);
    this.sync = opts.sync ?? true;
  }

  /** Every pending evidence, oldest height first. */
  async loadPending(): Promise<StoredEvidence[]> {
    const out: StoredEvidence[] = [];
    for await (const [k, v] of this.db.iterator({ gte: PENDING, lt: prefixEnd(PENDING) })) {
      const evidence = this.decode('pending evidence', Uint8Array.from(v), readEvidence, { key: Buffer.from(k).toString('hex') });
      out.push({ evidence, hash: Uint8Array.from(k.subarray(1 + 8)) });
    }
    return out;
  }

  async addPending(s: StoredEvidence): Promise<void> {
    await this.exclusive(() => this.writeBatch([put(keyOf(PENDING, s.evidence.voteA.height, s.hash), encodeEvidence(s.evidence))], this.sync));
  }

  async removePending(list: readonly StoredEvidence[]): Promise<void> {
    await this.exclusive(() => this.writeBatch(list.map((s) => del(keyOf(PENDING, s.evidence.voteA.height, s.hash))), this.sync));
  }

  /** One atomic write: out of pending, into committed (at block `committedAt`). */
  async markCommitted(list: readonly StoredEvidence[], committedAt: number): Promise<void> {
    const ops: BatchOp[] = [];
    for (const s of list) {
      const h = s.evidence.voteA.height;
      ops.push(del(keyOf(PENDING, h, s.hash)));
      const t = s.evidence.timestamp;
      ops.push(put(keyOf(COMMITTED, h, s.hash), concatBytes(u64(committedAt), u64(Math.max(0, t.seconds)), u64(t.nanos))));
    }
    await this.exclusive(() => this.writeBatch(ops, this.sync));
    if (list.length > 0) this.oldest = undefined; // a record older than the known oldest may have come
  }

  /** The height of the block that committed this evidence, if one did. */
  async committedAt(height: number, hash: Uint8Array): Promise<number | undefined> {
    const v = await this.getRaw(keyOf(COMMITTED, height, hash));
    return v === undefined ? undefined : readU64(v, 0);
  }

  /** Committed records, oldest first, while `expired` says so (at most `limit`), for pruning. */
  async committedWhile(expired: (r: CommittedRecord) => boolean, limit: number): Promise<CommittedRecord[]> {
    if (this.oldest === null || (this.oldest !== undefined && !expired(this.oldest))) return [];
    const out: CommittedRecord[] = [];
    let first: CommittedRecord | null = null; // the first record this scan did not return
    for await (const [k, v] of this.db.iterator({ gte: COMMITTED, lt: prefixEnd(COMMITTED), limit: limit + 1 })) {
      const r: CommittedRecord = {
        height: readU64(k, 1),
        hash: Uint8Array.from(k.subarray(1 + 8)),
        committedAt: readU64(v, 0),
        time: { seconds: readU64(v, 8), nanos: readU64(v, 16) },
      };
      if (out.length === limit || !expired(r)) {
        first = r;
        break;
      }
      out.push(r);
    }
    this.oldest = out[0] ?? first;
    return out;
  }

  async removeCommitted(list: readonly CommittedRecord[]): Promise<void> {
    await this.exclusive(() => this.writeBatch(list.map((r) => del(keyOf(COMMITTED, r.height, r.hash))), this.sync));
    if (list.length > 0) this.oldest = undefined;
  }
}
