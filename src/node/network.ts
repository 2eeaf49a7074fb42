// The node's network: consensus and the mempool over libp2p. It is the engine's
// ConsensusNetwork (own proposals and votes out as gossip; peers' proposals, block parts and
// votes in to the engine, which checks their signatures), it gossips transactions (txs the RPC
// got into the mempool are published in batches; txs from gossip go to CheckTx with their
// sender and are never re-published by us — gossipsub forwards them), and it catches a lagging
// node up: on seeing proposals or votes of a height above the one it needs, it asks such a peer
// for the block and commit of its height (/tally/<chain>/commit/1) and hands them to the engine.
// Evidence from gossip goes to the evidence pool (which verifies it); the pool's own new and
// pending evidence is published through broadcastEvidence.
// A node far behind is caught up by block sync (src/sync/) instead, through the sync protocols
// served here (status, blocks by range, votes of a round); until consensus runs, its messages
// are dropped.
//
// Gossipsub sends a message once: one lost before a peer subscribed, or while a connection was
// down, is gone, and Tendermint's liveness needs every vote to arrive eventually (CometBFT's
// reactor re-gossips votes for as long as a peer lacks them). So the node remembers its own
// proposal and votes of the height it is deciding and, whenever consensus has not moved for
// `resendIntervalMs`, publishes them again (with a resend count, so gossipsub's seen-cache does
// not drop them). Every validator re-sending its own messages gets all of them to everyone.
import type { PrivateKey } from '@libp2p/interface';
import { bytesEqual } from '../crypto/index.js';
import { CODE_OK, type ResponseCheckTx } from '../abci/index.js';
import type { Evidence, Part, PartSetHeader, Proposal, Vote } from '../codec/index.js';
import type { Config } from '../config/index.js';
import { valueIdOf } from '../consensus/core/index.js';
import type { ConsensusEngine, ConsensusNetwork } from '../consensus/engine.js';
import { MempoolError, type Mempool } from '../mempool/index.js';
import {
  CommitProtocol,
  Gossip,
  SyncProtocols,
  SYNC_RESPONSE_SOFT_BYTES,
  P2PError,
  P2PHost,
  NeighborExchange,
  PeerExchange,
  SILENT_LOGGER,
  gossipsubOptions,
  hostOptionsFromConfig,
  type CommitResponse,
  type HostOptions,
  type P2PLogger,
  type PeerInfo,
  type PexOptions,
  type ProposalMessage,
  type SignatureVerdict,
  type SyncedBlock,
} from '../p2p/index.js';
import { EvidenceError, type EvidenceErrorKind } from '../evidence/index.js';
import type { SyncNetwork } from '../sync/index.js';
import type { RpcMempool, RpcP2P, RpcPeer } from '../rpc/env.js';
import type { BlockStore } from '../store/index.js';
import { extendedCommitToCommit } from '../types/index.js';

export interface NodeNetworkOptions {
  readonly chainId: string;
  readonly host: Omit<HostOptions, 'gossipsub'>;
  /** The mempool's max_tx_bytes (bigger txs in a gossiped batch make it malformed). */
  readonly maxTxBytes: number;
  /** mempool.broadcast: publish the txs this node's RPC accepted. */
  readonly broadcastTxs: boolean;
  /** How long a height may stay behind what peers show before asking one for its commit. */
  readonly catchUpDelayMs?: number;
  readonly commitRequestTimeoutMs?: number;
  /** A block-sync range request (status and votes requests take commitRequestTimeoutMs). */
  readonly blocksRequestTimeoutMs?: number;
  /** Gossiped txs waiting for CheckTx; more are dropped (the sender's peers still have them). */
  readonly maxQueuedTxs?: number;
  /** Re-send own messages of the current height when consensus has not moved for this long. */
  readonly resendIntervalMs?: number;
  /** Peer exchange (p2p.pex) with the seeds to ask; absent: off, and seeds are kept like persistent peers. */
  readonly pex?: Omit<PexOptions, 'chainId'>;
  /** p2p.max_peer_msgs_per_sec: gossip messages a peer may send per second before it loses score. */
  readonly maxPeerMsgsPerSec?: number;
  /**
   * Run without p2p (with a warning) if the listen address cannot be had. For a lone validator
   * with no peers configured, which makes blocks without a network: its start must not fail
   * because another node on the machine holds the default port.
   */
  readonly listenOptional?: boolean;
}

