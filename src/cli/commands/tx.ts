// `tally tx KEY=VALUE`: send a kvstore transaction to a node. --commit (the default) waits for
// the block that includes it; --sync waits for CheckTx only; --async for nothing.
import type { Command } from 'commander';
import { toBase64, type JsonObject } from '../../codec/index.js';
import { CliError } from '../errors.js';
import { nodeOption, print, withClient } from './status.js';

interface TxOptions {
  node: string;
  async?: boolean;
  sync?: boolean;
  commit?: boolean;
  json?: boolean;
}

const obj = (v: unknown): JsonObject => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : {});

export function register(program: Command): void {
  program
    .command('tx')
    .description('Send a transaction (kvstore: KEY=VALUE) to a node over RPC')
    .argument('<tx>', 'the transaction, e.g. name=satoshi (sent as its UTF-8 bytes)')
    .addOption(nodeOption())
    .option('--async', 'return at once, without waiting for CheckTx')
    .option('--sync', 'wait for CheckTx (admission to the mempool) only')
    .option('--commit', 'wait until the tx is committed in a block (default)')
    .option('--json', 'print the RPC result as JSON')
    .addHelpText('after', '\nExamples:\n  tally tx name=satoshi\n  tally tx name=satoshi --sync --node http://127.0.0.1:26657 --json\n')
    .action(async (tx: string, opts: TxOptions) => {
      const modes = [opts.async && 'async', opts.sync && 'sync', opts.commit && 'commit'].filter(Boolean);
      if (modes.length > 1) throw new CliError(`choose one of --async, --sync, --commit (got ${modes.map((m) => `--${String(m)}`).join(', ')})`);
      if (tx === '') throw new CliError('the transaction is empty');
      const mode = (modes[0] as string | undefined) ?? 'commit';
      const params = { tx: toBase64(new TextEncoder().encode(tx)) };
      const r = await withClient(opts.node, (c) => c.call(`broadcast_tx_${mode}`, params));
      if (opts.json) print(JSON.stringify(r));
      // the outcome that decides success: CheckTx for sync, then the block's result for commit
      const check = mode === 'commit' ? obj(r.check_tx) : r;
      const result = mode === 'commit' ? obj(r.tx_result) : undefined;
      const failed = [check, result].find((x) => x !== undefined && typeof x.code === 'number' && x.code !== 0);
      if (!opts.json) {
        const lines = [`hash    ${String(r.hash)}`];
        if (mode === 'async') lines.unshift('sent (not checked yet)');
        else if (mode === 'sync' && !failed) lines.unshift('accepted into the mempool');
        else if (mode === 'commit' && !failed) lines.unshift(`committed at height ${String(r.height)}`);
        if (failed) lines.unshift(`rejected with code ${String(failed.code)}${failed.log ? `: ${String(failed.log)}` : ''}`);
        print(lines.join('\n'));
      }
      if (failed) process.exitCode = 1;
    });
}
