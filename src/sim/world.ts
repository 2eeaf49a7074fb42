// One simulated run: the network, the nodes' shells around the real consensus core, and the
// Byzantine nodes' sending (their plan is in coalition.ts); checker.ts judges the run.
//
// A node's shell does what the real one (consensus/ driver) does, minus sockets and disks:
// checks signatures and membership at the boundary, de-duplicates, buffers next-height
// messages, signs through a privval-like signer, feeds its own signed messages back to its
// core, logs every input it feeds (the WAL) and replays that log after a crash, re-sends its
// own messages when it makes no progress, and answers "status" requests with commits
// (catch-up).
import { BlockIDFlag, SignedMsgType, ZERO_BLOCK_ID, isZeroBlockID, type BlockID, type Commit, type Proposal, type Vote } from '../codec/index.js';
import { bytesEqual } from '../crypto/index.js';
import { apply, initialState, proposerOf, valueIdOf, type CoreState, type Decision, type Effect, type Input, type ValueId } from '../consensus/core/index.js';
import type { ValidatorSet } from '../types/validator-set.js';
import { nodeKey, validatorSets } from './chain.js';
import { Checker, type Violation } from './checker.js';
import { Coalition } from './coalition.js';
import { FAST_CRYPTO, REAL_CRYPTO, type SimCrypto } from './crypto.js';
import { EventQueue } from './events.js';
import { coreDigest, short, timeOf } from './format.js';
import { Prng, hashString } from './prng.js';
import type { ByzantineKind, Scenario } from './scenario.js';
import { SimSigner } from './signer.js';
import { ValueRegistry } from './values.js';

export type NetMessage =
  | { readonly kind: 'proposal'; readonly proposal: Proposal }
  | { readonly kind: 'vote'; readonly vote: Vote }
  | { readonly kind: 'commit'; readonly commit: Commit }
  | { readonly kind: 'status'; readonly height: number };

type SimEvent =
  | { readonly t: 'deliver'; readonly to: number; readonly from: number; readonly msg: NetMessage }
  | { readonly t: 'input'; readonly node: number; readonly incarnation: number; readonly input: Input }
  | { readonly t: 'startHeight'; readonly node: number; readonly incarnation: number; readonly height: number }
  | { readonly t: 'gossip'; readonly node: number }
  | { readonly t: 'crash'; readonly node: number }
  | { readonly t: 'restart'; readonly node: number }
  | { readonly t: 'gst' };

export type { Property, Violation } from './checker.js';

export interface RunStats {
  events: number;
  inputs: number;
  messages: number;
  decisions: number;
  virtualTimeMs: number;
  /** The most rounds any correct node was in, after GST, at one height before deciding it. */
  maxRoundsAfterGst: number;
  evidence: number;
  rejected: Record<string, number>;
  restarts: number;
}

const MAX_FUTURE = 2000;
const MAX_ARCHIVE = 300;

function heightOf(msg: NetMessage): number {
  switch (msg.kind) {
    case 'proposal':
      return msg.proposal.height;
    case 'vote':
      return msg.vote.height;
    case 'commit':
      return msg.commit.height;
    case 'status':
      return msg.height;
  }
}

class SimNode {
  alive = true;
  incarnation = 0;
  core: CoreState;
  /** Durable: every input fed since the last startHeight (the WAL). */
  wal: Input[] = [];
  /** Durable: decided blocks with their commits (the block store). */
  readonly blocks = new Map<number, Decision>();
  // Volatile.
  seen = new Set<string>();
  future: NetMessage[] = [];
  own: NetMessage[] = [];
  /** Proposals and votes of the current height this node accepted (its own included): what it relays. */
  log: NetMessage[] = [];
  lastProgress = '';
  replaying = false;
  /** A digest of the core at the crash, to check the WAL replay rebuilds exactly it. */
  crashDigest: string | null = null;
  knownValues: BlockID[] = [];
  archive: NetMessage[] = [];

  constructor(
    readonly id: number,
    readonly address: Uint8Array,
    readonly byzantine: ReadonlySet<ByzantineKind> | null,
    readonly signer: SimSigner,
    readonly freshCore: () => CoreState,
  ) {
    this.core = freshCore();
  }

  get correct(): boolean {
    return this.byzantine === null;
  }

  is(kind: ByzantineKind): boolean {
    return this.byzantine !== null && this.byzantine.has(kind);
  }
}

