// p2p.send_rate / p2p.recv_rate: bytes per second to and from one peer, each way of each
// connection (CometBFT's per-connection limits, with its defaults of 5,120,000). A token bucket
// that holds one second's worth: bursts up to that pass at once, beyond it the connection slows to
// the rate.
//
// Sends: the TCP connection's sendData (its class found on the first connection, as in
// socket-writes.ts) writes while the bucket is not in debt and reports "cannot send more" once a
// write put it in debt; the stream above keeps its data queued and sends again on 'drain', which
// is dispatched here when the debt is paid. A send asked for while in debt writes nothing.
// Receives: a 'data' listener on the socket debits each chunk and pauses the socket while in debt;
// it resumes the socket then only if the stream had not paused it itself (its own back-pressure,
// through sendPause/sendResume, which are wrapped to tell).
import type { Connection } from '@libp2p/interface';

/** A bucket of `rate` tokens per second holding at most one second's worth; the balance may go negative. */
export class TokenBucket {
  private balance: number;
  private at: number;

  constructor(
    readonly rate: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
    this.balance = rate;
    this.at = now();
  }

  private refill(): void {
    const t = this.now();
    this.balance = Math.min(this.rate, this.balance + ((t - this.at) * this.rate) / 1000);
    this.at = t;
  }

  /** Takes `n` tokens; returns the ms until the balance is back to zero (0: not in debt). */
  take(n: number): number {
    this.refill();
    this.balance -= n;
    return this.debtMs();
  }

  /** The ms until the balance is back to zero (0: not in debt). */
  wait(): number {
    this.refill();
    return this.debtMs();
  }

  private debtMs(): number {
    return this.balance >= 0 ? 0 : Math.ceil((-this.balance * 1000) / this.rate);
  }
}

export interface RateLimits {
  /** p2p.send_rate, bytes per second (absent or Infinity: unlimited). */
  readonly sendBytesPerSec?: number;
  /** p2p.recv_rate, bytes per second. */
  readonly recvBytesPerSec?: number;
}

interface SendResult {
  readonly sentBytes: number;
  readonly canSendMore: boolean;
}

interface SendLimit {
  readonly bucket: TokenBucket;
  timer: NodeJS.Timeout | undefined;
}

interface RecvLimit {
  readonly bucket: TokenBucket;
  timer: NodeJS.Timeout | undefined;
  /** The stream paused reading (its back-pressure): a paid debt must not resume the socket. */
  streamPaused: boolean;
}

interface RawConnection {
  readonly socket: import('node:net').Socket;
  safeDispatchEvent?(type: string): void;
}

interface Proto {
  sendData?: (this: object, data: Iterable<Uint8Array>) => unknown;
  sendPause?: (this: object) => unknown;
  sendResume?: (this: object) => unknown;
}

const sendLimits = new WeakMap<object, SendLimit>();
const recvLimits = new WeakMap<object, RecvLimit>();
const wrapped = new WeakSet<object>();

const isSendResult = (r: unknown): r is SendResult => typeof r === 'object' && r !== null && typeof (r as SendResult).sentBytes === 'number';

function wrap(proto: Proto): boolean {
  if (wrapped.has(proto)) return true;
  const send = proto.sendData;
  const pause = proto.sendPause;
  const resume = proto.sendResume;
  if (typeof send !== 'function' || typeof pause !== 'function' || typeof resume !== 'function') return false;
  wrapped.add(proto);
  proto.sendData = function sendData(this: object, data: Iterable<Uint8Array>): unknown {
    const limit = sendLimits.get(this);
    if (limit === undefined) return send.call(this, data);
    if (limit.timer !== undefined) return { sentBytes: 0, canSendMore: false }; // in debt: 'drain' comes when paid
    const r = send.call(this, data);
    if (!isSendResult(r)) return r;
    const wait = limit.bucket.take(r.sentBytes);
    if (wait === 0) return r;
    const raw = this as RawConnection;
    limit.timer = setTimeout(() => {
      limit.timer = undefined;
      if (!raw.socket.destroyed) raw.safeDispatchEvent?.('drain');
    }, wait);
    limit.timer.unref();
    return { sentBytes: r.sentBytes, canSendMore: false };
  };
  proto.sendPause = function sendPause(this: object): unknown {
    const limit = recvLimits.get(this);
    if (limit !== undefined) limit.streamPaused = true;
    return pause.call(this);
  };
  proto.sendResume = function sendResume(this: object): unknown {
    const limit = recvLimits.get(this);
    if (limit !== undefined) {
      limit.streamPaused = false;
      if (limit.timer !== undefined) return undefined; // in debt: the socket resumes when it is paid
    }
    return resume.call(this);
  };
  return true;
}

/**
 * Limits what `connection` (a TCP connection) sends and receives per second. False when it is not
 * a connection this knows how to limit (another transport, or a changed @libp2p/tcp; the test of
 * this file then fails).
 */
export function limitRates(connection: Connection, limits: RateLimits, now?: () => number): boolean {
  const raw = (connection as unknown as { maConn?: object }).maConn;
  if (raw === undefined || !('socket' in raw)) return false;
  if (!wrap(Object.getPrototypeOf(raw) as Proto)) return false;
  const send = limits.sendBytesPerSec;
  if (send !== undefined && Number.isFinite(send)) sendLimits.set(raw, { bucket: new TokenBucket(send, now), timer: undefined });
  const recv = limits.recvBytesPerSec;
  if (recv === undefined || !Number.isFinite(recv)) return true;
  const limit: RecvLimit = { bucket: new TokenBucket(recv, now), timer: undefined, streamPaused: false };
  recvLimits.set(raw, limit);
  const socket = (raw as RawConnection).socket;
  socket.on('data', (chunk: Buffer) => {
    const wait = limit.bucket.take(chunk.byteLength);
    if (wait === 0 || limit.timer !== undefined) return;
    socket.pause();
    const paid = (): void => {
      // chunks read before the pause took effect may have deepened the debt
      const more = limit.bucket.wait();
      if (more > 0) {
        limit.timer = setTimeout(paid, more);
        limit.timer.unref();
        return;
      }
      limit.timer = undefined;
      if (!limit.streamPaused && !socket.destroyed) socket.resume();
    };
    limit.timer = setTimeout(paid, wait);
    limit.timer.unref();
  });
  socket.once('close', () => {
    if (limit.timer !== undefined) clearTimeout(limit.timer);
    limit.timer = undefined;
  });
  return true;
}
