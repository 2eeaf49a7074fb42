// Light blocks in CometBFT's JSON form:
//   {"signed_header": {"header": …, "commit": …},
//    "validator_set": {"validators": […]}, "next_validator_set": {"validators": […]}}
// Tolerates what real files and the tendermint-rs vectors contain: null/"" hashes, a null
// last_block_id, parts.total 0, `"signatures": null`, validators listed out of set order (they
// are sorted), `proposer_priority: null`, and extra fields (proposer, total_voting_power).
import {
  DecodeError,
  asArray,
  asObject,
  commitFromJson,
  headerFromJson,
  parseJson,
  validatorFromJson,
  type Json,
} from '../codec/index.js';
import { ValidatorSet, ValidatorSetError } from '../types/validator-set.js';
import { LightInputError } from './errors.js';
import type { SignedHeader, TrustedLightBlock, UntrustedLightBlock } from './types.js';

/** The parts of a light block that were present. */
export interface LightBlockJson {
  readonly signedHeader: SignedHeader;
  readonly validators?: ValidatorSet;
  readonly nextValidators?: ValidatorSet;
}

function wrap<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DecodeError) throw new LightInputError(`${what}: ${e.message}`, { path: e.path }, { cause: e });
    if (e instanceof ValidatorSetError) throw new LightInputError(`${what}: ${e.message}`, e.context, { cause: e });
    throw e;
  }
}

export function signedHeaderFromJson(v: Json | undefined, path = 'signed_header'): SignedHeader {
  const o = asObject(v, path);
  return { header: headerFromJson(o.header, `${path}.header`), commit: commitFromJson(o.commit, `${path}.commit`) };
}

/** A validator set object ({"validators": […]}) or a bare array; null validators mean empty. */
export function validatorSetFromJson(v: Json | undefined, path = 'validator_set'): ValidatorSet {
  const list = Array.isArray(v) ? v : asObject(v, path).validators;
  const validators = list === null || list === undefined ? [] : asArray(list, `${path}.validators`);
  return ValidatorSet.fromValidators(validators.map((x, i) => validatorFromJson(x, `${path}.validators[${i}]`)));
}

/** Parse whatever a light block contains; throws LightInputError when it cannot be read. */
export function lightBlockFromJson(v: Json | undefined, path = 'light_block'): LightBlockJson {
  return wrap(path, () => {
    const o = asObject(v, path);
    const present = (k: string): boolean => o[k] !== undefined && o[k] !== null;
    return {
      signedHeader: signedHeaderFromJson(o.signed_header, `${path}.signed_header`),
      ...(present('validator_set') ? { validators: validatorSetFromJson(o.validator_set, `${path}.validator_set`) } : {}),
      ...(present('next_validator_set') ? { nextValidators: validatorSetFromJson(o.next_validator_set, `${path}.next_validator_set`) } : {}),
    };
  });
}

/** A trusted block: only its header, commit and next validator set are used. */
export function trustedLightBlockFromJson(v: Json | undefined, path = 'trusted'): TrustedLightBlock {
  const lb = lightBlockFromJson(v, path);
  if (lb.nextValidators === undefined) throw new LightInputError(`${path}: next_validator_set is required for a trusted block`, { path });
  return { signedHeader: lb.signedHeader, nextValidators: lb.nextValidators };
}

/** A block to verify: validator_set is required, next_validator_set optional. */
export function untrustedLightBlockFromJson(v: Json | undefined, path = 'untrusted'): UntrustedLightBlock {
  const lb = lightBlockFromJson(v, path);
  if (lb.validators === undefined) throw new LightInputError(`${path}: validator_set is required for a block to verify`, { path });
  return { signedHeader: lb.signedHeader, validators: lb.validators, ...(lb.nextValidators ? { nextValidators: lb.nextValidators } : {}) };
}

/** Parse JSON text; a syntax error becomes a LightInputError. */
export function parseLightJson(text: string, path: string): Json {
  return wrap(path, () => parseJson(text, path));
}