export interface WorldOptions {
  /** A correct node needing more rounds than this at one height after GST is a violation. */
  readonly roundsAfterGstBound: number;
  readonly maxEvents: number;
  readonly trace?: (line: string) => void;
}

export class World {
  private readonly queue = new EventQueue<SimEvent>();
  private now = 0;
  private readonly net: Prng;
  private readonly app: Prng;
  private readonly byz: Prng;
  private readonly crypto: SimCrypto;
  private readonly valsets: ValidatorSet[];
  private readonly nodes: SimNode[];
  private readonly idByAddress = new Map<string, number>();
  private readonly values: ValueRegistry;
  private readonly coalition: Coalition;
  private readonly checker: Checker;
  private gstPassed = false;
  private finished = false;
  readonly stats: RunStats = { events: 0, inputs: 0, messages: 0, decisions: 0, virtualTimeMs: 0, maxRoundsAfterGst: 0, evidence: 0, rejected: {}, restarts: 0 };

  constructor(
    readonly scenario: Scenario,
    private readonly opts: WorldOptions,
  ) {
    const root = new Prng(hashString('world', scenario.seed));
    this.net = root.fork('net');
    this.app = root.fork('app');
    this.byz = root.fork('byz');
    this.crypto = scenario.realSignatures ? REAL_CRYPTO : FAST_CRYPTO;
    this.valsets = validatorSets(scenario);
    this.values = new ValueRegistry(scenario.seed);
    this.checker = new Checker(opts.roundsAfterGstBound, (line) => this.trace(line));
    this.nodes = scenario.nodes.map((spec) => {
      const address = nodeKey(spec.id).pubKey.address;
      this.idByAddress.set(Buffer.from(address).toString('hex'), spec.id);
      const byzantine = spec.byzantine === null ? null : new Set(spec.byzantine);
      const signer = new SimSigner(spec.id, scenario.chainId, this.crypto, byzantine === null);
      const fresh = (): CoreState =>
        initialState({ chainId: scenario.chainId, address, timeouts: scenario.timeouts, mutations: byzantine === null ? scenario.mutations : {} });
      return new SimNode(spec.id, address, byzantine, signer, fresh);
    });
    this.coalition = new Coalition(scenario.seed, this.nodes, this.valsets, this.byz, this.nodes.some((n) => n.is('doubleVoter')));
  }

  get violations(): readonly Violation[] {
    return this.checker.violations;
  }

  // ---- the run ----------------------------------------------------------------------------

  run(): void {
    const s = this.scenario;
    for (const node of this.nodes) {
      if (node.is('silent')) continue;
      this.queue.push(0, { t: 'startHeight', node: node.id, incarnation: node.incarnation, height: 1 });
      this.queue.push(this.net.range(1, s.gossipIntervalMs), { t: 'gossip', node: node.id });
    }
    for (const c of s.crashes) {
      this.queue.push(c.at, { t: 'crash', node: c.node });
      this.queue.push(c.restartAt, { t: 'restart', node: c.node });
    }
    this.queue.push(s.network.gst, { t: 'gst' });

    while (!this.finished) {
      const next = this.queue.pop();
      if (next === undefined || next.time > s.maxTime || this.stats.events >= this.opts.maxEvents) break;
      this.now = next.time;
      this.stats.events++;
      this.dispatch(next.event);
    }
    this.stats.virtualTimeMs = this.now;
    this.stats.maxRoundsAfterGst = this.checker.maxRoundsAfterGst;
    const h = s.heights;
    const missing = this.finished ? [] : this.nodes.filter((n) => n.correct && n.blocks.size < h).map((n) => `node ${n.id} at h${n.blocks.size + 1} r${n.core.round.round} ${n.core.round.step}`);
    this.checker.finish(missing, `not all correct nodes decided ${h} heights by t=${this.now}ms (${this.stats.events} events)`);
  }

  private dispatch(e: SimEvent): void {
    switch (e.t) {
      case 'deliver':
        this.receive(this.nodes[e.to]!, e.msg, e.from);
        return;
      case 'input': {
        const node = this.nodes[e.node]!;
        if (node.alive && node.incarnation === e.incarnation) this.feed(node, e.input);
        return;
      }
      case 'startHeight': {
        const node = this.nodes[e.node]!;
        if (node.alive && node.incarnation === e.incarnation && node.core.height < e.height) this.startHeight(node, e.height);
        return;
      }
      case 'gossip':
        this.gossip(this.nodes[e.node]!);
        this.queue.push(this.now + this.scenario.gossipIntervalMs, e);
        return;
      case 'crash':
        this.crash(this.nodes[e.node]!);
        return;
      case 'restart':
        this.restart(this.nodes[e.node]!);
        return;
      case 'gst':
        this.gstPassed = true;
        for (const node of this.nodes) if (node.correct && node.alive && node.core.height > 0) this.checker.inRoundAfterGst(node.id, node.core.height, node.core.round.round);
        return;
    }
  }

