// One request, one response: the shape of every request/response protocol here (commit, status,
// blocks, votes, peer exchange). The client opens a stream, writes one length-prefixed request,
// reads one length-prefixed response and closes; the server reads one request, answers, closes.
// Decoding stays with each protocol; this is only the stream handling, timeouts and aborts.
import type { Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import { P2PError, errorMessage } from './errors.js';
import type { P2PHost } from './host.js';

export interface RequestOptions {
  readonly maxResponseBytes: number;
  readonly timeoutMs: number;
  /** Aborts the request early (e.g. the node stopping). */
  readonly signal?: AbortSignal;
  /** Names the request in errors, e.g. "commit request to <peer> for height 5". */
  readonly label: string;
  readonly context: Record<string, unknown>;
}

/** The response's bytes; a P2PError 'request_failed' (stream aborted) on any failure to get them. */
export async function requestOnce(host: P2PHost, peer: string, protocol: string, request: Uint8Array, o: RequestOptions): Promise<Uint8Array> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  let stream: Stream | undefined;
  try {
    stream = await host.openStream(peer, protocol, signal);
    const lp = lpStream(stream, { maxDataLength: o.maxResponseBytes, maxBufferSize: o.maxResponseBytes + 16 });
    await lp.write(request, { signal });
    const bytes = (await lp.read({ signal })).subarray();
    await stream.close({ signal }).catch(() => {});
    return bytes;
  } catch (e) {
    stream?.abort(e instanceof Error ? e : new Error(String(e)));
    throw new P2PError('request_failed', `${o.label} failed: ${errorMessage(e)}`, { peer, protocol, ...o.context });
  }
}

/**
 * Serves one request on an inbound stream: reads it (at most maxRequestBytes), writes what
 * `respond` returns and closes. On any failure (including one `respond` throws) the stream is
 * aborted and the error rethrown, for the caller to log.
 */
export async function answerOnce(stream: Stream, maxRequestBytes: number, timeoutMs: number, respond: (request: Uint8Array) => Promise<Uint8Array>): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const lp = lpStream(stream, { maxDataLength: maxRequestBytes });
    const response = await respond((await lp.read({ signal })).subarray());
    await lp.write(response, { signal });
    await stream.close({ signal });
    return response;
  } catch (e) {
    stream.abort(e instanceof Error ? e : new Error(String(e)));
    throw e;
  }
}
