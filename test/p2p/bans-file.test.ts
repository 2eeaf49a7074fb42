// Peer bans kept across a restart: a ban lasts its whole duration, not until the process ends.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { afterAll, describe, expect, test } from 'vitest';
import { P2PHost, PeerScores, loadBans, saveBans, type Ban } from '../../src/p2p/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tally-bans-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PEER = '12D3KooWGRYZDHBembyGJQqQ6WgLqJWYNjnECWGJZ6fjG6Pw5Vj5';
const OTHER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';

describe('the bans file', () => {
  test('round-trips bans; skips malformed entries; moves an unreadable file aside', () => {
    const path = join(dir, 'round-trip.json');
    const bans: Ban[] = [
      { peer: PEER, reason: 'invalid_signature', since: 1_000, until: 3_601_000, score: -150 },
      { peer: OTHER, reason: 'flood', since: 2_000, until: 5_000, score: -100.5 },
    ];
    saveBans(path, bans);
    expect(loadBans(path)).toEqual({ bans, skipped: 0 });

    const doc = JSON.parse(readFileSync(path, 'utf8')) as { bans: unknown[] };
    doc.bans.push({ peer: PEER, reason: 'not-an-offence', since: 1, until: 2, score: -1 }, { peer: PEER, reason: 'flood', since: 5, until: 4, score: -1 }, 'junk');
    writeFileSync(path, JSON.stringify(doc));
    expect(loadBans(path)).toEqual({ bans, skipped: 3 });

    writeFileSync(path, '{ not json');
    const broken = loadBans(path);
    expect(broken.bans).toEqual([]);
    expect(broken.movedAside?.to).toMatch(/round-trip\.json\.unreadable-\d+$/);
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).some((f) => f.startsWith('round-trip.json.unreadable-'))).toBe(true);
  });

  test('restored bans hold until they end; one already over is dropped', () => {
    let now = 10_000;
    const scores = new PeerScores({}, { now: () => now });
    const held = scores.restore([
      { peer: PEER, reason: 'undecodable', since: 0, until: 20_000, score: -100 },
      { peer: OTHER, reason: 'flood', since: 0, until: 9_999, score: -100 },
    ]);
    expect(held).toBe(1);
    expect(scores.isBanned(PEER)).toBe(true);
    expect(scores.isBanned(OTHER)).toBe(false);
    now = 20_000;
    expect(scores.isBanned(PEER)).toBe(false);
  });

  test('a host saves each ban, and a host started later on the same file refuses that peer until the ban ends', async () => {
    const path = join(dir, 'host.json');
    let now = 1_000_000;
    const clock = (): number => now;
    const privateKey = await generateKeyPair('Ed25519');
    const opts = { listen: ['/ip4/127.0.0.1/tcp/0'], bansFile: path, scores: { banDurationMs: 60_000 } };
    const first = new P2PHost(opts, { privateKey, now: clock });
    first.ban(PEER, 'invalid_signature', 'test');
    expect(loadBans(path).bans.map((b) => [b.peer, b.until])).toEqual([[PEER, 1_060_000]]);

    now += 30_000; // a restart half-way through the ban
    const second = new P2PHost(opts, { privateKey, now: clock });
    expect(second.isBanned(PEER)).toBe(true);
    expect(second.isBanned(OTHER)).toBe(false);

    now += 30_000; // the ban's end
    expect(second.isBanned(PEER)).toBe(false);
    expect(new P2PHost(opts, { privateKey, now: clock }).isBanned(PEER)).toBe(false);
  });
});
