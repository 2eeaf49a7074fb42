// The evidence gossip message: round trip, and malformed bytes refused as DecodeError (what the
// gossip validator counts against the peer).
import { describe, expect, test } from 'vitest';
import { DecodeError, ProtoWriter, encodeDuplicateVoteEvidence, encodeEvidence, toHex } from '../../src/codec/index.js';
import { sha256 } from '../../src/crypto/index.js';
import { evidenceHash } from '../../src/types/index.js';
import { evidenceKey } from '../../src/evidence/index.js';
import { decodeEvidenceMessage, encodeEvidenceMessage, topicsFor } from '../../src/p2p/index.js';
import { testKeys } from '../helpers/chain.js';
import { conflictingVotes } from './helpers.js';

const key = testKeys(1)[0]!;
const [voteA, voteB] = conflictingVotes('msg-chain', key, 0, 3, 0, 1);
const ev = { kind: 'duplicate_vote' as const, voteA, voteB, validatorPower: 10n, totalVotingPower: 40n, timestamp: { seconds: 1_700_000_003, nanos: 5 } };

describe('evidence_hash', () => {
  test("leaves are each evidence's DuplicateVoteEvidence protobuf (CometBFT's EvidenceList.Hash uses Bytes()), not the Evidence oneof", () => {
    const leaf = (b: Uint8Array): string => toHex(sha256(Uint8Array.of(0, ...b)));
    expect(toHex(evidenceHash([ev]))).toBe(leaf(encodeDuplicateVoteEvidence(ev)));
    expect(toHex(evidenceHash([ev]))).not.toBe(leaf(encodeEvidence(ev)));
    expect(toHex(evidenceHash([]))).toBe(toHex(sha256(new Uint8Array(0))));
  });
});

describe('evidence gossip message', () => {
  test('round-trips, and a re-send differs only in bytes', () => {
    const first = encodeEvidenceMessage(ev);
    const again = encodeEvidenceMessage(ev, 3);
    expect(toHex(first)).not.toBe(toHex(again));
    for (const m of [first, again]) expect(toHex(evidenceKey(decodeEvidenceMessage(Buffer.from(m))))).toBe(toHex(evidenceKey(ev)));
    expect(topicsFor('msg-chain').evidence).toBe('tally/msg-chain/evidence');
  });

  test('refuses empty messages, garbage, and evidence whose votes fail basic validation', () => {
    expect(() => decodeEvidenceMessage(new Uint8Array(0))).toThrow(DecodeError);
    expect(() => decodeEvidenceMessage(Uint8Array.of(0x0a, 0xff, 0x01))).toThrow(DecodeError);
    const badVote = { ...ev, voteB: { ...ev.voteB, validatorAddress: new Uint8Array(5) } };
    expect(() => decodeEvidenceMessage(new ProtoWriter().message(1, encodeEvidence(badVote)).finish())).toThrow(/vote_b/);
  });
});
