import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { lightVerifyCommand } from '../../light/index.js';
import { CliError } from '../errors.js';

function readInput(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function seconds(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new CliError(`${flag} must be a non-negative number of seconds, got ${JSON.stringify(value)}`);
  return n;
}

interface VerifyOptions {
  trusted: string;
  untrusted: string;
  trustingPeriod: string;
  now: string;
  trustLevel?: string;
  maxClockDrift?: string;
}

export function register(program: Command): void {
  const light = program.command('light').description('Light-client operations');
  light
    .command('verify')
    .description(
      'Verify an untrusted light block against a trusted one (CometBFT light-client rules). ' +
        'Prints {"verdict":"SUCCESS"|"NOT_ENOUGH_TRUST"|"INVALID","reason":…} and exits 0 whenever it reached a verdict.',
    )
    .requiredOption('--trusted <file>', 'trusted light block JSON: {"signed_header":…,"next_validator_set":…}')
    .requiredOption('--untrusted <file>', 'light block to verify: {"signed_header":…,"validator_set":…,"next_validator_set":…}')
    .requiredOption('--trusting-period <seconds>', 'how long a trusted header stays trusted')
    .requiredOption('--now <rfc3339>', 'the time to verify at')
    .option('--trust-level <fraction>', 'fraction of the trusted validators that must sign a skipping step, in [1/3, 1]', '1/3')
    .option('--max-clock-drift <seconds>', 'how far in the future a header may be', '10')
    .action((opts: VerifyOptions) => {
      const result = lightVerifyCommand({
        trustedJson: readInput(opts.trusted, '--trusted'),
        untrustedJson: readInput(opts.untrusted, '--untrusted'),
        trustingPeriodSeconds: seconds(opts.trustingPeriod, '--trusting-period'),
        now: opts.now,
        ...(opts.trustLevel !== undefined ? { trustLevel: opts.trustLevel } : {}),
        ...(opts.maxClockDrift !== undefined ? { maxClockDriftSeconds: seconds(opts.maxClockDrift, '--max-clock-drift') } : {}),
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
}
