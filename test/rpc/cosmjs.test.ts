// A running single-validator node driven by the real client: @cosmjs/tendermint-rpc's
// connectComet must pick Comet38Client, and every method that maps to an endpoint must decode
// Tally's answers into the right data — checked against Tally's own hashing and against the
// raw JSON where the client drops fields.
import { Comet38Client, connectComet, type comet38 } from '@cosmjs/tendermint-rpc';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { headerFromJson, toBase64, toHex, type JsonObject } from '../../src/codec/index.js';
import { PrivKey, bytesEqual, verifyProof } from '../../src/crypto/index.js';
import { dataHash, headerHash, txHash, voteSignBytes } from '../../src/types/index.js';
import { readPrivValidatorKey } from '../../src/config/index.js';
import { evidenceToJson, parseTime, type Vote } from '../../src/codec/index.js';
import { join } from 'node:path';
import { call, openWs, result, startNode, waitForHeight, type TestNode } from './helpers.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

let node: TestNode;
let client: Comet38Client;

beforeAll(async () => {
  node = await startNode(['--rpc.unsafe']);
  await waitForHeight(node.url, 2);
  const c = await connectComet(node.url);
  expect(c).toBeInstanceOf(Comet38Client);
  client = c as Comet38Client;
});

afterAll(async () => {
  client?.disconnect();
  await node?.stop();
});

