// consensus_state and dump_consensus_state: the round in progress as the engine's events
// describe it (height/round/step, proposal, locks, votes) with the validator set deciding it.
import {
  SignedMsgType,
  blockIdToJson,
  formatTime,
  proposalToJson,
  toHex,
  validatorToJson,
  type Json,
  type JsonObject,
  type Vote,
} from '../../codec/index.js';
import { ROUND_STEP_NUMBER, type RoundView } from '../../events/index.js';
import type { ValidatorSet } from '../../types/index.js';
import type { RpcEnv } from '../env.js';
import type { RpcMethod } from '../server.js';

const fingerprint = (b: Uint8Array): string => toHex(b.subarray(0, 6));

/** CometBFT's Vote.String(), which its round-state dumps list. */
function voteString(v: Vote): string {
  const type = v.type === SignedMsgType.Prevote ? 'SIGNED_MSG_TYPE_PREVOTE(Prevote)' : 'SIGNED_MSG_TYPE_PRECOMMIT(Precommit)';
  return `Vote{${v.validatorIndex}:${fingerprint(v.validatorAddress)} ${v.height}/${String(v.round).padStart(2, '0')}/${type} ${fingerprint(v.blockId.hash)} ${fingerprint(v.signature)} ${fingerprint(v.extension)} @ ${formatTime(v.timestamp)}}`;
}

/** VoteSet.BitArrayString(): "BA{n:x_x} voted/total = fraction". */
function bitArrayString(votes: ReadonlyMap<number, Vote> | undefined, set: ValidatorSet | undefined): string {
  const n = set?.size ?? 0;
  let bits = '';
  let voted = 0n;
  for (let i = 0; i < n; i++) {
    const has = votes?.has(i) ?? false;
    bits += has ? 'x' : '_';
    if (has) voted += set!.getByIndex(i)?.votingPower ?? 0n;
  }
  const total = set?.totalVotingPower() ?? 0n;
  const frac = total > 0n ? Number((voted * 100n) / total) / 100 : 0;
  return `BA{${n}:${bits}} ${voted}/${total} = ${frac.toFixed(2)}`;
}

function heightVoteSet(view: RoundView, set: ValidatorSet | undefined): Json[] {
  const out: Json[] = [];
  const strings = (votes: ReadonlyMap<number, Vote> | undefined): string[] =>
    Array.from({ length: set?.size ?? 0 }, (_, i) => {
      const v = votes?.get(i);
      return v ? voteString(v) : 'nil-Vote';
    });
  for (let round = 0; round <= view.round; round++) {
    const rv = view.votes.get(round);
    out.push({
      round,
      prevotes: strings(rv?.prevotes),
      prevotes_bit_array: bitArrayString(rv?.prevotes, set),
      precommits: strings(rv?.precommits),
      precommits_bit_array: bitArrayString(rv?.precommits, set),
    });
  }
  return out;
}

const hashOrEmpty = (b: { blockId: { hash: Uint8Array } } | null): string => (b ? toHex(b.blockId.hash) : '');

export function consensusRoutes(env: RpcEnv): Record<string, RpcMethod> {
  /** The round view, or one built from the engine's height/round when no events are wired. */
  const view = (): RoundView =>
    env.events?.round ?? {
      height: env.consensus.height,
      round: env.consensus.round,
      step: 'Propose',
      startTime: { seconds: 0, nanos: 0 },
      commitTime: null,
      proposer: null,
      proposal: null,
      locked: null,
      valid: null,
      commitRound: -1,
      votes: new Map(),
    };
  /** The validators deciding the view's height (the chain state's next set). */
  const validatorsFor = (height: number): ValidatorSet | undefined => {
    const state = env.consensus.chainState;
    return state && state.lastBlockHeight + 1 === height ? state.validators : undefined;
  };
  const proposerOf = (v: RoundView, set: ValidatorSet | undefined): JsonObject => {
    if (v.proposer) return { address: toHex(v.proposer.address), index: v.proposer.index };
    const p = set && !set.isEmpty() ? set.getProposer() : undefined;
    return { address: p ? toHex(p.address) : '', index: p ? (set!.getByAddress(p.address)?.index ?? -1) : -1 };
  };
  const setToJson = (set: ValidatorSet | undefined): Json =>
    set ? { validators: set.validators.map(validatorToJson), proposer: set.isEmpty() ? null : validatorToJson(set.getProposer()) } : null;

  return {
    consensus_state: {
      params: [],
      handler: () => {
        const v = view();
        const set = validatorsFor(v.height);
        return {
          round_state: {
            'height/round/step': `${v.height}/${v.round}/${ROUND_STEP_NUMBER[v.step]}`,
            start_time: formatTime(v.startTime),
            proposal_block_hash: v.proposal ? toHex(v.proposal.blockId.hash) : '',
            locked_block_hash: hashOrEmpty(v.locked),
            valid_block_hash: hashOrEmpty(v.valid),
            height_vote_set: heightVoteSet(v, set),
            proposer: proposerOf(v, set),
          },
        };
      },
    },

    dump_consensus_state: {
      params: [],
      handler: () => {
        const v = view();
        const set = validatorsFor(v.height);
        const state = env.consensus.chainState;
        const peers = (env.p2p?.peers() ?? []).map((p) => ({ node_address: p.listenAddr, peer_state: { id: p.id } }));
        return {
          round_state: {
            height: String(v.height),
            round: v.round,
            step: ROUND_STEP_NUMBER[v.step],
            start_time: formatTime(v.startTime),
            commit_time: formatTime(v.commitTime ?? { seconds: 0, nanos: 0 }),
            validators: setToJson(set),
            proposal: v.proposal ? proposalToJson(v.proposal) : null,
            // Tally keeps block hashes, not whole blocks, in its round view
            proposal_block_id: v.proposal ? blockIdToJson(v.proposal.blockId) : null,
            locked_round: v.locked?.round ?? -1,
            locked_block_id: v.locked ? blockIdToJson(v.locked.blockId) : null,
            valid_round: v.valid?.round ?? -1,
            valid_block_id: v.valid ? blockIdToJson(v.valid.blockId) : null,
            votes: heightVoteSet(v, set),
            commit_round: v.commitRound,
            last_validators: setToJson(state?.lastValidators),
            triggered_timeout_precommit: false,
          },
          peers,
        };
      },
    },
  };
}
