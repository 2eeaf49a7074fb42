// The home directory, laid out as CometBFT's:
//   <home>/config/config.toml  genesis.json  node_key.json  priv_validator_key.json
//   <home>/data/priv_validator_state.json  (+ the databases and the consensus WAL)
// Paths inside config.toml are relative to the home. Directories are created 0700, key files
// 0600, and everything is written atomically (see fsutil).
import { randomBytes } from 'node:crypto';
import { access, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { timeFromDate, type Timestamp } from '../codec/index.js';
import { GenesisError, MAX_CHAIN_ID_LENGTH, formatGenesis, makeGenesis, parseGenesis, type GenesisDoc } from '../types/genesis.js';
import { applyOverrides, loadConfig, renderConfigToml, validateConfig } from './config.js';
import { ConfigError } from './errors.js';
import { ensureDir, writeFileAtomic } from '../fsutil/index.js';
import {
  NodeKey,
  PrivValidatorKey,
  readNodeKey,
  readPrivValidatorKey,
  readPrivValidatorState,
  writeNodeKey,
  writePrivValidatorKey,
  writePrivValidatorState,
  type PrivValidatorState,
} from './keys.js';
import { defaultConfig, type Config } from './schema.js';

export const CONFIG_DIR = 'config';
export const DATA_DIR = 'data';
export const CONFIG_FILE = 'config.toml';
/** Voting power `init` and `testnet` give each validator (as CometBFT's init does). */
export const DEFAULT_VALIDATOR_POWER = 10n;

export interface HomePaths {
  readonly home: string;
  readonly configDir: string;
  readonly configFile: string;
  readonly genesisFile: string;
  readonly nodeKeyFile: string;
  readonly privValidatorKeyFile: string;
  readonly privValidatorStateFile: string;
  /** The signer's in-place state log beside the state file (src/privval/state-log.ts). */
  readonly privValidatorStateLogFile: string;
  readonly dbDir: string;
  readonly walFile: string;
  readonly addrBookFile: string;
  /** Peer bans kept across restarts (src/p2p/bans-file.ts), in the data directory. */
  readonly peerBansFile: string;
}

/** $TALLY_HOME, else ~/.tally. */
export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TALLY_HOME;
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(homedir(), '.tally'));
}

export function configFilePath(home: string): string {
  return join(resolve(home), CONFIG_DIR, CONFIG_FILE);
}

/** Absolute paths of everything in a home, as configured. */
export function homePaths(home: string, config: Config): HomePaths {
  const root = resolve(home);
  const at = (p: string): string => (isAbsolute(p) ? p : join(root, p));
  return {
    home: root,
    configDir: join(root, CONFIG_DIR),
    configFile: configFilePath(root),
    genesisFile: at(config.genesisFile),
    nodeKeyFile: at(config.nodeKeyFile),
    privValidatorKeyFile: at(config.privValidatorKeyFile),
    privValidatorStateFile: at(config.privValidatorStateFile),
    privValidatorStateLogFile: `${at(config.privValidatorStateFile).replace(/\.json$/, '')}.log`,
    dbDir: at(config.dbDir),
    walFile: at(config.consensus.walFile),
    addrBookFile: at(config.p2p.addrBookFile),
    peerBansFile: join(at(config.dbDir), 'peer_bans.json'),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** "tally-" and six random hex characters. */
export function randomChainId(): string {
  return `tally-${randomBytes(3).toString('hex')}`;
}

// ---- genesis and config files ----------------------------------------------------------------

export async function readGenesisFile(path: string): Promise<GenesisDoc> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? 'genesis file not found' : `cannot read genesis file: ${(e as Error).message}`, path);
  }
  try {
    return parseGenesis(text);
  } catch (e) {
    if (e instanceof GenesisError) throw new ConfigError(e.detail, path, e.path || undefined);
    throw e;
  }
}

export async function writeGenesisFile(path: string, doc: GenesisDoc): Promise<void> {
  await ensureDir(dirname(path));
  await writeFileAtomic(path, formatGenesis(doc), 0o644);
}

export async function writeConfigFile(path: string, config: Config): Promise<void> {
  validateConfig(config, path);
  await ensureDir(dirname(path));
  await writeFileAtomic(path, renderConfigToml(config), 0o644);
}

// ---- creating homes ---------------------------------------------------------------------------

export interface NewHome {
  readonly config: Config;
  readonly nodeKey: NodeKey;
  readonly privValidatorKey: PrivValidatorKey;
  readonly genesis: GenesisDoc;
}

