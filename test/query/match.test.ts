import { describe, expect, it } from 'vitest';
import type { Event } from '../../src/codec/index.js';
import { compareDecimal, flattenEvents, matchesEvents, parseDecimal, parseQuery, type EventMap } from '../../src/query/index.js';

const matches = (query: string, events: EventMap): boolean => matchesEvents(parseQuery(query), events);

describe('matcher over flattened events', () => {
  const events: EventMap = {
    'tm.event': ['Tx'],
    'tx.height': ['12'],
    'tx.hash': ['AB12'],
    'transfer.sender': ['alice', 'bob'],
    'transfer.amount': ['100stake'],
    'account.balance': ['123456789012345678901234567890'],
    'price.value': ['3.25'],
    'debt.value': ['-7'],
    'block.date': ['2013-05-03'],
    'block.time': ['2013-05-03T14:45:00.5Z'],
  };

  it.each([
    ["tm.event = 'Tx'", true],
    ["tm.event = 'NewBlock'", false],
    ['tx.height = 12', true],
    ['tx.height = 12.0', true],
    ["tx.height = '12'", true],
    ["tx.height = '12.0'", false],
    ['tx.height > 11 AND tx.height < 13', true],
    ['tx.height >= 12 AND tx.height <= 12', true],
    ['tx.height > 12', false],
    ['tx.height < 12', false],
    // any value under the key may satisfy a condition
    ["transfer.sender = 'bob'", true],
    ["transfer.sender = 'carol'", false],
    ["transfer.sender CONTAINS 'li'", true],
    ["transfer.sender CONTAINS 'xx'", false],
    // a value is read as its leading number
    ['transfer.amount = 100', true],
    ['transfer.amount > 99.5', true],
    ["transfer.amount CONTAINS 'stake'", true],
    // exact big integers and decimals
    ['account.balance > 123456789012345678901234567889', true],
    ['account.balance = 123456789012345678901234567890', true],
    ['account.balance < 123456789012345678901234567890', false],
    ['price.value > 3.2 AND price.value < 3.3', true],
    ['price.value = 3.250', true],
    ['debt.value < 0', true],
    // a value that is not a number never satisfies a numeric condition
    ['tm.event > 0', false],
    ['tm.event < 1', false],
    // dates and times, either form on either side
    ['block.date = DATE 2013-05-03', true],
    ['block.date > DATE 2013-05-02 AND block.date < DATE 2013-05-04', true],
    ['block.date = TIME 2013-05-03T00:00:00Z', true],
    ['block.time > TIME 2013-05-03T14:45:00Z', true],
    ['block.time < TIME 2013-05-03T16:45:01+02:00', true],
    ['block.time >= DATE 2013-05-04', false],
    ['block.time <= DATE 2013-05-04', true],
    ['tx.height < DATE 2013-05-04', false],
    // EXISTS, including a bare event type
    ['transfer.sender EXISTS', true],
    ['transfer.receiver EXISTS', false],
    ['transfer EXISTS', true],
    ["transfer = ''", true],
    ['trans EXISTS', false],
    ["tm.event = 'Tx' AND transfer.sender = 'alice' AND tx.height >= 10", true],
    ["tm.event = 'Tx' AND transfer.sender = 'alice' AND tx.height >= 13", false],
  ])('%s → %s', (query, expected) => {
    expect(matches(query, events)).toBe(expected);
  });

  it('never matches an empty event map', () => {
    expect(matches('a.b EXISTS', {})).toBe(false);
  });

  it('does not see keys on the object prototype', () => {
    expect(matches('constructor EXISTS', { 'a.b': ['1'] })).toBe(false);
    expect(matches("__proto__ = 'x'", { 'a.b': ['1'] })).toBe(false);
  });
});

describe('flattenEvents', () => {
  it('flattens every attribute (indexed or not) under type.key, skipping empty types and keys, then adds extras', () => {
    const events: Event[] = [
      { type: 'transfer', attributes: [{ key: 'sender', value: 'alice', index: true }, { key: 'amount', value: '5', index: false }] },
      { type: '', attributes: [{ key: 'ignored', value: 'x', index: true }] },
      { type: 'transfer', attributes: [{ key: 'sender', value: 'bob', index: true }, { key: '', value: 'no key', index: true }] },
      { type: '__proto__', attributes: [{ key: 'polluted', value: 'no', index: true }] },
    ];
    const map = flattenEvents(events, { 'tm.event': ['Tx'], 'tx.height': ['3'] });
    expect({ ...map }).toEqual({
      'transfer.sender': ['alice', 'bob'],
      'transfer.amount': ['5'],
      '__proto__.polluted': ['no'],
      'tm.event': ['Tx'],
      'tx.height': ['3'],
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(matchesEvents(parseQuery("tm.event = 'Tx' AND transfer.sender = 'bob' AND transfer.amount < 6"), map)).toBe(true);
  });
});

describe('decimals', () => {
  it('compare exactly, independent of leading and trailing zeros', () => {
    const d = (s: string) => parseDecimal(s)!;
    expect(compareDecimal(d('007.50'), d('7.5'))).toBe(0);
    expect(compareDecimal(d('-0'), d('0'))).toBe(0);
    expect(compareDecimal(d('-1'), d('0.5'))).toBe(-1);
    expect(compareDecimal(d('-1.5'), d('-1.25'))).toBe(-1);
    expect(compareDecimal(d('99999999999999999999.000001'), d('99999999999999999999'))).toBe(1);
    expect(compareDecimal(d('0.1'), d('0.09'))).toBe(1);
    expect(parseDecimal('1e3')).toBeUndefined();
  });
});
