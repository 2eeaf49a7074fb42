// Peer exchange: the wire codec (round trip, malformed input), the address book, and real
// libp2p hosts on 127.0.0.1 — a fifth host that knows one seed ends up connected to the four
// others; a line of hosts each knowing only the previous one becomes a full mesh; a peer that
// answers with garbage loses score; a node of another chain is banned.
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import { afterEach, describe, expect, test } from 'vitest';
import { DecodeError, ProtoWriter } from '../../src/codec/index.js';
import {
  AddressBook,
  DEFAULT_PENALTIES,
  MAX_DIAL_FAILURES,
  MAX_PEX_ADDRS,
  P2PHost,
  PeerExchange,
  checkPexAddr,
  decodePexAddrs,
  decodePexRequest,
  encodePexAddrs,
  encodePexRequest,
  gossipsubOptions,
  pexProtocolId,
  type HostOptions,
  type P2PLogger,
  type PexOptions,
} from '../../src/p2p/index.js';
import { freePorts } from './ports.js';

const CHAIN = 'pex-test-chain';
const ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';
const ID2 = '12D3KooWRzXFHnBV6MmAHCVBTfZ6iZPrWhShWKNp1msUbsHB4TAu';

const hosts: P2PHost[] = [];
const pexes: PeerExchange[] = [];
afterEach(async () => {
  await Promise.all(pexes.splice(0).map((p) => p.stop()));
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Node {
  host: P2PHost;
  pex: PeerExchange;
  addr: string;
  id: string;
}

// P2P_TEST_LOG=1 prints each host's log lines
const logFor = (port: number): P2PLogger | undefined => {
  if (!process.env.P2P_TEST_LOG) return undefined;
  const print = (level: string) => (o: object, m: string): void => console.log(`[${port}] ${level} ${m} ${JSON.stringify(o)}`);
  return { debug: print('debug'), info: print('info'), warn: print('WARN'), error: print('ERROR') };
};

async function makeNode(key: PrivateKey, port: number, host: Partial<HostOptions>, pex: Partial<PexOptions> = {}, chainId = CHAIN): Promise<Node> {
  const logger = logFor(port);
  const h = new P2PHost({ listen: [`/ip4/127.0.0.1/tcp/${port}`], redialBaseMs: 100, redialMaxMs: 500, gossipsub: gossipsubOptions(chainId), ...host }, { privateKey: key, ...(logger ? { logger } : {}) });
  hosts.push(h);
  await h.start();
  const p = new PeerExchange({ chainId, intervalMs: 300, ...pex }, { host: h, ...(logger ? { logger } : {}) });
  pexes.push(p);
  await p.start();
  const id = peerIdFromPrivateKey(key).toString();
  return { host: h, pex: p, addr: `/ip4/127.0.0.1/tcp/${port}/p2p/${id}`, id };
}

async function keysAndPorts(n: number): Promise<{ keys: PrivateKey[]; ports: number[]; addrs: string[] }> {
  const keys = await Promise.all(Array.from({ length: n }, () => generateKeyPair('Ed25519')));
  const ports = await freePorts(n);
  return { keys, ports, addrs: keys.map((k, i) => `/ip4/127.0.0.1/tcp/${ports[i]}/p2p/${peerIdFromPrivateKey(k).toString()}`) };
}

describe('peer-exchange codec', () => {
  test('round trip of a request and an answer', () => {
    expect(decodePexRequest(encodePexRequest(7))).toBe(7);
    expect(decodePexRequest(encodePexRequest(MAX_PEX_ADDRS))).toBe(MAX_PEX_ADDRS);
    const addrs = [`/ip4/10.0.0.1/tcp/26656/p2p/${ID}`, `/dns4/a.example.com/tcp/1/p2p/${ID2}`, `/ip6/::1/tcp/26656/p2p/${ID}`];
    expect(decodePexAddrs(encodePexAddrs(addrs))).toEqual(addrs);
    // an answer with no address is not an empty message, and decodes to []
    expect(encodePexAddrs([]).length).toBeGreaterThan(0);
    expect(decodePexAddrs(encodePexAddrs([]))).toEqual([]);
    // duplicates collapse
    expect(decodePexAddrs(encodePexAddrs([addrs[0]!, addrs[0]!]))).toEqual([addrs[0]]);
  });

  test.each([
    ['a limit of 0', () => decodePexRequest(encodePexRequest(0))],
    ['a limit above the maximum', () => decodePexRequest(encodePexRequest(MAX_PEX_ADDRS + 1))],
    ['garbage request', () => decodePexRequest(Uint8Array.of(0xff, 0xff, 0xff))],
    ['garbage answer', () => decodePexAddrs(Uint8Array.of(0x0a, 0x05, 0x01))],
    ['an answer without the reply flag', () => decodePexAddrs(new ProtoWriter().string(1, `/ip4/10.0.0.1/tcp/1/p2p/${ID}`).finish())],
    ['an address without /p2p/', () => decodePexAddrs(encodePexAddrs(['/ip4/10.0.0.1/tcp/26656']))],
    ['a bad peer id', () => decodePexAddrs(encodePexAddrs(['/ip4/10.0.0.1/tcp/26656/p2p/notapeerid']))],
    ['a bad IP', () => decodePexAddrs(encodePexAddrs([`/ip4/300.0.0.1/tcp/26656/p2p/${ID}`]))],
    ['another transport', () => decodePexAddrs(encodePexAddrs([`/ip4/10.0.0.1/udp/26656/quic-v1/p2p/${ID}`]))],
    ['port 0', () => decodePexAddrs(encodePexAddrs([`/ip4/10.0.0.1/tcp/0/p2p/${ID}`]))],
    ['an address too long', () => decodePexAddrs(encodePexAddrs([`/dns4/${'a'.repeat(300)}.com/tcp/1/p2p/${ID}`]))],
    ['invalid UTF-8', () => decodePexAddrs(new ProtoWriter().bytes(1, Uint8Array.of(0xc3, 0x28)).bool(2, true).finish())],
    [
      'too many addresses',
      () => {
        const w = new ProtoWriter();
        for (let i = 0; i <= MAX_PEX_ADDRS; i++) w.string(1, `/ip4/10.0.${i >> 8}.${i & 255}/tcp/1/p2p/${ID}`);
        return decodePexAddrs(w.bool(2, true).finish());
      },
    ],
  ])('rejects %s with a DecodeError', (_what, fn) => {
    expect(fn).toThrow(DecodeError);
  });

  test('checkPexAddr names the problem', () => {
    expect(checkPexAddr(`/ip4/1.2.3.4/tcp/5/p2p/${ID}`)).toEqual({ peerId: ID });
    expect(checkPexAddr('/ip4/1.2.3.4/tcp/5')).toMatch(/lacks \/p2p/);
  });
});

describe('AddressBook', () => {
  test('candidates: not-failed first, failing ones after a growing pause, given up after MAX_DIAL_FAILURES', () => {
    let t = 0;
    const book = new AddressBook({ retryBaseMs: 1000 }, () => t);
    expect(book.add('a', `/ip4/10.0.0.1/tcp/1/p2p/a`, 'pex')).toBe(true);
    expect(book.add('b', `/ip4/10.0.0.2/tcp/1/p2p/b`, 'pex')).toBe(true);
    expect(book.add('a', `/ip4/10.0.0.9/tcp/1/p2p/a`, 'identify')).toBe(false);
    expect(book.get('a')?.addrs[0]).toBe('/ip4/10.0.0.9/tcp/1/p2p/a');
    expect(book.get('a')?.source).toBe('identify');
    book.failed('a');
    expect(book.candidates(5, () => false).map((p) => p.id)).toEqual(['b']);
    t += 1000;
    expect(book.candidates(5, () => false).map((p) => p.id)).toEqual(['b', 'a']);
    // the next try uses its other address
    expect(book.get('a')?.addrs[0]).toBe('/ip4/10.0.0.1/tcp/1/p2p/a');
    expect(book.candidates(5, (id) => id === 'b').map((p) => p.id)).toEqual(['a']);
    for (let i = 1; i < MAX_DIAL_FAILURES; i++) book.failed('a');
    expect(book.get('a')).toBeUndefined();
    // a configured seed is never given up
    book.add('s', '/ip4/10.0.0.3/tcp/1/p2p/s', 'config');
    for (let i = 0; i < MAX_DIAL_FAILURES * 2; i++) book.failed('s');
    expect(book.get('s')).toBeDefined();
  });

  test('selection prefers peers we were connected to, skips failing and excluded ones; the book is bounded', () => {
    const book = new AddressBook({ maxPeers: 3 });
    book.add('a', '/ip4/10.0.0.1/tcp/1/p2p/a', 'pex');
    book.add('b', '/ip4/10.0.0.2/tcp/1/p2p/b', 'pex');
    book.add('c', '/ip4/10.0.0.3/tcp/1/p2p/c', 'config');
    book.connected('b');
    book.failed('a');
    expect(book.selection(1, () => false)).toEqual(['/ip4/10.0.0.2/tcp/1/p2p/b']);
    expect(book.selection(5, (id) => id === 'b')).toEqual(['/ip4/10.0.0.3/tcp/1/p2p/c']);
    // full: the learned peer with most failures makes room
    expect(book.add('d', '/ip4/10.0.0.4/tcp/1/p2p/d', 'pex')).toBe(true);
    expect(book.get('a')).toBeUndefined();
    expect(book.size).toBe(3);
  });
});

describe('peer exchange over libp2p on 127.0.0.1', () => {
  test('a fifth host that knows one seed connects to all four others', async () => {
    const { keys, ports, addrs } = await keysAndPorts(5);
    const four: Node[] = [];
    for (let i = 0; i < 4; i++) four.push(await makeNode(keys[i]!, ports[i]!, { persistentPeers: addrs.slice(0, 4).filter((_, j) => j !== i) }));
    await until('the four to be connected', () => four.every((n) => n.host.peers().length === 3));
    const started = Date.now();
    // the default interval (30 s): discovery comes from the requests made on connecting
    const fifth = await makeNode(keys[4]!, ports[4]!, {}, { seeds: [addrs[0]!], intervalMs: 30_000 });
    await until('the fifth host to connect to all four', () => fifth.host.peers().length === 4);
    const ms = Date.now() - started;
    console.log(`pex: a fifth host with one seed connected to all 4 others in ${ms} ms`);
    expect(new Set(fifth.host.peers().map((p) => p.id))).toEqual(new Set(four.map((n) => n.id)));
    // (some of the four may have dialed the fifth first: they learn its address from the seed)
    expect(fifth.pex.stats.learned).toBeGreaterThanOrEqual(3);
    await until('the four to see the fifth', () => four.every((n) => n.host.peers().length === 4));
  }, 60_000);

  test('a line of hosts, each knowing only the one before, becomes a full mesh', async () => {
    const { keys, ports, addrs } = await keysAndPorts(5);
    const nodes: Node[] = [];
    for (let i = 0; i < 5; i++) nodes.push(await makeNode(keys[i]!, ports[i]!, i === 0 ? {} : { persistentPeers: [addrs[i - 1]!] }));
    await until('a full mesh', () => nodes.every((n) => n.host.peers().length === 4), 30_000);
  }, 60_000);

  test('a host whose peer exchange starts after its peer was identified still asks that peer', async () => {
    const { keys, ports, addrs } = await keysAndPorts(3);
    const a = await makeNode(keys[0]!, ports[0]!, {});
    // C has no peer exchange of its own: B can only hear of it from A
    const c = { id: peerIdFromPrivateKey(keys[2]!).toString(), host: new P2PHost({ listen: [`/ip4/127.0.0.1/tcp/${ports[2]}`], persistentPeers: [addrs[0]!], gossipsub: gossipsubOptions(CHAIN) }, { privateKey: keys[2]! }) };
    hosts.push(c.host);
    await c.host.start();
    await until('C connected to A and A to know its address', () => a.host.isConnected(c.id) && a.pex.book.get(c.id) !== undefined);
    // B: its host connects to A and is identified before B's peer exchange starts
    const b = new P2PHost({ listen: [`/ip4/127.0.0.1/tcp/${ports[1]}`], persistentPeers: [addrs[0]!], redialBaseMs: 100, redialMaxMs: 500, gossipsub: gossipsubOptions(CHAIN) }, { privateKey: keys[1]! });
    hosts.push(b);
    await b.start();
    await until('B connected to A', () => b.isConnected(a.id) && a.host.isConnected(peerIdFromPrivateKey(keys[1]!).toString()));
    await new Promise((r) => setTimeout(r, 300)); // identify done
    const pb = new PeerExchange({ chainId: CHAIN, intervalMs: 60_000 }, { host: b });
    pexes.push(pb);
    await pb.start();
    // one interval is a minute: only the ask at start can teach B about C this soon
    await until('B to learn of C from A and dial it', () => b.isConnected(c.id));
    expect(pb.stats.requests).toBeGreaterThanOrEqual(1);
  }, 60_000);

  test('the outbound limit holds: a host with max_num_outbound_peers = 2 dials only two discovered peers', async () => {
    const { keys, ports, addrs } = await keysAndPorts(5);
    const four: Node[] = [];
    for (let i = 0; i < 4; i++) four.push(await makeNode(keys[i]!, ports[i]!, { persistentPeers: addrs.slice(0, 4).filter((_, j) => j !== i) }));
    const fifth = await makeNode(keys[4]!, ports[4]!, { maxOutboundPeers: 2 }, { seeds: [addrs[0]!] });
    const outbound = (): number => new Set(fifth.host.libp2p.getConnections().filter((c) => c.direction === 'outbound').map((c) => c.remotePeer.toString())).size;
    await until('two outbound peers', () => outbound() === 2);
    await new Promise((r) => setTimeout(r, 1000)); // a few intervals: no more dials
    expect(outbound()).toBe(2);
    expect(fifth.host.outboundSlots()).toBe(0);
  }, 60_000);

  test('private_peer_ids: a peer kept private is never given out, the others are', async () => {
    const { keys, ports, addrs } = await keysAndPorts(4);
    const [idB, idC] = [1, 2].map((i) => peerIdFromPrivateKey(keys[i]!).toString()) as [string, string];
    // A is connected to B and C and keeps B private; D knows only A
    const a = await makeNode(keys[0]!, ports[0]!, { persistentPeers: [addrs[1]!, addrs[2]!] }, { privatePeers: [idB] });
    await makeNode(keys[1]!, ports[1]!, {}, { intervalMs: 60_000 });
    await makeNode(keys[2]!, ports[2]!, {}, { intervalMs: 60_000 });
    await until('A connected to B and C', () => a.host.isConnected(idB) && a.host.isConnected(idC));
    await new Promise((r) => setTimeout(r, 300)); // identify: A knows their addresses
    const d = await makeNode(keys[3]!, ports[3]!, {}, { seeds: [addrs[0]!], intervalMs: 60_000 });
    await until('D to learn of C from A', () => d.pex.book.get(idC) !== undefined);
    expect(d.pex.book.get(idB)).toBeUndefined();
    expect(a.pex.stats.served).toBeGreaterThanOrEqual(1);
  }, 60_000);

  test('seed mode: hosts that know only the seed find each other; the seed answers, hangs up, and is not redialed', async () => {
    const { keys, ports, addrs } = await keysAndPorts(5);
    // a crawl every minute: none within this test, so every connection the seed has is one made to it
    const seed = await makeNode(keys[4]!, ports[4]!, {}, { seedMode: true, intervalMs: 60_000 });
    const four: Node[] = [];
    for (let i = 0; i < 4; i++) four.push(await makeNode(keys[i]!, ports[i]!, {}, { seeds: [addrs[4]!] }));
    const meshed = (): boolean => four.every((n) => four.every((m) => m === n || n.host.isConnected(m.id)));
    await until('the four to be connected to each other', meshed, 30_000);
    await until('the seed to hold no connection', () => seed.host.peers().length === 0, 30_000);
    expect(seed.pex.stats.served).toBeGreaterThanOrEqual(4);
    expect(seed.pex.stats.hangups).toBeGreaterThanOrEqual(1);
    // several of the four's intervals (300 ms): a seed is not dialed to fill outbound slots
    const dials = four.map((n) => n.pex.stats.dials);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(seed.host.peers().length).toBe(0);
    expect(four.map((n) => n.pex.stats.dials)).toEqual(dials);
    expect(meshed()).toBe(true);
  }, 60_000);

  test('seed mode crawls: it learns the peers of the peer it knows, dials each, and hangs up on each', async () => {
    const { keys, ports, addrs } = await keysAndPorts(4);
    // A, B, C: a mesh by persistent peers; B and C know no seed and ask for addresses once a minute,
    // so only the seed's crawl can connect them to it
    const a = await makeNode(keys[0]!, ports[0]!, { persistentPeers: [addrs[1]!, addrs[2]!] });
    const plain = async (i: number): Promise<{ id: string; host: P2PHost }> => {
      const host = new P2PHost({ listen: [`/ip4/127.0.0.1/tcp/${ports[i]}`], persistentPeers: addrs.slice(0, 3).filter((_, j) => j !== i), redialBaseMs: 100, redialMaxMs: 500, gossipsub: gossipsubOptions(CHAIN) }, { privateKey: keys[i]! });
      hosts.push(host);
      await host.start();
      const p = new PeerExchange({ chainId: CHAIN, intervalMs: 60_000 }, { host });
      pexes.push(p);
      await p.start(); // serves requests; B and C know no seed
      return { id: peerIdFromPrivateKey(keys[i]!).toString(), host };
    };
    const b = await plain(1);
    const c = await plain(2);
    await until('A, B and C meshed', () => a.host.isConnected(b.id) && a.host.isConnected(c.id) && b.host.isConnected(c.id));
    const seedId = peerIdFromPrivateKey(keys[3]!).toString();
    const reached = new Set<string>();
    for (const n of [b, c]) n.host.libp2p.addEventListener('peer:connect', (e) => void (e.detail.toString() === seedId && reached.add(n.id)));
    const seed = await makeNode(keys[3]!, ports[3]!, {}, { seedMode: true, seeds: [addrs[0]!] });
    await until('the seed to learn B and C from A', () => seed.pex.book.get(b.id) !== undefined && seed.pex.book.get(c.id) !== undefined);
    // the crawl dials B and C (they never dial the seed), asks them and hangs up
    await until('the seed to crawl A, B and C', () => seed.pex.stats.dials >= 3 && seed.pex.stats.requests >= 3 && seed.pex.stats.hangups >= 3, 30_000);
    expect(reached).toEqual(new Set([b.id, c.id]));
  }, 60_000);

  test('a peer that answers with garbage loses score; a node of another chain is banned', async () => {
    const { keys, ports, addrs } = await keysAndPorts(3);
    // a host that answers peer-exchange requests with bytes that do not decode
    const liar = new P2PHost({ listen: [`/ip4/127.0.0.1/tcp/${ports[0]}`], gossipsub: gossipsubOptions(CHAIN) }, { privateKey: keys[0]! });
    hosts.push(liar);
    await liar.start();
    await liar.handle(pexProtocolId(CHAIN), async (stream) => {
      const lp = lpStream(stream);
      await lp.read();
      await lp.write(Uint8Array.of(0x0a, 0x03, 0x66, 0x6f, 0x6f, 0x10, 0x01)); // addr "foo"
      await stream.close();
    });
    const honest = await makeNode(keys[1]!, ports[1]!, {}, { seeds: [addrs[0]!] });
    const liarId = peerIdFromPrivateKey(keys[0]!).toString();
    // every answer costs it bad_pex; asked every interval, it is banned after five
    await until('the liar to be penalized', () => honest.host.scores.score(liarId) <= -DEFAULT_PENALTIES.bad_pex || honest.host.isBanned(liarId));
    await until('the liar to be banned', () => honest.host.isBanned(liarId) && !honest.host.isConnected(liarId));
    expect(honest.host.scores.banOf(liarId)?.reason).toBe('bad_pex');

    // a node of another chain dials in: it speaks /tally/other-chain/…, not ours. Whichever of
    // the two identifies the other first bans it and hangs up.
    const stranger = await makeNode(keys[2]!, ports[2]!, {}, { seeds: [honest.addr] }, 'other-chain');
    const banned = (): boolean => honest.host.isBanned(stranger.id) || stranger.host.isBanned(honest.id);
    await until('a wrong-chain ban and no connection', () => banned() && !honest.host.isConnected(stranger.id));
    const ban = honest.host.scores.banOf(stranger.id) ?? stranger.host.scores.banOf(honest.id);
    expect(ban?.reason).toBe('wrong_chain');
    // and they stay apart: the banning side refuses the other both ways
    await expect(stranger.host.dial(honest.addr).then(() => honest.host.dial(stranger.addr))).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 300));
    expect(honest.host.isConnected(stranger.id)).toBe(false);
  }, 60_000);
});
