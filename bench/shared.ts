// What several benchmarks set up the same way.
import type { ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { PrivKey, sha256 } from '../src/crypto/index.js';
import { DEFAULT_CONSENSUS_PARAMS, type GenesisDoc } from '../src/types/genesis.js';

/** A one-validator chain for in-process pipelines: the key signs its commits. */
export function benchChain(): { key: PrivKey; genesis: GenesisDoc } {
  const key = PrivKey.fromSeed(sha256(new TextEncoder().encode('bench')));
  const genesis: GenesisDoc = {
    genesisTime: { seconds: 1_700_000_000, nanos: 0 },
    chainId: 'bench',
    initialHeight: 1,
    consensusParams: DEFAULT_CONSENSUS_PARAMS,
    validators: [{ address: key.pubKey.address, pubKey: key.pubKey.bytes, power: 10n, name: 'v' }],
    appHash: new Uint8Array(0),
    appState: undefined,
  };
  return { key, genesis };
}

/** Node flags for load benchmarks: room for every client's txs and connections. */
export const LOAD_NODE_FLAGS: readonly string[] = [
  '--mempool.size',
  '100000',
  '--mempool.max_txs_bytes',
  String(1 << 30),
  '--mempool.cache_size',
  '200000',
  '--rpc.max_open_connections',
  '2000',
];

/** The fields every benchmark's JSON line starts with: which benchmark, when, on what. */
export function lineHead(bench: string): { bench: string; date: string; node: string; cpu: string; cores: number } {
  return { bench, date: new Date().toISOString().slice(0, 10), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(force);
}

/**
 * What an interrupted bench must undo (stop the nodes it started, remove their homes). Each
 * registration returns its own removal, called once the bench undid it in the normal way.
 */
const cleanups = new Set<() => Promise<void>>();
let signalsHandled = false;

/**
 * Runs `cleanup` if the bench gets SIGINT or SIGTERM before the returned function is called, then
 * exits with 130 / 143. run.js forwards both signals to the bench it runs.
 */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  if (!signalsHandled) {
    signalsHandled = true;
    let interrupted = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      // `on`, not `once`: Ctrl-C reaches a bench twice (from the terminal and from run.js), and a
      // second signal with no listener would end it before the cleanups are done
      process.on(signal, () => {
        if (interrupted) return;
        interrupted = true;
        process.stderr.write(`${signal}: stopping ${cleanups.size} node set(s) and removing their homes\n`);
        void Promise.allSettled([...cleanups].map((c) => c())).then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
      });
    }
  }
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
