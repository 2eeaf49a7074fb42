// Topology-aware forwarding (src/p2p/neighbors.ts): the rule on random graphs (everyone gets
// every message; a full mesh forwards nothing), the neighbor-list wire format, and real libp2p
// hosts exchanging lists and gossiping over a full mesh, a line, and a triangle with a tail.
import { generateKeyPair } from '@libp2p/crypto/keys';
import { lpStream } from '@libp2p/utils';
import { afterEach, describe, expect, test } from 'vitest';
import type { Vote } from '../../src/codec/index.js';
import {
  Gossip,
  MAX_NEIGHBORS,
  NeighborExchange,
  NeighborTable,
  P2PHost,
  decodeNeighbors,
  encodeNeighbors,
  gossipsubOptions,
  pruneForwards,
} from '../../src/p2p/index.js';
import { prng } from '../helpers/prng.js';
import { until, vote } from './fixtures.js';

const CHAIN = 'neighbors-test-chain';

// ---- the rule on random graphs ----------------------------------------------------------------

/** A connected random graph: a random spanning tree plus each other edge with probability p. */
function randomGraph(n: number, p: number, rand: () => number): Map<string, Set<string>> {
  const g = new Map<string, Set<string>>();
  const id = (i: number): string => `n${i}`;
  for (let i = 0; i < n; i++) g.set(id(i), new Set());
  const link = (a: string, b: string): void => {
    g.get(a)!.add(b);
    g.get(b)!.add(a);
  };
  for (let i = 1; i < n; i++) link(id(i), id(Math.floor(rand() * i)));
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (rand() < p) link(id(i), id(j));
  return g;
}

/**
 * Floods one message from `origin` the way gossip does with the rule: the origin sends to all its
 * peers; a node that receives it for the first time forwards to its peers except the sender,
 * pruned by the sender's neighbors. Returns who got it and how many sends there were.
 */
function flood(g: Map<string, Set<string>>, origin: string): { got: Set<string>; sends: number } {
  const table = new NeighborTable();
  for (const [node, peers] of g) table.set(node, peers);
  const got = new Set([origin]);
  let sends = 0;
  const queue: { to: string; from: string }[] = [...g.get(origin)!].map((to) => ({ to, from: origin }));
  sends += queue.length;
  while (queue.length > 0) {
    const { to, from } = queue.shift()!;
    if (got.has(to)) continue;
    got.add(to);
    const targets = new Set([...g.get(to)!].filter((q) => q !== from));
    pruneForwards(targets, from, table);
    for (const q of targets) queue.push({ to: q, from: to });
    sends += targets.size;
  }
  return { got, sends };
}

describe('the forwarding rule', () => {
  test('on random connected graphs every node gets every message', () => {
    const base = Number(process.env.SEED ?? 20261122);
    for (let k = 0; k < 300; k++) {
      const seed = base + k;
      const rand = prng(seed);
      const n = 2 + Math.floor(rand() * 30);
      const g = randomGraph(n, rand() * 0.5, rand);
      for (const origin of g.keys()) {
        const { got } = flood(g, origin);
        expect(got.size, `seed ${seed}: a message from ${origin} reached ${got.size} of ${n} nodes`).toBe(n);
      }
    }
  });

  test('in a full mesh nobody forwards: one copy per peer', () => {
    for (const n of [2, 4, 7, 20]) {
      const g = randomGraph(n, 1, prng(n));
      const { got, sends } = flood(g, 'n0');
      expect(got.size).toBe(n);
      expect(sends).toBe(n - 1);
    }
  });

  test('a peer whose list is unknown is always forwarded to', () => {
    const table = new NeighborTable();
    table.set('q1', ['s']);
    const targets = new Set(['q1', 'q2']);
    expect(pruneForwards(targets, 's', table)).toBe(1);
    expect([...targets]).toEqual(['q2']);
    table.delete('q1');
    const again = new Set(['q1']);
    expect(pruneForwards(again, 's', table)).toBe(0);
  });
});

// ---- wire format ----------------------------------------------------------------------------

