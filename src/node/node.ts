// A Tally node assembled from its parts, started and stopped in a fixed order: stores and the
// evidence pool → app → handshake → mempool → consensus → p2p → RPC; stopped in reverse.
// Everything is built from the loaded home (config, genesis, keys).
import { join } from 'node:path';
import type { Logger } from 'pino';
import { serialize, type Application, type SerializedApplication } from '../abci/index.js';
import { CounterApp, KVStoreApp } from '../apps/index.js';
import { toHex } from '../codec/index.js';
import { COMETBFT_COMPAT_VERSION, TALLY_VERSION, forModule, ignoredSettings, type Config, type LoadedHome } from '../config/index.js';
import { ConsensusEngine } from '../consensus/engine.js';
import { BlockExecutor, handshake, stateFromGenesis } from '../execution/index.js';
import { Mempool, mempoolOptionsFromConfig } from '../mempool/index.js';
import { FileSigner } from '../privval/index.js';
import { RpcServer, DEFAULT_RPC_SERVER_OPTIONS } from '../rpc/index.js';
import { BlockIndex, BlockStore, StateStore, TxIndex } from '../store/index.js';
import { parseTcpUrl } from '../config/index.js';
import { buildRoutes } from '../rpc/routes.js';
import { TxWaiters } from '../rpc/tx-waiters.js';
import { EventBus, NodeEvents } from '../events/index.js';
import { EvidencePool } from '../evidence/index.js';
import { NodeNetwork, networkOptionsFromConfig } from './network.js';
import { createNodeMetrics, metricsOptionsFromConfig, type NodeMetrics } from '../metrics/index.js';
import { BlockSync } from '../sync/index.js';
import type { RpcConsensus } from '../rpc/env.js';

export class NodeError extends Error {
  override readonly name = 'NodeError';
}

interface Closable {
  close(): Promise<void>;
}

async function openApp(config: Config, dbDir: string, logger: Logger): Promise<{ app: Application; close: () => Promise<void> }> {
  switch (config.proxyApp) {
    case 'kvstore': {
      // Commit is not fsynced: an app that loses its last blocks to a power cut is behind the
      // block store at the next start, and the handshake replays them (the FinalizeBlock results
      // the state needs were fsynced before Commit). One fsync less per height.
      const app = await KVStoreApp.open({ dir: join(dbDir, 'kvstore'), logger: forModule(logger, 'app'), syncWrites: false });
      return { app, close: () => app.close() };
    }
    case 'counter': {
      const app = new CounterApp();
      return { app, close: async () => {} };
    }
    default:
      throw new NodeError(`proxy_app ${JSON.stringify(config.proxyApp)} is not an application this node can run in-process (kvstore, counter)`);
  }
}

/** Resolves when `mempool` holds txs (at once if it does); rejects when `signal` aborts. */
function txsAvailable(mempool: Mempool, signal: AbortSignal): Promise<void> {
  if (mempool.size() > 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (): void => {
      unsubscribe();
      signal.removeEventListener('abort', aborted);
    };
    const unsubscribe = mempool.onTxAvailable(() => {
      done();
      resolve();
    });
    const aborted = (): void => {
      done();
      reject(new Error('no longer waiting for txs'));
    };
    if (signal.aborted) aborted();
    else signal.addEventListener('abort', aborted, { once: true });
  });
}

export class TallyNode {
  private readonly closers: Closable[] = [];
  private engine: ConsensusEngine | undefined;
  private blockSync: BlockSync | undefined;
  private rpc: RpcServer | undefined;
  private metrics: NodeMetrics | undefined;
  private fatalError: Error | undefined;
  private readonly fatalListeners: ((e: Error) => void)[] = [];

  private constructor(
    readonly config: Config,
    readonly home: LoadedHome,
    private readonly logger: Logger,
  ) {}

  /** Opens everything and starts consensus and the RPC server. */
  static async start(config: Config, home: LoadedHome, logger: Logger): Promise<TallyNode> {
    const node = new TallyNode(config, home, logger);
    try {
      await node.open();
    } catch (e) {
      await node.stop();
      throw e;
    }
    return node;
  }

  /** Called once if the node cannot go on (e.g. its app hash diverged from the chain). */
  onFatal(listener: (e: Error) => void): void {
    if (this.fatalError) listener(this.fatalError);
    else this.fatalListeners.push(listener);
  }

  get consensus(): ConsensusEngine | undefined {
    return this.engine;
  }

  /** Block sync (undefined before the node is assembled). */
  get sync(): BlockSync | undefined {
    return this.blockSync;
  }

  /** Where /metrics is served (undefined when [instrumentation] prometheus is off). */
  metricsAddress(): { host: string; port: number } | undefined {
    return this.metrics?.server.address();
  }

  rpcAddress(): { host: string; port: number } | undefined {
    return this.rpc?.address();
  }