  // ---- network ----------------------------------------------------------------------------

  private send(from: number, to: number, msg: NetMessage): void {
    const net = this.scenario.network;
    const before = this.now < net.gst;
    const link = before ? net.before : net.after;
    if (before) {
      for (const p of net.partitions) {
        if (this.now >= p.start && this.now < p.end && p.groups.findIndex((g) => g.includes(from)) !== p.groups.findIndex((g) => g.includes(to))) return;
      }
      if (this.net.chance(link.loss)) return;
    }
    this.stats.messages++;
    const slow = before ? net.slowLinks.find((l) => l.from === from && l.to === to) : undefined;
    const [lo, hi] = slow === undefined ? [link.minDelay, link.maxDelay] : [slow.minDelay, slow.maxDelay];
    this.queue.push(this.now + this.net.range(lo, hi), { t: 'deliver', to, from, msg });
    if (this.net.chance(link.duplicate)) this.queue.push(this.now + this.net.range(lo, hi), { t: 'deliver', to, from, msg });
  }

  private broadcast(from: number, msg: NetMessage): void {
    for (const node of this.nodes) if (node.id !== from) this.send(from, node.id, msg);
  }

  // ---- node lifecycle ---------------------------------------------------------------------

  private startHeight(node: SimNode, height: number): void {
    node.wal = [];
    node.own = [];
    node.log = [];
    node.seen = new Set();
    node.knownValues = [];
    const lastCommit = node.blocks.get(height - 1)?.commit ?? null;
    this.feed(node, { kind: 'startHeight', height, validatorSet: this.valsets[height]!, lastCommit });
    const buffered = node.future.filter((m) => heightOf(m) === height);
    node.future = [];
    for (const m of buffered) this.receive(node, m, -1);
  }

  private crash(node: SimNode): void {
    this.trace(`node ${node.id} crashes at h${node.core.height} r${node.core.round.round}`);
    node.alive = false;
    node.incarnation++;
    node.crashDigest = node.core.height > 0 && node.core.decision === null ? coreDigest(node.core) : null;
    node.core = node.freshCore();
    node.seen = new Set();
    node.future = [];
    node.own = [];
    node.log = [];
    node.knownValues = [];
  }

  private restart(node: SimNode): void {
    node.alive = true;
    node.incarnation++;
    node.lastProgress = '';
    this.stats.restarts++;
    let last = 0;
    for (const h of node.blocks.keys()) last = Math.max(last, h);
    const height = last + 1;
    this.trace(`node ${node.id} restarts at h${height} with ${node.wal.length} WAL entries`);
    if (height > this.scenario.heights) return;
    const first = node.wal[0];
    if (this.scenario.simMutations.noWal || first === undefined || first.kind !== 'startHeight' || first.height !== height) {
      this.startHeight(node, height);
      this.checkRecovery(node, 0);
      return;
    }
    // Recover from the WAL: replay every input into a fresh core. Own messages are in the log
    // (they were fed back after signing), so nothing is signed again during the replay.
    const log = node.wal;
    node.wal = [];
    node.replaying = true;
    for (const input of log) this.feed(node, input);
    node.replaying = false;
    this.checkRecovery(node, log.length);
    for (const input of node.wal) {
      const msg: NetMessage | null = input.kind === 'vote' ? { kind: 'vote', vote: input.vote } : input.kind === 'proposal' ? { kind: 'proposal', proposal: input.proposal } : null;
      if (msg === null) continue;
      node.log.push(msg);
      const own = input.kind === 'vote' ? bytesEqual(input.vote.validatorAddress, node.address) : input.kind === 'proposal' && bytesEqual(input.signer, node.address);
      if (own) node.own.push(msg);
    }
  }

  /** After a restart at the height it crashed in, a node's core must be exactly what it was. */
  private checkRecovery(node: SimNode, replayed: number): void {
    const crashed = node.crashDigest;
    node.crashDigest = null;
    if (crashed !== null && crashed.startsWith(`h${node.core.height} `)) this.checker.recovered(node.id, replayed, coreDigest(node.core), crashed);
  }

