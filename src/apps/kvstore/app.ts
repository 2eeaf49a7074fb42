// The kvstore: CometBFT's example application, persistent, with a real app hash and snapshots.
// Transactions set keys or update validators (tx.ts); state lives in classic-level (state.ts);
// the app hash is SHA-256 of an LtHash16 over all (key, value) entries (lthash.ts), updated per
// write; snapshots are format 1 (snapshot.ts), taken from a LevelDB snapshot at commit time and
// written in the background.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel, type Snapshot as LevelSnapshot } from 'classic-level';
import type { Event, ExecTxResult } from '../../codec/index.js';
import { packSmall } from '../../codec/index.js';
import { addressOf, bytesEqual, sha256 } from '../../crypto/index.js';
import {
  AbciError,
  ApplySnapshotChunkResult,
  BaseApplication,
  MisbehaviorType,
  OfferSnapshotResult,
  ProcessProposalStatus,
  applySnapshotChunkResponse,
  checkTxResponse,
  execTxResult,
  finalizeBlockResponse,
  infoResponse,
  initChainResponse,
  queryResponse,
  takeTxsUpTo,
  type AbciMethod,
  type RequestApplySnapshotChunk,
  type RequestCheckTx,
  type RequestFinalizeBlock,
  type RequestInfo,
  type RequestInitChain,
  type RequestLoadSnapshotChunk,
  type RequestOfferSnapshot,
  type RequestPrepareProposal,
  type RequestProcessProposal,
  type RequestQuery,
  type ResponseApplySnapshotChunk,
  type ResponseCheckTx,
  type ResponseCommit,
  type ResponseFinalizeBlock,
  type ResponseInfo,
  type ResponseInitChain,
  type ResponseListSnapshots,
  type ResponseLoadSnapshotChunk,
  type ResponseOfferSnapshot,
  type ResponsePrepareProposal,
  type ResponseProcessProposal,
  type ResponseQuery,
  type Snapshot,
  type ValidatorUpdate,
} from '../../abci/index.js';
import { LtHash16 } from './lthash.js';
import {
  DEFAULT_CHUNK_SIZE,
  SNAPSHOT_FORMAT,
  SnapshotDecoder,
  SnapshotFormatError,
  SnapshotStore,
  checkSnapshotShape,
  chunkHash,
  encodeSnapshot,
  type Entry,
} from './snapshot.js';
import {
  EMPTY_COMMITTED,
  KVStoreError,
  META_KEY,
  NS_VALIDATOR,
  ReadAhead,
  STATE_RANGE,
  WorkingState,
  dbKey,
  decodeMeta,
  encodeMeta,
  kvStateKey,
  plain,
  stateElement,
  validatorStateKey,
  type CommittedState,
  type KVDatabase,
} from './state.js';
import { ED25519_PUBKEY_SIZE, KVStoreCode, MAX_VOTING_POWER, parseTx, type ParsedTx } from './tx.js';

/** Every valid tx's CheckTx answer, shared: responses are read-only (one object less per tx and recheck). */
const CHECK_TX_OK: ResponseCheckTx = Object.freeze(checkTxResponse({ code: KVStoreCode.OK, gasWanted: 1n }));

/** The state keys a block's well-formed `key=value` txs write. */
function setKeys(parsed: readonly ParsedTx[]): Uint8Array[] {
  return parsed.flatMap((p) => (p.ok && p.tx.kind === 'set' ? [kvStateKey(p.tx.key)] : []));
}

/** ResponseInfo.version, as CometBFT's kvstore reports it (the ABCI version it speaks). */
export const KVSTORE_VERSION = '2.0.0';
export const KVSTORE_APP_VERSION = 1n;
export const DEFAULT_SNAPSHOT_KEEP_RECENT = 2;

/** The subset of a pino logger the app uses. */
export interface AppLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const silent: AppLogger = { info: () => {}, warn: () => {}, error: () => {} };

