// Reading and writing config.toml, command-line overrides, and whole-config validation.
// Precedence: defaults < config.toml < command line. Missing keys take their defaults (an older
// file keeps working); unknown keys are errors (a typo must not be silently ignored).
import { readFile } from 'node:fs/promises';
import { parse as parseToml, stringify as stringifyToml, TomlError } from 'smol-toml';
import { parseHostPort, parseMultiaddr, parseTcpUrl } from './addr.js';
import { COMETBFT_ONLY_KEYS, COMETBFT_VERSION_KEY, REFUSED, isCometbftDefault } from './cometbft-only.js';
import { ConfigError } from './errors.js';
import {
  FIELDS,
  SCHEMA,
  cloneConfig,
  defaultConfig,
  fieldByPath,
  getField,
  setField,
  type Config,
  type FieldInfo,
  type SectionName,
} from './schema.js';
import { fromFlag, fromToml, isError, toToml } from './values.js';

// ---- suggestions for typos -------------------------------------------------------------------

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** " (did you mean …?)" when a candidate is close, else "". */
export function suggest(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean ${JSON.stringify(best)}?)` : '';
}

const SECTION_BY_TABLE = new Map(
  (Object.entries(SCHEMA.sections) as [SectionName, { table: string }][]).map(([name, s]) => [s.table, name]),
);
const TOP_LEVEL_NAMES = [...FIELDS.filter((f) => f.section === null).map((f) => f.path), ...SECTION_BY_TABLE.keys()];

// ---- reading --------------------------------------------------------------------------------

function isTable(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * Parse config.toml text over the defaults (or over `base`). `file` names the source in errors.
 * Per-key types and ranges are checked here; cross-key rules by validateConfig.
 */
export function parseConfigToml(text: string, file = 'config.toml', base: Config = defaultConfig()): Config {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text, { integersAsBigInt: 'asNeeded' });
  } catch (e) {
    if (e instanceof TomlError) throw new ConfigError(`invalid TOML at line ${e.line}, column ${e.column}: ${e.message.split('\n')[0]}`, file);
    throw e;
  }
  const config = cloneConfig(base);
  const foreign: Record<string, unknown> = { ...config.cometbftOnly };
  /** A CometBFT-only key: noted if set away from its default; false if not one. */
  const cometbftOnly = (path: string, raw: unknown): boolean => {
    if (path === COMETBFT_VERSION_KEY) return true;
    if (!COMETBFT_ONLY_KEYS.has(path)) return false;
    if (isCometbftDefault(path, raw)) return true;
    const refused = REFUSED.get(path);
    if (refused !== undefined) throw new ConfigError(`${JSON.stringify(raw)} is not supported: ${refused}`, file, path);
    foreign[path] = raw;
    return true;
  };
  const setFrom = (f: FieldInfo, raw: unknown): void => {
    const r = fromToml(f, raw);
    if (isError(r)) throw new ConfigError(r.error, file, f.path);
    setField(config, f, r);
  };
  for (const [name, value] of Object.entries(doc)) {
    const section = SECTION_BY_TABLE.get(name);
    if (section !== undefined) {
      if (!isTable(value)) throw new ConfigError(`expected a [${name}] table`, file, name);
      const sec = SCHEMA.sections[section];
      for (const [key, raw] of Object.entries(value)) {
        const f = fieldByPath(`${name}.${key}`);
        if (!f && cometbftOnly(`${name}.${key}`, raw)) continue;
        if (!f) {
          const known = Object.values(sec.keys).map((s) => s.key);
          throw new ConfigError(`unknown key "${key}" in [${name}]${suggest(key, known)}`, file, `${name}.${key}`);
        }
        setFrom(f, raw);
      }
      continue;
    }
    const f = fieldByPath(name);
    if (!f && cometbftOnly(name, value)) continue;
    if (!f || f.section !== null) throw new ConfigError(`unknown key "${name}"${suggest(name, TOP_LEVEL_NAMES)}`, file, name);
    setFrom(f, value);
  }
  return Object.keys(foreign).length > 0 ? { ...config, cometbftOnly: foreign } : config;
}

/** Read and parse a config.toml file. A missing file is an error naming it. */
export async function readConfigFile(path: string, base?: Config): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? 'file not found' : `cannot read: ${(e as Error).message}`, path);
  }
  return parseConfigToml(text, path, base);
}

// ---- overrides ------------------------------------------------------------------------------

/** Every key's command-line name: "moniker", "rpc.laddr", "tx_index.indexer", … */
export const OVERRIDE_KEYS: readonly string[] = FIELDS.map((f) => f.path);

/**
 * Apply `--section.key value` overrides (keys without the leading dashes; "-" and "_" are
 * interchangeable in the key). `true` stands for a flag given without a value.
 */
export function applyOverrides(config: Config, overrides: Readonly<Record<string, string | boolean>>, source?: string): Config {
  const out = cloneConfig(config);
  for (const [rawKey, raw] of Object.entries(overrides)) {
    const key = rawKey.replace(/^--/, '');
    const f = fieldByPath(key) ?? fieldByPath(key.replace(/-/g, '_'));
    if (!f) throw new ConfigError(`unknown config key --${key}${suggest(key, OVERRIDE_KEYS)}`, source);
    const r = fromFlag(f, raw);
    if (isError(r)) throw new ConfigError(r.error, source, `--${f.path}`);
    setField(out, f, r);
  }
  return out;
}

// ---- cross-key validation -------------------------------------------------------------------

const WILDCARDS = new Set(['', '0.0.0.0', '::']);

/** Checks that involve more than one key. Throws a ConfigError naming them. */
export function validateConfig(config: Config, source = 'config'): void {
  const { mempool, statesync } = config;
  if (config.p2p.seedMode && !config.p2p.pex) throw new ConfigError('seed mode crawls by peer exchange: set p2p.pex = true, or seed_mode = false', source, 'p2p.seed_mode');
  if (mempool.maxTxBytes > mempool.maxTxsBytes)
    throw new ConfigError(`${mempool.maxTxBytes} must not exceed mempool.max_txs_bytes (${mempool.maxTxsBytes})`, source, 'mempool.max_tx_bytes');
  if (statesync.enable) {
    if (statesync.trustHeight <= 0) throw new ConfigError('must be > 0 when statesync.enable is true', source, 'statesync.trust_height');
    if (statesync.trustHash === '') throw new ConfigError('must be set when statesync.enable is true', source, 'statesync.trust_hash');
  }
  // Two listeners on one port fail at start-up with EADDRINUSE; say which keys collide instead.
  const listeners: { key: string; host: string; port: number }[] = [];
  const rpc = config.rpc.laddr === '' ? undefined : parseTcpUrl(config.rpc.laddr);
  if (rpc !== undefined && typeof rpc !== 'string') listeners.push({ key: 'rpc.laddr', ...rpc });
  const p2p = parseMultiaddr(config.p2p.laddr);
  if (typeof p2p !== 'string') listeners.push({ key: 'p2p.laddr', host: p2p.host, port: p2p.port });
  if (config.instrumentation.prometheus && config.instrumentation.prometheusListenAddr !== '') {
    const prom = parseHostPort(config.instrumentation.prometheusListenAddr, true);
    if (typeof prom !== 'string') listeners.push({ key: 'instrumentation.prometheus_listen_addr', ...prom });
  }
  for (let i = 0; i < listeners.length; i++) {
    for (let j = i + 1; j < listeners.length; j++) {
      const a = listeners[i]!;
      const b = listeners[j]!;
      // Port 0 asks the OS for a free port: several listeners may do so.
      if (a.port !== 0 && a.port === b.port && (a.host === b.host || WILDCARDS.has(a.host) || WILDCARDS.has(b.host)))
        throw new ConfigError(`port ${b.port} is also used by ${a.key}`, source, b.key);
    }
  }
}

/**
 * Keys a CometBFT config may set that Tally accepts but does not act on yet: each one set away
 * from its default, as "section.key = value (what happens instead)", for a warning at start.
 */
export function ignoredSettings(config: Config): string[] {
  const d = defaultConfig();
  const out: string[] = [];
  const check = (path: string, value: unknown, fallback: unknown, instead: string): void => {
    if (value !== fallback) out.push(`${path} = ${JSON.stringify(value)} (${instead})`);
  };
  check('statesync.enable', config.statesync.enable, d.statesync.enable, 'state sync is not implemented: the node block-syncs from its peers');
  for (const [path, value] of Object.entries(config.cometbftOnly ?? {})) out.push(`${path} = ${JSON.stringify(value)} (a CometBFT key Tally does not use)`);
  check('consensus.peer_gossip_sleep_duration', config.consensus.peerGossipSleepDurationMs, d.consensus.peerGossipSleepDurationMs, 'consensus messages go by gossipsub and requests, not a per-peer loop');
  return out;
}

/** Defaults < config.toml < overrides, validated. */
export async function loadConfig(path: string, overrides: Readonly<Record<string, string | boolean>> = {}): Promise<Config> {
  const fromFile = await readConfigFile(path);
  validateConfig(fromFile, path);
  const config = applyOverrides(fromFile, overrides);
  validateConfig(config, Object.keys(overrides).length > 0 ? `${path} with command-line overrides` : path);
  return config;
}

// ---- writing --------------------------------------------------------------------------------

const HEADER = `# This is a TOML config file for Tally, a CometBFT-0.38-compatible node.
# For more information, see https://github.com/toml-lang/toml
#
# The layout and key names follow CometBFT's config.toml. Relative paths are relative to the
# home directory (--home, $TALLY_HOME, default ~/.tally). Durations are Go-style strings such
# as "500ms", "3s", "1m30s" or "168h0m0s". Unknown keys are rejected.
#
# Every key can be overridden on the command line of \`tally start\` as --<key> or
# --<section>.<key>, e.g. --moniker node7, --rpc.laddr tcp://0.0.0.0:26657 or
# --consensus.timeout_commit 500ms. Precedence: defaults < this file < command line.
`;

function banner(title: string): string {
  const width = 71;
  const line = '#'.repeat(width);
  const inner = width - 6;
  const left = Math.floor((inner - title.length) / 2);
  const middle = title.length >= inner ? title : ' '.repeat(left) + title + ' '.repeat(inner - left - title.length);
  return `${line}\n###${middle}###\n${line}\n`;
}

function renderKey(config: Config, f: FieldInfo): string {
  const comment = f.spec.doc
    .split('\n')
    .map((l) => `# ${l}`.trimEnd())
    .join('\n');
  // smol-toml formats the value (string escaping, arrays); the key and comment are ours.
  const line = stringifyToml({ [f.spec.key]: toToml(f, getField(config, f)) }).trim();
  return `${comment}\n${line}\n`;
}

/** config.toml text for `config`, every key preceded by its explanation. */
export function renderConfigToml(config: Config): string {
  const parts = [HEADER, '\n', banner(SCHEMA.base.title)];
  for (const f of FIELDS.filter((x) => x.section === null)) parts.push('\n', renderKey(config, f));
  for (const [name, sec] of Object.entries(SCHEMA.sections) as [SectionName, { table: string; title: string }][]) {
    parts.push('\n', banner(sec.title), `[${sec.table}]\n`);
    for (const f of FIELDS.filter((x) => x.section === name)) parts.push('\n', renderKey(config, f));
  }
  return parts.join('');
}
