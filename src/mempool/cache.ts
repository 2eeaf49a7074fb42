// The seen-cache: hashes of txs seen recently, so a duplicate (from RPC or from another peer) is
// refused before it reaches the app. LRU with a fixed capacity; a Map keeps insertion order,
// so re-inserting a key moves it to the back and the front is the least recently seen.

export class TxCache {
  private readonly keys = new Map<string, true>();

  /** capacity 0 disables the cache: nothing is remembered (CometBFT's NopTxCache). */
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.keys.size;
  }

  /** Records `key` as seen; false if it already was (then it becomes the most recent). */
  push(key: string): boolean {
    if (this.capacity === 0) return true;
    if (this.keys.has(key)) {
      this.keys.delete(key);
      this.keys.set(key, true);
      return false;
    }
    if (this.keys.size >= this.capacity) {
      const oldest = this.keys.keys().next();
      if (oldest.done !== true) this.keys.delete(oldest.value);
    }
    this.keys.set(key, true);
    return true;
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  remove(key: string): void {
    this.keys.delete(key);
  }

  reset(): void {
    this.keys.clear();
  }
}
