import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { toHex } from '../../codec/index.js';
import { bytesEqual } from '../../crypto/index.js';
import { configFilePath, createLogger, forModule, initHome, loadHome } from '../../config/index.js';
import { addConfigOverrideOptions, collectOverrides, homeOption, resolveHome } from '../options.js';
import { startNode } from '../runtime.js';
import { logInitEvents } from './init.js';

export function register(program: Command): void {
  const cmd = program
    .command('start')
    .description('Run the node from its home directory (config.toml, genesis.json, keys), with any config key overridable by a flag')
    .addOption(homeOption())
    .option('--init-if-missing', 'run `tally init` first when the home has no config/config.toml');
  addConfigOverrideOptions(cmd);
  cmd.addHelpText('after', '\nExamples:\n  tally start --home ~/.tally\n  tally start --home .tally --init-if-missing --rpc.laddr tcp://127.0.0.1:36657 --consensus.timeout_commit 500ms\n');
  cmd.action(async (opts: { home?: string; initIfMissing?: boolean }, self: Command) => {
    const home = resolveHome(opts.home);
    const overrides = collectOverrides(self);
    if (opts.initIfMissing && !existsSync(configFilePath(home))) {
      const result = await initHome(home);
      logInitEvents(createLogger(result.config), result);
    }
    const loaded = await loadHome(home, overrides);
    const { config, genesis, nodeKey, privValidatorKey } = loaded;
    const logger = createLogger(config);
    const isValidator = genesis.validators.some((v) => bytesEqual(v.address, privValidatorKey.address));
    forModule(logger, 'main').info(
      {
        home: loaded.dir,
        moniker: config.moniker,
        chain_id: genesis.chainId,
        node_id: nodeKey.id,
        validator_address: toHex(privValidatorKey.address),
        genesis_validator: isValidator,
        genesis_validators: genesis.validators.length,
        initial_height: genesis.initialHeight,
        proxy_app: config.proxyApp,
        rpc_laddr: config.rpc.laddr,
        p2p_laddr: config.p2p.laddr,
        overrides: Object.keys(overrides).length > 0 ? Object.keys(overrides).map((k) => `--${k}`).join(',') : undefined,
      },
      'Loaded home',
    );
    await startNode(config, loaded, logger);
  });
}
