// Real libp2p hosts on 127.0.0.1 in one process: persistent-peer dialing (and redialing a peer
// that comes up late), gossip of votes, chunked proposals and batched txs across a line of
// three hosts (so the far one gets them only by forwarding), malformed messages dropped and
// counted, the commit request/response protocol, and the inbound peer limit.
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, describe, expect, test } from 'vitest';
import { SignedMsgType, type Proposal, type Vote } from '../../src/codec/index.js';
import { CommitProtocol, Gossip, P2PError, P2PHost, encodeVoteMessage, gossipsubOptions, type CommitResponse, type HostOptions, type ProposalMessage } from '../../src/p2p/index.js';
import { partsFromBytes } from '../../src/types/index.js';
import { makeBlock } from '../store/fixtures.js';
import { freePorts } from './ports.js';
import { until, vote } from './fixtures.js';

const CHAIN = 'p2p-test-chain';
const hosts: P2PHost[] = [];
const gossips: Gossip[] = [];

afterEach(async () => {
  for (const g of gossips.splice(0)) g.stop();
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

async function makeHost(key: PrivateKey, opts: Partial<HostOptions> = {}, start = true): Promise<P2PHost> {
  const h = new P2PHost({ listen: ['/ip4/127.0.0.1/tcp/0'], redialBaseMs: 100, redialMaxMs: 500, gossipsub: gossipsubOptions(CHAIN), ...opts }, { privateKey: key });
  hosts.push(h);
  if (start) await h.start();
  return h;
}


const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);


interface Inbox {
  votes: { v: Vote; from: string }[];
  proposals: { m: ProposalMessage; from: string }[];
  txs: { tx: Uint8Array; from: string }[];
  txMessages: number;
}

function gossipOn(host: P2PHost): { gossip: Gossip; inbox: Inbox } {
  const gossip = new Gossip({ chainId: CHAIN, maxTxBytes: 1024 * 1024, txFlushMs: 5 }, { host });
  gossips.push(gossip);
  const inbox: Inbox = { votes: [], proposals: [], txs: [], txMessages: 0 };
  gossip.start({
    onVote: (v, from) => inbox.votes.push({ v, from }),
    onProposal: (m, from) => inbox.proposals.push({ m, from }),
    onTxs: (txs, from) => {
      inbox.txMessages++;
      for (const tx of txs) inbox.txs.push({ tx, from });
    },
  });
  return { gossip, inbox };
}

describe('p2p host', () => {
  test('dials its persistent peers, redials one that comes up late, and stops cleanly', async () => {
    const [ka, kb] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]);
    const port = await freePort();
    const aPeer = peerIdFromPrivateKey(ka).toString();
    const aAddr = `/ip4/127.0.0.1/tcp/${port}/p2p/${aPeer}`;
    // B starts first: its dials to A fail until A listens
    const b = await makeHost(kb, { persistentPeers: [aAddr] });
    await new Promise((r) => setTimeout(r, 300));
    expect(b.peers()).toEqual([]);
    const a = await makeHost(ka, { listen: [`/ip4/127.0.0.1/tcp/${port}`] });
    await until('B to reach A', () => b.peers().some((p) => p.id === aPeer));
    await until('A to see B', () => a.peers().some((p) => p.id === b.peerId.toString()));
    expect(b.peers().find((p) => p.id === aPeer)?.outbound).toBe(true);
    // A goes away and comes back on the same port: B redials
    await a.stop();
    await until('B to see A gone', () => b.peers().length === 0);
    const a2 = await makeHost(ka, { listen: [`/ip4/127.0.0.1/tcp/${port}`] });
    await until('B to redial A', () => b.peers().some((p) => p.id === aPeer));
    await until('A to see B again', () => a2.peers().length === 1);
  });

  test('a listen address in use is a typed error, and nothing of the failed host lingers', async () => {
    const [ka, kb] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]);
    const a = await makeHost(ka);
    const taken = a.addresses()[0]!.replace(/\/p2p\/.*$/, '');
    const b = new P2PHost({ listen: [taken], gossipsub: gossipsubOptions(CHAIN) }, { privateKey: kb });
    const err = await b.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(P2PError);
    expect((err as P2PError).kind).toBe('listen');
    expect((err as P2PError).message).toMatch(/address already in use/);
    expect(b.isRunning).toBe(false);
    await b.stop(); // a no-op, and no open handle keeps the test process alive
  });

  test('rejects a persistent peer without a peer id', async () => {
    const k = await generateKeyPair('Ed25519');
    expect(() => new P2PHost({ listen: ['/ip4/127.0.0.1/tcp/0'], persistentPeers: ['/ip4/127.0.0.1/tcp/1234'] }, { privateKey: k })).toThrow(P2PError);
  });

  test('refuses inbound peers beyond max_num_inbound_peers, but not persistent or unconditional ones', async () => {
    const [ka, kb, kc, kd, ke] = await Promise.all([1, 2, 3, 4, 5].map(() => generateKeyPair('Ed25519')));
    const dId = peerIdFromPrivateKey(kd!).toString();
    const eId = peerIdFromPrivateKey(ke!).toString();
    const a = await makeHost(ka!, { maxInboundPeers: 1 });
    const aAddr = a.addresses()[0]!;
    // A lists D as persistent (at an address where nothing listens): D may connect despite the limit
    hosts.pop();
    await a.stop();
    const a2 = await makeHost(ka!, { maxInboundPeers: 1, listen: [aAddr.replace(/\/p2p\/.*$/, '')], persistentPeers: [`/ip4/127.0.0.1/tcp/1/p2p/${dId}`], unconditionalPeers: [eId] });
    const b = await makeHost(kb!, { persistentPeers: [aAddr] });
    await until('B to connect', () => a2.peers().some((p) => p.id === b.peerId.toString()));
    const c = await makeHost(kc!, { persistentPeers: [aAddr] });
    await new Promise((r) => setTimeout(r, 700));
    expect(a2.peers().some((p) => p.id === c.peerId.toString())).toBe(false);
    const d = await makeHost(kd!, { persistentPeers: [aAddr] });
    await until('persistent D to connect', () => a2.peers().some((p) => p.id === d.peerId.toString()));
    // E is p2p.unconditional_peer_ids on A: let in beyond the limit too
    const e = await makeHost(ke!, { persistentPeers: [aAddr] });
    await until('unconditional E to connect', () => a2.peers().some((p) => p.id === e.peerId.toString()));
  });
});

