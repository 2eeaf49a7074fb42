// `npm run bench`: runs every benchmark in turn; each prints one JSON line.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const benches = ['crypto', 'node', 'pipeline', 'rpc', 'mempool', 'testnet'].filter((b) => !only || b === only);
let failed = 0;
let interrupted: NodeJS.Signals | undefined;
for (const b of benches) {
  if (interrupted) break;
  const child = spawn(process.execPath, [join(here, `${b}.js`), ...process.argv.slice(3)], { stdio: 'inherit' });
  // a signal sent to this process alone (not to the terminal's whole group) reaches the bench,
  // which stops what it started (a testnet's nodes and homes) before it exits
  const forward = (signal: NodeJS.Signals): void => {
    interrupted = signal;
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  if (code !== 0) failed++;
}
process.exit(interrupted === 'SIGINT' ? 130 : interrupted === 'SIGTERM' ? 143 : failed ? 1 : 0);
