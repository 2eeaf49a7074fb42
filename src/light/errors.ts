/**
 * Input the light client cannot work with: unparseable JSON, a missing field, a trust level
 * outside [1/3, 1], a trusted block that contradicts itself. Verdicts on the untrusted block
 * are never thrown; they are returned as a VerificationResult.
 */
export class LightInputError extends Error {
  override readonly name = 'LightInputError';
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