describe('gossip between three hosts in a line (B — A — C)', () => {
  async function line(): Promise<{ a: P2PHost; b: P2PHost; c: P2PHost; ga: ReturnType<typeof gossipOn>; gb: ReturnType<typeof gossipOn>; gc: ReturnType<typeof gossipOn> }> {
    const [ka, kb, kc] = await Promise.all([1, 2, 3].map(() => generateKeyPair('Ed25519')));
    const a = await makeHost(ka!);
    const b = await makeHost(kb!, { persistentPeers: [a.addresses()[0]!] });
    const c = await makeHost(kc!, { persistentPeers: [a.addresses()[0]!] });
    const ga = gossipOn(a);
    const gb = gossipOn(b);
    const gc = gossipOn(c);
    // A forwards only to its mesh, which forms at a heartbeat after the subscriptions arrive
    await until('subscriptions', () => ga.gossip.subscribers().length === 2 && gb.gossip.subscribers().length === 1 && gc.gossip.subscribers().length === 1);
    const mesh = a.pubsub as unknown as { getMeshPeers(topic: string): string[] }; // on the implementation, not the interface
    await until('A’s mesh', () => [ga.gossip.topics.vote, ga.gossip.topics.tx, ga.gossip.topics.proposal].every((t) => mesh.getMeshPeers(t).length === 2));
    return { a, b, c, ga, gb, gc };
  }

  test('votes, chunked proposals and batched txs reach every host, with the forwarding peer as sender', async () => {
    const { a, b, ga, gb, gc } = await line();

    gb.gossip.publishVote(vote(5, 1));
    await until('the vote at A and C', () => ga.inbox.votes.length === 1 && gc.inbox.votes.length === 1);
    expect(ga.inbox.votes[0]!.v).toEqual(vote(5, 1));
    expect(ga.inbox.votes[0]!.from).toBe(b.peerId.toString());
    expect(gc.inbox.votes[0]!.from).toBe(a.peerId.toString()); // C heard it from A
    expect(gb.inbox.votes).toEqual([]); // not delivered back to its publisher

    // a 2.5 MiB "block": 40 parts of 64 KiB in three chunks of at most 1 MiB
    const { header, parts } = partsFromBytes(bytes(40 * 65536, 9));
    const proposal: Proposal = {
      type: SignedMsgType.Proposal,
      height: 5,
      round: 0,
      polRound: -1,
      blockId: { hash: bytes(32, 3), partSetHeader: header },
      timestamp: { seconds: 1_700_000_000, nanos: 0 },
      signature: bytes(64, 8),
    };
    gb.gossip.publishProposal(proposal, parts);
    const allParts = (box: Inbox): number => box.proposals.reduce((n, p) => n + p.m.parts.length, 0);
    await until('the proposal at C', () => allParts(gc.inbox) === 40, 15_000);
    expect(gc.inbox.proposals.length).toBeGreaterThanOrEqual(3);
    expect(gc.inbox.proposals.filter((p) => p.m.proposal !== null)).toHaveLength(1);
    expect(gc.inbox.proposals[0]!.m.proposal).toEqual(proposal);
    expect(gc.inbox.proposals.flatMap((p) => p.m.parts.map((x) => x.index)).sort((x, y) => x - y)).toEqual([...Array(40).keys()]);

    // a tx after a quiet spell is published at once, not after the batching window
    await new Promise((r) => setTimeout(r, 20));
    const batchesBefore = gb.gossip.stats.published.txBatches;
    gb.gossip.publishTx(new TextEncoder().encode('lone=tx'));
    expect(gb.gossip.stats.published.txBatches).toBe(batchesBefore + 1);
    await until('the lone tx at C', () => gc.inbox.txs.length === 1);
    gc.inbox.txs.length = 0;
    gc.inbox.txMessages = 0;

    // 500 txs published in one burst arrive in a handful of batches
    const txs = Array.from({ length: 500 }, (_, i) => new TextEncoder().encode(`tx-${i}=${'v'.repeat(i % 50)}`));
    for (const tx of txs) gb.gossip.publishTx(tx);
    await until('the txs at C', () => gc.inbox.txs.length === 500);
    expect(gc.inbox.txs.map((t) => new TextDecoder().decode(t.tx))).toEqual(txs.map((t) => new TextDecoder().decode(t)));
    expect(gc.inbox.txMessages).toBeLessThan(10);
    expect(ga.inbox.txs.every((t) => t.from === b.peerId.toString())).toBe(true);
  });

  test('a malformed message is dropped, not forwarded, and counted against its sender', async () => {
    const { a, b, ga, gb, gc } = await line();
    // raw garbage, a truncated vote, and a vote failing validation (no signature)
    await b.pubsub.publish(gb.gossip.topics.vote, Uint8Array.of(0xff, 0xff, 0xff));
    await b.pubsub.publish(gb.gossip.topics.proposal, Uint8Array.of(0x0a, 0x05, 0x01));
    await b.pubsub.publish(gb.gossip.topics.vote, encodeVoteMessage({ ...vote(3, 0), signature: new Uint8Array(0) }));
    await b.pubsub.publish(gb.gossip.topics.tx, Uint8Array.of(0x0a, 0x00));
    await until('4 bad messages counted at A', () => ga.gossip.badMessages(b.peerId.toString()) === 4);
    // the gossip goes on: a good vote still arrives, and C never saw the bad ones
    gb.gossip.publishVote(vote(4, 2));
    await until('the good vote at C', () => gc.inbox.votes.length === 1);
    expect(ga.inbox.votes.map((x) => x.v.height)).toEqual([4]);
    expect(ga.inbox.proposals).toEqual([]);
    expect(ga.inbox.txs).toEqual([]);
    expect(gc.gossip.badMessages(a.peerId.toString())).toBe(0);
    expect(gc.gossip.stats.rejected).toBe(0);
  });
});

