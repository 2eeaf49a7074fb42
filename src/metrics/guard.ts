// Metrics must never take the node down: a failing update is logged once and dropped.
import type { MetricsLogger } from './options.js';

/** Wraps `fn` so that it never throws; the first failure of each `name` is logged. */
export function guarded<A extends unknown[]>(logger: MetricsLogger, name: string, fn: (...args: A) => void): (...args: A) => void {
  let warned = false;
  return (...args: A): void => {
    try {
      fn(...args);
    } catch (e) {
      if (warned) return;
      warned = true;
      logger.warn({ metric: name, err: (e as Error).message }, 'metrics update failed (further failures of it are not logged)');
    }
  };
}

/**
 * Label values from callers (topics, ban reasons) capped in number, so a caller passing
 * unbounded strings cannot grow the registry without limit: past the cap, values become "other".
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(
    private readonly maxValues: number,
    private readonly maxLength = 64,
  ) {}

  value(v: string): string {
    const s = v === '' ? 'unknown' : v.slice(0, this.maxLength);
    if (this.seen.has(s)) return s;
    if (this.seen.size >= this.maxValues) return 'other';
    this.seen.add(s);
    return s;
  }
}

/** A count or size a caller reported: finite and non-negative, or nothing to record. */
export const isAmount = (n: number | undefined): n is number => n !== undefined && Number.isFinite(n) && n >= 0;
