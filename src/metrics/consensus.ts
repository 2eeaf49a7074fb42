// Consensus metrics under CometBFT 0.38's names (consensus_*), so existing dashboards and alerts
// work. Per-block values come from the engine's onDecided, round timing from its onEvent.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { BlockIDFlag, encodeBlock, type Timestamp } from '../codec/index.js';
import type { ConsensusEvent, ConsensusStep, DecidedBlock } from '../consensus/engine.js';
import type { State } from '../store/index.js';
import type { ValidatorSet } from '../types/index.js';
import { guarded } from './guard.js';
import type { ConsensusMetrics } from './interface.js';
import type { MetricsLogger } from './options.js';

/** Block times are seconds apart; the buckets span fast testnets to stalled chains. */
const BLOCK_INTERVAL_BUCKETS = [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 30, 60];
/** Steps and rounds last from milliseconds (a lone validator) to the growing timeouts of a bad round. */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100];

const secondsBetween = (a: Timestamp, b: Timestamp): number => b.seconds - a.seconds + (b.nanos - a.nanos) / 1e9;

/** The height the next block has (execution's nextHeight; inlined to keep metrics free of execution). */
const heightAfter = (s: State): number => (s.lastBlockHeight === 0 ? s.initialHeight : s.lastBlockHeight + 1);

interface LastBlock {
  readonly height: number;
  readonly time: Timestamp;
  /** Who signed this block's commit: what the next block's last commit is checked against. */
  readonly validators: ValidatorSet;
}

export class PromConsensusMetrics implements ConsensusMetrics {
  private readonly height: Gauge;
  private readonly latestBlockHeight: Gauge;
  private readonly rounds: Gauge;
  private readonly validators: Gauge;
  private readonly validatorsPower: Gauge;
  private readonly missingValidators: Gauge;
  private readonly missingValidatorsPower: Gauge;
  private readonly byzantineValidators: Gauge;
  private readonly byzantineValidatorsPower: Gauge;
  private readonly blockInterval: Histogram;
  private readonly numTxs: Gauge;
  private readonly totalTxs: Counter;
  private readonly blockSize: Gauge;
  private readonly stepDuration: Histogram<'step'>;
  private readonly roundDuration: Histogram;

  private last: LastBlock | undefined;
  private step: { readonly name: ConsensusStep; readonly since: number } | undefined;
  private roundSince: number | undefined;

  readonly recordState: (state: State) => void;
  readonly onDecided: (d: DecidedBlock) => void;
  readonly onEvent: (e: ConsensusEvent) => void;

  constructor(namespace: string, registry: Registry, logger: MetricsLogger, private readonly now: () => number) {
    const n = (name: string): string => `${namespace}_consensus_${name}`;
    const registers = [registry];
    this.height = new Gauge({ name: n('height'), help: 'Height of the chain: the height being decided.', registers });
    this.latestBlockHeight = new Gauge({ name: n('latest_block_height'), help: 'Height of the latest committed block (/status sync_info.latest_block_height).', registers });
    this.rounds = new Gauge({ name: n('rounds'), help: 'Round in which the latest block was committed (0 = first round).', registers });
    this.validators = new Gauge({ name: n('validators'), help: 'Number of validators of the next block.', registers });
    this.validatorsPower = new Gauge({ name: n('validators_power'), help: 'Total voting power of the validators of the next block.', registers });
    this.missingValidators = new Gauge({ name: n('missing_validators'), help: 'Validators absent from the last commit in the latest block.', registers });
    this.missingValidatorsPower = new Gauge({ name: n('missing_validators_power'), help: 'Voting power of the validators absent from the last commit in the latest block.', registers });
    this.byzantineValidators = new Gauge({ name: n('byzantine_validators'), help: 'Validators with double-sign evidence in the latest block.', registers });
    this.byzantineValidatorsPower = new Gauge({ name: n('byzantine_validators_power'), help: 'Voting power of the validators with evidence in the latest block.', registers });
    this.blockInterval = new Histogram({ name: n('block_interval_seconds'), help: 'Time between this and the previous block (header times), in seconds.', buckets: BLOCK_INTERVAL_BUCKETS, registers });
    this.numTxs = new Gauge({ name: n('num_txs'), help: 'Number of transactions in the latest block.', registers });
    // CometBFT's name, kept for dashboards; a counter (from process start) because it only grows.
    this.totalTxs = new Counter({ name: n('total_txs'), help: 'Transactions committed since the process started.', registers });
    this.blockSize = new Gauge({ name: n('block_size_bytes'), help: 'Size of the latest block (protobuf encoding), in bytes.', registers });
    this.stepDuration = new Histogram({ name: n('step_duration_seconds'), help: 'Time spent in each consensus step, in seconds.', labelNames: ['step'], buckets: DURATION_BUCKETS, registers });
    this.roundDuration = new Histogram({ name: n('round_duration_seconds'), help: 'Duration of consensus rounds, in seconds.', buckets: DURATION_BUCKETS, registers });

    // bound and guarded: they are handed to the engine as plain functions and must not throw there
    this.recordState = guarded(logger, 'consensus.recordState', (s) => this.setState(s));
    this.onDecided = guarded(logger, 'consensus.onDecided', (d) => this.decided(d));
    this.onEvent = guarded(logger, 'consensus.onEvent', (e) => this.event(e));
  }

  private setState(s: State): void {
    this.height.set(heightAfter(s));
    this.latestBlockHeight.set(s.lastBlockHeight);
    this.validators.set(s.validators.size);
    this.validatorsPower.set(Number(s.validators.totalVotingPower()));
    this.last = s.lastBlockHeight > 0 ? { height: s.lastBlockHeight, time: s.lastBlockTime, validators: s.lastValidators } : undefined;
  }

  private decided(d: DecidedBlock): void {
    const { block } = d;
    const txs = block.data.txs.length;
    this.rounds.set(d.round);
    this.numTxs.set(txs);
    this.totalTxs.inc(txs);
    this.blockSize.set(encodeBlock(block).length);

    // Both need the previous block; after a gap (e.g. block sync) it is not known here.
    const prev = this.last !== undefined && this.last.height === d.height - 1 ? this.last : undefined;
    if (prev) this.blockInterval.observe(secondsBetween(prev.time, block.header.time));
    let missing = 0;
    let missingPower = 0n;
    for (const [i, sig] of (block.lastCommit?.signatures ?? []).entries()) {
      if (sig.blockIdFlag !== BlockIDFlag.Absent) continue;
      missing++;
      missingPower += prev?.validators.getByIndex(i)?.votingPower ?? 0n;
    }
    this.missingValidators.set(missing);
    if (prev || missing === 0) this.missingValidatorsPower.set(Number(missingPower));

    this.byzantineValidators.set(block.evidence.length);
    this.byzantineValidatorsPower.set(Number(block.evidence.reduce((sum, ev) => sum + ev.validatorPower, 0n)));
    this.setState(d.state);
  }

  private event(e: ConsensusEvent): void {
    if (e.kind !== 'newStep' && e.kind !== 'newRound') return;
    const now = this.now();
    if (e.kind === 'newRound') {
      if (this.roundSince !== undefined) this.roundDuration.observe(now - this.roundSince);
      this.roundSince = now;
      return;
    }
    this.height.set(e.height);
    if (this.step) this.stepDuration.labels(this.step.name).observe(now - this.step.since);
    this.step = { name: e.step, since: now };
    if (e.step === 'NewHeight' && this.roundSince !== undefined) {
      // the deciding round ends here; the pause before the next height is not part of a round
      this.roundDuration.observe(now - this.roundSince);
      this.roundSince = undefined;
    }
  }
}
