// Per-peer message rate, as a token bucket with a clock passed in: a peer may send
// `ratePerSec` messages a second on average, in bursts of up to `burst`. Beyond that every
// message is excess; hit() says when to penalize the peer for it — at most once per
// `penaltyEveryMs`, so one flooding second costs one penalty, not thousands.

export interface FloodMeterOptions {
  readonly ratePerSec: number;
  /** Bucket size (default 2 × ratePerSec). */
  readonly burst?: number;
  /** At most one penalty per peer per this long (default 1 s). */
  readonly penaltyEveryMs?: number;
  /** Peers tracked; the least recently seen are forgotten first. */
  readonly maxPeers?: number;
}

interface Bucket {
  tokens: number;
  at: number;
  lastPenalty: number;
  excess: number;
}

export class FloodMeter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly rate: number;
  private readonly burst: number;
  private readonly penaltyEveryMs: number;
  private readonly maxPeers: number;

  constructor(
    opts: FloodMeterOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.rate = opts.ratePerSec;
    this.burst = opts.burst ?? 2 * opts.ratePerSec;
    this.penaltyEveryMs = opts.penaltyEveryMs ?? 1000;
    this.maxPeers = opts.maxPeers ?? 4096;
  }

  /**
   * Counts one message from `peer`. Returns the number of excess messages since the last penalty
   * when a penalty is due now, else 0.
   */
  hit(peer: string): number {
    return this.take(peer).penalize;
  }

  /** Like hit(), also saying whether this message is beyond the rate (to refuse it). */
  take(peer: string): { readonly over: boolean; readonly penalize: number } {
    const now = this.now();
    let b = this.buckets.get(peer);
    if (b) {
      this.buckets.delete(peer); // re-insert: recency order for eviction
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.rate) / 1000);
      b.at = now;
    } else b = { tokens: this.burst, at: now, lastPenalty: -Infinity, excess: 0 };
    this.buckets.set(peer, b);
    while (this.buckets.size > this.maxPeers) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { over: false, penalize: 0 };
    }
    b.excess++;
    if (now - b.lastPenalty < this.penaltyEveryMs) return { over: true, penalize: 0 };
    b.lastPenalty = now;
    const n = b.excess;
    b.excess = 0;
    return { over: true, penalize: n };
  }

  forget(peer: string): void {
    this.buckets.delete(peer);
  }
}