  private gossip(node: SimNode): void {
    if (!node.alive || node.is('silent') || this.finished) return;
    const core = node.core;
    const progress = `${core.height}/${core.round.round}/${core.round.step}`;
    const stuck = progress === node.lastProgress && core.decision === null && core.height > 0;
    node.lastProgress = progress;
    if (stuck) {
      // Re-send our own messages to everyone, and everything we accepted at this height to
      // one peer: over a few ticks every correct node sees what every other correct node saw
      // (the paper's gossip assumption), without flooding on every tick.
      for (const m of node.own) this.broadcast(node.id, m);
      const peer = this.net.pick(this.others(node));
      for (const m of node.log) this.send(node.id, peer, m);
      this.broadcast(node.id, { kind: 'status', height: core.height });
    }
    if (node.is('replayer') && node.archive.length > 0) {
      for (let k = this.byz.range(1, 4); k > 0; k--) this.send(node.id, this.byz.pick(this.others(node)), this.byz.pick(node.archive));
    }
    if (node.is('forger')) this.forge(node);
  }

  private others(node: SimNode): number[] {
    return this.nodes.filter((n) => n.id !== node.id).map((n) => n.id);
  }

  // ---- the shell boundary -----------------------------------------------------------------

  private reject(reason: string): void {
    this.stats.rejected[reason] = (this.stats.rejected[reason] ?? 0) + 1;
  }

  private receive(node: SimNode, msg: NetMessage, from: number): void {
    if (!node.alive || node.is('silent')) return;
    if (msg.kind === 'proposal' && node.is('doubleVoter')) this.backLaterProposal(node, msg.proposal);
    if (node.byzantine !== null && (msg.kind === 'vote' || msg.kind === 'proposal')) {
      if (node.archive.length < MAX_ARCHIVE) node.archive.push(msg);
      else node.archive[this.byz.int(MAX_ARCHIVE)] = msg;
    }
    const core = node.core;
    switch (msg.kind) {
      case 'status': {
        const decided = node.blocks.get(msg.height);
        if (decided !== undefined && from >= 0) this.send(node.id, from, { kind: 'commit', commit: decided.commit });
        return;
      }
      case 'commit': {
        if (msg.commit.height !== core.height || core.decision !== null) return;
        if (!this.verifyCommit(msg.commit)) return this.reject('bad_commit_signature');
        this.feed(node, { kind: 'commit', commit: msg.commit });
        return;
      }
      case 'vote':
      case 'proposal': {
        const height = heightOf(msg);
        if (height < core.height) return this.reject('old_height');
        if (height > core.height || core.height === 0) {
          if (height === core.height + 1 && node.future.length < MAX_FUTURE) node.future.push(msg);
          else this.reject('far_height');
          return;
        }
        const input = msg.kind === 'vote' ? this.checkVote(node, msg.vote) : this.checkProposal(node, msg.proposal);
        if (input === null) return;
        if (msg.kind === 'proposal' && node.byzantine !== null) {
          const p = msg.proposal;
          node.knownValues.push(p.blockId);
          this.coalition.sawProposal(p.height, p.round, p.blockId);
          // With a proposer of its own the coalition waits for its own round to split.
          if (!this.nodes.some((n) => n.is('equivocatingProposer'))) this.coalition.stage(p.height, p.round, p.blockId);
        }
        node.log.push(msg);
        this.feed(node, input);
        return;
      }
    }
  }

  private checkVote(node: SimNode, vote: Vote): Input | null {
    const key = `v/${vote.type}/${vote.round}/${vote.validatorIndex}/${valueIdOf(vote.blockId)}/${vote.timestamp.seconds}.${vote.timestamp.nanos}`;
    if (node.seen.has(key)) return null;
    const validator = this.valsets[vote.height]!.getByIndex(vote.validatorIndex);
    if (validator === undefined || !bytesEqual(validator.address, vote.validatorAddress)) {
      this.reject('unknown_validator');
      return null;
    }
    const signer = this.idByAddress.get(Buffer.from(validator.address).toString('hex'))!;
    if (!this.crypto.verifyVote(signer, this.scenario.chainId, vote, vote.signature)) {
      this.reject('bad_signature');
      return null;
    }
    node.seen.add(key);
    return { kind: 'vote', vote };
  }

