// The core alone, without I/O: n correct cores wired by an in-memory, lossless, instant
// network; signatures are not made (the votes carry none) since the core does not check
// them. Measures how many heights the network decides per second and how many inputs the
// cores process per second.
import { SignedMsgType, type BlockID, type Vote } from '../codec/index.js';
import { apply, initialState, type CoreState, type Effect, type Input } from '../consensus/core/index.js';
import { nodeKey } from './chain.js';
import { ValidatorSet } from '../types/validator-set.js';

const EMPTY = new Uint8Array(0);

export interface BenchResult {
  readonly validators: number;
  readonly heights: number;
  readonly seconds: number;
  readonly inputs: number;
}

export function runCoreBench(validators: number, heights: number): BenchResult {
  const keys = Array.from({ length: validators }, (_, i) => nodeKey(i));
  const set = ValidatorSet.create(keys.map((k) => ({ pubKey: k.pubKey.bytes, votingPower: 10n })));
  const sets = [set];
  for (let h = 1; h <= heights; h++) sets.push(sets[h - 1]!.copyIncrementProposerPriority(1));
  const cores: CoreState[] = keys.map((k) => initialState({ chainId: 'bench', address: k.pubKey.address }));
  let queue: { node: number; input: Input }[] = [];
  let inputs = 0;
  let decided = 0;
  const started = performance.now();

  const perform = (node: number, e: Effect, height: number): void => {
    switch (e.kind) {
      case 'publishVote': {
        const vote: Vote = {
          type: e.type,
          height: e.height,
          round: e.round,
          blockId: e.blockId,
          timestamp: { seconds: height, nanos: 0 },
          validatorAddress: keys[node]!.pubKey.address,
          validatorIndex: cores[node]!.ownIndex!,
          signature: EMPTY,
          extension: EMPTY,
          extensionSignature: EMPTY,
        };
        for (let to = 0; to < validators; to++) queue.push({ node: to, input: { kind: 'vote', vote } });
        return;
      }
      case 'publishProposal': {
        const proposal = { type: SignedMsgType.Proposal, height: e.height, round: e.round, polRound: e.polRound, blockId: e.blockId, timestamp: { seconds: height, nanos: 0 }, signature: EMPTY };
        for (let to = 0; to < validators; to++) queue.push({ node: to, input: { kind: 'proposal', proposal, signer: keys[node]!.pubKey.address } });
        return;
      }
      case 'requestValue': {
        const hash = new Uint8Array(32);
        new DataView(hash.buffer).setUint32(0, e.height);
        const blockId: BlockID = { hash, partSetHeader: { total: 1, hash } };
        queue.push({ node, input: { kind: 'valueReady', height: e.height, round: e.round, blockId } });
        return;
      }
      case 'validateValue':
        queue.push({ node, input: { kind: 'valueValidated', height: e.height, blockId: e.blockId, valid: true } });
        return;
      case 'decide':
        decided++;
        return;
      default:
        return; // timeouts never fire: the network is instant and lossless
    }
  };

  for (let h = 1; h <= heights; h++) {
    decided = 0;
    for (let i = 0; i < validators; i++) queue.push({ node: i, input: { kind: 'startHeight', height: h, validatorSet: sets[h - 1]!, lastCommit: null } });
    for (let next = 0; next < queue.length; next++) {
      const item = queue[next]!;
      const t = apply(cores[item.node]!, item.input);
      inputs++;
      cores[item.node] = t.state;
      for (const e of t.effects) perform(item.node, e, h);
    }
    queue = [];
    if (decided !== validators) throw new Error(`bench: only ${decided}/${validators} cores decided height ${h}`);
  }
  return { validators, heights, seconds: (performance.now() - started) / 1000, inputs };
}

export function benchCore(log: (line: string) => void): void {
  runCoreBench(4, 200); // warm up the JIT
  for (const n of [4, 7, 10, 25]) {
    const heights = n <= 10 ? 2000 : 400;
    const r = runCoreBench(n, heights);
    log(
      `core alone, ${n} validators: ${heights} heights in ${r.seconds.toFixed(2)} s = ${(heights / r.seconds).toFixed(0)} decided heights/s ` +
        `(${((heights * n) / r.seconds).toFixed(0)} core decisions/s, ${(r.inputs / r.seconds / 1000).toFixed(0)}k inputs/s)`,
    );
  }
}