export interface KVStoreOptions {
  /** Home of the app: the database goes to <dir>/db, snapshots to <dir>/snapshots. */
  readonly dir?: string;
  /** An already-open database with 'view' key and value encodings, owned by the caller and used by nothing else. */
  readonly db?: KVDatabase;
  /** Where snapshots live; defaults to <dir>/snapshots. Required with `db` if snapshots are on. */
  readonly snapshotDir?: string;
  /** Take a snapshot at every height divisible by this; 0 turns snapshots off. */
  readonly snapshotInterval?: number;
  /** How many of the newest snapshots to keep. */
  readonly snapshotKeepRecent?: number;
  /** Bytes per snapshot chunk (the last chunk may be shorter). */
  readonly snapshotChunkSize?: number;
  /** ResponseCommit.retainHeight keeps this many recent blocks; 0 keeps all. */
  readonly retainBlocks?: number;
  /**
   * fsync every commit (default true). The node runs it off: a commit lost to a power cut leaves
   * the app behind the block store, and the start-up handshake replays the missing blocks.
   */
  readonly syncWrites?: boolean;
  readonly logger?: AppLogger;
}

interface PendingBlock {
  readonly height: number;
  readonly work: WorkingState;
}

interface Restore {
  readonly snapshot: Snapshot;
  readonly appHash: Uint8Array;
  readonly decoder: SnapshotDecoder;
  readonly ltHash: LtHash16;
  nextChunk: number;
  entries: number;
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder();
const ascii = new TextEncoder();

function nonNegativeInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new KVStoreError(`${name} must be a non-negative integer`, { [name]: v });
  return v;
}

// The attributes every tx's events share: one frozen object each, not two new ones per tx.
const CREATOR_KEY = Object.freeze({ key: 'creator', value: 'Cosmoshi Netowoko', index: true });
const CREATOR_VALUE = Object.freeze({ key: 'creator', value: 'Cosmoshi', index: true });
const INDEX_KEY = Object.freeze({ key: 'index_key', value: 'index is working', index: true });
const NOINDEX_KEY = Object.freeze({ key: 'noindex_key', value: 'index is working', index: false });

