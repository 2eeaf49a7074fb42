// libp2p networking: the host (TCP + Noise + Yamux + identify, persistent peers, peer limits),
// gossip topics for proposals, votes, txs and evidence, the commit request/response protocol,
// peer exchange with its address book, and peer scores and bans.
export { P2PError, SILENT_LOGGER, type P2PErrorKind, type P2PLogger } from './errors.js';
export {
  P2PHost,
  hostOptionsFromConfig,
  parsePersistentPeers,
  DEFAULT_MAX_INBOUND_PEERS,
  DEFAULT_MAX_OUTBOUND_PEERS,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_REDIAL_BASE_MS,
  DEFAULT_REDIAL_MAX_MS,
  type HostOptions,
  type HostModules,
  type PeerInfo,
  type PersistentPeer,
  type Libp2pNode,
} from './host.js';
export {
  Gossip,
  gossipsubOptions,
  topicsFor,
  DEFAULT_TX_FLUSH_MS,
  DEFAULT_TX_BATCH_BYTES,
  DEFAULT_MAX_PEER_MSGS_PER_SEC,
  type GossipOptions,
  type GossipMetrics,
  type SignatureVerdict,
  type GossipModules,
  type GossipHandlers,
  type GossipTopics,
  type GossipStats,
} from './gossip.js';
export { PeerScores, DEFAULT_PENALTIES, DEFAULT_BAN_THRESHOLD, DEFAULT_BAN_DURATION_MS, DEFAULT_SCORE_HALF_LIFE_MS, type Offence, type Ban, type PeerScoreOptions, type PeerScoreModules } from './peer-scores.js';
export { FloodMeter, type FloodMeterOptions } from './flood-meter.js';
export { AddressBook, DEFAULT_MAX_BOOK_PEERS, MAX_DIAL_FAILURES, type AddressBookOptions, type AddrSource, type KnownPeer } from './address-book.js';
export { PeerExchange, pexProtocolId, DEFAULT_PEX_INTERVAL_MS, DEFAULT_PEX_REQUEST_TIMEOUT_MS, type PexOptions, type PexModules, type PexStats } from './pex.js';
export { CommitProtocol, commitProtocolId, DEFAULT_COMMIT_REQUEST_TIMEOUT_MS, type CommitSource, type CommitProtocolOptions, type CommitProtocolModules } from './commit-protocol.js';
export {
  MAX_GOSSIP_MESSAGE_BYTES,
  PROPOSAL_CHUNK_BYTES,
  MAX_TXS_PER_BATCH,
  MAX_COMMIT_RESPONSE_BYTES,
  MAX_PEX_ADDRS,
  MAX_PEX_ADDR_BYTES,
  MAX_PEX_MESSAGE_BYTES,
  encodePexRequest,
  decodePexRequest,
  encodePexAddrs,
  decodePexAddrs,
  checkPexAddr,
  encodeProposalMessage,
  decodeProposalMessage,
  proposalMessages,
  encodeVoteMessage,
  decodeVoteMessage,
  encodeTxBatch,
  decodeTxBatch,
  encodeEvidenceMessage,
  decodeEvidenceMessage,
  encodeCommitRequest,
  decodeCommitRequest,
  encodeCommitResponse,
  decodeCommitResponse,
  type ProposalMessage,
  type CommitResponse,
} from './messages.js';
