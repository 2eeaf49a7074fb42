// CometBFT's log_level: either one level ("info") or per-module levels with a default
// ("main:info,p2p:debug,*:error").

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogLevelSpec {
  /** The level for modules not listed. */
  readonly level: LogLevel;
  readonly modules: Readonly<Record<string, LogLevel>>;
}

function asLevel(s: string): LogLevel | undefined {
  const l = s === 'none' ? 'silent' : s; // CometBFT spells "silent" as "none"
  return (LOG_LEVELS as readonly string[]).includes(l) ? (l as LogLevel) : undefined;
}

/** Parse a log_level value; returns an error message instead of throwing. */
export function parseLogLevel(s: string): LogLevelSpec | string {
  const single = asLevel(s.trim());
  if (single) return { level: single, modules: {} };
  const modules: Record<string, LogLevel> = {};
  let level: LogLevel = 'info';
  for (const part of s.split(',')) {
    const m = /^\s*([A-Za-z0-9_*-]+)\s*:\s*([a-z]+)\s*$/.exec(part);
    const lvl = m ? asLevel(m[2]!) : undefined;
    if (!m || !lvl) return `bad log level ${JSON.stringify(part.trim())}: expected one of ${LOG_LEVELS.join(', ')} or module:level pairs like "main:info,*:error"`;
    if (m[1] === '*') level = lvl;
    else modules[m[1]!] = lvl;
  }
  return { level, modules };
}
