// Peer exchange, `/tally/<chain>/pex/1`: so that a node given one peer (a seed or a persistent
// peer) finds the others. One length-prefixed request ("up to N addresses"), one answer (the
// addresses of peers the answering node knows, each ending in /p2p/<id>), then the stream closes.
//
// A node asks a peer for addresses when it connects to it and, every `intervalMs`, asks one
// connected peer — but only while it has room for more outbound peers (max_num_outbound_peers).
// Learned addresses go to the address book, and unknown peers are dialed at once while there is
// room. The book also learns every connected peer's own listen addresses from identify, which is
// how an answering node knows what to tell. Seeds are dialed at start, and again whenever this
// node has no peer and no address to try; a connection to a seed is kept like any other outbound
// connection (it counts against the outbound limit).
//
// Seed mode (p2p.seed_mode, CometBFT's): a node that only helps others find peers. It keeps no
// connection but to persistent peers: a peer that connects to it is asked for addresses, answered,
// and hung up on (once both are done, or SEED_LINGER_MS after its own request if the peer asks
// nothing); every interval it crawls, dialing up to SEED_CRAWL_BATCH peers of its book that it has
// not crawled for four intervals, asking each and hanging up the same way. It never dials to fill
// outbound slots.
//
// A peer that answers with a malformed message, or asks more often than a third of the
// interval (with a small burst), loses score (`bad_pex`); a peer that speaks another chain's
// protocols and not ours is banned outright (`wrong_chain`).
import type { IdentifyResult, Stream } from '@libp2p/interface';
import { loadAddressBook, saveAddressBook } from './address-book-file.js';
import { restoreListFile } from './list-file.js';
import { AddressBook, type AddressBookOptions } from './address-book.js';
import { P2PError, SILENT_LOGGER, errorMessage, type P2PLogger } from './errors.js';
import { answerOnce, requestOnce } from './exchange.js';
import { FloodMeter } from './flood-meter.js';
import { parsePersistentPeers, type P2PHost, type PersistentPeer } from './host.js';
import { ProtocolPeers } from './protocol-peers.js';
import { MAX_PEX_ADDRS, MAX_PEX_MESSAGE_BYTES, checkPexAddr, decodePexAddrs, decodePexRequest, encodePexAddrs, encodePexRequest } from './messages.js';

export function pexProtocolId(chainId: string): string {
  return `/tally/${chainId}/pex/1`;
}

export interface PexOptions {
  readonly chainId: string;
  /** p2p.seeds: multiaddrs ending in /p2p/<id>, dialed for addresses. */
  readonly seeds?: readonly string[];
  /** How often a node short of outbound peers asks one peer for addresses (CometBFT: 30 s). */
  readonly intervalMs?: number;
  /** A whole request: dial of the stream, request, answer. */
  readonly requestTimeoutMs?: number;
  /** Addresses asked for (and at most given) per request. */
  readonly maxAddrs?: number;
  readonly book?: AddressBookOptions;
  /** p2p.addr_book_file: learned peers are loaded from it at start, saved (when it changed) every interval and at stop. */
  readonly bookFile?: string;
  /** p2p.seed_mode: crawl for addresses and hang up, keeping no connection but persistent ones. */
  readonly seedMode?: boolean;
  /** p2p.private_peer_ids: peers whose addresses are never given out. */
  readonly privatePeers?: readonly string[];
}

export interface PexModules {
  readonly host: P2PHost;
  readonly logger?: P2PLogger;
  readonly now?: () => number;
}

export const DEFAULT_PEX_INTERVAL_MS = 30_000;
export const DEFAULT_PEX_REQUEST_TIMEOUT_MS = 10_000;
/** A failed request to a peer is retried once after this long. */
const RETRY_MS = 1_000;
/** Peers whose last request time is remembered (either direction). */
const MAX_TRACKED_PEERS = 4096;
/** Seed mode: peers dialed per interval. */
export const SEED_CRAWL_BATCH = 8;
/** Seed mode: how long a peer we asked may stay connected without asking us. */
export const SEED_LINGER_MS = 3_000;
/** Seed mode: time for an answer to reach the peer before the hang-up. */
const SEED_FLUSH_MS = 200;

export interface PexStats {
  requests: number;
  served: number;
  /** Seed mode: connections closed once a peer was done with. */
  hangups: number;
  /** Peers first heard of through peer exchange. */
  learned: number;
  dials: number;
}

