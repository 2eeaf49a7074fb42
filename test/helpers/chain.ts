// A small in-process chain for tests: deterministic validator keys, a genesis, and commits
// signed the way validators sign precommits.
import { BlockIDFlag, SignedMsgType, type BlockID, type Commit, type Timestamp } from '../../src/codec/index.js';
import { PrivKey, sha256 } from '../../src/crypto/index.js';
import { DEFAULT_CONSENSUS_PARAMS, type GenesisDoc } from '../../src/types/genesis.js';
import { voteSignBytes, type ValidatorSet } from '../../src/types/index.js';

export function testKeys(n: number, label = 'validator'): PrivKey[] {
  return Array.from({ length: n }, (_, i) => PrivKey.fromSeed(sha256(new TextEncoder().encode(`${label}-${i}`))));
}

export function testGenesis(keys: readonly PrivKey[], opts: { chainId?: string; time?: Timestamp; power?: bigint } = {}): GenesisDoc {
  return {
    genesisTime: opts.time ?? { seconds: 1_700_000_000, nanos: 0 },
    chainId: opts.chainId ?? 'test-chain',
    initialHeight: 1,
    consensusParams: DEFAULT_CONSENSUS_PARAMS,
    validators: keys.map((k, i) => ({ address: k.pubKey.address, pubKey: k.pubKey.bytes, power: opts.power ?? 10n, name: `v${i}` })),
    appHash: new Uint8Array(0),
    appState: undefined,
  };
}

/** A commit for `blockId` signed by every validator of `vals` whose key is in `keys`, in set order. */
export function signCommit(chainId: string, vals: ValidatorSet, keys: readonly PrivKey[], height: number, round: number, blockId: BlockID, time: Timestamp): Commit {
  const byAddr = new Map(keys.map((k) => [Buffer.from(k.pubKey.address).toString('hex'), k]));
  return {
    height,
    round,
    blockId,
    signatures: vals.validators.map((v, i) => {
      const key = byAddr.get(Buffer.from(v.address).toString('hex'));
      if (!key) return { blockIdFlag: BlockIDFlag.Absent, validatorAddress: new Uint8Array(0), timestamp: { seconds: 0, nanos: 0 }, signature: new Uint8Array(0) };
      // distinct, increasing timestamps so the weighted median is meaningful
      const timestamp = { seconds: time.seconds, nanos: time.nanos + i };
      const signature = key.sign(voteSignBytes(chainId, { type: SignedMsgType.Precommit, height, round, blockId, timestamp }));
      return { blockIdFlag: BlockIDFlag.Commit, validatorAddress: v.address, timestamp, signature };
    }),
  };
}
