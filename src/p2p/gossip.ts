// Gossip over gossipsub: four topics per chain — proposals with their block parts, votes,
// transactions (batched) and evidence. Consensus messages carry their own signatures, so gossipsub's message
// signing is off (StrictNoSign, ~5x the throughput measured here) and a message's id is the
// SHA-256 of its bytes, which also makes re-publishing the same message a no-op.
//
// Inbound messages are decoded once, in the topic validator: a message that does not decode is
// rejected there (so gossipsub neither delivers nor forwards it, and its peer-score counts it)
// and counted against the peer that sent it; what decodes is handed to the handlers with the
// sending peer's id.
//
// What gossipsub forwards is pruned first: a message is not forwarded to a peer that said it is
// connected to the peer the message came from (see neighbors.ts), so in a fully
// connected network a message travels one hop, from its origin to each peer, and no further.
//
// Votes and proposals also have their signatures checked there (by the handlers' check hooks,
// i.e. the consensus engine) before gossipsub forwards them: a peer is only ever blamed for a
// bad signature it sent us itself, never for one an honest peer relayed. A message whose
// signers this node does not know (another height) is delivered here but not forwarded, since
// it could not be vouched for. Offences (undecodable, invalid signature, flooding) lower the
// sender's score in the host, which bans it at the threshold.
import { StrictNoSign, TopicValidatorResult, type GossipSub, type GossipsubMessage, type GossipsubOpts, type Message } from '@libp2p/gossipsub';
import type { PeerId } from '@libp2p/interface';
import { DecodeError, type Evidence, type Part, type Proposal, type Vote } from '../codec/index.js';
import { sha256 } from '../crypto/index.js';
import { SILENT_LOGGER, errorMessage, type P2PLogger } from './errors.js';
import { FloodMeter } from './flood-meter.js';
import type { P2PHost } from './host.js';
import { pruneForwards, type NeighborTable } from './neighbors.js';
import {
  MAX_GOSSIP_MESSAGE_BYTES,
  decodeEvidenceMessage,
  decodeProposalMessage,
  decodeTxBatch,
  decodeVoteMessage,
  encodeEvidenceMessage,
  encodeTxBatch,
  encodeVoteMessage,
  proposalMessages,
  type ProposalMessage,
} from './messages.js';

export interface GossipTopics {
  readonly proposal: string;
  readonly vote: string;
  readonly tx: string;
  readonly evidence: string;
}

/** Topics are scoped by chain id, so nodes of two chains sharing peers never mix messages. */
export function topicsFor(chainId: string): GossipTopics {
  return { proposal: `tally/${chainId}/proposal`, vote: `tally/${chainId}/vote`, tx: `tally/${chainId}/tx`, evidence: `tally/${chainId}/evidence` };
}

const topicList = (t: GossipTopics): string[] => [t.proposal, t.vote, t.tx, t.evidence];

/** gossipsub's settings for a chain (pass to the host's `gossipsub` option). */
export function gossipsubOptions(chainId: string): Partial<GossipsubOpts> {
  const t = topicsFor(chainId);
  return {
    globalSignaturePolicy: StrictNoSign,
    msgIdFn: (msg: Message) => sha256(msg.data),
    allowedTopics: topicList(t),
    // consensus must not stall on a publish before the first peer has subscribed
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    fallbackToFloodsub: false,
    // our own messages go to every subscribed peer, not only the mesh: a validator's votes
    // should reach all validators in one hop
    floodPublish: true,
    emitSelf: false,
    // one frame may hold a full message plus gossipsub's envelope and control data
    maxInboundDataLength: MAX_GOSSIP_MESSAGE_BYTES + 64 * 1024,
    maxOutboundBufferSize: 4 * (MAX_GOSSIP_MESSAGE_BYTES + 64 * 1024),
  };
}

