/** A key, signature or proof had the wrong shape. Carries what was wrong and the sizes seen. */
export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
