// Websocket subscriptions against a running node, with a raw client so the exact wire shapes
// are checked: replies and events carry the subscribe request's id, `result.query` and an
// `events` map; every event type of the issue is delivered (timeouts on a node with offline
// validators); limits hold; a slow client is dropped with a reason while the node keeps
// committing.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { JsonObject } from '../../src/codec/index.js';
import { toBase64 } from '../../src/codec/index.js';
import { PrivKey } from '../../src/crypto/index.js';
import { call, openWs, result, startNode, waitForHeight, type TestNode } from './helpers.js';

let node: TestNode;
let impatient: TestNode;

beforeAll(async () => {
  // the second node gets offline validators, so some rounds time out (see the timeout test)
  [node, impatient] = await Promise.all([startNode(), startNode(['--consensus.timeout_propose', '200ms', '--consensus.timeout_precommit', '50ms'])]);
});
afterAll(async () => {
  await Promise.all([node?.stop(), impatient?.stop()]);
});

const isEvent = (id: string | number, type?: string) => (m: JsonObject): boolean => {
  if (m.id !== id || !m.result) return false;
  const data = (m.result as JsonObject).data as JsonObject | undefined;
  return data !== undefined && (type === undefined || ((m.result as JsonObject).events as Record<string, string[]>)['tm.event']?.[0] === type);
};

