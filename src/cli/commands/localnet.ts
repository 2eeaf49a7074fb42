// `tally localnet` (`npm run localnet`): a V-validator network on this machine. Creates the
// homes with `tally testnet` the first time (in --output, default ./.localnet) and reuses them
// afterwards, so a restart continues the same chain; starts one `tally start` child process per
// node, prefixes every line it prints with its name, and on Ctrl-C (SIGINT/SIGTERM) stops them
// all and waits for them — a second Ctrl-C kills them at once. If a node exits by itself, the
// others are stopped too and the exit code says so.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { TestnetManifest } from './testnet.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const COLORS = [36, 33, 35, 32, 34, 31];

function readManifest(path: string): TestnetManifest {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as TestnetManifest;
    if (!Array.isArray(m.nodes) || m.nodes.length === 0) throw new Error('no nodes listed');
    return m;
  } catch (e) {
    throw new CliError(`${path}: not a testnet manifest (${(e as Error).message}); remove the directory to create a new localnet`);
  }
}

export function register(program: Command): void {
  program
    .command('localnet')
    .description('Run a local testnet: create it with `tally testnet` on first use (reused afterwards), start every node as a child process with prefixed logs, stop them all on Ctrl-C')
    .option('--output <dir>', 'directory holding the node homes', '.localnet')
    .option('--validators <n>', 'number of validators when creating the testnet', '4')
    .option('--base-port <port>', 'base port when creating the testnet (node i: p2p P+10i, RPC P+10i+1, metrics P+10i+2)', '26600')
    .option('--timeout-commit <duration>', 'consensus.timeout_commit when creating the testnet', '500ms')
    .action(async (opts: { output: string; validators: string; basePort: string; timeoutCommit: string }) => {
      const dir = resolve(opts.output);
      const manifestPath = join(dir, 'testnet.json');
      if (!existsSync(manifestPath)) {
        const made = spawnSync(
          process.execPath,
          [MAIN, 'testnet', '--output', dir, '--validators', opts.validators, '--base-port', opts.basePort, '--consensus.timeout_commit', opts.timeoutCommit, '--instrumentation.prometheus', 'true'],
          { stdio: 'inherit' },
        );
        if (made.status !== 0) throw new CliError(`creating the testnet in ${dir} failed (tally testnet exited with ${made.status ?? made.signal})`);
      }
      const manifest = readManifest(manifestPath);
      const width = Math.max(...manifest.nodes.map((n) => n.name.length));
      const color = process.stdout.isTTY;
      const prefix = (i: number, name: string): string => {
        const label = `${name.padEnd(width)} |`;
        return color ? `\x1b[${COLORS[i % COLORS.length]}m${label}\x1b[0m ` : `${label} `;
      };
      process.stdout.write(`localnet ${manifest.chain_id}: ${manifest.nodes.length} nodes in ${dir}\n`);
      for (const n of manifest.nodes) process.stdout.write(`  ${n.name}: rpc ${n.rpc}${n.validator ? '' : ' (full node)'}\n`);

      const children: ChildProcess[] = [];
      let stopping = false;
      let failed: string | null = null;
      const stopAll = (signal: NodeJS.Signals): void => {
        for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
      };
      const exited = manifest.nodes.map((n, i) => {
        const child = spawn(process.execPath, [MAIN, 'start', '--home', n.home, '--log_format', 'plain'], { stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(child);
        for (const stream of [child.stdout!, child.stderr!]) {
          createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${prefix(i, n.name)}${line}\n`));
        }
        return new Promise<void>((done) =>
          child.once('exit', (code, signal) => {
            if (!stopping) {
              failed ??= `${n.name} exited (${code ?? signal}) — stopping the others`;
              process.stdout.write(`${prefix(i, n.name)}${failed}\n`);
              stopping = true;
              stopAll('SIGTERM');
            }
            done();
          }),
        );
      });
      const onSignal = (): void => {
        if (stopping) {
          process.stdout.write('localnet: killing the nodes\n');
          stopAll('SIGKILL');
          return;
        }
        stopping = true;
        process.stdout.write('localnet: stopping the nodes (Ctrl-C again to kill them)\n');
        stopAll('SIGTERM');
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      await Promise.all(exited);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (failed) throw new CliError(failed);
      process.stdout.write('localnet: all nodes stopped\n');
    });
}
