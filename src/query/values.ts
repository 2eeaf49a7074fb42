// Numbers and times as the query language reads them, both in query literals and in event
// attribute values. Pure string arithmetic: no floating point, no Date parsing quirks.
import { daysFromCivil } from '../codec/index.js';
import type { Decimal } from './ast.js';

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
/** A value counts as a number if it starts with one ("8atom" is 8), as CometBFT reads values. */
const LEADING_DECIMAL = /^-?\d+(?:\.\d+)?/;

function normalise(negative: boolean, integer: string, fraction: string): Decimal {
  const i = integer.replace(/^0+/, '');
  const f = fraction.replace(/0+$/, '');
  return { negative: negative && (i !== '' || f !== ''), integer: i, fraction: f };
}

/** A whole decimal literal ("-12", "3.25"); undefined if `text` is anything else. */
export function parseDecimal(text: string): Decimal | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  return normalise(m[1] === '-', m[2]!, m[3] ?? '');
}

/**
 * An attribute value read as a number: its leading decimal, so "100stake" compares as 100.
 * CometBFT reads values the same way except that it never matches negative values; accepting
 * a sign here only adds matches that are numerically right.
 */
export function decimalFromValue(value: string): Decimal | undefined {
  const m = LEADING_DECIMAL.exec(value);
  return m ? parseDecimal(m[0]) : undefined;
}

function compareMagnitude(a: Decimal, b: Decimal): number {
  if (a.integer.length !== b.integer.length) return a.integer.length < b.integer.length ? -1 : 1;
  if (a.integer !== b.integer) return a.integer < b.integer ? -1 : 1;
  const n = Math.max(a.fraction.length, b.fraction.length);
  const fa = a.fraction.padEnd(n, '0');
  const fb = b.fraction.padEnd(n, '0');
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

export function compareDecimal(a: Decimal, b: Decimal): number {
  if (a.negative !== b.negative) return a.negative ? -1 : 1;
  const m = compareMagnitude(a, b);
  return a.negative ? -m : m;
}

// ---- dates and times -------------------------------------------------------------------------

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;
const NANOS_PER_SECOND = 1_000_000_000n;

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

function validDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

export interface ParsedInstant {
  readonly year: number;
  /** Nanoseconds since the Unix epoch. */
  readonly nanos: bigint;
}

/** YYYY-MM-DD → midnight UTC; undefined if malformed or not a calendar date. */
export function parseDate(text: string): ParsedInstant | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!validDate(y, mo, d)) return undefined;
  return { year: y, nanos: BigInt(daysFromCivil(y, mo, d)) * 86_400n * NANOS_PER_SECOND };
}

/**
 * RFC 3339 with a zone (Z or ±hh:mm) and optional fraction of up to 9 digits; undefined if
 * malformed or out of range (as Go's time.Parse: hour < 24, minute and second < 60).
 */
export function parseTime(text: string): ParsedInstant | undefined {
  const m = TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (!validDate(y!, mo!, d!) || h! > 23 || mi! > 59 || s! > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const seconds = daysFromCivil(y!, mo!, d!) * 86_400 + h! * 3600 + mi! * 60 + s! - offsetMinutes * 60;
  const fraction = BigInt((m[7] ?? '').padEnd(9, '0'));
  return { year: y!, nanos: BigInt(seconds) * NANOS_PER_SECOND + fraction };
}

/** An attribute value read as an instant: an RFC 3339 time, or a bare date (midnight UTC). */
export function instantFromValue(value: string): bigint | undefined {
  return (parseTime(value) ?? parseDate(value))?.nanos;
}
