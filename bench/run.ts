// `npm run bench`: runs every benchmark in turn; each prints one JSON line.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const benches = ['crypto', 'node', 'pipeline', 'rpc', 'mempool', 'testnet'].filter((b) => !only || b === only);
let failed = 0;
for (const b of benches) {
  const r = spawnSync(process.execPath, [join(here, `${b}.js`), ...process.argv.slice(3)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
