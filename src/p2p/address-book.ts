// The peers this node knows of and how to reach them: learned from identify (the listen
// addresses a connected peer reports), from peer exchange, or configured (seeds). It says whom to
// dial next (never-failed first, failing ones after a growing pause, given up after
// MAX_DIAL_FAILURES) and what to tell a peer that asks. Bounded; a clock is passed in. The learned
// peers outlive a restart through the address book file (address-book-file.ts).

export type AddrSource = 'config' | 'identify' | 'pex';

export interface KnownPeer {
  readonly id: string;
  /** Dialable multiaddrs ending in /p2p/<id>, most recently learned first. */
  readonly addrs: string[];
  source: AddrSource;
  /** Last time we were connected to it (0: never). */
  lastConnected: number;
  failures: number;
  /** Not dialed before this time (after failures). */
  nextDialAt: number;
}

/** A learned peer as the address book file keeps it. */
export interface SavedPeer {
  readonly id: string;
  readonly addrs: readonly string[];
  readonly source: Exclude<AddrSource, 'config'>;
  readonly lastConnected: number;
}

export interface AddressBookOptions {
  readonly maxPeers?: number;
  readonly maxAddrsPerPeer?: number;
  /** First pause after a failed dial; doubles per failure. */
  readonly retryBaseMs?: number;
}

export const DEFAULT_MAX_BOOK_PEERS = 1000;
const DEFAULT_MAX_ADDRS_PER_PEER = 4;
const DEFAULT_RETRY_BASE_MS = 5_000;
/** Dial failures after which a learned (not configured) address is forgotten. */
export const MAX_DIAL_FAILURES = 8;

export class AddressBook {
  private readonly peers = new Map<string, KnownPeer>();
  private readonly maxPeers: number;
  private readonly maxAddrs: number;
  private readonly retryBaseMs: number;

  constructor(
    opts: AddressBookOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.maxPeers = opts.maxPeers ?? DEFAULT_MAX_BOOK_PEERS;
    this.maxAddrs = opts.maxAddrsPerPeer ?? DEFAULT_MAX_ADDRS_PER_PEER;
    this.retryBaseMs = opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  }

  get size(): number {
    return this.peers.size;
  }

  get(id: string): KnownPeer | undefined {
    return this.peers.get(id);
  }

  /** Records `addr` (which must end in /p2p/`id`); true if the peer was not known before. */
  add(id: string, addr: string, source: AddrSource): boolean {
    const p = this.peers.get(id);
    if (p) {
      const i = p.addrs.indexOf(addr);
      if (i >= 0) p.addrs.splice(i, 1);
      p.addrs.unshift(addr);
      if (p.addrs.length > this.maxAddrs) p.addrs.length = this.maxAddrs;
      // what a peer says of itself (identify) or what the operator said outranks hearsay
      if (source !== 'pex') p.source = p.source === 'config' ? 'config' : source;
      return false;
    }
    if (this.peers.size >= this.maxPeers && !this.evictOne()) return false;
    this.peers.set(id, { id, addrs: [addr], source, lastConnected: 0, failures: 0, nextDialAt: 0 });
    return true;
  }

  connected(id: string): void {
    const p = this.peers.get(id);
    if (!p) return;
    p.lastConnected = this.now();
    p.failures = 0;
    p.nextDialAt = 0;
  }

  /** A dial failed: pause before the next, and forget a learned peer that keeps failing. */
  failed(id: string): void {
    const p = this.peers.get(id);
    if (!p) return;
    p.failures++;
    if (p.failures >= MAX_DIAL_FAILURES && p.source !== 'config') {
      this.peers.delete(id);
      return;
    }
    // the next try uses the peer's next address, if it has several
    if (p.addrs.length > 1) p.addrs.push(p.addrs.shift()!);
    p.nextDialAt = this.now() + this.retryBaseMs * 2 ** Math.min(p.failures - 1, 10);
  }

  remove(id: string): void {
    this.peers.delete(id);
  }

  /** The learned peers, for saving (configured ones come from the config again at start). */
  saved(): SavedPeer[] {
    const out: SavedPeer[] = [];
    for (const p of this.peers.values()) {
      if (p.source === 'config' && p.lastConnected === 0) continue;
      out.push({ id: p.id, addrs: [...p.addrs], source: p.source === 'config' ? 'identify' : p.source, lastConnected: p.lastConnected });
    }
    return out;
  }

  /** Peers saved by an earlier run: known again, dialable at once, nothing overwritten. */
  restore(peers: readonly SavedPeer[]): number {
    let added = 0;
    for (const sp of peers) {
      if (this.peers.has(sp.id)) continue;
      for (const a of [...sp.addrs].reverse()) this.add(sp.id, a, sp.source);
      const p = this.peers.get(sp.id);
      if (!p) continue; // the book is full
      p.lastConnected = sp.lastConnected;
      added++;
    }
    return added;
  }

  /** Up to `n` peers to dial now, for which `skip` is false: fewest failures first, ties at random. */
  candidates(n: number, skip: (id: string) => boolean): KnownPeer[] {
    if (n <= 0) return [];
    const now = this.now();
    const ready = [...this.peers.values()].filter((p) => p.nextDialAt <= now && !skip(p.id));
    shuffle(ready);
    ready.sort((a, b) => a.failures - b.failures);
    return ready.slice(0, n);
  }

  /**
   * Up to `n` addresses to give a peer that asks: one per peer, peers we have been connected to
   * first, then the rest at random; none for which `skip` is true (the asker, banned peers).
   */
  selection(n: number, skip: (id: string) => boolean): string[] {
    const all = [...this.peers.values()].filter((p) => p.failures === 0 && !skip(p.id));
    shuffle(all);
    all.sort((a, b) => Number(b.lastConnected > 0) - Number(a.lastConnected > 0));
    return all.slice(0, n).map((p) => p.addrs[0]!);
  }

  /** Drops the learned peer with the most failures (the oldest on a tie); false if all are configured. */
  private evictOne(): boolean {
    let worst: KnownPeer | undefined;
    for (const p of this.peers.values()) if (p.source !== 'config' && (!worst || p.failures > worst.failures)) worst = p;
    if (!worst) return false;
    this.peers.delete(worst.id);
    return true;
  }
}

function shuffle<T>(a: T[]): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}
