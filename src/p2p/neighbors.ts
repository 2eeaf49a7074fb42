// Neighbors, `/tally/<chain>/neighbors/1`: each node tells its peers which peers it is connected
// to, so that gossip does not forward a message to a peer that already had it from the peer it
// came from.
//
// Why: gossipsub forwards every message it accepts to all its mesh peers except the one it came
// from. In a validator network that is fully connected (the usual case: a handful of validators,
// all within each other's peer limits), the origin has already sent its message to everyone
// (floodPublish), so each node receives every vote, proposal and tx batch once from its origin
// and once more from every other node: three copies in a mesh of four, each paying Noise, Yamux,
// gossipsub decoding and a content hash before it is dropped as seen. Measured on this machine
// (4 validators, empty blocks, interleaved runs): skipping those forwards cuts CPU per height by
// about a fifth.
//
// The rule (applied in gossip.ts to what gossipsub chose to forward): a node that received a
// message from peer S does not forward it to peer Q when Q said that it is connected to S. That
// loses nothing: by induction along the path the message took from its origin (which sends to
// all its peers), every peer of a node that has the message gets it — from that node when it is
// not connected to the node's sender, else from the sender or, by the same argument, from the
// sender's sender. So in a connected network everyone gets every message, and in a full mesh
// nobody forwards anything. What a stale list can cost (a peer that dropped its connection to S
// since it last told us) is repaired the way any lost message is: consensus re-sends and pulls
// votes when it has not moved for a second.
//
// The price, outside a full mesh: a node forwards by whoever delivered a message first, so a
// faulty relay S that races an honest copy and then withholds the message from its own peers
// delays them until that re-send (a second), where gossipsub's mesh would have sent them another
// copy. Safety is untouched, and in a full mesh no relay is involved at all: every message comes
// straight from its origin.
//
// The exchange is symmetric: the node that opens the stream writes its own list, the other
// answers with its own, and each keeps the other's. A node exchanges lists with a peer when it has
// identified it (the peer speaks this protocol), with all its peers shortly after its own set of
// connections changed, and with all of them every `refreshMs`. A malformed list, or lists sent
// more often than a peer may, cost it score (`bad_pex`).
import type { Stream } from '@libp2p/interface';
import { P2PError, SILENT_LOGGER, errorMessage, type P2PLogger } from './errors.js';
import { answerOnce, requestOnce } from './exchange.js';
import { FloodMeter } from './flood-meter.js';
import type { P2PHost } from './host.js';
import { MAX_NEIGHBORS_MESSAGE_BYTES, decodeNeighbors, encodeNeighbors } from './messages.js';
import { ProtocolPeers } from './protocol-peers.js';

export function neighborsProtocolId(chainId: string): string {
  return `/tally/${chainId}/neighbors/1`;
}

/** What each peer last said it is connected to. No I/O. */
export class NeighborTable {
  private readonly lists = new Map<string, ReadonlySet<string>>();

  set(peer: string, neighbors: Iterable<string>): void {
    this.lists.set(peer, new Set(neighbors));
  }

  delete(peer: string): void {
    this.lists.delete(peer);
  }

  /** Whether `peer` said it is connected to `other` (false when `peer` has said nothing). */
  reports(peer: string, other: string): boolean {
    return this.lists.get(peer)?.has(other) ?? false;
  }

  get size(): number {
    return this.lists.size;
  }
}

/**
 * The rule of this file: of the peers gossip would forward a message to (`candidates`), those
 * that still need it from us given that it came from `source` — the ones that did not say they
 * are connected to `source`. Removes the others from `candidates` and returns how many it removed.
 */
export function pruneForwards(candidates: Set<string>, source: string, table: NeighborTable): number {
  let removed = 0;
  for (const q of candidates) {
    if (table.reports(q, source)) {
      candidates.delete(q);
      removed++;
    }
  }
  return removed;
}

export interface NeighborsOptions {
  readonly chainId: string;
  /** Lists are exchanged with every peer this often, whatever else happened. */
  readonly refreshMs?: number;
  /** After this node's connections change, lists go out this long later (one round for a burst of changes). */
  readonly debounceMs?: number;
  readonly requestTimeoutMs?: number;
}

export interface NeighborsModules {
  readonly host: P2PHost;
  readonly logger?: P2PLogger;
  readonly now?: () => number;
}

export const DEFAULT_NEIGHBORS_REFRESH_MS = 30_000;
export const DEFAULT_NEIGHBORS_DEBOUNCE_MS = 100;
export const DEFAULT_NEIGHBORS_REQUEST_TIMEOUT_MS = 10_000;
/** Lists a peer may send us per second on average (bursts of 4x): connections churn in bursts. */
const MAX_LISTS_PER_SEC = 5;

export interface NeighborsStats {
  /** Exchanges this node started that completed. */
  exchanged: number;
  /** Lists received in exchanges other nodes started. */
  served: number;
}

