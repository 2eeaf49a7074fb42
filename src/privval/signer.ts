// The file signer: the one place a validator's key signs consensus messages. Its last-sign state
// (height, round, step, sign-bytes, signature) is made durable before a signature leaves this
// module, so no crash — at any point — can make it sign two different things at one HRS.
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import {
  ProtoReader,
  SignedMsgType,
  asInt32,
  asHeight,
  asObject,
  asBase64Bytes,
  asHexBytes,
  isZeroBlockID,
  parseJson,
  readTimestamp,
  toBase64,
  toHex,
  DecodeError,
  type Json,
  type JsonObject,
  type Proposal,
  type Timestamp,
  type Vote,
} from '../codec/index.js';
import { bytesEqual, type PrivKey, type PubKey } from '../crypto/index.js';
import { writeFileAtomicSync } from '../fsutil/index.js';
import { proposalSignBytes, voteExtensionSignBytes, voteSignBytes } from '../types/vote.js';
import { SignStateLog } from './state-log.js';

/** Steps in the order a validator signs within a round (CometBFT's numbering). */
export enum SignStep {
  None = 0,
  Propose = 1,
  Prevote = 2,
  Precommit = 3,
}

export interface LastSignState {
  readonly height: number;
  readonly round: number;
  readonly step: SignStep;
  readonly signature: Uint8Array;
  readonly signBytes: Uint8Array;
}

export type DoubleSignKind = 'height_regression' | 'round_regression' | 'step_regression' | 'conflicting_data' | 'missing_sign_bytes';

