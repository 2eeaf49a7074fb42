// `/tally/<chain>/commit/1`: a request/response protocol for catching up — "give me the block
// and seen commit of height H". One length-prefixed request, one length-prefixed response, then
// the stream is closed. The server answers from the block store; the client gets the answer
// decoded but unverified (the consensus engine verifies the commit against its validator set).
import type { Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { SILENT_LOGGER, P2PError, errorMessage, type P2PLogger } from './errors.js';
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
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const s = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let stream: Stream | undefined;
    try {
      stream = await this.m.host.openStream(peer, this.protocol, s);
      const lp = lpStream(stream, { maxDataLength: this.maxResponseBytes, maxBufferSize: this.maxResponseBytes + 16 });
      await lp.write(encodeCommitRequest(height), { signal: s });
      const bytes = (await lp.read({ signal: s })).subarray();
      await stream.close({ signal: s }).catch(() => {});
      try {
        const res = decodeCommitResponse(bytes);
        if (res && res.commit.height !== height) throw new P2PError('bad_response', `asked for height ${height}, got ${res.commit.height}`);
        return res;
      } catch (e) {
        if (e instanceof P2PError) throw e;
        throw new P2PError('bad_response', `commit response from ${peer} does not decode: ${errorMessage(e)}`, { peer, height });
      }
    } catch (e) {
      stream?.abort(e instanceof Error ? e : new Error(String(e)));
      if (e instanceof P2PError) throw e;
      throw new P2PError('request_failed', `commit request to ${peer} for height ${height} failed: ${errorMessage(e)}`, { peer, height });
    }
  }

  private async serve(stream: Stream, peer: string): Promise<void> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_REQUEST_BYTES });
      const height = decodeCommitRequest((await lp.read({ signal })).subarray());
      const res = await this.m.source.load(height);
      await lp.write(encodeCommitResponse(res), { signal });
      await stream.close({ signal });
      this.log.debug({ peer, height, found: res !== null }, 'served a commit');
    } catch (e) {
      this.log.debug({ peer, err: errorMessage(e) }, 'commit request failed');
      stream.abort(e instanceof Error ? e : new Error(String(e)));
    }
  }
}
