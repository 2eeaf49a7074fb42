export type ExecutionErrorKind =
  | 'invalid_block'
  | 'app_error'
  | 'app_hash_mismatch'
  | 'invalid_app_response'
  | 'store_inconsistent'
  | 'handshake';

/** Execution could not proceed. `kind` says why; `context` carries heights and hashes. */
export class ExecutionError extends Error {
  override readonly name = 'ExecutionError';
  constructor(
    readonly kind: ExecutionErrorKind,
    message: string,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