describe('commit request/response', () => {
  test('serves a stored height and says so when a height is not stored', async () => {
    const [ka, kb] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]);
    const a = await makeHost(ka);
    const b = await makeHost(kb, { persistentPeers: [a.addresses()[0]!] });
    await until('B to reach A', () => b.peers().length === 1);
    const b2 = makeBlock(2, makeBlock(1, undefined));
    const stored: CommitResponse = { block: b2.block, commit: b2.seenCommit };
    const served: number[] = [];
    const pa = new CommitProtocol({ chainId: CHAIN }, { host: a, source: { load: async (h) => (served.push(h), h === 2 ? stored : null) } });
    const pb = new CommitProtocol({ chainId: CHAIN, timeoutMs: 2000 }, { host: b, source: { load: async () => null } });
    await pa.start();
    await pb.start();
    const got = await pb.request(a.peerId.toString(), 2);
    expect(got?.block).toEqual(stored.block);
    expect(got?.commit).toEqual(stored.commit);
    expect(await pb.request(a.peerId.toString(), 7)).toBeNull();
    expect(served).toEqual([2, 7]);
    // a peer that does not speak the protocol: a typed error, not a hang
    await pa.stop();
    await expect(pb.request(a.peerId.toString(), 2)).rejects.toThrow(P2PError);
    await pb.stop();
  });
});
