// What the node tells the event bus: the block events CometBFT fires after each applied block
// (NewBlock, NewBlockHeader, NewBlockEvents, NewEvidence, Tx, ValidatorSetUpdates — in that
// order) and the consensus events the engine reports. It also keeps a view of the current round
// (proposal, locks, votes) for the RPC's consensus_state and dump_consensus_state.
import {
  blockIdToJson,
  blockToJson,
  consensusParamUpdatesToJson,
  eventsToJson,
  evidenceToJson,
  execTxResultToJson,
  headerToJson,
  timeFromDate,
  toBase64,
  toHex,
  validatorToJson,
  validatorUpdateToJson,
  voteToJson,
  type BlockID,
  type JsonObject,
  type Proposal,
  type Timestamp,
  type Vote,
} from '../codec/index.js';
import { SignedMsgType } from '../codec/index.js';
import type { ConsensusEvent, ConsensusStep } from '../consensus/engine.js';
import { addressOf } from '../crypto/index.js';
import type { AppliedBlock } from '../execution/index.js';
import { txHash } from '../types/index.js';
import type { EventBus } from './bus.js';
import { DATA_TYPE, type EventType } from './types.js';

const envelope = (type: EventType, value: JsonObject): JsonObject => ({ type: DATA_TYPE[type], value });

/** Rounds of votes kept for consensus_state; older rounds of a long height are dropped. */
const MAX_TRACKED_ROUNDS = 32;

export interface RoundVotes {
  readonly prevotes: ReadonlyMap<number, Vote>;
  readonly precommits: ReadonlyMap<number, Vote>;
}

/** The current height/round as the events describe it. */
export interface RoundView {
  readonly height: number;
  readonly round: number;
  readonly step: ConsensusStep;
  readonly startTime: Timestamp;
  readonly commitTime: Timestamp | null;
  readonly proposer: { readonly address: Uint8Array; readonly index: number } | null;
  readonly proposal: Proposal | null;
  readonly locked: { readonly round: number; readonly blockId: BlockID } | null;
  readonly valid: { readonly round: number; readonly blockId: BlockID } | null;
  readonly commitRound: number;
  readonly votes: ReadonlyMap<number, RoundVotes>;
}

interface MutableRoundVotes {
  prevotes: Map<number, Vote>;
  precommits: Map<number, Vote>;
}

export class NodeEvents {
  private view: {
    height: number;
    round: number;
    step: ConsensusStep;
    startTime: Timestamp;
    commitTime: Timestamp | null;
    proposer: { address: Uint8Array; index: number } | null;
    proposal: Proposal | null;
    locked: { round: number; blockId: BlockID } | null;
    valid: { round: number; blockId: BlockID } | null;
    commitRound: number;
    votes: Map<number, MutableRoundVotes>;
  };

  constructor(
    readonly bus: EventBus,
    private readonly now: () => Timestamp = () => timeFromDate(new Date()),
  ) {
    this.view = this.freshView(0);
  }

  private freshView(height: number): NodeEvents['view'] {
    return { height, round: 0, step: 'NewHeight', startTime: this.now(), commitTime: null, proposer: null, proposal: null, locked: null, valid: null, commitRound: -1, votes: new Map() };
  }

  get round(): RoundView {
    return this.view;
  }

  /** After a block is applied (durable): the block events, in CometBFT's order. */
  blockApplied(a: AppliedBlock): void {
    const { block, blockId, response } = a;
    const h = block.header.height;
    const bus = this.bus;
    if (!bus.hasSubscribers()) return;
    bus.publish(
      'NewBlock',
      () =>
        envelope('NewBlock', {
          block: blockToJson(block),
          block_id: blockIdToJson(blockId),
          result_finalize_block: {
            events: eventsToJson(response.events),
            tx_results: response.txResults.map(execTxResultToJson),
            validator_updates: response.validatorUpdates.map(validatorUpdateToJson),
            consensus_param_updates: consensusParamUpdatesToJson(response.consensusParamUpdates),
            app_hash: toBase64(response.appHash),
          },
        }),
      response.events,
    );
    bus.publish('NewBlockHeader', () => envelope('NewBlockHeader', { header: headerToJson(block.header) }));
    bus.publish(
      'NewBlockEvents',
      () => envelope('NewBlockEvents', { height: String(h), events: eventsToJson(response.events), num_txs: String(block.data.txs.length) }),
      response.events,
    );
    for (const ev of block.evidence) bus.publish('NewEvidence', () => envelope('NewEvidence', { height: String(h), evidence: evidenceToJson(ev) }));
    block.data.txs.forEach((tx, index) => {
      const result = response.txResults[index];
      if (!result) return;
      bus.publish(
        'Tx',
        () => envelope('Tx', { TxResult: { height: String(h), index, tx: toBase64(tx), result: execTxResultToJson(result) } }),
        result.events,
        { 'tx.hash': [toHex(txHash(tx))], 'tx.height': [String(h)] },
      );
    });
    if (response.validatorUpdates.length > 0) {
      bus.publish('ValidatorSetUpdates', () =>
        envelope('ValidatorSetUpdates', {
          validator_updates: response.validatorUpdates.map((u) => validatorToJson({ address: addressOf(u.pubKey), pubKey: u.pubKey, votingPower: u.power, proposerPriority: 0n })),
        }),
      );
    }
  }

