// The node's configuration: one typed structure, and one schema that describes every key
// (its config.toml name, kind, default, bounds and the comment written above it). Reading,
// writing, command-line overrides and `--help` are all driven by the schema, so a key added
// here is automatically documented, parseable and overridable. The mapped type of SCHEMA makes
// the compiler reject a Config field without a schema entry.
import { hostname } from 'node:os';
import { checkListenMultiaddr, checkPeerId, checkPeerMultiaddr, parseHostPort, parseMultiaddr, parseTcpUrl, toMultiaddr } from './addr.js';
import { parseLogLevel } from './log-level.js';

export type LogFormat = 'plain' | 'json';
export type DbBackend = 'classic-level' | 'goleveldb';
export type TxIndexer = 'kv' | 'null';
export type BlockSyncVersion = 'v0';

export interface BaseConfig {
  proxyApp: string;
  moniker: string;
  dbBackend: DbBackend;
  dbDir: string;
  logLevel: string;
  logFormat: LogFormat;
  genesisFile: string;
  privValidatorKeyFile: string;
  privValidatorStateFile: string;
  nodeKeyFile: string;
}

export interface RpcConfig {
  laddr: string;
  corsAllowedOrigins: string[];
  maxOpenConnections: number;
  maxSubscriptionClients: number;
  maxSubscriptionsPerClient: number;
  timeoutBroadcastTxCommitMs: number;
  maxBodyBytes: number;
  maxRequestBatchSize: number;
  maxHeaderBytes: number;
  unsafe: boolean;
}

export interface P2PConfig {
  /** A listen multiaddr (tcp://host:port input is converted). */
  laddr: string;
  externalAddress: string;
  seeds: string[];
  persistentPeers: string[];
  maxNumInboundPeers: number;
  maxNumOutboundPeers: number;
  pex: boolean;
  seedMode: boolean;
  privatePeerIds: string[];
  unconditionalPeerIds: string[];
  addrBookFile: string;
  banDurationMs: number;
  banThreshold: number;
  maxPeerMsgsPerSec: number;
  handshakeTimeoutMs: number;
  dialTimeoutMs: number;
  sendRate: number;
  recvRate: number;
}

export interface MempoolConfig {
  size: number;
  maxTxsBytes: number;
  maxTxBytes: number;
  cacheSize: number;
  recheck: boolean;
  keepInvalidTxsInCache: boolean;
  broadcast: boolean;
}

export interface StateSyncConfig {
  enable: boolean;
  rpcServers: string[];
  trustHeight: number;
  trustHash: string;
  trustPeriodMs: number;
  discoveryTimeMs: number;
  chunkRequestTimeoutMs: number;
  chunkFetchers: number;
}

export interface BlockSyncConfig {
  version: BlockSyncVersion;
  enable: boolean;
  blocksPerRequest: number;
  maxPendingRequestsPerPeer: number;
  requestTimeoutMs: number;
  switchLag: number;
}

export interface ConsensusConfig {
  walFile: string;
  timeoutProposeMs: number;
  timeoutProposeDeltaMs: number;
  timeoutPrevoteMs: number;
  timeoutPrevoteDeltaMs: number;
  timeoutPrecommitMs: number;
  timeoutPrecommitDeltaMs: number;
  timeoutCommitMs: number;
  createEmptyBlocks: boolean;
  createEmptyBlocksIntervalMs: number;
  emptyProposalDelayMs: number;
  peerGossipSleepDurationMs: number;
  doubleSignCheckHeight: number;
}

export interface StorageConfig {
  discardAbciResponses: boolean;
}

export interface TxIndexConfig {
  indexer: TxIndexer;
}

export interface InstrumentationConfig {
  prometheus: boolean;
  prometheusListenAddr: string;
  namespace: string;
}

export interface Config extends BaseConfig {
  /**
   * CometBFT 0.38 keys of config.toml that Tally does not use, set away from CometBFT's
   * defaults ("section.key" → value as read); named in the warning at start. Absent when none.
   */
  readonly cometbftOnly?: Readonly<Record<string, unknown>>;
  rpc: RpcConfig;
  p2p: P2PConfig;
  mempool: MempoolConfig;
  statesync: StateSyncConfig;
  blocksync: BlockSyncConfig;
  consensus: ConsensusConfig;
  storage: StorageConfig;
  txIndex: TxIndexConfig;
  instrumentation: InstrumentationConfig;
}