/** The evidence pool as the network feeds it (src/evidence's EvidencePool fits); add() rejects invalid evidence. */
export interface NetworkEvidencePool {
  /** 'already_committed' when a block holds it already; throws EvidenceError when it does not verify. */
  add(evidence: Evidence, opts: { gossip: boolean }): Promise<'added' | 'already_pending' | 'already_committed'>;
}

/** Why evidence fails that is the evidence's own fault (its sender's), not a race or this node's gap. */
const EVIDENCE_FAULTS: ReadonlySet<EvidenceErrorKind> = new Set<EvidenceErrorKind>([
  'invalid_basic',
  'hrs_mismatch',
  'address_mismatch',
  'same_block',
  'not_validator',
  'power_mismatch',
  'invalid_signature',
  'wrong_time',
]);

/** Peers, gossip counters and bans (P2PMetrics from src/metrics fits). */
export interface NetworkMetrics {
  peers(count: number): void;
  messageReceived(topic: string, bytes?: number): void;
  messageSent(topic: string, bytes?: number): void;
  peerBanned?(reason: string): void;
}

export interface NodeNetworkModules {
  /** The node key (NodeKey.libp2pKey()): the libp2p identity. */
  readonly privateKey: PrivateKey;
  readonly mempool: Mempool;
  /** Serves the commit protocol. */
  readonly blockStore: BlockStore;
  /** Receives evidence from gossip (none: evidence from peers is ignored). */
  readonly evidence?: NetworkEvidencePool;
  readonly logger?: P2PLogger;
  readonly metrics?: NetworkMetrics;
}

export const DEFAULT_CATCH_UP_DELAY_MS = 1_000;
export const DEFAULT_MAX_QUEUED_TXS = 10_000;
export const DEFAULT_RESEND_INTERVAL_MS = 1_000;
/** While consensus waits for txs, own messages are re-sent every this many ticks. */
const IDLE_RESEND_EVERY_TICKS = 10;
/** Own messages of the current height kept for re-sending (the latest rounds'). */
const MAX_OWN_PROPOSALS = 4;
const MAX_OWN_VOTES = 16;
/** Parallel CheckTx calls for gossiped txs (the mempool serializes app calls anyway). */
const TX_CHECK_CONCURRENCY = 16;
/** Proposals remembered (by value id) so their later chunks are delivered, not buffered. */
const MAX_KNOWN_PROPOSALS = 64;
/** Blocks whose parts arrived before their proposal, kept until it comes… */
const MAX_ORPHAN_BLOCKS = 8;
/** …up to this many bytes of parts in all (a peer could send parts of blocks that never come). */
const MAX_ORPHAN_BYTES = 16 * 1024 * 1024;
/** Peers whose latest height is remembered for catch-up. */
const MAX_TRACKED_PEERS = 1024;

/**
 * What to do when the catch-up delay ends, for a node that needed height `need` when it began and
 * needs `now` at its end, given the heights its peers were last seen at: a node that was merely a
 * moment behind has caught up ('none'); one that made no progress fetches commits ('catch_up');
 * one that progressed but is still behind waits another delay ('wait_again') — it must not be
 * forgotten, since peers stuck waiting for it (it may be their proposer) send nothing new that
 * would start the delay again.
 */
export function catchUpAction(need: number, now: number, peerHeights: Iterable<number>): 'none' | 'catch_up' | 'wait_again' {
  for (const h of peerHeights) if (h > now) return now === need ? 'catch_up' : 'wait_again';
  return 'none';
}