/** Refusal to sign: signing would contradict (or could not be checked against) what was signed before. */
export class DoubleSignError extends Error {
  override readonly name = 'DoubleSignError';
  constructor(
    readonly kind: DoubleSignKind,
    message: string,
    readonly context: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** The state file could not be read or is malformed; the signer will not start on it. */
export class SignerStateError extends Error {
  override readonly name = 'SignerStateError';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path}: ${message}`);
  }
}

/** What consensus needs from a signer; a remote signer would implement the same. */
export interface Signer {
  readonly pubKey: PubKey;
  /** Signs the vote (and, when asked, its extension); may return the vote with an earlier timestamp (same HRS re-sign). */
  signVote(chainId: string, vote: Vote, signExtension: boolean): Vote;
  signProposal(chainId: string, proposal: Proposal): Proposal;
}

const EMPTY: Uint8Array = new Uint8Array(0);
export const INITIAL_SIGN_STATE: LastSignState = Object.freeze({ height: 0, round: 0, step: SignStep.None, signature: EMPTY, signBytes: EMPTY });

function voteStep(type: SignedMsgType): SignStep {
  if (type === SignedMsgType.Prevote) return SignStep.Prevote;
  if (type === SignedMsgType.Precommit) return SignStep.Precommit;
  throw new RangeError(`not a vote type: ${type}`);
}

const STATE_FIELDS = ['height', 'round', 'step', 'signature', 'signbytes'];

/** CometBFT's JSON form of the state file, as an object. */
export function signStateJson(s: LastSignState): JsonObject {
  const o: JsonObject = { height: String(s.height), round: s.round, step: s.step };
  if (s.signature.length) o.signature = toBase64(s.signature);
  if (s.signBytes.length) o.signbytes = toHex(s.signBytes);
  return o;
}

export function signStateToJson(s: LastSignState): string {
  return `${JSON.stringify(signStateJson(s), null, 2)}\n`;
}

/** The state from the file's parsed JSON; a DecodeError names the field. Unknown fields are refused. */
export function signStateFromJsonValue(v: Json): LastSignState {
  const o = asObject(v, '');
  for (const k of Object.keys(o)) if (!STATE_FIELDS.includes(k)) throw new DecodeError(`unknown field (expected ${STATE_FIELDS.join(', ')})`, k);
  const round = asInt32(o.round, 'round');
  if (round < 0) throw new DecodeError(`must be ≥ 0, got ${round}`, 'round');
  const step = asInt32(o.step, 'step');
  if (step < SignStep.None || step > SignStep.Precommit) throw new DecodeError(`must be 0..3, got ${step}`, 'step');
  return {
    height: asHeight(o.height, 'height'),
    round,
    step: step as SignStep,
    signature: asBase64Bytes(o.signature, 'signature'),
    signBytes: asHexBytes(o.signbytes, 'signbytes'),
  };
}

export function signStateFromJson(text: string, path: string): LastSignState {
  try {
    return signStateFromJsonValue(parseJson(text, path));
  } catch (e) {
    if (e instanceof DecodeError) throw new SignerStateError(e.message, path);
    throw e;
  }
}

/**
 * The timestamp inside length-prefixed canonical sign-bytes (CanonicalVote field 5,
 * CanonicalProposal field 6), or undefined when there is none to read.
 */
function signedTimestamp(signBytes: Uint8Array, field: number): Timestamp | undefined {
  try {
    let i = 0; // skip the uvarint length prefix
    while (i < signBytes.length && signBytes[i]! >= 0x80) i++;
    const r = new ProtoReader(signBytes.subarray(i + 1), 'sign_bytes');
    let t: Timestamp | undefined;
    for (let f = r.next(); f !== 0; f = r.next()) {
      if (f === field) t = r.message('timestamp', readTimestamp);
      else r.skip();
    }
    return t;
  } catch (e) {
    if (e instanceof DecodeError) return undefined;
    throw e;
  }
}

export interface FileSignerOptions {
  /**
   * Append every signature this signer returns, as a JSON line {height, round, step, sign_bytes,
   * signature}, fsynced before it is returned. For forensics and crash tests: it proves after
   * the fact that no height/round/step was ever signed with two different sign-bytes.
   */
  readonly auditLogPath?: string;
  /**
   * A SignStateLog beside the state file: each signature's state is written there in place (one
   * fdatasync) instead of replacing the state file (two fsyncs and a rename); the state file is
   * brought up to date when the log fills, at open and at close. Without it, every signature
   * replaces the state file.
   */
  readonly stateLogPath?: string;
}

/** (height, round, step) order: the signer's state only moves forward in it. */
function laterThan(a: LastSignState, b: LastSignState): boolean {
  if (a.height !== b.height) return a.height > b.height;
  if (a.round !== b.round) return a.round > b.round;
  return a.step > b.step;
}

export class FileSigner implements Signer {
  private state: LastSignState;
  /** What the state file holds (the log, when there is one, may be ahead of it). */
  private fileState: LastSignState;
  private log: SignStateLog | undefined;

  private constructor(
    private readonly key: PrivKey,
    private readonly statePath: string,
    state: LastSignState,
    private readonly opts: FileSignerOptions,
  ) {
    this.state = state;
    this.fileState = state;
  }

  /** Opens the signer with its state file, creating a zero state if the file does not exist. */
  static open(key: PrivKey, statePath: string, opts: FileSignerOptions = {}): FileSigner {
    let state: LastSignState;
    if (!existsSync(statePath)) {
      writeFileAtomicSync(statePath, signStateToJson(INITIAL_SIGN_STATE));
      state = INITIAL_SIGN_STATE;
    } else {
      let text: string;
      try {
        text = readFileSync(statePath, 'utf8');
      } catch (e) {
        throw new SignerStateError(`cannot read: ${(e as Error).message}`, statePath);
      }
      state = signStateFromJson(text, statePath);
    }
    const signer = new FileSigner(key, statePath, state, opts);
    if (opts.stateLogPath) {
      const { log, records } = SignStateLog.open(opts.stateLogPath);
      signer.log = log;
      let newest = state;
      for (const r of records) {
        let s: LastSignState;
        try {
          s = signStateFromJson(Buffer.from(r).toString('utf8'), opts.stateLogPath);
        } catch (e) {
          if (e instanceof SignerStateError) continue; // intact frame, foreign content: never ours to trust
          throw e;
        }
        if (laterThan(s, newest)) newest = s;
      }
      // the state file catches up, so the log can start from its beginning
      if (newest !== state) writeFileAtomicSync(statePath, signStateToJson(newest));
      signer.state = newest;
      signer.fileState = newest;
      log.restart();
    }
    return signer;
  }

  /** Brings the state file up to date (when a log holds newer state) and closes the log. */
  close(): void {
    if (!this.log) return;
    if (this.fileState !== this.state) writeFileAtomicSync(this.statePath, signStateToJson(this.state));
    this.fileState = this.state;
    this.log.close();
    this.log = undefined;
  }

  private audit(height: number, round: number, step: SignStep, signBytes: Uint8Array, signature: Uint8Array): void {
    const path = this.opts.auditLogPath;
    if (!path) return;
    appendFileSync(path, `${JSON.stringify({ height, round, step, sign_bytes: toHex(signBytes), signature: toBase64(signature) })}\n`);
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  get pubKey(): PubKey {
    return this.key.pubKey;
  }

  get lastSignState(): LastSignState {
    return this.state;
  }

  signVote(chainId: string, vote: Vote, signExtension: boolean): Vote {
    const step = voteStep(vote.type);
    let signBytes = voteSignBytes(chainId, vote);
    let timestamp = vote.timestamp;
    let signature: Uint8Array;
    if (this.checkHRS(vote.height, vote.round, step)) {
      const reuse = this.reuseSignature(signBytes, 5, (t) => voteSignBytes(chainId, { ...vote, timestamp: t }));
      signature = reuse.signature;
      timestamp = reuse.timestamp;
      signBytes = this.state.signBytes;
    } else {
      signature = this.key.sign(signBytes);
      this.persist({ height: vote.height, round: vote.round, step, signature, signBytes });
    }
    this.audit(vote.height, vote.round, step, signBytes, signature);
    // Extensions are not protected against double signing: they are app data, verified by the
    // app, and a re-sign after a restart must be able to produce one (CometBFT does the same).
    let extensionSignature = EMPTY;
    if (signExtension && vote.type === SignedMsgType.Precommit && !isZeroBlockID(vote.blockId)) {
      extensionSignature = this.key.sign(voteExtensionSignBytes(chainId, vote));
    }
    return { ...vote, timestamp, signature, extensionSignature };
  }

  signProposal(chainId: string, proposal: Proposal): Proposal {
    const signBytes = proposalSignBytes(chainId, proposal);
    if (this.checkHRS(proposal.height, proposal.round, SignStep.Propose)) {
      const reuse = this.reuseSignature(signBytes, 6, (t) => proposalSignBytes(chainId, { ...proposal, timestamp: t }));
      this.audit(proposal.height, proposal.round, SignStep.Propose, this.state.signBytes, reuse.signature);
      return { ...proposal, timestamp: reuse.timestamp, signature: reuse.signature };
    }
    const signature = this.key.sign(signBytes);
    this.persist({ height: proposal.height, round: proposal.round, step: SignStep.Propose, signature, signBytes });
    this.audit(proposal.height, proposal.round, SignStep.Propose, signBytes, signature);
    return { ...proposal, signature };
  }

  /** True when (height, round, step) equals the last signed HRS; throws on any regression. */
  private checkHRS(height: number, round: number, step: SignStep): boolean {
    const s = this.state;
    const context = { height, round, step, lastHeight: s.height, lastRound: s.round, lastStep: s.step };
    if (s.height > height) throw new DoubleSignError('height_regression', `height regression: got ${height}, last signed ${s.height}`, context);
    if (s.height < height) return false;
    if (s.round > round) throw new DoubleSignError('round_regression', `round regression at height ${height}: got ${round}, last signed ${s.round}`, context);
    if (s.round < round) return false;
    if (s.step > step) throw new DoubleSignError('step_regression', `step regression at ${height}/${round}: got ${step}, last signed ${s.step}`, context);
    if (s.step < step) return false;
    if (s.signBytes.length === 0) throw new DoubleSignError('missing_sign_bytes', `already signed ${height}/${round}/${step} but no sign-bytes are stored`, context);
    return true;
  }

  /**
   * At the same HRS: the stored signature is returned if the request is the same, or differs
   * only in its timestamp (then with the stored timestamp); anything else is a conflict.
   */
  private reuseSignature(
    signBytes: Uint8Array,
    timestampField: number,
    withTimestamp: (t: Timestamp) => Uint8Array,
  ): { signature: Uint8Array; timestamp: Timestamp } {
    const last = this.state;
    const lastTime = signedTimestamp(last.signBytes, timestampField);
    if (lastTime !== undefined && (bytesEqual(signBytes, last.signBytes) || bytesEqual(withTimestamp(lastTime), last.signBytes)))
      return { signature: last.signature, timestamp: lastTime };
    throw new DoubleSignError('conflicting_data', `conflicting data at ${last.height}/${last.round}/${last.step}: refusing to sign`, {
      height: last.height,
      round: last.round,
      step: last.step,
    });
  }

  /** Durable before the signature is returned to anyone. */
  private persist(next: LastSignState): void {
    if (!this.log?.append(Buffer.from(JSON.stringify(signStateJson(next)), 'utf8'))) {
      writeFileAtomicSync(this.statePath, signStateToJson(next));
      this.fileState = next;
      this.log?.restart();
    }
    this.state = next;
  }
}