describe('neighbor lists on the wire', () => {
  const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  /** A distinct peer-id-shaped string per i. */
  const id = (i: number): string => {
    let s = '';
    for (let k = 0; k < 4; k++, i = Math.floor(i / 58)) s += B58[i % 58];
    return `12D3KooW${'A'.repeat(40)}${s}`;
  };

  test('round trip, de-duplicated; an empty list is still a message', () => {
    expect(decodeNeighbors(encodeNeighbors([id(1), id(2), id(1)]))).toEqual([id(1), id(2)]);
    expect(encodeNeighbors([]).length).toBeGreaterThan(0);
    expect(decodeNeighbors(encodeNeighbors([]))).toEqual([]);
  });

  test('malformed lists are refused with a reason', () => {
    expect(() => decodeNeighbors(new Uint8Array(0))).toThrow(/not a neighbor list/);
    expect(() => decodeNeighbors(Uint8Array.of(0xff, 0xff))).toThrow(/Neighbors/);
    expect(() => decodeNeighbors(encodeNeighbors(['not a peer id!']))).toThrow(/is not a peer id/);
    const tooMany = Array.from({ length: MAX_NEIGHBORS + 1 }, (_, i) => id(i));
    // the encoder never writes more than the limit; a hand-made list that does is refused
    expect(decodeNeighbors(encodeNeighbors(tooMany))).toHaveLength(MAX_NEIGHBORS);
    const w: number[] = [];
    for (const p of tooMany) w.push(0x0a, p.length, ...new TextEncoder().encode(p));
    w.push(0x10, 0x01);
    expect(() => decodeNeighbors(Uint8Array.from(w))).toThrow(new RegExp(`more than ${MAX_NEIGHBORS} peers`));
  });
});

// ---- real hosts -------------------------------------------------------------------------------

interface Node {
  host: P2PHost;
  gossip: Gossip;
  neighbors: NeighborExchange;
  votes: { v: Vote; from: string }[];
  txs: Uint8Array[][];
}

const nodes: Node[] = [];

afterEach(async () => {
  for (const n of nodes.splice(0)) {
    n.gossip.stop();
    await n.neighbors.stop();
    await n.host.stop();
  }
});

async function node(persistentPeers: string[] = [], beforeStart?: (host: P2PHost) => Promise<void>): Promise<Node> {
  const host = new P2PHost({ listen: ['/ip4/127.0.0.1/tcp/0'], persistentPeers, redialBaseMs: 100, redialMaxMs: 500, gossipsub: gossipsubOptions(CHAIN) }, { privateKey: await generateKeyPair('Ed25519') });
  await host.start();
  await beforeStart?.(host);
  const neighbors = new NeighborExchange({ chainId: CHAIN, debounceMs: 20 }, { host });
  const gossip = new Gossip({ chainId: CHAIN, maxTxBytes: 1024 }, { host, neighbors: neighbors.table });
  const n: Node = { host, gossip, neighbors, votes: [], txs: [] };
  nodes.push(n);
  await neighbors.start();
  gossip.start({ onVote: (v, from) => n.votes.push({ v, from }), onTxs: (t) => n.txs.push(t) });
  return n;
}



const idOf = (n: Node): string => n.host.peerId.toString();
const connectedTo = (n: Node): string[] => n.host.peers().map((p) => p.id).sort();

/** Every node (each connected by now) knows each peer's current list, and gossipsub's vote mesh holds all its peers. */
async function settled(all: Node[]): Promise<void> {
  await until('neighbor lists and meshes', () =>
    all.every((n) => {
      const peers = connectedTo(n);
      if (peers.length === 0) return false;
      const mesh = (n.host.pubsub as unknown as { getMeshPeers(topic: string): string[] }).getMeshPeers(n.gossip.topics.vote);
      if (mesh.length !== peers.length || n.gossip.subscribers().length !== peers.length) return false;
      return peers.every((p) => {
        const other = all.find((x) => idOf(x) === p);
        return other !== undefined && connectedTo(other).every((q) => n.neighbors.table.reports(p, q)) && connectedTo(other).length > 0;
      });
    }),
  );
}

