// Which heights to ask which peer for. Pure bookkeeping, no I/O or clock, so it is tested with
// fake peers: the fetcher asks it for requests to send and tells it what came back.
//
// The heights ahead of the next one to apply are cut into ranges of `batchSize` blocks, up to
// `maxAhead` blocks ahead and never past the best peer's height. Each range is pending, in
// flight at one peer, or received (blocks waiting to be applied in order). Requests are spread
// over peers that have the range (by their status), the least loaded first, at most
// `maxPendingPerPeer` each. A failed range goes back to pending and is retried at another peer
// when there is one; a peer whose block turned out bad is removed with every range it served.
import { SyncError } from './errors.js';

export interface SchedulerOptions {
  /** Blocks per request. */
  readonly batchSize: number;
  /** Requests in flight to one peer at once. */
  readonly maxPendingPerPeer: number;
  /** Blocks fetched ahead of the next one to apply (bounds memory). */
  readonly maxAhead: number;
}

export interface RangeRequest {
  readonly peer: string;
  readonly from: number;
  readonly count: number;
}

interface PeerEntry {
  base: number;
  height: number;
  pending: number;
}

type RangeState<B> =
  | { readonly kind: 'pending' }
  | { readonly kind: 'inflight'; readonly peer: string }
  | { readonly kind: 'received'; readonly peer: string; readonly blocks: B[] };

interface Range<B> {
  from: number;
  count: number;
  state: RangeState<B>;
  /** Peers that failed this range; others are preferred for the retry. */
  readonly tried: Set<string>;
}

export class RangeScheduler<B> {
  private readonly peers = new Map<string, PeerEntry>();
  /** By first height; contiguous from `next`. */
  private readonly ranges = new Map<number, Range<B>>();
  /** The next height to apply. */
  private next: number;
  /** The height after the last one cut into a range. */
  private end: number;

  constructor(
    private readonly opts: SchedulerOptions,
    startHeight: number,
  ) {
    if (opts.batchSize < 1 || opts.maxPendingPerPeer < 1 || opts.maxAhead < 1) throw new SyncError('config', 'scheduler limits must be at least 1', { ...opts });
    this.next = startHeight;
    this.end = startHeight;
  }

  /** The next height to apply. */
  get height(): number {
    return this.next;
  }

  /** The best height peers report (0 with none). */
  maxPeerHeight(): number {
    let max = 0;
    for (const p of this.peers.values()) max = Math.max(max, p.height);
    return max;
  }

  peerIds(): string[] {
    return [...this.peers.keys()];
  }

  hasPeer(peer: string): boolean {
    return this.peers.has(peer);
  }

  /** Requests in flight now. */
  inFlight(): number {
    let n = 0;
    for (const r of this.ranges.values()) if (r.state.kind === 'inflight') n++;
    return n;
  }

  /** Adds a peer, or updates the heights it reported. */
  setPeer(peer: string, base: number, height: number): void {
    const p = this.peers.get(peer);
    if (p) {
      p.base = base;
      p.height = height;
    } else this.peers.set(peer, { base, height, pending: 0 });
  }

  /** Removes a peer: what it had in flight or delivered but not yet applied is asked again elsewhere. */
  removePeer(peer: string): void {
    if (!this.peers.delete(peer)) return;
    for (const r of this.ranges.values()) {
      if (r.state.kind !== 'pending' && r.state.peer === peer) r.state = { kind: 'pending' };
    }
  }

  /** Requests to send now (each is marked in flight). */
  schedule(): RangeRequest[] {
    this.cut();
    const out: RangeRequest[] = [];
    for (const r of [...this.ranges.values()].sort((a, b) => a.from - b.from)) {
      if (r.state.kind !== 'pending') continue;
      const peer = this.pickPeer(r);
      if (!peer) continue;
      r.state = { kind: 'inflight', peer };
      this.peers.get(peer)!.pending++;
      out.push({ peer, from: r.from, count: r.count });
    }
    return out;
  }