export type SectionName = 'rpc' | 'p2p' | 'mempool' | 'statesync' | 'blocksync' | 'consensus' | 'storage' | 'txIndex' | 'instrumentation';

// ---- key specifications ----------------------------------------------------------------------

interface SpecBase {
  /** The key's name in config.toml and on the command line. */
  readonly key: string;
  /** The comment written above the key in config.toml (one or more lines). */
  readonly doc: string;
}

/** A per-value check: returns an error message, or undefined when the value is fine. */
export type Check<T> = (value: T) => string | undefined;

export interface StringSpec extends SpecBase {
  readonly kind: 'string';
  readonly default: string | (() => string);
  readonly check?: Check<string>;
  /** Rewrites accepted input into its canonical form (e.g. tcp://… into a multiaddr). */
  readonly normalize?: (value: string) => string;
}
export interface EnumSpec<T extends string> extends SpecBase {
  readonly kind: 'enum';
  readonly default: T;
  readonly values: readonly T[];
}
export interface IntSpec extends SpecBase {
  readonly kind: 'int';
  /** Also read from a quoted decimal in config.toml, as CometBFT's template writes this key. */
  readonly quoted?: boolean;
  readonly default: number;
  readonly min: number;
  readonly max?: number;
}
/** Stored as milliseconds, written as a Go duration string. */
export interface DurationSpec extends SpecBase {
  readonly kind: 'duration';
  readonly default: number;
  /** Smallest accepted value in ms (default 0). */
  readonly min?: number;
}
export interface BoolSpec extends SpecBase {
  readonly kind: 'bool';
  readonly default: boolean;
}
/** A list of strings: a TOML array ("array") or CometBFT's comma-separated string ("csv"). */
export interface ListSpec extends SpecBase {
  readonly kind: 'list';
  readonly form: 'array' | 'csv';
  readonly default: readonly string[];
  readonly check?: Check<string>;
}

export type KeySpec = StringSpec | EnumSpec<string> | IntSpec | DurationSpec | BoolSpec | ListSpec;

type SpecFor<T> = [T] extends [boolean]
  ? BoolSpec
  : [T] extends [number]
    ? IntSpec | DurationSpec
    : [T] extends [readonly string[]]
      ? ListSpec
      : [T] extends [string]
        ? string extends T
          ? StringSpec
          : EnumSpec<T>
        : never;

type SpecsOf<T> = { readonly [P in keyof T]-?: SpecFor<T[P]> };

export interface SectionSpec<T> {
  /** The [table] name in config.toml. */
  readonly table: string;
  /** The banner written above the table. */
  readonly title: string;
  readonly keys: SpecsOf<T>;
}

export interface Schema {
  readonly base: { readonly title: string; readonly keys: SpecsOf<BaseConfig> };
  readonly sections: { readonly [S in SectionName]: SectionSpec<Config[S]> };
}

// ---- shared checks -------------------------------------------------------------------------

const nonEmpty: Check<string> = (v) => (v.trim() === '' ? 'must not be empty' : undefined);
const relOrAbsPath: Check<string> = (v) => (v.trim() === '' ? 'must not be empty' : v.includes('\0') ? 'must not contain NUL' : undefined);
const tcpUrlOrEmpty: Check<string> = (v) => {
  if (v === '') return undefined;
  const r = parseTcpUrl(v);
  return typeof r === 'string' ? r : undefined;
};
const httpUrl: Check<string> = (v) => (/^(https?|tcp):\/\/[^\s/]+(\/\S*)?$/.test(v) ? undefined : `expected an http(s):// URL, got ${JSON.stringify(v)}`);
const hexHashOrEmpty: Check<string> = (v) => (v === '' || /^[0-9A-Fa-f]{64}$/.test(v) ? undefined : 'expected 64 hex characters (a 32-byte SHA-256 hash) or ""');
const normalizeMultiaddr = (v: string): string => {
  const r = toMultiaddr(v);
  return typeof r === 'string' ? r : v; // a bad value stays as typed so the check reports it
};
const multiaddrOrEmpty: Check<string> = (v) => {
  if (v === '') return undefined;
  const r = parseMultiaddr(v);
  return typeof r === 'string' ? r : undefined;
};
const hostPortOrEmpty: Check<string> = (v) => {
  if (v === '') return undefined;
  const r = parseHostPort(v, true);
  return typeof r === 'string' ? r : undefined;
};
const logLevel: Check<string> = (v) => {
  const r = parseLogLevel(v);
  return typeof r === 'string' ? r : undefined;
};
const moniker: Check<string> = (v) =>
  v.trim() === '' ? 'must not be empty' : v.length > 128 ? 'must be at most 128 characters' : /[\p{Cc}]/u.test(v) ? 'must not contain control characters' : undefined;