export interface GossipOptions {
  readonly chainId: string;
  /** The mempool's max_tx_bytes: larger txs in a batch make it malformed. */
  readonly maxTxBytes: number;
  /** Pending txs are published at most this long after the first of them was queued. */
  readonly txFlushMs?: number;
  /** …or as soon as they reach this many bytes. */
  readonly txBatchBytes?: number;
  /** Peers whose bad-message counts are remembered (oldest forgotten first). */
  readonly maxTrackedPeers?: number;
  /** Messages per second one peer may send on average (p2p.max_peer_msgs_per_sec); beyond is a flood. */
  readonly maxPeerMsgsPerSec?: number;
}

/** Gossip counters by topic kind ("proposals", "votes", "txs"); P2PMetrics fits. */
export interface GossipMetrics {
  messageReceived(topic: string, bytes?: number): void;
  messageSent(topic: string, bytes?: number): void;
}

export interface GossipModules {
  readonly host: P2PHost;
  readonly logger?: P2PLogger;
  readonly metrics?: GossipMetrics;
  /** The clock in ms of the flood meter and the tx batcher (tests). */
  readonly now?: () => number;
  /** The peers' neighbor lists (NeighborExchange.table): forwards they make redundant are dropped. */
  readonly neighbors?: NeighborTable;
}

/** A signature checked before forwarding (the consensus engine's SignatureCheck). */
export type SignatureVerdict = 'valid' | 'invalid' | 'unknown';

export interface GossipHandlers {
  /** A proposal chunk: the proposal (first chunk only) and block parts. */
  onProposal?(m: ProposalMessage, from: string): void;
  onVote?(v: Vote, from: string): void;
  onTxs?(txs: Uint8Array[], from: string): void;
  /** Checks a vote's signature before it is delivered and forwarded; without it every vote that decodes is forwarded. */
  checkVote?(v: Vote): SignatureVerdict;
  checkProposal?(p: Proposal): SignatureVerdict;
  /** Evidence whose votes are well formed; verified by checkEvidence if there is one. */
  onEvidence?(e: Evidence, from: string): void;
  /**
   * Verifies evidence before it is forwarded (gossipsub waits for the answer): 'invalid' for a
   * fault of the evidence itself, which costs its sender score; 'unknown' when this node cannot
   * tell or it is of no use (behind, expired, committed) — neither forwarded nor blamed.
   */
  checkEvidence?(e: Evidence): Promise<SignatureVerdict>;
}

/** The parts of gossipsub's class that pruneForwards wraps. */
interface Forwarding {
  selectPeersToForward(topic: string, propagationSource?: string, excludePeers?: Set<string>): Set<string>;
  sendIDontWants(msgId: Uint8Array, topic: string, source: string): void;
  readonly mesh: Map<string, Set<string>>;
}

/** Whether `test` holds for every member of `peers` but `except` (no array copied per message). */
function everyOther(peers: Set<string>, except: string, test: (peer: string) => boolean): boolean {
  for (const q of peers) if (q !== except && !test(q)) return false;
  return true;
}

export const DEFAULT_TX_FLUSH_MS = 5;
export const DEFAULT_TX_BATCH_BYTES = 256 * 1024;
export const DEFAULT_MAX_TRACKED_PEERS = 4096;
export const DEFAULT_MAX_PEER_MSGS_PER_SEC = 2_000;

/** The metrics label of each topic (P2PMetrics asks for the kind, not the chain-scoped topic). */
const METRIC_TOPIC = { proposal: 'proposals', vote: 'votes', tx: 'txs', evidence: 'evidence' } as const;

type Decoded =
  | { readonly kind: 'proposal'; readonly m: ProposalMessage }
  | { readonly kind: 'vote'; readonly v: Vote }
  | { readonly kind: 'txs'; readonly txs: Uint8Array[] }
  | { readonly kind: 'evidence'; readonly e: Evidence };

