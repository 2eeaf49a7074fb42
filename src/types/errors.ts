/** A structure failed validation. `field` names what was wrong; `context` carries the values seen. */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    message: string,
    readonly field: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(`${field}: ${message}`);
  }
}
