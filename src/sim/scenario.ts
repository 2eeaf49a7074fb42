// Scenarios: everything about one simulated run that is drawn from its seed — who the
// validators are and with what power, which of them are Byzantine and how, how the network
// misbehaves until the global stabilisation time (GST), who crashes when, and how the
// validator set changes between heights. A scenario is plain data; run.ts executes it.
import type { CoreMutations, TimeoutConfig } from '../consensus/core/index.js';
import { Prng } from './prng.js';

export type ByzantineKind =
  /** As proposer, sends one block to some peers and another block to the others. */
  | 'equivocatingProposer'
  /** Signs two different votes for every vote it casts and splits them between the peers. */
  | 'doubleVoter'
  /** Votes for random blocks (known, fabricated or nil), sometimes different ones to different peers. */
  | 'randomVoter'
  /** Never sends anything. */
  | 'silent'
  /** Behaves, but also re-sends messages of earlier rounds and heights (its own and others'). */
  | 'replayer'
  /** Sends messages the shell must reject: bad signatures, another chain, unknown validators, wrong indices. */
  | 'forger';

export const BYZANTINE_KINDS: readonly ByzantineKind[] = ['equivocatingProposer', 'doubleVoter', 'randomVoter', 'silent', 'replayer', 'forger'];

export interface NodeSpec {
  readonly id: number;
  /** Voting power in the genesis validator set; 0 for a node that joins later (or never). */
  readonly genesisPower: bigint;
  readonly byzantine: readonly ByzantineKind[] | null;
}

/** A validator update the application returns in block `height`; it takes effect at height + 2. */
export interface ValidatorChange {
  readonly height: number;
  readonly node: number;
  /** 0 removes the validator. */
  readonly power: bigint;
}

export interface LinkSpec {
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly loss: number;
  readonly duplicate: number;
}

export interface PartitionSpec {
  readonly start: number;
  readonly end: number;
  /** Nodes in different groups cannot reach each other during [start, end). */
  readonly groups: readonly (readonly number[])[];
}

/** A directed link that is much slower than the others until GST. */
export interface SlowLinkSpec {
  readonly from: number;
  readonly to: number;
  readonly minDelay: number;
  readonly maxDelay: number;
}

export interface NetworkSpec {
  /** Global stabilisation time: from here on no loss, no partition, delays ≤ after.maxDelay. */
  readonly gst: number;
  readonly before: LinkSpec;
  readonly after: LinkSpec;
  readonly partitions: readonly PartitionSpec[];
  readonly slowLinks: readonly SlowLinkSpec[];
}

export interface CrashSpec {
  readonly node: number;
  readonly at: number;
  readonly restartAt: number;
}

export type ScenarioMix = 'calm' | 'lossy' | 'byzantine' | 'weighted' | 'adversarial';
export const SCENARIO_MIXES: readonly ScenarioMix[] = ['calm', 'lossy', 'byzantine', 'weighted', 'adversarial'];

/** Simulator-level faults (the core's are in `mutations`). */
export interface SimMutations {
  /** A restarted node forgets its WAL: it restarts the height from scratch (amnesia). */
  readonly noWal?: boolean;
}

export interface Scenario {
  readonly seed: number;
  readonly mix: ScenarioMix;
  readonly chainId: string;
  readonly nodes: readonly NodeSpec[];
  /** Heights every correct node must decide. */
  readonly heights: number;
  readonly changes: readonly ValidatorChange[];
  readonly network: NetworkSpec;
  readonly crashes: readonly CrashSpec[];
  readonly timeouts: TimeoutConfig;
  /** How often a node re-sends its own messages of the current height when it made no progress. */
  readonly gossipIntervalMs: number;
  /** The application answers getValue / ProcessProposal within this many ms. */
  readonly appDelayMax: number;
  /** Virtual time after which a run that has not finished is a termination failure. */
  readonly maxTime: number;
  readonly mutations: CoreMutations;
  readonly simMutations: SimMutations;
  /** Real ed25519 signatures and CometBFT sign-bytes instead of the fast stand-in. */
  readonly realSignatures: boolean;
}

export interface ScenarioOverrides {
  readonly validators?: number;
  readonly byzantine?: number;
  readonly mix?: ScenarioMix;
  readonly mutations?: CoreMutations;
  readonly simMutations?: SimMutations;
  readonly realSignatures?: boolean;
}

export const SIM_TIMEOUTS: TimeoutConfig = Object.freeze({
  propose: 300,
  proposeDelta: 100,
  prevote: 150,
  prevoteDelta: 50,
  precommit: 150,
  precommitDelta: 50,
  commit: 50,
});

