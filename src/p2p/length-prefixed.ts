// A quiet end of buffer for @libp2p/utils' LengthPrefixedDecoder, the reader of Noise frames.
// The library's decoder (7.4) finds out that it has consumed every complete frame by asking its
// length decoder for one more length, which throws a RangeError on an empty buffer: an Error,
// with its stack trace captured, for every chunk read from every connection. perf on a
// 4-validator testnet put 2.8 % of the main thread's CPU in that stack capture alone.
//
// This replaces the class's decode with one that stops at an empty buffer and is otherwise the
// same: complete frames out in order, a partial frame kept for the next chunk, the library's own
// errors for an over-full buffer or an out-of-range length. Like yamux-window.ts it patches the
// exported class once per process; if a later version renames the fields read here, the check
// below sends every call back to the library's own decode, and this file's test fails.
import { InvalidParametersError } from '@libp2p/interface';
import { InvalidMessageLengthError, LengthPrefixedDecoder } from '@libp2p/utils';

/** The library's chunk and frame types (uint8arraylist's, not a dependency of ours). */
type Chunk = Parameters<LengthPrefixedDecoder['decode']>[0];
type Frames = ReturnType<LengthPrefixedDecoder['decode']>;
type Uint8ArrayList = Exclude<Chunk, Uint8Array>;

/** The decoder's state (private in its typings, plain fields at run time). */
interface DecoderFields {
  readonly buffer: Uint8ArrayList;
  readonly maxBufferSize: number;
  readonly maxDataLength: number;
  readonly lengthDecoder: (buf: Uint8ArrayList) => number;
  readonly encodingLength: (length: number) => number;
}

function hasFields(d: Partial<DecoderFields>): d is DecoderFields {
  return typeof d.buffer?.append === 'function' && typeof d.maxBufferSize === 'number' && typeof d.maxDataLength === 'number' && typeof d.lengthDecoder === 'function' && typeof d.encodingLength === 'function';
}

function* frames(d: DecoderFields, chunk: Chunk): Frames {
  d.buffer.append(chunk);
  if (d.buffer.byteLength > d.maxBufferSize) throw new InvalidParametersError(`Buffer length limit exceeded - ${d.buffer.byteLength}/${d.maxBufferSize}`);
  while (d.buffer.byteLength > 0) {
    let length: number;
    try {
      length = d.lengthDecoder(d.buffer);
    } catch (e) {
      if (e instanceof RangeError) return; // a length prefix cut short: wait for the rest
      throw e;
    }
    if (length < 0 || length > d.maxDataLength) throw new InvalidMessageLengthError('Invalid message length');
    const prefix = d.encodingLength(length);
    if (d.buffer.byteLength < prefix + length) return; // the frame's body is still on its way
    const frame = d.buffer.sublist(prefix, prefix + length);
    d.buffer.consume(prefix + length);
    if (frame.byteLength > 0) yield frame;
  }
}

let installed = false;

export function installLengthPrefixedFastPath(): void {
  if (installed) return;
  installed = true;
  const proto = LengthPrefixedDecoder.prototype;
  const libraryDecode = proto.decode;
  proto.decode = function decode(this: LengthPrefixedDecoder, chunk: Chunk): Frames {
    const d = this as unknown as Partial<DecoderFields>;
    return hasFields(d) ? frames(d, chunk) : libraryDecode.call(this, chunk);
  };
}