  private checkProposal(node: SimNode, p: Proposal): Input | null {
    if (!Number.isSafeInteger(p.round) || p.round < 0 || p.round > 10_000) {
      this.reject('bad_round');
      return null;
    }
    const key = `p/${p.round}/${p.polRound}/${valueIdOf(p.blockId)}/${p.timestamp.seconds}.${p.timestamp.nanos}`;
    if (node.seen.has(key)) return null;
    // Proposals carry no address: the signature must verify under proposer(h, r)'s key.
    const proposer = proposerOf(this.valsets[p.height]!, p.round);
    const signer = this.idByAddress.get(Buffer.from(proposer).toString('hex'))!;
    if (!this.crypto.verifyProposal(signer, this.scenario.chainId, p, p.signature)) {
      this.reject('bad_signature');
      return null;
    }
    node.seen.add(key);
    return { kind: 'proposal', proposal: p, signer: proposer };
  }

  private verifyCommit(commit: Commit): boolean {
    const set = this.valsets[commit.height];
    if (set === undefined || commit.signatures.length !== set.size) return false;
    return commit.signatures.every((sig, i) => {
      if (sig.blockIdFlag === BlockIDFlag.Absent) return true;
      const validator = set.getByIndex(i)!;
      if (!bytesEqual(validator.address, sig.validatorAddress)) return false;
      const id = this.idByAddress.get(Buffer.from(validator.address).toString('hex'))!;
      const blockId = sig.blockIdFlag === BlockIDFlag.Commit ? commit.blockId : ZERO_BLOCK_ID;
      return this.crypto.verifyVote(id, this.scenario.chainId, { type: SignedMsgType.Precommit, height: commit.height, round: commit.round, blockId, timestamp: sig.timestamp }, sig.signature);
    });
  }

  // ---- the core and its effects -----------------------------------------------------------

  private feed(node: SimNode, first: Input): void {
    const local: Input[] = [first];
    for (let input = local.shift(); input !== undefined; input = local.shift()) {
      node.wal.push(input);
      const before = node.core;
      const t = apply(before, input);
      node.core = t.state;
      this.stats.inputs++;
      if (node.correct) this.observe(node, input, t.ignored, before);
      if (this.opts.trace !== undefined) this.traceTransition(node, input, before, t.state);
      for (const e of t.effects) this.perform(node, e, local);
    }
  }

  private observe(node: SimNode, input: Input, ignored: string | null, before: CoreState): void {
    const core = node.core;
    if (this.gstPassed && (core.round.round !== before.round.round || core.height !== before.height)) this.checker.inRoundAfterGst(node.id, core.height, core.round.round);
    // Counted, or recognised as another vote of an equivocator: the core has seen it.
    if (input.kind === 'vote' && (ignored === null || ignored === 'duplicate' || ignored === 'equivocation')) this.checker.voteAccepted(node.id, input.vote);
  }

  private perform(node: SimNode, e: Effect, local: Input[]): void {
    switch (e.kind) {
      case 'publishVote': {
        if (node.correct) this.checker.signRequested(node.id, e.height, e.round, e.type, valueIdOf(e.blockId));
        if (node.replaying) return;
        this.publishVote(node, e.type, e.height, e.round, e.blockId, local);
        return;
      }
      case 'publishProposal': {
        if (node.replaying) return;
        this.publishProposal(node, e.height, e.round, e.polRound, e.blockId, local);
        return;
      }
      case 'scheduleTimeout':
        this.queue.push(this.now + e.durationMs, { t: 'input', node: node.id, incarnation: node.incarnation, input: { kind: 'timeout', timeout: e.timeout, height: e.height, round: e.round } });
        return;
      case 'requestValue': {
        const blockId = this.values.make(e.height, e.round, node.id, true);
        this.queue.push(this.now + this.app.range(0, this.scenario.appDelayMax), {
          t: 'input',
          node: node.id,
          incarnation: node.incarnation,
          input: { kind: 'valueReady', height: e.height, round: e.round, blockId },
        });
        return;
      }
      case 'validateValue': {
        const valid = this.values.isValid(e.blockId, e.height);
        this.queue.push(this.now + this.app.range(0, this.scenario.appDelayMax), {
          t: 'input',
          node: node.id,
          incarnation: node.incarnation,
          input: { kind: 'valueValidated', height: e.height, blockId: e.blockId, valid },
        });
        return;
      }
      case 'decide':
        this.onDecide(node, e.height, e.round, e.blockId, e.commit);
        return;
      case 'evidence': {
        this.stats.evidence++;
        if (node.correct) this.checker.evidence(node.id, e.evidence.voteA);
        return;
      }
    }
  }

