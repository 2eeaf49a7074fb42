// How a failed command ends: one line on stderr naming the command (and, through the error's
// message, the file, field or flag), exit code 1. Stack traces only with TALLY_DEBUG=1.
import { ConfigError } from '../config/index.js';
import { LightInputError } from '../light/index.js';
import { ExecutionError } from '../execution/index.js';
import { NodeError } from '../node/index.js';
import { CliError } from './errors.js';

const EXPECTED = [ConfigError, CliError, LightInputError, NodeError, ExecutionError];

export function reportError(command: string, e: unknown, env: NodeJS.ProcessEnv = process.env): void {
  const debug = env.TALLY_DEBUG === '1';
  const err = e instanceof Error ? e : new Error(String(e));
  const expected = EXPECTED.some((cls) => err instanceof cls);
  const hint = expected || debug ? '' : ' (set TALLY_DEBUG=1 for a stack trace)';
  process.stderr.write(`${command}: ${err.message}${hint}\n`);
  if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
}