  /** A consensus event from the engine: update the round view, publish its RPC event. */
  consensus(e: ConsensusEvent): void {
    this.track(e);
    if (!this.bus.hasSubscribers()) return;
    const step = `RoundStep${this.view.step}`; // captured now: the data is built later
    const roundState = (type: EventType, height: number, round: number): void => {
      this.bus.publish(type, () => envelope(type, { height: String(height), round, step }));
    };
    switch (e.kind) {
      case 'newStep':
        this.bus.publish('NewRoundStep', () => envelope('NewRoundStep', { height: String(e.height), round: e.round, step: `RoundStep${e.step}` }));
        return;
      case 'newRound':
        this.bus.publish('NewRound', () =>
          envelope('NewRound', { height: String(e.height), round: e.round, step: 'RoundStepNewRound', proposer: { address: toHex(e.proposer.address), index: e.proposer.index } }),
        );
        return;
      case 'completeProposal':
        this.bus.publish('CompleteProposal', () =>
          envelope('CompleteProposal', { height: String(e.height), round: e.round, step, block_id: blockIdToJson(e.proposal.blockId) }),
        );
        return;
      case 'vote':
        this.bus.publish('Vote', () => envelope('Vote', { Vote: voteToJson(e.vote) }));
        return;
      case 'polka':
        return roundState('Polka', e.height, e.round);
      case 'lock':
        return roundState('Lock', e.height, e.round);
      case 'validBlock':
        return roundState('ValidBlock', e.height, e.round);
      case 'timeout':
        return roundState(e.timeout === 'propose' ? 'TimeoutPropose' : 'TimeoutWait', e.height, e.round);
    }
  }

  private track(e: ConsensusEvent): void {
    const height = e.kind === 'vote' ? e.vote.height : e.height;
    if (height > this.view.height) this.view = this.freshView(height);
    if (height < this.view.height) return;
    const v = this.view;
    switch (e.kind) {
      case 'newStep':
        if (e.round !== v.round || e.step === 'NewRound' || e.step === 'NewHeight') v.startTime = this.now();
        v.round = e.round;
        v.step = e.step;
        if (e.step === 'Commit') {
          v.commitTime = this.now();
          v.commitRound = e.round;
        }
        return;
      case 'newRound':
        v.round = e.round;
        v.proposer = e.proposer;
        v.proposal = null;
        return;
      case 'completeProposal':
        if (e.round === v.round) v.proposal = e.proposal;
        return;
      case 'vote': {
        let rv = v.votes.get(e.vote.round);
        if (!rv) {
          if (v.votes.size >= MAX_TRACKED_ROUNDS) v.votes.delete(Math.min(...v.votes.keys()));
          v.votes.set(e.vote.round, (rv = { prevotes: new Map(), precommits: new Map() }));
        }
        (e.vote.type === SignedMsgType.Prevote ? rv.prevotes : rv.precommits).set(e.vote.validatorIndex, e.vote);
        return;
      }
      case 'lock':
        if (e.blockId) v.locked = { round: e.round, blockId: e.blockId };
        return;
      case 'validBlock':
        if (e.blockId) v.valid = { round: e.round, blockId: e.blockId };
        return;
      default:
        return;
    }
  }

  stop(): void {
    this.bus.stop();
  }
}