/** Which mix a seed runs, unless overridden: weights 10/20/30/20/20. */
function mixOf(rng: Prng): ScenarioMix {
  const x = rng.int(100);
  if (x < 10) return 'calm';
  if (x < 30) return 'lossy';
  if (x < 60) return 'byzantine';
  if (x < 80) return 'weighted';
  return 'adversarial';
}

function pickByzantineKinds(rng: Prng, mix: ScenarioMix): ByzantineKind[] {
  // The colluding coalition (world.ts, `splits`): what a broken core must be caught by.
  if (mix === 'adversarial') return ['doubleVoter', 'equivocatingProposer'];
  const kinds = new Set<ByzantineKind>([rng.pick(BYZANTINE_KINDS)]);
  if (rng.chance(0.3)) kinds.add(rng.pick(BYZANTINE_KINDS));
  if (kinds.has('silent')) return ['silent'];
  return [...kinds];
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

export function generateScenario(seed: number, overrides: ScenarioOverrides = {}): Scenario {
  const rng = new Prng(seed);
  const mix = overrides.mix ?? mixOf(rng);

  // ---- validators, powers, Byzantine members ----
  let n: number;
  let byzCount: number;
  let powers: bigint[];
  if (mix === 'byzantine' || mix === 'adversarial') {
    const f = overrides.validators !== undefined ? Math.floor((overrides.validators - 1) / 3) : rng.chance(0.6) ? 1 : 2;
    n = overrides.validators ?? 3 * f + 1;
    byzCount = overrides.byzantine ?? f;
    powers = Array.from({ length: n }, () => 1n);
  } else {
    n = overrides.validators ?? rng.range(4, 7);
    const weighted = mix === 'weighted';
    powers = Array.from({ length: n }, () => (weighted ? BigInt(rng.range(1, 10)) : 1n));
    const maxByz = mix === 'calm' ? 0 : Math.floor((n - 1) / 3);
    byzCount = overrides.byzantine ?? (mix === 'lossy' ? rng.int(maxByz + 1) : mix === 'weighted' ? rng.int(maxByz + 1) : 0);
  }
  if (n < 1) throw new ScenarioError(`need at least one validator, got ${n}`);
  if (byzCount < 0 || 3 * byzCount >= n) throw new ScenarioError(`${byzCount} Byzantine of ${n} validators: need 3f < n`);

  // Byzantine members: the lowest-power ones first when weighted, so that their total stays
  // below a third; checked again against every height's set below.
  const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const total = powers.reduce((a, b) => a + b, 0n);
  let byz: number[] = order.slice(0, byzCount);
  const byzPower = (ids: number[]): bigint => ids.reduce((a, i) => a + powers[i]!, 0n);
  if (3n * byzPower(byz) >= total) {
    byz = order
      .slice()
      .sort((a, b) => (powers[a]! < powers[b]! ? -1 : powers[a]! > powers[b]! ? 1 : a - b))
      .slice(0, byzCount);
    if (3n * byzPower(byz) >= total) {
      // Unequal powers make f impossible here: fall back to equal power.
      powers = powers.map(() => 1n);
    }
  }
  const byzSet = new Set(byz);

  // Nodes that join later (validator set changes) are correct full nodes from the start.
  const heights = rng.range(3, 5);
  const joiners = mix === 'weighted' && rng.chance(0.5) ? 1 : 0;
  const nodes: NodeSpec[] = [];
  for (let i = 0; i < n + joiners; i++) {
    nodes.push({ id: i, genesisPower: i < n ? powers[i]! : 0n, byzantine: byzSet.has(i) ? pickByzantineKinds(rng, mix) : null });
  }

  // ---- validator set changes (weighted mix) ----
  const changes: ValidatorChange[] = [];
  if (mix === 'weighted') {
    const count = rng.range(1, 2) + joiners;
    for (let k = 0; k < count; k++) {
      const height = rng.range(1, Math.max(1, heights - 2));
      if (k < joiners) {
        changes.push({ height, node: n + k, power: BigInt(rng.range(1, 10)) });
        continue;
      }
      const correct = nodes.filter((s) => s.byzantine === null && s.id < n);
      const node = rng.pick(correct).id;
      const power = rng.chance(0.25) ? 0n : BigInt(rng.range(1, 10));
      changes.push({ height, node, power });
    }
  }
  const safeChanges = keepSafeChanges(nodes, changes, heights);

  // ---- network ----
  const chaotic = mix !== 'calm';
  const adversarial = mix === 'adversarial';
  const gst = adversarial ? rng.range(1000, 6000) : chaotic ? rng.range(0, 3000) : 0;
  // The adversarial mix has a fast network with a few very slow directed links: the timing
  // races a broken rule needs (a proposal late at one node, a precommit late at another)
  // happen often, instead of rarely under uniform delays.
  const before: LinkSpec = adversarial
    ? { minDelay: 1, maxDelay: rng.range(10, 60), loss: rng.chance(0.5) ? 0 : rng.float() * 0.1, duplicate: rng.float() * 0.05 }
    : chaotic
      ? { minDelay: rng.range(1, 20), maxDelay: rng.range(50, 1500), loss: rng.float() * 0.4, duplicate: rng.float() * 0.1 }
      : { minDelay: 1, maxDelay: 20, loss: 0, duplicate: 0 };
  const slowLinks: SlowLinkSpec[] = [];
  if (adversarial) {
    const ids = nodes.map((x) => x.id);
    for (let k = rng.range(0, 2); k > 0; k--) {
      const from = rng.pick(ids);
      const to = rng.pick(ids.filter((x) => x !== from));
      slowLinks.push({ from, to, minDelay: rng.range(100, 400), maxDelay: rng.range(400, 1500) });
    }
  }
  const after: LinkSpec = { minDelay: 1, maxDelay: rng.range(10, 40), loss: 0, duplicate: chaotic ? rng.float() * 0.05 : 0 };
  const partitions: PartitionSpec[] = [];
  if (chaotic && !adversarial && gst > 200 && rng.chance(0.4)) {
    const count = rng.range(1, 2);
    for (let k = 0; k < count; k++) {
      const start = rng.int(gst);
      const end = rng.range(start + 1, gst);
      const shuffled = rng.shuffle(nodes.map((s) => s.id));
      const cut = rng.range(1, shuffled.length - 1);
      partitions.push({ start, end, groups: [shuffled.slice(0, cut), shuffled.slice(cut)] });
    }
  }

  // ---- crashes (correct nodes; they restart by GST) ----
  const crashes: CrashSpec[] = [];
  if ((mix === 'lossy' || mix === 'weighted') && gst > 100 && rng.chance(0.5)) {
    const correct = nodes.filter((s) => s.byzantine === null);
    const count = Math.min(correct.length, rng.range(1, 2));
    for (const s of rng.shuffle(correct).slice(0, count)) {
      const at = rng.int(gst);
      crashes.push({ node: s.id, at, restartAt: rng.range(at + 1, gst) });
    }
  }

  return {
    seed,
    mix,
    chainId: 'tally-sim',
    nodes,
    heights,
    changes: safeChanges,
    network: { gst, before, after, partitions, slowLinks },
    crashes,
    timeouts: SIM_TIMEOUTS,
    gossipIntervalMs: 200,
    appDelayMax: 10,
    maxTime: gst + 120_000,
    mutations: overrides.mutations ?? {},
    simMutations: overrides.simMutations ?? {},
    realSignatures: overrides.realSignatures ?? false,
  };
}

/**
 * Drop changes that would break the scenario's assumptions at some height: an empty set, or
 * Byzantine power of a third or more. Powers are simulated per height exactly as the
 * validator sets will be (updates in block h take effect at h + 2).
 */
function keepSafeChanges(nodes: readonly NodeSpec[], changes: readonly ValidatorChange[], heights: number): ValidatorChange[] {
  const kept: ValidatorChange[] = [];
  for (const c of [...changes].sort((a, b) => a.height - b.height)) {
    const candidate = [...kept.filter((k) => !(k.height === c.height && k.node === c.node)), c];
    if (powersOk(nodes, candidate, heights)) kept.splice(0, kept.length, ...candidate);
  }
  return kept;
}

function powersOk(nodes: readonly NodeSpec[], changes: readonly ValidatorChange[], heights: number): boolean {
  const power = new Map(nodes.map((s) => [s.id, s.genesisPower]));
  for (let h = 1; h <= heights + 2; h++) {
    for (const c of changes) {
      if (c.height + 2 !== h) continue;
      if (c.power === 0n && power.get(c.node) === 0n) return false; // removing a non-member
      power.set(c.node, c.power);
    }
    let total = 0n;
    let byz = 0n;
    for (const s of nodes) {
      const p = power.get(s.id)!;
      total += p;
      if (s.byzantine !== null) byz += p;
    }
    if (total === 0n || 3n * byz >= total) return false;
  }
  return true;
}
