// The genesis document, in CometBFT 0.38's JSON form: genesis_time, chain_id, initial_height,
// consensus_params, validators ({address, pub_key, power, name}: "power", not "voting_power"),
// app_hash, app_state. Reading validates as CometBFT's ValidateAndComplete does (and a bit more:
// unknown fields and a missing genesis_time are errors, since a typo'd field or a time filled
// in from each node's clock would silently split the network). app_state is kept as the exact
// JSON text of the file: it is handed to the application as bytes, and re-serialising it could
// change them (or lose precision in large numbers).
import {
  DecodeError,
  asArray,
  asHexBytes,
  asInt64,
  asObject,
  asString,
  asHeight,
  consensusParamsFromJson,
  consensusParamsToJson,
  durationToNanos,
  formatTime,
  parseJson,
  parseTime,
  pubKeyFromJson,
  pubKeyToJson,
  toHex,
  type ConsensusParams,
  type Json,
  type JsonObject,
  type Timestamp,
  type Validator,
} from '../codec/index.js';
import { addressOf, bytesEqual } from '../crypto/index.js';
import { MAX_TOTAL_VOTING_POWER } from './validator-set.js';

export const MAX_CHAIN_ID_LENGTH = 50;
/** CometBFT's types.MaxBlockSizeBytes (100 MiB). */
export const MAX_BLOCK_SIZE_BYTES = 104_857_600n;
/** Key types CometBFT knows; Tally's validators are ed25519, so that one must be allowed. */
const KNOWN_PUBKEY_TYPES = new Set(['ed25519', 'secp256k1', 'sr25519', 'bls12_381']);

/** CometBFT 0.38's default consensus params (types.DefaultConsensusParams). */
export const DEFAULT_CONSENSUS_PARAMS: ConsensusParams = Object.freeze({
  block: Object.freeze({ maxBytes: 22_020_096n, maxGas: -1n }),
  evidence: Object.freeze({
    maxAgeNumBlocks: 100_000n,
    maxAgeDuration: Object.freeze({ seconds: 172_800, nanos: 0 }), // 48h
    maxBytes: 1_048_576n,
  }),
  validator: Object.freeze({ pubKeyTypes: Object.freeze(['ed25519']) }),
  version: Object.freeze({ app: 0n }),
  abci: Object.freeze({ voteExtensionsEnableHeight: 0n }),
});

export interface GenesisValidator {
  readonly address: Uint8Array;
  readonly pubKey: Uint8Array;
  readonly power: bigint;
  readonly name: string;
}

export interface GenesisDoc {
  readonly genesisTime: Timestamp;
  readonly chainId: string;
  readonly initialHeight: number;
  readonly consensusParams: ConsensusParams;
  readonly validators: readonly GenesisValidator[];
  readonly appHash: Uint8Array;
  /** The exact JSON text of app_state, or undefined when the file has none. */
  readonly appState: string | undefined;
}

/** A genesis document is malformed or invalid. `path` names the field, e.g. "validators[2].power". */
export class GenesisError extends Error {
  override readonly name = 'GenesisError';
  constructor(
    readonly detail: string,
    readonly path: string = '',
  ) {
    super(path ? `${path}: ${detail}` : detail);
  }
}

const FIELDS = ['genesis_time', 'chain_id', 'initial_height', 'consensus_params', 'validators', 'app_hash', 'app_state'] as const;

function fromDecodeError(e: unknown): never {
  if (e instanceof DecodeError) {
    const prefix = `${e.path}: `;
    throw new GenesisError(e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message, e.path);
  }
  throw e;
}

// ---- validation -----------------------------------------------------------------------------