  private async open(): Promise<void> {
    const { config, home, logger } = this;
    const dbDir = home.paths.dbDir;
    const genesis = home.genesis;
    for (const setting of ignoredSettings(config)) logger.warn({ setting }, 'config key set but not acted on by Tally');
    // first to start, last to stop: everything after can report to it
    const metrics = createNodeMetrics(metricsOptionsFromConfig(config.instrumentation), { logger: forModule(logger, 'metrics') });
    this.metrics = metrics;
    await metrics.server.start();
    this.closers.push({ close: () => metrics.server.stop() });

    const blockStore = new BlockStore({ path: join(dbDir, 'blockstore.db') });
    const stateStore = new StateStore({ path: join(dbDir, 'state.db') });
    // not fsynced: recoverIndexes re-indexes at start whatever a power cut took, from the
    // stored blocks and results (which are durable) — unless storage.discard_abci_responses
    // drops those results: then each index write is fsynced (in the background of the next height)
    // tx_index.indexer = "null": neither index exists (CometBFT's null indexers); the RPC's
    // tx, tx_search and block_search say indexing is disabled
    const indexing = config.txIndex.indexer === 'kv';
    const discard = config.storage.discardAbciResponses;
    const txIndex = indexing ? new TxIndex({ path: join(dbDir, 'tx_index.db'), sync: discard }) : undefined;
    const blockIndex = indexing ? new BlockIndex({ path: join(dbDir, 'block_index.db'), sync: discard }) : undefined;
    for (const s of [blockStore, stateStore, txIndex, blockIndex]) {
      if (!s) continue;
      await s.open();
      this.closers.push(s);
    }

    // opened before the handshake: blocks it replays are checked and committed through the pool
    const evidence = new EvidencePool({ chainId: genesis.chainId, path: join(dbDir, 'evidence.db') }, { stateStore, blockStore, logger: forModule(logger, 'evidence') });
    await evidence.open();
    this.closers.push({ close: () => evidence.stop() });

    const opened = await openApp(config, dbDir, logger);
    this.closers.push({ close: opened.close });
    const app: SerializedApplication = serialize(opened.app);

    const txWaiters = new TxWaiters();
    const events = new NodeEvents(new EventBus({ maxClients: config.rpc.maxSubscriptionClients, maxSubscriptionsPerClient: config.rpc.maxSubscriptionsPerClient }));
    const stored = await stateStore.load();
    const mempool = new Mempool(mempoolOptionsFromConfig(config.mempool, { height: stored?.lastBlockHeight ?? 0 }), { app, logger: forModule(logger, 'mempool'), metrics: metrics.mempool });
    this.closers.push({ close: () => mempool.stop() });
    const executor = new BlockExecutor({
      app,
      blockStore,
      stateStore,
      txIndex,
      blockIndex,
      mempool,
      evidence,
      discardFinalizeBlockResponses: discard,
      logger: forModule(logger, 'state'),
      onApplied: (a) => {
        txWaiters.blockApplied(a);
        events.blockApplied(a);
      },
    });
    const initial = stored ?? stateFromGenesis(genesis);
    if (initial.chainId !== genesis.chainId)
      throw new NodeError(`the stored state is for chain ${initial.chainId}, but genesis.json is for ${genesis.chainId}: wrong home or db_dir?`);
    const { state, replayed } = await handshake(initial, { genesis, app, blockStore, stateStore, executor, logger: forModule(logger, 'handshake'), version: TALLY_VERSION });
    logger.info({ height: state.lastBlockHeight, appHash: toHex(state.appHash), replayed }, 'handshake complete');
    await executor.recoverIndexes(state);
    metrics.consensus.recordState(state);
    await evidence.start(state);

    const privKey = home.privValidatorKey.privKey;
    const isValidator = state.validators.hasAddress(privKey.pubKey.address) || state.nextValidators.hasAddress(privKey.pubKey.address);
    if (isValidator && config.p2p.seedMode)
      logger.warn({ setting: 'p2p.seed_mode = true' }, 'seed mode on a validator: it hangs up on its peers, so it will miss most votes and blocks');
    // TALLY_PRIVVAL_AUDIT_LOG: a forensic log of every signature (see FileSignerOptions).
    const auditLogPath = process.env.TALLY_PRIVVAL_AUDIT_LOG;
    const signer = FileSigner.open(privKey, home.paths.privValidatorStateFile, { stateLogPath: home.paths.privValidatorStateLogFile, ...(auditLogPath ? { auditLogPath } : {}) });
    this.closers.push({ close: async () => signer.close() }); // after consensus stopped: the state file catches up
    const c = config.consensus;
    // libp2p: gossip for consensus and txs, commits for catch-up (started after consensus, stopped before it)
    const network = new NodeNetwork(
      { ...networkOptionsFromConfig(config, genesis, home.paths.addrBookFile, home.paths.peerBansFile), blocksRequestTimeoutMs: config.blocksync.requestTimeoutMs },
      { privateKey: home.nodeKey.libp2pKey(), mempool, blockStore, evidence, logger: forModule(logger, 'p2p'), metrics: metrics.p2p },
    );
    evidence.onEvidence((e, resend) => network.broadcastEvidence(e, resend));
    this.engine = new ConsensusEngine(
      {
        chainId: genesis.chainId,
        walPath: home.paths.walFile,
        timeouts: {
          propose: c.timeoutProposeMs,
          proposeDelta: c.timeoutProposeDeltaMs,
          prevote: c.timeoutPrevoteMs,
          prevoteDelta: c.timeoutPrevoteDeltaMs,
          precommit: c.timeoutPrecommitMs,
          precommitDelta: c.timeoutPrecommitDeltaMs,
          commit: c.timeoutCommitMs,
        },
        createEmptyBlocks: c.createEmptyBlocks,
        emptyBlocksIntervalMs: c.createEmptyBlocksIntervalMs,
        emptyProposalDelayMs: c.emptyProposalDelayMs,
        doubleSignCheckHeight: c.doubleSignCheckHeight,
      },
      {
        executor,
        txsAvailable: (signal) => txsAvailable(mempool, signal),
        mempoolSize: () => mempool.size(),
        blockStore,
        signer: isValidator ? signer : null,
        network,
        logger: forModule(logger, 'consensus'),
        onFatal: (e) => this.fatal(e),
        onDecided: metrics.hooks.onDecided,
        onEvidence: (e) => evidence.reportConflictingVotes(e),
        onEvent: (e) => {
          events.consensus(e);
          metrics.hooks.onEvent(e);
        },
      },
    );
    // the network first: block sync needs peers before consensus starts (it drops consensus
    // messages until then); stopped after consensus and block sync
    const engine = this.engine;
    await network.start(engine);
    this.closers.push({ close: () => network.stop() });
    // CometBFT's rule: no block sync for a lone validator (nobody to sync from); none without p2p either
    const onlyUs = state.validators.size === 1 && state.validators.hasAddress(privKey.pubKey.address);
    const b = config.blocksync;
    const sync = new BlockSync(
      {
        chainId: genesis.chainId,
        enabled: b.enable && !onlyUs && network.host.isRunning,
        batchSize: b.blocksPerRequest,
        maxPendingPerPeer: b.maxPendingRequestsPerPeer,
        requestTimeoutMs: b.requestTimeoutMs,
        switchLag: b.switchLag,
      },
      {
        network: network.syncNetwork(),
        executor,
        blockStore,
        consensus: engine,
        logger: forModule(logger, 'blocksync'),
        metrics: metrics.sync,
        onApplied: (s) => metrics.consensus.recordState(s),
        onFatal: (e) => this.fatal(e),
      },
    );
    this.blockSync = sync;
    await sync.start(state);
    this.closers.push({
      close: async () => {
        await sync.stop();
        await engine.stop();
      },
    });
    // what the RPC reads of consensus: block sync's state while it runs
    const rpcConsensus: RpcConsensus = {
      get height() {
        return engine.height;
      },
      get round() {
        return engine.round;
      },
      get step() {
        return engine.step;
      },
      get chainState() {
        return sync.state ?? state;
      },
      get catchingUp() {
        return sync.syncing;
      },
    };

    const laddr = parseTcpUrl(config.rpc.laddr);
    if (typeof laddr === 'string') throw new NodeError(`rpc.laddr: ${laddr}`); // validated at load; kept for type safety
    this.rpc = new RpcServer(
      {
        ...DEFAULT_RPC_SERVER_OPTIONS,
        host: laddr.host,
        port: laddr.port,
        maxBodyBytes: config.rpc.maxBodyBytes,
        maxHeaderBytes: config.rpc.maxHeaderBytes,
        maxBatchRequests: config.rpc.maxRequestBatchSize,
        maxOpenConnections: config.rpc.maxOpenConnections,
        maxWebsocketClients: config.rpc.maxSubscriptionClients,
        corsAllowedOrigins: config.rpc.corsAllowedOrigins,
      },
      {
        logger: forModule(logger, 'rpc'),
        methods: buildRoutes({
          config,
          genesis,
          nodeId: home.nodeKey.id,
          nodeKeyPubKey: home.nodeKey.pubKey.bytes,
          version: COMETBFT_COMPAT_VERSION,
          tallyVersion: TALLY_VERSION,
          validatorPubKey: privKey.pubKey.bytes,
          blockStore,
          stateStore,
          txIndex,
          blockIndex,
          app,
          mempool: network.mempool, // txs the RPC admits are gossiped
          p2p: network.rpc,
          consensus: rpcConsensus,
          txWaiters,
          events,
          evidence,
          settled: () => executor.settled(),
        }),
      },
    );
    await this.rpc.start();
    this.closers.push({ close: () => this.rpc!.stop() });
    this.closers.push({ close: async () => events.stop() }); // first to stop: subscribers are told why
  }

  private fatal(e: Error): void {
    if (this.fatalError) return;
    this.fatalError = e;
    for (const l of this.fatalListeners) l(e);
  }

  /** Stops in reverse order of start; safe to call twice. */
  async stop(): Promise<void> {
    while (this.closers.length) {
      const c = this.closers.pop()!;
      try {
        await c.close();
      } catch (e) {
        this.logger.warn({ err: (e as Error).message }, 'error while stopping');
      }
    }
  }
}
