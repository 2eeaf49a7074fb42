// The simulator over a seed budget with the correct core: every property holds on every seed,
// and the budget really exercises what it claims to (Byzantine kinds, crashes, evidence,
// validator-set changes, boundary rejections). Runs are deterministic per seed.
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/sim/cli.js';
import { describeScenario, runSeed, DEFAULT_ROUNDS_AFTER_GST_BOUND, type RunResult } from '../../src/sim/run.js';
import { generateScenario, BYZANTINE_KINDS, SCENARIO_MIXES } from '../../src/sim/scenario.js';

function failures(results: readonly RunResult[]): string[] {
  return results.filter((r) => r.violations.length > 0).map((r) => `seed ${r.seed} (${describeScenario(r.scenario)}): ${r.violations.map((v) => `${v.property}: ${v.detail}`).join('; ')}`);
}

describe('simulator determinism', () => {
  it('a seed always produces the same scenario and the same run', () => {
    expect(generateScenario(4242)).toEqual(generateScenario(4242));
    const a = runSeed(4242);
    const b = runSeed(4242);
    expect(b.stats).toEqual(a.stats);
    expect(b.violations).toEqual(a.violations);
  });
});

describe('the correct core over a seed budget', () => {
  // 600 seeds of the default mix: about 6 s.
  let results: RunResult[] = [];
  beforeAll(() => {
    results = Array.from({ length: 600 }, (_, i) => runSeed(10_001 + i));
  }, 120_000);

  it('keeps agreement, validity, termination, no double signing, evidence and WAL recovery on every seed', () => {
    expect(failures(results)).toEqual([]);
  });

  it('covers every mix and Byzantine kind, f of 3f+1, crashes, set changes and unequal powers', () => {
    const mixes = new Set(results.map((r) => r.scenario.mix));
    expect([...mixes].sort()).toEqual([...SCENARIO_MIXES].sort());
    const kinds = new Set(results.flatMap((r) => r.scenario.nodes.flatMap((n) => n.byzantine ?? [])));
    expect([...kinds].sort()).toEqual([...BYZANTINE_KINDS].sort());
    const fOf3f1 = results.filter((r) => {
      const byz = r.scenario.nodes.filter((n) => n.byzantine !== null).length;
      return byz > 0 && r.scenario.nodes.length === 3 * byz + 1;
    });
    expect(fOf3f1.length).toBeGreaterThan(150);
    expect(results.reduce((n, r) => n + r.stats.restarts, 0)).toBeGreaterThan(50);
    expect(results.filter((r) => r.scenario.changes.length > 0).length).toBeGreaterThan(50);
    expect(results.filter((r) => r.scenario.nodes.some((n) => n.genesisPower > 1n)).length).toBeGreaterThan(50);
    expect(results.reduce((n, r) => n + r.stats.evidence, 0)).toBeGreaterThan(100);
    const rejected = new Set(results.flatMap((r) => Object.keys(r.stats.rejected)));
    for (const reason of ['bad_signature', 'unknown_validator', 'far_height', 'old_height']) expect(rejected).toContain(reason);
  });

  it(`needs at most ${DEFAULT_ROUNDS_AFTER_GST_BOUND} rounds after GST at any height`, () => {
    const worst = Math.max(...results.map((r) => r.stats.maxRoundsAfterGst));
    expect(worst).toBeGreaterThan(1);
    expect(worst).toBeLessThanOrEqual(DEFAULT_ROUNDS_AFTER_GST_BOUND);
  });
});

describe('f Byzantine of 3f+1, and real signatures', () => {
  it('4 validators with 1 Byzantine and 7 with 2 pass, in every mix that has Byzantine nodes', () => {
    const results = [
      ...Array.from({ length: 60 }, (_, i) => runSeed(20_001 + i, { validators: 4, byzantine: 1, mix: 'byzantine' })),
      ...Array.from({ length: 60 }, (_, i) => runSeed(20_101 + i, { validators: 7, byzantine: 2, mix: 'adversarial' })),
    ];
    expect(failures(results)).toEqual([]);
  });

  it('real ed25519 signatures and CometBFT sign-bytes give the same outcome as the stand-in', () => {
    for (const seed of [31, 32, 33]) {
      const real = runSeed(seed, { realSignatures: true });
      const fast = runSeed(seed);
      expect(real.violations).toEqual([]);
      expect(real.stats.decisions).toBe(fast.stats.decisions);
    }
  });
});

describe('the command line', () => {
  it('ends with "N passed, M failed" and exits 0 when all pass', () => {
    const lines: string[] = [];
    expect(runCli(['--seeds', '3', '--seed', '5', '--validators', '4', '--byzantine', '1'], (l) => lines.push(l))).toBe(0);
    expect(lines.at(-1)).toBe('3 passed, 0 failed');
  });

  it('prints each failing seed with a reproduction command and exits 1', () => {
    const lines: string[] = [];
    const code = runCli(['--seeds', '40', '--seed', '1', '--mix', 'adversarial', '--mutation', 'quorumOf2f'], (l) => lines.push(l));
    expect(code).toBe(1);
    const last = lines.at(-1)!;
    const failed = Number(/(\d+) failed$/.exec(last)![1]);
    expect(failed).toBeGreaterThan(0);
    const repro = lines.filter((l) => l.includes('reproduce: npm run sim -- --seeds 1 --seed '));
    expect(repro).toHaveLength(failed);
    expect(repro[0]).toContain('--mix adversarial --mutation quorumOf2f');
  });

  it('rejects bad arguments with exit code 2', () => {
    const lines: string[] = [];
    expect(runCli(['--validators', '4', '--byzantine', '2'], (l) => lines.push(l))).toBe(2);
    expect(runCli(['--mutation', 'nonsense'], (l) => lines.push(l))).toBe(2);
    expect(lines.every((l) => l.startsWith('sim: '))).toBe(true);
  });
});
