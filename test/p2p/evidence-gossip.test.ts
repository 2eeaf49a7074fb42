// Gossiped evidence is verified before gossipsub forwards it: invalid evidence costs its sender
// score and goes no further; valid evidence is delivered and forwarded; evidence this node cannot
// judge (behind, expired, committed) is neither forwarded nor blamed.
import { generateKeyPair } from '@libp2p/crypto/keys';
import { afterEach, describe, expect, test } from 'vitest';
import type { Evidence } from '../../src/codec/index.js';
import { P2PHost } from '../../src/p2p/host.js';
import { Gossip, gossipsubOptions, type SignatureVerdict } from '../../src/p2p/index.js';
import { testKeys } from '../helpers/chain.js';
import { conflictingVotes } from '../evidence/helpers.js';
import { until } from './fixtures.js';

const CHAIN = 'evidence-gossip';
const hosts: P2PHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.stop();
});

interface Node {
  host: P2PHost;
  gossip: Gossip;
  got: Evidence[];
}

async function node(check: SignatureVerdict | null, persistentPeers: string[] = []): Promise<Node> {
  const host = new P2PHost({ listen: ['/ip4/127.0.0.1/tcp/0'], persistentPeers, gossipsub: gossipsubOptions(CHAIN) }, { privateKey: await generateKeyPair('Ed25519') });
  await host.start();
  hosts.push(host);
  const gossip = new Gossip({ chainId: CHAIN, maxTxBytes: 1024 }, { host });
  const n: Node = { host, gossip, got: [] };
  gossip.start({ onEvidence: (e) => n.got.push(e), ...(check ? { checkEvidence: async () => check } : {}) });
  return n;
}

function evidence(height: number): Evidence {
  const [voteA, voteB] = conflictingVotes(CHAIN, testKeys(1)[0]!, 0, height, 0, 1);
  return { kind: 'duplicate_vote', voteA, voteB, totalVotingPower: 10n, validatorPower: 10n, timestamp: { seconds: 1_700_000_000, nanos: 0 } };
}

/** A — B — C, each gossiping evidence; B judges what A sends as `verdict`. */
async function line(verdict: SignatureVerdict): Promise<[Node, Node, Node]> {
  const a = await node(null);
  const b = await node(verdict, [a.host.addresses()[0]!]);
  const c = await node(null, [b.host.addresses()[0]!]);
  await until('the line meshed', () => a.gossip.subscribers().length === 1 && b.gossip.subscribers().length === 2 && c.gossip.subscribers().length === 1);
  // B forwards to its mesh, which gossipsub forms at a heartbeat
  const mesh = (n: Node): string[] => (n.host.pubsub as unknown as { getMeshPeers(topic: string): string[] }).getMeshPeers(n.gossip.topics.evidence);
  await until('B meshed with A and C', () => mesh(b).length === 2);
  return [a, b, c];
}

describe('evidence over gossip', () => {
  test('valid evidence is delivered and forwarded', async () => {
    const [a, b, c] = await line('valid');
    a.gossip.publishEvidence(evidence(5));
    await until('the evidence at B and C', () => b.got.length === 1 && c.got.length === 1);
    expect(b.host.scores.score(a.host.peerId.toString())).toBe(0);
  });

  test('invalid evidence costs its sender score and is not forwarded', async () => {
    const [a, b, c] = await line('invalid');
    a.gossip.publishEvidence(evidence(6));
    await until('A penalized by B', () => b.host.scores.score(a.host.peerId.toString()) < 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(b.got).toEqual([]);
    expect(c.got).toEqual([]);
  });

  test('evidence B cannot judge is neither forwarded nor blamed', async () => {
    const [a, b, c] = await line('unknown');
    a.gossip.publishEvidence(evidence(7));
    await until('B has judged it', () => b.gossip.stats.unforwarded === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(c.got).toEqual([]);
    expect(b.host.scores.score(a.host.peerId.toString())).toBe(0);
  });
});
