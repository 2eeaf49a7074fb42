// The part the tx index and the block index share: entries for indexed event attributes, and
// evaluating a query's event conditions against them with CometBFT 0.38's semantics.
//
// Entry key:  prefix ‖ keyString(type.key) ‖ keyString(value) ‖ item id ‖ event seq(4)   → ∅
//
// The item id is fixed-length per index (block: height(8)); the event seq is the event's position
// in its list. An index may instead group the items of a key/value in an entry's value (the tx
// index: one entry per block, see tx-index.ts) and say how to read them (EventMatchOptions.items). Strings are length-prefixed, so attribute content
// can never be mistaken for key structure (CometBFT's "/"-separated keys had that bug class).
//
// Semantics (CometBFT 0.38 kv indexer): only attributes with index=true, a non-empty event type
// and key are indexed; a query's event conditions must ALL be satisfied by attributes of ONE
// event (0.38 matches within the same event, by event sequence), so `a.x=1 AND a.y=2` finds
// items with an event of type a carrying both — conditions on two different event types never
// match together. The reserved keys (tx.height, tx.hash, block.height) are handled by each index.
// Values compare as the subscription matcher compares them (src/query): `= 250` is numeric and
// also finds "250.0" or "250stake", where CometBFT's indexer compared the text exactly; `= '250'`
// (a string) is exact and is the fast path.
import type { Event } from '../codec/index.js';
import { conditionMatchesValue, type Condition } from '../query/index.js';
import { concatBytes, keyString, prefixEnd, readKeyString, put, u32, type BatchOp, type LevelDb } from './db.js';
import { StoreError } from './errors.js';

// The composite keys of recent (type, key) pairs: the same string each time, whose hash the
// engine keeps, rather than a new string per attribute of every tx. Bounded, being app-defined.
const MAX_CACHED_KEYS = 1024;
const compositeKeys = new Map<string, Map<string, string>>();

function compositeKey(type: string, key: string): string {
  let byKey = compositeKeys.get(type);
  if (!byKey) {
    if (compositeKeys.size >= MAX_CACHED_KEYS) compositeKeys.clear();
    compositeKeys.set(type, (byKey = new Map()));
  }
  let k = byKey.get(key);
  if (k === undefined) {
    if (byKey.size >= MAX_CACHED_KEYS) byKey.clear();
    byKey.set(key, (k = `${type}.${key}`));
  }
  return k;
}

/** Calls `fn(seq, composite key, value)` for each indexable attribute of an event list, skipping reserved keys. */
export function forEachIndexedAttribute(events: readonly Event[], reserved: ReadonlySet<string>, fn: (seq: number, key: string, value: string) => void): void {
  for (let seq = 0; seq < events.length; seq++) {
    const e = events[seq]!;
    if (e.type === '') continue;
    for (const a of e.attributes) {
      if (!a.index || a.key === '') continue;
      const key = compositeKey(e.type, a.key);
      // CometBFT rejects the whole batch for an app event that reuses a reserved key; skipping
      // the attribute keeps the reserved meaning intact without failing the block's indexing.
      if (reserved.has(key)) continue;
      fn(seq, key, a.value);
    }
  }
}

/** The indexable attributes of an event list: [seq, composite key, value], skipping reserved keys. */
export function indexedAttributes(events: readonly Event[], reserved: ReadonlySet<string>): [number, string, string][] {
  const out: [number, string, string][] = [];
  forEachIndexedAttribute(events, reserved, (seq, key, value) => out.push([seq, key, value]));
  return out;
}

export function eventEntryKeys(prefix: Uint8Array, id: Uint8Array, events: readonly Event[], reserved: ReadonlySet<string>): Uint8Array[] {
  return indexedAttributes(events, reserved).map(([seq, key, value]) => concatBytes(prefix, keyString(key), keyString(value), id, u32(seq)));
}

export function eventEntryPuts(prefix: Uint8Array, id: Uint8Array, events: readonly Event[], reserved: ReadonlySet<string>): BatchOp[] {
  const empty = new Uint8Array(0);
  return eventEntryKeys(prefix, id, events, reserved).map((k) => put(k, empty));
}

