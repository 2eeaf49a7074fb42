// Options shared by several commands: --home, and one `--section.key <value>` option per
// config key (generated from the config schema, so a new key is overridable without CLI work).
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { FIELDS, defaultConfig, defaultHome, expectation, formatDuration, getField, type FieldInfo } from '../config/index.js';

export const OVERRIDES_GROUP = 'Config overrides (any config.toml key, as --key or --section.key; precedence: defaults < config.toml < flags):';

export function homeOption(): Option {
  return new Option('--home <dir>', 'node home directory (default: $TALLY_HOME, else ~/.tally)');
}

export function resolveHome(opt: unknown): string {
  return typeof opt === 'string' && opt !== '' ? resolve(opt) : defaultHome();
}

function shownDefault(f: FieldInfo): string {
  if (f.path === 'moniker') return 'the host name';
  const v = getField(defaultConfig(), f);
  if (f.spec.kind === 'duration') return formatDuration(v as number);
  if (Array.isArray(v)) return v.length === 0 ? 'none' : v.join(',');
  return v === '' ? '""' : String(v);
}

function overrideOption(f: FieldInfo): Option {
  const summary = f.spec.doc.split('\n')[0]!.replace(/\.$/, '');
  const flags = f.spec.kind === 'bool' ? `--${f.path} [bool]` : `--${f.path} <value>`;
  return new Option(flags, `${summary} (${expectation(f.spec)}; default ${shownDefault(f)})`).helpGroup(OVERRIDES_GROUP);
}

/** Add an override option for every config key the command does not already define. */
export function addConfigOverrideOptions(cmd: Command): Command {
  const taken = new Set(cmd.options.map((o) => o.long));
  for (const f of FIELDS) if (!taken.has(`--${f.path}`)) cmd.addOption(overrideOption(f));
  return cmd;
}

/** The config overrides actually given on the command line, keyed "rpc.laddr", "moniker", … */
export function collectOverrides(cmd: Command): Record<string, string | boolean> {
  const opts = cmd.opts<Record<string, unknown>>();
  const out: Record<string, string | boolean> = {};
  for (const f of FIELDS) {
    if (cmd.getOptionValueSource(f.path) !== 'cli') continue;
    const v = opts[f.path];
    if (typeof v === 'string' || typeof v === 'boolean') out[f.path] = v;
  }
  return out;
}
