// Shared by the gossip tests: waiting for a condition, and a well-formed (unsigned) vote.
import { SignedMsgType, ZERO_BLOCK_ID, type Vote } from '../../src/codec/index.js';

export async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A prevote of validator `index` at `height` that passes basic validation (its signature is filler). */
export function vote(height: number, index: number): Vote {
  return {
    type: SignedMsgType.Prevote,
    height,
    round: 0,
    blockId: ZERO_BLOCK_ID,
    timestamp: { seconds: 1_700_000_000, nanos: index },
    validatorAddress: new Uint8Array(20).fill(index + 1),
    validatorIndex: index,
    signature: new Uint8Array(64).fill(7),
    extension: new Uint8Array(0),
    extensionSignature: new Uint8Array(0),
  };
}
