// Protobuf wire primitives, written for this codec rather than taken from a generator: encoding
// must be byte-exact with gogoproto's (field order, zero-value omission, always-present
// non-nullable submessages), int64s must be bigint, and decoding of untrusted bytes must fail
// with a DecodeError naming the field — never a crash or an allocation beyond the input's size.
import { DecodeError } from './errors.js';
import type { ByteSlab } from './slab.js';

export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

const TWO_64 = 1n << 64n;
const MAX_U64 = TWO_64 - 1n;
const MIN_I64 = -(1n << 63n);
const MAX_I64 = (1n << 63n) - 1n;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

// Writers borrow a scratch buffer and give it back on finish() (which copies the bytes out):
// growing a fresh 64-byte buffer for every message was a tenth of the time of executing a block.
// Nested writers (a submessage encoded while its parent is open) borrow different buffers.
const scratch: Uint8Array[] = [];
const SCRATCH_BYTES = 4096;
const MAX_POOLED_BYTES = 1 << 20;
const MAX_POOLED = 32;
const NO_BUFFER = new Uint8Array(0);

export class ProtoWriter {
  private buf = scratch.pop() ?? new Uint8Array(SCRATCH_BYTES);
  private len = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = Math.max(SCRATCH_BYTES, this.buf.length * 2);
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private rawVarint(v: number): void {
    // v is a non-negative safe integer
    this.ensure(10);
    while (v > 0x7f) {
      this.buf[this.len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
  }

  private rawVarintBig(v: bigint): void {
    // v in [0, 2^64)
    this.ensure(10);
    while (v > 0x7fn) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }

  private tag(field: number, wt: WireType): void {
    this.rawVarint(field * 8 + wt);
  }

  raw(bytes: Uint8Array): this {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** Proto3 uint64 (omitted when zero). */
  uint64(field: number, v: bigint): this {
    if (v === 0n) return this;
    if (v < 0n || v > MAX_U64) throw new RangeError(`uint64 field ${field} out of range: ${v}`);
    this.tag(field, WireType.Varint);
    this.rawVarintBig(v);
    return this;
  }

  /** Proto3 int64 (omitted when zero); negatives take ten bytes, two's complement. */
  int64(field: number, v: bigint | number): this {
    // heights and indices are non-negative safe integers: no bigint arithmetic for them
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) {
      if (v === 0) return this;
      this.tag(field, WireType.Varint);
      this.rawVarint(v);
      return this;
    }
    const b = BigInt(v);
    if (b === 0n) return this;
    if (b < MIN_I64 || b > MAX_I64) throw new RangeError(`int64 field ${field} out of range: ${b}`);
    this.tag(field, WireType.Varint);
    this.rawVarintBig(b < 0n ? b + TWO_64 : b);
    return this;
  }

  /** Proto3 int32/enum (omitted when zero); negatives are sign-extended to ten bytes. */
  int32(field: number, v: number): this {
    if (v === 0) return this;
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`int32 field ${field} out of range: ${v}`);
    this.tag(field, WireType.Varint);
    if (v < 0) this.rawVarintBig(BigInt(v) + TWO_64);
    else this.rawVarint(v);
    return this;
  }

  uint32(field: number, v: number): this {
    if (v === 0) return this;
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`uint32 field ${field} out of range: ${v}`);
    this.tag(field, WireType.Varint);
    this.rawVarint(v);
    return this;
  }

  bool(field: number, v: boolean): this {
    if (!v) return this;
    this.tag(field, WireType.Varint);
    this.rawVarint(1);
    return this;
  }

