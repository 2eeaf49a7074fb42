// The libp2p host: TCP + Noise + Yamux + identify, with gossipsub as a service. Its identity is
// the node key (so the node id is the PeerId), it listens on p2p.laddr, keeps connections to
// the persistent peers (redialing with exponential backoff when a dial fails or a connection
// drops), and enforces the inbound/outbound peer limits with a connection gater. It also keeps
// the peers' scores: offences reported by gossip and peer exchange lower a peer's score, and a
// peer below the threshold is disconnected and refused (both ways) until its ban expires.
import { noise } from '@chainsafe/libp2p-noise';
import { gossipsub, type GossipSub, type GossipsubOpts } from '@libp2p/gossipsub';
import { identify, type Identify } from '@libp2p/identify';
import type { Connection, PeerId, PrivateKey, Stream, StreamHandler } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import { parseMultiaddr, type P2PConfig } from '../config/index.js';
import { P2PError, SILENT_LOGGER, errorMessage, type P2PLogger } from './errors.js';
import { loadBans, saveBans } from './bans-file.js';
import { restoreListFile } from './list-file.js';
import { PeerScores, type Ban, type Offence, type PeerScoreOptions } from './peer-scores.js';
import { installLengthPrefixedFastPath } from './length-prefixed.js';
import { installYamuxWindowHysteresis } from './yamux-window.js';
import { limitRates } from './rate-limit.js';
import { writeWholeSends } from './socket-writes.js';

export interface HostOptions {
  /** Listen multiaddrs (/ip4/<ip>/tcp/<port>; port 0 picks a free one). */
  readonly listen: readonly string[];
  /** Addresses to advertise instead of the listen addresses (p2p.external_address). */
  readonly announce?: readonly string[];
  /** Multiaddrs ending in /p2p/<peer id>: dialed at start and redialed whenever lost. */
  readonly persistentPeers?: readonly string[];
  /** Inbound connections from non-persistent peers beyond this are refused. */
  readonly maxInboundPeers?: number;
  /** Outbound connections to non-persistent peers beyond this are not dialed. */
  readonly maxOutboundPeers?: number;
  /** Peer ids the limits do not apply to (p2p.unconditional_peer_ids): let in, and dials not refused; not redialed. */
  readonly unconditionalPeers?: readonly string[];
  /** One dial attempt, TCP through the upgrade. */
  readonly dialTimeoutMs?: number;
  /** Noise + Yamux upgrade of an inbound connection. */
  readonly handshakeTimeoutMs?: number;
  /** First redial delay of a persistent peer; doubles per failure up to redialMaxMs. */
  readonly redialBaseMs?: number;
  readonly redialMaxMs?: number;
  /** gossipsub settings (see gossip.ts's gossipsubOptions). */
  readonly gossipsub?: Partial<GossipsubOpts>;
  /** Ban threshold, ban duration, score decay (p2p.ban_threshold, p2p.ban_duration). */
  readonly scores?: PeerScoreOptions;
  /** Where bans are kept across restarts (see bans-file.ts); none when unset. */
  readonly bansFile?: string;
  /** p2p.send_rate / p2p.recv_rate: bytes per second each way of each connection (see rate-limit.ts); unset: unlimited. */
  readonly sendRate?: number;
  readonly recvRate?: number;
}

export interface HostModules {
  /** The node key as a libp2p key (NodeKey.libp2pKey()). */
  readonly privateKey: PrivateKey;
  readonly logger?: P2PLogger;
  /** The scores' clock in ms (tests pass a fake one). */
  readonly now?: () => number;
  /** Told of every ban, after the peer was disconnected (metrics). */
  readonly onBan?: (ban: Ban) => void;
}

export const DEFAULT_MAX_INBOUND_PEERS = 40;
export const DEFAULT_MAX_OUTBOUND_PEERS = 10;
export const DEFAULT_DIAL_TIMEOUT_MS = 3_000;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 20_000;
export const DEFAULT_REDIAL_BASE_MS = 250;
export const DEFAULT_REDIAL_MAX_MS = 10_000;

