// The node's metrics from [instrumentation]: one registry, the subsystems' metrics in it, and the
// HTTP endpoint that serves it together with the process metrics.
import { Registry } from 'prom-client';
import { PromConsensusMetrics } from './consensus.js';
import type { NodeMetrics } from './interface.js';
import { promMempoolMetrics } from './mempool.js';
import { noopNodeMetrics } from './noop.js';
import { checkMetricsOptions, type MetricsModules, type MetricsOptions } from './options.js';
import { promP2PMetrics } from './p2p.js';
import { processRegistry } from './process.js';
import { MetricsHttpServer } from './server.js';
import { promSyncMetrics } from './sync.js';

/**
 * Builds the node's metrics. Throws MetricsError on a bad namespace or listen address. The
 * server is not started here: the node starts and stops it with its other components.
 */
export function createNodeMetrics(opts: MetricsOptions, modules: MetricsModules): NodeMetrics {
  if (!opts.enabled) return noopNodeMetrics();
  const listen = checkMetricsOptions(opts);
  const { logger } = modules;
  const now = modules.now ?? ((): number => performance.now() / 1000);
  const ns = opts.namespace;
  const registry = new Registry();
  const consensus = new PromConsensusMetrics(ns, registry, logger, now);
  const proc = processRegistry();
  // merged per scrape rather than once, so metrics registered later by others are included
  const scrape = (): Promise<string> => Registry.merge([registry, proc]).metrics();
  const server = listen
    ? new MetricsHttpServer(listen, { scrape, contentType: registry.contentType, logger })
    : { start: async () => {}, stop: async () => {}, address: () => undefined };
  return {
    enabled: true,
    registry,
    server,
    consensus,
    mempool: promMempoolMetrics(ns, registry, logger),
    p2p: promP2PMetrics(ns, registry, logger),
    sync: promSyncMetrics(ns, registry, logger),
    hooks: { onDecided: consensus.onDecided, onEvent: consensus.onEvent },
    scrape,
  };
}
