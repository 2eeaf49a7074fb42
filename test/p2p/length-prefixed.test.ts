// The patched LengthPrefixedDecoder (src/p2p/length-prefixed.ts): the same frames as the library's
// decoder for any split of the input into chunks, its errors, and no length read from an empty
// buffer (the library's does that after every chunk, and that read throws).
import { LengthPrefixedDecoder } from '@libp2p/utils';
import { describe, expect, test } from 'vitest';
import { installLengthPrefixedFastPath } from '../../src/p2p/length-prefixed.js';
import { prng } from '../helpers/prng.js';

type Chunk = Parameters<LengthPrefixedDecoder['decode']>[0];
type LengthDecoder = (buf: Exclude<Chunk, Uint8Array>) => number;

/** Noise's framing: a 2-byte big-endian length, then the frame. */
function uint16Frames(frames: Uint8Array[]): Uint8Array {
  return Buffer.concat(frames.flatMap((f) => [Buffer.from([f.length >> 8, f.length & 0xff]), f]));
}

/** Counts length reads, and those made on an empty buffer; throws RangeError when short, like Noise's. */
function countingUint16(): { decode: LengthDecoder; calls: number; onEmpty: number } {
  const c = {
    calls: 0,
    onEmpty: 0,
    decode: (buf: Exclude<Chunk, Uint8Array>): number => {
      c.calls++;
      if (buf.byteLength === 0) c.onEmpty++;
      if (buf.byteLength < 2) throw new RangeError('Could not decode int16BE');
      return (buf.get(0) << 8) | buf.get(1);
    },
  };
  return c;
}

function decodeAll(dec: LengthPrefixedDecoder, input: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const end of [...cuts, input.length]) {
    for (const f of dec.decode(input.subarray(at, end))) out.push(new Uint8Array(f.subarray())); // a plain copy: a Buffer view and a Uint8Array never compare equal
    at = end;
  }
  return out;
}

describe('length-prefixed decoding without a throw per chunk', () => {
  test('the same frames as the library for random frames cut into random chunks, and no length read on an empty buffer', () => {
    const base = Number(process.env.SEED ?? 7);
    const library: { frames: Uint8Array[]; calls: number }[] = [];
    const cases: { input: Uint8Array; cuts: number[]; frames: Uint8Array[] }[] = [];
    for (let k = 0; k < 200; k++) {
      const rand = prng(base + k);
      const frames = Array.from({ length: 1 + Math.floor(rand() * 20) }, () => Uint8Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
      const input = uint16Frames(frames);
      const cuts = Array.from({ length: Math.floor(rand() * 10) }, () => Math.floor(rand() * input.length)).sort((a, b) => a - b);
      cases.push({ input, cuts, frames });
      // the library's own decoder first (before the patch is installed)
      const c = countingUint16();
      const dec = new LengthPrefixedDecoder({ lengthDecoder: c.decode, encodingLength: () => 2 });
      library.push({ frames: decodeAll(dec, input, cuts), calls: c.onEmpty });
    }
    // the library reads a length from an empty buffer: that is the throw this patch removes
    expect(library.reduce((n, l) => n + l.calls, 0)).toBeGreaterThan(0);

    installLengthPrefixedFastPath();
    cases.forEach(({ input, cuts, frames }, k) => {
      const c = countingUint16();
      const dec = new LengthPrefixedDecoder({ lengthDecoder: c.decode, encodingLength: () => 2 });
      const got = decodeAll(dec, input, cuts);
      expect(got, `seed ${base + k}`).toEqual(frames);
      expect(got, `seed ${base + k}`).toEqual(library[k]!.frames);
      expect(c.onEmpty, `seed ${base + k}`).toBe(0);
    });
  });

  test('varint lengths (the default), a zero-length frame skipped, and the errors', () => {
    installLengthPrefixedFastPath();
    const dec = new LengthPrefixedDecoder({ maxDataLength: 1000, maxBufferSize: 4000 });
    // 300 needs a two-byte varint; cut inside it
    const body = new Uint8Array(300).fill(5);
    const input = Uint8Array.from([0xac, 0x02, ...body, 0x00, 0x01, 0x09]);
    expect(decodeAll(dec, input, [1, 150])).toEqual([body, Uint8Array.of(9)]);

    const tooLong = new LengthPrefixedDecoder({ maxDataLength: 10 });
    expect(() => [...tooLong.decode(Uint8Array.of(11, 1, 2))]).toThrow('Invalid message length');
    const tooFull = new LengthPrefixedDecoder({ maxBufferSize: 8 });
    expect(() => [...tooFull.decode(new Uint8Array(9).fill(100))]).toThrow(/Buffer length limit exceeded/);
  });
});
