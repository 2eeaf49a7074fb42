// The Application contract (ABCI 2.0) and a base class with CometBFT's default behaviour, so an
// app overrides only the methods it cares about.
import type { ExecTxResult } from '../codec/index.js';
import {
  ApplySnapshotChunkResult,
  OfferSnapshotResult,
  ProcessProposalStatus,
  VerifyVoteExtensionStatus,
  type RequestApplySnapshotChunk,
  type RequestCheckTx,
  type RequestExtendVote,
  type RequestFinalizeBlock,
  type RequestInfo,
  type RequestInitChain,
  type RequestLoadSnapshotChunk,
  type RequestOfferSnapshot,
  type RequestPrepareProposal,
  type RequestProcessProposal,
  type RequestQuery,
  type RequestVerifyVoteExtension,
  type ResponseApplySnapshotChunk,
  type ResponseCheckTx,
  type ResponseCommit,
  type ResponseExtendVote,
  type ResponseFinalizeBlock,
  type ResponseInfo,
  type ResponseInitChain,
  type ResponseListSnapshots,
  type ResponseLoadSnapshotChunk,
  type ResponseOfferSnapshot,
  type ResponsePrepareProposal,
  type ResponseProcessProposal,
  type ResponseQuery,
  type ResponseVerifyVoteExtension,
} from './types.js';

/** The result code of success. Any other code is an app-defined failure (scoped by codespace). */
export const CODE_OK = 0;

/**
 * A deterministic state machine driven by the node. Calls arrive on four logical connections —
 * info/query, mempool (checkTx), consensus (initChain … commit) and state sync — but the node
 * never runs two of them inside the app at once (see SerializedApplication).
 *
 * Per block: prepareProposal (proposer only) or processProposal (other validators), possibly
 * several rounds of them; extendVote / verifyVoteExtension when vote extensions are enabled;
 * then exactly one finalizeBlock for the decided block, then commit.
 */
export interface Application {
  info(req: RequestInfo): Promise<ResponseInfo>;
  query(req: RequestQuery): Promise<ResponseQuery>;
  checkTx(req: RequestCheckTx): Promise<ResponseCheckTx>;
  initChain(req: RequestInitChain): Promise<ResponseInitChain>;
  prepareProposal(req: RequestPrepareProposal): Promise<ResponsePrepareProposal>;
  processProposal(req: RequestProcessProposal): Promise<ResponseProcessProposal>;
  extendVote(req: RequestExtendVote): Promise<ResponseExtendVote>;
  verifyVoteExtension(req: RequestVerifyVoteExtension): Promise<ResponseVerifyVoteExtension>;
  finalizeBlock(req: RequestFinalizeBlock): Promise<ResponseFinalizeBlock>;
  commit(): Promise<ResponseCommit>;
  listSnapshots(): Promise<ResponseListSnapshots>;
  offerSnapshot(req: RequestOfferSnapshot): Promise<ResponseOfferSnapshot>;
  loadSnapshotChunk(req: RequestLoadSnapshotChunk): Promise<ResponseLoadSnapshotChunk>;
  applySnapshotChunk(req: RequestApplySnapshotChunk): Promise<ResponseApplySnapshotChunk>;
}

/** The names of the Application methods, as used in errors and metrics. */
export type AbciMethod = keyof Application;

// ---------------------------------------------------------------------------------------------
// Response builders: every field at its protobuf zero value unless given.

const EMPTY = new Uint8Array(0);

export function execTxResult(p: Partial<ExecTxResult> = {}): ExecTxResult {
  return {
    code: CODE_OK,
    data: EMPTY,
    log: '',
    info: '',
    gasWanted: 0n,
    gasUsed: 0n,
    events: [],
    codespace: '',
    ...p,
  };
}

export function checkTxResponse(p: Partial<ResponseCheckTx> = {}): ResponseCheckTx {
  return execTxResult(p);
}

