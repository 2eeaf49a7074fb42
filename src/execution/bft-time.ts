// BFT time (CometBFT 0.38): a block's time is the voting-power-weighted median of the
// timestamps in its last commit, so no minority of validators can move it.
import type { Commit, Timestamp } from '../codec/index.js';
import { BlockIDFlag, compareTime } from '../codec/index.js';
import type { ValidatorSet } from '../types/index.js';

export function medianTime(commit: Commit, validators: ValidatorSet): Timestamp {
  const weighted: { time: Timestamp; weight: bigint }[] = [];
  let total = 0n;
  for (const sig of commit.signatures) {
    if (sig.blockIdFlag === BlockIDFlag.Absent) continue;
    const v = validators.getByAddress(sig.validatorAddress);
    if (!v) continue;
    total += v.validator.votingPower;
    weighted.push({ time: sig.timestamp, weight: v.validator.votingPower });
  }
  // Stable sort by time, as Go's sort on distinct keys; equal times are interchangeable.
  weighted.sort((a, b) => compareTime(a.time, b.time));
  let median = total / 2n;
  for (const w of weighted) {
    if (median <= w.weight) return w.time;
    median -= w.weight;
  }
  return { seconds: 0, nanos: 0 };
}