function defaultMoniker(): string {
  const h = hostname().replace(/[\p{Cc}]/gu, '');
  return h === '' ? 'tally-node' : h.slice(0, 128);
}

// ---- the schema ------------------------------------------------------------------------------

export const SCHEMA: Schema = {
  base: {
    title: 'Main Base Config Options',
    keys: {
      proxyApp: {
        key: 'proxy_app',
        kind: 'string',
        default: 'kvstore',
        doc: 'The ABCI application the node runs. Tally runs applications in process; "kvstore" is the\nbuilt-in example key-value store (as in CometBFT, where "kvstore" also names the built-in app).',
        check: nonEmpty,
      },
      moniker: {
        key: 'moniker',
        kind: 'string',
        default: defaultMoniker,
        doc: 'A custom human readable name for this node (shown to peers and in /status).',
        check: moniker,
      },
      dbBackend: {
        key: 'db_backend',
        kind: 'enum',
        default: 'classic-level',
        values: ['classic-level', 'goleveldb'],
        doc: 'Database backend for the block, state and index stores. Tally has one:\n  * classic-level (LevelDB through the classic-level package; the counterpart of CometBFT\'s goleveldb)\n  * goleveldb: CometBFT\'s name, accepted so that its config.toml loads; the same backend',
      },
      dbDir: {
        key: 'db_dir',
        kind: 'string',
        default: 'data',
        doc: 'Database directory (relative paths are relative to the home directory).\n`tally unsafe-reset-all` removes everything in it.',
        check: relOrAbsPath,
      },
      logLevel: {
        key: 'log_level',
        kind: 'string',
        default: 'info',
        doc: 'Output level for logging: one of trace, debug, info, warn, error, fatal, silent (or "none"),\nor per-module levels with a default, e.g. "consensus:debug,p2p:warn,*:info".',
        check: logLevel,
      },
      logFormat: {
        key: 'log_format',
        kind: 'enum',
        default: 'plain',
        values: ['plain', 'json'],
        doc: 'Output format: \'plain\' (colorless, one line per entry, CometBFT-style) or \'json\' (pino\'s JSON lines).',
      },
      genesisFile: {
        key: 'genesis_file',
        kind: 'string',
        default: 'config/genesis.json',
        doc: 'Path to the JSON file containing the initial validator set and other meta data.',
        check: relOrAbsPath,
      },
      privValidatorKeyFile: {
        key: 'priv_validator_key_file',
        kind: 'string',
        default: 'config/priv_validator_key.json',
        doc: 'Path to the JSON file containing the private key to use as a validator in the consensus protocol.',
        check: relOrAbsPath,
      },
      privValidatorStateFile: {
        key: 'priv_validator_state_file',
        kind: 'string',
        default: 'data/priv_validator_state.json',
        doc: 'Path to the JSON file containing the last sign state of a validator (height, round, step):\nthe validator refuses to sign anything at or below it, which prevents double signing.',
        check: relOrAbsPath,
      },
      nodeKeyFile: {
        key: 'node_key_file',
        kind: 'string',
        default: 'config/node_key.json',
        doc: 'Path to the JSON file containing the private key to use for node authentication in the p2p\nprotocol. It is also the node\'s libp2p identity: the node id is the libp2p peer id (12D3KooW…).',
        check: relOrAbsPath,
      },
    },
  },
  sections: {
    rpc: {
      table: 'rpc',
      title: 'RPC Server Configuration Options',
      keys: {
        laddr: {
          key: 'laddr',
          kind: 'string',
          default: 'tcp://127.0.0.1:26657',
          doc: 'TCP address for the JSON-RPC server (HTTP and websocket) to listen on, as tcp://host:port.\nAn empty value disables the RPC server.',
          check: tcpUrlOrEmpty,
        },
        corsAllowedOrigins: {
          key: 'cors_allowed_origins',
          kind: 'list',
          form: 'array',
          default: [],
          doc: 'A list of origins a cross-domain request can be executed from.\nDefault value \'[]\' disables CORS support; use \'["*"]\' to allow any origin.',
        },
        maxOpenConnections: {
          key: 'max_open_connections',
          kind: 'int',
          default: 900,
          min: 0,
          doc: 'Maximum number of simultaneous connections (including websocket connections).\n0 means unlimited. Keep it below the process\'s open-file limit.',
        },
        maxSubscriptionClients: {
          key: 'max_subscription_clients',
          kind: 'int',
          default: 100,
          min: 0,
          doc: 'Maximum number of unique clients that can /subscribe over websocket.',
        },
        maxSubscriptionsPerClient: {
          key: 'max_subscriptions_per_client',
          kind: 'int',
          default: 5,
          min: 0,
          doc: 'Maximum number of unique queries a given client can /subscribe to.',
        },
        timeoutBroadcastTxCommitMs: {
          key: 'timeout_broadcast_tx_commit',
          kind: 'duration',
          default: 10_000,
          min: 1,
          doc: 'How long to wait for a tx to be committed during /broadcast_tx_commit.\nShould stay below the HTTP write timeout of clients.',
        },
        maxRequestBatchSize: {
          key: 'max_request_batch_size',
          kind: 'int',
          default: 10,
          min: 0,
          doc: 'Most requests in one JSON-RPC batch (an array of requests); 0: no limit.',
        },
        maxBodyBytes: {
          key: 'max_body_bytes',
          kind: 'int',
          default: 1_000_000,
          min: 1,
          doc: 'Maximum size of a request body, in bytes.',
        },
        maxHeaderBytes: {
          key: 'max_header_bytes',
          kind: 'int',
          default: 1_048_576,
          min: 1,
          doc: 'Largest request line and headers, in bytes; beyond, the request gets HTTP 431.',
        },
        unsafe: {
          key: 'unsafe',
          kind: 'bool',
          default: false,
          doc: 'Activate unsafe RPC commands like /dial_seeds and /unsafe_flush_mempool.',
        },
      },
    },
    p2p: {
      table: 'p2p',
      title: 'P2P Configuration Options (libp2p: TCP + Noise + Yamux)',
      keys: {
        laddr: {
          key: 'laddr',
          kind: 'string',
          default: '/ip4/0.0.0.0/tcp/26656',
          doc: 'Address to listen for incoming connections, as a libp2p multiaddr (/ip4/<ip>/tcp/<port>).\n"tcp://<ip>:<port>" is accepted too and converted.',
          normalize: normalizeMultiaddr,
          check: checkListenMultiaddr,
        },
        externalAddress: {
          key: 'external_address',
          kind: 'string',
          default: '',
          doc: 'Address to advertise to peers for them to dial, as a multiaddr (e.g. /ip4/203.0.113.7/tcp/26656\nor /dns4/node.example.com/tcp/26656). If empty, the listen addresses are advertised.',
          normalize: normalizeMultiaddr,
          check: multiaddrOrEmpty,
        },
        seeds: {
          key: 'seeds',
          kind: 'list',
          form: 'csv',
          default: [],
          doc: 'Comma separated list of seed nodes to connect to for peer discovery, as multiaddrs\nending in the peer id: /ip4/<ip>/tcp/<port>/p2p/<peer id> (see `tally show-node-id`).',
          check: checkPeerMultiaddr,
        },
        persistentPeers: {
          key: 'persistent_peers',
          kind: 'list',
          form: 'csv',
          default: [],
          doc: 'Comma separated list of nodes to keep persistent connections to (redialed when lost),\nas multiaddrs: /ip4/<ip>/tcp/<port>/p2p/<peer id>. Knowing one peer is enough to find the rest.',
          check: checkPeerMultiaddr,
        },
        maxNumInboundPeers: {
          key: 'max_num_inbound_peers',
          kind: 'int',
          default: 40,
          min: 0,
          doc: 'Maximum number of inbound peers.',
        },
        maxNumOutboundPeers: {
          key: 'max_num_outbound_peers',
          kind: 'int',
          default: 10,
          min: 0,
          doc: 'Maximum number of outbound peers to connect to, excluding persistent peers.',
        },
        pex: {
          key: 'pex',
          kind: 'bool',
          default: true,
          doc: 'Set true to enable peer exchange (/tally/<chain>/pex/1): peers tell each other about further\npeers, and a node dials those it does not know while below max_num_outbound_peers. Seeds are\nthen dialed for addresses (and again whenever no other peer is known); with pex = false they are\nkept connected like persistent peers.',
        },
        privatePeerIds: {
          key: 'private_peer_ids',
          kind: 'list',
          form: 'csv',
          default: [],
          doc: 'Comma separated peer ids whose addresses this node never tells others (in peer exchange).',
          check: checkPeerId,
        },
        unconditionalPeerIds: {
          key: 'unconditional_peer_ids',
          kind: 'list',
          form: 'csv',
          default: [],
          doc: 'Comma separated peer ids the peer limits do not apply to: let in beyond max_num_inbound_peers,\ndialed beyond max_num_outbound_peers when dialed (unlike persistent peers, not redialed when lost).',
          check: checkPeerId,
        },
        seedMode: {
          key: 'seed_mode',
          kind: 'bool',
          default: false,
          doc: 'Seed mode (needs pex = true): the node crawls the network for addresses and keeps no connection\nbut to persistent peers. It dials peers it knows of, a few every pex interval, asks each for\naddresses and hangs up; a peer that connects to it is asked, answered and hung up on. Meant for a\nnode that only helps others find peers, not for a validator.',
        },
        addrBookFile: {
          key: 'addr_book_file',
          kind: 'string',
          default: 'config/addrbook.json',
          doc: 'Path to the address book: the peers learned through peer exchange and identify, saved (when it\nchanged) every pex interval and at stop and loaded at start, so a restarted node can dial them again (relative\npaths are relative to the home directory).',
        },
        banDurationMs: {
          key: 'ban_duration',
          kind: 'duration',
          default: 3_600_000,
          min: 1,
          doc: 'How long a peer whose score fell to -ban_threshold is disconnected and refused (inbound and\noutbound, persistent peers too). Undecodable messages, invalid signatures, another chain\'s\nprotocols, floods and bad peer-exchange messages lower a peer\'s score; it recovers over time.',
        },
        banThreshold: {
          key: 'ban_threshold',
          kind: 'int',
          default: 100,
          min: 1,
          doc: 'Penalty points that get a peer banned. Each offence costs: undecodable message 10, invalid\nsignature 50, another chain 100, a second of flooding 25, bad peer exchange 20; the penalty\nhalves every minute.',
        },
        maxPeerMsgsPerSec: {
          key: 'max_peer_msgs_per_sec',
          kind: 'int',
          default: 2_000,
          min: 1,
          doc: 'Gossip messages one peer may send per second on average (bursts of twice that); a peer\nabove it loses score for each second of excess.',
        },
        handshakeTimeoutMs: {
          key: 'handshake_timeout',
          kind: 'duration',
          default: 20_000,
          min: 1,
          doc: 'Time allowed for a new connection\'s handshake (Noise, muxer and chain check).',
        },
        dialTimeoutMs: {
          key: 'dial_timeout',
          kind: 'duration',
          default: 3_000,
          min: 1,
          doc: 'Time allowed to establish an outbound TCP connection.',
        },
        sendRate: {
          key: 'send_rate',
          kind: 'int',
          default: 5_120_000,
          min: 1,
          doc: 'Bytes per second sent to one peer at most, per connection, after a burst of up to one second\'s worth.',
        },
        recvRate: {
          key: 'recv_rate',
          kind: 'int',
          default: 5_120_000,
          min: 1,
          doc: 'Bytes per second read from one peer at most, per connection, after a burst of up to one second\'s worth.',
        },
      },
    },
    mempool: {
      table: 'mempool',
      title: 'Mempool Configuration Options',
      keys: {
        size: {
          key: 'size',
          kind: 'int',
          default: 5000,
          min: 1,
          doc: 'Maximum number of transactions in the mempool.',
        },
        maxTxsBytes: {
          key: 'max_txs_bytes',
          kind: 'int',
          default: 67_108_864,
          min: 1,
          doc: 'Limit the total size of all txs in the mempool, in bytes (default 64 MiB).\nThis only accounts for raw transactions (e.g. given 1MB transactions and\nmax_txs_bytes=5MB, mempool will only accept 5 transactions).',
        },
        maxTxBytes: {
          key: 'max_tx_bytes',
          kind: 'int',
          default: 1_048_576,
          min: 1,
          doc: 'Maximum size of a single transaction, in bytes (default 1 MiB).\nMust not exceed max_txs_bytes, and should stay below the block\'s max_bytes consensus param.',
        },
        cacheSize: {
          key: 'cache_size',
          kind: 'int',
          default: 10_000,
          min: 0,
          doc: 'Size of the cache (in number of transactions) used to filter transactions we saw earlier.\n0 disables the cache.',
        },
        recheck: {
          key: 'recheck',
          kind: 'bool',
          default: true,
          doc: 'Recheck (CheckTx again) the transactions left in the mempool after every committed block,\nso that txs made invalid by the block are evicted.',
        },
        keepInvalidTxsInCache: {
          key: 'keep-invalid-txs-in-cache',
          kind: 'bool',
          default: false,
          doc: 'Keep the hashes of txs CheckTx rejected in the seen-cache, so that the same tx sent again is\nrefused as a duplicate without asking the app (false: it is checked again; it may have become valid).',
        },
        broadcast: {
          key: 'broadcast',
          kind: 'bool',
          default: true,
          doc: 'Gossip transactions to peers. If false, this node only adds txs it received over RPC\nto its own mempool.',
        },
      },
    },
    statesync: {
      table: 'statesync',
      title: 'State Sync Configuration Options',
      keys: {
        enable: {
          key: 'enable',
          kind: 'bool',
          default: false,
          doc: 'State sync rapidly bootstraps a new node by discovering, fetching, and restoring a state machine\nsnapshot from peers instead of fetching and replaying historical blocks. Requires some peers in\nthe network to take and serve state machine snapshots. State sync is not attempted if the node\nhas local state (height > 0). The node will have a truncated block history, starting from\nthe height of the snapshot. If no snapshot is found within discovery_time, the node falls back to\nblock sync from genesis.',
        },
        rpcServers: {
          key: 'rpc_servers',
          kind: 'list',
          form: 'csv',
          default: [],
          doc: 'Comma separated list of RPC servers (http://host:port) used to fetch and cross-check light\nclient headers. Optional: headers are otherwise fetched from p2p peers. The trusted height and\nhash below are required when state sync is enabled.',
          check: httpUrl,
        },
        trustHeight: {
          key: 'trust_height',
          kind: 'int',
          default: 0,
          min: 0,
          doc: 'Height of a trusted block header (obtained from a trusted source), the light client\'s root of trust.',
        },
        trustHash: {
          key: 'trust_hash',
          kind: 'string',
          default: '',
          doc: 'Hash of the header at trust_height, as 64 hex characters.',
          check: hexHashOrEmpty,
        },
        trustPeriodMs: {
          key: 'trust_period',
          kind: 'duration',
          default: 168 * 3_600_000,
          min: 1,
          doc: 'Trust period: headers older than this are not trusted. Should be significantly less than the\nchain\'s unbonding period (if any). 168h0m0s is one week.',
        },
        discoveryTimeMs: {
          key: 'discovery_time',
          kind: 'duration',
          default: 15_000,
          min: 1,
          doc: 'Time to spend discovering snapshots before picking one (and before falling back to block sync\nif none is offered).',
        },
        chunkRequestTimeoutMs: {
          key: 'chunk_request_timeout',
          kind: 'duration',
          default: 10_000,
          min: 1,
          doc: 'Timeout for a single snapshot chunk request before it is retried with another peer.',
        },
        chunkFetchers: {
          key: 'chunk_fetchers',
          kind: 'int',
          quoted: true,
          default: 4,
          min: 1,
          max: 1024,
          doc: 'Number of concurrent snapshot chunk fetchers.',
        },
      },
    },
    blocksync: {
      table: 'blocksync',
      title: 'Block Sync Configuration Options',
      keys: {
        version: {
          key: 'version',
          kind: 'enum',
          default: 'v0',
          values: ['v0'],
          doc: 'Block Sync version to use (catching up by fetching committed blocks from peers):\n  1) "v0" - the default (and only) implementation',
        },
        enable: {
          key: 'enable',
          kind: 'bool',
          default: true,
          doc: 'If this node is many blocks behind the tip of the chain, block sync lets it catch up quickly by\ndownloading blocks from several peers in parallel and verifying their commits; consensus starts\nonce it is within one height of the best peer (CometBFT\'s top-level block_sync). A lone validator\nwith no peers configured skips it. If false, consensus starts at once and a lagging node catches\nup one height at a time.',
        },
        blocksPerRequest: {
          key: 'blocks_per_request',
          kind: 'int',
          default: 20,
          min: 1,
          max: 100,
          doc: 'Blocks asked of a peer in one request (a response also stops at about 16 MiB).',
        },
        maxPendingRequestsPerPeer: {
          key: 'max_pending_requests_per_peer',
          kind: 'int',
          default: 4,
          min: 1,
          max: 64,
          doc: 'Block requests in flight to one peer at once; requests are spread over all peers that have the blocks.',
        },
        requestTimeoutMs: {
          key: 'request_timeout',
          kind: 'duration',
          default: 15_000,
          min: 1,
          doc: 'How long a block request may take before it is retried with another peer.',
        },
        switchLag: {
          key: 'switch_lag',
          kind: 'int',
          default: 3,
          min: 1,
          doc: 'A node in consensus that is more than this many heights behind its best peer (twice in a row,\npeers are asked every 2s) stops consensus and block-syncs again.',
        },
      },
    },
    consensus: {
      table: 'consensus',
      title: 'Consensus Configuration Options',
      keys: {
        walFile: {
          key: 'wal_file',
          kind: 'string',
          default: 'data/cs.wal/wal',
          doc: 'Path of the consensus write-ahead log (relative paths are relative to the home directory).',
          check: relOrAbsPath,
        },
        timeoutProposeMs: {
          key: 'timeout_propose',
          kind: 'duration',
          default: 3_000,
          min: 1,
          doc: 'How long we wait for a proposal block before prevoting nil.',
        },
        timeoutProposeDeltaMs: {
          key: 'timeout_propose_delta',
          kind: 'duration',
          default: 500,
          doc: 'How much timeout_propose increases with each round.',
        },
        timeoutPrevoteMs: {
          key: 'timeout_prevote',
          kind: 'duration',
          default: 1_000,
          min: 1,
          doc: 'How long we wait after receiving +2/3 prevotes for “anything” (i.e. not a single block or nil).',
        },
        timeoutPrevoteDeltaMs: {
          key: 'timeout_prevote_delta',
          kind: 'duration',
          default: 500,
          doc: 'How much the timeout_prevote increases with each round.',
        },
        timeoutPrecommitMs: {
          key: 'timeout_precommit',
          kind: 'duration',
          default: 1_000,
          min: 1,
          doc: 'How long we wait after receiving +2/3 precommits for “anything” (i.e. not a single block or nil).',
        },
        timeoutPrecommitDeltaMs: {
          key: 'timeout_precommit_delta',
          kind: 'duration',
          default: 500,
          doc: 'How much the timeout_precommit increases with each round.',
        },
        timeoutCommitMs: {
          key: 'timeout_commit',
          kind: 'duration',
          default: 1_000,
          doc: 'How long we wait after committing a block, before starting on the new height (this gives us a\nchance to receive some more precommits, even though we already have +2/3). 0s starts at once.',
        },
        createEmptyBlocks: {
          key: 'create_empty_blocks',
          kind: 'bool',
          default: true,
          doc: 'EmptyBlocks mode: if false, a proposer waits for transactions (or for\ncreate_empty_blocks_interval) before proposing a new block.',
        },
        createEmptyBlocksIntervalMs: {
          key: 'create_empty_blocks_interval',
          kind: 'duration',
          default: 0,
          doc: 'Non-zero: a height that needs no proof block waits for transactions, and an empty block is\nproposed after this long without any (also with create_empty_blocks = true). With\ncreate_empty_blocks = false, 0s means never.',
        },
        emptyProposalDelayMs: {
          key: 'empty_proposal_delay',
          kind: 'duration',
          default: 0,
          doc: 'Not in CometBFT. A proposer whose mempool is empty waits up to this long for transactions\nbefore it proposes an empty block (a proof block too), and proposes as soon as one arrives. A\nclient that sends its next tx when the last one committed then gets it into the next block\ninstead of the one after it. Keep it well below timeout_propose. 0s proposes at once.',
        },
        peerGossipSleepDurationMs: {
          key: 'peer_gossip_sleep_duration',
          kind: 'duration',
          default: 100,
          min: 1,
          doc: 'Pause between rounds of catch-up gossip to one peer (votes and block parts it lacks).',
        },
        doubleSignCheckHeight: {
          key: 'double_sign_check_height',
          kind: 'int',
          default: 0,
          min: 0,
          doc: 'Before joining consensus, look back this many stored blocks for a precommit signed with this node\'s\nkey that this process did not sign. If there is one, another instance may be signing with the key, and\nthe node refuses to start. A validator restarted with the check on must wait until that many blocks\nhave been committed without it. 0 turns the check off.',
        },
      },
    },
    storage: {
      table: 'storage',
      title: 'Storage Configuration Options',
      keys: {
        discardAbciResponses: {
          key: 'discard_abci_responses',
          kind: 'bool',
          default: false,
          doc: 'true: keep only the latest height\'s FinalizeBlock response (what crash recovery needs) and delete\nthe older ones, to save disk. block_results then answers for the latest height only, and the tx and\nblock indexes are fsynced, since they could no longer be rebuilt from the responses.',
        },
      },
    },
    txIndex: {
      table: 'tx_index',
      title: 'Transaction Indexer Configuration Options',
      keys: {
        indexer: {
          key: 'indexer',
          kind: 'enum',
          default: 'kv',
          values: ['kv', 'null'],
          doc: 'What indexer to use for transactions and blocks (for /tx_search and /block_search):\n  1) "null" (no indexing)\n  2) "kv" (default) - the simplest possible indexer, backed by the key-value store.',
        },
      },
    },
    instrumentation: {
      table: 'instrumentation',
      title: 'Instrumentation Configuration Options',
      keys: {
        prometheus: {
          key: 'prometheus',
          kind: 'bool',
          default: false,
          doc: 'When true, Prometheus metrics are served under /metrics on prometheus_listen_addr.',
        },
        prometheusListenAddr: {
          key: 'prometheus_listen_addr',
          kind: 'string',
          default: ':26660',
          doc: 'Address to listen for Prometheus collector(s) connections, as host:port (":26660" = all interfaces).',
          check: hostPortOrEmpty,
        },
        namespace: {
          key: 'namespace',
          kind: 'string',
          default: 'tally',
          doc: 'Instrumentation namespace: the prefix of every metric name.',
          check: (v) => (/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(v) ? undefined : 'must be a Prometheus name: letters, digits and _, not starting with a digit'),
        },
      },
    },
  },
};

