// The sync request/response protocols, in the commit protocol's style (one length-prefixed
// request, one length-prefixed response, stream closed; every request bounded in time and
// bytes):
//
//   /tally/<chain>/sync/status/1   the peer's lowest and highest stored heights
//   /tally/<chain>/sync/blocks/1   blocks with their seen (extended) commits for a height range
//   /tally/<chain>/sync/votes/1    the votes a peer's consensus holds for a height and round
//
// Answers are decoded but not verified: block sync verifies commits, consensus checks votes.
import type { Stream } from '@libp2p/interface';
import type { Vote } from '../codec/index.js';
import { SILENT_LOGGER, P2PError, errorMessage, type P2PLogger } from './errors.js';
import { answerOnce, requestOnce } from './exchange.js';
import type { P2PHost } from './host.js';
import {
  MAX_BLOCKS_PER_REQUEST,
  MAX_BLOCKS_RESPONSE_BYTES,
  MAX_SYNC_REQUEST_BYTES,
  MAX_VOTES_RESPONSE_BYTES,
  decodeBlocksRequest,
  decodeBlocksResponse,
  decodeStatusRequest,
  decodeStatusResponse,
  decodeVotesRequest,
  decodeVotesResponse,
  encodeBlocksRequest,
  encodeBlocksResponse,
  encodeStatusRequest,
  encodeStatusResponse,
  encodeVotesRequest,
  encodeVotesResponse,
  type BlocksRequest,
  type StatusResponse,
  type SyncedBlock,
  type VotesRequest,
} from './sync-messages.js';

export function syncProtocolIds(chainId: string): { status: string; blocks: string; votes: string } {
  return { status: `/tally/${chainId}/sync/status/1`, blocks: `/tally/${chainId}/sync/blocks/1`, votes: `/tally/${chainId}/sync/votes/1` };
}

/** What the server side answers from (the block store and the consensus engine). */
export interface SyncSource {
  status(): StatusResponse;
  /** Blocks `from`, `from + 1`, … in order, stopping at the first one not stored (at most `count`). */
  blocks(from: number, count: number): Promise<SyncedBlock[]>;
  /** The votes consensus holds for (height, round); empty when it is not at that height. */
  votes(height: number, round: number): readonly Vote[];
}

export interface SyncProtocolsOptions {
  readonly chainId: string;
  /** A status or votes request (client), or the wait for any request (server). */
  readonly timeoutMs?: number;
  /** A blocks request: a range of large blocks takes longer than a status. */
  readonly blocksTimeoutMs?: number;
  /** Requests one peer may have in flight to this node at once, per protocol. */
  readonly maxInboundStreams?: number;
}

export interface SyncProtocolsModules {
  readonly host: P2PHost;
  readonly source: SyncSource;
  readonly logger?: P2PLogger;
}

export const DEFAULT_SYNC_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_BLOCKS_REQUEST_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_INBOUND_STREAMS = 8;

export class SyncProtocols {
  readonly protocols: { readonly status: string; readonly blocks: string; readonly votes: string };
  private readonly log: P2PLogger;
  private readonly timeoutMs: number;
  private readonly blocksTimeoutMs: number;
  private started = false;

  constructor(
    private readonly opts: SyncProtocolsOptions,
    private readonly m: SyncProtocolsModules,
  ) {
    this.protocols = syncProtocolIds(opts.chainId);
    this.log = m.logger ?? SILENT_LOGGER;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_SYNC_REQUEST_TIMEOUT_MS;
    this.blocksTimeoutMs = opts.blocksTimeoutMs ?? DEFAULT_BLOCKS_REQUEST_TIMEOUT_MS;
  }

  /** Registers the three servers; the host must be started. */
  async start(): Promise<void> {
    if (this.started) return;
    const limits = { maxInboundStreams: this.opts.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS, maxOutboundStreams: 64 };
    const p = this.protocols;
    await this.m.host.handle(p.status, (s, c) => this.serve(s, c.remotePeer.toString(), 'status', () => {
      return Promise.resolve(encodeStatusResponse(this.m.source.status()));
    }, decodeStatusRequest), limits);
    await this.m.host.handle(p.blocks, (s, c) => this.serve(s, c.remotePeer.toString(), 'blocks', async (req: BlocksRequest) => {
      const blocks = await this.m.source.blocks(req.from, Math.min(req.count, MAX_BLOCKS_PER_REQUEST));
      return encodeBlocksResponse(blocks).bytes;
    }, decodeBlocksRequest), limits);
    await this.m.host.handle(p.votes, (s, c) => this.serve(s, c.remotePeer.toString(), 'votes', (req: VotesRequest) => {
      return Promise.resolve(encodeVotesResponse(this.m.source.votes(req.height, req.round)));
    }, decodeVotesRequest), limits);
    this.started = true;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (!this.m.host.isRunning) return;
    for (const p of Object.values(this.protocols)) await this.m.host.libp2p.unhandle(p);
  }

  /** The peer's stored height range. */
  async status(peer: string, signal?: AbortSignal): Promise<StatusResponse> {
    return this.request(peer, this.protocols.status, 'status', encodeStatusRequest(), 64, this.timeoutMs, signal, decodeStatusResponse, {});
  }

  /** Blocks `from` … `from + count - 1` with their commits, as many as the peer has in order (maybe none). */
  async blocks(peer: string, from: number, count: number, signal?: AbortSignal): Promise<SyncedBlock[]> {
    const req = { from, count: Math.min(count, MAX_BLOCKS_PER_REQUEST) };
    return this.request(peer, this.protocols.blocks, 'blocks', encodeBlocksRequest(req), MAX_BLOCKS_RESPONSE_BYTES, this.blocksTimeoutMs, signal, (b) => decodeBlocksResponse(b, req), { from, count });
  }

  /** The votes the peer holds for (height, round); signatures unchecked. */
  async votes(peer: string, height: number, round: number, signal?: AbortSignal): Promise<Vote[]> {
    const req = { height, round };
    return this.request(peer, this.protocols.votes, 'votes', encodeVotesRequest(req), MAX_VOTES_RESPONSE_BYTES, this.timeoutMs, signal, (b) => decodeVotesResponse(b, req), { height, round });
  }

  private async request<T>(
    peer: string,
    protocol: string,
    what: string,
    body: Uint8Array,
    maxResponseBytes: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    decode: (bytes: Uint8Array) => T,
    context: Record<string, unknown>,
  ): Promise<T> {
    const bytes = await requestOnce(this.m.host, peer, protocol, body, { maxResponseBytes, timeoutMs, ...(signal ? { signal } : {}), label: `${what} request to ${peer}`, context });
    try {
      return decode(bytes);
    } catch (e) {
      throw new P2PError('bad_response', `${what} response from ${peer} is malformed: ${errorMessage(e)}`, { peer, protocol, ...context });
    }
  }

  private async serve<Req>(stream: Stream, peer: string, what: string, answer: (req: Req) => Promise<Uint8Array>, decode: (bytes: Uint8Array) => Req): Promise<void> {
    try {
      const res = await answerOnce(stream, MAX_SYNC_REQUEST_BYTES, what === 'blocks' ? this.blocksTimeoutMs : this.timeoutMs, (request) => answer(decode(request)));
      this.log.debug({ peer, what, bytes: res.length }, 'served a sync request');
    } catch (e) {
      this.log.debug({ peer, what, err: errorMessage(e) }, 'sync request failed');
    }
  }
}
