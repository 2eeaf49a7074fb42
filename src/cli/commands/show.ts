import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { pubKeyToJson } from '../../codec/index.js';
import { configFilePath, defaultConfig, homePaths, readConfigFile, readNodeKey, readPrivValidatorKey, type Config } from '../../config/index.js';
import { homeOption, resolveHome } from '../options.js';

/** The home's config if it has one, else the defaults (so the key file paths are the configured ones). */
async function configOf(home: string): Promise<Config> {
  const file = configFilePath(home);
  return existsSync(file) ? readConfigFile(file) : defaultConfig();
}

export function register(program: Command): void {
  program
    .command('show-node-id')
    .description("Show this node's id: the libp2p peer id of its node key (config/node_key.json)")
    .addOption(homeOption())
    .action(async (opts: { home?: string }) => {
      const home = resolveHome(opts.home);
      const key = await readNodeKey(homePaths(home, await configOf(home)).nodeKeyFile);
      process.stdout.write(`${key.id}\n`);
    });

  program
    .command('show-validator')
    .description("Show this node's validator public key (from config/priv_validator_key.json) as CometBFT JSON")
    .addOption(homeOption())
    .action(async (opts: { home?: string }) => {
      const home = resolveHome(opts.home);
      const key = await readPrivValidatorKey(homePaths(home, await configOf(home)).privValidatorKeyFile);
      process.stdout.write(`${JSON.stringify(pubKeyToJson(key.pubKey.bytes))}\n`);
    });
}