export function networkOptionsFromConfig(
  config: Config,
  genesis: { readonly chainId: string; readonly validators: readonly unknown[] },
  addrBookFile?: string,
  bansFile?: string,
): NodeNetworkOptions {
  const lone = genesis.validators.length === 1 && config.p2p.persistentPeers.length === 0 && config.p2p.seeds.length === 0;
  return {
    chainId: genesis.chainId,
    listenOptional: lone,
    host: { ...hostOptionsFromConfig(config.p2p), ...(bansFile !== undefined ? { bansFile } : {}) },
    maxTxBytes: config.mempool.maxTxBytes,
    maxPeerMsgsPerSec: config.p2p.maxPeerMsgsPerSec,
    ...(config.p2p.pex ? { pex: { seeds: config.p2p.seeds, seedMode: config.p2p.seedMode, privatePeers: config.p2p.privatePeerIds, ...(addrBookFile !== undefined ? { bookFile: addrBookFile } : {}) } } : {}),
    broadcastTxs: config.mempool.broadcast,
    // a peer at a later height is normal for about one timeout_commit; wait a little longer
    catchUpDelayMs: Math.max(DEFAULT_CATCH_UP_DELAY_MS, 2 * config.consensus.timeoutCommitMs),
    resendIntervalMs: DEFAULT_RESEND_INTERVAL_MS,
  };
}

interface Orphans {
  readonly height: number;
  readonly parts: Part[];
}

export class NodeNetwork implements ConsensusNetwork {
  readonly host: P2PHost;
  readonly gossip: Gossip;
  readonly commits: CommitProtocol;
  /** Peer exchange (undefined when p2p.pex is off). */
  readonly pex: PeerExchange | undefined;
  /** Who is connected to whom, one hop out: gossip forwards only where a copy is needed. */
  readonly neighbors: NeighborExchange;
  /** Status, blocks-by-range and votes-of-a-round (block sync, vote catch-up). */
  readonly syncProtocols: SyncProtocols;
  /** What the RPC should use as its mempool: txs it accepts are gossiped. */
  readonly mempool: RpcMempool;
  /** What the RPC's net_info and dial_seeds / dial_peers use. */
  readonly rpc: RpcP2P;
  private readonly log: P2PLogger;
  private engine: ConsensusEngine | undefined;
  private idleTicks = 0;
  private running = false;
  private readonly abort = new AbortController();

  private readonly knownProposals = new Map<string, number>();
  private readonly orphans = new Map<string, Orphans>();
  private orphanBytes = 0;

  private readonly txQueue: { tx: Uint8Array; from: string }[] = [];
  private txWorkers = 0;
  private droppedTxs = 0;

  private readonly peerHeights = new Map<string, number>();
  /** A decided height whose block the engine lacks (requestBlock), fetched from any peer. */
  private missingBlock: number | null = null;
  private fetchingBlock = false;
  private catchUpTimer: NodeJS.Timeout | null = null;
  private catchingUp = false;

  /** This node's proposals and votes of the height it last sent for, for re-sending. */
  private own: { height: number; proposals: { proposal: Proposal; parts: readonly Part[] }[]; votes: Vote[] } = { height: 0, proposals: [], votes: [] };
  private resendTimer: NodeJS.Timeout | null = null;
  private lastProgress = '';
  private resends = 0;
  private pullingVotes = false;

