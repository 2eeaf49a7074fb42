// Each send of a connection reaches its socket as one write: Noise's 2-byte length prefixes no
// longer go out (and cost a system call) on their own.
import { generateKeyPair } from '@libp2p/crypto/keys';
import { afterEach, describe, expect, test } from 'vitest';
import { P2PHost } from '../../src/p2p/host.js';
import { Gossip, gossipsubOptions } from '../../src/p2p/index.js';
import type { Vote } from '../../src/codec/index.js';
import { until, vote } from './fixtures.js';

const CHAIN = 'socket-writes';
const hosts: P2PHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.stop();
});

async function host(persistentPeers: string[] = []): Promise<P2PHost> {
  const h = new P2PHost({ listen: ['/ip4/127.0.0.1/tcp/0'], persistentPeers, gossipsub: gossipsubOptions(CHAIN) }, { privateKey: await generateKeyPair('Ed25519') });
  await h.start();
  hosts.push(h);
  return h;
}

describe('socket writes', () => {
  test('a gossiped message leaves in whole writes, never a lone length prefix', async () => {
    const a = await host();
    const b = await host([a.addresses()[0]!]);
    const got: Vote[] = [];
    const ga = new Gossip({ chainId: CHAIN, maxTxBytes: 1024 }, { host: a });
    const gb = new Gossip({ chainId: CHAIN, maxTxBytes: 1024 }, { host: b });
    ga.start({});
    gb.start({ onVote: (v) => got.push(v) });
    await until('B subscribed at A', () => ga.subscribers().length === 1);

    const conn = a.libp2p.getConnections()[0]!;
    const socket = (conn as unknown as { maConn: { socket: { write: (b: Uint8Array) => boolean } } }).maConn.socket;
    const sizes: number[] = [];
    const write = socket.write.bind(socket);
    socket.write = (buf: Uint8Array): boolean => {
      sizes.push(buf.byteLength);
      return write(buf);
    };
    for (let i = 0; i < 5; i++) ga.publishVote(vote(9, i));
    await until('the votes at B', () => got.length === 5);
    expect(sizes.length).toBeGreaterThan(0);
    // a Noise frame is its 2-byte length, then at least a 16-byte tag: a whole one is over 18 bytes
    expect(sizes.filter((n) => n <= 2)).toEqual([]);
  });
});
