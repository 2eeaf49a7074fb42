// CometBFT's JSON forms, in one place: uppercase hex for hashes and addresses, padded base64
// for bytes, int64 as decimal strings, int32 as numbers, RFC 3339 times with up to nine
// fractional digits (trailing zeros trimmed, as Go's RFC3339Nano). Readers accept what real
// CometBFT files contain (null for empty hashes, `parts` or `part_set_header`, lowercase hex)
// and fail with a DecodeError naming the JSON path.
import { DecodeError } from './errors.js';
import {
  BlockIDFlag,
  SignedMsgType,
  type Block,
  type BlockID,
  type Commit,
  type CommitSig,
  type ConsensusParams,
  type Duration,
  type Event,
  type Evidence,
  type ExecTxResult,
  type Header,
  type Proof,
  type Proposal,
  type Timestamp,
  type Validator,
  type Vote,
} from './model.js';
import { ZERO_BLOCK_ID, ZERO_TIME } from './messages.js';
import type { BlockMeta } from './storage.js';
import { ON_HEAP_MAX } from './slab.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const EMPTY: Uint8Array = new Uint8Array(0);
export const PUBKEY_ED25519_TYPE = 'tendermint/PubKeyEd25519';
export const PRIVKEY_ED25519_TYPE = 'tendermint/PrivKeyEd25519';

// ---- scalars ------------------------------------------------------------------------------

/**
 * A Buffer over `b`'s bytes for encoding to text. A small array is copied into node's Buffer pool
 * rather than viewed: `b.buffer` would first move it out of V8's heap into a malloc'd buffer of
 * its own (codec/slab.ts); a hash to hex measured 1.4 µs of CPU that way, 0.5 µs this way.
 */
function textSource(b: Uint8Array): Buffer {
  return b.length <= ON_HEAP_MAX ? Buffer.from(b) : Buffer.from(b.buffer, b.byteOffset, b.length);
}

export function toHex(b: Uint8Array): string {
  return textSource(b).toString('hex').toUpperCase();
}

export function fromHex(s: string, path = 'hex'): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new DecodeError(`not an even-length hex string: ${JSON.stringify(s.slice(0, 80))}`, path);
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function toBase64(b: Uint8Array): string {
  return textSource(b).toString('base64');
}

export function fromBase64(s: string, path = 'base64'): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new DecodeError('not padded standard base64', path);
  return new Uint8Array(Buffer.from(s, 'base64'));
}

// ---- time ---------------------------------------------------------------------------------

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Days since 1970-01-01 of a proleptic Gregorian date (exact for every year, unlike Date.UTC's 0..99 quirk). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Parse an RFC 3339 time, keeping nanoseconds. */
export function parseTime(s: string, path = 'time'): Timestamp {
  const m = RFC3339.exec(s);
  if (!m) throw new DecodeError(`not an RFC 3339 time: ${JSON.stringify(s.slice(0, 80))}`, path);
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]! || (month === 2 && day === 29 && !leap) || hour > 23 || minute > 59 || second > 59)
    throw new DecodeError(`no such time: ${s}`, path);
  let seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  if (m[9]) {
    const offset = (Number(m[10]) * 60 + Number(m[11])) * 60;
    seconds += m[9] === '+' ? -offset : offset;
  }
  const nanos = m[7] ? Number(m[7].padEnd(9, '0')) : 0;
  return { seconds, nanos };
}

/** Format as Go's RFC3339Nano in UTC: fractional digits only as needed. */
export function formatTime(t: Timestamp): string {
  const base = new Date(t.seconds * 1000).toISOString().slice(0, 19);
  if (t.nanos === 0) return `${base}Z`;
  const frac = String(t.nanos).padStart(9, '0').replace(/0+$/, '');
  return `${base}.${frac}Z`;
}

export function timeFromDate(d: Date): Timestamp {
  const ms = d.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1_000_000 };
}

export function compareTime(a: Timestamp, b: Timestamp): number {
  return a.seconds !== b.seconds ? Math.sign(a.seconds - b.seconds) : Math.sign(a.nanos - b.nanos);
}