/** Broadcast with sync and wait, as StargateClient does, until tx_search finds it. */
async function commitTx(tx: Uint8Array): Promise<comet38.TxResponse> {
  const r = await client.broadcastTxSync({ tx });
  expect(r.code).toBe(0);
  for (let i = 0; i < 200; i++) {
    const found = await client.txSearch({ query: `tx.hash='${toHex(r.hash)}'` });
    if (found.totalCount === 1) return found.txs[0]!;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('tx never committed');
}

describe('info', () => {
  test('status, health, abci_info', async () => {
    const s = await client.status();
    expect(s.nodeInfo.version).toMatch(/^0\.38\./);
    expect(s.nodeInfo.other.get('tally_version')).toBeTruthy();
    expect(s.syncInfo.latestBlockHeight).toBeGreaterThanOrEqual(2);
    expect(s.syncInfo.latestAppHash.length).toBe(32);
    expect(s.syncInfo.catchingUp).toBe(false);
    expect(s.validatorInfo.votingPower).toBe(10n);
    expect(await client.health()).toBeNull();
    const info = await client.abciInfo();
    expect(info.lastBlockHeight).toBeGreaterThanOrEqual(1);
  });

  test('genesis and genesis_chunked describe the same chain', async () => {
    const g = await client.genesis();
    const s = await client.status();
    expect(g.chainId).toBe(s.nodeInfo.network);
    expect(g.validators[0]!.votingPower).toBe(10n);
    const chunk = await result(node.url, 'genesis_chunked', { chunk: '0' });
    expect(chunk.total).toBe('1');
    const doc = JSON.parse(Buffer.from(chunk.data as string, 'base64').toString('utf8')) as JsonObject;
    expect(doc.chain_id).toBe(g.chainId);
  });
});

describe('transactions', () => {
  test('broadcast_tx_sync + tx_search finds the tx that was broadcast; tx by hash with a proof against data_hash', async () => {
    const tx = enc.encode(`k1=${Date.now()}`);
    const found = await commitTx(tx);
    expect(bytesEqual(found.tx, tx)).toBe(true);
    expect(bytesEqual(found.hash, txHash(tx))).toBe(true);
    expect(found.result.code).toBe(0);
    expect(found.result.events.some((e) => e.type === 'app' && e.attributes.some((a) => a.key === 'key' && a.value === 'k1'))).toBe(true);

    const byHash = await client.tx({ hash: txHash(tx), prove: true });
    expect(byHash.height).toBe(found.height);
    const proof = byHash.proof!;
    expect(bytesEqual(proof.data, tx)).toBe(true);
    const block = await client.block(found.height);
    expect(bytesEqual(proof.rootHash, block.block.header.dataHash)).toBe(true);
    expect(bytesEqual(dataHash(block.block.txs), block.block.header.dataHash)).toBe(true);
    const p = { total: proof.proof.total, index: proof.proof.index, leafHash: proof.proof.leafHash, aunts: proof.proof.aunts };
    expect(verifyProof(p, proof.rootHash, txHash(tx))).toBe(true);
    // hex works as well as the base64 cosmjs sends
    const hex = await result(node.url, 'tx', { hash: toHex(txHash(tx)) });
    expect(hex.height).toBe(String(found.height));
  });

  test('broadcast_tx_commit and abci_query at a non-zero height', async () => {
    const value = `v${Date.now()}`;
    const r = await client.broadcastTxCommit({ tx: enc.encode(`qkey=${value}`) });
    expect(r.checkTx.code).toBe(0);
    expect(r.txResult?.code).toBe(0);
    expect(r.height).toBeGreaterThan(0);
    // the reply comes once the app committed; the index and the state are read after their writes
    const tx = await client.tx({ hash: r.hash });
    expect(tx.height).toBe(r.height);
    const vals = await client.validators({ height: r.height + 1 });
    expect(vals.total).toBe(1);
    await waitForHeight(node.url, r.height + 1);
    const q = await client.abciQuery({ path: '/store', data: enc.encode('qkey') });
    expect(q.code).toBe(0);
    expect(dec.decode(q.value)).toBe(value);
    expect(q.height).toBeGreaterThan(0);
  });

  test('broadcast_tx_async returns the hash; check_tx does not add to the mempool; unconfirmed_txs', async () => {
    const tx = enc.encode(`async${Date.now()}=1`);
    const r = await client.broadcastTxAsync({ tx });
    expect(bytesEqual(r.hash, txHash(tx))).toBe(true);
    const n = await client.numUnconfirmedTxs();
    expect(n.total).toBeGreaterThanOrEqual(0);
    const check = await result(node.url, 'check_tx', { tx: toBase64(enc.encode('x=y')) });
    expect(check.code).toBe(0);
    const u = await result(node.url, 'unconfirmed_txs', { limit: '5' });
    expect(Array.isArray(u.txs)).toBe(true);
    expect(Number(u.n_txs)).toBe((u.txs as string[]).length);
  });
});

describe('blocks', () => {
  test("block(h).blockId.hash is Tally's own header hash of the served header", async () => {
    const h = (await client.status()).syncInfo.latestBlockHeight;
    const b = await client.block(h);
    const raw = await result(node.url, 'block', { height: String(h) });
    const header = headerFromJson((raw.block as JsonObject).header);
    expect(toHex(b.blockId.hash)).toBe(toHex(headerHash(header)));
    expect(b.block.header.height).toBe(h);
    expect(b.block.lastCommit?.height).toBe(h - 1);
    const byHash = await result(node.url, 'block_by_hash', { hash: toBase64(b.blockId.hash) });
    expect(((byHash.block as JsonObject).header as JsonObject).height).toBe(String(h));
    const hdr = await result(node.url, 'header_by_hash', { hash: toHex(b.blockId.hash) });
    expect((hdr.header as JsonObject).height).toBe(String(h));
    const hdr2 = await result(node.url, 'header', { height: String(h) });
    expect(hdr2.header).toEqual(hdr.header);
  });

  test('block 1 has an empty last commit the client accepts', async () => {
    const b = await client.block(1);
    expect(b.block.lastCommit).toBeNull();
    expect(b.block.header.lastBlockId).toBeNull();
  });

  test('commit: canonical below the tip, signed by the validator', async () => {
    const h = (await client.status()).syncInfo.latestBlockHeight;
    const c = await client.commit(h - 1);
    expect(c.canonical).toBe(true);
    expect(c.header.height).toBe(h - 1);
    expect(c.commit.signatures).toHaveLength(1);
    expect(toHex(c.commit.blockId.hash)).toBe(toHex(headerHash(headerFromJson(((await result(node.url, 'header', { height: String(h - 1) })).header)))));
  });

  test('blockchain: newest first, at most 20', async () => {
    await waitForHeight(node.url, 25);
    const all = await client.blockchain(1, 1000);
    expect(all.blockMetas.length).toBe(20);
    expect(all.blockMetas[0]!.header.height).toBeGreaterThan(all.blockMetas[1]!.header.height);
    const some = await client.blockchain(2, 4);
    expect(some.blockMetas.map((m) => m.header.height)).toEqual([4, 3, 2]);
  });

  test('block_results: tx results and events of a block with a tx', async () => {
    const tx = enc.encode(`res${Date.now()}=1`);
    const found = await commitTx(tx);
    const r = await client.blockResults(found.height);
    expect(r.height).toBe(found.height);
    expect(r.results[found.index]!.code).toBe(0);
    expect(r.results[found.index]!.events.length).toBeGreaterThan(0);
    const raw = await result(node.url, 'block_results', { height: String(found.height) });
    expect(typeof raw.app_hash).toBe('string');
  });

  test('block_search: ranges, paging, order', async () => {
    await waitForHeight(node.url, 6);
    const r = await client.blockSearch({ query: 'block.height >= 2 AND block.height <= 5' });
    expect(r.totalCount).toBe(4);
    expect(r.blocks.map((b) => b.block.header.height)).toEqual([2, 3, 4, 5]); // cosmjs sorts
    // the server lists the newest first by default (CometBFT 0.38), pages after ordering
    const raw = await result(node.url, 'block_search', { query: 'block.height >= 2 AND block.height <= 5', per_page: '2' });
    expect((raw.blocks as JsonObject[]).map((b) => ((b.block as JsonObject).header as JsonObject).height)).toEqual(['5', '4']);
    const asc = await client.blockSearch({ query: 'block.height >= 2 AND block.height <= 5', order_by: 'asc', per_page: 2, page: 2 });
    expect(asc.blocks.map((b) => b.block.header.height)).toEqual([4, 5]);
    const all = await client.blockSearchAll({ query: 'block.height <= 3' });
    expect(all.totalCount).toBe(3);
  });

  test('tx_search: event conditions, CONTAINS, EXISTS, paging', async () => {
    const stamp = Date.now();
    for (let i = 0; i < 3; i++) await client.broadcastTxSync({ tx: enc.encode(`page${stamp}-${i}=x`) });
    let r: comet38.TxSearchResponse | undefined;
    for (let i = 0; i < 100; i++) {
      r = await client.txSearch({ query: `app.key CONTAINS 'page${stamp}'` });
      if (r.totalCount === 3) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(r!.totalCount).toBe(3);
    const paged = await client.txSearch({ query: `app.key CONTAINS 'page${stamp}' AND tx.height > 0`, per_page: 2, page: 2 });
    expect(paged.totalCount).toBe(3);
    expect(paged.txs).toHaveLength(1);
    const exact = await client.txSearch({ query: `app.key = 'page${stamp}-1'` });
    expect(dec.decode(exact.txs[0]!.tx)).toBe(`page${stamp}-1=x`);
    const exists = await client.txSearch({ query: 'app.key EXISTS', per_page: 1 });
    expect(exists.totalCount).toBeGreaterThanOrEqual(3);
    const desc = await result(node.url, 'tx_search', { query: `app.key CONTAINS 'page${stamp}'`, order_by: 'desc' });
    const heights = (desc.txs as JsonObject[]).map((t) => Number(t.height));
    expect([...heights].sort((a, b) => b - a)).toEqual(heights);
  });
});

describe('validators and params', () => {
  test('a validator added by a kvstore tx: validators paged, ValidatorSetUpdates event', async () => {
    const ws = await openWs(node.wsUrl);
    ws.send('subscribe', { query: "tm.event='ValidatorSetUpdates'" }, 'vsu');
    await ws.next((m) => m.id === 'vsu' && 'result' in m);
    const key = PrivKey.generate().pubKey;
    const r = await client.broadcastTxCommit({ tx: enc.encode(`val=ed25519!${toBase64(key.bytes)}!1`) });
    expect(r.txResult?.code).toBe(0);
    const ev = await ws.next((m) => m.id === 'vsu' && (m.result as JsonObject | undefined)?.data !== undefined);
    const data = (ev.result as JsonObject).data as JsonObject;
    expect(data.type).toBe('tendermint/event/ValidatorSetUpdates');
    const updates = (data.value as JsonObject).validator_updates as JsonObject[];
    expect(updates[0]!.address).toBe(toHex(key.address));
    await ws.close();
    // effective two heights later
    await waitForHeight(node.url, r.height + 2);
    const all = await client.validatorsAll(r.height + 2);
    expect(all.total).toBe(2);
    expect(all.validators.map((v) => v.votingPower).sort()).toEqual([1n, 10n]);
    const page2 = await client.validators({ height: r.height + 2, per_page: 1, page: 2 });
    expect(page2.count).toBe(1);
    expect(page2.total).toBe(2);
    const before = await client.validators({ height: r.height });
    expect(before.total).toBe(1);
    const bad = await call(node.url, 'validators', { page: '3', per_page: '1' });
    expect((bad.body.error as JsonObject).code).toBe(-32602);
  });

  test('consensus_params, consensus_state, dump_consensus_state, net_info', async () => {
    const p = await result(node.url, 'consensus_params', {});
    expect(((p.consensus_params as JsonObject).block as JsonObject).max_bytes).toMatch(/^\d+$/);
    const cs = await result(node.url, 'consensus_state', {});
    expect((cs.round_state as JsonObject)['height/round/step']).toMatch(/^\d+\/\d+\/\d$/);
    const dump = await result(node.url, 'dump_consensus_state', {});
    expect(Number((dump.round_state as JsonObject).height)).toBeGreaterThan(1);
    expect(dump.peers).toEqual([]);
    const net = await result(node.url, 'net_info', {});
    expect(net.n_peers).toBe('0');
  });

  test('unsafe endpoints with rpc.unsafe: flush the mempool; dialing needs p2p', async () => {
    expect(await result(node.url, 'unsafe_flush_mempool', {})).toEqual({});
    const d = await call(node.url, 'dial_seeds', { seeds: ['/ip4/127.0.0.1/tcp/1/p2p/x'] });
    expect((d.body.error as JsonObject).code).toBe(-32603);
  });
});

describe('websocket events through the client', () => {
  test('NewBlock, NewBlockHeader and Tx subscriptions deliver committed blocks and txs', async () => {
    const ws = (await connectComet(node.wsUrl)) as Comet38Client;
    try {
      const blocks: comet38.NewBlockEvent[] = [];
      const headers: comet38.NewBlockHeaderEvent[] = [];
      const txs: comet38.TxEvent[] = [];
      const subs = [
        ws.subscribeNewBlock().subscribe({ next: (b) => blocks.push(b) }),
        ws.subscribeNewBlockHeader().subscribe({ next: (h) => headers.push(h) }),
        ws.subscribeTx().subscribe({ next: (t) => txs.push(t) }),
      ];
      await expect.poll(() => blocks.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      const tx = enc.encode(`ws${Date.now()}=1`);
      const r = await client.broadcastTxCommit({ tx });
      await expect.poll(() => txs.find((t) => bytesEqual(t.tx, tx)), { timeout: 10_000 }).toBeTruthy();
      const ev = txs.find((t) => bytesEqual(t.tx, tx))!;
      expect(ev.height).toBe(r.height);
      expect(bytesEqual(ev.hash, txHash(tx))).toBe(true);
      await expect.poll(() => blocks.find((b) => b.header.height === r.height), { timeout: 10_000 }).toBeTruthy();
      const blk = blocks.find((b) => b.header.height === r.height)!;
      expect(blk.txs.some((t) => bytesEqual(t, tx))).toBe(true);
      // the served block and the event agree on the header hash
      const served = await client.block(r.height);
      expect(toHex(headerHash(headerFromJson((await result(node.url, 'header', { height: String(r.height) })).header)))).toBe(toHex(served.blockId.hash));
      expect(headers.some((h) => h.height === r.height)).toBe(true);
      for (const s of subs) s.unsubscribe();
    } finally {
      ws.disconnect();
    }
  });
});

describe('evidence', () => {
  test('broadcast_evidence verifies duplicate votes (time, signatures, powers), pools them, and a block commits them', async () => {
    // the node's own validator key signs two different blocks at a past height: real equivocation
    const key = (await readPrivValidatorKey(join(node.home, 'config', 'priv_validator_key.json'))).privKey;
    const status = await client.status();
    const height = status.syncInfo.latestBlockHeight - 1;
    const chainId = status.nodeInfo.network;
    const vote = (fill: number): Vote => {
      const unsigned: Vote = {
        type: 2,
        height,
        round: 0,
        blockId: { hash: new Uint8Array(32).fill(fill), partSetHeader: { total: 1, hash: new Uint8Array(32).fill(fill + 1) } },
        timestamp: { seconds: 1_700_000_000, nanos: 0 },
        validatorAddress: key.pubKey.address,
        validatorIndex: 0,
        signature: new Uint8Array(0),
        extension: new Uint8Array(0),
        extensionSignature: new Uint8Array(0),
      };
      return { ...unsigned, signature: key.sign(voteSignBytes(chainId, unsigned)) };
    };
    const powers = await client.validatorsAll(height);
    const total = powers.validators.reduce((n, v) => n + v.votingPower, 0n);
    // the evidence time is the time of the block at its height
    const header = ((await result(node.url, 'block', { height: String(height) })).block as JsonObject).header as JsonObject;
    const timestamp = parseTime(header.time as string);
    const evidence = { kind: 'duplicate_vote' as const, voteA: vote(1), voteB: vote(3), totalVotingPower: total, validatorPower: 10n, timestamp };

    const wrongTime = await call(node.url, 'broadcast_evidence', { evidence: evidenceToJson({ ...evidence, timestamp: { seconds: 1_700_000_000, nanos: 0 } }) });
    expect((wrongTime.body.error as JsonObject).data).toMatch(/different time to the block/);
    const forged = { ...evidence, voteB: { ...evidence.voteB, signature: new Uint8Array(64).fill(7) } };
    const bad = await call(node.url, 'broadcast_evidence', { evidence: evidenceToJson(forged) });
    expect((bad.body.error as JsonObject).data).toMatch(/invalid signature/);
    const same = await call(node.url, 'broadcast_evidence', { evidence: evidenceToJson({ ...evidence, voteB: evidence.voteA }) });
    expect((same.body.error as JsonObject).code).toBe(-32602);

    const ok = await result(node.url, 'broadcast_evidence', { evidence: evidenceToJson(evidence) });
    expect(typeof ok.hash).toBe('string');
    // the same evidence again is not an error (it is pending or already committed)
    expect((await result(node.url, 'broadcast_evidence', { evidence: evidenceToJson(evidence) })).hash).toBe(ok.hash);

    // the next block this validator proposes carries it
    let found = 0;
    for (let i = 0; i < 200 && found === 0; i++) {
      const top = (await client.status()).syncInfo.latestBlockHeight;
      for (let h = height + 1; h <= top && found === 0; h++) {
        const b = await client.block(h);
        if (b.block.evidence.length > 0) found = h;
      }
      if (found === 0) await new Promise((res) => setTimeout(res, 50));
    }
    expect(found).toBeGreaterThan(height);
  });
});