  constructor(
    private readonly opts: NodeNetworkOptions,
    private readonly m: NodeNetworkModules,
  ) {
    this.log = m.logger ?? SILENT_LOGGER;
    const metrics = m.metrics;
    this.host = new P2PHost(
      { ...opts.host, gossipsub: gossipsubOptions(opts.chainId) },
      { privateKey: m.privateKey, logger: this.log, ...(metrics?.peerBanned ? { onBan: (b) => metrics.peerBanned?.(b.reason) } : {}) },
    );
    const neighbors = new NeighborExchange({ chainId: opts.chainId }, { host: this.host, logger: this.log });
    this.neighbors = neighbors;
    this.gossip = new Gossip(
      { chainId: opts.chainId, maxTxBytes: opts.maxTxBytes, ...(opts.maxPeerMsgsPerSec !== undefined ? { maxPeerMsgsPerSec: opts.maxPeerMsgsPerSec } : {}) },
      { host: this.host, logger: this.log, neighbors: neighbors.table, ...(metrics ? { metrics } : {}) },
    );
    this.commits = new CommitProtocol(
      { chainId: opts.chainId, ...(opts.commitRequestTimeoutMs !== undefined ? { timeoutMs: opts.commitRequestTimeoutMs } : {}) },
      { host: this.host, logger: this.log, source: { load: (h) => this.loadCommit(h) } },
    );
    this.pex = opts.pex ? new PeerExchange({ chainId: opts.chainId, ...opts.pex }, { host: this.host, logger: this.log }) : undefined;
    this.syncProtocols = new SyncProtocols(
      {
        chainId: opts.chainId,
        ...(opts.commitRequestTimeoutMs !== undefined ? { timeoutMs: opts.commitRequestTimeoutMs } : {}),
        ...(opts.blocksRequestTimeoutMs !== undefined ? { blocksTimeoutMs: opts.blocksRequestTimeoutMs } : {}),
      },
      {
        host: this.host,
        logger: this.log,
        source: {
          status: () => ({ base: m.blockStore.base(), height: m.blockStore.height() }),
          blocks: (from, count) => this.loadSyncBlocks(from, count),
          votes: (height, round) => (this.engine?.running ? this.engine.votesFor(height, round) : []),
        },
      },
    );
    const mempool = m.mempool;
    this.mempool = {
      checkTx: async (tx: Uint8Array): Promise<ResponseCheckTx> => {
        const res = await mempool.checkTx(tx);
        if (res.code === CODE_OK && opts.broadcastTxs) this.gossip.publishTx(tx);
        return res;
      },
      size: () => mempool.size(),
      sizeBytes: () => mempool.sizeBytes(),
      txs: (limit: number) => mempool.txs(limit),
      flush: () => mempool.flush(),
    };
    this.rpc = this.rpcView();
  }