/** A time as nanoseconds since the epoch (bigint: exact). */
export function timeToNanos(t: Timestamp): bigint {
  return BigInt(t.seconds) * 1_000_000_000n + BigInt(t.nanos);
}

export function timeFromNanos(n: bigint): Timestamp {
  let seconds = n / 1_000_000_000n;
  let nanos = n % 1_000_000_000n;
  if (nanos < 0n) {
    nanos += 1_000_000_000n;
    seconds -= 1n;
  }
  return { seconds: Number(seconds), nanos: Number(nanos) };
}

export function durationToNanos(d: Duration): bigint {
  return BigInt(d.seconds) * 1_000_000_000n + BigInt(d.nanos);
}

export function durationFromNanos(n: bigint): Duration {
  return { seconds: Number(n / 1_000_000_000n), nanos: Number(n % 1_000_000_000n) };
}

// ---- typed readers over parsed JSON --------------------------------------------------------

export function asObject(v: Json | undefined, path: string): JsonObject {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DecodeError('expected an object', path);
  return v;
}

export function asArray(v: Json | undefined, path: string): Json[] {
  if (!Array.isArray(v)) throw new DecodeError('expected an array', path);
  return v;
}

export function asString(v: Json | undefined, path: string): string {
  if (typeof v !== 'string') throw new DecodeError('expected a string', path);
  return v;
}

/** An int64 given as a decimal string (CometBFT's form) or as a safe-integer number. */
export function asInt64(v: Json | undefined, path: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d{1,19}$/.test(v)) {
    const b = BigInt(v);
    if (b >= -(1n << 63n) && b < 1n << 63n) return b;
  }
  throw new DecodeError(`expected an int64 as a decimal string, got ${JSON.stringify(v)?.slice(0, 40)}`, path);
}

export function asUint64(v: Json | undefined, path: string): bigint {
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) {
    const b = BigInt(v);
    if (b < 1n << 64n) return b;
  }
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new DecodeError(`expected a uint64 as a decimal string, got ${JSON.stringify(v)?.slice(0, 40)}`, path);
}

/** A height/count: int64 that must be a non-negative safe integer. */
export function asHeight(v: Json | undefined, path: string): number {
  const b = asInt64(v, path);
  if (b < 0n || b > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(`out of range: ${b}`, path);
  return Number(b);
}

/** An int32 given as a JSON number (CometBFT's form) or a decimal string. */
export function asInt32(v: Json | undefined, path: string): number {
  const n = typeof v === 'string' && /^-?\d{1,10}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff)
    throw new DecodeError(`expected an int32, got ${JSON.stringify(v)?.slice(0, 40)}`, path);
  return n;
}

/** A uint32 given as a JSON number (CometBFT's form) or a decimal string. */
export function asUint32(v: Json | undefined, path: string): number {
  const n = typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new DecodeError(`expected a uint32, got ${JSON.stringify(v)?.slice(0, 40)}`, path);
  return n;
}

/** Hex bytes; null, absent and "" are empty. */
export function asHexBytes(v: Json | undefined, path: string): Uint8Array {
  if (v === null || v === undefined || v === '') return EMPTY;
  return fromHex(asString(v, path), path);
}

/** Base64 bytes; null, absent and "" are empty. */
export function asBase64Bytes(v: Json | undefined, path: string): Uint8Array {
  if (v === null || v === undefined || v === '') return EMPTY;
  return fromBase64(asString(v, path), path);
}

export function asTime(v: Json | undefined, path: string): Timestamp {
  return parseTime(asString(v, path), path);
}

// ---- structures ---------------------------------------------------------------------------

export function blockIdToJson(b: BlockID): JsonObject {
  return { hash: toHex(b.hash), parts: { total: b.partSetHeader.total, hash: toHex(b.partSetHeader.hash) } };
}

export function blockIdFromJson(v: Json | undefined, path: string): BlockID {
  if (v === null || v === undefined) return ZERO_BLOCK_ID;
  const o = asObject(v, path);
  const parts = o.parts ?? o.part_set_header;
  let total = 0;
  let hash = EMPTY;
  if (parts !== null && parts !== undefined) {
    const p = asObject(parts, `${path}.parts`);
    total = asUint32(p.total ?? 0, `${path}.parts.total`);
    hash = asHexBytes(p.hash, `${path}.parts.hash`);
  }
  return { hash: asHexBytes(o.hash, `${path}.hash`), partSetHeader: { total, hash } };
}

