// Node configuration (config.toml + command-line overrides) and the home directory
// (CometBFT layout: config/, data/, key files, genesis).
export { ConfigError } from './errors.js';
export { parseDuration, formatDuration, DurationError } from './duration.js';
export {
  SCHEMA,
  FIELDS,
  defaultConfig,
  cloneConfig,
  fieldByPath,
  getField,
  type Config,
  type BaseConfig,
  type RpcConfig,
  type P2PConfig,
  type MempoolConfig,
  type StateSyncConfig,
  type BlockSyncConfig,
  type ConsensusConfig,
  type StorageConfig,
  type TxIndexConfig,
  type InstrumentationConfig,
  type LogFormat,
  type FieldInfo,
  type FieldValue,
  type KeySpec,
} from './schema.js';
export { expectation } from './values.js';
export {
  parseConfigToml,
  readConfigFile,
  renderConfigToml,
  applyOverrides,
  validateConfig,
  ignoredSettings,
  loadConfig,
  OVERRIDE_KEYS,
  suggest,
} from './config.js';
export { parseMultiaddr, toMultiaddr, parseTcpUrl, parseHostPort, type ParsedMultiaddr, type HostPort } from './addr.js';
export { parseLogLevel, LOG_LEVELS, type LogLevel, type LogLevelSpec } from './log-level.js';
export { createLogger, forModule, formatPlainLine, type Logger, type LoggerOptions } from './logger.js';
export {
  NodeKey,
  PrivValidatorKey,
  INITIAL_PRIV_VALIDATOR_STATE,
  KEY_FILE_MODE,
  readNodeKey,
  writeNodeKey,
  readPrivValidatorKey,
  writePrivValidatorKey,
  readPrivValidatorState,
  writePrivValidatorState,
  privValidatorStateFromJson,
  privValidatorStateToJson,
  type PrivValidatorState,
  type Libp2pPrivateKey,
} from './keys.js';
export {
  CONFIG_DIR,
  DATA_DIR,
  CONFIG_FILE,
  DEFAULT_VALIDATOR_POWER,
  defaultHome,
  configFilePath,
  homePaths,
  randomChainId,
  readGenesisFile,
  writeGenesisFile,
  writeConfigFile,
  writeHome,
  initHome,
  loadHome,
  loadHomeConfig,
  notInitialised,
  resetHome,
  type HomePaths,
  type NewHome,
  type InitEvent,
  type InitSubject,
  type InitOptions,
  type InitResult,
  type LoadedHome,
  type ResetResult,
} from './home.js';
export { TALLY_VERSION, COMETBFT_BASE_VERSION, COMETBFT_COMPAT_VERSION } from './version.js';
