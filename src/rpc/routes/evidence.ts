// broadcast_evidence: duplicate-vote evidence in CometBFT's JSON form. Malformed evidence (its
// ValidateBasic) is an invalid-params error; the rest is the evidence pool's to judge (the
// validator set and block time of that height, signatures, powers, age), as CometBFT's
// AddEvidence does. Evidence the pool already has is accepted again, with the same hash.
import { DecodeError, evidenceFromJson, toBase64, type Evidence } from '../../codec/index.js';
import { EvidenceError, evidenceKey, validateEvidenceBasic } from '../../evidence/index.js';
import { serverError, type RpcEnv } from '../env.js';
import { invalidParams } from '../jsonrpc.js';
import type { RpcMethod } from '../server.js';

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
          validateEvidenceBasic(ev);
        } catch (err) {
          if (err instanceof DecodeError) throw invalidParams(err.message);
          if (err instanceof EvidenceError) throw invalidParams(`evidence.ValidateBasic failed: ${err.message}`);
          throw err;
        }
        if (!env.evidence) throw serverError('failed to add evidence: this node has no evidence pool');
        try {
          await env.evidence.add(ev);
        } catch (err) {
          if (err instanceof EvidenceError) throw serverError(`failed to add evidence: ${err.message}`);
          throw err;
        }
        return { hash: toBase64(evidenceKey(ev)) };
      },
    },
  };
}