export function validateConsensusParams(p: ConsensusParams, path = 'consensus_params'): void {
  const { block, evidence, validator, abci } = p;
  if (block.maxBytes === 0n) throw new GenesisError('must not be 0 (use -1 for the maximum)', `${path}.block.max_bytes`);
  if (block.maxBytes < -1n) throw new GenesisError(`must be -1 or positive, got ${block.maxBytes}`, `${path}.block.max_bytes`);
  if (block.maxBytes > MAX_BLOCK_SIZE_BYTES) throw new GenesisError(`must be at most ${MAX_BLOCK_SIZE_BYTES}, got ${block.maxBytes}`, `${path}.block.max_bytes`);
  if (block.maxGas < -1n) throw new GenesisError(`must be -1 (unlimited) or ≥ 0, got ${block.maxGas}`, `${path}.block.max_gas`);
  if (evidence.maxAgeNumBlocks <= 0n) throw new GenesisError(`must be positive, got ${evidence.maxAgeNumBlocks}`, `${path}.evidence.max_age_num_blocks`);
  const ageNanos = durationToNanos(evidence.maxAgeDuration);
  if (ageNanos <= 0n) throw new GenesisError(`must be positive, got ${ageNanos}`, `${path}.evidence.max_age_duration`);
  const evidenceLimit = block.maxBytes === -1n ? MAX_BLOCK_SIZE_BYTES : block.maxBytes;
  if (evidence.maxBytes < 0n || evidence.maxBytes > evidenceLimit)
    throw new GenesisError(`must be in [0, ${evidenceLimit}] (at most block.max_bytes), got ${evidence.maxBytes}`, `${path}.evidence.max_bytes`);
  if (validator.pubKeyTypes.length === 0) throw new GenesisError('must list at least one key type', `${path}.validator.pub_key_types`);
  validator.pubKeyTypes.forEach((t, i) => {
    if (!KNOWN_PUBKEY_TYPES.has(t)) throw new GenesisError(`unknown key type ${JSON.stringify(t)}`, `${path}.validator.pub_key_types[${i}]`);
  });
  if (!validator.pubKeyTypes.includes('ed25519')) throw new GenesisError('must include "ed25519" (the only validator key type Tally supports)', `${path}.validator.pub_key_types`);
  if (abci.voteExtensionsEnableHeight < 0n)
    throw new GenesisError(`must be ≥ 0, got ${abci.voteExtensionsEnableHeight}`, `${path}.abci.vote_extensions_enable_height`);
}

/** Check a genesis document built in code (documents read from JSON are checked on read). */
export function validateGenesis(doc: GenesisDoc): void {
  if (doc.chainId === '') throw new GenesisError('must not be empty', 'chain_id');
  if (doc.chainId.length > MAX_CHAIN_ID_LENGTH) throw new GenesisError(`must be at most ${MAX_CHAIN_ID_LENGTH} characters, got ${doc.chainId.length}`, 'chain_id');
  if (!Number.isSafeInteger(doc.initialHeight) || doc.initialHeight < 1) throw new GenesisError(`must be ≥ 1, got ${doc.initialHeight}`, 'initial_height');
  if (!Number.isInteger(doc.genesisTime.seconds) || !Number.isInteger(doc.genesisTime.nanos) || doc.genesisTime.nanos < 0 || doc.genesisTime.nanos > 999_999_999)
    throw new GenesisError('not a valid time', 'genesis_time');
  validateConsensusParams(doc.consensusParams);
  if (doc.appState !== undefined) {
    try {
      JSON.parse(doc.appState);
    } catch (e) {
      throw new GenesisError(`not valid JSON: ${(e as Error).message}`, 'app_state');
    }
  }
  let total = 0n;
  const seen = new Map<string, number>();
  doc.validators.forEach((v, i) => {
    const path = `validators[${i}]`;
    if (v.pubKey.length !== 32) throw new GenesisError(`ed25519 public key must be 32 bytes, got ${v.pubKey.length}`, `${path}.pub_key`);
    const derived = addressOf(v.pubKey);
    if (!bytesEqual(v.address, derived))
      throw new GenesisError(`${toHex(v.address)} does not match the public key (whose address is ${toHex(derived)})`, `${path}.address`);
    if (v.power <= 0n) throw new GenesisError(`must be positive (a genesis validator cannot have no voting power), got ${v.power}`, `${path}.power`);
    total += v.power;
    if (total > MAX_TOTAL_VOTING_POWER) throw new GenesisError(`total voting power exceeds ${MAX_TOTAL_VOTING_POWER}`, `${path}.power`);
    const id = toHex(derived);
    const prev = seen.get(id);
    if (prev !== undefined) throw new GenesisError(`duplicate validator: same key as validators[${prev}]`, `${path}.pub_key`);
    seen.set(id, i);
  });
}

