import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SignedMsgType, ZERO_BLOCK_ID, type Proposal, type Vote } from '../../src/codec/index.js';
import { PrivKey, nobleBackend, sha256 } from '../../src/crypto/index.js';
import { DoubleSignError, FileSigner, SignStep, SignerStateError } from '../../src/privval/index.js';
import { proposalSignBytes, voteExtensionSignBytes, voteSignBytes } from '../../src/types/vote.js';

const dir = mkdtempSync(join(tmpdir(), 'tally-privval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(dir, `state-${n++}.json`);

const key = PrivKey.fromSeed(sha256(new TextEncoder().encode('privval')));
const CHAIN = 'test-chain';
const blockA = { hash: sha256(new Uint8Array([1])), partSetHeader: { total: 1, hash: sha256(new Uint8Array([2])) } };
const blockB = { hash: sha256(new Uint8Array([3])), partSetHeader: { total: 1, hash: sha256(new Uint8Array([4])) } };

function vote(over: Partial<Vote> = {}): Vote {
  return {
    type: SignedMsgType.Prevote,
    height: 5,
    round: 0,
    blockId: blockA,
    timestamp: { seconds: 1000, nanos: 1 },
    validatorAddress: key.pubKey.address,
    validatorIndex: 0,
    signature: new Uint8Array(0),
    extension: new Uint8Array(0),
    extensionSignature: new Uint8Array(0),
    ...over,
  };
}

describe('file signer', () => {
  test('signs, and the signature verifies over the vote sign-bytes', () => {
    const s = FileSigner.open(key, freshPath());
    const v = s.signVote(CHAIN, vote(), false);
    expect(nobleBackend.verify(key.pubKey.bytes, voteSignBytes(CHAIN, v), v.signature)).toBe(true);
    expect(s.lastSignState).toMatchObject({ height: 5, round: 0, step: SignStep.Prevote });
  });

  test('the state is on disk before the signature is returned, and survives a reopen', () => {
    const path = freshPath();
    const s = FileSigner.open(key, path);
    const v = s.signVote(CHAIN, vote({ type: SignedMsgType.Precommit }), false);
    const onDisk = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(onDisk).toMatchObject({ height: '5', round: 0, step: 3, signature: Buffer.from(v.signature).toString('base64') });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // a restarted signer refuses what the first one would have refused
    const again = FileSigner.open(key, path);
    expect(() => again.signVote(CHAIN, vote({ type: SignedMsgType.Precommit, blockId: blockB }), false)).toThrow(DoubleSignError);
    expect(() => again.signVote(CHAIN, vote({ type: SignedMsgType.Prevote }), false)).toThrow(/step regression/);
  });

  test('refuses a different block at the same HRS, and regressions of height, round, step', () => {
    const s = FileSigner.open(key, freshPath());
    s.signVote(CHAIN, vote({ round: 2 }), false);
    const err = (() => {
      try {
        s.signVote(CHAIN, vote({ round: 2, blockId: blockB }), false);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DoubleSignError);
    expect((err as DoubleSignError).kind).toBe('conflicting_data');
    expect(() => s.signVote(CHAIN, vote({ round: 2, blockId: ZERO_BLOCK_ID }), false)).toThrow(/conflicting/);
    expect(() => s.signVote(CHAIN, vote({ round: 1 }), false)).toThrow(/round regression/);
    expect(() => s.signVote(CHAIN, vote({ height: 4, round: 9 }), false)).toThrow(/height regression/);
    // moving forward is fine
    expect(() => s.signVote(CHAIN, vote({ round: 2, type: SignedMsgType.Precommit }), false)).not.toThrow();
    expect(() => s.signVote(CHAIN, vote({ height: 6 }), false)).not.toThrow();
  });

  test('same HRS and block with only a new timestamp returns the stored signature and timestamp', () => {
    const s = FileSigner.open(key, freshPath());
    const first = s.signVote(CHAIN, vote(), false);
    const again = s.signVote(CHAIN, vote({ timestamp: { seconds: 2000, nanos: 0 } }), false);
    expect(again.signature).toEqual(first.signature);
    expect(again.timestamp).toEqual(first.timestamp);
    expect(nobleBackend.verify(key.pubKey.bytes, voteSignBytes(CHAIN, again), again.signature)).toBe(true);
  });

  test('proposals: same rules at the propose step', () => {
    const s = FileSigner.open(key, freshPath());
    const p: Proposal = { type: SignedMsgType.Proposal, height: 3, round: 1, polRound: -1, blockId: blockA, timestamp: { seconds: 10, nanos: 0 }, signature: new Uint8Array(0) };
    const signed = s.signProposal(CHAIN, p);
    expect(nobleBackend.verify(key.pubKey.bytes, proposalSignBytes(CHAIN, signed), signed.signature)).toBe(true);
    expect(s.signProposal(CHAIN, { ...p, timestamp: { seconds: 11, nanos: 0 } }).signature).toEqual(signed.signature);
    expect(() => s.signProposal(CHAIN, { ...p, blockId: blockB })).toThrow(/conflicting/);
    // prevote in the same round comes after propose
    expect(() => s.signVote(CHAIN, vote({ height: 3, round: 1 }), false)).not.toThrow();
    expect(() => s.signProposal(CHAIN, p)).toThrow(/step regression/);
  });

  test('vote extensions are signed for non-nil precommits only', () => {
    const s = FileSigner.open(key, freshPath());
    const ext = new Uint8Array([7, 7, 7]);
    const pc = s.signVote(CHAIN, vote({ type: SignedMsgType.Precommit, extension: ext }), true);
    expect(nobleBackend.verify(key.pubKey.bytes, voteExtensionSignBytes(CHAIN, pc), pc.extensionSignature)).toBe(true);
    const nil = s.signVote(CHAIN, vote({ type: SignedMsgType.Precommit, height: 6, blockId: ZERO_BLOCK_ID }), true);
    expect(nil.extensionSignature.length).toBe(0);
  });

  test('a malformed state file is refused with the path in the error', () => {
    const path = freshPath();
    writeFileSync(path, '{"height":"x"}');
    expect(() => FileSigner.open(key, path)).toThrow(SignerStateError);
    expect(() => FileSigner.open(key, path)).toThrow(path);
    writeFileSync(path, 'not json');
    expect(() => FileSigner.open(key, path)).toThrow(/invalid JSON/);
  });

  test('reads the CometBFT initial state file form', () => {
    const path = freshPath();
    writeFileSync(path, '{\n  "height": "0",\n  "round": 0,\n  "step": 0\n}');
    const s = FileSigner.open(key, path);
    expect(s.lastSignState.height).toBe(0);
    expect(() => s.signVote(CHAIN, vote({ height: 1 }), false)).not.toThrow();
  });
});

describe('audit log', () => {
  test('records every returned signature, re-signs included, one JSON line each', () => {
    const log = join(dir, `audit-${n++}.jsonl`);
    const s = FileSigner.open(key, freshPath(), { auditLogPath: log });
    const a = s.signVote(CHAIN, vote(), false);
    const again = s.signVote(CHAIN, vote({ timestamp: { seconds: 5000, nanos: 0 } }), false);
    s.signVote(CHAIN, vote({ type: SignedMsgType.Precommit }), false);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { height: number; round: number; step: number; sign_bytes: string; signature: string });
    expect(lines.map((l) => l.step)).toEqual([SignStep.Prevote, SignStep.Prevote, SignStep.Precommit]);
    expect(lines[0]!.signature).toBe(Buffer.from(a.signature).toString('base64'));
    expect(lines[1]).toEqual(lines[0]); // the re-sign returned the same bytes and signature
    expect(again.signature).toEqual(a.signature);
  });
});

describe('interrupted state writes', () => {
  test('a write torn before its rename leaves the previous state intact and usable', () => {
    const path = freshPath();
    const s = FileSigner.open(key, path);
    const first = s.signVote(CHAIN, vote(), false);
    // what a crash mid-write leaves: a partial temp file beside the real one, never the real one torn
    const base = path.split('/').pop()!;
    writeFileSync(join(dir, `.${base}.99999.deadbeef.tmp`), '{"height":"5","rou');
    const reopened = FileSigner.open(key, path);
    expect(reopened.lastSignState.height).toBe(5);
    expect(reopened.signVote(CHAIN, vote({ timestamp: { seconds: 7, nanos: 0 } }), false).signature).toEqual(first.signature);
    expect(() => reopened.signVote(CHAIN, vote({ blockId: blockB }), false)).toThrow(DoubleSignError);
  });
});

describe('file signer with a state log', () => {
  const open = (path: string): FileSigner => FileSigner.open(key, path, { stateLogPath: `${path}.log` });
  const stateFile = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

  test('each signature is durable in the log: a reopen (without close, as after kill -9) has the newest state', () => {
    const path = freshPath();
    const s = open(path);
    for (let h = 1; h <= 5; h++) s.signVote(CHAIN, vote({ height: h, type: SignedMsgType.Precommit }), false);
    // the state file was not rewritten per signature
    expect(stateFile(path)).toMatchObject({ height: '0' });
    const again = open(path);
    expect(again.lastSignState).toMatchObject({ height: 5, round: 0, step: SignStep.Precommit });
    expect(() => again.signVote(CHAIN, vote({ height: 5, type: SignedMsgType.Precommit, blockId: blockB }), false)).toThrow(DoubleSignError);
    expect(() => again.signVote(CHAIN, vote({ height: 4 }), false)).toThrow(/height regression/);
    // opening brought the state file up to date
    expect(stateFile(path)).toMatchObject({ height: '5', step: 3 });
  });

  test('close brings the state file up to date', () => {
    const path = freshPath();
    const s = open(path);
    const v = s.signVote(CHAIN, vote({ height: 9 }), false);
    s.close();
    expect(stateFile(path)).toMatchObject({ height: '9', step: 2, signature: Buffer.from(v.signature).toString('base64') });
    expect(FileSigner.open(key, path).lastSignState).toMatchObject({ height: 9, step: SignStep.Prevote });
  });

  test('a full log hands over to the state file and starts again; records of the earlier pass never win', () => {
    const path = freshPath();
    const s = open(path);
    // ~500-byte records in a 64 KiB log: several passes
    for (let h = 1; h <= 400; h++) s.signVote(CHAIN, vote({ height: h }), false);
    expect(Number(stateFile(path).height)).toBeGreaterThan(100); // replaced at least once when full
    const again = open(path);
    expect(again.lastSignState).toMatchObject({ height: 400, step: SignStep.Prevote });
    expect(() => again.signVote(CHAIN, vote({ height: 399 }), false)).toThrow(/height regression/);
  });

  test('a torn last record is ignored: the state before it is restored, and signing goes on', () => {
    const path = freshPath();
    const s = open(path);
    s.signVote(CHAIN, vote({ height: 7 }), false);
    s.signVote(CHAIN, vote({ height: 8 }), false);
    const log = readFileSync(`${path}.log`);
    const firstLen = log.readUInt32BE(4);
    const second = 8 + firstLen;
    const secondLen = log.readUInt32BE(second + 4);
    // a crash mid-write: half of the second record's bytes never reached the disk
    log.fill(0, second + 8 + Math.floor(secondLen / 2), second + 8 + secondLen);
    writeFileSync(`${path}.log`, log);
    const again = open(path);
    expect(again.lastSignState).toMatchObject({ height: 7, step: SignStep.Prevote });
    expect(again.signVote(CHAIN, vote({ height: 8, round: 1 }), false).signature.length).toBe(64);
    expect(open(path).lastSignState).toMatchObject({ height: 8, round: 1 });
  });
});