/** The events CometBFT's kvstore emits for every tx, attribute for attribute. */
function txEvents(key: string, value: string): Event[] {
  return [
    { type: 'app', attributes: [CREATOR_KEY, { key: 'key', value: key, index: true }, INDEX_KEY, NOINDEX_KEY] },
    { type: 'app', attributes: [CREATOR_VALUE, { key: 'key', value, index: true }, INDEX_KEY, NOINDEX_KEY] },
  ];
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export class KVStoreApp extends BaseApplication {
  private committed: CommittedState = EMPTY_COMMITTED;
  /** InitChain's state (genesis validators), which the first block builds on. */
  private genesis: WorkingState | null = null;
  private initialHeight = 1;
  private pending: PendingBlock | null = null;
  private restore: Restore | null = null;
  /** Committed values of proposed blocks' keys, read while the votes run (see ReadAhead). */
  private readAhead: ReadAhead | null = null;
  /** address (hex) → pubkey of every validator in committed state, to find misbehaving ones. */
  private readonly validatorsByAddress = new Map<string, Uint8Array>();
  private snapshotTask: Promise<void> | null = null;
  private closed = false;
  /** Why the last background snapshot failed, if it did. */
  lastSnapshotError: Error | null = null;
  /** Snapshots skipped because the previous one was still being written. */
  skippedSnapshots = 0;

  private readonly snapshotInterval: number;
  private readonly chunkSize: number;
  private readonly retainBlocks: number;
  private readonly syncWrites: boolean;
  private readonly log: AppLogger;

  private constructor(
    private readonly db: KVDatabase,
    private readonly ownsDb: boolean,
    private readonly snapshots: SnapshotStore | null,
    opts: KVStoreOptions,
  ) {
    super();
    this.snapshotInterval = opts.snapshotInterval ?? 0;
    this.chunkSize = opts.snapshotChunkSize ?? DEFAULT_CHUNK_SIZE;
    this.retainBlocks = opts.retainBlocks ?? 0;
    this.syncWrites = opts.syncWrites ?? true;
    this.log = opts.logger ?? silent;
  }

  /** Opens (creating if needed) the app's database and snapshot store and loads its durable state. */
  static async open(opts: KVStoreOptions): Promise<KVStoreApp> {
    const interval = nonNegativeInt('snapshotInterval', opts.snapshotInterval ?? 0);
    nonNegativeInt('retainBlocks', opts.retainBlocks ?? 0);
    const keepRecent = opts.snapshotKeepRecent ?? DEFAULT_SNAPSHOT_KEEP_RECENT;
    if (!Number.isSafeInteger(keepRecent) || keepRecent < 1) throw new KVStoreError('snapshotKeepRecent must be ≥ 1', { keepRecent });
    const chunkSize = opts.snapshotChunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new KVStoreError('snapshotChunkSize must be a positive integer', { chunkSize });
    const snapshotDir = opts.snapshotDir ?? (opts.dir !== undefined ? join(opts.dir, 'snapshots') : undefined);
    if (interval > 0 && snapshotDir === undefined) throw new KVStoreError('snapshotInterval needs a dir or snapshotDir');

    let db: KVDatabase;
    let ownsDb: boolean;
    if (opts.db !== undefined) {
      db = opts.db;
      ownsDb = false;
      if (db.status !== 'open') await db.open();
      if (db.keyEncoding().name !== 'view' || db.valueEncoding().name !== 'view') {
        throw new KVStoreError("the database must use 'view' key and value encodings", {
          keyEncoding: db.keyEncoding().name,
          valueEncoding: db.valueEncoding().name,
        });
      }
    } else if (opts.dir !== undefined) {
      await mkdir(opts.dir, { recursive: true });
      // as the node's stores (src/store/db.ts): fewer compactions, no snappy — measured faster here
      db = new ClassicLevel<Uint8Array, Uint8Array>(join(opts.dir, 'db'), { keyEncoding: 'view', valueEncoding: 'view', compression: false, writeBufferSize: 32 * 1024 * 1024 });
      await db.open();
      ownsDb = true;
    } else {
      throw new KVStoreError('KVStoreApp.open needs a dir or a db');
    }

    try {
      const store = snapshotDir === undefined ? null : await SnapshotStore.open(snapshotDir, keepRecent);
      const app = new KVStoreApp(db, ownsDb, store, opts);
      await app.load();
      return app;
    } catch (e) {
      if (ownsDb) await db.close();
      throw e;
    }
  }

  private async load(): Promise<void> {
    this.dropReadAhead();
    const meta = await this.db.get(META_KEY);
    if (meta === undefined) {
      // No commit yet, so any state entries are the remains of an interrupted restore.
      await this.db.clear(STATE_RANGE);
      this.committed = EMPTY_COMMITTED;
    } else {
      this.committed = decodeMeta(plain(meta));
    }
    this.validatorsByAddress.clear();
    const range = { gte: dbKey(Uint8Array.of(NS_VALIDATOR)), lt: dbKey(Uint8Array.of(NS_VALIDATOR + 1)) };
    for await (const key of this.db.keys(range)) {
      const pubKey = plain(key).slice(2);
      if (pubKey.length === ED25519_PUBKEY_SIZE) this.validatorsByAddress.set(hexOf(addressOf(pubKey)), pubKey);
    }
  }

  /** Waits for any background snapshot, then closes the database if the app opened it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.snapshotsIdle();
    if (this.ownsDb) await this.db.close();
  }

  /** Resolves when no snapshot is being written. */
  async snapshotsIdle(): Promise<void> {
    while (this.snapshotTask !== null) await this.snapshotTask;
  }

  /** True while a snapshot is being written in the background. */
  get snapshotInProgress(): boolean {
    return this.snapshotTask !== null;
  }

  /** The last committed height. */
  get height(): number {
    return this.committed.height;
  }

  /** The app hash of the last committed state. */
  get appHash(): Uint8Array {
    return this.committed.ltHash.digest();
  }

  /**
   * Recomputes the app hash from every entry in the database, ignoring the stored LtHash: an
   * audit that the incremental hash matches the data (O(state), not for the hot path).
   */
  async recomputeAppHash(): Promise<Uint8Array> {
    const h = LtHash16.empty();
    for await (const [k, v] of this.db.iterator(STATE_RANGE)) h.add(stateElement(plain(k).subarray(1), plain(v)));
    return h.digest();
  }

  private assertUsable(method: AbciMethod): void {
    if (this.closed) throw new AbciError(method, 'the app is closed');
  }

  private assertNotRestoring(method: AbciMethod): void {
    if (this.restore !== null) throw new AbciError(method, 'a snapshot restore is in progress', { height: this.restore.snapshot.height });
  }

  // -------------------------------------------------------------------------------------------
  // Info / query

  override async info(_req: RequestInfo): Promise<ResponseInfo> {
    this.assertUsable('info');
    const { height, entries } = this.committed;
    return infoResponse({
      data: JSON.stringify({ size: entries }),
      version: KVSTORE_VERSION,
      appVersion: KVSTORE_APP_VERSION,
      lastBlockHeight: height,
      // nothing committed yet: no hash to replay from
      lastBlockAppHash: height === 0 ? EMPTY : this.appHash,
    });
  }

  /**
   * Path "/val": data is a validator's raw 32-byte pubkey, value its power in decimal. Any other
   * path ("", "/key", "/store"…): data is a key. Answers from committed state only; a missing
   * key is code 0 with log "does not exist", as in CometBFT's kvstore. There are no proofs:
   * LtHash cannot prove membership, so prove=true answers index -1 and no proofOps.
   */
  override async query(req: RequestQuery): Promise<ResponseQuery> {
    this.assertUsable('query');
    const latest = this.committed.height;
    if (this.restore !== null) {
      // the database holds a partial, unverified state: answer nothing from it
      return queryResponse({ code: KVStoreCode.HeightNotAvailable, log: 'state sync in progress', key: req.data, height: latest });
    }
    if (req.height !== 0 && req.height !== latest) {
      return queryResponse({
        code: KVStoreCode.HeightNotAvailable,
        log: req.height > latest ? `height ${req.height} is not committed yet; latest is ${latest}` : `only the latest height (${latest}) can be queried`,
        key: req.data,
        height: latest,
      });
    }
    const stateKey = req.path === '/val' ? validatorStateKey(req.data) : kvStateKey(req.data);
    const v = await this.db.get(dbKey(stateKey));
    return queryResponse({
      code: KVStoreCode.OK,
      log: v === undefined ? 'does not exist' : 'exists',
      index: req.prove ? -1 : 0,
      key: req.data,
      value: v === undefined ? EMPTY : plain(v),
      height: latest,
    });
  }

  // -------------------------------------------------------------------------------------------
  // Mempool

  /** Stateless: only the tx format is checked, so recheck gives the same answer. */
  override async checkTx(req: RequestCheckTx): Promise<ResponseCheckTx> {
    this.assertUsable('checkTx');
    const p = parseTx(req.tx);
    if (!p.ok) return checkTxResponse({ code: KVStoreCode.InvalidTxFormat, log: p.log });
    return CHECK_TX_OK;
  }

  // -------------------------------------------------------------------------------------------
  // Consensus

  override async initChain(req: RequestInitChain): Promise<ResponseInitChain> {
    this.assertUsable('initChain');
    this.assertNotRestoring('initChain');
    if (this.committed.height !== 0) throw new AbciError('initChain', 'the app already has committed state', { height: this.committed.height });
    if (!Number.isSafeInteger(req.initialHeight) || req.initialHeight < 1) {
      throw new AbciError('initChain', 'initial height must be ≥ 1', { initialHeight: req.initialHeight });
    }
    const work = WorkingState.over(this.db, EMPTY_COMMITTED);
    for (const v of req.validators) {
      if (v.pubKey.length !== ED25519_PUBKEY_SIZE || v.power < 0n || v.power > MAX_VOTING_POWER) {
        throw new AbciError('initChain', 'invalid genesis validator', { pubKey: hexOf(v.pubKey), power: v.power });
      }
      await work.set(validatorStateKey(v.pubKey), v.power === 0n ? null : ascii.encode(v.power.toString()));
      this.validatorsByAddress.set(hexOf(addressOf(v.pubKey)), v.pubKey.slice());
    }
    this.genesis = work;
    this.initialHeight = req.initialHeight;
    this.pending = null;
    return initChainResponse({ appHash: work.ltHash.digest() });
  }

  /** Drops malformed txs (as CometBFT's kvstore does), then keeps what fits in maxTxBytes. */
  override async prepareProposal(req: RequestPrepareProposal): Promise<ResponsePrepareProposal> {
    this.assertUsable('prepareProposal');
    const parsed = req.txs.map(parseTx);
    const txs = takeTxsUpTo(req.txs.filter((_, i) => parsed[i]!.ok), req.maxTxBytes);
    this.startReadAhead(parsed.filter((p) => p.ok).slice(0, txs.length));
    return { txs };
  }

  /** A block with a malformed tx is rejected: an honest proposer never includes one. */
  override async processProposal(req: RequestProcessProposal): Promise<ResponseProcessProposal> {
    this.assertUsable('processProposal');
    const parsed = req.txs.map(parseTx);
    const ok = parsed.every((p) => p.ok);
    if (ok) this.startReadAhead(parsed);
    return { status: ok ? ProcessProposalStatus.Accept : ProcessProposalStatus.Reject };
  }

  /** Starts reading the committed values a block of these txs would change (not awaited). */
  private startReadAhead(parsed: readonly ParsedTx[]): void {
    if (this.restore !== null || this.closed) return;
    if (this.readAhead === null || this.readAhead.height !== this.committed.height) {
      this.readAhead?.drop();
      this.readAhead = new ReadAhead(this.db, this.committed.height);
    }
    this.readAhead.start(setKeys(parsed));
  }

  private dropReadAhead(): void {
    this.readAhead?.drop();
    this.readAhead = null;
  }

  /**
   * Executes the block on a working copy of the committed state; nothing is durable until commit.
   * Calling it again before commit (a retried block) starts over from committed state.
   */
  override async finalizeBlock(req: RequestFinalizeBlock): Promise<ResponseFinalizeBlock> {
    this.assertUsable('finalizeBlock');
    this.assertNotRestoring('finalizeBlock');
    const expected = this.committed.height === 0 ? this.initialHeight : this.committed.height + 1;
    if (req.height !== expected) {
      throw new AbciError('finalizeBlock', 'unexpected height', { height: req.height, expected, lastCommitted: this.committed.height });
    }
    const work = this.committed.height === 0 && this.genesis !== null ? this.genesis.clone() : WorkingState.over(this.db, this.committed);

    // At most one update per key (CometBFT refuses duplicates): later changes overwrite earlier
    // ones in place, so the order is that of first mention — deterministic.
    const updates = new Map<string, ValidatorUpdate>();
    const update = (pubKey: Uint8Array, power: bigint): void => {
      updates.set(hexOf(pubKey), { pubKey: pubKey.slice(), power });
    };

    // Punish equivocation as CometBFT's kvstore does: one unit of power less.
    for (const m of req.misbehavior) {
      if (m.type !== MisbehaviorType.DuplicateVote) continue;
      const pubKey = this.validatorsByAddress.get(hexOf(m.validator.address));
      if (pubKey !== undefined) update(pubKey, m.validator.power > 0n ? m.validator.power - 1n : 0n);
    }

    const parsed = req.txs.map(parseTx);
    if (this.readAhead?.height === this.committed.height) await this.readAhead.into(work);
    await work.prefetch(setKeys(parsed));
    const txResults: ExecTxResult[] = [];
    for (const [i, p] of parsed.entries()) {
      const tx = req.txs[i]!;
      if (!p.ok) {
        // possible only if a faulty proposer's block was decided anyway; deterministic no-op
        txResults.push(execTxResult({ code: KVStoreCode.InvalidTxFormat, log: p.log }));
        continue;
      }
      if (p.tx.kind === 'set') {
        const key = kvStateKey(p.tx.key);
        if (!work.trySet(key, p.tx.value)) await work.set(key, p.tx.value);
        txResults.push(execTxResult({ code: KVStoreCode.OK, events: txEvents(utf8.decode(p.tx.key), utf8.decode(p.tx.value)) }));
      } else {
        update(p.tx.pubKey, p.tx.power);
        const whole = utf8.decode(tx);
        txResults.push(execTxResult({ code: KVStoreCode.OK, events: txEvents(whole, whole) }));
      }
    }

    const validatorUpdates: ValidatorUpdate[] = [];
    for (const u of updates.values()) {
      const key = validatorStateKey(u.pubKey);
      // removing a validator that is not in the set would make the node halt; drop it instead
      if (u.power === 0n && (await work.get(key)) === null) continue;
      await work.set(key, u.power === 0n ? null : ascii.encode(u.power.toString()));
      validatorUpdates.push(u);
    }

    this.pending = { height: req.height, work };
    return finalizeBlockResponse({ txResults, validatorUpdates, appHash: work.ltHash.digest() });
  }

  /** Makes the finalized block durable in one batch (data and meta together), then maybe snapshots. */
  override async commit(): Promise<ResponseCommit> {
    this.assertUsable('commit');
    const p = this.pending;
    if (p === null) throw new AbciError('commit', 'commit without a finalized block', { lastCommitted: this.committed.height });
    const next: CommittedState = { height: p.height, entries: p.work.entries, ltHash: p.work.ltHash };
    // values read ahead from now on could be of either version
    this.dropReadAhead();
    const writes = [...p.work.writes.values()];
    // the keys in one buffer (see codec/slab.ts), not one each when LevelDB's binding reads them
    const keys = packSmall(writes.map((w) => dbKey(w.key)));
    const batch = this.db.batch();
    writes.forEach((w, i) => {
      if (w.value === null) batch.del(keys[i]!);
      else batch.put(keys[i]!, w.value);
    });
    batch.put(META_KEY, encodeMeta(next));
    await batch.write({ sync: this.syncWrites });

    this.committed = next;
    this.pending = null;
    this.genesis = null;
    for (const w of p.work.writes.values()) {
      if (w.key[0] !== NS_VALIDATOR) continue;
      const pubKey = w.key.subarray(1);
      const addr = hexOf(addressOf(pubKey));
      if (w.value === null) this.validatorsByAddress.delete(addr);
      else this.validatorsByAddress.set(addr, pubKey);
    }
    this.maybeSnapshot();

    const h = this.committed.height;
    return { retainHeight: this.retainBlocks > 0 && h >= this.retainBlocks ? h - this.retainBlocks + 1 : 0 };
  }

  // -------------------------------------------------------------------------------------------
  // Snapshots: creation

  private maybeSnapshot(): void {
    const { height } = this.committed;
    if (this.snapshots === null || this.snapshotInterval === 0 || height % this.snapshotInterval !== 0) return;
    if (this.snapshotTask !== null) {
      // one at a time: a backlog of snapshots would only fall further behind
      this.skippedSnapshots++;
      this.log.warn({ height }, 'previous snapshot still being written; skipping this one');
      return;
    }
    // A LevelDB snapshot pins exactly this commit; later commits do not show through it, so the
    // serialization can take as long as it needs while consensus moves on.
    const view = this.db.snapshot();
    this.snapshotTask = this.writeSnapshot(this.snapshots, height, view, this.appHash).finally(() => {
      this.snapshotTask = null;
    });
  }

  private async writeSnapshot(store: SnapshotStore, height: number, view: LevelSnapshot, appHash: Uint8Array): Promise<void> {
    try {
      const entries = this.stateEntries(view);
      const s = await store.create(height, encodeSnapshot(height, entries, this.chunkSize), appHash);
      this.lastSnapshotError = null;
      this.log.info({ height, chunks: s.chunks }, 'snapshot written');
    } catch (e) {
      this.lastSnapshotError = e instanceof Error ? e : new Error(String(e));
      this.log.error({ height, err: this.lastSnapshotError }, 'snapshot failed');
    } finally {
      // the task must never reject: nobody may be awaiting it
      await view.close().catch((e: unknown) => this.log.warn({ height, err: String(e) }, 'closing the snapshot view failed'));
    }
  }

  private async *stateEntries(view: LevelSnapshot): AsyncGenerator<Entry> {
    for await (const [k, v] of this.db.iterator({ ...STATE_RANGE, snapshot: view })) yield [plain(k).subarray(1), plain(v)];
  }

  override async listSnapshots(): Promise<ResponseListSnapshots> {
    this.assertUsable('listSnapshots');
    return { snapshots: this.snapshots?.list() ?? [] };
  }

  override async loadSnapshotChunk(req: RequestLoadSnapshotChunk): Promise<ResponseLoadSnapshotChunk> {
    this.assertUsable('loadSnapshotChunk');
    return { chunk: (await this.snapshots?.loadChunk(req.height, req.format, req.chunk)) ?? EMPTY };
  }

  // -------------------------------------------------------------------------------------------
  // Snapshots: restore (state sync into an empty app)

  override async offerSnapshot(req: RequestOfferSnapshot): Promise<ResponseOfferSnapshot> {
    this.assertUsable('offerSnapshot');
    const s = req.snapshot;
    if (this.committed.height !== 0 || this.pending !== null || this.genesis !== null) {
      this.log.warn({ height: s.height, appHeight: this.committed.height }, 'snapshot offered to an app with state; aborting state sync');
      return { result: OfferSnapshotResult.Abort };
    }
    if (s.format !== SNAPSHOT_FORMAT) return { result: OfferSnapshotResult.RejectFormat };
    const bad = checkSnapshotShape(s);
    if (bad !== null || req.appHash.length !== 32) {
      this.log.warn({ height: s.height, reason: bad ?? 'app hash is not 32 bytes' }, 'snapshot rejected');
      return { result: OfferSnapshotResult.Reject };
    }
    // a new offer replaces any restore in progress
    this.dropReadAhead();
    await this.wipeRestore();
    this.restore = {
      snapshot: { ...s, hash: s.hash.slice(), metadata: s.metadata.slice() },
      appHash: req.appHash.slice(),
      decoder: new SnapshotDecoder(s.height),
      ltHash: LtHash16.empty(),
      nextChunk: 0,
      entries: 0,
    };
    return { result: OfferSnapshotResult.Accept };
  }

  override async applySnapshotChunk(req: RequestApplySnapshotChunk): Promise<ResponseApplySnapshotChunk> {
    this.assertUsable('applySnapshotChunk');
    const r = this.restore;
    if (r === null) throw new AbciError('applySnapshotChunk', 'no snapshot is being restored (offerSnapshot first)', { index: req.index });
    const { snapshot } = r;
    if (!Number.isSafeInteger(req.index) || req.index < 0 || req.index >= snapshot.chunks || req.index > r.nextChunk) {
      throw new AbciError('applySnapshotChunk', 'chunk out of order', { index: req.index, expected: r.nextChunk, chunks: snapshot.chunks });
    }
    const hashOk = bytesEqual(sha256(req.chunk), chunkHash(snapshot.metadata, req.index));
    if (req.index < r.nextChunk && hashOk) return applySnapshotChunkResponse(ApplySnapshotChunkResult.Accept); // applied already
    if (!hashOk) {
      this.log.warn({ height: snapshot.height, index: req.index, sender: req.sender }, 'snapshot chunk does not match its hash');
      return applySnapshotChunkResponse(ApplySnapshotChunkResult.Retry, {
        refetchChunks: [req.index],
        rejectSenders: req.sender === '' ? [] : [req.sender],
      });
    }

    try {
      const entries = r.decoder.push(req.chunk);
      if (entries.length > 0) {
        const batch = this.db.batch();
        for (const [key, value] of entries) {
          batch.put(dbKey(key), value);
          r.ltHash.add(stateElement(key, value));
        }
        await batch.write();
        r.entries += entries.length;
      }
      r.nextChunk++;
      if (r.nextChunk < snapshot.chunks) return applySnapshotChunkResponse(ApplySnapshotChunkResult.Accept);
      r.decoder.finish();
    } catch (e) {
      if (!(e instanceof SnapshotFormatError)) throw e;
      this.log.warn({ height: snapshot.height, index: req.index, err: e.message }, 'snapshot stream malformed; rejecting it');
      await this.wipeRestore();
      return applySnapshotChunkResponse(ApplySnapshotChunkResult.RejectSnapshot);
    }

    // Every chunk is in: the state must hash to the light-client-verified app hash.
    if (!bytesEqual(r.ltHash.digest(), r.appHash)) {
      this.log.warn({ height: snapshot.height, got: hexOf(r.ltHash.digest()), want: hexOf(r.appHash) }, 'restored state does not match the app hash');
      await this.wipeRestore();
      return applySnapshotChunkResponse(ApplySnapshotChunkResult.RejectSnapshot);
    }
    const next: CommittedState = { height: snapshot.height, entries: r.entries, ltHash: r.ltHash };
    await this.db.put(META_KEY, encodeMeta(next), { sync: this.syncWrites });
    this.committed = next;
    this.restore = null;
    await this.load();
    this.log.info({ height: snapshot.height, entries: r.entries }, 'snapshot restored');
    return applySnapshotChunkResponse(ApplySnapshotChunkResult.Accept);
  }

  /** Forgets a restore in progress and removes what it wrote. */
  private async wipeRestore(): Promise<void> {
    this.restore = null;
    await this.db.clear(STATE_RANGE);
  }
}