  /**
   * Starts the host and gossip, delivering to `engine`. The engine may start later (after block
   * sync): until it runs, consensus messages are dropped and no commit catch-up is tried.
   */
  async start(engine: ConsensusEngine): Promise<void> {
    if (this.running) return;
    this.engine = engine;
    try {
      await this.host.start();
    } catch (e) {
      if (!(e instanceof P2PError && e.kind === 'listen' && this.opts.listenOptional)) throw e;
      this.log.warn({ err: e.message }, 'p2p disabled: a lone validator with no peers configured goes on without a network');
      return;
    }
    this.running = true;
    this.gossip.start({
      onProposal: (msg, from) => this.onProposal(msg, from),
      onVote: (v, from) => this.onVote(v, from),
      onTxs: (txs, from) => this.onTxs(txs, from),
      // signatures are checked before gossipsub forwards a message (see gossip.ts)
      checkVote: (v) => engine.checkVoteSignature(v),
      checkProposal: (p) => engine.checkProposalSignature(p),
      onEvidence: () => this.onEvidence(),
      checkEvidence: (e) => this.checkEvidence(e),
    });
    await this.commits.start();
    await this.neighbors.start();
    await this.pex?.start();
    await this.syncProtocols.start();
    this.resendTimer = setInterval(() => this.resendIfStalled(), this.opts.resendIntervalMs ?? DEFAULT_RESEND_INTERVAL_MS);
    if (this.missingBlock !== null) void this.fetchMissingBlock();
    const metrics = this.m.metrics;
    if (metrics) {
      const report = (): void => metrics.peers(this.host.peers().length);
      this.host.libp2p.addEventListener('peer:connect', report);
      this.host.libp2p.addEventListener('peer:disconnect', report);
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    if (this.catchUpTimer) clearTimeout(this.catchUpTimer);
    this.catchUpTimer = null;
    if (this.resendTimer) clearInterval(this.resendTimer);
    this.resendTimer = null;
    this.txQueue.length = 0;
    this.gossip.stop();
    await this.pex?.stop();
    await this.neighbors.stop();
    await this.commits.stop();
    await this.syncProtocols.stop();
    await this.host.stop();
  }

  /** Block sync's view of the network: connected peers and the sync protocols. */
  syncNetwork(): SyncNetwork {
    return {
      peers: () => (this.running ? this.host.peers().map((p) => p.id) : []),
      status: (peer, signal) => this.syncProtocols.status(peer, signal),
      blocks: (peer, from, count, signal) => this.syncProtocols.blocks(peer, from, count, signal),
    };
  }

  /** Connected peers (net_info, tests). */
  peers(): PeerInfo[] {
    return this.host.peers();
  }

  private rpcView(): RpcP2P {
    const host = this.host;
    return {
      get listening() {
        return host.isRunning;
      },
      get listeners() {
        return host.addresses();
      },
      peers: (): RpcPeer[] =>
        host.peers().map((p) => ({
          id: p.id,
          moniker: '', // libp2p's identify carries no moniker
          remoteIp: /^\/ip[46]\/([^/]+)/.exec(p.remoteAddr)?.[1] ?? '',
          isOutbound: p.outbound,
          listenAddr: p.remoteAddr,
        })),
      // without peer exchange, seeds are kept like persistent peers (see hostOptionsFromConfig)
      dialSeeds: async (seeds) => (this.pex ? this.pex.addSeeds(seeds) : host.addPeers(seeds, true)),
      dialPeers: async (peers, opts) => host.addPeers(peers, opts.persistent),
    };
  }

  // ---- ConsensusNetwork: outbound ------------------------------------------------------------

  broadcastProposal(proposal: Proposal, _partSetHeader: PartSetHeader, parts: readonly Part[]): void {
    const own = this.ownFor(proposal.height);
    own.proposals.push({ proposal, parts });
    if (own.proposals.length > MAX_OWN_PROPOSALS) own.proposals.shift();
    if (!this.running) return; // sent before the network started: the stall re-send delivers it
    this.gossip.publishProposal(proposal, parts);
  }

  broadcastVote(vote: Vote): void {
    const own = this.ownFor(vote.height);
    // a restart announces the WAL's votes, and replay may sign the same vote again: keep one copy
    if (own.votes.some((v) => bytesEqual(v.signature, vote.signature))) return;
    own.votes.push(vote);
    if (own.votes.length > MAX_OWN_VOTES) own.votes.shift();
    if (!this.running) return;
    this.gossip.publishVote(vote);
  }

  requestBlock(height: number): void {
    this.missingBlock = height;
    if (this.running) void this.fetchMissingBlock();
  }

  /**
   * Asks connected peers, in turn, for the block and commit of the decided height until the
   * engine has it. Peers that decided store the block a moment after deciding, so a miss is
   * retried after a short pause.
   */
  private async fetchMissingBlock(): Promise<void> {
    if (this.fetchingBlock) return;
    this.fetchingBlock = true;
    try {
      for (let pass = 0; this.running && pass < 240; pass++) {
        const height = this.missingBlock;
        if (height === null || this.neededHeight() > height) return;
        for (const peer of this.host.peers()) {
          if (!this.running || this.neededHeight() > height) return;
          if (await this.commitFrom(peer.id, height)) return;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      this.fetchingBlock = false;
      if (this.missingBlock !== null && this.engine && this.neededHeight() > this.missingBlock) this.missingBlock = null;
    }
  }

  /** Publishes evidence (the pool's new evidence, or pending evidence again with resend > 0). */
  broadcastEvidence(evidence: Evidence, resend = 0): void {
    if (!this.running) return;
    this.gossip.publishEvidence(evidence, resend);
    this.m.metrics?.messageSent('evidence');
  }

  private ownFor(height: number): NodeNetwork['own'] {
    if (height !== this.own.height) this.own = { height, proposals: [], votes: [] };
    return this.own;
  }

  /** Re-sends this node's messages of the current height if consensus has not moved since the last tick. */
  private resendIfStalled(): void {
    const e = this.engine;
    if (!this.running || !e?.running) return;
    // an idle chain (create_empty_blocks = false) waits for txs, not for peers: re-sending the last
    // height's votes every tick made every node verify them again, forever (~7% of a core each).
    // A slower re-send still rescues a peer that missed the last height's precommits.
    if (e.waitingForTransactions && ++this.idleTicks % IDLE_RESEND_EVERY_TICKS !== 0) return;
    const progress = `${e.height}/${e.round}/${e.step}`;
    const stalled = progress === this.lastProgress;
    this.lastProgress = progress;
    if (!stalled) return;
    // pull what a peer holds for this round: votes gossiped before we subscribed are not re-sent by everyone
    void this.pullVotes(e.height, e.round);
    if (this.own.height !== e.height) return;
    const resend = ++this.resends;
    for (const p of this.own.proposals) this.gossip.publishProposal(p.proposal, p.parts, resend);
    for (const v of this.own.votes) this.gossip.publishVote(v, resend);
    this.log.debug({ height: e.height, round: e.round, step: e.step, proposals: this.own.proposals.length, votes: this.own.votes.length }, 'consensus stalled: re-sent own messages');
  }

  /** Asks one random peer for the votes of (height, round) and feeds them to consensus. */
  private async pullVotes(height: number, round: number): Promise<void> {
    const peers = this.host.peers();
    if (this.pullingVotes || peers.length === 0) return;
    this.pullingVotes = true;
    const peer = peers[Math.floor(Math.random() * peers.length)]!.id;
    try {
      const votes = await this.syncProtocols.votes(peer, height, round, this.abort.signal);
      for (const v of votes) this.engine?.receiveVote(v); // signatures are checked there
      if (votes.length > 0) this.log.debug({ peer, height, round, votes: votes.length }, 'pulled votes from a peer');
    } catch (e) {
      this.log.debug({ peer, height, round, err: e instanceof Error ? e.message : String(e) }, 'votes request failed');
    } finally {
      this.pullingVotes = false;
    }
  }

  // ---- inbound --------------------------------------------------------------------------------

  private onProposal(msg: ProposalMessage, from: string): void {
    const engine = this.engine;
    if (!engine) return;
    this.sawHeight(msg.height, from);
    const id = valueIdOf(msg.blockId);
    if (msg.proposal) {
      engine.receiveProposal(msg.proposal);
      this.rememberProposal(id, msg.height);
      // parts that came before their proposal (another peer's chunk overtook the first one)
      const early = this.takeOrphans(id);
      if (early) {
        for (const p of early.parts) engine.receiveBlockPart(msg.height, msg.blockId, p);
      }
    }
    if (this.knownProposals.has(id)) {
      for (const p of msg.parts) engine.receiveBlockPart(msg.height, msg.blockId, p);
      return;
    }
    // the engine drops parts of a proposal it has not seen: keep them for when it comes, if it
    // can still matter (this height, or the next one the engine is about to start)
    if (msg.height < engine.height || msg.height > engine.height + 1) return;
    let o = this.orphans.get(id);
    if (!o) {
      if (this.orphans.size >= MAX_ORPHAN_BLOCKS) this.takeOrphans(this.orphans.keys().next().value!);
      this.orphans.set(id, (o = { height: msg.height, parts: [] }));
    }
    for (const p of msg.parts) {
      if (o.parts.length >= msg.blockId.partSetHeader.total) break;
      while (this.orphanBytes + p.bytes.length > MAX_ORPHAN_BYTES && this.orphans.size > 1) {
        const oldest = this.orphans.keys().next().value!;
        if (oldest === id) break;
        this.takeOrphans(oldest);
      }
      if (this.orphanBytes + p.bytes.length > MAX_ORPHAN_BYTES) break;
      o.parts.push(p);
      this.orphanBytes += p.bytes.length;
    }
  }

  private takeOrphans(id: string): Orphans | undefined {
    const o = this.orphans.get(id);
    if (!o) return undefined;
    this.orphans.delete(id);
    for (const p of o.parts) this.orphanBytes -= p.bytes.length;
    return o;
  }

  private rememberProposal(id: string, height: number): void {
    this.knownProposals.delete(id);
    this.knownProposals.set(id, height);
    while (this.knownProposals.size > MAX_KNOWN_PROPOSALS) this.knownProposals.delete(this.knownProposals.keys().next().value!);
  }

  private onVote(vote: Vote, from: string): void {
    if (!this.engine) return;
    this.sawHeight(vote.height, from);
    this.engine.receiveVote(vote);
  }

  /** Adds gossiped evidence to the pool, or says why not: 'invalid' only for the evidence's own faults. */
  private async checkEvidence(evidence: Evidence): Promise<SignatureVerdict> {
    const pool = this.m.evidence;
    if (!pool) return 'unknown';
    try {
      // gossipsub forwards it once accepted; the pool must not publish it again
      return (await pool.add(evidence, { gossip: false })) === 'already_committed' ? 'unknown' : 'valid';
    } catch (e) {
      if (e instanceof EvidenceError && EVIDENCE_FAULTS.has(e.kind)) return 'invalid';
      this.log.debug({ height: evidence.voteA.height, err: e instanceof Error ? e.message : String(e) }, 'gossiped evidence not usable here');
      return 'unknown';
    }
  }

  /** Evidence delivered by gossip is in the pool already: checkEvidence added it before accepting it. */
  private onEvidence(): void {
    if (this.m.evidence) this.m.metrics?.messageReceived('evidence');
  }

  private onTxs(txs: Uint8Array[], from: string): void {
    const max = this.opts.maxQueuedTxs ?? DEFAULT_MAX_QUEUED_TXS;
    for (const tx of txs) {
      if (this.txQueue.length >= max) {
        if (this.droppedTxs++ % 1000 === 0) this.log.warn({ queued: this.txQueue.length, dropped: this.droppedTxs }, 'gossiped txs arrive faster than CheckTx takes them; dropping');
        continue;
      }
      this.txQueue.push({ tx, from });
    }
    while (this.txWorkers < TX_CHECK_CONCURRENCY && this.txQueue.length > 0) {
      this.txWorkers++;
      void this.checkQueuedTxs();
    }
  }

  private async checkQueuedTxs(): Promise<void> {
    try {
      for (let next = this.txQueue.shift(); next && this.running; next = this.txQueue.shift()) {
        try {
          // the sender is recorded so the tx is never sent back to it
          await this.m.mempool.checkTx(next.tx, { sender: next.from });
        } catch (e) {
          // duplicates (every peer forwards the same tx), a full pool: expected, not the peer's fault
          if (e instanceof MempoolError) this.log.debug({ peer: next.from, reason: e.reason }, 'gossiped tx not added');
          else this.log.warn({ peer: next.from, err: e instanceof Error ? e.message : String(e) }, 'CheckTx of a gossiped tx failed');
        }
      }
    } finally {
      this.txWorkers--;
    }
  }

  // ---- catch-up -------------------------------------------------------------------------------

  /** The height this node needs next: the one after its last committed block. */
  private neededHeight(): number {
    return this.engine!.chainState.lastBlockHeight + 1;
  }

  /** `from` sent a message of `height`: if that is past what we need, it has our commit. */
  private sawHeight(height: number, from: string): void {
    if (!this.running || !this.engine?.running || height <= this.neededHeight()) return;
    const known = this.peerHeights.get(from) ?? 0;
    if (height > known) {
      this.peerHeights.delete(from);
      this.peerHeights.set(from, height);
      while (this.peerHeights.size > MAX_TRACKED_PEERS) this.peerHeights.delete(this.peerHeights.keys().next().value!);
    }
    this.scheduleCatchUp();
  }

  private scheduleCatchUp(): void {
    if (this.catchingUp || this.catchUpTimer) return;
    const need = this.neededHeight();
    this.catchUpTimer = setTimeout(() => {
      this.catchUpTimer = null;
      if (!this.running || !this.engine?.running) return;
      const action = catchUpAction(need, this.neededHeight(), this.peerHeights.values());
      if (action === 'catch_up') void this.catchUp();
      else if (action === 'wait_again') this.scheduleCatchUp();
    }, this.opts.catchUpDelayMs ?? DEFAULT_CATCH_UP_DELAY_MS);
  }

  /**
   * Asks `peer` for the block and commit of `height` and hands them to the engine; true once the
   * engine applied that height (false: the peer failed, lacks it, or its commit did not verify).
   */
  private async commitFrom(peer: string, height: number, logAs?: string): Promise<boolean> {
    let res: CommitResponse | null;
    try {
      res = await this.commits.request(peer, height, this.abort.signal);
    } catch (e) {
      this.log.debug({ peer, height, err: e instanceof Error ? e.message : String(e) }, 'commit request failed');
      return false;
    }
    if (!res) return false;
    if (logAs) this.log.info({ peer, height }, logAs);
    this.engine!.receiveCommit(res.block, res.commit);
    return this.decided(height, this.opts.commitRequestTimeoutMs ?? 10_000);
  }

  /** Asks peers ahead of us for the commit of each height we miss, one height at a time. */
  private async catchUp(): Promise<void> {
    if (this.catchingUp) return;
    this.catchingUp = true;
    try {
      while (this.running && this.engine?.running) {
        const need = this.neededHeight();
        const ahead = [...this.peerHeights].filter(([, h]) => h > need).sort((a, b) => b[1] - a[1]);
        if (ahead.length === 0) return;
        let applied = false;
        for (const [peer] of ahead) {
          if (!this.running) return;
          applied = await this.commitFrom(peer, need, 'behind the peers: applying their commit');
          if (applied) break;
          // it failed, forwarded later messages without having our height, or its commit did not verify (the engine logged why)
          this.peerHeights.delete(peer);
        }
        if (!applied) return; // the next message from a peer ahead starts another try
      }
    } finally {
      this.catchingUp = false;
    }
  }

  /** Whether the engine decides `height` within `timeoutMs`. */
  private async decided(height: number, timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort = (): void => {};
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const stopped = new Promise<false>((resolve) => {
      onAbort = () => resolve(false);
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([this.engine!.waitForHeight(height).then(() => true), timeout, stopped]);
    } finally {
      clearTimeout(timer);
      this.abort.signal.removeEventListener('abort', onAbort); // one per caught-up height otherwise
    }
  }

  /** Blocks `from`… with their seen commits (extended when stored), stopping at a gap or about the response's soft byte bound. */
  private async loadSyncBlocks(from: number, count: number): Promise<SyncedBlock[]> {
    const store = this.m.blockStore;
    const out: SyncedBlock[] = [];
    let bytes = 0;
    const last = Math.min(from + count - 1, store.height());
    for (let h = Math.max(from, store.base()); h === from + out.length && h <= last; h++) {
      const block = await store.loadBlock(h);
      const ext = block ? await store.loadExtendedCommit(h) : undefined;
      const commit = ext ? extendedCommitToCommit(ext) : block ? await store.loadCommit(h) : undefined;
      if (!block || !commit) break;
      out.push({ block, commit, extendedCommit: ext ?? null });
      // a rough size, to stop loading (encodeBlocksResponse cuts exactly)
      bytes += 1024 + block.data.txs.reduce((n, tx) => n + tx.length + 4, 0) + 128 * commit.signatures.length;
      if (bytes > SYNC_RESPONSE_SOFT_BYTES) break;
    }
    return out;
  }

  private async loadCommit(height: number): Promise<CommitResponse | null> {
    const [block, commit, extended] = await Promise.all([
      this.m.blockStore.loadBlock(height),
      this.m.blockStore.loadSeenCommit(height),
      this.m.blockStore.loadExtendedCommit(height),
    ]);
    // with vote extensions on, the node catching up proposes next with these extensions
    const seen = extended ?? commit;
    if (block && seen) return { block, commit: seen };
    // a height whose seen commit was pruned still has its canonical commit in the next block
    const canonical = block ? await this.m.blockStore.loadBlockCommit(height) : undefined;
    return block && canonical ? { block, commit: canonical } : null;
  }
}