export interface GossipStats {
  published: { proposal: number; vote: number; tx: number; txBatches: number; evidence: number };
  received: { proposal: number; vote: number; tx: number; evidence: number };
  rejected: number;
  /** Votes and proposals rejected for their signature. */
  invalidSignatures: number;
  /** Delivered here but not forwarded: signers not known at this node's height. */
  unforwarded: number;
  /** Forwards of accepted messages: kept, and dropped as redundant (one per message and peer). */
  forwarded: number;
  forwardsSkipped: number;
  /** Large messages received for which no IDONTWANT went out: every other mesh peer had it from its sender too. */
  idontwantsSkipped: number;
}

export class Gossip {
  readonly topics: GossipTopics;
  private readonly log: P2PLogger;
  private handlers: GossipHandlers = {};
  private running = false;
  /** Decoded by the validator, picked up by the message listener (same Message object). */
  private readonly decoded = new WeakMap<Message, Decoded>();
  private readonly bad = new Map<string, number>();
  private pendingTxs: Uint8Array[] = [];
  private pendingBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private lastTxFlush = -Infinity;
  private readonly now: () => number;
  private readonly txFlushMs: number;
  private readonly txBatchBytes: number;
  private readonly flood: FloodMeter;
  readonly stats: GossipStats = {
    published: { proposal: 0, vote: 0, tx: 0, txBatches: 0, evidence: 0 },
    received: { proposal: 0, vote: 0, tx: 0, evidence: 0 },
    rejected: 0,
    invalidSignatures: 0,
    unforwarded: 0,
    forwarded: 0,
    forwardsSkipped: 0,
    idontwantsSkipped: 0,
  };

  constructor(
    private readonly opts: GossipOptions,
    private readonly m: GossipModules,
  ) {
    this.topics = topicsFor(opts.chainId);
    this.log = m.logger ?? SILENT_LOGGER;
    this.txFlushMs = opts.txFlushMs ?? DEFAULT_TX_FLUSH_MS;
    this.now = m.now ?? Date.now;
    this.txBatchBytes = Math.min(opts.txBatchBytes ?? DEFAULT_TX_BATCH_BYTES, MAX_GOSSIP_MESSAGE_BYTES);
    this.flood = new FloodMeter({ ratePerSec: opts.maxPeerMsgsPerSec ?? DEFAULT_MAX_PEER_MSGS_PER_SEC, maxPeers: opts.maxTrackedPeers ?? DEFAULT_MAX_TRACKED_PEERS }, m.now);
  }

  private readonly onMessage = (e: CustomEvent<GossipsubMessage>): void => {
    const { msg, propagationSource } = e.detail;
    const d = this.decoded.get(msg);
    if (!d) return; // not one of ours (validators run for every topic we subscribe to)
    this.decoded.delete(msg);
    this.deliver(d, propagationSource.toString(), msg.topic);
  };

  private deliver(d: Decoded, from: string, topic: string): void {
    try {
      if (d.kind === 'proposal') this.handlers.onProposal?.(d.m, from);
      else if (d.kind === 'vote') this.handlers.onVote?.(d.v, from);
      else if (d.kind === 'evidence') this.handlers.onEvidence?.(d.e, from);
      else this.handlers.onTxs?.(d.txs, from);
    } catch (err) {
      // a handler bug must not take gossipsub's message loop down with it
      this.log.error({ err: errorMessage(err), topic, peer: from }, 'gossip handler failed');
    }
  }

  /** Subscribes to the chain's topics; the host must be started. */
  start(handlers: GossipHandlers): void {
    if (this.running) return;
    this.handlers = handlers;
    const ps = this.m.host.pubsub;
    ps.topicValidators.set(this.topics.proposal, (peer, msg) => this.validate(peer, msg, 'proposal'));
    ps.topicValidators.set(this.topics.vote, (peer, msg) => this.validate(peer, msg, 'vote'));
    ps.topicValidators.set(this.topics.tx, (peer, msg) => this.validate(peer, msg, 'tx'));
    ps.topicValidators.set(this.topics.evidence, (peer, msg) => this.validate(peer, msg, 'evidence'));
    ps.addEventListener('gossipsub:message', this.onMessage);
    this.pruneForwards(ps);
    for (const t of topicList(this.topics)) ps.subscribe(t);
    this.running = true;
  }