  private publishVote(node: SimNode, type: SignedMsgType.Prevote | SignedMsgType.Precommit, height: number, round: number, blockId: BlockID, local: Input[]): void {
    const index = node.core.ownIndex!;
    const sign = (b: BlockID): Vote | null => {
      const res = node.signer.signVote({ type, height, round, blockId: b, timestamp: timeOf(this.now) }, node.address, index);
      if (!res.ok) {
        this.trace(`node ${node.id} signer refused ${SignedMsgType[type]} h${height} r${round}: ${res.refusal}`);
        return null;
      }
      if (node.correct) this.checker.signed(node.id, height, round, type, valueIdOf(b));
      return res.signed;
    };

    if (node.is('doubleVoter')) {
      // The coalition's plan decides each peer's vote; without one, the core's vote to one
      // side and another value to the other.
      const signed = new Map<ValueId, Vote | null>();
      const signFor = (b: BlockID): Vote | null => {
        const id = valueIdOf(b);
        if (!signed.has(id)) signed.set(id, sign(b));
        return signed.get(id)!;
      };
      const other = this.otherValue(node, blockId, height, round);
      const own = signFor(blockId);
      if (own !== null) local.push({ kind: 'vote', vote: own });
      for (const peer of this.nodes) {
        if (peer.id === node.id) continue;
        const planned = this.coalition.vote(height, round, type, peer.id);
        const target = planned ?? (this.coalition.sideOf(height, peer.id) ? blockId : other);
        const vote = signFor(target);
        if (vote !== null) this.send(node.id, peer.id, { kind: 'vote', vote });
        // Without a plan, some peers also get a conflicting vote, so that correct nodes see
        // equivocation first-hand (with a plan that would give the plan away).
        if (planned === null && this.byz.chance(0.2)) {
          const extra = signFor(valueIdOf(target) === valueIdOf(other) ? blockId : other);
          if (extra !== null) this.send(node.id, peer.id, { kind: 'vote', vote: extra });
        }
      }
      return;
    }
    if (node.is('randomVoter')) {
      const first = this.randomValue(node, height, round);
      const v1 = sign(first);
      if (v1 === null) return;
      local.push({ kind: 'vote', vote: v1 });
      const v2 = this.byz.chance(0.3) ? sign(this.otherValue(node, first, height, round)) : null;
      this.split(node, height, { kind: 'vote', vote: v1 }, v2 === null ? null : { kind: 'vote', vote: v2 });
      return;
    }
    const vote = sign(blockId);
    if (vote === null) return;
    local.push({ kind: 'vote', vote });
    const msg: NetMessage = { kind: 'vote', vote };
    node.own.push(msg);
    node.log.push(msg);
    this.broadcast(node.id, msg);
  }

  private publishProposal(node: SimNode, height: number, round: number, polRound: number, blockId: BlockID, local: Input[]): void {
    const split = this.coalition.splitAt(height);
    if (node.is('equivocatingProposer') && split !== undefined && split.round < round) {
      // After its split the coalition wants anything but the split's block decided: a fresh
      // block, to everyone (its core would re-propose the block it saw a polka for).
      polRound = -1;
      blockId = this.values.make(height, round, node.id, true);
    }
    const sign = (b: BlockID): Proposal | null => {
      const res = node.signer.signProposal({ type: SignedMsgType.Proposal, height, round, polRound, blockId: b, timestamp: timeOf(this.now) });
      if (!res.ok) return null;
      this.values.markProposed(b);
      return res.signed;
    };
    const p1 = sign(blockId);
    if (p1 === null) return;
    local.push({ kind: 'proposal', proposal: p1, signer: node.address });
    if (node.is('equivocatingProposer') && (split === undefined || split.round === round)) {
      // Side A gets our block; side B another block, or nothing at all.
      const p2 = this.byz.chance(0.85) ? sign(this.values.make(height, round, node.id, this.byz.chance(0.8))) : null;
      this.coalition.sawProposal(height, round, p1.blockId);
      this.coalition.stage(height, round, p1.blockId);
      const split = this.coalition.splitAt(height);
      this.trace(
        `byz node ${node.id} proposes h${height} r${round}: ${short(valueIdOf(p1.blockId))} to side A, ${p2 === null ? 'nothing' : short(valueIdOf(p2.blockId))} to side B` +
          (split?.round === round ? ` (split: side A ${[...split.sideA].join(',')}, victim ${split.victim}, ${split.lockSideA ? 'side A locks' : 'victim only'})` : ''),
      );
      for (const peer of this.nodes) {
        if (peer.id === node.id) continue;
        const mine = this.coalition.sideOf(height, peer.id) ? p1 : p2;
        if (mine !== null) this.send(node.id, peer.id, { kind: 'proposal', proposal: mine });
      }
      return;
    }
    if (node.is('equivocatingProposer')) this.coalition.sawProposal(height, round, p1.blockId);
    if (node.is('doubleVoter')) this.backLaterProposal(node, p1);
    const msg: NetMessage = { kind: 'proposal', proposal: p1 };
    node.own.push(msg);
    node.log.push(msg);
    this.broadcast(node.id, msg);
    // A proposal with a POL round is only acceptable to whoever saw that round's polka (line
    // 28): send the prevotes of that round along, as CometBFT's gossip does for a peer whose
    // proposal has a POL round.
    if (polRound >= 0) {
      for (const m of node.log) if (m.kind === 'vote' && m.vote.type === SignedMsgType.Prevote && m.vote.round === polRound) this.broadcast(node.id, m);
    }
  }

