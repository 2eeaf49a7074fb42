// A serial counter: every tx is the next number, as an 8-byte big-endian integer, so tx n is
// valid only after txs 0 … n-1. The complete example of docs/app-guide.md, which shows this file
// verbatim (a test keeps the two equal). State is in memory: after a restart Info reports height
// 0 and the node replays the chain from genesis.
import { sha256 } from '../../crypto/index.js';
import {
  AbciError,
  ApplySnapshotChunkResult,
  BaseApplication,
  OfferSnapshotResult,
  applySnapshotChunkResponse,
  checkTxResponse,
  execTxResult,
  finalizeBlockResponse,
  infoResponse,
  queryResponse,
  type RequestApplySnapshotChunk,
  type RequestCheckTx,
  type RequestFinalizeBlock,
  type RequestInfo,
  type RequestLoadSnapshotChunk,
  type RequestOfferSnapshot,
  type RequestQuery,
  type ResponseApplySnapshotChunk,
  type ResponseCheckTx,
  type ResponseCommit,
  type ResponseFinalizeBlock,
  type ResponseInfo,
  type ResponseListSnapshots,
  type ResponseLoadSnapshotChunk,
  type ResponseOfferSnapshot,
  type ResponseQuery,
  type Snapshot,
} from '../../abci/index.js';

export const CODE_BAD_ENCODING = 1;
export const CODE_BAD_NONCE = 2;

/** The tx (and state) encoding: a uint64, 8 bytes big-endian. */
export function encodeCount(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n);
  return b;
}

function decodeCount(b: Uint8Array): bigint | null {
  return b.length === 8 ? new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0) : null;
}

/** The app hash commits to the whole state, which here is one number. */
function appHashOf(count: bigint): Uint8Array {
  return sha256(encodeCount(count));
}

export class CounterApp extends BaseApplication {
  private height = 0;
  private count = 0n;
  /** The block finalized but not yet committed. */
  private pending: { height: number; count: bigint } | null = null;
  /** The mempool's view: committed count plus the txs CheckTx accepted since the last commit. */
  private checkCount = 0n;
  /** Snapshots by height; one chunk each (the count). */
  private readonly snapshots = new Map<number, Uint8Array>();
  private restoring: { snapshot: Snapshot; appHash: Uint8Array } | null = null;

  /** Snapshot every `snapshotInterval` heights (0: never), keeping the 2 newest. */
  constructor(private readonly snapshotInterval = 0) {
    super();
  }

  override async info(_req: RequestInfo): Promise<ResponseInfo> {
    return infoResponse({
      data: JSON.stringify({ count: this.count.toString() }),
      version: '1.0.0',
      appVersion: 1n,
      lastBlockHeight: this.height,
      lastBlockAppHash: this.height === 0 ? new Uint8Array(0) : appHashOf(this.count),
    });
  }

  override async query(req: RequestQuery): Promise<ResponseQuery> {
    if (req.path !== '/count') return queryResponse({ code: 1, log: `unknown path ${req.path}`, height: this.height });
    return queryResponse({ value: encodeCount(this.count), height: this.height });
  }

  // Mempool. A New tx is checked against the mempool's view, so a client may submit n, n+1, …
  // before any of them is committed. After each commit the node re-checks the remaining mempool
  // txs (type Recheck, in mempool order) against the new state; commit resets the view for that.
  override async checkTx(req: RequestCheckTx): Promise<ResponseCheckTx> {
    const n = decodeCount(req.tx);
    if (n === null) return checkTxResponse({ code: CODE_BAD_ENCODING, log: 'tx must be 8 bytes' });
    if (n !== this.checkCount) return checkTxResponse({ code: CODE_BAD_NONCE, log: `expected ${this.checkCount}, got ${n}` });
    this.checkCount++;
    return checkTxResponse({ gasWanted: 1n });
  }

  // Consensus. Execute on a copy; nothing is visible (to Query, Info or CheckTx) until commit.
  override async finalizeBlock(req: RequestFinalizeBlock): Promise<ResponseFinalizeBlock> {
    let count = this.count;
    const txResults = req.txs.map((tx) => {
      const n = decodeCount(tx);
      if (n === null) return execTxResult({ code: CODE_BAD_ENCODING, log: 'tx must be 8 bytes' });
      if (n !== count) return execTxResult({ code: CODE_BAD_NONCE, log: `expected ${count}, got ${n}` });
      count++;
      return execTxResult({ events: [{ type: 'counter', attributes: [{ key: 'value', value: n.toString(), index: true }] }] });
    });
    this.pending = { height: req.height, count };
    return finalizeBlockResponse({ txResults, appHash: appHashOf(count) });
  }

  override async commit(): Promise<ResponseCommit> {
    if (this.pending === null) throw new AbciError('commit', 'commit without finalizeBlock', { height: this.height });
    ({ height: this.height, count: this.count } = this.pending);
    this.pending = null;
    this.checkCount = this.count;
    if (this.snapshotInterval > 0 && this.height % this.snapshotInterval === 0) {
      this.snapshots.set(this.height, encodeCount(this.count));
      for (const h of [...this.snapshots.keys()].sort((a, b) => b - a).slice(2)) this.snapshots.delete(h);
    }
    return { retainHeight: 0 };
  }

  // State sync: serve snapshots ...
  override async listSnapshots(): Promise<ResponseListSnapshots> {
    const snapshots = [...this.snapshots].map(([height, chunk]) => ({ height, format: 1, chunks: 1, hash: sha256(chunk), metadata: new Uint8Array(0) }));
    return { snapshots };
  }

  override async loadSnapshotChunk(req: RequestLoadSnapshotChunk): Promise<ResponseLoadSnapshotChunk> {
    const chunk = req.format === 1 && req.chunk === 0 ? this.snapshots.get(req.height) : undefined;
    return { chunk: chunk ?? new Uint8Array(0) };
  }

  // ... and restore one into an empty app. appHash comes from a light-client-verified header:
  // the restored state must hash to it, whatever the peers sent.
  override async offerSnapshot(req: RequestOfferSnapshot): Promise<ResponseOfferSnapshot> {
    if (this.height !== 0) return { result: OfferSnapshotResult.Abort };
    if (req.snapshot.format !== 1) return { result: OfferSnapshotResult.RejectFormat };
    if (req.snapshot.chunks !== 1) return { result: OfferSnapshotResult.Reject };
    this.restoring = { snapshot: req.snapshot, appHash: req.appHash };
    return { result: OfferSnapshotResult.Accept };
  }

  override async applySnapshotChunk(req: RequestApplySnapshotChunk): Promise<ResponseApplySnapshotChunk> {
    const r = this.restoring;
    if (r === null) throw new AbciError('applySnapshotChunk', 'no snapshot offered');
    const count = decodeCount(req.chunk);
    const hashOk = count !== null && Buffer.from(appHashOf(count)).equals(r.appHash);
    if (!hashOk) return applySnapshotChunkResponse(ApplySnapshotChunkResult.RejectSnapshot, { rejectSenders: [req.sender] });
    this.restoring = null;
    this.height = r.snapshot.height;
    this.count = count;
    this.checkCount = count;
    return applySnapshotChunkResponse(ApplySnapshotChunkResult.Accept);
  }
}
