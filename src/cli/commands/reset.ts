import type { Command } from 'commander';
import { createLogger, forModule, loadHomeConfig, resetHome } from '../../config/index.js';
import { homeOption, resolveHome } from '../options.js';

export function register(program: Command): void {
  program
    .command('unsafe-reset-all')
    .description(
      '(unsafe) Remove all blockchain data (db_dir and the consensus WAL) and reset the validator\'s last-sign state to height 0. Config, genesis and keys are kept.',
    )
    .addOption(homeOption())
    .action(async (opts: { home?: string }) => {
      const home = resolveHome(opts.home);
      const config = await loadHomeConfig(home);
      const result = await resetHome(home);
      const log = forModule(createLogger(config), 'main');
      log.info({ dir: result.dbDir }, 'Removed all blockchain history');
      if (result.walFile !== undefined) log.info({ path: result.walFile }, 'Removed consensus WAL');
      log.info({ stateFile: result.privValidatorStateFile }, 'Reset private validator file to genesis state');
    });
}
