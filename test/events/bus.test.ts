import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { toBase64, toHex } from '../../src/codec/index.js';
import { addressOf } from '../../src/crypto/index.js';
import { stateFromGenesis } from '../../src/execution/index.js';
import { txHash } from '../../src/types/index.js';
import * as arb from '../helpers/arbitraries.js';
import { testGenesis, testKeys } from '../helpers/chain.js';
import { EventBus, EventBusError, NodeEvents, type BusMessage } from '../../src/events/index.js';
import type { Json } from '../../src/codec/index.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function collector(): { got: BusMessage[]; canceled: string[]; handlers: { deliver: (m: BusMessage) => void; canceled: (r: string) => void } } {
  const got: BusMessage[] = [];
  const canceled: string[] = [];
  return { got, canceled, handlers: { deliver: (m) => got.push(m), canceled: (r) => canceled.push(r) } };
}

let bus: EventBus;
afterEach(() => bus?.stop());

describe('EventBus', () => {
  test('delivers matching events, after publish returns, with tm.event and extra keys in the event map', async () => {
    bus = new EventBus();
    const tx = collector();
    const blocks = collector();
    bus.subscribe('a', "tm.event='Tx' AND app.key='k1'", tx.handlers);
    bus.subscribe('a', "tm.event = 'NewBlock'", blocks.handlers);
    const n = bus.publish('Tx', () => ({ v: 1 }), [{ type: 'app', attributes: [{ key: 'key', value: 'k1' }] }], { 'tx.hash': ['AB'] });
    bus.publish('Tx', () => ({ v: 2 }), [{ type: 'app', attributes: [{ key: 'key', value: 'k2' }] }]);
    bus.publish('NewBlock', () => ({ v: 3 }));
    expect(n).toBe(1);
    expect(tx.got).toHaveLength(0); // never from inside publish
    await tick();
    expect(tx.got.map((m) => m.data())).toEqual([{ v: 1 }]);
    expect(tx.got[0]!.events).toEqual({ 'app.key': ['k1'], 'tx.hash': ['AB'], 'tm.event': ['Tx'] });
    expect(blocks.got.map((m) => m.type)).toEqual(['NewBlock']);
  });

  test('event data is built once, and not at all without a match', async () => {
    bus = new EventBus();
    let built = 0;
    const data = (): Json => {
      built++;
      return { big: true };
    };
    bus.publish('NewBlock', data); // nobody subscribed
    const a = collector();
    const b = collector();
    bus.subscribe('a', "tm.event='NewBlock'", a.handlers);
    bus.subscribe('b', "tm.event='NewBlock'", b.handlers);
    bus.publish('NewBlock', data);
    bus.publish('Tx', data);
    await tick();
    for (const m of [...a.got, ...b.got]) m.data();
    expect(built).toBe(1);
  });

  test('limits: clients, subscriptions per client, duplicates, query syntax and length', () => {
    bus = new EventBus({ maxClients: 2, maxSubscriptionsPerClient: 2 });
    const h = collector().handlers;
    bus.subscribe('a', "tm.event='NewBlock'", h);
    const err = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(EventBusError);
        return (e as EventBusError).code;
      }
      return 'none';
    };
    expect(err(() => bus.subscribe('a', "tm.event = 'NewBlock'", h))).toBe('already_subscribed'); // same query, other spacing
    bus.subscribe('a', "tm.event='Tx'", h);
    expect(err(() => bus.subscribe('a', "tm.event='Vote'", h))).toBe('too_many_subscriptions');
    bus.subscribe('b', "tm.event='Vote'", h);
    expect(err(() => bus.subscribe('c', "tm.event='Vote'", h))).toBe('too_many_clients');
    expect(err(() => bus.subscribe('b', "tm.event='Vote", h))).toBe('invalid_query');
    expect(err(() => bus.subscribe('b', `a='${'x'.repeat(600)}'`, h))).toBe('invalid_query');
    expect(err(() => bus.unsubscribe('b', "tm.event='Tx'"))).toBe('not_subscribed');
    expect(bus.numClients()).toBe(2);
    bus.unsubscribe('a', "tm.event  =  'Tx'");
    expect(bus.numClientSubscriptions('a')).toBe(1);
    bus.unsubscribeAll('a');
    expect(bus.numClients()).toBe(1);
    expect(err(() => bus.unsubscribeAll('a'))).toBe('not_subscribed');
  });

  test('a subscriber that falls behind is cancelled with a reason; the publisher never waits', async () => {
    bus = new EventBus({ bufferSize: 10 });
    const slow = collector();
    const fast = collector();
    bus.subscribe('slow', "tm.event='Tx'", slow.handlers);
    bus.subscribe('fast', "tm.event='NewBlock'", fast.handlers);
    for (let i = 0; i < 11; i++) bus.publish('Tx', () => i); // all before any drain: the queue overflows
    expect(slow.canceled).toEqual(['slow client: 10 events waiting to be delivered']);
    expect(bus.numClientSubscriptions('slow')).toBe(0);
    bus.publish('NewBlock', () => 'b');
    await tick();
    expect(slow.got).toHaveLength(0); // its queue was dropped with it
    expect(fast.got).toHaveLength(1);
  });

  test('a subscriber whose delivery throws is cancelled; stop() cancels everyone with a reason', async () => {
    bus = new EventBus();
    const canceled: string[] = [];
    bus.subscribe('x', "tm.event='Tx'", { deliver: () => { throw new Error('socket gone'); }, canceled: (r) => canceled.push(r) });
    const other = collector();
    bus.subscribe('y', "tm.event='Tx'", other.handlers);
    bus.publish('Tx', () => 1);
    await tick();
    expect(canceled).toEqual(['delivery failed: socket gone']);
    bus.stop('bye');
    expect(other.canceled).toEqual(['bye']);
    expect(() => bus.subscribe('z', "tm.event='Tx'", other.handlers)).toThrow(EventBusError);
    expect(bus.publish('Tx', () => 1)).toBe(0);
  });
});

