// Metrics configuration (config.toml's [instrumentation]) and its validation.
import type { InstrumentationConfig } from '../config/index.js';
import { parseHostPort, type HostPort } from '../config/index.js';

export interface MetricsOptions {
  /** Collect and serve metrics (config `prometheus`); false gives a no-op implementation. */
  readonly enabled: boolean;
  /** Prefix of every metric name (config `namespace`). */
  readonly namespace: string;
  /**
   * Where GET /metrics is served (config `prometheus_listen_addr`): "host:port", ":port" for all
   * interfaces, port 0 for a free one. "" collects without serving, as CometBFT does.
   */
  readonly listenAddr: string;
}

export const DEFAULT_METRICS_OPTIONS: MetricsOptions = { enabled: false, namespace: 'tally', listenAddr: ':26660' };

/** Pino-shaped; a pino Logger fits. */
export interface MetricsLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface MetricsModules {
  readonly logger: MetricsLogger;
  /** Monotonic clock in seconds, for step and round durations (injectable in tests). */
  readonly now?: () => number;
}

/** Bad metrics options, or the metrics port could not be opened. */
export class MetricsError extends Error {
  override readonly name = 'MetricsError';
  constructor(
    message: string,
    readonly context: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

const PROMETHEUS_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function metricsOptionsFromConfig(cfg: InstrumentationConfig): MetricsOptions {
  return { enabled: cfg.prometheus, namespace: cfg.namespace, listenAddr: cfg.prometheusListenAddr };
}

/** The listen address as host and port (host "" = all interfaces), or undefined for "do not serve". */
export function checkMetricsOptions(o: MetricsOptions): HostPort | undefined {
  if (!PROMETHEUS_NAME.test(o.namespace)) {
    throw new MetricsError('instrumentation.namespace must be a Prometheus name: letters, digits and _, not starting with a digit', { namespace: o.namespace });
  }
  if (o.listenAddr === '') return undefined;
  const hp = parseHostPort(o.listenAddr, true);
  if (typeof hp === 'string') throw new MetricsError(`instrumentation.prometheus_listen_addr: ${hp}`, { listenAddr: o.listenAddr });
  return hp;
}
