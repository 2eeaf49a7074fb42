// The protobuf form of ResponseFinalizeBlock (tendermint.abci field numbers), which the node
// stores per height for block_results and for replaying state after a crash.
import {
  ProtoWriter,
  decodeWith,
  encodeConsensusParams,
  encodeEvent,
  encodeExecTxResult,
  encodePublicKey,
  readConsensusParamsPartial,
  readEvent,
  readExecTxResult,
  type Event,
  type ExecTxResult,
  type ProtoReader,
} from '../codec/index.js';
import type { ResponseFinalizeBlock, ValidatorUpdate } from './types.js';

function encodeValidatorUpdate(u: ValidatorUpdate): Uint8Array {
  return new ProtoWriter().message(1, encodePublicKey(u.pubKey)).int64(2, u.power).finish();
}

function readValidatorUpdate(r: ProtoReader): ValidatorUpdate {
  let pubKey: Uint8Array | undefined;
  let power = 0n;
  for (let f = r.next(); f !== 0; f = r.next()) {
    if (f === 1)
      pubKey = r.message('pub_key', (k) => {
        let key: Uint8Array | undefined;
        for (let g = k.next(); g !== 0; g = k.next()) {
          if (g === 1) key = k.bytes(64);
          else k.skip();
        }
        if (!key) return k.fail('validator update key is not ed25519');
        return key;
      });
    else if (f === 2) power = r.int64();
    else r.skip();
  }
  if (!pubKey) return r.fail('validator update has no public key');
  return { pubKey, power };
}

export function encodeResponseFinalizeBlock(resp: ResponseFinalizeBlock): Uint8Array {
  const w = new ProtoWriter();
  for (const e of resp.events) w.repeatedElement(1, encodeEvent(e));
  for (const t of resp.txResults) w.repeatedElement(2, encodeExecTxResult(t));
  for (const u of resp.validatorUpdates) w.repeatedElement(3, encodeValidatorUpdate(u));
  if (resp.consensusParamUpdates) w.message(4, encodeConsensusParams(resp.consensusParamUpdates));
  return w.bytes(5, resp.appHash).finish();
}

export function decodeResponseFinalizeBlock(bytes: Uint8Array): ResponseFinalizeBlock {
  return decodeWith('ResponseFinalizeBlock', bytes, (r) => {
    const events: Event[] = [];
    const txResults: ExecTxResult[] = [];
    const validatorUpdates: ValidatorUpdate[] = [];
    let consensusParamUpdates: ResponseFinalizeBlock['consensusParamUpdates'];
    let appHash: Uint8Array = new Uint8Array(0);
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === 1) events.push(r.message('events', readEvent));
      else if (f === 2) txResults.push(r.message('tx_results', readExecTxResult));
      else if (f === 3) validatorUpdates.push(r.message('validator_updates', readValidatorUpdate));
      else if (f === 4) consensusParamUpdates = r.message('consensus_param_updates', readConsensusParamsPartial);
      else if (f === 5) appHash = r.bytes(64);
      else r.skip();
    }
    return consensusParamUpdates ? { events, txResults, validatorUpdates, consensusParamUpdates, appHash } : { events, txResults, validatorUpdates, appHash };
  });
}

