// Version strings. The package version is read from package.json at run time (two levels up from
// both src/config and dist/config), so there is one source of truth.
import { readFileSync } from 'node:fs';

function readPackageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Tally's own version (package.json). */
export const TALLY_VERSION: string = readPackageVersion();

/** The CometBFT release whose formats and RPC Tally matches. */
export const COMETBFT_BASE_VERSION = '0.38.0';

/** What Tally reports where CometBFT reports its version (e.g. /status node_info.version). */
export const COMETBFT_COMPAT_VERSION = `${COMETBFT_BASE_VERSION}-tally.${TALLY_VERSION}`;
