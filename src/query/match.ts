// Matching a parsed query against events, with CometBFT's semantics:
//
// - Events are flattened to a map from composite key ("type.attribute") to every value seen
//   under it; a condition holds if ANY value under its key satisfies it.
// - A query holds if every condition holds, and never on an empty event map.
// - Numbers compare numerically: the attribute value's leading decimal ("100stake" is 100);
//   a value that is not a number never satisfies a numeric condition. Comparison is exact.
// - DATE/TIME operands compare instants; a value may be an RFC 3339 time or a bare date.
// - CONTAINS is a substring test; '=' with a string is exact equality; EXISTS needs only the key.
// - A condition whose key is an event TYPE (no attribute) is checked against the empty string
//   when that type is present, so `transfer EXISTS` holds if any transfer.* key exists.
import type { Condition, OrderedOperand, Query } from './ast.js';
import { compareDecimal, decimalFromValue, instantFromValue } from './values.js';

/** Composite key → all values under it, in event order. */
export type EventMap = Record<string, string[]>;

/** The parts of an event this module reads (structurally the codec's Event). */
export interface EventLike {
  readonly type: string;
  readonly attributes: readonly { readonly key: string; readonly value: string }[];
}

function compareOrdered(operand: OrderedOperand, value: string): number | undefined {
  if (operand.type === 'number') {
    const v = decimalFromValue(value);
    return v === undefined ? undefined : compareDecimal(v, operand.value);
  }
  const v = instantFromValue(value);
  if (v === undefined) return undefined;
  return v === operand.nanos ? 0 : v < operand.nanos ? -1 : 1;
}

/** Does one attribute value satisfy the condition (the key is not looked at)? */
export function conditionMatchesValue(c: Condition, value: string): boolean {
  switch (c.op) {
    case 'EXISTS':
      return true;
    case 'CONTAINS':
      return value.includes(c.operand.value);
    case '=': {
      if (c.operand.type === 'string') return value === c.operand.value;
      return compareOrdered(c.operand, value) === 0;
    }
    default: {
      const cmp = compareOrdered(c.operand, value);
      if (cmp === undefined) return false;
      switch (c.op) {
        case '<':
          return cmp < 0;
        case '<=':
          return cmp <= 0;
        case '>':
          return cmp > 0;
        case '>=':
          return cmp >= 0;
      }
    }
  }
}

const own = (m: EventMap, k: string): readonly string[] | undefined => (Object.hasOwn(m, k) ? m[k] : undefined);

function hasEventType(events: EventMap, type: string): boolean {
  for (const k of Object.keys(events)) if (k.lastIndexOf('.') === type.length && k.startsWith(type)) return true;
  return false;
}

export function conditionMatches(c: Condition, events: EventMap): boolean {
  const values = own(events, c.key);
  if (values !== undefined && values.length > 0) return values.some((v) => conditionMatchesValue(c, v));
  return hasEventType(events, c.key) && conditionMatchesValue(c, '');
}

/** Does the query hold for these (flattened) events? */
export function matchesEvents(q: Query, events: EventMap): boolean {
  if (Object.keys(events).length === 0) return false;
  return q.conditions.every((c) => conditionMatches(c, events));
}

/**
 * Flatten events the way CometBFT does before matching subscriptions: every attribute (indexed
 * or not) of every event with a non-empty type, under "type.key"; attributes with an empty key
 * are skipped. `extra` (e.g. {"tm.event": ["Tx"], "tx.hash": [...]}) is added after them.
 */
export function flattenEvents(events: readonly EventLike[], extra: Readonly<Record<string, readonly string[]>> = {}): EventMap {
  // A prototype-free object: keys like "__proto__" or "constructor" are ordinary keys here.
  const out = Object.create(null) as EventMap;
  const add = (key: string, value: string): void => {
    const list = own(out, key);
    if (list) (list as string[]).push(value);
    else out[key] = [value];
  };
  for (const e of events) {
    if (e.type === '') continue;
    for (const a of e.attributes) if (a.key !== '') add(`${e.type}.${a.key}`, a.value);
  }
  for (const key of Object.keys(extra)) for (const v of extra[key]!) add(key, v);
  return out;
}