describe('hosts exchanging neighbor lists', () => {
  test('in a full mesh of four, each vote arrives once per node and is never forwarded', async () => {
    const a = await node();
    const addr = a.host.addresses()[0]!;
    const b = await node([addr]);
    const c = await node([addr, b.host.addresses()[0]!]);
    const d = await node([addr, b.host.addresses()[0]!, c.host.addresses()[0]!]);
    const all = [a, b, c, d];
    await until('a full mesh', () => all.every((n) => n.host.peers().length === 3));
    await settled(all);
    for (const n of all) expect(n.neighbors.table.size).toBe(3);

    all.forEach((n, i) => n.gossip.publishVote(vote(7, i)));
    await until('every vote at every other node', () => all.every((n) => n.votes.length === 3));
    // let any forwarded copy arrive before counting
    await new Promise((r) => setTimeout(r, 200));
    for (const n of all) {
      expect(n.votes.map((x) => x.v.validatorIndex).sort()).toEqual([0, 1, 2, 3].filter((i) => i !== all.indexOf(n)));
      // each vote came straight from its publisher
      for (const x of n.votes) expect(x.from).toBe(idOf(all[x.v.validatorIndex]!));
      expect(n.gossip.stats.forwarded).toBe(0);
      // gossipsub chose both other mesh peers for each of the 3 votes; the rule dropped them
      expect(n.gossip.stats.forwardsSkipped).toBe(6);
    }

    // a message of 512 bytes or more: no IDONTWANT goes out, as nobody would forward it anyway
    const meshOf = (n: Node): string[] => (n.host.pubsub as unknown as { getMeshPeers(topic: string): string[] }).getMeshPeers(n.gossip.topics.tx);
    await until('the tx meshes', () => all.every((n) => meshOf(n).length === 3));
    a.gossip.publishTx(new Uint8Array(600).fill(7));
    a.gossip.flushTxs();
    await until('the tx batch at the three others', () => [b, c, d].every((n) => n.txs.length === 1));
    for (const n of [b, c, d]) expect(n.gossip.stats.idontwantsSkipped).toBe(1);
  });

  test('in a line (A — B — C) the middle node still forwards, and a triangle with a tail (A, B, C meshed; D on C) reaches the tail', async () => {
    const a = await node();
    const b = await node([a.host.addresses()[0]!]);
    const c = await node([b.host.addresses()[0]!]);
    await until('the line', () => b.host.peers().length === 2 && a.host.peers().length === 1 && c.host.peers().length === 1);
    await settled([a, b, c]);
    a.gossip.publishVote(vote(3, 0));
    await until('A’s vote at C', () => c.votes.length === 1);
    expect(c.votes[0]!.from).toBe(idOf(b));
    expect(b.gossip.stats.forwarded).toBe(1);
    expect(b.gossip.stats.forwardsSkipped).toBe(0);

    // close the triangle and hang D off C
    await a.host.dial(c.host.addresses()[0]!);
    const d = await node([c.host.addresses()[0]!]);
    const all = [a, b, c, d];
    await until('the triangle with a tail', () => a.host.peers().length === 2 && b.host.peers().length === 2 && c.host.peers().length === 3 && d.host.peers().length === 1);
    await settled(all);
    for (const n of all) n.votes.length = 0;
    const before = all.map((n) => ({ forwarded: n.gossip.stats.forwarded, skipped: n.gossip.stats.forwardsSkipped }));
    b.gossip.publishVote(vote(4, 1));
    await until('B’s vote everywhere', () => a.votes.length === 1 && c.votes.length === 1 && d.votes.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(d.votes[0]!.from).toBe(idOf(c));
    // C forwarded to D only (A is B's neighbor); A forwarded nothing (C is B's neighbor)
    expect(c.gossip.stats.forwarded - before[2]!.forwarded).toBe(1);
    expect(c.gossip.stats.forwardsSkipped - before[2]!.skipped).toBe(1);
    expect(a.gossip.stats.forwarded - before[0]!.forwarded).toBe(0);
    expect(a.gossip.stats.forwardsSkipped - before[0]!.skipped).toBe(1);
  });

  test('a node whose exchange starts after its peers were identified still exchanges lists', async () => {
    const a = await node();
    // B is connected to A and identified before B's exchange starts (and before B serves it)
    const b = await node([a.host.addresses()[0]!], (host) => until('B identified by A', () => host.peers().length === 1 && a.host.peers().length === 1).then(() => new Promise((r) => setTimeout(r, 300))));
    await until('lists both ways', () => a.neighbors.table.reports(idOf(b), idOf(a)) && b.neighbors.table.reports(idOf(a), idOf(b)));
  });

  test('a list that changes is sent again; a dropped connection is forgotten; a malformed list costs score', async () => {
    const a = await node();
    const b = await node([a.host.addresses()[0]!]);
    await until('A and B connected', () => a.host.peers().length === 1 && b.host.peers().length === 1);
    await settled([a, b]);
    expect(a.neighbors.table.reports(idOf(b), idOf(a))).toBe(true);

    // C connects to B: A hears from B that B now also has C
    const c = await node([b.host.addresses()[0]!]);
    await until('A to learn B–C', () => a.neighbors.table.reports(idOf(b), idOf(c)));
    const cId = idOf(c);
    c.gossip.stop();
    await c.neighbors.stop();
    await c.host.stop();
    nodes.splice(nodes.indexOf(c), 1);
    await until('A to learn that B lost C', () => !a.neighbors.table.reports(idOf(b), cId));

    // a peer writing garbage as its list
    const stream = await b.host.openStream(idOf(a), a.neighbors.protocol, AbortSignal.timeout(5_000));
    const lp = lpStream(stream);
    await lp.write(Uint8Array.of(0xff, 0xff, 0xff));
    await until('B penalized at A', () => a.host.scores.score(idOf(b)) < 0);
    // the good list A had from B is kept
    expect(a.neighbors.table.reports(idOf(b), idOf(a))).toBe(true);
  });
});
