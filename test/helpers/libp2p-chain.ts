// Shared setup for tests that run validators in one process (most over libp2p on 127.0.0.1):
// a scratch directory cleaned after the file, quiet per-node loggers that an env var turns on,
// consensus timeouts, a polling wait, node keys with free ports and multiaddrs, a node's chain
// parts (app, stores, mempool, executor, handshake), and NodeNetwork options for a full mesh.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterAll } from 'vitest';
import { serialize, type Application } from '../../src/abci/index.js';
import { KVStoreApp } from '../../src/apps/kvstore/index.js';
import { BlockExecutor, handshake, stateFromGenesis, type EvidencePort, type ExecutorLogger } from '../../src/execution/index.js';
import { Mempool } from '../../src/mempool/index.js';
import type { NodeNetworkOptions } from '../../src/node/network.js';
import { BlockStore, StateStore, type State } from '../../src/store/index.js';
import type { GenesisDoc } from '../../src/types/genesis.js';
import { freePorts } from '../p2p/ports.js';

type Log = (o: object, m: string) => void;
export interface TestLogger {
  info: Log;
  warn: Log;
  debug: Log;
  error: Log;
}

const nop: Log = () => {};
/** A logger that drops everything. */
export const QUIET: TestLogger = { info: nop, warn: nop, debug: nop, error: nop };

const print =
  (i: number, level: string): Log =>
  (o, m) =>
    console.log(`[${i}] ${level} ${m} ${JSON.stringify(o)}`);

/**
 * Node `i`'s logger: quiet unless `envVar` is set; `envVar`=1 prints its info/warn/error lines
 * prefixed with `[i]`, `envVar`=debug its debug lines too.
 */
export function testLogger(envVar: string, i: number): TestLogger {
  const v = process.env[envVar];
  if (!v) return QUIET;
  return { debug: v === 'debug' ? print(i, 'debug') : nop, info: print(i, 'info'), warn: print(i, 'WARN'), error: print(i, 'ERROR') };
}

/** Consensus timeouts (ms) for a few validators over libp2p on one machine. */
export const NETWORK_TEST_TIMEOUTS = { propose: 1000, proposeDelta: 200, prevote: 300, prevoteDelta: 100, precommit: 300, precommitDelta: 100, commit: 50 };

/**
 * A fresh directory under the OS temp dir, and `closers` run in reverse order after the test
 * file (before the directory is removed).
 */
export function scratchDir(prefix: string): { dir: string; closers: (() => Promise<void>)[] } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, closers };
}

/** Polls `cond` every `intervalMs` (calling `tick` between polls) until it holds; throws naming `what` after `timeoutMs`. */
export async function pollUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 25, tick?: () => void): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    tick?.();
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `n` libp2p identities with free ports on 127.0.0.1: keys, ports, peer ids and dialable multiaddrs. */
export async function peerSetup(n: number): Promise<{ nodeKeys: PrivateKey[]; ports: number[]; ids: string[]; addrs: string[] }> {
  const nodeKeys: PrivateKey[] = await Promise.all(Array.from({ length: n }, () => generateKeyPair('Ed25519')));
  const ports = await freePorts(n);
  const ids = nodeKeys.map((k) => peerIdFromPrivateKey(k).toString());
  const addrs = ids.map((id, i) => `/ip4/127.0.0.1/tcp/${ports[i]}/p2p/${id}`);
  return { nodeKeys, ports, ids, addrs };
}

type HostOptions = NodeNetworkOptions['host'];
export type NetworkOptionsExtra = Partial<Omit<NodeNetworkOptions, 'host' | 'chainId'>> & { host?: Partial<HostOptions> };

/**
 * NodeNetwork options for node `i` of a full mesh: listens on `ports[i]`, every other of `addrs`
 * is a persistent peer (fast redials), 1 MiB txs, tx broadcast on, catch-up after 300 ms.
 * `extra` adds or overrides options (its `host` is merged into the host options).
 */
export function testNetworkOptions(chainId: string, i: number, ports: readonly number[], addrs: readonly string[], extra: NetworkOptionsExtra = {}): NodeNetworkOptions {
  const { host, ...rest } = extra;
  return {
    chainId,
    host: { listen: [`/ip4/127.0.0.1/tcp/${ports[i]}`], persistentPeers: addrs.filter((_, j) => j !== i), redialBaseMs: 100, redialMaxMs: 1000, ...host },
    maxTxBytes: 1024 * 1024,
    broadcastTxs: true,
    catchUpDelayMs: 300,
    ...rest,
  };
}

/** An evidence pool (or the like) for the executor, made once the stores are open; stopped by `close()`. */
export type EvidenceFactory = (stores: { blockStore: BlockStore; stateStore: StateStore }) => Promise<EvidencePort & { stop(): Promise<void> }>;

export interface ChainPartsOptions {
  /** The application (serialized here; not closed by `close()`); absent: a KVStoreApp in `dir/app`, closed by `close()`. */
  app?: Application;
  /** The executor's logger (the handshake is always quiet). */
  logger?: ExecutorLogger;
  /** Made after the stores open, given to the executor, stopped by `close()` after the mempool. */
  evidence?: EvidenceFactory;
  /** false: no mempool (the executor runs without one). */
  mempool?: boolean;
}

export interface ChainParts {
  app: Application;
  blockStore: BlockStore;
  stateStore: StateStore;
  mempool: Mempool;
  executor: BlockExecutor;
  /** The state after the handshake with the app. */
  state: State;
  /** Stops the mempool and evidence, closes the stores and (a KVStoreApp of its own) the app. */
  close(): Promise<void>;
}

/**
 * A node's chain in `dir` (blocks, state, app): opens the stores, the mempool and the executor,
 * and handshakes the app from `genesis`.
 */
export async function openChainParts(dir: string, genesis: GenesisDoc, opts?: ChainPartsOptions & { mempool?: true }): Promise<ChainParts>;
export async function openChainParts(dir: string, genesis: GenesisDoc, opts: ChainPartsOptions & { mempool: false }): Promise<Omit<ChainParts, 'mempool'>>;
export async function openChainParts(dir: string, genesis: GenesisDoc, opts: ChainPartsOptions = {}): Promise<Omit<ChainParts, 'mempool'> & { mempool?: Mempool }> {
  const kv = opts.app ? undefined : await KVStoreApp.open({ dir: join(dir, 'app'), syncWrites: false });
  const app = serialize(opts.app ?? kv!);
  const blockStore = new BlockStore({ path: join(dir, 'blocks'), sync: false });
  const stateStore = new StateStore({ path: join(dir, 'state'), sync: false });
  await blockStore.open();
  await stateStore.open();
  const evidence = await opts.evidence?.({ blockStore, stateStore });
  const mempool = opts.mempool === false ? undefined : new Mempool({}, { app });
  const executor = new BlockExecutor({ app, blockStore, stateStore, ...(mempool ? { mempool } : {}), ...(evidence ? { evidence } : {}), logger: opts.logger ?? QUIET });
  const { state } = await handshake(stateFromGenesis(genesis), { genesis, app, blockStore, stateStore, executor, logger: QUIET, version: 'test' });
  return {
    app,
    blockStore,
    stateStore,
    ...(mempool ? { mempool } : {}),
    executor,
    state,
    close: async () => {
      await mempool?.stop();
      await evidence?.stop();
      await blockStore.close();
      await stateStore.close();
      await kv?.close();
    },
  };
}