  private onDecide(node: SimNode, height: number, round: number, blockId: BlockID, commit: Commit): void {
    this.trace(`node ${node.id} decides h${height} r${round} ${short(valueIdOf(blockId))}`);
    node.blocks.set(height, { height, round, blockId, commit });
    if (height < this.scenario.heights) {
      this.queue.push(this.now + this.scenario.timeouts.commit, { t: 'startHeight', node: node.id, incarnation: node.incarnation, height: height + 1 });
    }
    if (!node.correct) return;
    this.stats.decisions++;
    const value = valueIdOf(blockId);
    this.checker.decision(node.id, height, value, this.values.get(value));
    this.finished = this.nodes.every((n) => !n.correct || n.blocks.size >= this.scenario.heights);
  }

  // ---- Byzantine values and sending ------------------------------------------------------

  private randomValue(node: SimNode, height: number, round: number): BlockID {
    const x = this.byz.int(3);
    if (x === 0 || node.knownValues.length === 0) return x === 1 ? this.values.fabricate(height, round, this.byz) : ZERO_BLOCK_ID;
    return this.byz.pick(node.knownValues);
  }

  /** A value different from `value`: nil, another known block, or a fabricated one. */
  private otherValue(node: SimNode, value: BlockID, height: number, round: number): BlockID {
    const id = valueIdOf(value);
    const known = node.knownValues.filter((b) => valueIdOf(b) !== id);
    if (!isZeroBlockID(value) && (known.length === 0 || this.byz.chance(0.4))) return ZERO_BLOCK_ID;
    if (known.length > 0) return this.byz.pick(known);
    return this.values.fabricate(height, round, this.byz);
  }

  /** Send `a` to one side and `b` (if any) to the other; some peers get both. */
  private split(node: SimNode, height: number, a: NetMessage, b: NetMessage | null): void {
    for (const peer of this.nodes) {
      if (peer.id === node.id) continue;
      const mine = this.coalition.sideOf(height, peer.id) || b === null ? a : b;
      this.send(node.id, peer.id, mine);
      if (b !== null && this.byz.chance(0.3)) this.send(node.id, peer.id, mine === a ? b : a);
    }
  }

  /**
   * After its split, a coalition member backs any other block proposed at that height with a
   * prevote and a precommit to everyone at once, whatever its own core is doing (it may have
   * decided and moved on). Only proposals whose signature is the round's proposer's count.
   */
  private backLaterProposal(node: SimNode, p: Proposal): void {
    const set = this.valsets[p.height];
    const own = set?.getByAddress(node.address);
    if (set === undefined || own === undefined || !Number.isSafeInteger(p.round) || p.round < 0 || p.round > 10_000) return;
    const proposer = this.idByAddress.get(Buffer.from(proposerOf(set, p.round)).toString('hex'))!;
    if (!this.crypto.verifyProposal(proposer, this.scenario.chainId, p, p.signature)) return;
    if (!this.coalition.shouldBack(node.id, p.height, p.round, p.blockId)) return;
    for (const type of [SignedMsgType.Prevote, SignedMsgType.Precommit] as const) {
      const res = node.signer.signVote({ type, height: p.height, round: p.round, blockId: p.blockId, timestamp: timeOf(this.now) }, node.address, own.index);
      if (res.ok) this.broadcast(node.id, { kind: 'vote', vote: res.signed });
    }
  }