/** In memory, the same rule as the index: one event satisfies every condition. */
export function eventsSatisfy(conditions: readonly Condition[], events: readonly Event[], reserved: ReadonlySet<string>): boolean {
  if (conditions.length === 0) return true;
  const bySeq = new Map<number, [string, string][]>();
  for (const [seq, key, value] of indexedAttributes(events, reserved)) {
    const list = bySeq.get(seq) ?? [];
    list.push([key, value]);
    bySeq.set(seq, list);
  }
  for (const attrs of bySeq.values()) {
    if (conditions.every((c) => attrs.some(([key, value]) => key === c.key && conditionMatchesValue(c, value)))) return true;
  }
  return false;
}

const latin1 = new TextDecoder('latin1');
/** A compact Map key for bytes (one char per byte). */
export const bytesKey = (b: Uint8Array): string => latin1.decode(b);

export interface EventMatchOptions {
  /** Item ids (without seq) failing this are skipped while scanning (e.g. outside a height range). */
  readonly accept: (id: Uint8Array) => boolean;
  /** More candidate (item, event) pairs than this fails the search with too_many_results. */
  readonly maxMatches: number;
  /**
   * For entries that list their items in the value: the item id ‖ seq of each, from the key's
   * rest after the value string and the entry's value (undefined: not an entry of this shape).
   * Without it an entry is one item, id ‖ seq being the key's rest.
   */
  readonly items?: (rest: Uint8Array, value: Uint8Array) => Uint8Array[] | undefined;
}

const NO_VALUE = new Uint8Array(0);

/** [key, value] of every entry in [gte, lt); values are read only when asked for. */
async function* entriesIn(db: LevelDb, gte: Uint8Array, lt: Uint8Array, values: boolean): AsyncGenerator<[Uint8Array, Uint8Array]> {
  if (values) {
    for await (const [k, v] of db.iterator({ gte, lt })) yield [k, v];
  } else {
    for await (const k of db.keys({ gte, lt })) yield [k, NO_VALUE];
  }
}

/**
 * The ids of items with one event satisfying every condition. One scan per condition: an
 * exact string equality reads only its key/value range, everything else reads every value
 * under the key; the candidate (item, event) sets are intersected.
 */
export async function matchEventConditions(
  db: LevelDb,
  prefix: Uint8Array,
  idLength: number,
  conditions: readonly Condition[],
  opts: EventMatchOptions,
): Promise<Uint8Array[]> {
  // Cheapest, most selective scans first: they bound the rest.
  const ordered = [...conditions].sort((a, b) => rank(a) - rank(b));
  let candidates: Map<string, Uint8Array> | undefined;
  for (const c of ordered) {
    const exact = c.op === '=' && c.operand.type === 'string';
    const scanPrefix = exact ? concatBytes(prefix, keyString(c.key), keyString(c.operand.value)) : concatBytes(prefix, keyString(c.key));
    const found = new Map<string, Uint8Array>();
    for await (const [raw, value] of entriesIn(db, scanPrefix, prefixEnd(scanPrefix), opts.items !== undefined)) {
      const k = Uint8Array.from(raw);
      let at = scanPrefix.length;
      if (!exact) {
        const v = readKeyString(k, at);
        if (!v || !conditionMatchesValue(c, v.value)) continue;
        at = v.end;
      }
      // not an entry of this shape (cannot happen with our writes)
      const idSeqs = opts.items ? opts.items(k.subarray(at), Uint8Array.from(value)) : [k.subarray(at)];
      if (!idSeqs) continue;
      for (const idSeq of idSeqs) {
        if (idSeq.length !== idLength + 4) continue;
        const id = idSeq.subarray(0, idLength);
        if (!opts.accept(id)) continue;
        const mk = bytesKey(idSeq);
        if (candidates !== undefined && !candidates.has(mk)) continue;
        found.set(mk, id);
        if (found.size > opts.maxMatches)
          throw new StoreError('too_many_results', `query matches more than ${opts.maxMatches} items; narrow it (e.g. with a height range)`, {
            maxMatches: opts.maxMatches,
          });
      }
    }
    candidates = found;
    if (candidates.size === 0) break;
  }
  const ids = new Map<string, Uint8Array>();
  for (const id of (candidates ?? new Map<string, Uint8Array>()).values()) ids.set(bytesKey(id), Uint8Array.from(id));
  return [...ids.values()];
}

function rank(c: Condition): number {
  if (c.op === '=' && c.operand.type === 'string') return 0;
  if (c.op === 'EXISTS') return 2;
  return 1;
}
