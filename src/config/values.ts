// Turning raw input (a TOML value, or a command-line string) into a field's typed value, and back
// into TOML. Every function returns an error message instead of throwing so that the caller can
// say where the bad value came from (which file, which flag).
import { formatDuration, parseDuration } from './duration.js';
import type { FieldInfo, FieldValue, KeySpec } from './schema.js';

export type Result = FieldValue | { readonly error: string };

const fail = (error: string): { error: string } => ({ error });

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date';
  if (v !== null && typeof v === 'object') return 'a table';
  if (typeof v === 'number') return Number.isInteger(v) ? `the integer ${v}` : `the number ${v}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** What the key expects, for error messages and --help. */
export function expectation(spec: KeySpec): string {
  switch (spec.kind) {
    case 'string':
      return 'a string';
    case 'enum':
      return `one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'int':
      return spec.max === undefined ? `an integer ≥ ${spec.min}` : `an integer in [${spec.min}, ${spec.max}]`;
    case 'duration':
      return 'a duration string like "500ms", "3s" or "1m30s"';
    case 'bool':
      return 'true or false';
    case 'list':
      return spec.form === 'array' ? 'an array of strings' : 'a comma-separated string';
  }
}

/** Range, enum and per-key checks on an already typed value. */
export function checkValue(f: FieldInfo, v: FieldValue): string | undefined {
  const spec = f.spec;
  switch (spec.kind) {
    case 'int': {
      const n = v as number;
      if (!Number.isSafeInteger(n)) return `expected ${expectation(spec)}, got ${n}`;
      if (n < spec.min || (spec.max !== undefined && n > spec.max)) return `${n} is out of range: expected ${expectation(spec)}`;
      return undefined;
    }
    case 'duration': {
      const min = spec.min ?? 0;
      return (v as number) < min ? `must be at least ${formatDuration(min)}, got ${formatDuration(v as number)}` : undefined;
    }
    case 'enum':
      return spec.values.includes(v as string) ? undefined : `expected ${expectation(spec)}, got ${JSON.stringify(v)}`;
    case 'string':
      return spec.check?.(v as string);
    case 'list': {
      if (!spec.check) return undefined;
      for (const item of v as string[]) {
        const msg = spec.check(item);
        if (msg !== undefined) return msg;
      }
      return undefined;
    }
    case 'bool':
      return undefined;
  }
}

function finish(f: FieldInfo, v: FieldValue): Result {
  const spec = f.spec;
  const value = spec.kind === 'string' && spec.normalize ? spec.normalize(v as string) : v;
  const msg = checkValue(f, value);
  return msg === undefined ? value : fail(msg);
}

function splitCsv(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

function durationFrom(s: string): Result {
  try {
    return parseDuration(s);
  } catch (e) {
    return fail((e as Error).message);
  }
}

/** A value read from config.toml (already TOML-parsed). */
export function fromToml(f: FieldInfo, raw: unknown): Result {
  const spec = f.spec;
  const wrongType = (): { error: string } => fail(`expected ${expectation(spec)}, got ${describe(raw)}`);
  switch (spec.kind) {
    case 'string':
    case 'enum':
      return typeof raw === 'string' ? finish(f, raw) : wrongType();
    case 'int':
      if (typeof raw === 'bigint') return fail(`${raw} is out of range: expected ${expectation(spec)}`);
      if (spec.quoted === true && typeof raw === 'string' && /^[0-9]{1,9}$/.test(raw)) return finish(f, Number(raw));
      return typeof raw === 'number' && Number.isInteger(raw) ? finish(f, raw) : wrongType();
    case 'bool':
      return typeof raw === 'boolean' ? raw : wrongType();
    case 'duration': {
      if (typeof raw !== 'string') return wrongType();
      const ms = durationFrom(raw);
      return typeof ms === 'number' ? finish(f, ms) : ms;
    }
    case 'list':
      if (spec.form === 'csv') return typeof raw === 'string' ? finish(f, splitCsv(raw)) : wrongType();
      if (!Array.isArray(raw) || !raw.every((x) => typeof x === 'string')) return wrongType();
      return finish(f, [...(raw as string[])]);
  }
}

/**
 * A value given on the command line. `true` is what a flag without a value yields: valid only
 * for booleans. Lists are comma-separated in both forms.
 */
export function fromFlag(f: FieldInfo, raw: string | boolean): Result {
  const spec = f.spec;
  if (typeof raw === 'boolean') return spec.kind === 'bool' ? raw : fail(`needs a value: ${expectation(spec)}`);
  switch (spec.kind) {
    case 'string':
    case 'enum':
      return finish(f, raw);
    case 'int': {
      const s = raw.trim().replace(/_/g, '');
      if (!/^[+-]?\d+$/.test(s)) return fail(`expected ${expectation(spec)}, got ${JSON.stringify(raw)}`);
      return finish(f, Number(s));
    }
    case 'bool': {
      const s = raw.trim().toLowerCase();
      if (s === 'true' || s === '1' || s === 'yes') return true;
      if (s === 'false' || s === '0' || s === 'no') return false;
      return fail(`expected true or false, got ${JSON.stringify(raw)}`);
    }
    case 'duration': {
      const ms = durationFrom(raw);
      return typeof ms === 'number' ? finish(f, ms) : ms;
    }
    case 'list':
      return finish(f, splitCsv(raw));
  }
}

/** The TOML value config.toml holds for a typed value. */
export function toToml(f: FieldInfo, v: FieldValue): string | number | boolean | string[] {
  const spec = f.spec;
  if (spec.kind === 'duration') return formatDuration(v as number);
  if (spec.kind === 'list') return spec.form === 'csv' ? (v as string[]).join(',') : [...(v as string[])];
  return v as string | number | boolean;
}

export function isError(r: Result): r is { readonly error: string } {
  return typeof r === 'object' && !Array.isArray(r);
}