export function headerToJson(h: Header): JsonObject {
  return {
    version: { block: h.version.block.toString(), app: h.version.app.toString() },
    chain_id: h.chainId,
    height: String(h.height),
    time: formatTime(h.time),
    last_block_id: blockIdToJson(h.lastBlockId),
    last_commit_hash: toHex(h.lastCommitHash),
    data_hash: toHex(h.dataHash),
    validators_hash: toHex(h.validatorsHash),
    next_validators_hash: toHex(h.nextValidatorsHash),
    consensus_hash: toHex(h.consensusHash),
    app_hash: toHex(h.appHash),
    last_results_hash: toHex(h.lastResultsHash),
    evidence_hash: toHex(h.evidenceHash),
    proposer_address: toHex(h.proposerAddress),
  };
}

export function headerFromJson(v: Json | undefined, path = 'header'): Header {
  const o = asObject(v, path);
  const ver = asObject(o.version ?? {}, `${path}.version`);
  const hex = (k: string): Uint8Array => asHexBytes(o[k], `${path}.${k}`);
  return {
    version: {
      block: ver.block === undefined ? 0n : asUint64(ver.block, `${path}.version.block`),
      app: ver.app === undefined ? 0n : asUint64(ver.app, `${path}.version.app`),
    },
    chainId: asString(o.chain_id, `${path}.chain_id`),
    height: asHeight(o.height, `${path}.height`),
    time: asTime(o.time, `${path}.time`),
    lastBlockId: blockIdFromJson(o.last_block_id, `${path}.last_block_id`),
    lastCommitHash: hex('last_commit_hash'),
    dataHash: hex('data_hash'),
    validatorsHash: hex('validators_hash'),
    nextValidatorsHash: hex('next_validators_hash'),
    consensusHash: hex('consensus_hash'),
    appHash: hex('app_hash'),
    lastResultsHash: hex('last_results_hash'),
    evidenceHash: hex('evidence_hash'),
    proposerAddress: hex('proposer_address'),
  };
}

export function commitSigToJson(s: CommitSig): JsonObject {
  return {
    block_id_flag: s.blockIdFlag,
    validator_address: toHex(s.validatorAddress),
    timestamp: formatTime(s.timestamp),
    signature: s.signature.length ? toBase64(s.signature) : null,
  };
}

export function commitSigFromJson(v: Json | undefined, path: string): CommitSig {
  const o = asObject(v, path);
  const flag = asInt32(o.block_id_flag, `${path}.block_id_flag`);
  if (flag < BlockIDFlag.Unknown || flag > BlockIDFlag.Nil) throw new DecodeError(`unknown block_id_flag ${flag}`, `${path}.block_id_flag`);
  return {
    blockIdFlag: flag as BlockIDFlag,
    validatorAddress: asHexBytes(o.validator_address, `${path}.validator_address`),
    timestamp: o.timestamp === undefined || o.timestamp === null ? ZERO_TIME : asTime(o.timestamp, `${path}.timestamp`),
    signature: asBase64Bytes(o.signature, `${path}.signature`),
  };
}

export function commitToJson(c: Commit): JsonObject {
  return {
    height: String(c.height),
    round: c.round,
    block_id: blockIdToJson(c.blockId),
    signatures: c.signatures.map(commitSigToJson),
  };
}

export function commitFromJson(v: Json | undefined, path = 'commit'): Commit {
  const o = asObject(v, path);
  return {
    height: asHeight(o.height, `${path}.height`),
    round: asInt32(o.round, `${path}.round`),
    blockId: blockIdFromJson(o.block_id, `${path}.block_id`),
    signatures: asArray(o.signatures ?? [], `${path}.signatures`).map((s, i) => commitSigFromJson(s, `${path}.signatures[${i}]`)),
  };
}