/** The host options from config.toml's [p2p] section. */
export function hostOptionsFromConfig(p2p: P2PConfig): HostOptions {
  return {
    listen: [p2p.laddr],
    ...(p2p.externalAddress ? { announce: [p2p.externalAddress] } : {}),
    // with peer exchange on, seeds are dialed for addresses (see pex.ts); without it they are
    // the only other peers this node can know of, so they are kept like persistent peers
    persistentPeers: p2p.pex ? p2p.persistentPeers : [...new Set([...p2p.persistentPeers, ...p2p.seeds])],
    maxInboundPeers: p2p.maxNumInboundPeers,
    maxOutboundPeers: p2p.maxNumOutboundPeers,
    unconditionalPeers: p2p.unconditionalPeerIds,
    dialTimeoutMs: p2p.dialTimeoutMs,
    handshakeTimeoutMs: p2p.handshakeTimeoutMs,
    scores: { banThreshold: p2p.banThreshold, banDurationMs: p2p.banDurationMs },
    sendRate: p2p.sendRate,
    recvRate: p2p.recvRate,
  };
}

export interface PersistentPeer {
  readonly id: string;
  readonly addr: Multiaddr;
}

/** Parses "/ip4/…/tcp/…/p2p/<id>" entries; a P2PError names the bad one. */
export function parsePersistentPeers(addrs: readonly string[]): PersistentPeer[] {
  const out = new Map<string, PersistentPeer>();
  for (const a of addrs) {
    const parsed = parseMultiaddr(a);
    if (typeof parsed === 'string') throw new P2PError('config', `persistent peer: ${parsed}`, { addr: a });
    if (parsed.peerId === undefined) throw new P2PError('config', `persistent peer ${JSON.stringify(a)} has no /p2p/<peer id>`, { addr: a });
    if (!out.has(parsed.peerId)) out.set(parsed.peerId, { id: parsed.peerId, addr: multiaddr(a) });
  }
  return [...out.values()];
}

export type Libp2pNode = Libp2p<{ identify: Identify; pubsub: GossipSub }>;

/** A connected peer, as net_info and logs show it. */
export interface PeerInfo {
  readonly id: string;
  readonly remoteAddr: string;
  readonly outbound: boolean;
}

interface Redial {
  attempts: number;
  timer: NodeJS.Timeout | null;
}

export class P2PHost {
  private node: Libp2pNode | undefined;
  private running = false;
  private readonly log: P2PLogger;
  private readonly persistent: PersistentPeer[];
  private readonly persistentIds: Set<string>;
  private readonly unconditionalIds: ReadonlySet<string>;
  private readonly redials = new Map<string, Redial>();
  /** Aborts dials in flight at stop(). */
  private dialAbort = new AbortController();
  private inbound = 0;
  private outbound = 0;
  /** Scores and bans of peers (see peer-scores.ts). */
  readonly scores: PeerScores;

  constructor(
    private readonly opts: HostOptions,
    private readonly m: HostModules,
  ) {
    this.log = m.logger ?? SILENT_LOGGER;
    this.scores = new PeerScores(opts.scores ?? {}, m.now ? { now: m.now } : {});
    this.loadBans();
    this.persistent = parsePersistentPeers(opts.persistentPeers ?? []);
    this.persistentIds = new Set(this.persistent.map((p) => p.id));
    this.unconditionalIds = new Set(opts.unconditionalPeers ?? []);
  }

  /** The libp2p node (after start()). */
  get libp2p(): Libp2pNode {
    if (!this.node) throw new P2PError('not_running', 'the p2p host is not started');
    return this.node;
  }

  get pubsub(): GossipSub {
    return this.libp2p.services.pubsub;
  }

