// The simulator's command line: `npm run sim -- --seeds N [--validators V] [--byzantine F]
//   [--seed S] [--mix M] [--mutation NAME]... [--real-signatures] [--rounds-bound R] [--trace]
//   [--bench]`
//
// Runs N seeded scenarios (seeds S … S+N−1) of the deterministic simulator against the real
// consensus core and ends with "N passed, M failed"; each failing seed is printed with a
// one-line reproduction command. --bench instead measures the core alone.
import type { CoreMutations } from '../consensus/core/index.js';
import { benchCore } from './bench.js';
import { describeScenario, runSeed, DEFAULT_ROUNDS_AFTER_GST_BOUND, type RunOptions, type RunResult } from './run.js';
import { SCENARIO_MIXES, ScenarioError, type ScenarioMix, type SimMutations } from './scenario.js';

const CORE_MUTATIONS = ['skipLockCheck', 'commitQuorumOf2f', 'quorumOf2f', 'noValidValue'] as const;
const SIM_MUTATIONS = ['noWal'] as const;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface Args {
  seeds: number;
  seed: number;
  validators?: number;
  byzantine?: number;
  mix?: ScenarioMix;
  mutations: string[];
  realSignatures: boolean;
  trace: boolean;
  bench: boolean;
  roundsBound: number;
  passthrough: string[];
}

