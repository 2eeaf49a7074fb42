// Go-style durations ("3s", "500ms", "1m30s", "168h0m0s", "1.5s"), as CometBFT's config.toml
// writes them. Parsed exactly (bigint nanoseconds) into whole milliseconds, the unit the rest of
// the node uses for timers.

const UNIT_NANOS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5, as Go accepts
  'μs': 1_000n, // U+03BC
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const COMPONENT = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
const MAX_NANOS = (1n << 63n) - 1n; // Go's time.Duration is an int64 of nanoseconds

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/** Parse a Go duration string into milliseconds. Negative, fractional-ms or malformed input throws. */
export function parseDuration(input: string): number {
  const bad = (why: string): DurationError =>
    new DurationError(`invalid duration ${JSON.stringify(input)}: ${why} (expected e.g. "500ms", "3s", "1m30s", "168h0m0s")`);
  let s = input.trim();
  if (s.startsWith('-')) throw bad('must not be negative');
  if (s.startsWith('+')) s = s.slice(1);
  if (s === '0') return 0;
  if (s === '') throw bad('empty');
  let total = 0n;
  while (s.length > 0) {
    const m = COMPONENT.exec(s);
    if (!m) throw bad(/^[\d.]+$/.test(s) ? 'missing unit (ns, us, ms, s, m, h)' : 'unexpected text');
    const [whole, intPart = '', fracPart = '', unitName = ''] = m;
    if (intPart === '' && fracPart === '') throw bad('a unit without a number');
    const unit = UNIT_NANOS[unitName]!;
    total += BigInt(intPart || '0') * unit;
    if (fracPart !== '') total += (BigInt(fracPart) * unit) / 10n ** BigInt(fracPart.length); // Go truncates too
    if (total > MAX_NANOS) throw bad('too large');
    s = s.slice(whole.length);
  }
  if (total % 1_000_000n !== 0n) throw bad('must be a whole number of milliseconds');
  return Number(total / 1_000_000n);
}

/** Format milliseconds as Go's Duration.String() does ("0s", "500ms", "1.5s", "1m30s", "168h0m0s"). */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new DurationError(`cannot format duration ${ms}ms`);
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const rest = ms % 60_000;
  const frac = rest % 1000 === 0 ? '' : `.${String(rest % 1000).padStart(3, '0').replace(/0+$/, '')}`;
  const sec = `${Math.floor(rest / 1000)}${frac}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}