describe('NodeEvents: consensus events', () => {
  test('round events become CometBFT RoundState/NewRound/Vote data and update the round view', async () => {
    bus = new EventBus({ maxSubscriptionsPerClient: 20 });
    const ne = new NodeEvents(bus, () => ({ seconds: 1_700_000_000, nanos: 0 }));
    const got = collector();
    for (const t of ['NewRound', 'NewRoundStep', 'TimeoutPropose', 'TimeoutWait', 'Vote', 'Lock', 'Polka', 'ValidBlock', 'CompleteProposal'])
      bus.subscribe('a', `tm.event='${t}'`, got.handlers);
    const blockId = { hash: new Uint8Array(32).fill(1), partSetHeader: { total: 1, hash: new Uint8Array(32).fill(2) } };
    const address = new Uint8Array(20).fill(3);
    ne.consensus({ kind: 'newStep', height: 5, round: 0, step: 'NewRound' });
    ne.consensus({ kind: 'newRound', height: 5, round: 0, proposer: { address, index: 0 } });
    ne.consensus({ kind: 'newStep', height: 5, round: 0, step: 'Propose' });
    ne.consensus({ kind: 'timeout', height: 5, round: 0, timeout: 'propose' });
    const vote = { type: 1, height: 5, round: 0, blockId, timestamp: { seconds: 1_700_000_000, nanos: 5 }, validatorAddress: address, validatorIndex: 0, signature: new Uint8Array(64).fill(9), extension: new Uint8Array(0), extensionSignature: new Uint8Array(0) };
    ne.consensus({ kind: 'vote', vote });
    ne.consensus({ kind: 'polka', height: 5, round: 0, blockId });
    ne.consensus({ kind: 'lock', height: 5, round: 0, blockId });
    ne.consensus({ kind: 'validBlock', height: 5, round: 0, blockId });
    ne.consensus({ kind: 'newStep', height: 5, round: 0, step: 'PrecommitWait' });
    ne.consensus({ kind: 'timeout', height: 5, round: 0, timeout: 'precommit' });
    await tick();
    const byType = (t: string): Json[] => got.got.filter((m) => m.type === t).map((m) => m.data());
    expect(byType('NewRound')).toEqual([{ type: 'tendermint/event/NewRound', value: { height: '5', round: 0, step: 'RoundStepNewRound', proposer: { address: '03'.repeat(20), index: 0 } } }]);
    expect(byType('NewRoundStep').map((d) => ((d as { value: { step: string } }).value.step))).toEqual(['RoundStepNewRound', 'RoundStepPropose', 'RoundStepPrecommitWait']);
    expect(byType('TimeoutPropose')).toEqual([{ type: 'tendermint/event/RoundState', value: { height: '5', round: 0, step: 'RoundStepPropose' } }]);
    expect(byType('TimeoutWait')).toHaveLength(1);
    expect(((byType('Vote')[0] as { value: { Vote: { height: string; validator_index: number } } }).value.Vote)).toMatchObject({ height: '5', validator_index: 0, type: 1 });
    for (const t of ['Polka', 'Lock', 'ValidBlock']) expect(byType(t)).toHaveLength(1);
    const view = ne.round;
    expect(view).toMatchObject({ height: 5, round: 0, step: 'PrecommitWait' });
    expect(view.locked?.round).toBe(0);
    expect(view.votes.get(0)?.prevotes.get(0)).toBe(vote);
    // a new height resets the view
    ne.consensus({ kind: 'newStep', height: 6, round: 0, step: 'NewHeight' });
    expect(ne.round).toMatchObject({ height: 6, locked: null });
    expect(ne.round.votes.size).toBe(0);
  });
});

