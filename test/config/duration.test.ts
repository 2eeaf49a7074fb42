import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DurationError, formatDuration, parseDuration } from '../../src/config/index.js';

describe('Go durations', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['3s', 3000],
    ['1.5s', 1500],
    ['1m30s', 90_000],
    ['168h0m0s', 604_800_000],
    ['1h2m3.5s', 3_723_500],
    ['2h', 7_200_000],
    ['1000us', 1],
    ['1000µs', 1],
    ['1000000ns', 1],
    ['+10s', 10_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['1s500ms', 1500],
  ])('parses %s as %d ms', (s, ms) => {
    expect(parseDuration(s)).toBe(ms);
  });

  it.each([
    ['', 'empty'],
    ['10', 'missing unit'],
    ['3 s', 'unexpected text'],
    ['3sec', 'unexpected text'],
    ['-1s', 'negative'],
    ['s', 'a unit without a number'],
    ['.s', 'a unit without a number'],
    ['1.5ms', 'whole number of milliseconds'],
    ['1ns', 'whole number of milliseconds'],
    ['3000000h', 'too large'],
    ['1d', 'unexpected text'],
  ])('rejects %j (%s)', (s, why) => {
    expect(() => parseDuration(s)).toThrow(DurationError);
    expect(() => parseDuration(s)).toThrow(why);
    expect(() => parseDuration(s)).toThrow(JSON.stringify(s));
  });

  it.each([
    [0, '0s'],
    [1, '1ms'],
    [500, '500ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [1050, '1.05s'],
    [90_000, '1m30s'],
    [3_600_000, '1h0m0s'],
    [604_800_000, '168h0m0s'],
    [3_723_500, '1h2m3.5s'],
  ])('formats %d ms as %s (Go Duration.String)', (ms, s) => {
    expect(formatDuration(ms)).toBe(s);
  });

  it('round-trips every whole-ms duration', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 9_000_000_000_000 }), (ms) => parseDuration(formatDuration(ms)) === ms));
  });

  it('refuses to format negative or fractional values', () => {
    expect(() => formatDuration(-1)).toThrow(DurationError);
    expect(() => formatDuration(1.5)).toThrow(DurationError);
  });
});