  /** Messages the shell boundary must reject, sent by a `forger` at each gossip tick. */
  private forge(node: SimNode): void {
    const height = node.core.height;
    if (height === 0) return;
    const peer = this.byz.pick(this.others(node));
    const set = this.valsets[height]!;
    const victim = set.getByIndex(this.byz.int(set.size))!;
    const base = { type: SignedMsgType.Prevote, height, round: node.core.round.round, blockId: this.values.fabricate(height, node.core.round.round, this.byz), timestamp: timeOf(this.now) } as const;
    const blank = { extension: new Uint8Array(0), extensionSignature: new Uint8Array(0) };
    switch (this.byz.int(6)) {
      case 0: // a vote claiming to be from another validator, signed with our key
        this.send(node.id, peer, { kind: 'vote', vote: { ...base, ...blank, validatorAddress: victim.address, validatorIndex: set.getByAddress(victim.address)!.index, signature: this.crypto.signVote(node.id, this.scenario.chainId, base) } });
        return;
      case 1: {
        // our own vote, signed for another chain
        const own = set.getByAddress(node.address);
        if (own === undefined) return;
        this.send(node.id, peer, { kind: 'vote', vote: { ...base, ...blank, validatorAddress: node.address, validatorIndex: own.index, signature: this.crypto.signVote(node.id, 'another-chain', base) } });
        return;
      }
      case 2: // a vote from a key outside the validator set
        this.send(node.id, peer, { kind: 'vote', vote: { ...base, ...blank, validatorAddress: nodeKey(900).pubKey.address, validatorIndex: 0, signature: this.crypto.signVote(900, this.scenario.chainId, base) } });
        return;
      case 3: {
        // a real vote with its index changed
        const real = node.archive.find((m) => m.kind === 'vote');
        if (real === undefined || real.kind !== 'vote') return;
        this.send(node.id, peer, { kind: 'vote', vote: { ...real.vote, validatorIndex: (real.vote.validatorIndex + 1) % set.size } });
        return;
      }
      case 5: {
        // our own vote, properly signed, for a height far ahead
        const own = set.getByAddress(node.address);
        if (own === undefined) return;
        const far = { ...base, height: height + 5 };
        this.send(node.id, peer, { kind: 'vote', vote: { ...far, ...blank, validatorAddress: node.address, validatorIndex: own.index, signature: this.crypto.signVote(node.id, this.scenario.chainId, far) } });
        return;
      }
      case 4: // a proposal for the current round with a signature that is not the proposer's
        this.send(node.id, peer, {
          kind: 'proposal',
          proposal: { type: SignedMsgType.Proposal, height, round: base.round, polRound: -1, blockId: base.blockId, timestamp: base.timestamp, signature: new Uint8Array(64).fill(7) },
        });
        return;
    }
  }

  // ---- tracing ------------------------------------------------------------------------------

  private traceTransition(node: SimNode, input: Input, before: CoreState, after: CoreState): void {
    const b = before.round;
    const a = after.round;
    if (b.round === a.round && b.step === a.step && b.lockedRound === a.lockedRound && b.validRound === a.validRound && before.height === after.height) return;
    const what =
      input.kind === 'vote'
        ? `vote ${SignedMsgType[input.vote.type]} r${input.vote.round} from #${input.vote.validatorIndex} for ${short(valueIdOf(input.vote.blockId))}`
        : input.kind === 'proposal'
          ? `proposal r${input.proposal.round} pol ${input.proposal.polRound} ${short(valueIdOf(input.proposal.blockId))}`
          : input.kind === 'timeout'
            ? `timeout ${input.timeout} r${input.round}`
            : input.kind;
    const locked = a.lockedValue === null ? '-' : `${short(valueIdOf(a.lockedValue))}@${a.lockedRound}`;
    this.trace(`node ${node.id}${node.correct ? '' : '(byz)'} h${after.height} r${a.round} ${a.step} locked ${locked} valid@${a.validRound} <- ${what}`);
  }

  private trace(line: string): void {
    this.opts.trace?.(`[${this.now}ms] ${line}`);
  }
}
