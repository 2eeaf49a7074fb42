// ProtoWriter's fast paths (short ASCII strings written directly, pooled scratch buffers) must
// produce exactly the bytes of the plain encoding: tag, uvarint length, UTF-8.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ProtoReader, ProtoWriter, uvarintBytes } from '../../src/codec/proto.js';

function plainString(field: number, v: string): Uint8Array {
  const utf8 = new TextEncoder().encode(v);
  const tag = uvarintBytes(field * 8 + 2);
  const len = uvarintBytes(utf8.length);
  return Uint8Array.from([...tag, ...len, ...utf8]);
}

describe('ProtoWriter', () => {
  test('string fields equal tag + length + UTF-8 for any string and field number', () => {
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('a'.repeat(127), 'a'.repeat(128), `${'a'.repeat(126)}é`, 'é'));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), text, text, (field, a, b) => {
        const bytes = new ProtoWriter().string(field, a).string(field + 1, b).finish();
        const want = Uint8Array.from([...(a ? plainString(field, a) : []), ...(b ? plainString(field + 1, b) : [])]);
        expect(bytes).toEqual(want);
      }),
      { seed: 0x5eed, numRuns: 2000 },
    );
  });

  test('nested writers and finished writers do not share bytes', () => {
    const outer = new ProtoWriter().string(1, 'outer');
    const inner = new ProtoWriter().string(2, 'inner').finish();
    const whole = outer.message(3, inner).finish();
    // a writer made after both finished reuses a pooled buffer; earlier results stay intact
    const later = new ProtoWriter().string(1, 'zzzzzzzzzzzzzzzzzzzz').finish();
    expect(whole).toEqual(Uint8Array.from([...plainString(1, 'outer'), 0x1a, inner.length, ...inner]));
    expect(inner).toEqual(plainString(2, 'inner'));
    expect(new ProtoReader(later, 'later').next()).toBe(1);
  });

  test('messages written in place equal the same message encoded apart, at every length-prefix size', () => {
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('', 'x'.repeat(125), 'x'.repeat(126), 'x'.repeat(127), 'y'.repeat(16_381), 'z'.repeat(20_000), `${'a'.repeat(200)}é`));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), text, text, (field, a, b) => {
        const inner = new ProtoWriter().string(1, a).string(2, b).finish();
        const apart = new ProtoWriter().string(1, 'head').repeatedElement(field, inner).string(3, 'tail').finish();
        const w = new ProtoWriter().string(1, 'head');
        const start = w.beginMessage(field);
        w.string(1, a).string(2, b);
        const inPlace = w.endMessage(start).string(3, 'tail').finish();
        expect(Buffer.from(inPlace).equals(Buffer.from(apart))).toBe(true);
      }),
      { seed: 0x5eed, numRuns: 300 },
    );
  });

  test('int64 writes numbers and bigints alike', () => {
    for (const v of [0, 1, 127, 128, 2 ** 31, 2 ** 53 - 1]) expect(new ProtoWriter().int64(5, v).finish()).toEqual(new ProtoWriter().int64(5, BigInt(v)).finish());
    expect(new ProtoWriter().int64(5, -3).finish()).toEqual(new ProtoWriter().int64(5, -3n).finish());
  });
});