// ---- JSON -----------------------------------------------------------------------------------

/**
 * The exact source text of each top-level member of a JSON object. `text` must already be
 * known-valid JSON (JSON.parse succeeded), so this scanner only tracks nesting and strings.
 * Duplicated member names are reported, since JSON.parse would silently keep the last.
 */
function topLevelMembers(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const skipString = (): void => {
    i++; // opening quote
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  ws();
  if (text[i] !== '{') return out;
  i++;
  for (;;) {
    ws();
    if (text[i] === '}') return out;
    const keyStart = i;
    skipString();
    const key = JSON.parse(text.slice(keyStart, i)) as string;
    ws();
    i++; // ':'
    ws();
    const start = i;
    let depth = 0;
    for (;;) {
      const c = text[i]!;
      if (c === '"') {
        skipString();
        if (depth === 0) break;
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) break; // end of the enclosing object: scalar value ended
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      } else if (depth === 0 && (c === ',' || ' \t\n\r'.includes(c))) break;
      i++;
    }
    if (out.has(key)) throw new GenesisError('field appears more than once', key);
    out.set(key, text.slice(start, i));
    ws();
    if (text[i] === ',') i++;
  }
}

const PARAM_FIELDS: Readonly<Record<string, readonly string[]>> = {
  block: ['max_bytes', 'max_gas'],
  evidence: ['max_age_num_blocks', 'max_age_duration', 'max_bytes'],
  validator: ['pub_key_types'],
  version: ['app'],
  abci: ['vote_extensions_enable_height'],
};

/** consensusParamsFromJson fills in defaults for what is missing; a misspelt key must not be "missing". */
function checkParamFields(v: Json | undefined): void {
  if (v === undefined || v === null) return;
  const o = asObject(v, 'consensus_params');
  for (const [section, value] of Object.entries(o)) {
    const known = PARAM_FIELDS[section];
    if (known === undefined) throw new GenesisError(`unknown section (expected one of ${Object.keys(PARAM_FIELDS).join(', ')})`, `consensus_params.${section}`);
    if (value === null) continue;
    for (const k of Object.keys(asObject(value, `consensus_params.${section}`))) {
      if (!known.includes(k)) throw new GenesisError(`unknown field (expected one of ${known.join(', ')})`, `consensus_params.${section}.${k}`);
    }
  }
}

function validatorFromJson(v: Json | undefined, path: string): GenesisValidator {
  const o = asObject(v, path);
  for (const k of Object.keys(o)) {
    if (!['address', 'pub_key', 'power', 'name'].includes(k))
      throw new GenesisError(`unknown field${k === 'voting_power' ? ' (genesis validators use "power")' : ''}`, `${path}.${k}`);
  }
  const pubKey = pubKeyFromJson(o.pub_key, `${path}.pub_key`);
  const given = asHexBytes(o.address, `${path}.address`);
  if (o.power === undefined) throw new GenesisError('missing', `${path}.power`);
  return {
    address: given.length === 0 ? addressOf(pubKey) : given,
    pubKey,
    power: asInt64(o.power, `${path}.power`),
    name: o.name === undefined || o.name === null ? '' : asString(o.name, `${path}.name`),
  };
}

