// A fair async mutex with one priority lane: holders run one at a time, in the order they asked,
// except that urgent callers go before every normal one. The mempool puts each app call it makes
// (CheckTx New and Recheck) behind it as a normal caller and consensus's lock()…unlock() section
// as an urgent one — like a Go RWMutex, where a waiting writer keeps new readers out — so a block
// commit waits for the one CheckTx in flight, never for a queue of them.

export type Release = () => void;

export class AsyncMutex {
  private held = false;
  private readonly urgent: Array<(release: Release) => void> = [];
  private readonly normal: Array<(release: Release) => void> = [];

  get locked(): boolean {
    return this.held;
  }

  /** Waiting callers (not counting the holder). */
  get queued(): number {
    return this.urgent.length + this.normal.length;
  }

  /** The lock at once if it is free, else null (no promise, no microtask: the common case is cheap). */
  tryAcquire(): Release | null {
    if (this.held) return null;
    this.held = true;
    return this.releaser();
  }

  acquire(urgent = false): Promise<Release> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve(this.releaser());
    }
    return new Promise<Release>((resolve) => (urgent ? this.urgent : this.normal).push(resolve));
  }

  private releaser(): Release {
    let released = false;
    return () => {
      // releasing twice would hand the lock to two holders at once
      if (released) return;
      released = true;
      const next = this.urgent.shift() ?? this.normal.shift();
      if (next === undefined) this.held = false;
      else next(this.releaser());
    };
  }
}
