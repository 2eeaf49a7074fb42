// Structured logging (pino) configured by log_level and log_format. "json" is pino's JSON lines
// (with the level as a label and an ISO time); "plain" is one line per entry in CometBFT's
// style — `I[2024-01-15|10:23:45.123] Message  key=value …` — rendered by a small destination
// instead of pino-pretty, to avoid a dependency and a worker thread. Writes are synchronous so
// nothing is lost when the process exits right after logging.
import { pino, type DestinationStream, type Logger } from 'pino';
import { parseLogLevel, type LogLevelSpec } from './log-level.js';
import type { LogFormat } from './schema.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly logLevel: string;
  readonly logFormat: LogFormat;
}

const LEVEL_LETTER: Record<number, string> = { 10: 'T', 20: 'D', 30: 'I', 40: 'W', 50: 'E', 60: 'F' };
const LABEL_TO_NUMBER: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const RESERVED = new Set(['level', 'time', 'msg']);

function plainValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

function plainTime(iso: string): string {
  // 2024-01-15T10:23:45.123Z → 2024-01-15|10:23:45.123
  return iso.replace('T', '|').replace(/Z$/, '');
}

/** Turn one pino JSON line into a CometBFT-style plain line. */
export function formatPlainLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = typeof entry.level === 'number' ? entry.level : (LABEL_TO_NUMBER[String(entry.level)] ?? 30);
  const time = typeof entry.time === 'string' ? entry.time : new Date(typeof entry.time === 'number' ? entry.time : Date.now()).toISOString();
  const fields = Object.entries(entry)
    .filter(([k]) => !RESERVED.has(k))
    .map(([k, v]) => `${k}=${plainValue(v)}`)
    .join(' ');
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  return `${LEVEL_LETTER[level] ?? '?'}[${plainTime(time)}] ${msg}${fields ? `  ${fields}` : ''}\n`;
}

/** process.stdout, synchronously (a pipe or file on Linux) — pino's default would buffer. */
const stdoutDestination: DestinationStream = { write: (s) => void process.stdout.write(s) };

const specs = new WeakMap<Logger, LogLevelSpec>();

/** The root logger. Use forModule() for components so per-module levels apply. */
export function createLogger(opts: LoggerOptions, destination: DestinationStream = stdoutDestination): Logger {
  const parsed = parseLogLevel(opts.logLevel);
  const spec: LogLevelSpec = typeof parsed === 'string' ? { level: 'info', modules: {} } : parsed;
  const dest: DestinationStream = opts.logFormat === 'plain' ? { write: (s) => destination.write(formatPlainLine(s)) } : destination;
  const logger = pino(
    {
      level: spec.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
  specs.set(logger, spec);
  return logger;
}

/** A child logger tagged module=<name>, at that module's configured level. */
export function forModule(root: Logger, module: string): Logger {
  const spec = specs.get(root);
  const level = spec?.modules[module] ?? spec?.level;
  return level === undefined ? root.child({ module }) : root.child({ module }, { level });
}