export function pubKeyToJson(key: Uint8Array): JsonObject {
  return { type: PUBKEY_ED25519_TYPE, value: toBase64(key) };
}

export function pubKeyFromJson(v: Json | undefined, path: string): Uint8Array {
  const o = asObject(v, path);
  const type = asString(o.type, `${path}.type`);
  if (type !== PUBKEY_ED25519_TYPE) throw new DecodeError(`unsupported key type ${JSON.stringify(type)}`, `${path}.type`);
  const key = asBase64Bytes(o.value, `${path}.value`);
  if (key.length !== 32) throw new DecodeError(`ed25519 public key must be 32 bytes, got ${key.length}`, `${path}.value`);
  return key;
}

export function validatorToJson(v: Validator): JsonObject {
  return {
    address: toHex(v.address),
    pub_key: pubKeyToJson(v.pubKey),
    voting_power: v.votingPower.toString(),
    proposer_priority: v.proposerPriority.toString(),
  };
}

/** A validator; `address` may be omitted (genesis files), and is then left empty for the caller to derive. */
export function validatorFromJson(v: Json | undefined, path: string): Validator {
  const o = asObject(v, path);
  return {
    address: asHexBytes(o.address, `${path}.address`),
    pubKey: pubKeyFromJson(o.pub_key, `${path}.pub_key`),
    votingPower: asInt64(o.voting_power ?? o.power, `${path}.voting_power`),
    proposerPriority: o.proposer_priority === undefined || o.proposer_priority === null ? 0n : asInt64(o.proposer_priority, `${path}.proposer_priority`),
  };
}

export function consensusParamsToJson(p: ConsensusParams): JsonObject {
  return {
    block: { max_bytes: p.block.maxBytes.toString(), max_gas: p.block.maxGas.toString() },
    evidence: {
      max_age_num_blocks: p.evidence.maxAgeNumBlocks.toString(),
      max_age_duration: durationToNanos(p.evidence.maxAgeDuration).toString(),
      max_bytes: p.evidence.maxBytes.toString(),
    },
    validator: { pub_key_types: [...p.validator.pubKeyTypes] },
    version: { app: p.version.app.toString() },
    abci: { vote_extensions_enable_height: p.abci.voteExtensionsEnableHeight.toString() },
  };
}

/** Consensus params; missing sections take the given defaults (as CometBFT fills them in). */
export function consensusParamsFromJson(v: Json | undefined, path: string, defaults: ConsensusParams): ConsensusParams {
  if (v === null || v === undefined) return defaults;
  const o = asObject(v, path);
  const sec = (k: string): JsonObject | undefined => (o[k] === undefined || o[k] === null ? undefined : asObject(o[k], `${path}.${k}`));
  const block = sec('block');
  const evidence = sec('evidence');
  const validator = sec('validator');
  const version = sec('version');
  const abci = sec('abci');
  const int = (s: JsonObject | undefined, k: string, dflt: bigint, where: string): bigint =>
    s === undefined || s[k] === undefined ? dflt : asInt64(s[k], `${path}.${where}.${k}`);
  return {
    block: { maxBytes: int(block, 'max_bytes', defaults.block.maxBytes, 'block'), maxGas: int(block, 'max_gas', defaults.block.maxGas, 'block') },
    evidence: {
      maxAgeNumBlocks: int(evidence, 'max_age_num_blocks', defaults.evidence.maxAgeNumBlocks, 'evidence'),
      maxAgeDuration: durationFromNanos(int(evidence, 'max_age_duration', durationToNanos(defaults.evidence.maxAgeDuration), 'evidence')),
      maxBytes: int(evidence, 'max_bytes', defaults.evidence.maxBytes, 'evidence'),
    },
    validator: {
      pubKeyTypes:
        validator?.pub_key_types === undefined
          ? defaults.validator.pubKeyTypes
          : asArray(validator.pub_key_types, `${path}.validator.pub_key_types`).map((t, i) => asString(t, `${path}.validator.pub_key_types[${i}]`)),
    },
    version: { app: version?.app === undefined ? defaults.version.app : asUint64(version.app, `${path}.version.app`) },
    abci: { voteExtensionsEnableHeight: int(abci, 'vote_extensions_enable_height', defaults.abci.voteExtensionsEnableHeight, 'abci') },
  };
}

