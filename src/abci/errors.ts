import type { AbciMethod } from './application.js';

/**
 * An application call failed: the app threw, or broke the ABCI contract (e.g. commit without
 * finalizeBlock). `method` names the call, `context` carries what the caller needs to decide —
 * on the consensus connection a failure is fatal for the node, on the mempool connection it only
 * rejects one tx.
 */
export class AbciError extends Error {
  override readonly name = 'AbciError';
  constructor(
    readonly method: AbciMethod,
    message: string,
    readonly context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(`${method}: ${message}`, options);
  }
}

/** `e` as an AbciError for `method`; an AbciError passes through unchanged. */
export function toAbciError(method: AbciMethod, e: unknown): AbciError {
  if (e instanceof AbciError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new AbciError(method, `application failed: ${message}`, {}, { cause: e });
}
