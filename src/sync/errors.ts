// Typed block-sync errors. `kind` says what went wrong; `context` carries the heights and peer.

export type SyncErrorKind =
  /** Options that cannot work (a limit below 1). */
  | 'config'
  /** A peer's block or commit did not verify: the peer is dropped and reported. */
  | 'bad_block'
  /** A bug: the scheduler was used out of order. */
  | 'internal';

export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    readonly kind: SyncErrorKind,
    message: string,
    readonly context: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}