// ---- RPC forms: blocks, votes, evidence, results ------------------------------------------

/** A commit as CometBFT serves it; the initial block's absent last commit is the empty commit clients expect. */
function lastCommitToJson(c: Commit | null): JsonObject {
  return commitToJson(c ?? { height: 0, round: 0, blockId: ZERO_BLOCK_ID, signatures: [] });
}

/** types.Block: {header, data: {txs}, evidence: {evidence}, last_commit}. */
export function blockToJson(b: Block): JsonObject {
  return {
    header: headerToJson(b.header),
    data: { txs: b.data.txs.map(toBase64) },
    evidence: { evidence: b.evidence.map(evidenceToJson) },
    last_commit: lastCommitToJson(b.lastCommit),
  };
}

/** types.BlockMeta (`blockchain`): block_size and num_txs are Go ints, hence strings. */
export function blockMetaToJson(m: BlockMeta): JsonObject {
  return { block_id: blockIdToJson(m.blockId), block_size: String(m.blockSize), header: headerToJson(m.header), num_txs: String(m.numTxs) };
}

/** Nil byte slices are null in CometBFT's JSON, present ones base64. */
const bytesOrNull = (b: Uint8Array): Json => (b.length ? toBase64(b) : null);

export function voteToJson(v: Vote): JsonObject {
  return {
    type: v.type,
    height: String(v.height),
    round: v.round,
    block_id: blockIdToJson(v.blockId),
    timestamp: formatTime(v.timestamp),
    validator_address: toHex(v.validatorAddress),
    validator_index: v.validatorIndex,
    signature: bytesOrNull(v.signature),
    extension: bytesOrNull(v.extension),
    extension_signature: bytesOrNull(v.extensionSignature),
  };
}

export function voteFromJson(v: Json | undefined, path: string): Vote {
  const o = asObject(v, path);
  const type = asInt32(o.type, `${path}.type`);
  if (type !== SignedMsgType.Prevote && type !== SignedMsgType.Precommit) throw new DecodeError(`vote type must be 1 (prevote) or 2 (precommit), got ${type}`, `${path}.type`);
  return {
    type,
    height: asHeight(o.height, `${path}.height`),
    round: asInt32(o.round, `${path}.round`),
    blockId: blockIdFromJson(o.block_id, `${path}.block_id`),
    timestamp: asTime(o.timestamp, `${path}.timestamp`),
    validatorAddress: asHexBytes(o.validator_address, `${path}.validator_address`),
    validatorIndex: asInt32(o.validator_index, `${path}.validator_index`),
    signature: asBase64Bytes(o.signature, `${path}.signature`),
    extension: asBase64Bytes(o.extension, `${path}.extension`),
    extensionSignature: asBase64Bytes(o.extension_signature, `${path}.extension_signature`),
  };
}

export function proposalToJson(p: Proposal): JsonObject {
  return {
    type: p.type,
    height: String(p.height),
    round: p.round,
    pol_round: p.polRound,
    block_id: blockIdToJson(p.blockId),
    timestamp: formatTime(p.timestamp),
    signature: bytesOrNull(p.signature),
  };
}

export const DUPLICATE_VOTE_EVIDENCE_TYPE = 'tendermint/DuplicateVoteEvidence';

/** Evidence in CometBFT's amino-style envelope; the untagged Go fields keep their Go names. */
export function evidenceToJson(e: Evidence): JsonObject {
  return {
    type: DUPLICATE_VOTE_EVIDENCE_TYPE,
    value: {
      vote_a: voteToJson(e.voteA),
      vote_b: voteToJson(e.voteB),
      TotalVotingPower: e.totalVotingPower.toString(),
      ValidatorPower: e.validatorPower.toString(),
      Timestamp: formatTime(e.timestamp),
    },
  };
}

