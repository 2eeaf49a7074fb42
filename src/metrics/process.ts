// Process metrics (process_*, nodejs_*: CPU, memory, event-loop lag, GC), unprefixed like the
// go_*/process_* series CometBFT exposes. prom-client's collectors are process-wide and cannot
// be removed once started, so they live in one registry per process, created on first use and
// shared by every node in it (tests run several), instead of one set per node.
import { Registry, collectDefaultMetrics } from 'prom-client';

let shared: Registry | undefined;

export function processRegistry(): Registry {
  if (!shared) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
