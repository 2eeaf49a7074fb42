// Runs the built `tally` binary (dist/cli/main.js; `npm test` builds first).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './shared.js';

export const BIN = join(ROOT, 'dist', 'cli', 'main.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tally(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const baseEnv = { ...process.env };
    delete baseEnv.TALLY_HOME;
    delete baseEnv.TALLY_DEBUG;
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Fails with the process output when the exit code is not 0. */
export async function ok(args: string[], env?: Record<string, string>): Promise<Run> {
  const r = await tally(args, env);
  if (r.code !== 0) throw new Error(`tally ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}
