import type { Command } from 'commander';
import { createLogger, forModule, initHome, type InitEvent, type InitResult, type Logger } from '../../config/index.js';
import { addConfigOverrideOptions, collectOverrides, homeOption, resolveHome } from '../options.js';

const VERB: Record<InitEvent['action'], string> = { found: 'Found', generated: 'Generated' };

/** Log what init did, as CometBFT does ("Found node key", "Generated genesis file", …). */
export function logInitEvents(logger: Logger, result: InitResult): void {
  const log = forModule(logger, 'main');
  for (const e of result.events) {
    if (e.subject === 'private validator')
      log.info({ keyFile: e.path, stateFile: result.paths.privValidatorStateFile }, `${VERB[e.action]} private validator`);
    else log.info({ path: e.path }, `${VERB[e.action]} ${e.subject}`);
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('init')
    .description('Initialize a node home: config.toml, genesis.json (this node as the only validator), node key and validator key. Existing files are kept.')
    .addOption(homeOption())
    .option('--chain-id <id>', 'chain id for a new genesis.json (default: "tally-" and 6 random hex characters)')
    .option('--moniker <name>', 'node name written to a new config.toml (default: the host name)');
  addConfigOverrideOptions(cmd);
  cmd.action(async (opts: { home?: string; chainId?: string }, self: Command) => {
    const home = resolveHome(opts.home);
    const overrides = collectOverrides(self);
    const result = await initHome(home, { chainId: opts.chainId, overrides });
    const logger = createLogger(result.config);
    logInitEvents(logger, result);
    const log = forModule(logger, 'main');
    const foundConfig = result.events.some((e) => e.subject === 'config file' && e.action === 'found');
    if (foundConfig && Object.keys(overrides).length > 0)
      log.warn({ flags: Object.keys(overrides).map((k) => `--${k}`).join(',') }, 'config.toml exists and was not modified; flags that set config keys were ignored');
    const foundGenesis = result.events.some((e) => e.subject === 'genesis file' && e.action === 'found');
    if (foundGenesis && opts.chainId !== undefined && opts.chainId !== result.genesis.chainId)
      log.warn({ chain_id: result.genesis.chainId, ignored: opts.chainId }, 'genesis.json exists and was not modified; --chain-id was ignored');
  });
}
