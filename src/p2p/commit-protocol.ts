// `/tally/<chain>/commit/1`: a request/response protocol for catching up — "give me the block
// and seen commit of height H". One length-prefixed request, one length-prefixed response, then
// the stream is closed. The server answers from the block store; the client gets the answer
// decoded but unverified (the consensus engine verifies the commit against its validator set).
import type { Stream } from '@libp2p/interface';
import { SILENT_LOGGER, P2PError, errorMessage, type P2PLogger } from './errors.js';
import { answerOnce, requestOnce } from './exchange.js';
import type { P2PHost } from './host.js';
import { MAX_COMMIT_RESPONSE_BYTES, decodeCommitRequest, decodeCommitResponse, encodeCommitRequest, encodeCommitResponse, type CommitResponse } from './messages.js';

export function commitProtocolId(chainId: string): string {
  return `/tally/${chainId}/commit/1`;
}

/** Where the server finds what it serves (the block store). */
export interface CommitSource {
  load(height: number): Promise<CommitResponse | null>;
}

export interface CommitProtocolOptions {
  readonly chainId: string;
  /** A whole request (client) or the wait for a request (server). */
  readonly timeoutMs?: number;
  /** Requests one peer may have in flight to this node at once. */
  readonly maxInboundStreams?: number;
  readonly maxResponseBytes?: number;
}

export interface CommitProtocolModules {
  readonly host: P2PHost;
  readonly source: CommitSource;
  readonly logger?: P2PLogger;
}

export const DEFAULT_COMMIT_REQUEST_TIMEOUT_MS = 10_000;
const MAX_REQUEST_BYTES = 32;

export class CommitProtocol {
  readonly protocol: string;
  private readonly log: P2PLogger;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private started = false;

  constructor(
    private readonly opts: CommitProtocolOptions,
    private readonly m: CommitProtocolModules,
  ) {
    this.protocol = commitProtocolId(opts.chainId);
    this.log = m.logger ?? SILENT_LOGGER;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_COMMIT_REQUEST_TIMEOUT_MS;
    this.maxResponseBytes = opts.maxResponseBytes ?? MAX_COMMIT_RESPONSE_BYTES;
  }

  /** Registers the server side; the host must be started. */
  async start(): Promise<void> {
    if (this.started) return;
    await this.m.host.handle(this.protocol, (stream, connection) => this.serve(stream, connection.remotePeer.toString()), {
      maxInboundStreams: this.opts.maxInboundStreams ?? 4,
      maxOutboundStreams: 4,
    });
    this.started = true;
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.m.host.isRunning) await this.m.host.libp2p.unhandle(this.protocol);
  }

  /** The block and seen commit of `height` from `peer`; null if the peer does not have it. */
  async request(peer: string, height: number, signal?: AbortSignal): Promise<CommitResponse | null> {
    const bytes = await requestOnce(this.m.host, peer, this.protocol, encodeCommitRequest(height), {
      maxResponseBytes: this.maxResponseBytes,
      timeoutMs: this.timeoutMs,
      ...(signal ? { signal } : {}),
      label: `commit request to ${peer} for height ${height}`,
      context: { height },
    });
    let res: CommitResponse | null;
    try {
      res = decodeCommitResponse(bytes);
    } catch (e) {
      throw new P2PError('bad_response', `commit response from ${peer} does not decode: ${errorMessage(e)}`, { peer, height });
    }
    if (res && res.commit.height !== height) throw new P2PError('bad_response', `asked for height ${height}, got ${res.commit.height}`);
    return res;
  }

  private async serve(stream: Stream, peer: string): Promise<void> {
    let height: number | undefined;
    let found = false;
    try {
      await answerOnce(stream, MAX_REQUEST_BYTES, this.timeoutMs, async (request) => {
        height = decodeCommitRequest(request);
        const res = await this.m.source.load(height);
        found = res !== null;
        return encodeCommitResponse(res);
      });
      this.log.debug({ peer, height, found }, 'served a commit');
    } catch (e) {
      this.log.debug({ peer, err: errorMessage(e) }, 'commit request failed');
    }
  }
}
