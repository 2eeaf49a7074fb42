import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestFinalizeBlock, RequestInitChain, ResponseFinalizeBlock, Misbehavior, ValidatorUpdate } from '../../../src/abci/index.js';
import type { ConsensusParams } from '../../../src/codec/index.js';
import { KVStoreApp, type KVStoreOptions } from '../../../src/apps/kvstore/index.js';
import { PrivKey, sha256 } from '../../../src/crypto/index.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Temp dirs and apps a test file creates, removed and closed in afterAll/afterEach. */
export class Scratch {
  private readonly dirs: string[] = [];
  private readonly apps: KVStoreApp[] = [];

  dir(): string {
    const d = mkdtempSync(join(tmpdir(), 'tally-kvstore-'));
    this.dirs.push(d);
    return d;
  }

  async open(opts: KVStoreOptions = {}): Promise<KVStoreApp> {
    const app = await KVStoreApp.open({ syncWrites: false, ...opts, dir: opts.db === undefined ? (opts.dir ?? this.dir()) : opts.dir });
    this.apps.push(app);
    return app;
  }

  async cleanup(): Promise<void> {
    for (const a of this.apps.splice(0)) await a.close();
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

export function finalizeReq(height: number, txs: Uint8Array[], misbehavior: Misbehavior[] = []): RequestFinalizeBlock {
  return {
    txs,
    decidedLastCommit: { round: 0, votes: [] },
    misbehavior,
    hash: sha256(enc(`block ${height}`)),
    height,
    time: { seconds: 1_700_000_000 + height, nanos: 0 },
    nextValidatorsHash: new Uint8Array(32),
    proposerAddress: new Uint8Array(20),
  };
}

/** FinalizeBlock + Commit of one block of txs at the app's next height. */
export async function runBlock(app: KVStoreApp, txs: (string | Uint8Array)[], misbehavior: Misbehavior[] = []): Promise<ResponseFinalizeBlock> {
  const height = app.height === 0 ? 1 : app.height + 1;
  const r = await app.finalizeBlock(finalizeReq(height, txs.map((t) => (typeof t === 'string' ? enc(t) : t)), misbehavior));
  await app.commit();
  return r;
}

export function validatorKey(n: number): PrivKey {
  return PrivKey.fromSeed(sha256(enc(`validator ${n}`)));
}

/** CometBFT 0.38's default consensus params, as genesis would carry them. */
export const PARAMS: ConsensusParams = {
  block: { maxBytes: 22020096n, maxGas: -1n },
  evidence: { maxAgeNumBlocks: 100000n, maxAgeDuration: { seconds: 172800, nanos: 0 }, maxBytes: 1048576n },
  validator: { pubKeyTypes: ['ed25519'] },
  version: { app: 0n },
  abci: { voteExtensionsEnableHeight: 0n },
};

export function initChainReq(validators: ValidatorUpdate[] = [], chainId = 'kv'): RequestInitChain {
  return { time: { seconds: 1_700_000_000, nanos: 0 }, chainId, consensusParams: PARAMS, validators, appStateBytes: new Uint8Array(0), initialHeight: 1 };
}
