// broadcast_evidence: duplicate-vote evidence in CometBFT's JSON form, checked the way
// CometBFT's pool checks it before accepting (two well-formed votes of one validator for the
// same height/round/type and different blocks, both signed by that validator's key at that
// height, powers matching the validator set), then handed to the evidence pool.
import { DecodeError, encodeDuplicateVoteEvidence, evidenceFromJson, toBase64, type Evidence } from '../../codec/index.js';
import { bytesEqual, nodeBackend, sha256 } from '../../crypto/index.js';
import { ValidationError, validateVote, voteSignBytes } from '../../types/index.js';
import { resolveHeight, serverError, storeCall, type RpcEnv } from '../env.js';
import { invalidParams } from '../jsonrpc.js';
import type { RpcMethod } from '../server.js';

async function verify(env: RpcEnv, e: Evidence): Promise<void> {
  const { voteA: a, voteB: b } = e;
  try {
    validateVote(a);
    validateVote(b);
  } catch (err) {
    if (err instanceof ValidationError) throw invalidParams(`evidence.ValidateBasic failed: ${err.message}`);
    throw err;
  }
  if (a.height !== b.height || a.round !== b.round || a.type !== b.type) throw invalidParams('evidence.ValidateBasic failed: votes are for different heights, rounds or types');
  if (!bytesEqual(a.validatorAddress, b.validatorAddress) || a.validatorIndex !== b.validatorIndex) throw invalidParams('evidence.ValidateBasic failed: votes are from different validators');
  if (bytesEqual(a.blockId.hash, b.blockId.hash) && a.blockId.partSetHeader.total === b.blockId.partSetHeader.total && bytesEqual(a.blockId.partSetHeader.hash, b.blockId.partSetHeader.hash))
    throw invalidParams('evidence.ValidateBasic failed: votes are for the same block');
  const height = resolveHeight(env, env.blockStore.height(), a.height);
  const set = await storeCall(() => env.stateStore.loadValidators(height));
  const val = set.getByAddress(a.validatorAddress);
  if (!val) throw serverError(`failed to add evidence: address ${Buffer.from(a.validatorAddress).toString('hex').toUpperCase()} was not a validator at height ${height}`);
  if (val.index !== a.validatorIndex) throw serverError('failed to add evidence: validator index does not match the validator set');
  for (const v of [a, b]) {
    if (!nodeBackend.verify(val.validator.pubKey, voteSignBytes(env.genesis.chainId, v), v.signature)) throw serverError('failed to add evidence: invalid signature');
  }
  if (e.validatorPower !== val.validator.votingPower || e.totalVotingPower !== set.totalVotingPower())
    throw serverError(`failed to add evidence: powers ${e.validatorPower}/${e.totalVotingPower} do not match the validator set (${val.validator.votingPower}/${set.totalVotingPower()})`);
}

export function evidenceRoutes(env: RpcEnv): Record<string, RpcMethod> {
  return {
    broadcast_evidence: {
      params: ['evidence'],
      handler: async (p) => {
        const raw = p.json('evidence');
        if (raw === undefined) throw invalidParams('no evidence was provided');
        let ev: Evidence;
        try {
          ev = evidenceFromJson(raw);
        } catch (err) {
          if (err instanceof DecodeError) throw invalidParams(err.message);
          throw err;
        }
        await verify(env, ev);
        if (!env.evidence) throw serverError('failed to add evidence: this node has no evidence pool yet (the evidence is valid)');
        await env.evidence.add(ev);
        return { hash: toBase64(sha256(encodeDuplicateVoteEvidence(ev))) };
      },
    },
  };
}