/** Decode and validate a genesis document from parsed JSON. `appStateText` overrides app_state's text. */
export function genesisFromJson(v: Json, appStateText?: string): GenesisDoc {
  let doc: GenesisDoc;
  try {
    const o = asObject(v, '');
    for (const k of Object.keys(o)) {
      if (!(FIELDS as readonly string[]).includes(k)) throw new GenesisError(`unknown field (expected one of ${FIELDS.join(', ')})`, k);
    }
    if (o.genesis_time === undefined || o.genesis_time === null || o.genesis_time === '') throw new GenesisError('missing', 'genesis_time');
    if (o.chain_id === undefined) throw new GenesisError('missing', 'chain_id');
    const initialHeight = o.initial_height === undefined || o.initial_height === null ? 1 : asHeight(o.initial_height, 'initial_height');
    checkParamFields(o.consensus_params);
    const appState = o.app_state === undefined ? undefined : (appStateText ?? JSON.stringify(o.app_state));
    doc = {
      genesisTime: parseTime(asString(o.genesis_time, 'genesis_time'), 'genesis_time'),
      chainId: asString(o.chain_id, 'chain_id'),
      initialHeight: initialHeight === 0 ? 1 : initialHeight, // as CometBFT: 0 means 1
      consensusParams: consensusParamsFromJson(o.consensus_params, 'consensus_params', DEFAULT_CONSENSUS_PARAMS),
      validators: asArray(o.validators ?? [], 'validators').map((x, i) => validatorFromJson(x, `validators[${i}]`)),
      appHash: asHexBytes(o.app_hash, 'app_hash'),
      appState,
    };
  } catch (e) {
    fromDecodeError(e);
  }
  validateGenesis(doc);
  return doc;
}

/** Parse and validate genesis JSON text. */
export function parseGenesis(text: string): GenesisDoc {
  let json: Json;
  try {
    json = parseJson(text, '');
  } catch (e) {
    fromDecodeError(e);
  }
  const members = topLevelMembers(text);
  return genesisFromJson(json, members.get('app_state'));
}

/** The JSON form without app_state (whose text is spliced in by formatGenesis). */
export function genesisToJson(doc: GenesisDoc): JsonObject {
  const out: JsonObject = {
    genesis_time: formatTime(doc.genesisTime),
    chain_id: doc.chainId,
    initial_height: String(doc.initialHeight),
    consensus_params: consensusParamsToJson(doc.consensusParams),
    validators: doc.validators.map((v) => ({ address: toHex(v.address), pub_key: pubKeyToJson(v.pubKey), power: v.power.toString(), name: v.name })),
    app_hash: toHex(doc.appHash),
  };
  if (doc.appState !== undefined) out.app_state = JSON.parse(doc.appState) as Json;
  return out;
}

/** Pretty JSON in CometBFT's field order; app_state is written exactly as held. */
export function formatGenesis(doc: GenesisDoc): string {
  validateGenesis(doc);
  const { app_state: _omit, ...rest } = genesisToJson(doc);
  const body = JSON.stringify(rest, null, 2);
  if (doc.appState === undefined) return `${body}\n`;
  return `${body.slice(0, body.lastIndexOf('}')).trimEnd()},\n  "app_state": ${doc.appState.trim()}\n}\n`;
}

/** A genesis document with defaults for what callers usually leave out. */
export function makeGenesis(opts: {
  chainId: string;
  genesisTime: Timestamp;
  validators: readonly { pubKey: Uint8Array; power: bigint; name?: string }[];
  initialHeight?: number;
  consensusParams?: ConsensusParams;
  appHash?: Uint8Array;
  appState?: string;
}): GenesisDoc {
  const doc: GenesisDoc = {
    genesisTime: opts.genesisTime,
    chainId: opts.chainId,
    initialHeight: opts.initialHeight ?? 1,
    consensusParams: opts.consensusParams ?? DEFAULT_CONSENSUS_PARAMS,
    validators: opts.validators.map((v) => ({ address: addressOf(v.pubKey), pubKey: v.pubKey, power: v.power, name: v.name ?? '' })),
    appHash: opts.appHash ?? new Uint8Array(0),
    appState: opts.appState,
  };
  validateGenesis(doc);
  return doc;
}

/** The genesis validators as Validators (proposer priorities start at 0, as CometBFT's). */
export function genesisValidators(doc: GenesisDoc): Validator[] {
  return doc.validators.map((v) => ({ address: v.address, pubKey: v.pubKey, votingPower: v.power, proposerPriority: 0n }));
}