export function infoResponse(p: Partial<ResponseInfo> = {}): ResponseInfo {
  return { data: '', version: '', appVersion: 0n, lastBlockHeight: 0, lastBlockAppHash: EMPTY, ...p };
}

export function queryResponse(p: Partial<ResponseQuery> = {}): ResponseQuery {
  return {
    code: CODE_OK,
    log: '',
    info: '',
    index: 0,
    key: EMPTY,
    value: EMPTY,
    proofOps: null,
    height: 0,
    codespace: '',
    ...p,
  };
}

export function initChainResponse(p: Partial<ResponseInitChain> = {}): ResponseInitChain {
  return { validators: [], appHash: EMPTY, ...p };
}

export function finalizeBlockResponse(p: Partial<ResponseFinalizeBlock> = {}): ResponseFinalizeBlock {
  return { events: [], txResults: [], validatorUpdates: [], appHash: EMPTY, ...p };
}

export function applySnapshotChunkResponse(
  result: ApplySnapshotChunkResult,
  p: Partial<Omit<ResponseApplySnapshotChunk, 'result'>> = {},
): ResponseApplySnapshotChunk {
  return { result, refetchChunks: [], rejectSenders: [], ...p };
}

/**
 * The txs a proposer includes by default: mempool order, stopping at the first tx that would take
 * the total past maxTxBytes (CometBFT's BaseApplication does exactly this).
 */
export function takeTxsUpTo(txs: readonly Uint8Array[], maxTxBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let total = 0;
  for (const tx of txs) {
    total += tx.length;
    if (total > maxTxBytes) break;
    out.push(tx);
  }
  return out;
}

/**
 * CometBFT's defaults for every method: no state, accept everything, no snapshots. Subclass it
 * and override what your app needs. Methods are async so that overrides may await storage.
 */
export class BaseApplication implements Application {
  async info(_req: RequestInfo): Promise<ResponseInfo> {
    return infoResponse();
  }

  async query(_req: RequestQuery): Promise<ResponseQuery> {
    return queryResponse();
  }

  async checkTx(_req: RequestCheckTx): Promise<ResponseCheckTx> {
    return checkTxResponse();
  }

  async initChain(_req: RequestInitChain): Promise<ResponseInitChain> {
    return initChainResponse();
  }

  async prepareProposal(req: RequestPrepareProposal): Promise<ResponsePrepareProposal> {
    return { txs: takeTxsUpTo(req.txs, req.maxTxBytes) };
  }

  async processProposal(_req: RequestProcessProposal): Promise<ResponseProcessProposal> {
    return { status: ProcessProposalStatus.Accept };
  }

  async extendVote(_req: RequestExtendVote): Promise<ResponseExtendVote> {
    return { voteExtension: EMPTY };
  }

  async verifyVoteExtension(_req: RequestVerifyVoteExtension): Promise<ResponseVerifyVoteExtension> {
    return { status: VerifyVoteExtensionStatus.Accept };
  }

  async finalizeBlock(req: RequestFinalizeBlock): Promise<ResponseFinalizeBlock> {
    return finalizeBlockResponse({ txResults: req.txs.map(() => execTxResult()) });
  }

  async commit(): Promise<ResponseCommit> {
    return { retainHeight: 0 };
  }

  async listSnapshots(): Promise<ResponseListSnapshots> {
    return { snapshots: [] };
  }

  async offerSnapshot(_req: RequestOfferSnapshot): Promise<ResponseOfferSnapshot> {
    return { result: OfferSnapshotResult.Abort };
  }

  async loadSnapshotChunk(_req: RequestLoadSnapshotChunk): Promise<ResponseLoadSnapshotChunk> {
    return { chunk: EMPTY };
  }

  async applySnapshotChunk(_req: RequestApplySnapshotChunk): Promise<ResponseApplySnapshotChunk> {
    return applySnapshotChunkResponse(ApplySnapshotChunkResult.Abort);
  }
}