  /**
   * Wraps gossipsub's choice of peers to forward a message to so that peers made redundant by
   * the neighbor lists are left out (pruneForwards). That choice is a private method of @libp2p/gossipsub 17's class (selectPeersToForward);
   * without it (a later version) messages are forwarded as gossipsub decides, and the test that
   * counts copies in a full mesh fails. The class's own method does the choosing, so a restart
   * never wraps a wrapper.
   */
  private pruneForwards(ps: GossipSub): void {
    const table = this.m.neighbors;
    if (!table) return;
    const own = ps as unknown as Forwarding;
    const select = (Object.getPrototypeOf(ps) as Partial<Forwarding>).selectPeersToForward;
    if (typeof select !== 'function') {
      this.log.warn({}, 'gossipsub has no selectPeersToForward: every message is forwarded to the whole mesh');
      return;
    }
    own.selectPeersToForward = (topic, source, exclude) => {
      const peers = select.call(ps, topic, source, exclude);
      if (source !== undefined) this.stats.forwardsSkipped += pruneForwards(peers, source, table);
      this.stats.forwarded += peers.size;
      return peers;
    };
    // gossipsub 1.2 answers every message of 512 bytes or more (tx batches, proposals) with an
    // IDONTWANT to the other mesh peers. A peer that reports the sender as its neighbor got the
    // message from it and, by the rule above, never forwards it here: in a full mesh every such
    // frame (one per big message and peer, encrypted, sent, decoded) was wasted.
    const idontwant = (Object.getPrototypeOf(ps) as Partial<Forwarding>).sendIDontWants;
    if (typeof idontwant !== 'function') return;
    own.sendIDontWants = (msgId, topic, source) => {
      const mesh = own.mesh.get(topic);
      if (mesh !== undefined && everyOther(mesh, source, (q) => table.reports(q, source))) {
        this.stats.idontwantsSkipped++;
        return;
      }
      idontwant.call(ps, msgId, topic, source);
    };
  }

