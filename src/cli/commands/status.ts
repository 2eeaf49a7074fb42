// `tally status`: a node's status over RPC, readable or as JSON. Also the pieces the other
// client commands (tx, query) share: --node and turning RPC failures into one-line errors.
import { Option, type Command } from 'commander';
import type { JsonObject } from '../../codec/index.js';
import { RpcClient, RpcClientError, nodeUrl } from '../../rpc/client.js';
import { CliError } from '../errors.js';

export const DEFAULT_NODE = 'http://127.0.0.1:26657';

export function nodeOption(): Option {
  return new Option('--node <url>', 'RPC address of the node (http://host:port or tcp://host:port)').default(DEFAULT_NODE);
}

/** A client for --node; RPC failures surface as CliErrors (one line, exit code 1). */
export async function withClient<T>(node: string, fn: (c: RpcClient) => Promise<T>): Promise<T> {
  try {
    return await fn(new RpcClient(nodeUrl(node)));
  } catch (e) {
    if (e instanceof RpcClientError) throw new CliError(e.message);
    throw e;
  }
}

export const print = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};

const obj = (v: unknown): JsonObject => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {});

export function register(program: Command): void {
  program
    .command('status')
    .description("Show a node's status (height, latest block, validator) over RPC")
    .addOption(nodeOption())
    .option('--json', 'print the RPC result as JSON')
    .action(async (opts: { node: string; json?: boolean }) => {
      const s = await withClient(opts.node, (c) => c.call('status'));
      if (opts.json) return print(JSON.stringify(s));
      const n = obj(s.node_info);
      const sync = obj(s.sync_info);
      const val = obj(s.validator_info);
      print(
        [
          `node        ${String(n.id)} (${String(n.moniker)})`,
          `network     ${String(n.network)}`,
          `version     ${String(n.version)}`,
          `height      ${String(sync.latest_block_height)} at ${String(sync.latest_block_time)}${sync.catching_up === true ? ' (catching up)' : ''}`,
          `block hash  ${String(sync.latest_block_hash)}`,
          `app hash    ${String(sync.latest_app_hash)}`,
          `earliest    ${String(sync.earliest_block_height)}`,
          `validator   ${String(val.address)} (voting power ${String(val.voting_power)})`,
        ].join('\n'),
      );
    });
}