  /** sfixed64 (omitted when zero), little-endian two's complement. */
  sfixed64(field: number, v: bigint | number): this {
    const b = BigInt(v);
    if (b === 0n) return this;
    if (b < MIN_I64 || b > MAX_I64) throw new RangeError(`sfixed64 field ${field} out of range: ${b}`);
    this.tag(field, WireType.Fixed64);
    this.ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 8).setBigInt64(0, b, true);
    this.len += 8;
    return this;
  }

  /** Proto3 bytes (omitted when empty). */
  bytes(field: number, v: Uint8Array): this {
    if (v.length === 0) return this;
    return this.lengthDelimited(field, v);
  }

  string(field: number, v: string): this {
    if (v.length === 0) return this;
    // ASCII (most keys and values) goes straight into the buffer, its byte length being its
    // length; anything else starts over with the UTF-8 encoder
    const tagStart = this.len;
    this.tag(field, WireType.Bytes);
    this.rawVarint(v.length);
    this.ensure(v.length);
    const buf = this.buf;
    let at = this.len;
    let i = 0;
    for (; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at++] = c;
    }
    if (i === v.length) {
      this.len = at;
      return this;
    }
    this.len = tagStart;
    return this.lengthDelimited(field, utf8.encode(v));
  }

  /**
   * An embedded message. gogoproto writes non-nullable submessages even when they encode to
   * nothing, and nullable ones only when set: pass `undefined` for an unset nullable field.
   */
  message(field: number, encoded: Uint8Array | undefined): this {
    if (encoded === undefined) return this;
    return this.lengthDelimited(field, encoded);
  }

  /**
   * Starts an embedded message written in place (no writer and copy of its own): write its
   * fields, then endMessage(start). Written even when empty, as repeatedElement writes.
   */
  beginMessage(field: number): number {
    this.tag(field, WireType.Bytes);
    this.ensure(1);
    // one byte reserved for the length; endMessage moves the body if the length needs more
    return this.len++;
  }

  endMessage(start: number): this {
    const n = this.len - start - 1;
    if (n < 0x80) {
      this.buf[start] = n;
      return this;
    }
    let extra = 0;
    for (let v = n; v > 0x7f; v = Math.floor(v / 128)) extra++;
    this.ensure(extra);
    this.buf.copyWithin(start + 1 + extra, start + 1, this.len);
    this.len += extra;
    let v = n;
    let at = start;
    while (v > 0x7f) {
      this.buf[at++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[at] = v;
    return this;
  }

  /** An element of a repeated bytes/string/message field: written even when empty. */
  repeatedElement(field: number, encoded: Uint8Array): this {
    return this.lengthDelimited(field, encoded);
  }

  private lengthDelimited(field: number, v: Uint8Array): this {
    this.tag(field, WireType.Bytes);
    this.rawVarint(v.length);
    return this.raw(v);
  }

  /**
   * The encoded bytes (a copy, in `slab` if given: see codec/slab.ts). The writer is then empty;
   * its scratch buffer goes back to the pool.
   */
  finish(slab?: ByteSlab): Uint8Array {
    const out = slab ? slab.copy(this.buf.subarray(0, this.len)) : this.buf.slice(0, this.len);
    if (this.buf.length <= MAX_POOLED_BYTES && scratch.length < MAX_POOLED && this.buf !== NO_BUFFER) scratch.push(this.buf);
    this.buf = NO_BUFFER;
    this.len = 0;
    return out;
  }
}

/** Prefix `msg` with its length as a uvarint (protoio.MarshalDelimited). */
export function lengthPrefixed(msg: Uint8Array): Uint8Array {
  return new ProtoWriter().raw(uvarintBytes(msg.length)).raw(msg).finish();
}

export function uvarintBytes(n: number): Uint8Array {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

const ARENA_CHUNK = 8 * 1024;

/**
 * Where one decode's bytes fields are copied: chunks of ARENA_CHUNK bytes (or of the input's size,
 * if smaller), allocated as needed; a field larger than a chunk gets a buffer of its own size.
 */
interface Arena {
  buffer: ArrayBuffer | undefined;
  used: number;
  readonly size: number;
}

/**
 * Reads one message's fields in order. Every read is bounds-checked against the message's own
 * bytes, so a nested length can never reach past its parent; errors carry the field path.
 */
export class ProtoReader {
  private pos = 0;
  private wire: WireType = WireType.Varint;
  private field = 0;

  constructor(
    private readonly buf: Uint8Array,
    readonly path: string,
    private readonly arena: Arena = { buffer: undefined, used: 0, size: buf.length },
  ) {}

  fail(message: string): never {
    throw new DecodeError(message, this.field ? `${this.path}.${this.field}` : this.path, this.pos);
  }

  /** True once every field has been read (at once for an empty message). */
  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Advances to the next field; returns its number, or 0 at the end of the message. */
  next(): number {
    if (this.pos >= this.buf.length) return 0;
    const key = this.varintNumber();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field < 1 || field > 0x1fffffff) this.fail(`invalid field number ${field}`);
    if (wire !== WireType.Varint && wire !== WireType.Fixed64 && wire !== WireType.Bytes && wire !== WireType.Fixed32)
      this.fail(`unsupported wire type ${wire}`);
    this.field = field;
    this.wire = wire;
    return field;
  }

  /** Skips the current field (unknown fields are ignored, as protobuf requires). */
  skip(): void {
    switch (this.wire) {
      case WireType.Varint:
        this.varintBig();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      case WireType.Bytes:
        this.advance(this.length());
        return;
    }
  }

  private expect(wt: WireType): void {
    if (this.wire !== wt) this.fail(`wrong wire type ${this.wire}, expected ${wt}`);
  }

  private advance(n: number): number {
    const start = this.pos;
    if (n > this.buf.length - this.pos) this.fail('truncated input');
    this.pos += n;
    return start;
  }

  private varintBig(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      if (i === 9 && b > 1) this.fail('varint overflows 64 bits');
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (b < 0x80) return result;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** A varint that must fit a non-negative safe integer (keys and lengths). */
  private varintNumber(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    return this.fail('varint too large');
  }

  private length(): number {
    const n = this.varintNumber();
    if (n > this.buf.length - this.pos) this.fail(`length ${n} exceeds the ${this.buf.length - this.pos} bytes left`);
    return n;
  }

  uint64(): bigint {
    this.expect(WireType.Varint);
    return this.varintBig();
  }

  int64(): bigint {
    this.expect(WireType.Varint);
    const v = this.varintBig();
    return v > MAX_I64 ? v - TWO_64 : v;
  }

  /** An int64 that must be a safe integer within [min, max] (heights, indices). */
  int64Number(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.int64();
    if (v < BigInt(min) || v > BigInt(max)) this.fail(`value ${v} out of range [${min}, ${max}]`);
    return Number(v);
  }

  int32(): number {
    this.expect(WireType.Varint);
    const v = this.varintBig();
    const signed = v > MAX_I64 ? v - TWO_64 : v;
    if (signed < -0x80000000n || signed > 0x7fffffffn) this.fail(`int32 out of range: ${signed}`);
    return Number(signed);
  }

  uint32(): number {
    this.expect(WireType.Varint);
    const v = this.varintBig();
    if (v > 0xffffffffn) this.fail(`uint32 out of range: ${v}`);
    return Number(v);
  }

  bool(): boolean {
    this.expect(WireType.Varint);
    const v = this.varintBig();
    if (v > 1n) this.fail(`bool out of range: ${v}`);
    return v === 1n;
  }

  sfixed64(): bigint {
    this.expect(WireType.Fixed64);
    const at = this.advance(8);
    return new DataView(this.buf.buffer, this.buf.byteOffset + at, 8).getBigInt64(0, true);
  }

  sfixed64Number(): number {
    const v = this.sfixed64();
    if (v < BigInt(Number.MIN_SAFE_INTEGER) || v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`value ${v} out of safe range`);
    return Number(v);
  }

  /**
   * Bytes, copied out (the result never aliases a caller's buffer) into the decode's arena: a
   * buffer shared by many bytes fields of the outermost message (see codec/slab.ts).
   */
  bytes(maxLength = Number.MAX_SAFE_INTEGER): Uint8Array {
    this.expect(WireType.Bytes);
    const n = this.length();
    if (n > maxLength) this.fail(`${n} bytes exceed the limit of ${maxLength}`);
    const at = this.advance(n);
    if (n === 0) return new Uint8Array(0);
    const a = this.arena;
    if (a.buffer === undefined || a.used + n > a.buffer.byteLength) {
      // chunks, not one buffer the size of the input: a decode that reads one record of a large
      // value (readTxResultRecordAt) must not allocate, and keep alive, the whole value's size
      a.buffer = new ArrayBuffer(Math.max(n, Math.min(ARENA_CHUNK, a.size)));
      a.used = 0;
    }
    const out = new Uint8Array(a.buffer, a.used, n);
    out.set(this.buf.subarray(at, at + n));
    a.used += n;
    return out;
  }

  string(maxLength = Number.MAX_SAFE_INTEGER): string {
    const b = this.bytes(maxLength);
    try {
      return utf8Strict.decode(b);
    } catch {
      return this.fail('invalid UTF-8');
    }
  }

  /** A submessage, decoded by `decode` with a reader scoped to its bytes. */
  message<T>(name: string, decode: (r: ProtoReader) => T): T {
    this.expect(WireType.Bytes);
    const n = this.length();
    const at = this.advance(n);
    return decode(new ProtoReader(this.buf.subarray(at, at + n), `${this.path}.${name}`, this.arena));
  }
}