function intArg(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${name} needs an integer ≥ ${min}, got ${value ?? 'nothing'}`);
  return n;
}

function parse(argv: readonly string[]): Args {
  const a: Args = { seeds: 100, seed: 1, mutations: [], realSignatures: false, trace: false, bench: false, roundsBound: DEFAULT_ROUNDS_AFTER_GST_BOUND, passthrough: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    switch (flag) {
      case '--seeds':
        a.seeds = intArg(flag, value, 1);
        i++;
        break;
      case '--seed':
        a.seed = intArg(flag, value, 0);
        i++;
        break;
      case '--validators':
        a.validators = intArg(flag, value, 1);
        a.passthrough.push(flag, value!);
        i++;
        break;
      case '--byzantine':
        a.byzantine = intArg(flag, value, 0);
        a.passthrough.push(flag, value!);
        i++;
        break;
      case '--mix':
        if (!SCENARIO_MIXES.includes(value as ScenarioMix)) throw new UsageError(`--mix must be one of ${SCENARIO_MIXES.join(', ')}`);
        a.mix = value as ScenarioMix;
        a.passthrough.push(flag, value!);
        i++;
        break;
      case '--mutation':
        if (![...CORE_MUTATIONS, ...SIM_MUTATIONS].includes(value as never)) throw new UsageError(`--mutation must be one of ${[...CORE_MUTATIONS, ...SIM_MUTATIONS].join(', ')}`);
        a.mutations.push(value!);
        a.passthrough.push(flag, value!);
        i++;
        break;
      case '--rounds-bound':
        a.roundsBound = intArg(flag, value, 1);
        a.passthrough.push(flag, value!);
        i++;
        break;
      case '--real-signatures':
        a.realSignatures = true;
        a.passthrough.push(flag);
        break;
      case '--trace':
        a.trace = true;
        break;
      case '--bench':
        a.bench = true;
        break;
      default:
        throw new UsageError(`unknown argument ${flag}`);
    }
  }
  return a;
}

/**
 * Run the simulator CLI on `argv` (without the node and script names), writing lines to
 * `log`; returns the process exit code: 0 all passed, 1 some seed failed, 2 bad usage.
 */
export function runCli(argv: readonly string[], log: (line: string) => void): number {
  try {
    return runArgs(parse(argv), log);
  } catch (e) {
    if (!(e instanceof UsageError) && !(e instanceof ScenarioError)) throw e;
    log(`sim: ${e.message}`);
    return 2;
  }
}

function runArgs(args: Args, log: (line: string) => void): number {
  if (args.bench) {
    benchCore(log);
    return 0;
  }
  const mutations: CoreMutations = Object.fromEntries(args.mutations.filter((m) => (CORE_MUTATIONS as readonly string[]).includes(m)).map((m) => [m, true]));
  const simMutations: SimMutations = Object.fromEntries(args.mutations.filter((m) => (SIM_MUTATIONS as readonly string[]).includes(m)).map((m) => [m, true]));
  const opts: RunOptions = {
    ...(args.validators !== undefined ? { validators: args.validators } : {}),
    ...(args.byzantine !== undefined ? { byzantine: args.byzantine } : {}),
    ...(args.mix !== undefined ? { mix: args.mix } : {}),
    mutations,
    simMutations,
    realSignatures: args.realSignatures,
    roundsAfterGstBound: args.roundsBound,
    ...(args.trace ? { trace: log } : {}),
  };

  const started = performance.now();
  const failures: RunResult[] = [];
  const mixCount = new Map<string, number>();
  const byzCount = new Map<string, number>();
  let decisions = 0;
  let maxRounds = 0;
  let maxRoundsSeed = args.seed;
  let evidence = 0;
  let restarts = 0;
  let rejected = 0;
  let fOf3f1 = 0;
  let slowest: RunResult | null = null;
  const progressEvery = Math.max(1000, Math.ceil(args.seeds / 10));

  for (let k = 0; k < args.seeds; k++) {
    const seed = args.seed + k;
    const r = runSeed(seed, opts);
    if (args.trace) log(`seed ${seed}: ${describeScenario(r.scenario)}`);
    mixCount.set(r.scenario.mix, (mixCount.get(r.scenario.mix) ?? 0) + 1);
    const byz = r.scenario.nodes.filter((n) => n.byzantine !== null);
    for (const n of byz) for (const kind of n.byzantine!) byzCount.set(kind, (byzCount.get(kind) ?? 0) + 1);
    const n = r.scenario.nodes.filter((x) => x.genesisPower > 0n).length;
    if (byz.length > 0 && n === 3 * byz.length + 1) fOf3f1++;
    decisions += r.stats.decisions;
    evidence += r.stats.evidence;
    restarts += r.stats.restarts;
    rejected += Object.values(r.stats.rejected).reduce((x, y) => x + y, 0);
    if (r.stats.maxRoundsAfterGst > maxRounds) {
      maxRounds = r.stats.maxRoundsAfterGst;
      maxRoundsSeed = seed;
    }
    if (slowest === null || r.wallMs > slowest.wallMs) slowest = r;
    if (r.violations.length > 0) {
      failures.push(r);
      log(`seed ${seed} FAILED (${describeScenario(r.scenario)})`);
      for (const v of r.violations.slice(0, 5)) log(`  ${v.property}: ${v.detail.split('\n')[0]}`);
      if (r.violations.length > 5) log(`  … and ${r.violations.length - 5} more`);
      log(`  reproduce: npm run sim -- --seeds 1 --seed ${seed}${args.passthrough.length > 0 ? ' ' + args.passthrough.join(' ') : ''} --trace`);
    }
    if ((k + 1) % progressEvery === 0 && k + 1 < args.seeds) log(`… ${k + 1}/${args.seeds} seeds, ${failures.length} failed, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }

  const seconds = (performance.now() - started) / 1000;
  log('');
  log(`seeds ${args.seed}..${args.seed + args.seeds - 1} in ${seconds.toFixed(1)} s (${((seconds * 1000) / args.seeds).toFixed(1)} ms/seed)`);
  log(`mix: ${[...mixCount].map(([m, c]) => `${m} ${c}`).join(', ')}; f Byzantine of 3f+1: ${fOf3f1} seeds`);
  log(`Byzantine behaviours: ${[...byzCount].map(([m, c]) => `${m} ${c}`).join(', ') || 'none'}`);
  log(`decisions by correct nodes ${decisions}, evidence ${evidence}, restarts ${restarts}, messages rejected at the boundary ${rejected}`);
  log(`longest rounds after GST at one height: ${maxRounds} (seed ${maxRoundsSeed}); slowest seed ${slowest?.seed} ${slowest?.wallMs.toFixed(0)} ms`);
  if (args.mutations.length > 0) log(`mutations: ${args.mutations.join(', ')}`);
  log(`${args.seeds - failures.length} passed, ${failures.length} failed`);
  return failures.length > 0 ? 1 : 0;
}

