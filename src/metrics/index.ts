// Prometheus metrics for the node: build them from [instrumentation] with createNodeMetrics,
// hand each subsystem its part, start/stop the server with the node.
export { createNodeMetrics } from './node-metrics.js';
export {
  metricsOptionsFromConfig,
  DEFAULT_METRICS_OPTIONS,
  MetricsError,
  type MetricsOptions,
  type MetricsModules,
  type MetricsLogger,
} from './options.js';
export type { NodeMetrics, ConsensusMetrics, P2PMetrics, SyncMetrics, MetricsServer, ConsensusHooks } from './interface.js';
export { MAX_LABEL_VALUES } from './p2p.js';