export class PeerExchange {
  readonly protocol: string;
  readonly book: AddressBook;
  readonly stats: PexStats = { requests: 0, served: 0, hangups: 0, learned: 0, dials: 0 };
  private readonly log: P2PLogger;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly maxAddrs: number;
  private seeds: PersistentPeer[];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private abort = new AbortController();
  /** When we last asked each peer. */
  private readonly asked = new Map<string, number>();
  /** Connected peers that speak our protocol. */
  private readonly speaksPex: ProtocolPeers;
  /** The address book file's text as this node last wrote it. */
  private savedBook: string | undefined;
  private readonly dialing = new Set<string>();
  private readonly retries = new Set<NodeJS.Timeout>();
  /** Requests a peer may make: one per third of the interval, bursts of 3. */
  private readonly requestMeter: FloodMeter;
  private readonly seedMode: boolean;
  private readonly privatePeers: ReadonlySet<string>;
  /** Seed mode: when each peer was last dialed by the crawl. */
  private readonly crawled = new Map<string, number>();
  /** Seed mode: our requests in flight, which a hang-up after answering a peer waits for. */
  private readonly asking = new Map<string, Promise<void>>();
  private readonly hangups = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly opts: PexOptions,
    private readonly m: PexModules,
  ) {
    this.protocol = pexProtocolId(opts.chainId);
    this.log = m.logger ?? SILENT_LOGGER;
    this.now = m.now ?? Date.now;
    this.intervalMs = opts.intervalMs ?? DEFAULT_PEX_INTERVAL_MS;
    this.maxAddrs = Math.min(opts.maxAddrs ?? MAX_PEX_ADDRS, MAX_PEX_ADDRS);
    this.book = new AddressBook(opts.book ?? {}, this.now);
    this.seeds = parsePersistentPeers(opts.seeds ?? []);
    this.seedMode = opts.seedMode ?? false;
    this.privatePeers = new Set(opts.privatePeers ?? []);
    const minRequestMs = Math.max(1, this.intervalMs / 3);
    this.requestMeter = new FloodMeter({ ratePerSec: 1000 / minRequestMs, burst: 3, penaltyEveryMs: minRequestMs, maxPeers: MAX_TRACKED_PEERS }, this.now);
    this.speaksPex = new ProtocolPeers(m.host, this.protocol, (peer) => {
      if (this.seedMode || this.wantMore()) void this.ask(peer);
    });
  }

  /** Serves the protocol, listens for new peers, dials the seeds; the host must be started. */
  async start(): Promise<void> {
    if (this.running) return;
    const host = this.m.host;
    await host.handle(this.protocol, (stream, connection) => this.serve(stream, connection.remotePeer.toString()), { maxInboundStreams: 2, maxOutboundStreams: 2 });
    host.libp2p.addEventListener('peer:identify', this.onIdentify);
    this.abort = new AbortController();
    this.running = true;
    await this.speaksPex.start();
    this.loadBook();
    for (const s of this.seeds) this.book.add(s.id, s.addr.toString(), 'config');
    this.dialSeeds();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
    for (const t of this.hangups.values()) clearTimeout(t);
    this.hangups.clear();
    this.saveBook();
    const host = this.m.host;
    if (!host.isRunning) return;
    host.libp2p.removeEventListener('peer:identify', this.onIdentify);
    this.speaksPex.stop();
    await host.libp2p.unhandle(this.protocol);
  }

  private loadBook(): void {
    const file = this.opts.bookFile;
    if (file === undefined) return;
    const load = () => {
      const loaded = loadAddressBook(file);
      return { ...loaded, items: loaded.peers };
    };
    restoreListFile(this.log, file, 'address book', load, (peers) => this.book.restore(peers));
  }

  private saveBook(): void {
    const file = this.opts.bookFile;
    if (file === undefined) return;
    try {
      this.savedBook = saveAddressBook(file, this.book.saved(), this.savedBook);
    } catch (e) {
      this.log.warn({ file, err: errorMessage(e) }, 'could not save the address book');
    }
  }

  /** More seeds (RPC dial_seeds): remembered and dialed now. */
  addSeeds(addrs: readonly string[]): void {
    const added = parsePersistentPeers(addrs);
    for (const s of added) {
      if (!this.seeds.some((x) => x.id === s.id)) this.seeds.push(s);
      this.book.add(s.id, s.addr.toString(), 'config');
    }
    if (this.running) for (const s of added) this.dialOne(s.id, s.addr.toString());
  }

  /** Asks `peer` for addresses it knows (decoded and checked, not yet added to the book). */
  async request(peer: string, signal?: AbortSignal): Promise<string[]> {
    const bytes = await requestOnce(this.m.host, peer, this.protocol, encodePexRequest(this.maxAddrs), {
      maxResponseBytes: MAX_PEX_MESSAGE_BYTES,
      timeoutMs: this.opts.requestTimeoutMs ?? DEFAULT_PEX_REQUEST_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
      label: `peer-exchange request to ${peer}`,
      context: {},
    });
    try {
      const addrs = decodePexAddrs(bytes);
      if (addrs.length > this.maxAddrs) throw new Error(`${addrs.length} addresses, asked for ${this.maxAddrs}`);
      return addrs;
    } catch (e) {
      this.m.host.penalize(peer, 'bad_pex', `answer: ${errorMessage(e)}`);
      throw new P2PError('bad_response', `peer-exchange answer from ${peer} is malformed: ${errorMessage(e)}`, { peer });
    }
  }

  // ---- events ---------------------------------------------------------------------------------

  private readonly onIdentify = (e: CustomEvent<IdentifyResult>): void => {
    if (!this.running) return;
    const host = this.m.host;
    const id = e.detail.peerId.toString();
    if (id === host.peerId.toString()) return;
    const chainPrefix = `/tally/${this.opts.chainId}/`;
    const protocols = e.detail.protocols;
    const other = protocols.find((p) => /^\/tally\/[^/]+\//.test(p) && !p.startsWith(chainPrefix));
    if (other !== undefined && !protocols.some((p) => p.startsWith(chainPrefix))) {
      // a node of another chain: nothing to say to each other, and not worth redialing
      host.penalize(id, 'wrong_chain', `speaks ${other}`);
      this.book.remove(id);
      return;
    }
    for (const ma of e.detail.listenAddrs) {
      let a = ma.toString();
      if (/^\/ip[46]\/(0\.0\.0\.0|::)\//.test(a)) continue; // a wildcard is not an address to dial
      if (!a.includes('/p2p/')) a = `${a}/p2p/${id}`;
      const ok = checkPexAddr(a);
      if (typeof ok !== 'string' && ok.peerId === id) this.book.add(id, a, 'identify');
    }
    this.book.connected(id);
    // asking it is speaksPex's part (which also covers peers identified before this start)
  };

  private tick(): void {
    if (!this.running) return;
    this.saveBook();
    if (this.seedMode) return this.crawl();
    this.dialSome();
    if (!this.wantMore()) return;
    const now = this.now();
    const askable = [...this.speaksPex].filter((p) => now - (this.asked.get(p) ?? -Infinity) >= this.intervalMs && this.m.host.isConnected(p));
    const pick = askable[Math.floor(Math.random() * askable.length)];
    if (pick !== undefined) void this.ask(pick);
    else if (this.m.host.peers().length === 0 && this.dialing.size === 0) this.dialSeeds();
  }

  /** Room for another outbound peer, counting dials in flight. */
  private wantMore(): boolean {
    return this.m.host.outboundSlots() - this.dialing.size > 0;
  }

  /** Asks `peer` for addresses; in seed mode, then hangs up on it (see hangUpLater). */
  private ask(peer: string, retry = true): Promise<void> {
    const asked = this.askNow(peer, retry);
    if (!this.seedMode) return asked;
    this.asking.set(peer, asked);
    return asked.finally(() => {
      if (this.asking.get(peer) === asked) this.asking.delete(peer);
      this.hangUpLater(peer, SEED_LINGER_MS);
    });
  }

  private async askNow(peer: string, retry: boolean): Promise<void> {
    const now = this.now();
    if (now - (this.asked.get(peer) ?? -Infinity) < this.intervalMs) return;
    this.asked.delete(peer);
    this.asked.set(peer, now);
    while (this.asked.size > MAX_TRACKED_PEERS) this.asked.delete(this.asked.keys().next().value!);
    this.stats.requests++;
    let addrs: string[];
    try {
      addrs = await this.request(peer, this.abort.signal);
    } catch (e) {
      if (!this.running) return;
      this.log.debug({ peer, err: errorMessage(e) }, 'peer exchange failed');
      // a stream can fail while a duplicate connection to the peer is being closed: try once
      // more soon rather than a whole interval later
      if (retry && e instanceof P2PError && e.kind === 'request_failed') {
        this.asked.delete(peer);
        const t = setTimeout(() => {
          this.retries.delete(t);
          if (this.running && this.m.host.isConnected(peer) && (this.seedMode || this.wantMore())) void this.ask(peer, false);
        }, RETRY_MS);
        this.retries.add(t);
      }
      return;
    }
    const self = this.m.host.peerId.toString();
    let learned = 0;
    for (const a of addrs) {
      const ok = checkPexAddr(a);
      if (typeof ok === 'string' || ok.peerId === self || this.m.host.isBanned(ok.peerId)) continue;
      if (this.book.add(ok.peerId, a, 'pex')) learned++;
    }
    this.stats.learned += learned;
    this.log.debug({ peer, addrs: addrs.length, learned, book: this.book.size }, 'peer exchange answer');
    this.dialSome();
  }

  private dialSome(): void {
    if (!this.running || this.seedMode) return;
    const host = this.m.host;
    const self = host.peerId.toString();
    const room = host.outboundSlots() - this.dialing.size;
    // seeds are dialed at start and when this node is alone (dialSeeds), not to fill slots: one in
    // seed mode hangs up, and would be redialed every interval
    const seed = (id: string): boolean => this.seeds.some((s) => s.id === id);
    for (const p of this.book.candidates(room, (id) => id === self || host.isConnected(id) || host.isBanned(id) || this.dialing.has(id) || seed(id))) {
      this.dialOne(p.id, p.addrs[0]!);
    }
  }

  private dialOne(id: string, addr: string): void {
    const host = this.m.host;
    if (!this.running || this.dialing.has(id) || host.isConnected(id) || id === host.peerId.toString()) return;
    this.dialing.add(id);
    this.stats.dials++;
    host.dial(addr).then(
      () => {
        this.book.connected(id);
        // a seed's crawl connects every interval: not worth an info line each
        (this.seedMode ? this.log.debug : this.log.info).call(this.log, { peer: id, addr }, 'connected to a discovered peer');
      },
      (e: unknown) => {
        if (!this.running) return;
        this.book.failed(id);
        this.log.debug({ peer: id, addr, err: errorMessage(e) }, 'dial of a discovered peer failed');
      },
    ).finally(() => this.dialing.delete(id));
  }

  private dialSeeds(): void {
    for (const s of this.seeds) this.dialOne(s.id, s.addr.toString());
  }

  /** Seed mode: dials a few peers not crawled for four intervals (asked and hung up on once connected). */
  private crawl(): void {
    const host = this.m.host;
    const self = host.peerId.toString();
    const now = this.now();
    const gap = 4 * this.intervalMs;
    const room = Math.min(SEED_CRAWL_BATCH, host.outboundSlots() - this.dialing.size);
    const skip = (id: string): boolean => id === self || host.isConnected(id) || host.isBanned(id) || this.dialing.has(id) || now - (this.crawled.get(id) ?? -Infinity) < gap;
    for (const p of this.book.candidates(room, skip)) {
      this.crawled.delete(p.id);
      this.crawled.set(p.id, now);
      while (this.crawled.size > MAX_TRACKED_PEERS) this.crawled.delete(this.crawled.keys().next().value!);
      this.dialOne(p.id, p.addrs[0]!);
    }
  }

  /**
   * Seed mode: closes the connection to `peer` after `ms` (a later call resets the time), unless
   * it is a persistent peer. A peer is then done with: asked, and answered or given time to ask.
   */
  private hangUpLater(peer: string, ms: number): void {
    const host = this.m.host;
    if (!this.running || host.isPersistent(peer)) return;
    const old = this.hangups.get(peer);
    if (old !== undefined) clearTimeout(old);
    const t = setTimeout(() => {
      if (this.hangups.get(peer) === t) this.hangups.delete(peer);
      if (!this.running || !host.isConnected(peer) || host.isPersistent(peer)) return;
      this.stats.hangups++;
      this.log.debug({ peer }, 'seed mode: hanging up on a peer it is done with');
      void host.hangUp(peer);
    }, ms);
    this.hangups.set(peer, t);
  }

  /** Seed mode, after answering `peer`: hang up once our own request to it (if any) has settled. */
  private async afterServed(peer: string): Promise<void> {
    const ours = this.asking.get(peer);
    if (ours !== undefined) await ours;
    this.hangUpLater(peer, SEED_FLUSH_MS);
  }

  private async serve(stream: Stream, peer: string): Promise<void> {
    const host = this.m.host;
    const rate = this.requestMeter.take(peer);
    if (rate.over) {
      this.log.debug({ peer }, 'peer-exchange request refused: too often');
      if (rate.penalize > 0) host.penalize(peer, 'bad_pex', 'peer-exchange requests too often');
      stream.abort(new P2PError('bad_response', 'peer-exchange requests too often', { peer }));
      return;
    }
    let served = 0;
    try {
      await answerOnce(stream, 16, this.opts.requestTimeoutMs ?? DEFAULT_PEX_REQUEST_TIMEOUT_MS, (request) => {
        let limit: number;
        try {
          limit = decodePexRequest(request);
        } catch (e) {
          if (e instanceof Error && e.name === 'DecodeError') host.penalize(peer, 'bad_pex', `request: ${e.message}`);
          throw e;
        }
        const addrs = this.book.selection(Math.min(limit, this.maxAddrs), (id) => id === peer || host.isBanned(id) || this.privatePeers.has(id));
        served = addrs.length;
        return Promise.resolve(encodePexAddrs(addrs));
      });
      this.stats.served++;
      this.log.debug({ peer, addrs: served }, 'served peer exchange');
      if (this.seedMode) void this.afterServed(peer);
    } catch (e) {
      this.log.debug({ peer, err: errorMessage(e) }, 'peer-exchange request not served');
    }
  }
}