export function evidenceFromJson(v: Json | undefined, path = 'evidence'): Evidence {
  const o = asObject(v, path);
  const type = asString(o.type, `${path}.type`);
  if (type !== DUPLICATE_VOTE_EVIDENCE_TYPE) throw new DecodeError(`unsupported evidence type ${JSON.stringify(type.slice(0, 60))} (only ${DUPLICATE_VOTE_EVIDENCE_TYPE})`, `${path}.type`);
  const val = asObject(o.value, `${path}.value`);
  return {
    kind: 'duplicate_vote',
    voteA: voteFromJson(val.vote_a, `${path}.value.vote_a`),
    voteB: voteFromJson(val.vote_b, `${path}.value.vote_b`),
    totalVotingPower: val.TotalVotingPower === undefined ? 0n : asInt64(val.TotalVotingPower, `${path}.value.TotalVotingPower`),
    validatorPower: val.ValidatorPower === undefined ? 0n : asInt64(val.ValidatorPower, `${path}.value.ValidatorPower`),
    timestamp: val.Timestamp === undefined || val.Timestamp === null ? ZERO_TIME : asTime(val.Timestamp, `${path}.value.Timestamp`),
  };
}

/** abci.Event: attribute keys and values are plain strings (0.38), with the index flag. */
export function eventsToJson(events: readonly Event[]): Json[] {
  return events.map((e) => ({ type: e.type, attributes: e.attributes.map((a) => ({ key: a.key, value: a.value, index: a.index })) }));
}

/**
 * abci.ExecTxResult (also the shape of ResponseCheckTx), as CometBFT's jsonpb marshaller emits
 * it: every field present, int64 as strings, empty data as null.
 */
export function execTxResultToJson(r: ExecTxResult): JsonObject {
  return {
    code: r.code,
    data: bytesOrNull(r.data),
    log: r.log,
    info: r.info,
    gas_wanted: r.gasWanted.toString(),
    gas_used: r.gasUsed.toString(),
    events: eventsToJson(r.events),
    codespace: r.codespace,
  };
}

export const EMPTY_EXEC_TX_RESULT: ExecTxResult = Object.freeze({ code: 0, data: EMPTY, log: '', info: '', gasWanted: 0n, gasUsed: 0n, events: [], codespace: '' });

/** abci.ValidatorUpdate: the key is a crypto.PublicKey oneof, which CometBFT's JSON writes as {Sum: …}. */
export function validatorUpdateToJson(u: { readonly pubKey: Uint8Array; readonly power: bigint }): JsonObject {
  return { pub_key: { Sum: { type: 'tendermint.crypto.PublicKey_Ed25519', value: { ed25519: toBase64(u.pubKey) } } }, power: u.power.toString() };
}

/** A partial ConsensusParams (FinalizeBlock's updates): only the sections present; null for none. */
export function consensusParamUpdatesToJson(p: Partial<ConsensusParams> | undefined): Json {
  if (!p) return null;
  const sections = Object.keys(p).filter((k) => p[k as keyof ConsensusParams] !== undefined);
  if (sections.length === 0) return null;
  const full = consensusParamsToJson({
    block: p.block ?? { maxBytes: 0n, maxGas: 0n },
    evidence: p.evidence ?? { maxAgeNumBlocks: 0n, maxAgeDuration: { seconds: 0, nanos: 0 }, maxBytes: 0n },
    validator: p.validator ?? { pubKeyTypes: [] },
    version: p.version ?? { app: 0n },
    abci: p.abci ?? { voteExtensionsEnableHeight: 0n },
  });
  const out: JsonObject = {};
  for (const k of sections) if (full[k] !== undefined) out[k] = full[k];
  return out;
}

/** types.TxProof: a tx, the data_hash it is proven against, and its RFC-6962 proof (int64 total/index). */
export function txProofToJson(rootHash: Uint8Array, tx: Uint8Array, proof: Proof): JsonObject {
  return {
    root_hash: toHex(rootHash),
    data: toBase64(tx),
    proof: { total: String(proof.total), index: String(proof.index), leaf_hash: toBase64(proof.leafHash), aunts: proof.aunts.map(toBase64) },
  };
}

/** Parse JSON text, turning a syntax error into a DecodeError. */
export function parseJson(text: string, path = 'json'): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new DecodeError(`invalid JSON: ${(e as Error).message}`, path);
  }
}
