// The light client: one-step verification (adjacent / skipping), its JSON inputs, and the
// entry point behind `tally light verify`.
export type { SignedHeader, TrustedLightBlock, UntrustedLightBlock, Verdict, VerificationResult, VerifyOptions } from './types.js';
export { LightInputError } from './errors.js';
export {
  verify,
  verifyAdjacent,
  verifyNonAdjacent,
  validateTrustLevel,
  headerExpired,
  DEFAULT_TRUST_LEVEL,
  DEFAULT_MAX_CLOCK_DRIFT,
} from './verifier.js';
export {
  lightBlockFromJson,
  trustedLightBlockFromJson,
  untrustedLightBlockFromJson,
  validatorSetFromJson,
  signedHeaderFromJson,
  type LightBlockJson,
} from './json.js';
export { lightVerifyCommand, parseTrustLevel, type LightVerifyCommandOptions } from './command.js';