describe('NodeEvents: block events', () => {
  test("an applied block publishes NewBlock, NewBlockHeader, NewBlockEvents, NewEvidence, Tx, ValidatorSetUpdates in CometBFT's order and shapes", async () => {
    bus = new EventBus({ maxSubscriptionsPerClient: 10 });
    const ne = new NodeEvents(bus);
    const got = collector();
    bus.subscribe('a', 'tm.event EXISTS', got.handlers);
    const [b] = fc.sample(arb.block, { seed: 5, numRuns: 1 });
    const [v1, v2] = fc.sample(arb.vote, { seed: 6, numRuns: 2 });
    const evidence = { kind: 'duplicate_vote' as const, voteA: v1!, voteB: v2!, totalVotingPower: 30n, validatorPower: 10n, timestamp: { seconds: 1, nanos: 0 } };
    const tx = new TextEncoder().encode('k=v');
    const block = { ...b!, data: { txs: [tx] }, evidence: [evidence] };
    const result = { code: 0, data: new Uint8Array(0), log: '', info: '', gasWanted: 0n, gasUsed: 0n, events: [{ type: 'app', attributes: [{ key: 'key', value: 'k', index: true }] }], codespace: '' };
    const pubKey = new Uint8Array(32).fill(4);
    const keys = testKeys(1);
    const state = stateFromGenesis(testGenesis(keys));
    ne.blockApplied({
      block,
      blockId: { hash: new Uint8Array(32).fill(1), partSetHeader: { total: 1, hash: new Uint8Array(32).fill(2) } },
      response: { events: [{ type: 'rewards', attributes: [{ key: 'amount', value: '5', index: true }] }], txResults: [result], validatorUpdates: [{ pubKey, power: 3n }], appHash: new Uint8Array(32) },
      state,
    });
    await tick();
    expect(got.got.map((m) => m.type)).toEqual(['NewBlock', 'NewBlockHeader', 'NewBlockEvents', 'NewEvidence', 'Tx', 'ValidatorSetUpdates']);
    const [newBlock, , blockEvents, ev, txEv, vsu] = got.got;
    expect(newBlock!.events).toEqual({ 'rewards.amount': ['5'], 'tm.event': ['NewBlock'] });
    const nb = (newBlock!.data() as { value: { block: { data: { txs: string[] } }; result_finalize_block: { tx_results: unknown[]; validator_updates: { power: string }[] } } }).value;
    expect(nb.block.data.txs).toEqual([toBase64(tx)]);
    expect(nb.result_finalize_block.validator_updates[0]!.power).toBe('3');
    expect((blockEvents!.data() as { value: { num_txs: string } }).value.num_txs).toBe('1');
    const evd = (ev!.data() as { value: { height: string; evidence: { type: string; value: { TotalVotingPower: string } } } }).value;
    expect(evd.evidence.type).toBe('tendermint/DuplicateVoteEvidence');
    expect(evd.evidence.value.TotalVotingPower).toBe('30');
    expect(txEv!.events['tx.hash']).toEqual([toHex(txHash(tx))]);
    expect(txEv!.events['app.key']).toEqual(['k']);
    expect((txEv!.data() as { value: { TxResult: { index: number; height: string } } }).value.TxResult).toMatchObject({ index: 0, height: String(block.header.height) });
    expect((vsu!.data() as { value: { validator_updates: { address: string; voting_power: string }[] } }).value.validator_updates[0]).toMatchObject({ address: toHex(addressOf(pubKey)), voting_power: '3' });
  });
});