/** Write a complete new home (used by testnet; init writes piecewise to keep existing files). */
export async function writeHome(home: string, h: NewHome): Promise<HomePaths> {
  const paths = homePaths(home, h.config);
  await ensureDir(paths.home);
  await ensureDir(paths.configDir);
  await ensureDir(paths.dbDir);
  await writeConfigFile(paths.configFile, h.config);
  await ensureDir(dirname(paths.privValidatorKeyFile));
  await writePrivValidatorKey(paths.privValidatorKeyFile, h.privValidatorKey);
  await ensureDir(dirname(paths.privValidatorStateFile));
  await writePrivValidatorState(paths.privValidatorStateFile);
  await ensureDir(dirname(paths.nodeKeyFile));
  await writeNodeKey(paths.nodeKeyFile, h.nodeKey);
  await writeGenesisFile(paths.genesisFile, h.genesis);
  return paths;
}

export type InitSubject = 'config file' | 'private validator' | 'node key' | 'genesis file';

/** What init did with each file, for the CLI to report ("Found node key", "Generated genesis file"). */
export interface InitEvent {
  readonly action: 'found' | 'generated';
  readonly subject: InitSubject;
  readonly path: string;
}

export interface InitOptions {
  /** Chain id for a new genesis (default: randomChainId()). */
  readonly chainId?: string;
  /** Moniker for a new config.toml. */
  readonly moniker?: string;
  /** Config overrides written into a new config.toml. */
  readonly overrides?: Readonly<Record<string, string | boolean>>;
  readonly genesisTime?: Timestamp;
}

export interface InitResult {
  readonly config: Config;
  readonly paths: HomePaths;
  readonly nodeKey: NodeKey;
  readonly privValidatorKey: PrivValidatorKey;
  readonly genesis: GenesisDoc;
  readonly events: readonly InitEvent[];
}

/**
 * Create whatever is missing of a home, keeping what exists (as `cometbft init` does): an
 * existing key is never replaced, an existing genesis or config.toml never rewritten.
 */
export async function initHome(home: string, opts: InitOptions = {}): Promise<InitResult> {
  // Checked before anything is written, so a typo does not leave a half-made home behind.
  if (opts.chainId !== undefined && (opts.chainId === '' || opts.chainId.length > MAX_CHAIN_ID_LENGTH))
    throw new ConfigError(`chain id must be 1 to ${MAX_CHAIN_ID_LENGTH} characters, got ${opts.chainId.length}`, '--chain-id');
  const events: InitEvent[] = [];
  const configFile = configFilePath(home);
  let config: Config;
  if (await exists(configFile)) {
    config = await loadConfig(configFile);
    events.push({ action: 'found', subject: 'config file', path: configFile });
  } else {
    const base = defaultConfig();
    if (opts.moniker !== undefined) base.moniker = opts.moniker;
    config = applyOverrides(base, opts.overrides ?? {});
    validateConfig(config, 'command line');
  }
  const paths = homePaths(home, config);
  await ensureDir(paths.home);
  await ensureDir(paths.configDir);
  await ensureDir(paths.dbDir);
  if (!events.some((e) => e.subject === 'config file')) {
    await writeConfigFile(paths.configFile, config);
    events.push({ action: 'generated', subject: 'config file', path: paths.configFile });
  }

  let privValidatorKey: PrivValidatorKey;
  if (await exists(paths.privValidatorKeyFile)) {
    privValidatorKey = await readPrivValidatorKey(paths.privValidatorKeyFile);
    events.push({ action: 'found', subject: 'private validator', path: paths.privValidatorKeyFile });
  } else {
    privValidatorKey = PrivValidatorKey.generate();
    await ensureDir(dirname(paths.privValidatorKeyFile));
    await writePrivValidatorKey(paths.privValidatorKeyFile, privValidatorKey);
    events.push({ action: 'generated', subject: 'private validator', path: paths.privValidatorKeyFile });
  }
  if (await exists(paths.privValidatorStateFile)) {
    await readPrivValidatorState(paths.privValidatorStateFile); // validate only
  } else {
    await ensureDir(dirname(paths.privValidatorStateFile));
    await writePrivValidatorState(paths.privValidatorStateFile);
  }

  let nodeKey: NodeKey;
  if (await exists(paths.nodeKeyFile)) {
    nodeKey = await readNodeKey(paths.nodeKeyFile);
    events.push({ action: 'found', subject: 'node key', path: paths.nodeKeyFile });
  } else {
    nodeKey = NodeKey.generate();
    await ensureDir(dirname(paths.nodeKeyFile));
    await writeNodeKey(paths.nodeKeyFile, nodeKey);
    events.push({ action: 'generated', subject: 'node key', path: paths.nodeKeyFile });
  }

  let genesis: GenesisDoc;
  if (await exists(paths.genesisFile)) {
    genesis = await readGenesisFile(paths.genesisFile);
    events.push({ action: 'found', subject: 'genesis file', path: paths.genesisFile });
  } else {
    try {
      genesis = makeGenesis({
        chainId: opts.chainId ?? randomChainId(),
        genesisTime: opts.genesisTime ?? timeFromDate(new Date()),
        validators: [{ pubKey: privValidatorKey.pubKey.bytes, power: DEFAULT_VALIDATOR_POWER, name: config.moniker }],
      });
    } catch (e) {
      if (e instanceof GenesisError) throw new ConfigError(e.detail, '--chain-id', e.path === 'chain_id' ? undefined : e.path);
      throw e;
    }
    await writeGenesisFile(paths.genesisFile, genesis);
    events.push({ action: 'generated', subject: 'genesis file', path: paths.genesisFile });
  }
  return { config, paths, nodeKey, privValidatorKey, genesis, events };
}

