// The in-process client. The node talks to an Application object directly, but through this
// wrapper: calls run one at a time in arrival order, as behind CometBFT's local-client mutex.
// Without it an async app could be re-entered — a mempool checkTx interleaving with a
// finalizeBlock that is awaiting its database — and see half-applied state.
import type { Application, AbciMethod } from './application.js';
import { AbciError, toAbciError } from './errors.js';
import type {
  RequestApplySnapshotChunk,
  RequestCheckTx,
  RequestExtendVote,
  RequestFinalizeBlock,
  RequestInfo,
  RequestInitChain,
  RequestLoadSnapshotChunk,
  RequestOfferSnapshot,
  RequestPrepareProposal,
  RequestProcessProposal,
  RequestQuery,
  RequestVerifyVoteExtension,
  ResponseApplySnapshotChunk,
  ResponseCheckTx,
  ResponseCommit,
  ResponseExtendVote,
  ResponseFinalizeBlock,
  ResponseInfo,
  ResponseInitChain,
  ResponseListSnapshots,
  ResponseLoadSnapshotChunk,
  ResponseOfferSnapshot,
  ResponsePrepareProposal,
  ResponseProcessProposal,
  ResponseQuery,
  ResponseVerifyVoteExtension,
} from './types.js';

export interface SerializeOptions {
  /** Calls waiting or running at once; beyond it a call fails fast instead of queueing. */
  readonly maxPending?: number;
}

export const DEFAULT_MAX_PENDING = 10_000;

const noop = (): void => {};

export class SerializedApplication implements Application {
  private tail: Promise<void> = Promise.resolve();
  private pendingCalls = 0;
  private readonly maxPending: number;

  constructor(
    readonly app: Application,
    opts: SerializeOptions = {},
  ) {
    this.maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
  }

  /** Calls queued or running. */
  get pending(): number {
    return this.pendingCalls;
  }

  /** Resolves once every call queued so far has finished (successfully or not). */
  idle(): Promise<void> {
    return this.tail;
  }

  private run<T>(method: AbciMethod, call: () => Promise<T>): Promise<T> {
    if (this.pendingCalls >= this.maxPending) {
      return Promise.reject(
        new AbciError(method, 'too many queued application calls', { pending: this.pendingCalls, maxPending: this.maxPending }),
      );
    }
    this.pendingCalls++;
    const result = this.tail.then(async () => {
      try {
        return await call();
      } catch (e) {
        throw toAbciError(method, e);
      } finally {
        this.pendingCalls--;
      }
    });
    // a failed call must not poison the queue: the next call still runs
    this.tail = result.then(noop, noop);
    return result;
  }

  info(req: RequestInfo): Promise<ResponseInfo> {
    return this.run('info', () => this.app.info(req));
  }
  query(req: RequestQuery): Promise<ResponseQuery> {
    return this.run('query', () => this.app.query(req));
  }
  checkTx(req: RequestCheckTx): Promise<ResponseCheckTx> {
    return this.run('checkTx', () => this.app.checkTx(req));
  }
  initChain(req: RequestInitChain): Promise<ResponseInitChain> {
    return this.run('initChain', () => this.app.initChain(req));
  }
  prepareProposal(req: RequestPrepareProposal): Promise<ResponsePrepareProposal> {
    return this.run('prepareProposal', () => this.app.prepareProposal(req));
  }
  processProposal(req: RequestProcessProposal): Promise<ResponseProcessProposal> {
    return this.run('processProposal', () => this.app.processProposal(req));
  }
  extendVote(req: RequestExtendVote): Promise<ResponseExtendVote> {
    return this.run('extendVote', () => this.app.extendVote(req));
  }
  verifyVoteExtension(req: RequestVerifyVoteExtension): Promise<ResponseVerifyVoteExtension> {
    return this.run('verifyVoteExtension', () => this.app.verifyVoteExtension(req));
  }
  finalizeBlock(req: RequestFinalizeBlock): Promise<ResponseFinalizeBlock> {
    return this.run('finalizeBlock', () => this.app.finalizeBlock(req));
  }
  commit(): Promise<ResponseCommit> {
    return this.run('commit', () => this.app.commit());
  }
  listSnapshots(): Promise<ResponseListSnapshots> {
    return this.run('listSnapshots', () => this.app.listSnapshots());
  }
  offerSnapshot(req: RequestOfferSnapshot): Promise<ResponseOfferSnapshot> {
    return this.run('offerSnapshot', () => this.app.offerSnapshot(req));
  }
  loadSnapshotChunk(req: RequestLoadSnapshotChunk): Promise<ResponseLoadSnapshotChunk> {
    return this.run('loadSnapshotChunk', () => this.app.loadSnapshotChunk(req));
  }
  applySnapshotChunk(req: RequestApplySnapshotChunk): Promise<ResponseApplySnapshotChunk> {
    return this.run('applySnapshotChunk', () => this.app.applySnapshotChunk(req));
  }
}

/** Wrap an app so that it is never re-entered; wrapping twice returns the same wrapper. */
export function serialize(app: Application, opts: SerializeOptions = {}): SerializedApplication {
  return app instanceof SerializedApplication ? app : new SerializedApplication(app, opts);
}
