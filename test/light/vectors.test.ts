// The tendermint-rs model-based single-step vectors (README beside them): every verdict must
// match. Trust level 1/3, clock drift 0; on SUCCESS the input becomes the trusted block.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { asArray, asInt64, asObject, asString, parseJson, parseTime } from '../../src/codec/index.js';
import {
  trustedLightBlockFromJson,
  untrustedLightBlockFromJson,
  verify,
  type TrustedLightBlock,
  type Verdict,
} from '../../src/light/index.js';
import { sharedPath } from '../helpers/shared.js';

const dir = sharedPath('vectors', 'light', 'model_based', 'single_step');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
let stepsRun = 0;

describe('light client model-based vectors', () => {
  test('there are 41 vector files', () => {
    expect(files).toHaveLength(41);
  });

  for (const file of files) {
    test(file, () => {
      const doc = asObject(parseJson(readFileSync(join(dir, file), 'utf8')), file);
      const initial = asObject(doc.initial, 'initial');
      const trustingPeriod = asInt64(initial.trusting_period, 'initial.trusting_period');
      let trusted: TrustedLightBlock = trustedLightBlockFromJson(initial, 'initial');
      const got: string[] = [];
      const want: string[] = [];
      const reasons: string[] = [];
      asArray(doc.input, 'input').forEach((raw, i) => {
        const step = asObject(raw, `input[${i}]`);
        const untrusted = untrustedLightBlockFromJson(step.block, `input[${i}].block`);
        const now = parseTime(asString(step.now, `input[${i}].now`));
        const expected = asString(step.verdict, `input[${i}].verdict`) as Verdict;
        const result = verify(trusted, untrusted, { trustingPeriod, now, maxClockDrift: 0n, trustLevel: { numerator: 1n, denominator: 3n } });
        const label = `#${i} height ${untrusted.signedHeader.header.height}`;
        got.push(`${label} ${result.verdict}`);
        want.push(`${label} ${expected}`);
        reasons.push(`${label} ${result.verdict}: ${result.reason}`);
        if (result.verdict === 'SUCCESS') {
          expect(untrusted.nextValidators, `${label}: a verified block needs next validators to become trusted`).toBeDefined();
          trusted = { signedHeader: untrusted.signedHeader, nextValidators: untrusted.nextValidators! };
        }
        stepsRun++;
      });
      expect(got, reasons.join('\n')).toEqual(want);
    });
  }

  // Files run in order within this describe, so this runs last.
  test('ran all 99 steps', () => {
    expect(stepsRun).toBe(99);
  });
});