// ---- a flat view ---------------------------------------------------------------------------

/** One key, located: `section` is null for top-level keys. */
export interface FieldInfo {
  /** "moniker" or "rpc.laddr": the name used in messages and on the command line. */
  readonly path: string;
  readonly section: SectionName | null;
  readonly table: string | null;
  readonly prop: string;
  readonly spec: KeySpec;
}

function buildFields(): FieldInfo[] {
  const out: FieldInfo[] = [];
  for (const [prop, spec] of Object.entries(SCHEMA.base.keys) as [string, KeySpec][]) out.push({ path: spec.key, section: null, table: null, prop, spec });
  for (const [section, sec] of Object.entries(SCHEMA.sections) as [SectionName, SectionSpec<object>][]) {
    for (const [prop, spec] of Object.entries(sec.keys) as [string, KeySpec][])
      out.push({ path: `${sec.table}.${spec.key}`, section, table: sec.table, prop, spec });
  }
  return out;
}

/** Every key, in config.toml order. */
export const FIELDS: readonly FieldInfo[] = buildFields();

const BY_PATH = new Map(FIELDS.map((f) => [f.path, f]));

export function fieldByPath(path: string): FieldInfo | undefined {
  return BY_PATH.get(path);
}

/** The value type a field holds in Config. */
export type FieldValue = string | number | boolean | string[];