// ---- loading ----------------------------------------------------------------------------------

/** Everything a node needs from its home, validated. */
export interface LoadedHome {
  readonly dir: string;
  readonly paths: HomePaths;
  readonly config: Config;
  readonly genesis: GenesisDoc;
  readonly nodeKey: NodeKey;
  readonly privValidatorKey: PrivValidatorKey;
  readonly privValidatorState: PrivValidatorState;
}

export function notInitialised(home: string): ConfigError {
  const dir = resolve(home);
  return new ConfigError(`home ${dir} is not initialised: ${configFilePath(dir)} not found (run \`tally init --home ${dir}\`, or start with --init-if-missing)`);
}

/** The config of an initialised home (defaults < config.toml < overrides). */
export async function loadHomeConfig(home: string, overrides: Readonly<Record<string, string | boolean>> = {}): Promise<Config> {
  const configFile = configFilePath(home);
  if (!(await exists(configFile))) throw notInitialised(home);
  return loadConfig(configFile, overrides);
}

export async function loadHome(home: string, overrides: Readonly<Record<string, string | boolean>> = {}): Promise<LoadedHome> {
  const config = await loadHomeConfig(home, overrides);
  const paths = homePaths(home, config);
  const [genesis, nodeKey, privValidatorKey, privValidatorState] = await Promise.all([
    readGenesisFile(paths.genesisFile),
    readNodeKey(paths.nodeKeyFile),
    readPrivValidatorKey(paths.privValidatorKeyFile),
    readPrivValidatorState(paths.privValidatorStateFile),
  ]);
  return { dir: paths.home, paths, config, genesis, nodeKey, privValidatorKey, privValidatorState };
}

// ---- resetting --------------------------------------------------------------------------------

export interface ResetResult {
  readonly dbDir: string;
  readonly privValidatorStateFile: string;
  /** The WAL file, when it lives outside db_dir and was removed separately. */
  readonly walFile?: string;
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * `unsafe-reset-all`: delete all blockchain data (db_dir and the consensus WAL) and reset the
 * validator's last-sign state to height 0, keeping config, genesis and keys. Refuses a db_dir
 * that would take the keys, the config or the home itself with it.
 */
export async function resetHome(home: string): Promise<ResetResult> {
  const config = await loadHomeConfig(home);
  const paths = homePaths(home, config);
  const { dbDir } = paths;
  const precious = [paths.home, paths.configFile, paths.genesisFile, paths.nodeKeyFile, paths.privValidatorKeyFile];
  for (const p of precious) {
    if (isInside(p, dbDir)) throw new ConfigError(`refusing to delete ${dbDir}: it contains ${p}`, paths.configFile, 'db_dir');
  }
  await rm(dbDir, { recursive: true, force: true });
  await ensureDir(dbDir);
  let walFile: string | undefined;
  if (!isInside(paths.walFile, dbDir)) {
    await rm(paths.walFile, { force: true });
    walFile = paths.walFile;
  }
  await ensureDir(dirname(paths.privValidatorStateFile));
  await rm(paths.privValidatorStateLogFile, { force: true }); // holds the state being reset, too
  await rm(paths.addrBookFile, { force: true }); // as CometBFT's unsafe-reset-all
  await writePrivValidatorState(paths.privValidatorStateFile);
  return walFile === undefined ? { dbDir, privValidatorStateFile: paths.privValidatorStateFile } : { dbDir, privValidatorStateFile: paths.privValidatorStateFile, walFile };
}
