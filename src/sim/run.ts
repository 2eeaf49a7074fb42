// Running scenarios: one seed → one scenario → one World, with its violations and figures.
import { generateScenario, type Scenario, type ScenarioOverrides } from './scenario.js';
import { World, type RunStats, type Violation } from './world.js';

export interface RunOptions extends ScenarioOverrides {
  /**
   * Rounds a correct node may be in at one height after GST before it decides. After GST a
   * round with a correct proposer whose timeouts exceed the message delay decides (the sim's
   * timeouts exceed the post-GST delay plus a gossip interval from round 0). Rounds are lost
   * to Byzantine or silent proposers (at most two in a row with these scenarios' powers), to
   * a proposer that is locked on a value others cannot yet accept, and to resynchronising the
   * nodes' rounds once; 8 leaves a round or two of margin over that.
   */
  readonly roundsAfterGstBound?: number;
  readonly maxEvents?: number;
  readonly trace?: (line: string) => void;
}

export interface RunResult {
  readonly seed: number;
  readonly scenario: Scenario;
  readonly violations: readonly Violation[];
  readonly stats: RunStats;
  readonly wallMs: number;
}

export const DEFAULT_ROUNDS_AFTER_GST_BOUND = 8;
export const DEFAULT_MAX_EVENTS = 3_000_000;

export function runSeed(seed: number, opts: RunOptions = {}): RunResult {
  const started = performance.now();
  const scenario = generateScenario(seed, opts);
  const world = new World(scenario, {
    roundsAfterGstBound: opts.roundsAfterGstBound ?? DEFAULT_ROUNDS_AFTER_GST_BOUND,
    maxEvents: opts.maxEvents ?? DEFAULT_MAX_EVENTS,
    ...(opts.trace !== undefined ? { trace: opts.trace } : {}),
  });
  const violations: Violation[] = [];
  try {
    world.run();
    violations.push(...world.violations);
  } catch (e) {
    violations.push(...world.violations, { property: 'exception', detail: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) });
  }
  return { seed, scenario, violations, stats: world.stats, wallMs: performance.now() - started };
}

/** A one-line summary of a scenario, for reports and failure messages. */
export function describeScenario(s: Scenario): string {
  const powers = s.nodes.map((n) => n.genesisPower.toString()).join(',');
  const byz = s.nodes.filter((n) => n.byzantine !== null).map((n) => `${n.id}:${n.byzantine!.join('+')}`);
  return (
    `mix=${s.mix} n=${s.nodes.length} powers=[${powers}] byz=[${byz.join(' ')}] heights=${s.heights} ` +
    `changes=${s.changes.length} gst=${s.network.gst}ms loss=${s.network.before.loss.toFixed(2)} ` +
    `delay=${s.network.before.minDelay}-${s.network.before.maxDelay}ms partitions=${s.network.partitions.length} slowLinks=${s.network.slowLinks.length} crashes=${s.crashes.length}`
  );
}
