#!/usr/bin/env node
// The `tally` command. Each command lives in its own module under commands/ and exports
// register(program); adding one is an import and an entry in COMMANDS.
import '../polyfill/index.js';
import { Command } from 'commander';
import { TALLY_VERSION } from '../config/index.js';
import * as init from './commands/init.js';
import * as light from './commands/light.js';
import * as localnet from './commands/localnet.js';
import * as query from './commands/query.js';
import * as reset from './commands/reset.js';
import * as show from './commands/show.js';
import * as start from './commands/start.js';
import * as status from './commands/status.js';
import * as testnet from './commands/testnet.js';
import * as tx from './commands/tx.js';
import * as version from './commands/version.js';
import { reportError } from './report.js';

interface CommandModule {
  register(program: Command): void;
}

const COMMANDS: readonly CommandModule[] = [init, start, testnet, localnet, show, reset, light, version, tx, query, status];

const program = new Command('tally')
  .description('Tally: a CometBFT-0.38-compatible replicated ledger node')
  .version(TALLY_VERSION, '--version', 'print the Tally version')
  .showHelpAfterError('(add --help for usage)');
for (const m of COMMANDS) m.register(program);
// Commander's own errors (unknown option, missing value) get the same "tally <cmd>: " prefix as ours.
for (const cmd of [program, ...program.commands]) {
  const name = cmd === program ? 'tally' : `tally ${cmd.name()}`;
  cmd.configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, `${name}: `)) });
}

let current = 'tally';
program.hook('preAction', (_root, action) => {
  const names: string[] = [];
  for (let c: Command | null = action; c && c !== program; c = c.parent) names.unshift(c.name());
  current = ['tally', ...names].join(' ');
});

try {
  await program.parseAsync(process.argv);
} catch (e) {
  reportError(current, e);
  process.exitCode = 1;
}
