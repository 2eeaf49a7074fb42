import type { Command } from 'commander';
import { COMETBFT_COMPAT_VERSION, TALLY_VERSION } from '../../config/index.js';

export function register(program: Command): void {
  program
    .command('version')
    .description('Show the Tally version and the CometBFT version it is compatible with')
    .option('--json', 'print a JSON object {"tally": …, "cometbft": …}')
    .action((opts: { json?: boolean }) => {
      if (opts.json) process.stdout.write(`${JSON.stringify({ tally: TALLY_VERSION, cometbft: COMETBFT_COMPAT_VERSION })}\n`);
      else process.stdout.write(`tally ${TALLY_VERSION}\ncometbft ${COMETBFT_COMPAT_VERSION}\n`);
    });
}
