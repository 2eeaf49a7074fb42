// The address book on disk: learned peers round-trip, a malformed entry is skipped, an
// unreadable file is moved aside (kept) rather than overwritten, and a node restarted with its
// book dials a peer it learned in its previous run without any seed or persistent peer.
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { AddressBook, P2PHost, PeerExchange, gossipsubOptions, loadAddressBook, saveAddressBook } from '../../src/p2p/index.js';
import { freePorts } from './ports.js';

const ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';
const ID2 = '12D3KooWRzXFHnBV6MmAHCVBTfZ6iZPrWhShWKNp1msUbsHB4TAu';
const dir = mkdtempSync(join(tmpdir(), 'tally-addrbook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `addrbook-${n++}.json`);

const hosts: P2PHost[] = [];
const pexes: PeerExchange[] = [];
afterEach(async () => {
  await Promise.all(pexes.splice(0).map((p) => p.stop()));
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

describe('address book file', () => {
  test('learned peers round-trip; configured peers never connected to are not saved', () => {
    let t = 1_000;
    const book = new AddressBook({}, () => t);
    book.add(ID, `/ip4/10.0.0.1/tcp/26656/p2p/${ID}`, 'identify');
    book.add(ID, `/ip4/10.0.0.2/tcp/26656/p2p/${ID}`, 'pex');
    book.connected(ID);
    book.add(ID2, `/dns4/seed.example.com/tcp/26656/p2p/${ID2}`, 'config');
    const path = fresh();
    saveAddressBook(path, book.saved());
    const loaded = loadAddressBook(path);
    expect(loaded).toEqual({ peers: [{ id: ID, addrs: [`/ip4/10.0.0.2/tcp/26656/p2p/${ID}`, `/ip4/10.0.0.1/tcp/26656/p2p/${ID}`], source: 'identify', lastConnected: 1_000 }], skipped: 0 });
    t = 5_000;
    const again = new AddressBook({}, () => t);
    expect(again.restore(loaded.peers)).toBe(1);
    expect(again.get(ID)).toMatchObject({ addrs: [`/ip4/10.0.0.2/tcp/26656/p2p/${ID}`, `/ip4/10.0.0.1/tcp/26656/p2p/${ID}`], lastConnected: 1_000, failures: 0, nextDialAt: 0 });
    expect(again.restore(loaded.peers)).toBe(0); // already known: nothing overwritten
  });

  test('an unchanged book is not written again; a changed one is', () => {
    let t = 1_000;
    const book = new AddressBook({}, () => t);
    book.add(ID, `/ip4/10.0.0.1/tcp/26656/p2p/${ID}`, 'identify');
    const path = fresh();
    const first = saveAddressBook(path, book.saved());
    const inode = statSync(path).ino; // each write replaces the file: a new inode
    expect(saveAddressBook(path, book.saved(), first)).toBe(first);
    expect(statSync(path).ino).toBe(inode);
    t = 2_000;
    book.connected(ID);
    const second = saveAddressBook(path, book.saved(), first);
    expect(second).not.toBe(first);
    expect(statSync(path).ino).not.toBe(inode);
    expect(loadAddressBook(path).peers[0]!.lastConnected).toBe(2_000);
  });

  test('a malformed entry is skipped, the rest kept', () => {
    const path = fresh();
    const good = { id: ID, addrs: [`/ip4/10.0.0.1/tcp/1/p2p/${ID}`], source: 'pex', last_connected: 0 };
    const bad = [
      { ...good, id: ID2 }, // the address names another peer
      { ...good, addrs: ['/ip4/10.0.0.1/tcp/1'] },
      { ...good, source: 'config' },
      { ...good, last_connected: -1 },
      'not an object',
    ];
    writeFileSync(path, JSON.stringify({ version: 1, peers: [good, ...bad] }));
    const loaded = loadAddressBook(path);
    expect(loaded.peers.map((p) => p.id)).toEqual([ID]);
    expect(loaded.skipped).toBe(bad.length);
  });

  test.each([
    ['not JSON', '{"version": 1, "peers": ['],
    ['another version', JSON.stringify({ version: 2, peers: [] })],
    ['no peers list', JSON.stringify({ version: 1 })],
  ])('an unreadable file (%s) is moved aside, kept, and the book starts empty', (_what, text) => {
    const path = fresh();
    writeFileSync(path, text);
    const loaded = loadAddressBook(path);
    expect(loaded.peers).toEqual([]);
    expect(loaded.movedAside?.reason).toBeTruthy();
    expect(existsSync(path)).toBe(false);
    expect(readFileSync(loaded.movedAside!.to, 'utf8')).toBe(text);
  });

  test('no file: an empty book', () => {
    expect(loadAddressBook(join(dir, 'absent.json'))).toEqual({ peers: [], skipped: 0 });
  });

  test('a node restarted with its address book dials the peer it learned before, with no seed or persistent peer', async () => {
    const [ka, kb] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]);
    const ports = await freePorts(2);
    const [pa, pb] = [ports[0]!, ports[1]!];
    const idB = peerIdFromPrivateKey(kb).toString();
    const addrB = `/ip4/127.0.0.1/tcp/${pb}/p2p/${idB}`;
    const bookFile = join(dir, 'node-a-addrbook.json');
    const start = async (key: typeof ka, port: number, peers: string[], file?: string): Promise<{ host: P2PHost; pex: PeerExchange }> => {
      const host = new P2PHost({ listen: [`/ip4/127.0.0.1/tcp/${port}`], persistentPeers: peers, redialBaseMs: 100, redialMaxMs: 500, gossipsub: gossipsubOptions('book-chain') }, { privateKey: key });
      hosts.push(host);
      await host.start();
      const pex = new PeerExchange({ chainId: 'book-chain', intervalMs: 200, ...(file ? { bookFile: file } : {}) }, { host });
      pexes.push(pex);
      await pex.start();
      return { host, pex };
    };
    const until = async (what: string, cond: () => boolean): Promise<void> => {
      const end = Date.now() + 20_000;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    // first run: B dials A; A learns B's listen address through identify
    const b = await start(kb, pb, []);
    let a = await start(ka, pa, [], bookFile);
    await b.host.addPeers([`/ip4/127.0.0.1/tcp/${pa}/p2p/${peerIdFromPrivateKey(ka).toString()}`], true);
    await until('A learns B', () => a.pex.book.get(idB)?.addrs.includes(addrB) === true);
    await a.pex.stop();
    await a.host.stop();
    expect(loadAddressBook(bookFile).peers.map((p) => p.id)).toEqual([idB]);

    // B forgets A (no redial), A restarts knowing nobody but its book
    await b.pex.stop();
    await b.host.stop();
    hosts.splice(0);
    pexes.splice(0);
    const b2 = await start(kb, pb, []);
    a = await start(ka, pa, [], bookFile);
    expect(a.pex.book.get(idB)?.addrs).toContain(addrB);
    await until('A dials B from its book', () => a.host.isConnected(idB));
    // B counts the connection once its side of the upgrade is done, a moment after A
    await until('B to see A', () => b2.host.peers().length === 1);
    expect(readdirSync(dir).filter((f) => f.startsWith('node-a-addrbook.json.unreadable'))).toEqual([]);
  }, 60_000);
});