export class NeighborExchange {
  readonly protocol: string;
  readonly table = new NeighborTable();
  readonly stats: NeighborsStats = { exchanged: 0, served: 0 };
  private readonly log: P2PLogger;
  private running = false;
  private abort = new AbortController();
  private refreshTimer: NodeJS.Timeout | null = null;
  private pushTimer: NodeJS.Timeout | null = null;
  /** Connected peers that speak this protocol. */
  private readonly speaks: ProtocolPeers;
  /** Exchanges in flight, and peers to exchange with again once theirs ends (our list changed meanwhile). */
  private readonly inFlight = new Set<string>();
  private readonly again = new Set<string>();
  private readonly meter: FloodMeter;

  constructor(
    private readonly opts: NeighborsOptions,
    private readonly m: NeighborsModules,
  ) {
    this.protocol = neighborsProtocolId(opts.chainId);
    this.log = m.logger ?? SILENT_LOGGER;
    this.meter = new FloodMeter({ ratePerSec: MAX_LISTS_PER_SEC, burst: 4 * MAX_LISTS_PER_SEC }, m.now ?? Date.now);
    this.speaks = new ProtocolPeers(m.host, this.protocol, (peer) => void this.exchange(peer));
  }

  async start(): Promise<void> {
    if (this.running) return;
    const host = this.m.host;
    await host.handle(this.protocol, (stream, connection) => this.serve(stream, connection.remotePeer.toString()), { maxInboundStreams: 2, maxOutboundStreams: 2 });
    host.libp2p.addEventListener('peer:connect', this.onChange);
    host.libp2p.addEventListener('peer:disconnect', this.onDisconnect);
    this.abort = new AbortController();
    this.running = true;
    this.refreshTimer = setInterval(() => this.exchangeAll(), this.opts.refreshMs ?? DEFAULT_NEIGHBORS_REFRESH_MS);
    await this.speaks.start();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (this.pushTimer) clearTimeout(this.pushTimer);
    this.refreshTimer = this.pushTimer = null;
    this.again.clear();
    this.speaks.stop();
    const host = this.m.host;
    if (!host.isRunning) return;
    host.libp2p.removeEventListener('peer:connect', this.onChange);
    host.libp2p.removeEventListener('peer:disconnect', this.onDisconnect);
    await host.libp2p.unhandle(this.protocol);
  }

  private ownList(): string[] {
    return this.m.host.peers().map((p) => p.id);
  }

  private readonly onChange = (): void => {
    if (!this.running || this.pushTimer) return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = null;
      this.exchangeAll();
    }, this.opts.debounceMs ?? DEFAULT_NEIGHBORS_DEBOUNCE_MS);
  };

  private readonly onDisconnect = (e: CustomEvent<{ toString(): string }>): void => {
    this.table.delete(e.detail.toString());
    this.onChange();
  };

  private exchangeAll(): void {
    if (!this.running) return;
    for (const p of this.speaks) void this.exchange(p);
  }

  /** Sends our list to `peer` and keeps its answer. */
  private async exchange(peer: string): Promise<void> {
    if (this.inFlight.has(peer)) {
      this.again.add(peer);
      return;
    }
    this.inFlight.add(peer);
    try {
      const bytes = await requestOnce(this.m.host, peer, this.protocol, encodeNeighbors(this.ownList()), {
        maxResponseBytes: MAX_NEIGHBORS_MESSAGE_BYTES,
        timeoutMs: this.opts.requestTimeoutMs ?? DEFAULT_NEIGHBORS_REQUEST_TIMEOUT_MS,
        signal: this.abort.signal,
        label: `neighbors exchange with ${peer}`,
        context: {},
      });
      this.accept(peer, bytes, 'answer');
      this.stats.exchanged++;
    } catch (e) {
      if (this.running) this.log.debug({ peer, err: errorMessage(e) }, 'neighbors exchange failed');
    } finally {
      this.inFlight.delete(peer);
    }
    if (this.again.delete(peer) && this.running && this.speaks.has(peer)) void this.exchange(peer);
  }

  /** Keeps `peer`'s list; a malformed one costs the peer score and is not kept. */
  private accept(peer: string, bytes: Uint8Array, what: string): void {
    let list: string[];
    try {
      list = decodeNeighbors(bytes);
    } catch (e) {
      this.m.host.penalize(peer, 'bad_pex', `neighbors ${what}: ${errorMessage(e)}`);
      throw e;
    }
    // a peer that is no longer connected has nothing to be forwarded anyway
    if (this.m.host.isConnected(peer)) this.table.set(peer, list);
  }

  private async serve(stream: Stream, peer: string): Promise<void> {
    const rate = this.meter.take(peer);
    if (rate.over) {
      if (rate.penalize > 0) this.m.host.penalize(peer, 'bad_pex', 'neighbor lists too often');
      stream.abort(new P2PError('bad_response', 'neighbor lists too often', { peer }));
      return;
    }
    try {
      await answerOnce(stream, MAX_NEIGHBORS_MESSAGE_BYTES, this.opts.requestTimeoutMs ?? DEFAULT_NEIGHBORS_REQUEST_TIMEOUT_MS, (request) => {
        this.accept(peer, request, 'list');
        return Promise.resolve(encodeNeighbors(this.ownList()));
      });
      this.stats.served++;
    } catch (e) {
      this.log.debug({ peer, err: errorMessage(e) }, 'neighbors exchange not served');
    }
  }
}
