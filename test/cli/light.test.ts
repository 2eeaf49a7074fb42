// `tally light verify` as a user runs it, on a real CometBFT vector.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedPath } from '../helpers/shared.js';
import { ok, tally } from '../helpers/tally.js';

interface VectorStep {
  block: unknown;
  now: string;
  verdict: string;
}
interface Vector {
  initial: { signed_header: unknown; next_validator_set: unknown; trusting_period: string };
  input: VectorStep[];
}

const dir = mkdtempSync(join(tmpdir(), 'tally-light-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function files(name: string): { trusted: string; untrusted: string; step: VectorStep; periodSeconds: number } {
  const v = JSON.parse(readFileSync(sharedPath('vectors', 'light', 'model_based', 'single_step', name), 'utf8')) as Vector;
  const trusted = join(dir, `${name}.trusted.json`);
  const untrusted = join(dir, `${name}.untrusted.json`);
  writeFileSync(trusted, JSON.stringify({ signed_header: v.initial.signed_header, next_validator_set: v.initial.next_validator_set }));
  writeFileSync(untrusted, JSON.stringify(v.input[0]!.block));
  return { trusted, untrusted, step: v.input[0]!, periodSeconds: Number(BigInt(v.initial.trusting_period) / 1_000_000_000n) };
}

describe('tally light verify', () => {
  it.each(['MC4_4_faulty_TestSuccess.json', 'MC4_4_faulty_TestHeaderFromFuture.json', 'MC4_4_faulty_Test2NotEnoughTrustFailure.json'])(
    'reproduces the first verdict of %s and exits 0',
    async (name) => {
      const f = files(name);
      const r = await ok(['light', 'verify', '--trusted', f.trusted, '--untrusted', f.untrusted, '--trusting-period', String(f.periodSeconds), '--now', f.step.now, '--max-clock-drift', '0']);
      const line = JSON.parse(r.stdout.trim()) as { verdict: string; reason: string };
      expect(line.verdict).toBe(f.step.verdict);
      expect(typeof line.reason).toBe('string');
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
    },
  );

  it('unreadable input exits non-zero with a clear message', async () => {
    const f = files('MC4_4_faulty_TestSuccess.json');
    const missing = await tally(['light', 'verify', '--trusted', join(dir, 'nope.json'), '--untrusted', f.untrusted, '--trusting-period', '100', '--now', f.step.now]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--trusted .*nope\.json: ENOENT/);
    const garbage = join(dir, 'garbage.json');
    writeFileSync(garbage, '{"signed_header": 5}');
    const bad = await tally(['light', 'verify', '--trusted', garbage, '--untrusted', f.untrusted, '--trusting-period', '100', '--now', f.step.now]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/^tally light verify: .*signed_header/m);
    const badLevel = await tally(['light', 'verify', '--trusted', f.trusted, '--untrusted', f.untrusted, '--trusting-period', '100', '--now', f.step.now, '--trust-level', '1/4']);
    expect(badLevel.code).not.toBe(0);
    expect(badLevel.stderr).toMatch(/trust level/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