export function getField(config: Config, f: FieldInfo): FieldValue {
  const holder = (f.section === null ? config : config[f.section]) as unknown as Record<string, FieldValue>;
  return holder[f.prop]!;
}

/** Sets a field in place; `config` must be a private copy. */
export function setField(config: Config, f: FieldInfo, value: FieldValue): void {
  const holder = (f.section === null ? config : config[f.section]) as unknown as Record<string, FieldValue>;
  holder[f.prop] = value;
}

function defaultOf(spec: KeySpec): FieldValue {
  if (spec.kind === 'list') return [...spec.default];
  if (spec.kind === 'string' && typeof spec.default === 'function') return spec.default();
  return spec.default as string | number | boolean;
}

/** A fresh copy of the default configuration. */
export function defaultConfig(): Config {
  const config = Object.fromEntries(Object.keys(SCHEMA.sections).map((s) => [s, {}])) as unknown as Config;
  for (const f of FIELDS) setField(config, f, defaultOf(f.spec));
  return config;
}

/** A deep copy (configs are plain data: nested objects of scalars and string arrays). */
export function cloneConfig(config: Config): Config {
  const copy = { ...config } as Config;
  for (const s of Object.keys(SCHEMA.sections) as SectionName[]) (copy as unknown as Record<string, unknown>)[s] = { ...config[s] };
  for (const f of FIELDS) {
    const v = getField(config, f);
    if (Array.isArray(v)) setField(copy, f, [...v]);
  }
  return copy;
}
