// p2p.send_rate / p2p.recv_rate: the token bucket on a fake clock, and real hosts over TCP on
// 127.0.0.1 whose transfers cannot beat the configured rate (a lower bound on the time taken,
// which a busy machine can only lengthen), with every byte delivered in order.
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import { afterEach, describe, expect, test } from 'vitest';
import { P2PHost, gossipsubOptions, type HostOptions } from '../../src/p2p/index.js';
import { TokenBucket } from '../../src/p2p/rate-limit.js';
import { freePorts } from './ports.js';

describe('TokenBucket', () => {
  test('one second of burst, then debt paid at the rate; never more than a second saved up', () => {
    let t = 0;
    const b = new TokenBucket(1000, () => t);
    expect(b.take(1000)).toBe(0); // the burst
    expect(b.take(500)).toBe(500); // 500 tokens of debt: half a second
    t += 250;
    expect(b.wait()).toBe(250);
    t += 250;
    expect(b.wait()).toBe(0);
    t += 10_000; // idle for long: still only one second's worth
    expect(b.take(1000)).toBe(0);
    expect(b.take(1)).toBe(1);
    expect(() => new TokenBucket(0)).toThrow(/rate must be > 0/);
  });
});

const PROTOCOL = '/tally/rate-test/1';
const CHUNK = 16 * 1024;
const hosts: P2PHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

/** Sends `total` bytes (a counting pattern, in CHUNK messages) from a host with `from` to one with `to`; the ms it took and whether all arrived intact. */
async function transfer(from: Partial<HostOptions>, to: Partial<HostOptions>, total: number): Promise<{ ms: number; intact: boolean }> {
  const [kA, kB] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]);
  const [pA, pB] = await freePorts(2);
  const idB = peerIdFromPrivateKey(kB).toString();
  const receiver = new P2PHost({ listen: [`/ip4/127.0.0.1/tcp/${pB}`], gossipsub: gossipsubOptions('rate-test'), ...to }, { privateKey: kB });
  hosts.push(receiver);
  await receiver.start();
  let received = 0;
  let intact = true;
  const done = new Promise<void>((resolve, reject) => {
    void receiver.handle(PROTOCOL, (stream) => {
      void (async () => {
        const lp = lpStream(stream, { maxDataLength: CHUNK });
        while (received < total) {
          const bytes = (await lp.read()).subarray();
          for (let i = 0; i < bytes.length; i++) if (bytes[i] !== ((received + i) & 0xff)) intact = false;
          received += bytes.length;
        }
        await stream.close();
        resolve();
      })().catch(reject);
    });
  });
  const sender = new P2PHost({ listen: [`/ip4/127.0.0.1/tcp/${pA}`], persistentPeers: [`/ip4/127.0.0.1/tcp/${pB}/p2p/${idB}`], gossipsub: gossipsubOptions('rate-test'), ...from }, { privateKey: kA });
  hosts.push(sender);
  await sender.start();
  const end = Date.now() + 20_000;
  while (!sender.isConnected(idB)) {
    if (Date.now() > end) throw new Error('hosts did not connect');
    await new Promise((r) => setTimeout(r, 20));
  }
  // a connection's first second is its burst; start the clock with the bucket full either way
  const started = Date.now();
  const stream = await sender.openStream(idB, PROTOCOL, AbortSignal.timeout(30_000));
  const lp = lpStream(stream, { maxDataLength: CHUNK });
  for (let sent = 0; sent < total; sent += CHUNK) await lp.write(Uint8Array.from({ length: CHUNK }, (_, i) => (sent + i) & 0xff));
  await done;
  return { ms: Date.now() - started, intact: intact && received === total };
}

describe('rate limits over libp2p on 127.0.0.1', () => {
  // 512 KiB at 128 KiB/s: the bucket's burst (a second's worth) passes at once, and the last write
  // may leave a debt the transfer does not wait for (a write or read is whole: up to a Noise frame
  // or a socket chunk, under 64 KiB); the rest takes its time. Noise and Yamux add bytes, never
  // remove any. So at least (512 - 128 - 128) / 128 = 2 s; unlimited, it takes ~0.2 s here.
  const RATE = 128 * 1024;
  const TOTAL = 512 * 1024;
  const floorMs = ((TOTAL - 2 * RATE) / RATE) * 1000;

  test('send_rate: a transfer takes at least what the rate allows, and every byte arrives in order', async () => {
    const r = await transfer({ sendRate: RATE }, {}, TOTAL);
    expect(r.intact).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(floorMs);
  }, 60_000);

  test('recv_rate: the receiver reads no faster than its rate, and every byte arrives in order', async () => {
    const r = await transfer({}, { recvRate: RATE }, TOTAL);
    expect(r.intact).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(floorMs);
  }, 60_000);

  test('without limits the same transfer is intact', async () => {
    const r = await transfer({}, {}, TOTAL);
    expect(r.intact).toBe(true);
  }, 60_000);
});
