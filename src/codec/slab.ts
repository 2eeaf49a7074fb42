// Many small byte arrays in few ArrayBuffers.
//
// V8 keeps a typed array of at most 64 bytes inside its own heap. The first time native code
// (LevelDB's bindings, node:crypto) or `.buffer` asks for its memory, V8 moves it into a fresh
// malloc'd ArrayBuffer; a larger array gets one from the start. Each such buffer is tracked,
// swept by the GC and freed. Counted with uprobes on V8's BackingStore::Allocate at 1024 clients:
// ~21 per tx on every validator, and with malloc, free and the sweeper ~20 % of a validator's
// CPU (perf). A view into a shared buffer costs a JS object and nothing native; the shared buffer
// lives while one of its views does, so one slab should hold arrays that die together.

/** The largest typed array V8 allocates inside its heap (V8_TYPED_ARRAY_MAX_SIZE_IN_HEAP). */
export const ON_HEAP_MAX = 64;

/**
 * `arrays`, with each one of at most ON_HEAP_MAX bytes replaced by a copy in one shared buffer
 * (larger ones, already off-heap, are kept): what a LevelDB batch or getMany is about to hand to
 * native code, which would otherwise move each small key into a buffer of its own.
 */
export function packSmall(arrays: readonly Uint8Array[]): Uint8Array[] {
  let total = 0;
  for (const a of arrays) if (a.length <= ON_HEAP_MAX) total += a.length;
  if (total === 0) return [...arrays];
  const shared = new ArrayBuffer(total);
  let off = 0;
  return arrays.map((a) => {
    if (a.length > ON_HEAP_MAX) return a;
    const v = new Uint8Array(shared, off, a.length);
    v.set(a);
    off += a.length;
    return v;
  });
}

/** Writes `n` (a uint32) big-endian at `off`, in place: a DataView would need `out.buffer`. */
export function writeU32(out: Uint8Array, off: number, n: number): void {
  out[off] = n >>> 24;
  out[off + 1] = (n >>> 16) & 0xff;
  out[off + 2] = (n >>> 8) & 0xff;
  out[off + 3] = n & 0xff;
}

/** Hands out views into chunks of `chunkBytes`; an array larger than a quarter chunk gets its own buffer. */
export class ByteSlab {
  private chunk = new ArrayBuffer(0);
  private used = 0;

  constructor(private readonly chunkBytes = 64 * 1024) {}

  alloc(n: number): Uint8Array {
    if (n > this.chunkBytes / 4) return new Uint8Array(n);
    if (this.used + n > this.chunk.byteLength) {
      this.chunk = new ArrayBuffer(this.chunkBytes);
      this.used = 0;
    }
    const out = new Uint8Array(this.chunk, this.used, n);
    this.used += n;
    return out;
  }

  copy(src: Uint8Array): Uint8Array {
    const out = this.alloc(src.length);
    out.set(src);
    return out;
  }
}