  /**
   * A response to the request for `from`: the first blocks of the range (maybe all). The
   * rest of the range is asked again. An empty answer means the peer does not have the range
   * after all: its height is lowered so it is not asked above what it has.
   */
  received(peer: string, from: number, blocks: B[]): void {
    const r = this.ranges.get(from);
    const p = this.peers.get(peer);
    if (p) p.pending = Math.max(0, p.pending - 1);
    if (!r || r.state.kind !== 'inflight' || r.state.peer !== peer) return; // late, after a retry went elsewhere
    if (blocks.length === 0) {
      if (p) p.height = Math.min(p.height, from - 1);
      r.tried.add(peer);
      r.state = { kind: 'pending' };
      return;
    }
    const got = Math.min(blocks.length, r.count);
    if (got < r.count) {
      // split: the remainder becomes a range of its own
      this.ranges.set(from + got, { from: from + got, count: r.count - got, state: { kind: 'pending' }, tried: new Set() });
      r.count = got;
    }
    r.state = { kind: 'received', peer, blocks: blocks.slice(0, got) };
  }

  /** The request for `from` failed (timeout, error, malformed answer): retry it elsewhere. */
  failed(peer: string, from: number): void {
    const p = this.peers.get(peer);
    if (p) p.pending = Math.max(0, p.pending - 1);
    const r = this.ranges.get(from);
    if (!r || r.state.kind !== 'inflight' || r.state.peer !== peer) return;
    r.tried.add(peer);
    r.state = { kind: 'pending' };
  }

  /** The block at the next height to apply and the peer that sent it, once received. */
  peek(): { block: B; peer: string } | undefined {
    const r = this.rangeOf(this.next);
    if (!r || r.state.kind !== 'received') return undefined;
    return { block: r.state.blocks[this.next - r.from]!, peer: r.state.peer };
  }

  /** The block at the next height was applied. */
  advance(): void {
    const r = this.rangeOf(this.next);
    if (!r || r.state.kind !== 'received') throw new SyncError('internal', `advance past ${this.next}, which was not received`, { height: this.next });
    this.next++;
    if (this.next >= r.from + r.count) this.ranges.delete(r.from);
  }

  /** The block at the next height was bad: its peer is removed (and with it what it sent). Returns that peer. */
  rejectNext(): string | undefined {
    const got = this.peek();
    if (!got) return undefined;
    this.removePeer(got.peer);
    return got.peer;
  }

  /** The range holding `height` (ranges are few: a linear look is fine). */
  private rangeOf(height: number): Range<B> | undefined {
    for (const r of this.ranges.values()) if (height >= r.from && height < r.from + r.count) return r;
    return undefined;
  }

  /** Cuts new ranges up to the look-ahead limit and the best peer height. */
  private cut(): void {
    // a range left over from a partly applied one starts mid-way: keep `end` monotonic
    const limit = Math.min(this.next + this.opts.maxAhead, this.maxPeerHeight() + 1);
    while (this.end < limit) {
      const count = Math.min(this.opts.batchSize, limit - this.end);
      this.ranges.set(this.end, { from: this.end, count, state: { kind: 'pending' }, tried: new Set() });
      this.end += count;
    }
  }

  private pickPeer(r: Range<B>): string | undefined {
    let best: string | undefined;
    let bestScore = Infinity;
    for (const [id, p] of this.peers) {
      if (p.pending >= this.opts.maxPendingPerPeer) continue;
      if (p.base > r.from || p.height < r.from) continue;
      // prefer: not tried before, holds the whole range, fewer requests in flight
      const score = (r.tried.has(id) ? 1000 : 0) + (p.height < r.from + r.count - 1 ? 100 : 0) + p.pending;
      if (score < bestScore) {
        best = id;
        bestScore = score;
      }
    }
    return best;
  }
}
