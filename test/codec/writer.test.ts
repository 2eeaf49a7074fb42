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
});