describe('subscriptions', () => {
  test('reply and events share the request id (and its JSON type), with query and events map', async () => {
    const ws = await openWs(node.wsUrl);
    try {
      ws.send('subscribe', { query: "tm.event='NewBlock'" }, 7);
      ws.send('subscribe', ["tm.event = 'Tx' AND app.key = 'evk'"], 'tx-sub');
      expect(await ws.next((m) => m.id === 7)).toEqual({ jsonrpc: '2.0', id: 7, result: {} });
      await ws.next((m) => m.id === 'tx-sub' && 'result' in m);
      const block = await ws.next(isEvent(7));
      const r = block.result as JsonObject;
      expect(r.query).toBe("tm.event='NewBlock'");
      expect((r.data as JsonObject).type).toBe('tendermint/event/NewBlock');
      const value = (r.data as JsonObject).value as JsonObject;
      expect(Object.keys(value).sort()).toEqual(['block', 'block_id', 'result_finalize_block']);
      expect((r.events as JsonObject)['tm.event']).toEqual(['NewBlock']);

      await result(node.url, 'broadcast_tx_sync', { tx: toBase64(new TextEncoder().encode('evk=1')) });
      const tx = await ws.next(isEvent('tx-sub'));
      const tr = tx.result as JsonObject;
      expect(tr.query).toBe("tm.event = 'Tx' AND app.key = 'evk'");
      const txResult = ((tr.data as JsonObject).value as JsonObject).TxResult as JsonObject;
      expect(txResult.tx).toBe(toBase64(new TextEncoder().encode('evk=1')));
      const events = tr.events as Record<string, string[]>;
      expect(events['app.key']).toContain('evk');
      expect(events['tx.hash']![0]).toMatch(/^[0-9A-F]{64}$/);
      expect(events['tx.height']).toEqual([txResult.height]);
    } finally {
      await ws.close();
    }
  });

  test('consensus and block events: NewRound, NewRoundStep, CompleteProposal, Vote, Polka, Lock, ValidBlock, NewBlockHeader, NewBlockEvents', async () => {
    const types = ['NewRound', 'NewRoundStep', 'CompleteProposal', 'Vote', 'Polka', 'Lock', 'ValidBlock', 'NewBlockHeader', 'NewBlockEvents'];
    const sockets = await Promise.all([openWs(node.wsUrl), openWs(node.wsUrl)]); // 5 subscriptions per client
    try {
      types.forEach((t, i) => sockets[i % 2]!.send('subscribe', { query: `tm.event='${t}'` }, t));
      for (const [i, t] of types.entries()) {
        const ev = await sockets[i % 2]!.next(isEvent(t, t));
        const data = (ev.result as JsonObject).data as JsonObject;
        expect(data.type, t).toMatch(/^tendermint\/event\//);
        const value = data.value as JsonObject;
        if (t === 'Vote') expect((value.Vote as JsonObject).validator_address).toMatch(/^[0-9A-F]{40}$/);
        else if (t === 'NewBlockHeader') expect((value.header as JsonObject).height).toMatch(/^\d+$/);
        else if (t === 'NewBlockEvents') expect(value.num_txs).toMatch(/^\d+$/);
        else expect(value.height, t).toMatch(/^\d+$/);
        if (t === 'NewRound') expect((value.proposer as JsonObject).address).toMatch(/^[0-9A-F]{40}$/);
        if (t === 'CompleteProposal') expect((value.block_id as JsonObject).hash).toMatch(/^[0-9A-F]{64}$/);
      }
    } finally {
      await Promise.all(sockets.map((s) => s.close()));
    }
  });

  test('TimeoutPropose and TimeoutWait when an offline validator should propose; the chain still commits', async () => {
    // two validators of power 1 that never sign: the node (power 10 of 12) commits alone, but
    // in their rounds the proposal times out, it prevotes and precommits nil, and waits
    for (let i = 0; i < 2; i++) {
      const key = PrivKey.generate().pubKey;
      await result(impatient.url, 'broadcast_tx_commit', { tx: toBase64(new TextEncoder().encode(`val=ed25519!${toBase64(key.bytes)}!1`)) });
    }
    const ws = await openWs(impatient.wsUrl);
    try {
      ws.send('subscribe', { query: "tm.event='TimeoutPropose'" }, 'tp');
      ws.send('subscribe', { query: "tm.event='TimeoutWait'" }, 'tw');
      const tp = await ws.next(isEvent('tp'), 20_000);
      expect(((tp.result as JsonObject).data as JsonObject).type).toBe('tendermint/event/RoundState');
      await ws.next(isEvent('tw'), 20_000);
      const h = Number(((await result(impatient.url, 'status')).sync_info as JsonObject).latest_block_height);
      await waitForHeight(impatient.url, h + 1);
    } finally {
      await ws.close();
    }
  });

  test('limits and errors: per-client subscriptions, duplicates, bad queries, unsubscribe, websocket-only methods', async () => {
    const ws = await openWs(node.wsUrl);
    try {
      for (let i = 0; i < 4; i++) ws.send('subscribe', { query: `tm.event='NewBlock' AND block.height > ${i}` }, `s${i}`);
      for (let i = 0; i < 4; i++) await ws.next((m) => m.id === `s${i}` && 'result' in m);
      ws.send('subscribe', { query: "tm.event='NewBlock' AND block.height > 0" }, 'dup');
      expect((await ws.next((m) => m.id === 'dup')).error).toMatchObject({ data: 'already subscribed' });
      ws.send('subscribe', { query: `tm.event='NewBlock' AND block.height > 4` }, 's4');
      await ws.next((m) => m.id === 's4' && 'result' in m);
      ws.send('subscribe', { query: "tm.event='Vote'" }, 'sixth');
      expect((await ws.next((m) => m.id === 'sixth')).error).toMatchObject({ code: -32603, data: 'max_subscriptions_per_client 5 reached' });
      ws.send('subscribe', { query: "tm.event='NewBlock" }, 'bad');
      expect((await ws.next((m) => m.id === 'bad')).error).toMatchObject({ code: -32602 });
      ws.send('subscribe', {}, 'noquery');
      expect((await ws.next((m) => m.id === 'noquery')).error).toMatchObject({ code: -32602 });
      ws.send('unsubscribe', { query: "tm.event='NewBlock' AND block.height > 4" }, 'u');
      expect(await ws.next((m) => m.id === 'u')).toMatchObject({ result: {} });
      ws.send('unsubscribe', { query: "tm.event='NewBlock' AND block.height > 4" }, 'u2');
      expect((await ws.next((m) => m.id === 'u2')).error).toMatchObject({ data: 'subscription not found' });
      ws.send('unsubscribe_all', {}, 'ua');
      expect(await ws.next((m) => m.id === 'ua')).toMatchObject({ result: {} });
      // after unsubscribe_all nothing more arrives for the old ids
      const count = ws.messages.length;
      await waitForHeight(node.url, Number(((await result(node.url, 'status')).sync_info as JsonObject).latest_block_height) + 2);
      expect(ws.messages.slice(count).filter((m) => typeof m.id === 'string' && m.id.startsWith('s'))).toEqual([]);
    } finally {
      await ws.close();
    }
    const http = await call(node.url, 'subscribe', { query: "tm.event='NewBlock'" });
    expect((http.body.error as JsonObject).code).toBe(-32601);
  });

  test('closing the socket frees its subscriptions for other clients', async () => {
    for (let round = 0; round < 3; round++) {
      const ws = await openWs(node.wsUrl);
      for (let i = 0; i < 5; i++) ws.send('subscribe', { query: `tm.event='NewBlock' AND block.height > ${i}` }, i);
      for (let i = 0; i < 5; i++) await ws.next((m) => m.id === i && 'result' in m);
      await ws.close();
    }
  });
});

describe('slow clients', () => {
  test('a client that stops reading is dropped with a reason; consensus goes on', async () => {
    const ws = await openWs(node.wsUrl);
    ws.send('subscribe', { query: "tm.event='NewBlock'" }, 1);
    ws.send('subscribe', { query: "tm.event='Tx'" }, 2);
    await ws.next((m) => m.id === 2 && 'result' in m);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    const socket = (ws.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const start = Number(((await result(node.url, 'status')).sync_info as JsonObject).latest_block_height);
    // Batches of ten 150 KB txs, a block apart (so no block nears the consensus WAL's 4 MiB
    // record limit): each tx is in a NewBlock and a Tx event, soon beyond the 4 MiB send buffer.
    const big = (i: number): string => toBase64(new TextEncoder().encode(`big${i}=${String(i).padStart(150_000, 'x')}`));
    const dropped = node.run.waitFor(/dropping slow websocket client/, 30_000);
    let isDropped = false;
    void dropped.then(() => (isDropped = true), () => {});
    for (let batch = 0; batch < 20 && !isDropped; batch++) {
      for (let i = 0; i < 10; i++) await call(node.url, 'broadcast_tx_sync', { tx: big(batch * 10 + i) });
      const h = Number(((await result(node.url, 'status')).sync_info as JsonObject).latest_block_height);
      await waitForHeight(node.url, h + 2);
    }
    await dropped;
    expect(Number(((await result(node.url, 'status')).sync_info as JsonObject).latest_block_height)).toBeGreaterThan(start);
    socket.resume();
    const { code, reason } = await closed;
    expect(code).toBe(1008);
    expect(reason).toMatch(/slow client/);
    const now = Number(((await result(node.url, 'status')).sync_info as JsonObject).latest_block_height);
    await waitForHeight(node.url, now + 2);
  });
});