  /** Unsubscribes and drops unsent txs (they stay in the mempool). */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.handlers = {};
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.pendingTxs = [];
    this.pendingBytes = 0;
    if (!this.m.host.isRunning) return;
    const ps = this.m.host.pubsub;
    ps.removeEventListener('gossipsub:message', this.onMessage);
    for (const t of topicList(this.topics)) {
      ps.topicValidators.delete(t);
      ps.unsubscribe(t);
    }
  }

  /** Malformed messages received from `peer` so far. */
  badMessages(peer: string): number {
    return this.bad.get(peer) ?? 0;
  }

  /** Peers subscribed to the vote topic (all topics are subscribed together). */
  subscribers(): string[] {
    return this.m.host.pubsub.getSubscribers(this.topics.vote).map((p) => p.toString());
  }

  /** `resend` > 0 re-sends (as a message with a new id) what gossip may have lost. */
  publishProposal(proposal: Proposal, parts: readonly Part[], resend = 0): void {
    for (const data of proposalMessages(proposal, parts, resend)) this.publish(this.topics.proposal, data);
    this.stats.published.proposal++;
  }

  publishVote(vote: Vote, resend = 0): void {
    this.publish(this.topics.vote, encodeVoteMessage(vote, resend));
    this.stats.published.vote++;
  }

  /** `resend` > 0 re-sends pending evidence (a new message id, so gossipsub does not drop it as seen). */
  publishEvidence(e: Evidence, resend = 0): void {
    this.publish(this.topics.evidence, encodeEvidenceMessage(e, resend));
    this.stats.published.evidence++;
  }

  /** Queues a tx for the next batch (published within txFlushMs, or at once when the batch is full). */
  publishTx(tx: Uint8Array): void {
    if (!this.running) return;
    if (tx.length + 16 > MAX_GOSSIP_MESSAGE_BYTES) {
      this.log.warn({ bytes: tx.length, max: MAX_GOSSIP_MESSAGE_BYTES }, 'tx too large to gossip; it stays in this node’s mempool');
      return;
    }
    if (this.pendingBytes + tx.length + 16 > this.txBatchBytes) this.flushTxs();
    this.pendingTxs.push(tx);
    this.pendingBytes += tx.length + 16;
    this.stats.published.tx++;
    const now = this.now();
    // The first tx after a quiet spell leaves at once (a lone client should not wait out the
    // batching window); txs that follow within the window are batched behind it.
    if (this.pendingBytes >= this.txBatchBytes || (this.flushTimer === null && now - this.lastTxFlush >= this.txFlushMs)) this.flushTxs();
    else this.flushTimer ??= setTimeout(() => this.flushTxs(), this.txFlushMs);
  }

  /** Publishes the pending txs now. */
  flushTxs(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.pendingTxs.length === 0) return;
    this.lastTxFlush = this.now();
    const txs = this.pendingTxs;
    this.pendingTxs = [];
    this.pendingBytes = 0;
    this.publish(this.topics.tx, encodeTxBatch(txs));
    this.stats.published.txBatches++;
  }

  private publish(topic: string, data: Uint8Array): void {
    if (!this.running) return;
    if (data.length > MAX_GOSSIP_MESSAGE_BYTES) {
      // proposalMessages chunks and the tx batcher bounds, so only an oversized vote extension gets here
      this.log.warn({ topic, bytes: data.length, max: MAX_GOSSIP_MESSAGE_BYTES }, 'message too large to gossip; dropped');
      return;
    }
    const metricTopic = topic === this.topics.proposal ? METRIC_TOPIC.proposal : topic === this.topics.vote ? METRIC_TOPIC.vote : topic === this.topics.evidence ? METRIC_TOPIC.evidence : METRIC_TOPIC.tx;
    this.m.metrics?.messageSent(metricTopic, data.length);
    this.m.host.pubsub.publish(topic, data).catch((e: unknown) => {
      if (this.running) this.log.debug({ topic, err: errorMessage(e) }, 'gossip publish failed');
    });
  }

  private validate(peerId: PeerId, msg: Message, kind: 'proposal' | 'vote' | 'tx' | 'evidence'): TopicValidatorResult | Promise<TopicValidatorResult> {
    const peer = peerId.toString();
    this.m.metrics?.messageReceived(METRIC_TOPIC[kind], msg.data.length);
    const excess = this.flood.hit(peer);
    if (excess > 0) this.m.host.penalize(peer, 'flood', `${excess} gossip messages above ${this.opts.maxPeerMsgsPerSec ?? DEFAULT_MAX_PEER_MSGS_PER_SEC}/s`);
    let d: Decoded;
    try {
      if (msg.data.length > MAX_GOSSIP_MESSAGE_BYTES) throw new DecodeError(`${msg.data.length} bytes exceed the gossip limit of ${MAX_GOSSIP_MESSAGE_BYTES}`);
      if (kind === 'proposal') {
        d = { kind, m: decodeProposalMessage(msg.data) };
        this.stats.received.proposal++;
      } else if (kind === 'vote') {
        d = { kind, v: decodeVoteMessage(msg.data) };
        this.stats.received.vote++;
      } else if (kind === 'evidence') {
        d = { kind, e: decodeEvidenceMessage(msg.data) };
        this.stats.received.evidence++;
      } else {
        const txs = decodeTxBatch(msg.data, this.opts.maxTxBytes);
        d = { kind: 'txs', txs };
        this.stats.received.tx += txs.length;
      }
    } catch (e) {
      // anything a decoder throws is the message's fault (a DecodeError), or a decoder bug that
      // one peer's bytes must still not turn into a crash
      this.countBad(peer);
      this.stats.rejected++;
      const log = e instanceof DecodeError ? this.log.debug : this.log.warn;
      log.call(this.log, { peer, topic: msg.topic, err: errorMessage(e) }, 'dropped a malformed gossip message');
      this.m.host.penalize(peer, 'undecodable', `${kind}: ${errorMessage(e)}`);
      return TopicValidatorResult.Reject;
    }
    if (d.kind === 'evidence' && this.handlers.checkEvidence) return this.validateEvidence(peer, msg, d);
    const verdict = this.checkSignature(d);
    if (verdict === 'invalid') {
      this.stats.rejected++;
      this.stats.invalidSignatures++;
      const what = d.kind === 'vote' ? { height: d.v.height, round: d.v.round, validatorIndex: d.v.validatorIndex } : d.kind === 'proposal' ? { height: d.m.height, round: d.m.proposal?.round } : {};
      this.log.debug({ peer, topic: msg.topic, ...what }, 'dropped a message with an invalid signature');
      this.m.host.penalize(peer, 'invalid_signature', `${d.kind} ${JSON.stringify(what)}`);
      return TopicValidatorResult.Reject;
    }
    if (verdict === 'unknown') {
      // useful to this node (a later height tells it that it is behind), but not vouched for
      this.stats.unforwarded++;
      this.deliver(d, peer, msg.topic);
      return TopicValidatorResult.Ignore;
    }
    this.decoded.set(msg, d);
    return TopicValidatorResult.Accept;
  }

  /**
   * Evidence is verified (signatures, validator set, time of its height) before gossipsub forwards
   * it: a relay that forwarded unverified evidence could not be blamed for it, and invalid
   * evidence would travel the whole network.
   */
  private async validateEvidence(peer: string, msg: Message, d: Extract<Decoded, { kind: 'evidence' }>): Promise<TopicValidatorResult> {
    let verdict: SignatureVerdict;
    try {
      verdict = await this.handlers.checkEvidence!(d.e);
    } catch (err) {
      this.log.error({ err: errorMessage(err) }, 'evidence check failed'); // ours, not the peer's
      verdict = 'unknown';
    }
    if (verdict === 'invalid') {
      this.stats.rejected++;
      this.log.debug({ peer, topic: msg.topic, height: d.e.voteA.height }, 'dropped invalid evidence');
      this.m.host.penalize(peer, 'invalid_evidence', `evidence at height ${d.e.voteA.height}`);
      return TopicValidatorResult.Reject;
    }
    if (verdict === 'unknown') {
      this.stats.unforwarded++;
      return TopicValidatorResult.Ignore;
    }
    this.decoded.set(msg, d);
    return TopicValidatorResult.Accept;
  }

  private checkSignature(d: Decoded): SignatureVerdict {
    try {
      if (d.kind === 'vote') return this.handlers.checkVote ? this.handlers.checkVote(d.v) : 'valid';
      if (d.kind === 'proposal' && d.m.proposal) return this.handlers.checkProposal ? this.handlers.checkProposal(d.m.proposal) : 'valid';
    } catch (err) {
      // a checker bug is ours, not the peer's: deliver, do not forward, do not blame
      this.log.error({ err: errorMessage(err), kind: d.kind }, 'signature check failed');
      return 'unknown';
    }
    // txs are checked by CheckTx; parts by their merkle proofs, against a proposal that was checked
    return 'valid';
  }

  private countBad(peer: string): void {
    const n = (this.bad.get(peer) ?? 0) + 1;
    this.bad.delete(peer); // re-insert: the map's order is recency, the oldest is evicted first
    this.bad.set(peer, n);
    const max = this.opts.maxTrackedPeers ?? DEFAULT_MAX_TRACKED_PEERS;
    while (this.bad.size > max) this.bad.delete(this.bad.keys().next().value!);
  }
}
