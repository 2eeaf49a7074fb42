// `tally query KEY`: read a key from the application's committed state (abci_query).
import type { Command } from 'commander';
import type { JsonObject } from '../../codec/index.js';
import { CliError } from '../errors.js';
import { nodeOption, print, withClient } from './status.js';

interface QueryOptions {
  node: string;
  height?: string;
  path: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('query')
    .description("Read a key from the application's state over RPC (abci_query); exit code 1 if it is absent")
    .argument('<key>', 'the key, e.g. name')
    .addOption(nodeOption())
    .option('--height <h>', 'the height to read at (default: the latest)')
    .option('--path <path>', 'the abci_query path', '/store')
    .option('--json', 'print the RPC result as JSON')
    .action(async (key: string, opts: QueryOptions) => {
      if (opts.height !== undefined && !/^\d{1,15}$/.test(opts.height)) throw new CliError(`--height must be a non-negative integer, got ${JSON.stringify(opts.height)}`);
      const params: JsonObject = { path: opts.path, data: Buffer.from(key, 'utf8').toString('hex') };
      if (opts.height !== undefined) params.height = opts.height;
      const r = await withClient(opts.node, (c) => c.call('abci_query', params));
      const resp = (r.response ?? {}) as JsonObject;
      const value = typeof resp.value === 'string' && resp.value !== '' ? Buffer.from(resp.value, 'base64').toString('utf8') : undefined;
      const found = resp.code === 0 && value !== undefined;
      if (opts.json) print(JSON.stringify(r));
      else if (found) print(`${key} = ${value} (height ${String(resp.height)})`);
      else print(`${key}: not found (height ${String(resp.height)}${resp.log ? `, ${String(resp.log)}` : ''})`);
      if (!found) process.exitCode = 1;
    });
}