  get peerId(): PeerId {
    return this.libp2p.peerId;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The addresses this host listens on, each ending in /p2p/<own id>. */
  addresses(): string[] {
    return this.node ? this.node.getMultiaddrs().map((a) => a.toString()) : [];
  }

  /** Peers with at least one open connection (one entry per peer). */
  peers(): PeerInfo[] {
    if (!this.node) return [];
    const seen = new Map<string, PeerInfo>();
    for (const c of this.node.getConnections()) {
      const id = c.remotePeer.toString();
      if (!seen.has(id)) seen.set(id, { id, remoteAddr: c.remoteAddr.toString(), outbound: c.direction === 'outbound' });
    }
    return [...seen.values()];
  }

  isPersistent(peer: string): boolean {
    return this.persistentIds.has(peer);
  }

  /** Outside the peer limits: a persistent or an unconditional peer. */
  private unlimited(peer: string): boolean {
    return this.persistentIds.has(peer) || this.unconditionalIds.has(peer);
  }

  /** Outbound connections this host may still open to non-persistent peers. */
  outboundSlots(): number {
    return Math.max(0, (this.opts.maxOutboundPeers ?? DEFAULT_MAX_OUTBOUND_PEERS) - this.outbound);
  }

  isBanned(peer: string): boolean {
    return this.scores.isBanned(peer);
  }

  /**
   * Lowers `peer`'s score for an offence; at the threshold the peer is banned: disconnected, and
   * refused both ways until the ban expires. `detail` says what happened, for the ban's log line.
   */
  penalize(peer: string, offence: Offence, detail: string, times = 1): void {
    if (this.node && peer === this.node.peerId.toString()) return;
    const ban = this.scores.penalize(peer, offence, times);
    this.log.debug({ peer, offence, detail, score: this.scores.score(peer) }, 'peer penalized');
    if (ban) this.enforce(ban, detail);
  }

  /** Bans `peer` now, whatever its score. */
  ban(peer: string, reason: Offence, detail: string): void {
    this.enforce(this.scores.ban(peer, reason), detail);
  }

  /** Bans from before a restart, in force until they end (before any connection is accepted). */
  private loadBans(): void {
    const file = this.opts.bansFile;
    if (file === undefined) return;
    const load = () => {
      const loaded = loadBans(file);
      return { ...loaded, items: loaded.bans };
    };
    restoreListFile(this.log, file, 'peer bans', load, (bans) => this.scores.restore(bans));
  }

  private saveBans(): void {
    const file = this.opts.bansFile;
    if (file === undefined) return;
    try {
      saveBans(file, this.scores.bans());
    } catch (e) {
      this.log.warn({ file, err: errorMessage(e) }, 'could not save the peer bans (they hold until this node stops)');
    }
  }

  private enforce(ban: Ban, detail: string): void {
    this.log.warn({ peer: ban.peer, reason: ban.reason, detail, score: Math.round(ban.score), until: new Date(ban.until).toISOString(), persistent: this.isPersistent(ban.peer) }, 'peer banned');
    this.saveBans();
    try {
      this.m.onBan?.(ban);
    } catch (e) {
      this.log.warn({ err: errorMessage(e) }, 'ban listener failed');
    }
    const node = this.node;
    if (!node || !this.running) return;
    node.hangUp(peerIdFromString(ban.peer), { signal: AbortSignal.any([this.dialAbort.signal, AbortSignal.timeout(5_000)]) }).catch((e: unknown) => {
      this.log.debug({ peer: ban.peer, err: errorMessage(e) }, 'hang-up of a banned peer failed');
    });
  }

  async start(): Promise<void> {
    if (this.running) return;
    const o = this.opts;
    const maxIn = o.maxInboundPeers ?? DEFAULT_MAX_INBOUND_PEERS;
    const maxOut = o.maxOutboundPeers ?? DEFAULT_MAX_OUTBOUND_PEERS;
    installYamuxWindowHysteresis();
    installLengthPrefixedFastPath();
    // CometBFT's limits count peers in each direction, persistent peers aside; libp2p only has a
    // total, so that total is a ceiling and the gater does the per-direction accounting.
    const node = await createLibp2p({
      privateKey: this.m.privateKey,
      start: false,
      addresses: { listen: [...o.listen], ...(o.announce && o.announce.length > 0 ? { announce: [...o.announce] } : {}) },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: {
        maxConnections: maxIn + maxOut + this.persistent.length * 2 + 4,
        dialTimeout: o.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
        inboundUpgradeTimeout: o.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
        // persistent peers are redialed here, with a backoff that never gives up
        reconnectRetries: 0,
      },
      connectionGater: {
        // a banned peer is refused both ways, persistent or not
        denyInboundEncryptedConnection: (peer: PeerId) => this.isBanned(peer.toString()) || (!this.unlimited(peer.toString()) && this.inbound >= maxIn),
        denyOutboundEncryptedConnection: (peer: PeerId) => this.isBanned(peer.toString()),
        denyDialPeer: (peer: PeerId) => this.isBanned(peer.toString()) || (!this.unlimited(peer.toString()) && this.outbound >= maxOut && !this.isConnected(peer.toString())),
      },
      services: {
        identify: identify(),
        pubsub: gossipsub(o.gossipsub ?? {}),
      },
    });
    node.addEventListener('connection:open', (e) => this.onConnectionOpen(e.detail));
    node.addEventListener('connection:close', (e) => this.onConnectionClose(e.detail));
    node.addEventListener('peer:disconnect', (e) => this.onPeerDisconnect(e.detail.toString()));
    this.dialAbort = new AbortController();
    try {
      await node.start();
    } catch (e) {
      await Promise.resolve(node.stop()).catch(() => {}); // whatever did start (other listeners, services) must not linger
      throw new P2PError('listen', `cannot listen on ${o.listen.join(', ')}: ${/EADDRINUSE/.test(errorMessage(e)) ? 'address already in use' : errorMessage(e)}`, { listen: o.listen });
    }
    this.node = node;
    this.running = true;
    this.log.info({ peerId: node.peerId.toString(), listen: this.addresses(), persistentPeers: this.persistent.length }, 'p2p host started');
    for (const p of this.persistent) this.dialPersistent(p);
  }

  async stop(): Promise<void> {
    if (!this.node) return;
    this.running = false;
    this.dialAbort.abort();
    for (const r of this.redials.values()) if (r.timer) clearTimeout(r.timer);
    this.redials.clear();
    const node = this.node;
    try {
      await node.stop();
    } finally {
      this.node = undefined;
      this.inbound = 0;
      this.outbound = 0;
    }
    this.log.info({}, 'p2p host stopped');
  }

  /** Registers a request/response protocol handler. */
  async handle(protocol: string, handler: StreamHandler, opts: { maxInboundStreams?: number; maxOutboundStreams?: number } = {}): Promise<void> {
    await this.libp2p.handle(protocol, handler, opts);
  }

  /** Opens a stream to a connected (or dialable) peer. */
  async openStream(peer: string, protocol: string, signal: AbortSignal): Promise<Stream> {
    if (!this.running) throw new P2PError('not_running', 'the p2p host is not started');
    return this.libp2p.dialProtocol(peerIdFromString(peer), protocol, { signal: AbortSignal.any([signal, this.dialAbort.signal]) });
  }

  /**
   * Dials `addrs` (multiaddrs with /p2p/<id>) now; `persistent` ones are also kept and redialed
   * whenever lost, like p2p.persistent_peers (RPC dial_peers / dial_seeds).
   */
  addPeers(addrs: readonly string[], persistent: boolean): void {
    if (!this.running || !this.node) throw new P2PError('not_running', 'the p2p host is not started');
    for (const p of parsePersistentPeers(addrs)) {
      if (persistent && !this.persistentIds.has(p.id)) {
        this.persistent.push(p);
        this.persistentIds.add(p.id);
      }
      if (persistent) this.dialPersistent(p);
      else if (!this.isConnected(p.id) && p.id !== this.node.peerId.toString()) {
        const signal = AbortSignal.any([this.dialAbort.signal, AbortSignal.timeout(this.opts.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS)]);
        this.node.dial(p.addr, { signal }).catch((e: unknown) => this.log.info({ peer: p.id, addr: p.addr.toString(), err: errorMessage(e) }, 'dial failed'));
      }
    }
  }

  /** Dials one address (ending in /p2p/<id>) once, within the limits and bans; not kept like a persistent peer. */
  async dial(addr: string): Promise<void> {
    if (!this.running || !this.node) throw new P2PError('not_running', 'the p2p host is not started');
    const signal = AbortSignal.any([this.dialAbort.signal, AbortSignal.timeout(this.opts.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS)]);
    try {
      await this.node.dial(multiaddr(addr), { signal });
    } catch (e) {
      throw new P2PError('dial_failed', `dial ${addr} failed: ${errorMessage(e)}`, { addr });
    }
  }

  /** Closes every connection to `peer` (a seed done with it); a failure is logged, not thrown. */
  async hangUp(peer: string): Promise<void> {
    const node = this.node;
    if (!node || !this.running) return;
    try {
      await node.hangUp(peerIdFromString(peer), { signal: AbortSignal.any([this.dialAbort.signal, AbortSignal.timeout(5_000)]) });
    } catch (e) {
      this.log.debug({ peer, err: errorMessage(e) }, 'hang-up failed');
    }
  }

  isConnected(peer: string): boolean {
    return this.node !== undefined && this.node.getConnections(peerIdFromString(peer)).length > 0;
  }

  private onConnectionOpen(c: Connection): void {
    writeWholeSends(c);
    const { sendRate, recvRate } = this.opts;
    if ((sendRate !== undefined || recvRate !== undefined) && !limitRates(c, { ...(sendRate !== undefined ? { sendBytesPerSec: sendRate } : {}), ...(recvRate !== undefined ? { recvBytesPerSec: recvRate } : {}) }))
      this.log.warn({ peer: c.remotePeer.toString(), addr: c.remoteAddr.toString() }, 'connection not rate-limited (p2p.send_rate / recv_rate): not a TCP connection this version knows');
    if (c.direction === 'inbound') this.inbound++;
    else this.outbound++;
    const id = c.remotePeer.toString();
    const r = this.redials.get(id);
    if (r) {
      if (r.timer) clearTimeout(r.timer);
      this.redials.delete(id);
    }
    this.log.debug({ peer: id, addr: c.remoteAddr.toString(), direction: c.direction }, 'connection opened');
  }

  private onConnectionClose(c: Connection): void {
    if (c.direction === 'inbound') this.inbound = Math.max(0, this.inbound - 1);
    else this.outbound = Math.max(0, this.outbound - 1);
    this.log.debug({ peer: c.remotePeer.toString(), direction: c.direction }, 'connection closed');
  }

  private onPeerDisconnect(id: string): void {
    if (!this.running) return;
    this.log.info({ peer: id }, 'peer disconnected');
    const p = this.persistent.find((x) => x.id === id);
    if (p) this.scheduleRedial(p);
  }

  private dialPersistent(p: PersistentPeer): void {
    if (!this.running || !this.node) return;
    if (p.id === this.node.peerId.toString()) return; // a testnet's shared peer list may name us
    if (this.isConnected(p.id)) return;
    const ban = this.scores.banOf(p.id);
    if (ban) {
      // not before the ban ends: a dial now would only be refused by our own gater
      this.scheduleRedial(p, ban.until - (this.m.now ?? Date.now)());
      return;
    }
    const node = this.node;
    const signal = AbortSignal.any([this.dialAbort.signal, AbortSignal.timeout(this.opts.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS)]);
    node.dial(p.addr, { signal }).then(
      () => {
        this.redials.delete(p.id);
        this.log.info({ peer: p.id, addr: p.addr.toString() }, 'connected to persistent peer');
      },
      (e: unknown) => {
        if (!this.running) return;
        const attempts = (this.redials.get(p.id)?.attempts ?? 0) + 1;
        // the first failures are expected while a testnet's nodes come up one by one; after that,
        // a peer that stays down is worth a line now and then, not at every redial
        const loud = attempts === 4 || attempts % 30 === 0;
        (loud ? this.log.warn : this.log.debug).call(this.log, { peer: p.id, addr: p.addr.toString(), attempts, err: errorMessage(e) }, 'dial failed');
        this.scheduleRedial(p);
      },
    );
  }

  private scheduleRedial(p: PersistentPeer, atLeastMs = 0): void {
    if (!this.running) return;
    const r = this.redials.get(p.id) ?? { attempts: 0, timer: null };
    if (r.timer) return; // one pending redial per peer
    const base = this.opts.redialBaseMs ?? DEFAULT_REDIAL_BASE_MS;
    const max = this.opts.redialMaxMs ?? DEFAULT_REDIAL_MAX_MS;
    const delay = Math.min(max, base * 2 ** Math.min(r.attempts, 20));
    // jitter, so two nodes that lost each other do not redial in lockstep forever
    const wait = Math.max(Math.round(delay * (0.75 + Math.random() * 0.5)), Math.min(atLeastMs, 2 ** 31 - 1));
    r.attempts++;
    r.timer = setTimeout(() => {
      r.timer = null;
      this.dialPersistent(p);
    }, wait);
    this.redials.set(p.id, r);
  }
}
