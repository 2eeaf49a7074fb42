// A harness that can fail: each deliberately broken variant of the core (or of the node's
// recovery) must be caught by the simulator within a fixed seed budget, as a violation of the
// property it breaks. A simulator that never reports anything would fail these tests.
import { describe, expect, it } from 'vitest';
import type { CoreMutations } from '../../src/consensus/core/index.js';
import { runSeed, type RunOptions } from '../../src/sim/run.js';
import type { Property } from '../../src/sim/world.js';

/** The first seed in [first, first + budget) with a violation, and its properties. */
function firstFailure(first: number, budget: number, opts: RunOptions): { seed: number; properties: Property[] } | null {
  for (let seed = first; seed < first + budget; seed++) {
    const r = runSeed(seed, opts);
    if (r.violations.length > 0) return { seed, properties: [...new Set(r.violations.map((v) => v.property))] };
  }
  return null;
}

// Each broken variant is caught by some 15–25% of adversarial seeds; 100 leaves a wide margin.
const BUDGET = 100;

describe('broken safety rules are caught by the adversarial mix within the budget', () => {
  const cases: [string, CoreMutations][] = [
    ['decide on 2f precommits instead of 2f+1 (line 49)', { commitQuorumOf2f: true }],
    ['every 2f+1 threshold lowered to 2f', { quorumOf2f: true }],
    ['no locking rule: prevote any valid proposal (lines 23, 29)', { skipLockCheck: true }],
  ];
  for (const [name, mutations] of cases) {
    it(name, () => {
      const found = firstFailure(1, BUDGET, { mix: 'adversarial', mutations });
      expect(found, `no violation in ${BUDGET} seeds`).not.toBeNull();
      expect(found!.properties).toContain('agreement');
      // The same seeds pass with the correct core: the violation is the mutation's doing.
      expect(runSeed(found!.seed, { mix: 'adversarial' }).violations).toEqual([]);
    });
  }
});

describe('broken liveness and recovery are caught too', () => {
  it('a proposer ignoring its valid value (line 15) stalls: termination / rounds after GST', () => {
    // A stalled run goes on to the event cap; a lower cap keeps this test quick.
    const found = firstFailure(1, BUDGET, { mutations: { noValidValue: true }, maxEvents: 300_000 });
    expect(found).not.toBeNull();
    expect(found!.properties.some((p) => p === 'termination' || p === 'rounds-after-gst')).toBe(true);
  });

  it('a node that restarts without its WAL tries to sign conflicting votes', () => {
    const found = firstFailure(1, BUDGET, { mix: 'lossy', simMutations: { noWal: true } });
    expect(found).not.toBeNull();
    expect(found!.properties).toContain('recovery');
  });
});
